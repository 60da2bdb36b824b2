"""Open set: is this photo a saree of a tradition the model knows? Signals, rule, calibration.

Six signals, each higher = more familiar:
  top_probability       the visual top tradition's probability (weak evidence when low)
  margin                top minus runner-up probability (two traditions nearly tied)
  prototype_similarity  cosine of the embedding to the nearest tradition prototype from
                        training (far from anything the model has seen)
  saree_area            share of the photo the segmentation calls saree cloth (not a saree)
  part_agreement        how much body, border and pallu, each judged alone, back the whole
                        saree's answer (an unfamiliar combination of familiar parts: e.g. a
                        Kanchipuram-like border on a body the model has not seen with it)
  energy                log-sum-exp of the tradition logits (evidence for any tradition at all)

Two rules, each reduced to one number `novelty` that is > 0 exactly when the photo is flagged:
  any       uncertain when any signal falls below its threshold:
            novelty = max_i (threshold_i - signal_i) / scale_i
  combined  a logistic regression of known-vs-unknown on the standardised signals:
            novelty = cut - sum_i w_i (signal_i - centre_i) / scale_i
The cut and thresholds are calibrated on rendered photos of known traditions so that a chosen
share of them (the false-alarm rate) is flagged; the weights need unknown photos too
(`saree bench openset`). Everything lives in the manifest's "open_set" entry. The reasons in
words always come from the per-signal thresholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SIGNALS: tuple[str, ...] = (
    "top_probability",
    "margin",
    "prototype_similarity",
    "saree_area",
    "part_agreement",
    "energy",
)

# Every reason naming a tradition names the picture's own best match (`OpenSetSignals.top`),
# made before the knowledge graph and teaching are weighed: the answer shown first may be
# another, so each says which it means (knowledge.words.plain_reason words them for a curator).
ALONE = "on the picture alone"

# Used until a model's thresholds are calibrated (`saree bench openset`): deliberately lenient,
# so an uncalibrated model flags only clear cases.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "top_probability": 0.40,
    "margin": 0.10,
    "prototype_similarity": 0.30,
    "saree_area": 0.10,
    # Model-specific scales: these two never fire until calibrated.
    "part_agreement": -1e9,
    "energy": -1e9,
}
DEFAULT_SCALES: dict[str, float] = {
    "top_probability": 0.2,
    "margin": 0.2,
    "prototype_similarity": 0.2,
    "saree_area": 0.2,
    "part_agreement": 0.2,
    "energy": 1.0,
}


@dataclass(frozen=True)
class OpenSetSignals:
    """How familiar one photo looks to the model; each value is higher when more familiar."""

    top_probability: float
    margin: float
    prototype_similarity: float | None  # None when the model ships no prototypes
    nearest_prototype: str | None
    saree_area: float
    top: str
    runner_up: str | None
    part_agreement: float | None = None
    energy: float | None = None
    # (part, its own top tradition) for the parts visible in the photo
    part_tops: tuple[tuple[str, str], ...] = ()

    def value(self, name: str) -> float | None:
        """One signal by name."""
        v: float | None = getattr(self, name)
        return v

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "top_probability": self.top_probability,
            "margin": self.margin,
            "prototype_similarity": self.prototype_similarity,
            "nearest_prototype": self.nearest_prototype,
            "saree_area": self.saree_area,
            "part_agreement": self.part_agreement,
            "energy": self.energy,
        }


def compute_signals(
    labels: Sequence[str],
    probs: np.ndarray,
    embedding: np.ndarray,
    prototypes: np.ndarray | None,
    saree_area: float,
    *,
    logits: np.ndarray | None = None,
    part_probs: np.ndarray | None = None,
    part_areas: Sequence[float] | None = None,
) -> OpenSetSignals:
    """Signals from one photo's visual probabilities (C,), embedding (D,) and saree area.

    `logits` (C,) give the energy; `part_probs` (3, C) with `part_areas` give the agreement of
    the parts with the whole (parts weighted by their area, so an absent pallu has no say).
    """
    order = np.argsort(-probs)
    p1 = float(probs[order[0]])
    p2 = float(probs[order[1]]) if len(order) > 1 else 0.0
    sim: float | None = None
    nearest: str | None = None
    if prototypes is not None and prototypes.size:
        e = embedding / max(float(np.linalg.norm(embedding)), 1e-12)
        sims = prototypes @ e
        k = int(np.argmax(sims))
        sim, nearest = float(sims[k]), labels[k]
    energy: float | None = None
    if logits is not None:
        z = logits.astype(np.float64)
        energy = float(z.max() + np.log(np.exp(z - z.max()).sum()))
    agreement: float | None = None
    part_tops: tuple[tuple[str, str], ...] = ()
    if part_probs is not None:
        w = np.asarray(part_areas if part_areas is not None else [1.0] * len(part_probs))
        in_view = w.sum() > 0
        w = w / w.sum() if in_view else np.full(len(part_probs), 1.0 / len(part_probs))
        agreement = float((w * part_probs[:, order[0]]).sum())
        # With no part in view the number still weighs them alike (the rule was fitted so),
        # but the words say nothing of parts the photo shows none of ("parts found: 0%").
        part_tops = tuple(
            (part, labels[int(k)])
            for part, k, share in zip(
                ("body", "border", "pallu"), part_probs.argmax(axis=1), w, strict=False
            )
            if in_view and share >= 0.05  # a part barely in view has no say
        )
    return OpenSetSignals(
        top_probability=p1,
        margin=p1 - p2,
        prototype_similarity=sim,
        nearest_prototype=nearest,
        saree_area=float(saree_area),
        top=labels[order[0]],
        runner_up=labels[order[1]] if len(order) > 1 else None,
        part_agreement=agreement,
        energy=energy,
        part_tops=part_tops,
    )


def normalised_prototypes(rows: Sequence[Sequence[float]]) -> np.ndarray | None:
    """The manifest's mean embeddings, rescaled to unit length for cosine similarity."""
    if not rows:
        return None
    p = np.asarray(rows, dtype=np.float32)
    return p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class OpenSetRule:
    """Thresholds (below = unfamiliar) and scales (to put signals on one axis)."""

    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    scales: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SCALES))
    calibrated: bool = False
    signals: tuple[str, ...] = SIGNALS  # the ones the rule uses (calibration may drop some)
    # The combined rule; None means the "any" rule.
    weights: Mapping[str, float] | None = None
    centres: Mapping[str, float] = field(default_factory=dict)
    cut: float = 0.0

    @classmethod
    def from_manifest(
        cls, open_set: Mapping[str, Any], training: Mapping[str, Any] | None = None
    ) -> OpenSetRule:
        """Read the manifest's "open_set" entry; missing values fall back to the defaults.

        Before calibration, the training run's low quantiles on known photos (when the
        manifest's "training" has them) stand in for the probability and similarity thresholds.
        """
        th = dict(DEFAULT_THRESHOLDS)
        sc = dict(DEFAULT_SCALES)
        stats = (training or {}).get("known_quantiles") or {}
        for name, key in (
            ("top_probability", "max_prob_quantiles"),
            ("prototype_similarity", "prototype_cosine_quantiles"),
        ):
            value = (stats.get(key) or {}).get("0.01") if isinstance(stats, Mapping) else None
            if isinstance(value, int | float):
                th[name] = float(value)
        for name, value in dict(open_set.get("thresholds") or {}).items():
            if name in th and isinstance(value, int | float):
                th[name] = float(value)
        for name, value in dict(open_set.get("scales") or {}).items():
            if name in sc and isinstance(value, int | float) and value > 0:
                sc[name] = float(value)
        used = tuple(n for n in (open_set.get("signals") or SIGNALS) if n in SIGNALS)
        weights = None
        centres: dict[str, float] = {}
        cut = 0.0
        raw_w = open_set.get("weights")
        if open_set.get("rule") == "combined" and isinstance(raw_w, Mapping):
            weights = {k: float(v) for k, v in raw_w.items() if k in SIGNALS}
            centres = {k: float(v) for k, v in dict(open_set.get("centres") or {}).items()}
            cut = float(open_set.get("cut", 0.0))
        return cls(
            thresholds=th,
            scales=sc,
            calibrated=bool(open_set.get("thresholds")),
            signals=used or SIGNALS,
            weights=weights,
            centres=centres,
            cut=cut,
        )

    def to_dict(self) -> dict[str, Any]:
        """The manifest's "open_set" thresholds, scales and signals."""
        out: dict[str, Any] = {
            "rule": "any" if self.weights is None else "combined",
            "signals": list(self.signals),
            "thresholds": {n: round(float(self.thresholds[n]), 6) for n in self.signals},
            "scales": {n: round(float(self.scales[n]), 6) for n in self.signals},
        }
        if self.weights is not None:
            out["weights"] = {n: round(float(v), 6) for n, v in self.weights.items()}
            out["centres"] = {n: round(float(v), 6) for n, v in self.centres.items()}
            out["cut"] = round(float(self.cut), 6)
        return out

    def familiarity(self, s: OpenSetSignals) -> float:
        """The combined rule's weighted sum of standardised signals (absent ones count 0)."""
        total = 0.0
        for name, w in (self.weights or {}).items():
            v = s.value(name)
            if v is None:
                continue
            scale = self.scales.get(name, DEFAULT_SCALES[name])
            total += w * (v - self.centres.get(name, 0.0)) / scale
        return total

    def novelty(self, s: OpenSetSignals) -> float:
        """One number, > 0 exactly when the photo is flagged uncertain; higher = stranger."""
        if self.weights is not None:
            return float(self.cut - self.familiarity(s))
        worst = -np.inf
        for name in self.signals:
            v = s.value(name)
            if v is None or name not in self.thresholds:
                continue
            scale = self.scales.get(name, DEFAULT_SCALES[name])
            worst = max(worst, (self.thresholds[name] - v) / scale)
        return float(worst)

    def reasons(self, s: OpenSetSignals, label: Mapping[str, str] | None = None) -> list[str]:
        """Why the photo is uncertain, in words; empty exactly when it is not flagged."""
        if self.novelty(s) <= 0:
            return []
        out = self._signal_reasons(s, label)
        if not out:
            # Flagged by the combined rule with no one signal past its threshold.
            # The picture's own best match, not the ranking's first (which also weighs the
            # knowledge graph and teaching): said so, as every reason naming it says.
            out.append(
                f"several signs are weak together: {ALONE}, best match "
                f"{(label or {}).get(s.top, s.top)} at {s.top_probability:.0%}"
                + (
                    f", similarity to the nearest known tradition {s.prototype_similarity:.2f}"
                    if s.prototype_similarity is not None
                    else ""
                )
                + (
                    f", parts backing it {s.part_agreement:.0%}"
                    if s.part_agreement is not None and s.part_tops  # no part in view: not said
                    else ""
                )
            )
        return out

    def _signal_reasons(
        self, s: OpenSetSignals, label: Mapping[str, str] | None = None
    ) -> list[str]:

        def name(t: str | None) -> str:
            if t is None:
                return "?"
            return label.get(t, t) if label else t

        th = {
            n: (self.thresholds.get(n, -np.inf) if n in self.signals else -np.inf) for n in SIGNALS
        }
        out: list[str] = []
        if s.saree_area < th["saree_area"]:
            out.append(
                f"little of the photo looks like saree cloth ({s.saree_area:.0%} of it); "
                "it may not be a saree, or the saree fills only a corner of the photo"
            )
        if (
            s.prototype_similarity is not None
            and s.prototype_similarity < th["prototype_similarity"]
        ):
            out.append(
                "the photo looks unlike every tradition the model was trained on (closest: "
                f"{name(s.nearest_prototype)}, similarity {s.prototype_similarity:.2f}, usual "
                f"at least {th['prototype_similarity']:.2f}); it may be a tradition the model "
                "does not know"
            )
        if s.part_agreement is not None and s.part_agreement < th["part_agreement"] and s.part_tops:
            # `s.top` is the picture's own best match; the answer shown first may differ (the
            # ranking adds the knowledge graph and teaching), so it is not called "the answer".
            whole = name(s.top)
            tops = {t for _, t in s.part_tops}
            if len(tops) == 1 and len(s.part_tops) > 1:
                out.append(
                    f"on their own, the {_listing([p for p, _ in s.part_tops])} all look like "
                    f"{name(next(iter(tops)))}, not like {whole}, the whole saree's best match "
                    f"{ALONE}"
                )
            else:
                seen = _listing(
                    [
                        f"the {p} {'looks ' if k == 0 else ''}like {name(t)}"
                        for k, (p, t) in enumerate(s.part_tops)
                    ]
                )
                out.append(
                    f"the parts do not back {whole}, the best match {ALONE}: on their own "
                    f"{seen}; an unusual combination, perhaps a tradition the model does not know"
                )
        if s.energy is not None and s.energy < th["energy"]:
            out.append("the model sees little evidence for any of its traditions in this photo")
        if s.top_probability < th["top_probability"]:
            out.append(
                f"the visual evidence is weak: {ALONE}, the best match, {name(s.top)}, has "
                f"only {s.top_probability:.0%}"
            )
        elif s.margin < th["margin"] and s.runner_up is not None:
            out.append(
                f"{ALONE}, {name(s.top)} and {name(s.runner_up)} are nearly tied "
                f"({s.top_probability:.0%} vs {s.top_probability - s.margin:.0%})"
            )
        return out


