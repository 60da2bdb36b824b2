"""Visual scores + attribute evidence + curator metadata -> fused ranking with explanation.

The rule is naive Bayes in log-odds form, with tempering weights because the pieces of evidence
are not independent. For every tradition t of the graph (and any extra tradition the model or
the curator's few-shot prototypes know), the score is a sum of contributions, each measured
against a neutral baseline so that 0 means "no evidence either way":

visual     w_v * log(n * p_visual(t))                      t known to the model (n traditions)
           w_v * log(n * u * (1 - p_max)^g / n_unknown)    t not known to the model: a share u of
                                                           the model's doubt (g = 1) or a flat
                                                           prior (g = 0), spread evenly
attribute  w_a * log( tau*p/pi + (1-tau)*(1-p)/(1-pi) )    for every attribute a the model scores:
           p = detector probability of a, recalibrated as sigmoid(s * logit(p) + c) (detectors
           trained on one data set are rarely calibrated on another; s = 1, c = 0 leaves p as
           it is), tau = typicality of a for t (through the SKOS
           hierarchy: a narrower linked term counts fully, a broader one at half; otherwise the
           background typicality b), pi = mean typicality of a over the graph's traditions (the
           attribute's base rate). This is the likelihood ratio of soft evidence on a binary
           latent attribute: a typical attribute that is seen adds, one that is clearly absent
           subtracts, and a seen attribute that is not typical of t subtracts.
fibre      -w_fibre (or half of it for a silk-cotton near miss) if t is not woven from the
           curator's fibre
region     -w_region * steps: how far up from the place of acquisition one must go to reach a
           region that contains t (0: t comes from there; 1: same state / enclosing region; ...)
few-shot   w_f * (s - s_ref): cosine similarity s to the curator's confirmed photos of t

probability(t) = softmax(score / spread) over all ranked traditions (spread 1 but after teaching,
see `FusionWeights.spread`); states and cultural regions get the
sum of their traditions' probabilities. The weights (`FusionWeights`) are fitted on rendered
validation photos by `fit_fusion_weights` (maximum log-likelihood, coordinate search over a grid)
and stored in the model manifest under "fusion".
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from saree_app.knowledge.graph import TextileGraph

_EPS = 1e-4
#: A curator's own tradition's place, as they typed it: (state, cultural region), either empty.
Place = tuple[str | None, str | None]
#: Attribute evidence items smaller than this (in nats) are folded into one "other" item.
_SHOW = 0.05


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence for one tradition: what it is, the graph path, how much it adds."""

    kind: str  # visual | attribute | fibre | region | fewshot | other
    term: str  # the attribute, fibre, region or tradition it is about
    path: tuple[str, ...]  # term ids and relations, e.g. (Kanchipuram, hasAttribute, TempleBorder)
    typicality: float | None
    observed: float | None  # the probability or similarity that was seen
    contribution: float  # added to the tradition's score (nats)
    text: str
    # An attribute: whether the photo shows it more than a saree of the average tradition (its
    # calibrated probability above the attribute's base rate), which with how typical it is of
    # the tradition decides which way it weighs; None for other kinds.
    shown_more: bool | None = None


@dataclass(frozen=True)
class RankedTradition:
    """One tradition in the fused ranking."""

    tradition: str
    label: str
    probability: float
    score: float
    known_to_model: bool
    evidence: tuple[Evidence, ...]
    # False for a tradition the knowledge graph does not have: one the curator added and taught.
    in_graph: bool = True


@dataclass(frozen=True)
class RegionScore:
    """Fused probability rolled up to a state or cultural region."""

    region: str  # term id; "" for traditions outside the knowledge graph
    label: str
    level: str  # state | cultural_region
    probability: float


@dataclass(frozen=True)
class FusionResult:
    """Ranking over all traditions, with roll-ups and explanations."""

    ranking: tuple[RankedTradition, ...]
    states: tuple[RegionScore, ...]
    cultural_regions: tuple[RegionScore, ...]
    # The spread its probabilities were read at (FusionWeights.spread): softmax(score / spread).
    spread: float = 1.0

    def probability(self, tradition: str) -> float:
        """Fused probability of one tradition (0 if it is not ranked)."""
        for r in self.ranking:
            if r.tradition == tradition:
                return r.probability
        return 0.0

    def rank_of(self, tradition: str) -> int | None:
        """1-based rank of a tradition, None if not ranked."""
        for i, r in enumerate(self.ranking, 1):
            if r.tradition == tradition:
                return i
        return None


