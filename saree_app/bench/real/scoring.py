"""The figures of `saree bench real`: plain numpy, no model, so each can be tested by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from saree_app.bench.real.inputs import CLASS_NAMES, GRID


def _edges(n: int) -> np.ndarray:
    """Cell boundaries of GRID equal cells over n pixels (the labels cut any aspect this way)."""
    return np.round(np.linspace(0, n, GRID + 1)).astype(int)


def mask_to_grid(mask: np.ndarray) -> np.ndarray:
    """H x W part mask (0-3) -> GRID x GRID, each cell its majority class (ties: lower class)."""
    h, w = mask.shape
    ys, xs = _edges(h), _edges(w)
    out = np.zeros((GRID, GRID), dtype=np.int8)
    for i in range(GRID):
        for j in range(GRID):
            cell = mask[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)]
            out[i, j] = int(np.argmax(np.bincount(cell.ravel(), minlength=len(CLASS_NAMES))))
    return out


def heat_to_grid(heat: np.ndarray) -> np.ndarray:
    """H x W heatmap -> GRID x GRID: the heat mass in each cell (sums to the map's mass)."""
    h, w = heat.shape
    ys, xs = _edges(h), _edges(w)
    return np.add.reduceat(np.add.reduceat(heat.astype(np.float64), ys[:-1], 0), xs[:-1], 1)


@dataclass
class PartTally:
    """Cells counted over a set of photos: a 4 x 4 confusion (label row, prediction column)."""

    confusion: np.ndarray
    heat_shares: list[float]
    photos: int = 0

    @classmethod
    def empty(cls) -> PartTally:
        return cls(np.zeros((4, 4), dtype=np.int64), [])

    def add(self, labels: np.ndarray, predicted: np.ndarray, heat: np.ndarray | None) -> None:
        """One photo: labels GRID x GRID (-1 unscored), predicted classes, heat mass per cell."""
        scored = labels >= 0
        np.add.at(self.confusion, (labels[scored], predicted[scored]), 1)
        self.photos += 1
        if heat is not None:
            total = float(heat[scored].sum())
            if total > 0:
                self.heat_shares.append(float(heat[scored & (labels > 0)].sum()) / total)

    def figures(self) -> dict[str, Any]:
        """IoU per class and their mean, saree IoU, background painted as saree, heat on saree."""
        c = self.confusion.astype(np.float64)
        out: dict[str, Any] = {"photos": self.photos, "cells": int(c.sum())}
        ious = []
        for k, name in enumerate(CLASS_NAMES):
            union = c[k, :].sum() + c[:, k].sum() - c[k, k]
            iou = float(c[k, k] / union) if union > 0 else None
            out[f"iou_{name}"] = iou
            if iou is not None:
                ious.append(iou)
        out["miou"] = float(np.mean(ious)) if ious else None
        saree_tp = c[1:, 1:].sum()
        saree_union = c[1:, :].sum() + c[:, 1:].sum() - saree_tp
        out["iou_saree"] = float(saree_tp / saree_union) if saree_union > 0 else None
        bg = c[0, :].sum()
        out["background_as_saree"] = float(c[0, 1:].sum() / bg) if bg > 0 else None
        out["heat_on_saree"] = float(np.mean(self.heat_shares)) if self.heat_shares else None
        out["heat_photos"] = len(self.heat_shares)
        return out


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def risk_coverage(confidence: Sequence[float], right: Sequence[bool]) -> list[tuple[float, float]]:
    """(coverage, error rate among the answers kept) keeping the most confident first."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(right, dtype=bool)
    if conf.size == 0:
        return []
    order = np.argsort(-conf, kind="mergesort")
    wrong = np.cumsum(~ok[order])
    n = np.arange(1, conf.size + 1)
    return [(float(k / conf.size), float(w / k)) for k, w in zip(n, wrong, strict=True)]


def area_under_risk(curve: Sequence[tuple[float, float]]) -> float | None:
    """Mean error rate over the coverage levels (lower is better; a perfect ranking of the same
    answers reaches the least the error rate allows)."""
    return float(np.mean([r for _, r in curve])) if curve else None


@dataclass(frozen=True)
class Answer:
    """One photo's answer as the benchmark scores it."""

    key: str
    truth: str | None  # None: a tradition the app never heard of (cannot be right)
    known_to_model: bool
    view: str | None
    fused: tuple[str, ...]  # ranked tradition ids, best first
    visual: tuple[str, ...]
    confidence: float  # the fused answer's probability, as the app shows it
    uncertain: bool
    reasons: tuple[str, ...] = ()  # why it is flagged, as stored
    # The answer set the app states ("could be: ..."), and the level it states it at; None
    # for an answer stored without one.
    answer_set: tuple[str, ...] | None = None
    set_level: float | None = None
    # No level claimed for it in words: the photo looks unlike the model's training photos.
    set_unclaimed: bool = False


def flag_sources(answers: Sequence[Answer], unlike: str) -> dict[str, float | None]:
    """Share of the answers flagged because the photo looks unlike the model's training
    photos (reason `unlike`), and share flagged for any other reason (None without answers)."""
    if not answers:
        return {"unlike_training": None, "other_reasons": None}
    n = len(answers)
    return {
        "unlike_training": sum(unlike in a.reasons for a in answers) / n,
        "other_reasons": sum(a.uncertain and any(r != unlike for r in a.reasons) for a in answers)
        / n,
    }


def accuracy(answers: Sequence[Answer]) -> dict[str, Any]:
    """Top-1 / top-5 (fused and visual), per tradition, overall and balanced; uncertainty."""
    scored = [a for a in answers if a.truth is not None]
    per: dict[str, dict[str, Any]] = {}
    for a in scored:
        row = per.setdefault(
            str(a.truth),
            {
                "photos": 0,
                "fused_top1": 0,
                "fused_top5": 0,
                "visual_top1": 0,
                "visual_top5": 0,
                "flagged": 0,
            },
        )
        row["photos"] += 1
        row["fused_top1"] += a.fused[:1] == (a.truth,)
        row["fused_top5"] += a.truth in a.fused[:5]
        row["visual_top1"] += a.visual[:1] == (a.truth,)
        row["visual_top5"] += a.truth in a.visual[:5]
        row["flagged"] += a.uncertain
    out: dict[str, Any] = {"photos": len(answers), "scored": len(scored)}
    for name in ("fused_top1", "fused_top5", "visual_top1", "visual_top5"):
        out[name] = sum(r[name] for r in per.values()) / len(scored) if scored else None
        out[f"{name}_balanced"] = (
            float(np.mean([r[name] / r["photos"] for r in per.values()])) if per else None
        )
    out.update(uncertainty(answers))
    out.update(answer_sets(scored))
    right = [a.fused[:1] == (a.truth,) for a in scored]
    out["auroc_confidence"] = auroc([a.confidence for a in scored], right)
    # How sure the answers read against how often they are right.
    out.update(calibration([(a.confidence, ok) for a, ok in zip(scored, right, strict=True)]))
    curve = risk_coverage([a.confidence for a in scored], right)
    out["risk_coverage_area"] = area_under_risk(curve)
    out["per_tradition"] = {
        t: {
            "photos": r["photos"],
            **{k: r[k] / r["photos"] for k in r if k != "photos"},
        }
        for t, r in sorted(per.items())
    }
    return out


def uncertainty(answers: Sequence[Answer]) -> dict[str, Any]:
    """How many answers are flagged, and how often the unflagged ones are right."""

    def share(group: Sequence[Answer]) -> float | None:
        return sum(a.uncertain for a in group) / len(group) if group else None

    known = [a for a in answers if a.truth is not None and a.known_to_model]
    graph_only = [a for a in answers if a.truth is not None and not a.known_to_model]
    never = [a for a in answers if a.truth is None]
    kept = [a for a in answers if not a.uncertain and a.truth is not None]
    return {
        "flagged": share(answers),
        "flagged_known_to_model": share(known),
        "flagged_not_in_model": share(graph_only),
        "flagged_unknown_to_app": share(never),
        "unflagged": len(kept),
        "unflagged_right": (
            sum(a.fused[:1] == (a.truth,) for a in kept) / len(kept) if kept else None
        ),
    }


def answer_sets(scored: Sequence[Answer]) -> dict[str, Any]:
    """How often the stated answer sets hold the right tradition (set_coverage), their mean
    size (set_size), the level they are stated at (set_level: the most common one) and the
    share named without a level (set_unclaimed) and the coverage of those that claim theirs
    (set_coverage_claimed); None where no answer carries a set. A set
    is a promise ("90%"): this checks it on real photos."""
    with_set = [a for a in scored if a.answer_set is not None]
    if not with_set:
        return dict.fromkeys(
            ("set_coverage", "set_size", "set_level", "set_unclaimed", "set_coverage_claimed")
        )
    levels = Counter(a.set_level for a in with_set if a.set_level is not None)
    claimed = [a for a in with_set if not a.set_unclaimed]
    return {
        "set_coverage": sum(a.truth in (a.answer_set or ()) for a in with_set) / len(with_set),
        "set_size": float(np.mean([len(a.answer_set or ()) for a in with_set])),
        "set_level": levels.most_common(1)[0][0] if levels else None,
        # The share whose set the app names without a level (words.answer_set_words), and how
        # often the sets that do claim their level hold the right tradition.
        "set_unclaimed": sum(a.set_unclaimed for a in with_set) / len(with_set),
        "set_coverage_claimed": (
            sum(a.truth in (a.answer_set or ()) for a in claimed) / len(claimed)
            if claimed
            else None
        ),
    }


def confusion(answers: Sequence[Answer]) -> tuple[list[str], list[str], np.ndarray]:
    """Rows: true traditions; columns: fused answers given (tradition ids); counts."""
    rows = sorted({a.truth or "(unknown)" for a in answers})
    cols = sorted({a.fused[0] for a in answers if a.fused} | {r for r in rows if r != "(unknown)"})
    m = np.zeros((len(rows), len(cols)), dtype=np.int64)
    for a in answers:
        if a.fused:
            m[rows.index(a.truth or "(unknown)"), cols.index(a.fused[0])] += 1
    return rows, cols, m


def balanced(per_class_right: Mapping[str, Sequence[bool]]) -> float | None:
    """Mean over classes of the share right (classes with no photo left out)."""
    rates = [sum(v) / len(v) for v in per_class_right.values() if len(v)]
    return float(np.mean(rates)) if rates else None


# Equal-width bins of stated probability for the calibration error.
CALIBRATION_BINS = 10


def calibration(stated: Sequence[tuple[float, bool]]) -> dict[str, Any]:
    """How sure answers read against how often they are right: over (probability stated for
    the first tradition, whether it was right) pairs, the mean stated probability, the share
    right, and the expected calibration error (the answers' mean gap between the two within
    CALIBRATION_BINS equal bins of stated probability, weighted by how many fall in each)."""
    if not stated:
        return {"stated_probability": None, "stated_right": None, "calibration_error": None}
    p = np.array([x for x, _ in stated], dtype=np.float64)
    ok = np.array([y for _, y in stated], dtype=np.float64)
    bins = np.minimum((p * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    gap = sum(
        abs(float(p[bins == b].mean() - ok[bins == b].mean())) * int((bins == b).sum())
        for b in range(CALIBRATION_BINS)
        if (bins == b).any()
    )
    return {
        "stated_probability": float(p.mean()),
        "stated_right": float(ok.mean()),
        "calibration_error": gap / len(p),
    }