def auroc(negatives: Sequence[float], positives: Sequence[float]) -> float:
    """Area under the ROC curve: chance that a positive scores above a negative (ties half)."""
    neg = np.asarray(negatives, dtype=np.float64)
    pos = np.asarray(positives, dtype=np.float64)
    if neg.size == 0 or pos.size == 0:
        return float("nan")
    allv = np.concatenate([neg, pos])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty_like(order, dtype=np.float64)
    sorted_v = allv[order]
    # Average ranks over ties so equal scores count one half.
    i = 0
    while i < len(sorted_v):
        j = i
        while j + 1 < len(sorted_v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    r_pos = ranks[neg.size :].sum()
    return float((r_pos - pos.size * (pos.size + 1) / 2.0) / (pos.size * neg.size))


def calibrate(
    known: Sequence[OpenSetSignals],
    false_alarm: float = 0.10,
    signals: Sequence[str] = SIGNALS,
) -> OpenSetRule:
    """Thresholds flagging about `false_alarm` of photos of known traditions.

    Every signal gets the same lower quantile of its values on the known photos, searched so
    that the union (the rule fires when any signal is low) flags the chosen share. Scales are
    each signal's spread on the known photos, so no signal dominates the novelty score.
    """
    if not known:
        raise ValueError("calibration needs photos of known traditions")
    if not signals:
        raise ValueError("calibration needs at least one signal")
    values: dict[str, np.ndarray] = {}
    for name in signals:
        vs = [s.value(name) for s in known]
        if all(v is not None for v in vs):
            values[name] = np.asarray(vs, dtype=np.float64)
    scales: dict[str, float] = {}
    for name, arr in values.items():
        q25, q75 = np.percentile(arr, [25, 75])
        scales[name] = max(float(q75 - q25), float(arr.std()), 1e-3)

    def rule_at(q: float) -> OpenSetRule:
        th = dict(DEFAULT_THRESHOLDS)
        for name, arr in values.items():
            th[name] = float(np.quantile(arr, q))
        return OpenSetRule(
            thresholds=th,
            scales={**DEFAULT_SCALES, **scales},
            calibrated=True,
            signals=tuple(values),
        )

    lo, hi = 0.0, false_alarm
    for _ in range(30):
        mid = (lo + hi) / 2
        rule = rule_at(mid)
        rate = float(np.mean([rule.novelty(s) > 0 for s in known]))
        if rate > false_alarm:
            hi = mid
        else:
            lo = mid
    return rule_at(lo)


def calibrate_combined(
    known: Sequence[OpenSetSignals],
    unknown: Sequence[OpenSetSignals],
    false_alarm: float = 0.10,
    signals: Sequence[str] = SIGNALS,
    l2: float = 0.01,
) -> OpenSetRule:
    """The combined rule: logistic regression of known (1) vs unknown (0) photos.

    Signals are standardised by their median and spread on the known photos; weights are fitted
    by Newton's method with a small L2 penalty; the cut flags `false_alarm` of the known photos.
    Per-signal thresholds (for the reasons in words) are each signal's `false_alarm` quantile.
    """
    if not known or not unknown:
        raise ValueError("the combined rule needs photos of known and of unknown traditions")
    used = [n for n in signals if all(x.value(n) is not None for x in [*known, *unknown])]
    if not used:
        raise ValueError("no signal is available for every photo")
    centres: dict[str, float] = {}
    scales: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for n in used:
        arr = np.asarray([x.value(n) for x in known], dtype=np.float64)
        q25, q50, q75 = np.percentile(arr, [25, 50, 75])
        centres[n] = float(q50)
        scales[n] = max(float(q75 - q25), float(arr.std()), 1e-3)
        thresholds[n] = float(np.quantile(arr, false_alarm))

    def features(items: Sequence[OpenSetSignals]) -> np.ndarray:
        return np.asarray(
            [[(float(x.value(n) or 0.0) - centres[n]) / scales[n] for n in used] for x in items]
        )

    x = np.vstack([features(known), features(unknown)])
    x = np.hstack([x, np.ones((len(x), 1))])  # bias column
    y = np.concatenate([np.ones(len(known)), np.zeros(len(unknown))])
    # Balance the classes so the weights do not follow whichever group was rendered more.
    sw = np.where(y == 1, 0.5 / len(known), 0.5 / len(unknown))
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (sw * (p - y)) + penalty * w
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = {n: float(v) for n, v in zip(used, w[:-1], strict=True)}
    rule = OpenSetRule(
        thresholds={**DEFAULT_THRESHOLDS, **thresholds},
        scales={**DEFAULT_SCALES, **scales},
        calibrated=True,
        signals=tuple(used),
        weights=weights,
        centres=centres,
        cut=0.0,
    )
    fam = np.asarray([rule.familiarity(s) for s in known])
    cut = float(np.quantile(fam, false_alarm))
    return dataclasses.replace(rule, cut=cut)


def _listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