@dataclass(frozen=True)
class CuratorMetadata:
    """What the curator knows about the saree: fibre and place of acquisition (term ids or
    labels, resolved through the graph)."""

    fibre: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class FusionWeights:
    """Tempering weights of the fusion rule (see the module docstring)."""

    # Defaults: a setting that did well (known top-1 kept, zero-shot well above chance) for
    # two models trained on rendered sarees, in `saree bench fusion`; a model's manifest
    # carries its own fitted weights.
    visual: float = 0.75
    attribute: float = 0.1
    background: float = 0.02  # typicality of an attribute the graph does not link to t
    unknown: float = 3.0  # share u of the model's doubt given to traditions it does not know
    doubt: float = 0.5  # exponent g on (1 - p_max) for those traditions; 0: a flat prior
    attribute_scale: float = 1.0  # s: recalibrates attribute p as sigmoid(s * logit(p) + c)
    attribute_shift: float = 1.0  # c
    fibre: float = 1.5
    region: float = 0.75
    # Few-shot weight and reference similarity: chosen with `saree bench fewshot --known 6` on
    # the v2 model (5 shots per withheld tradition): w 8, ref 0.3 lifts taught traditions' top-1
    # from 0.06 to 0.41 without lowering known traditions' (0.867 -> 0.867; 0.833 -> 0.900 when
    # known traditions have confirmed photos too); w 16 cost known traditions up to 17 points.
    fewshot: float = 8.0
    fewshot_ref: float = 0.3
    # How far apart the fused scores are read when they are made probabilities (softmax of
    # score / spread; the ranking and the scores are untouched). 1 for the model's own answers,
    # whose calibration its training measured; after teaching, fitted on the curator's
    # confirmed photos (collection/fewshot `_fit_spread`): taught evidence is weighed to rank
    # well, and at those weights its probabilities alone would read 100% for answers right
    # half the time.
    spread: float = 1.0
    fitted: dict[str, Any] = field(default_factory=dict, compare=False)  # how they were fitted

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "fitted":
                continue
            v = getattr(self, f.name)
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"fusion weight {f.name} must be a finite number, not {v!r}")
        if not 0.0 < self.background < 1.0:
            raise ValueError(f"fusion weight background must be in (0, 1), not {self.background}")
        if self.unknown <= 0:
            raise ValueError(f"fusion weight unknown must be > 0, not {self.unknown}")
        if self.attribute_scale <= 0:
            raise ValueError(
                f"fusion weight attribute_scale must be > 0, not {self.attribute_scale}"
            )
        if self.doubt < 0:
            raise ValueError(f"fusion weight doubt must be >= 0, not {self.doubt}")
        if self.spread <= 0:
            raise ValueError(f"fusion weight spread must be > 0, not {self.spread}")
        for name in ("visual", "attribute", "fibre", "region", "fewshot"):
            if getattr(self, name) < 0:
                raise ValueError(f"fusion weight {name} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the model manifest's "fusion" entry)."""
        d = asdict(self)
        d["rule"] = "naive-bayes-log-odds/1"
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FusionWeights:
        """Read weights back; unknown keys are ignored, bad values raise ValueError."""
        if not isinstance(data, Mapping):
            raise ValueError("fusion weights must be a JSON object")
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for k, v in data.items():
            if k not in names:
                continue
            if k == "fitted":
                kwargs[k] = dict(v) if isinstance(v, Mapping) else {}
            elif isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"fusion weight {k} must be a number, not {v!r}")
            else:
                kwargs[k] = float(v)
        return cls(**kwargs)


DEFAULT_WEIGHTS = FusionWeights()


@dataclass(frozen=True)
class FusionSample:
    """One labelled photo's model outputs, for fitting the weights."""

    tradition: str
    visual: Mapping[str, float]
    attributes: Mapping[str, float]
    metadata: CuratorMetadata | None = None
    fewshot: Mapping[str, float] | None = None


# --------------------------------------------------------------------------- typicality


@dataclass(frozen=True)
class _Via:
    """How tradition t reaches attribute a in the graph."""

    how: str  # direct | narrower (t links a narrower term) | broader (t links a broader term)
    linked: str
    typicality: float


def _via(graph: TextileGraph, tradition: str, attr: str) -> _Via | None:
    """The strongest graph path from a tradition to an attribute, if any."""
    links = graph.attributes_of(tradition)
    if attr in links:
        return _Via("direct", attr, links[attr])
    best: _Via | None = None
    for d in graph.descendants(attr):
        if d in links and (best is None or links[d] > best.typicality):
            best = _Via("narrower", d, links[d])
    if best is not None:
        return best
    for a in graph.ancestors(attr):
        if a in links:
            cand = _Via("broader", a, 0.5 * links[a])
            if best is None or cand.typicality > best.typicality:
                best = cand
    return best


class _Table:
    """Effective typicalities tau[t, a] and base rates pi[a] for one graph, attribute list and
    background typicality."""

    def __init__(
        self, graph: TextileGraph, traditions: Sequence[str], attrs: Sequence[str], bg: float
    ) -> None:
        self.traditions = list(traditions)
        self.attrs = list(attrs)
        self.via: dict[tuple[str, str], _Via] = {}
        tau = np.full((len(self.traditions), len(self.attrs)), bg, dtype=np.float64)
        in_graph = np.zeros(len(self.traditions), dtype=bool)
        graph_traditions = set(graph.traditions())
        for i, t in enumerate(self.traditions):
            if t not in graph_traditions:
                continue
            in_graph[i] = True
            for j, a in enumerate(self.attrs):
                v = _via(graph, t, a)
                if v is not None:
                    self.via[(t, a)] = v
                    tau[i, j] = max(bg, v.typicality)
        self.tau = np.clip(tau, _EPS, 1 - _EPS)
        # The base rate of an attribute: how often a saree of a random graph tradition shows it.
        pi = self.tau[in_graph].mean(axis=0) if in_graph.any() else np.full(len(self.attrs), bg)
        self.pi = np.clip(pi, 0.02, 0.98)
        # A tradition that links a narrower attribute which the model scores itself (zari
        # brocade, under extra weft) is judged on that detector; the broader detector adds
        # nothing for it (neutral: tau = pi), so one fact is not counted twice and a detector
        # trained on a narrower sense of the broader term does not count against it.
        index = {a: j for j, a in enumerate(self.attrs)}
        for (t, a), v in list(self.via.items()):
            if v.how == "narrower" and v.linked in index:
                self.tau[self.traditions.index(t), index[a]] = self.pi[index[a]]
                del self.via[(t, a)]
        # Which (tradition, attribute) pairs the graph links: their evidence is always listed.
        row = {t: i for i, t in enumerate(self.traditions)}
        self.linked = np.zeros(self.tau.shape, dtype=bool)
        for t, a in self.via:
            self.linked[row[t], index[a]] = True

    def log_lr(self, p: np.ndarray) -> np.ndarray:
        """(traditions x attributes) log likelihood ratios for detector probabilities p."""
        p = np.clip(p, _EPS, 1 - _EPS)
        lr = self.tau * (p / self.pi) + (1 - self.tau) * ((1 - p) / (1 - self.pi))
        out: np.ndarray = np.log(lr)
        return out


# Per graph (weakly held, so a freed graph's tables go with it): tables by tradition list,
# attribute list and background typicality.
_TABLES: weakref.WeakKeyDictionary[
    TextileGraph, dict[tuple[tuple[str, ...], tuple[str, ...], float], _Table]
] = weakref.WeakKeyDictionary()


def _table(
    graph: TextileGraph, traditions: Sequence[str], attrs: Sequence[str], bg: float
) -> _Table:
    per_graph = _TABLES.setdefault(graph, {})
    key = (tuple(traditions), tuple(attrs), float(bg))
    tab = per_graph.get(key)
    if tab is None:
        if len(per_graph) > 32:
            per_graph.clear()
        tab = _Table(graph, traditions, attrs, bg)
        per_graph[key] = tab
    return tab


# --------------------------------------------------------------------------- fusion


def _visual_terms(
    ranked: Sequence[str], visual: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, float]:
    """(log(n p) for known traditions and log(n / n_unknown) for unknown ones, mask of
    unknowns, p_max); the unknowns' share u and doubt term are added by the caller."""
    n = len(visual)
    v0 = np.zeros(len(ranked))
    unknown = np.zeros(len(ranked), dtype=bool)
    if n == 0:
        return v0, unknown, 0.0
    pmax = max(min(max(float(p) for p in visual.values()), 1.0), 0.0)
    n_unknown = sum(1 for t in ranked if t not in visual)
    for i, t in enumerate(ranked):
        if t in visual:
            v0[i] = math.log(n * max(float(visual[t]), _EPS))
        else:
            unknown[i] = True
            v0[i] = math.log(n / max(n_unknown, 1))
    return v0, unknown, pmax


def _unknown_share(w: FusionWeights, pmax: float) -> float:
    """log(u * (1 - p_max)^g): what a tradition unknown to the model gets on top of v0."""
    return math.log(w.unknown) + w.doubt * math.log(max(1.0 - pmax, _EPS))


def _calibrate(p: np.ndarray, w: FusionWeights) -> np.ndarray:
    """Attribute probabilities recalibrated as sigmoid(s * logit(p) + c)."""
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    if w.attribute_scale == 1.0 and w.attribute_shift == 0.0:
        return p
    z = w.attribute_scale * np.log(p / (1 - p)) + w.attribute_shift
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def _check_probs(name: str, values: Mapping[str, float]) -> None:
    for k, v in values.items():
        if not isinstance(v, int | float | np.floating) or not math.isfinite(float(v)):
            raise ValueError(f"{name} score for {k!r} is not a finite number: {v!r}")


def _fibre_penalty(graph: TextileGraph, tradition: str, fibre: str) -> tuple[float, str | None]:
    """(fraction of the fibre weight to subtract, the matching fibre if any)."""
    fibres = graph.fibres_of(tradition)
    if not fibres:
        return 0.0, None
    family = {fibre, *graph.ancestors(fibre), *graph.descendants(fibre)}
    for f in fibres:
        if f in family:
            return 0.0, f
    near = {"SilkCotton": {"Silk", "Cotton"}, "Silk": {"SilkCotton"}, "Cotton": {"SilkCotton"}}
    for f in fibres:
        f_family = {f, *graph.ancestors(f)}
        if near.get(fibre, set()) & f_family or fibre in near.get(f, set()):
            return 0.5, f
    return 1.0, None


def _region_steps(graph: TextileGraph, tradition: str, region: str) -> tuple[int, str | None]:
    """Steps up from the place of acquisition to a region containing t, and that region."""
    mine = graph.region_chain(tradition)
    up = graph.region_ancestors(region)
    for steps, r in enumerate(up):
        if r in mine:
            return steps, r
    return len(up), None


def _fmt(x: float) -> str:
    return f"{x:+.2f}" if round(x, 2) != 0 else "0.00"


def _resolve_metadata(
    graph: TextileGraph, metadata: CuratorMetadata | None
) -> tuple[str | None, str | None]:
    if metadata is None:
        return None, None
    fibre = region = None
    if metadata.fibre:
        fibre = graph.resolve(metadata.fibre, {"fibre"})
        if fibre is None:
            raise ValueError(
                f"unknown fibre {metadata.fibre!r}: use one of "
                + ", ".join(graph.label(f) for f in graph.fibres())
            )
    if metadata.region:
        region = graph.resolve(metadata.region, {"town", "district", "state", "cultural_region"})
        if region is None:
            raise ValueError(
                f"unknown region {metadata.region!r}: use a town, district, state "
                "or cultural region of the knowledge graph"
            )
    return fibre, region


def fuse(
    graph: TextileGraph,
    visual: Mapping[str, float],
    attributes: Mapping[str, float],
    *,
    metadata: CuratorMetadata | None = None,
    fewshot: Mapping[str, float] | None = None,
    weights: FusionWeights = DEFAULT_WEIGHTS,
    explain: bool = True,
    places: Mapping[str, Place] | None = None,
) -> FusionResult:
    """Fuse the model's tradition and attribute probabilities with the graph (module docstring).

    `visual` may cover a subset of the graph's traditions (those the model knows) and may name
    traditions outside the graph; `attributes` maps attribute term ids to probabilities
    (ids unknown to the graph are ignored); `fewshot` maps tradition ids (graph or curator-made)
    to cosine similarities. Raises ValueError for non-finite scores or unknown metadata terms.

    With `explain` False the evidence comes without words, and the attribute items a
    tradition would list come as one "attribute" item (their sum; the rest is "other" as
    always): what the catalogue keeps of an answer (collection/catalog.compact_answer), made
    several times faster for re-ranking a whole collection.

    `places`: for traditions outside the graph (those a curator added), the state and cultural
    region the curator typed, so that the answer's likely state counts them (`_rollup`).
    """
    _check_probs("visual", visual)
    _check_probs("attribute", attributes)
    if fewshot:
        _check_probs("few-shot", fewshot)
    fewshot = fewshot or {}
    fibre, region = _resolve_metadata(graph, metadata)
    graph_traditions = graph.traditions()
    in_graph = set(graph_traditions)
    extra = [t for t in [*visual, *fewshot] if t not in in_graph]
    ranked = [*graph_traditions, *dict.fromkeys(extra)]
    known_attrs = set(graph.attributes())
    # In one order whatever the caller's (stored answers list attributes by probability),
    # so the graph's table for them is made once and found again (`_table`).
    attrs = sorted(a for a in attributes if a in known_attrs)
    tab = _table(graph, ranked, attrs, weights.background)
    raw_p = np.array([float(attributes[a]) for a in attrs], dtype=np.float64)
    p = _calibrate(raw_p, weights)
    attr_terms = weights.attribute * tab.log_lr(p) if attrs else np.zeros((len(ranked), 0))
    v0, unknown, pmax = _visual_terms(ranked, visual)
    n_known = len(visual)

    scores = np.zeros(len(ranked))
    all_evidence: list[tuple[Evidence, ...]] = []
    for i, t in enumerate(ranked):
        label = graph.label(t)
        items: list[Evidence] = []
        if n_known:
            if unknown[i]:
                c = weights.visual * (v0[i] + _unknown_share(weights, pmax))
                if weights.doubt > 0:
                    text = (
                        f"{label} is not known to the model; it gets a share of the model's "
                        f"doubt (1 - {pmax:.2f} = {1 - pmax:.2f}): {_fmt(c)}"
                    )
                else:
                    text = (
                        f"{label} is not known to the model; the prior for traditions it was "
                        f"not trained on: {_fmt(c)}"
                    )
                items.append(Evidence("visual", t, ("model", t), None, None, c, text))
            else:
                c = weights.visual * v0[i]
                pv = float(visual[t])
                text = (
                    f"the model's visual score for {label}: p = {pv:.2f} "
                    f"(1 of {n_known} traditions it knows): {_fmt(c)}"
                )
                items.append(Evidence("visual", t, ("model", t), None, pv, c, text))
        rest = 0.0
        attr_items: list[Evidence] = []
        if not explain and attrs:
            row = attr_terms[i]
            listed = tab.linked[i] | (np.abs(row) >= _SHOW)
            if listed.any():
                summed = float(row[listed].sum())
                items.append(Evidence("attribute", "", (t,), None, None, summed, ""))
            rest = float(row[~listed].sum())
        for j, a in enumerate(attrs if explain else ()):
            c = float(attr_terms[i, j])
            via = tab.via.get((t, a))
            if via is None and abs(c) < _SHOW:
                rest += c
                continue
            attr_items.append(
                _attribute_evidence(
                    graph,
                    t=t,
                    a=a,
                    via=via,
                    p=float(p[j]),
                    raw=float(raw_p[j]),
                    pi=float(tab.pi[j]),
                    c=c,
                    weights=weights,
                )
            )
        attr_items.sort(key=lambda e: -abs(e.contribution))
        items += attr_items
        if rest:
            items.append(
                Evidence(
                    "other",
                    t,
                    (t,),
                    None,
                    None,
                    rest,
                    f"other attributes, each too weak to list, together: {_fmt(rest)}"
                    if explain
                    else "",
                )
            )
        if fibre is not None and t in in_graph:
            frac, match = _fibre_penalty(graph, t, fibre)
            if graph.fibres_of(t):
                c = -weights.fibre * frac
                woven = ", ".join(graph.label(f) for f in graph.fibres_of(t))
                if frac == 0.0:
                    text = (
                        f"{label} -> woven from -> {graph.label(match or fibre)}; "
                        f"matches the curator's fibre ({graph.label(fibre)}): {_fmt(c)}"
                    )
                else:
                    text = (
                        f"{label} is woven from {woven}, the curator says "
                        f"{graph.label(fibre)}: {_fmt(c)}"
                    )
                path = (t, "fibre", match) if match else (t, "fibre")
                items.append(Evidence("fibre", fibre, path, None, None, c, text))
        if region is not None and t in in_graph:
            steps, shared = _region_steps(graph, t, region)
            c = -weights.region * steps
            chain = graph.region_chain(t)
            upto = chain[: chain.index(shared) + 1] if shared in chain else chain
            names = " -> ".join(graph.label(r) for r in upto)
            if steps == 0:
                text = f"{label} -> from -> {names}; acquired in {graph.label(region)}: {_fmt(c)}"
            elif shared is not None:
                text = (
                    f"{label} -> from -> {names}; acquired in {graph.label(region)}, "
                    f"{steps} step{'s' if steps > 1 else ''} away: {_fmt(c)}"
                )
            else:
                text = (
                    f"{label} comes from {names}, far from {graph.label(region)} "
                    f"where it was acquired: {_fmt(c)}"
                )
            path_nodes: list[str] = [t, "region"]
            for k, r in enumerate(upto):
                if k:
                    path_nodes.append("partOf")
                path_nodes.append(r)
            items.append(Evidence("region", region, tuple(path_nodes), None, float(steps), c, text))
        if t in fewshot:
            s = float(fewshot[t])
            c = weights.fewshot * (s - weights.fewshot_ref)
            text = (
                f"similar to the curator's confirmed photos of {label} "
                f"(similarity {s:.2f}): {_fmt(c)}"
                if explain
                else ""
            )
            items.append(Evidence("fewshot", t, ("curator", t), None, s, c, text))
        scores[i] = sum(e.contribution for e in items)
        all_evidence.append(tuple(items))

    probs = _softmax(scores / weights.spread)
    order = sorted(range(len(ranked)), key=lambda i: (-probs[i], ranked[i]))
    ranking = tuple(
        RankedTradition(
            tradition=ranked[i],
            label=graph.label(ranked[i]),
            probability=float(probs[i]),
            score=float(scores[i]),
            known_to_model=ranked[i] in visual,
            evidence=all_evidence[i],
            in_graph=ranked[i] in in_graph,
        )
        for i in order
    )
    return FusionResult(
        ranking=ranking,
        states=_rollup(graph, ranking, "state", places),
        cultural_regions=_rollup(graph, ranking, "cultural_region", places),
        spread=weights.spread,
    )


def _attribute_evidence(
    graph: TextileGraph,
    *,
    t: str,
    a: str,
    via: _Via | None,
    p: float,
    raw: float,
    pi: float,
    c: float,
    weights: FusionWeights,
) -> Evidence:
    label, alabel = graph.label(t), graph.label(a)
    shown = f"p = {raw:.2f}" + (f", calibrated {p:.2f}" if abs(p - raw) >= 0.005 else "")
    # Evidence is relative to the attribute's base rate pi, so a p of 0.2 on a rare motif is
    # weak positive evidence: say so rather than "not seen".
    if p >= 0.5:
        seen = f"seen with {shown}"
    elif p > pi:
        seen = f"weakly seen ({shown})"
    else:
        seen = f"not seen ({shown})"
    if via is None:
        text = (
            f"{label} is not known for {alabel} (typicality {weights.background:.2f} "
            f"assumed); {alabel} {seen}: {_fmt(c)}"
        )
        return Evidence("attribute", a, (t, a), weights.background, raw, c, text, p > pi)
    kind = graph.kind(via.linked) or "attribute"
    rel = {"motif": "has motif", "weave": "woven as", "feature": "has feature"}.get(
        kind, "has attribute"
    )
    if via.how == "direct":
        text = f"{label} -> {rel} -> {alabel} (typicality {via.typicality:.2f}); {seen}: {_fmt(c)}"
        path: tuple[str, ...] = (t, "hasAttribute", a)
    elif via.how == "narrower":
        linked = graph.label(via.linked)
        text = (
            f"{label} -> {rel} -> {linked}, a kind of {alabel} "
            f"(typicality {via.typicality:.2f}); {alabel} {seen}: {_fmt(c)}"
        )
        path = (t, "hasAttribute", via.linked, "broader", a)
    else:
        linked = graph.label(via.linked)
        text = (
            f"{label} -> {rel} -> {linked}, which includes {alabel} "
            f"(typicality {via.typicality:.2f}); {alabel} {seen}: {_fmt(c)}"
        )
        path = (t, "hasAttribute", via.linked, "narrower", a)
    return Evidence("attribute", a, path, via.typicality, raw, c, text, p > pi)


def _softmax(scores: np.ndarray) -> np.ndarray:
    if scores.size == 0:
        return scores
    z = scores - scores.max()
    e = np.exp(z)
    out: np.ndarray = e / e.sum()
    return out


# A state or cultural region a curator typed for a tradition they added, where the graph has
# none of that name: its id in an answer's roll-up (the name follows; the label is the name).
TYPED_PLACE = "typed:"
UNPLACED = "not in the knowledge graph"


def places_by_name(graph: TextileGraph, level: str) -> dict[str, str]:
    """The graph's places of `level` by their name case-folded, for `place_of`."""
    return {graph.label(r).casefold(): r for r in graph.regions(level)}


def place_of(
    graph: TextileGraph,
    level: str,
    tradition: str,
    places: Mapping[str, Place] | None,
    by_name: Mapping[str, str],
) -> tuple[str, str]:
    """(id, name) of the state or cultural region (`level`) a tradition counts towards: the
    graph's own for its traditions; for one the curator added, the place they typed, as the
    graph's place of that name where there is one (so "odisha" is the graph's Odisha), else
    a place of its own (TYPED_PLACE + the name case-folded, named as typed); ("", UNPLACED)
    for one with no place. `by_name`: `places_by_name(graph, level)`."""
    if tradition in graph:
        reg = graph.state_of(tradition) if level == "state" else None
        if level == "cultural_region":
            reg = graph.cultural_region_of(tradition)
        return (reg, graph.label(reg)) if reg else ("", UNPLACED)
    state, region = (places or {}).get(tradition, (None, None))
    name = " ".join(((state if level == "state" else region) or "").split())
    if not name:
        return "", UNPLACED
    known = by_name.get(name.casefold())
    return (known, graph.label(known)) if known else (TYPED_PLACE + name.casefold(), name)


def _rollup(
    graph: TextileGraph,
    ranking: Sequence[RankedTradition],
    level: str,
    places: Mapping[str, Place] | None = None,
) -> tuple[RegionScore, ...]:
    """Each state (or cultural region) with the summed probability of its traditions
    (`place_of`: a tradition the curator added counts towards the place they typed)."""
    sums: dict[str, float] = {}
    names: dict[str, str] = {}
    by_name = places_by_name(graph, level) if places else {}
    for r in ranking:
        key, name = place_of(graph, level, r.tradition, places, by_name)
        names.setdefault(key, name)
        sums[key] = sums.get(key, 0.0) + r.probability
    out = [
        RegionScore(region=k, label=names[k], level=level, probability=v) for k, v in sums.items()
    ]
    out.sort(key=lambda s: (-s.probability, s.label))
    return tuple(out)


# --------------------------------------------------------------------------- fitting


# How many standard deviations (sign test) fusion must win by on validation photos of known
# traditions before a setting is taken (about 97.7 % one-sided at 2).
_MARGIN_SD = 2.0

_GRID: dict[str, tuple[float, ...]] = {
    "visual": (0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0),
    "attribute": (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0),
    "background": (0.01, 0.02, 0.05, 0.1, 0.2),
    "unknown": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
    "doubt": (0.0, 0.25, 0.5, 1.0),
    "attribute_scale": (0.5, 0.75, 1.0, 1.5, 2.0),
    "attribute_shift": (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0),
}


def log_likelihood(
    samples: Sequence[FusionSample], graph: TextileGraph, weights: FusionWeights
) -> float:
    """Mean log fused probability of the true tradition (the fitting objective)."""
    if not samples:
        return 0.0
    return float(
        np.mean(
            [math.log(max(_fused_probs(graph, s, weights)[s.tradition], 1e-300)) for s in samples]
        )
    )


def _fused_probs(graph: TextileGraph, s: FusionSample, w: FusionWeights) -> dict[str, float]:
    res = fuse(graph, s.visual, s.attributes, metadata=s.metadata, fewshot=s.fewshot, weights=w)
    out = {r.tradition: r.probability for r in res.ranking}
    out.setdefault(s.tradition, 0.0)
    return out


class _FitData:
    """Samples pre-digested into arrays so that one weight setting costs a few numpy ops."""

    def __init__(
        self, samples: Sequence[FusionSample], graph: TextileGraph, known: Sequence[str]
    ) -> None:
        known_set = set(known)
        self.ranked = graph.traditions()
        index = {t: i for i, t in enumerate(self.ranked)}
        self.samples = [s for s in samples if s.tradition in index]
        attrs_all = set(graph.attributes())
        keys: dict[str, None] = {}
        for s in self.samples:
            for a in s.attributes:
                if a in attrs_all:
                    keys[a] = None
        self.attrs = list(keys)
        n, m = len(self.samples), len(self.attrs)
        self.truth = np.array([index[s.tradition] for s in self.samples], dtype=np.int64)
        self.p = np.full((n, m), 0.5)
        self.seen = np.zeros((n, m), dtype=bool)  # the sample scores this attribute
        self.v0 = np.zeros((n, len(self.ranked)))
        self.unknown = np.zeros((n, len(self.ranked)), dtype=bool)
        self.log_doubt = np.zeros(n)  # log(1 - p_max) per sample
        for k, s in enumerate(self.samples):
            for j, a in enumerate(self.attrs):
                if a in s.attributes:
                    self.p[k, j] = float(s.attributes[a])
                    self.seen[k, j] = True
            vis = {t: v for t, v in s.visual.items() if t in known_set}
            self.v0[k], self.unknown[k], pmax = _visual_terms(self.ranked, vis)
            self.log_doubt[k] = math.log(max(1.0 - pmax, _EPS))
        self.truth_known = np.array([s.tradition in known_set for s in self.samples], dtype=bool)
        self.graph = graph
        self._attr_cache: dict[tuple[float, float, float], np.ndarray] = {}
        self._tables: dict[float, _Table] = {}

    def attr_terms(self, w: FusionWeights) -> np.ndarray:
        """(samples x traditions) summed log likelihood ratios at unit attribute weight."""
        bg = w.background
        key = (bg, w.attribute_scale, w.attribute_shift)
        if key not in self._attr_cache:
            if len(self._attr_cache) > 64:
                self._attr_cache.clear()
            if bg not in self._tables:
                self._tables[bg] = _Table(self.graph, self.ranked, self.attrs, bg)
            tab = self._tables[bg]
            p = _calibrate(self.p, w)
            # sum_j log(tau[t,j] * p[k,j]/pi[j] + (1-tau[t,j]) * (1-p[k,j])/(1-pi[j]))
            lr = (
                tab.tau[None, :, :] * (p / tab.pi)[:, None, :]
                + (1 - tab.tau)[None, :, :] * ((1 - p) / (1 - tab.pi))[:, None, :]
            )
            self._attr_cache[key] = (np.log(lr) * self.seen[:, None, :]).sum(axis=2)
        return self._attr_cache[key]

    def scores(self, w: FusionWeights) -> np.ndarray:
        share = math.log(w.unknown) + w.doubt * self.log_doubt[:, None]
        vis = self.v0 + self.unknown * share
        if w.attribute == 0:
            return np.asarray(w.visual * vis)
        out: np.ndarray = w.visual * vis + w.attribute * self.attr_terms(w)
        return out

    def loglik(self, w: FusionWeights, balanced: bool = False) -> float:
        """Mean log-probability of the true tradition; `balanced`: the mean of that over
        photos of traditions the model knows and over photos of those it does not."""
        s = self.scores(w)
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        per = logp[np.arange(len(self.truth)), self.truth]
        k = self.truth_known
        if balanced and k.any() and (~k).any():
            return float(0.5 * per[k].mean() + 0.5 * per[~k].mean())
        return float(per.mean())

    def topk(self, w: FusionWeights, k: int, only_known: bool = False) -> float:
        s = self.scores(w)
        true = s[np.arange(len(self.truth)), self.truth][:, None]
        hit = (s > true).sum(axis=1) < k
        if only_known:
            hit = hit[self.truth_known]
        return float(hit.mean()) if hit.size else float("nan")

    def visual_right(self) -> np.ndarray:
        """Per photo of a known tradition: is the visual ranking's first answer right?"""
        v = np.where(self.unknown, -np.inf, self.v0)[self.truth_known]
        truth = self.truth[self.truth_known]
        out: np.ndarray = v.argmax(axis=1) == truth
        return out

    def visual_top1_known(self) -> float:
        """Top-1 of the visual ranking alone on photos of traditions the model knows."""
        if not self.truth_known.any():
            return float("nan")
        return float(self.visual_right().mean())

    def fused_right(self, w: FusionWeights) -> np.ndarray:
        """Per photo of a known tradition: is the fused ranking's first answer right?"""
        s = self.scores(w)[self.truth_known]
        truth = self.truth[self.truth_known]
        true = s[np.arange(len(truth)), truth][:, None]
        out: np.ndarray = (s > true).sum(axis=1) == 0
        return out


def _ascend(
    data: _FitData,
    init: FusionWeights,
    balanced: bool,
    allowed: Callable[[FusionWeights], bool],
    rounds: int,
) -> tuple[FusionWeights, float]:
    """Coordinate ascent over _GRID from `init`, taking only allowed settings."""
    best, best_ll = init, data.loglik(init, balanced)
    for _ in range(max(1, rounds)):
        improved = False
        for name, grid in _GRID.items():
            for value in grid:
                change: dict[str, Any] = {name: value}
                cand = replace(best, **change)
                ll = data.loglik(cand, balanced)
                if ll > best_ll + 1e-9 and allowed(cand):
                    best, best_ll, improved = cand, ll, True
        if not improved:
            break
    return best, best_ll


def fit_fusion_weights(
    samples: Sequence[FusionSample],
    graph: TextileGraph,
    known: Sequence[str],
    *,
    start: FusionWeights = DEFAULT_WEIGHTS,
    rounds: int = 3,
    objective: str = "balanced",
) -> FusionWeights:
    """Weights maximising the mean log-likelihood of the true tradition on `samples`.

    `known` lists the traditions the model was trained on (its manifest labels); the visual
    scores of a sample are restricted to them. Coordinate search over a small grid of the
    visual, attribute, background, unknown-share, doubt and attribute-calibration weights
    (curator-metadata and few-shot weights keep their values: rendered photos carry no such
    evidence).

    `objective`: "likelihood" maximises the mean log-probability of the true tradition over all
    samples; "balanced" (the default) the mean of that over photos of traditions the model
    knows and over photos of traditions it does not (when the samples hold both), so that the
    few photos of unknown traditions are not outvoted: zero-shot ranking is what the graph adds.
    Constraint: on photos of traditions the model knows, fused top-1 must not fall below the
    visual ranking's top-1, with a margin: among photos where exactly one of the two rankings
    puts the right tradition first, fusion must win by at least twice the square root of their
    number (two standard deviations of a sign test). The result records the objective before
    and after, top-1 figures and the number of samples under `fitted`.
    """
    if objective not in ("balanced", "likelihood"):
        raise ValueError(f"objective must be 'balanced' or 'likelihood', not {objective!r}")
    data = _FitData(samples, graph, known)
    if not data.samples:
        raise ValueError("no samples of traditions in the knowledge graph to fit on")
    balanced = objective == "balanced"
    floor = data.visual_top1_known()
    visual_right = data.visual_right() if data.truth_known.any() else None

    def allowed(w: FusionWeights) -> bool:
        # Not worse than the visual ranking with some confidence: of the photos where the two
        # first answers differ in being right, fusion must win by _MARGIN_SD standard
        # deviations of that count (sign test), so a gain that is noise on the validation
        # photos does not become a loss on new ones.
        if visual_right is None:
            return True
        fused = data.fused_right(w)
        gained = int((fused & ~visual_right).sum())
        lost = int((~fused & visual_right).sum())
        return gained - lost >= _MARGIN_SD * math.sqrt(gained + lost) - 1e-9

    # Coordinate ascent from several starts (the constraint makes the search path-dependent):
    # the given weights, and settings that rank known traditions as the visual model does
    # with more or less room for traditions it does not know.
    starts = [
        replace(start, fitted={}),
        replace(start, fitted={}, attribute=0.0),
        *(
            replace(start, fitted={}, attribute=0.0, unknown=u, doubt=1.0)
            for u in (min(_GRID["unknown"]), 0.1, 1.0)
        ),
    ]
    # ... and the best allowed point of a joint grid over the weights that interact most
    # (attribute weight, its calibration shift, the unknown share and its doubt exponent):
    # coordinate ascent alone stalls where the attribute weight is 0 and the rest is flat.
    joint: FusionWeights | None = None
    joint_ll = -math.inf
    for a, c, u, g in itertools.product(
        _GRID["attribute"], _GRID["attribute_shift"], _GRID["unknown"], _GRID["doubt"]
    ):
        cand = replace(start, fitted={}, attribute=a, attribute_shift=c, unknown=u, doubt=g)
        ll = data.loglik(cand, balanced)
        if ll > joint_ll and allowed(cand):
            joint, joint_ll = cand, ll
    if joint is not None:
        starts.append(joint)
    start_ll = data.loglik(starts[0], balanced)
    best, best_ll = starts[-1], -math.inf
    for init in starts:
        if not allowed(init):
            continue
        cur, cur_ll = _ascend(data, init, balanced, allowed, rounds)
        if cur_ll > best_ll:
            best, best_ll = cur, cur_ll
    if best_ll == -math.inf:  # no start keeps top-1: report the visual-equivalent one
        best_ll = data.loglik(best, balanced)
    info = {
        "objective": objective,
        "samples": len(data.samples),
        "samples_unknown_to_model": int((~data.truth_known).sum()),
        "log_likelihood_start": round(start_ll, 4),
        "log_likelihood": round(best_ll, 4),
        "top1": round(data.topk(best, 1), 4),
        "top1_known": round(data.topk(best, 1, only_known=True), 4),
        "top1_known_visual_only": round(floor, 4),
        "known": list(known),
    }
    return replace(best, fitted=info)
