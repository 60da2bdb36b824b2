"""Curator-confirmed photos as prototypes that sharpen the ranking without retraining."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from saree_app.collection.catalog import PARTS, Catalog, CatalogError

# A tradition becomes a prototype from this many confirmed photos; fewer is a guess, not a class.
MIN_EXAMPLES = 3
# Softmax temperature for `probabilities`: embeddings are L2-normalised, so similarities of
# neighbouring classes differ by a few hundredths; 0.05 turns a 0.1 lead into e^2 odds.
TEMPERATURE = 0.05
# Which embeddings a prototype is made of (concatenated, each L2-normalised). Borders and pallus
# carry most of a tradition's signature; see `saree bench fewshot` for the comparison.
DEFAULT_PARTS: tuple[str, ...] = ("whole", "border", "pallu")


@dataclass(frozen=True)
class Prototype:
    """One tradition taught by example: the mean of its examples' (normalised) embeddings."""

    tradition: str
    count: int
    vector: np.ndarray = field(repr=False)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def feature(
    embedding: np.ndarray, part_embeddings: np.ndarray | None, parts: Sequence[str]
) -> np.ndarray:
    """The vector prototypes compare: the chosen embeddings, each unit length, concatenated."""
    pieces = []
    for part in parts:
        if part == "whole":
            pieces.append(_unit(embedding))
        else:
            if part_embeddings is None:
                raise CatalogError(f"the {part} embedding is needed for few-shot but missing")
            pieces.append(_unit(np.asarray(part_embeddings)[PARTS.index(part) - 1]))
    return _unit(np.concatenate(pieces))


class FewShot:
    """Traditions taught by a curator's confirmed examples; scores a photo against each.

    `examples`: tradition -> feature vectors (see `feature`, made of `parts`).

    Traditions with fewer than `min_examples` examples are kept in `pending` (so the app can say
    how many more are needed) and do not score.
    """

    def __init__(
        self,
        examples: Mapping[str, Sequence[np.ndarray]],
        *,
        parts: Sequence[str] = DEFAULT_PARTS,
        min_examples: int = MIN_EXAMPLES,
        temperature: float = TEMPERATURE,
    ) -> None:
        self.parts = tuple(parts)
        self.temperature = temperature
        self.min_examples = min_examples
        self.prototypes: dict[str, Prototype] = {}
        self.pending: dict[str, int] = {}
        for tradition, vectors in sorted(examples.items()):
            if len(vectors) < min_examples:
                self.pending[tradition] = len(vectors)
                continue
            mean = np.mean([_unit(v) for v in vectors], axis=0)
            self.prototypes[tradition] = Prototype(tradition, len(vectors), _unit(mean))
        self._names = list(self.prototypes)
        self._matrix = (
            np.stack([p.vector for p in self.prototypes.values()])
            if self.prototypes
            else np.zeros((0, 0), np.float32)
        )

    def __bool__(self) -> bool:
        return bool(self.prototypes)

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        model_sha256: str | None = None,
        *,
        parts: Sequence[str] = DEFAULT_PARTS,
        min_examples: int = MIN_EXAMPLES,
        temperature: float = TEMPERATURE,
        exclude: Iterable[int] = (),
    ) -> FewShot:
        """Prototypes from every photo the curator confirmed (with its tradition).

        exclude: photo ids left out (a photo is never scored against itself as an example).
        """
        skip = set(exclude)
        found = confirmed_examples(catalog, model_sha256, parts)
        examples = {t: [vec for pid, vec in rows if pid not in skip] for t, rows in found.items()}
        return cls(examples, parts=parts, min_examples=min_examples, temperature=temperature)

    def similarities_of(self, vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of a feature vector (see `feature`) to each prototype."""
        if not self.prototypes:
            return {}
        sims = self._matrix @ _unit(vector)
        return {t: float(s) for t, s in zip(self._names, sims, strict=True)}

    def similarities(
        self, embedding: np.ndarray, part_embeddings: np.ndarray | None = None
    ) -> dict[str, float]:
        """Cosine similarity of a photo to each prototype."""
        return self.similarities_of(feature(embedding, part_embeddings, self.parts))

    def probabilities_of(self, vector: np.ndarray) -> dict[str, float]:
        """A probability per taught tradition (softmax of similarities / temperature)."""
        sims = self.similarities_of(vector)
        if not sims:
            return {}
        arr = np.array(list(sims.values()), dtype=np.float64) / self.temperature
        arr = np.exp(arr - arr.max())
        arr /= arr.sum()
        return {t: float(p) for t, p in zip(sims, arr, strict=True)}

    def scores_of(self, vector: np.ndarray) -> dict[str, float]:
        """What fusion takes as `fewshot`: cosine similarity to each prototype."""
        return self.similarities_of(vector)

    def scores(
        self, embedding: np.ndarray, part_embeddings: np.ndarray | None = None
    ) -> dict[str, float]:
        """Few-shot scores for fusion: `Prediction.refuse(graph, fewshot=scores)`.

        Cosine similarities (knowledge.fusion adds w_f * (s - s_ref) per tradition).
        """
        return self.similarities(embedding, part_embeddings)

    def nearest_of(self, vector: np.ndarray) -> str | None:
        """The tradition of the prototype nearest a feature vector (None when none is taught)."""
        sims = self.similarities_of(vector)
        return max(sims, key=lambda t: sims[t]) if sims else None

    def classify(
        self, embedding: np.ndarray, part_embeddings: np.ndarray | None = None
    ) -> str | None:
        """The nearest prototype's tradition (None when nothing is taught yet)."""
        return self.nearest_of(feature(embedding, part_embeddings, self.parts))

    def summary(self) -> list[tuple[str, int, bool]]:
        """(tradition, examples, active) for every tradition a curator has confirmed."""
        rows = [(t, p.count, True) for t, p in self.prototypes.items()]
        rows += [(t, n, False) for t, n in self.pending.items()]
        return sorted(rows)


def features_of(
    catalog: Catalog, model_sha256: str, parts: Sequence[str], photo_ids: Sequence[int]
) -> dict[int, np.ndarray]:
    """Photo id -> feature vector (see `feature`) for those photos that have every part."""
    out: dict[int, np.ndarray] = {}
    if not photo_ids:
        return out
    want = np.asarray(photo_ids, dtype=np.int64)
    pieces: list[np.ndarray] = []
    ok = np.ones(want.shape[0], dtype=bool)
    for part in parts:
        ids, matrix = catalog.embeddings(model_sha256, part)  # ids sorted by photo id
        if ids.shape[0] == 0:
            return out
        at = np.clip(np.searchsorted(ids, want), 0, ids.shape[0] - 1)
        ok &= ids[at] == want
        rows = matrix[at]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        pieces.append(np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0))
    joined = np.concatenate(pieces, axis=1)
    for i in np.flatnonzero(ok).tolist():
        out[int(want[i])] = _unit(joined[i])
    return out


def confirmed_examples(
    catalog: Catalog, model_sha256: str | None, parts: Sequence[str]
) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Tradition -> (photo id, feature) of every photo the curator confirmed with a tradition."""
    sha = model_sha256 or catalog.latest_model()
    if sha is None:
        return {}
    labels = {
        pid: lab.tradition
        for pid, lab in catalog.labels().items()
        if lab.certainty == "confirmed" and lab.tradition
    }
    feats = features_of(catalog, sha, parts, sorted(labels))
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for pid, vec in feats.items():
        out.setdefault(str(labels[pid]), []).append((pid, vec))
    return out


def refuse(prediction: Any, graph: Any, fewshot: FewShot) -> Any:
    """A Prediction fused again with few-shot scores (unchanged when nothing is taught)."""
    if not fewshot:
        return prediction
    scores = fewshot.scores(prediction.embedding, prediction.part_embeddings)
    return prediction.refuse(graph, fewshot=scores)


def refuse_stored(
    result: Mapping[str, Any], graph: Any, scores: Mapping[str, float]
) -> dict[str, Any]:
    """A stored Prediction.to_dict() ranking fused again with few-shot scores.

    Uses the stored visual ranking and attribute probabilities, so no photo is read again.
    Returns the dict with "ranking", "tradition", "label", "probability", "states" and
    "cultural_regions" replaced.
    """
    from saree_app.model.predict import fuse_visual

    visual = {str(t): float(p) for t, p in result.get("visual", [])}
    attributes = {str(a["term"]): float(a["probability"]) for a in result.get("attributes", [])}
    fused = fuse_visual(graph, visual, attributes, fewshot=dict(scores))
    out = dict(result)
    best = fused.ranking[0]
    out.update(
        tradition=best.tradition,
        label=best.label,
        probability=round(float(best.probability), 6),
        ranking=[
            {
                "tradition": r.tradition,
                "label": r.label,
                "probability": round(float(r.probability), 6),
                "score": round(float(r.score), 6),
                "known_to_model": bool(r.known_to_model),
                "evidence": [
                    {"kind": e.kind, "term": e.term, "text": e.text, "contribution": e.contribution}
                    for e in r.evidence
                ],
            }
            for r in fused.ranking
        ],
        states=[
            {"region": s.region, "label": s.label, "probability": round(s.probability, 6)}
            for s in fused.states
        ],
        cultural_regions=[
            {"region": s.region, "label": s.label, "probability": round(s.probability, 6)}
            for s in fused.cultural_regions
        ],
        fewshot={t: round(float(p), 6) for t, p in scores.items()},
    )
    return out


def apply_to_catalog(
    catalog: Catalog, graph: Any, model_sha256: str | None = None, *, fewshot: FewShot | None = None
) -> int:
    """Re-rank every stored prediction of a model with the catalogue's few-shot prototypes.

    Each confirmed photo is scored against prototypes built without it. Returns how many
    predictions changed their top answer.
    """
    sha = model_sha256 or catalog.latest_model()
    if sha is None:
        return 0
    teach = fewshot or FewShot.from_catalog(catalog, sha)
    if not teach:
        return 0
    found = confirmed_examples(catalog, sha, teach.parts)
    example_of = {pid: t for t, rows in found.items() for pid, _ in rows}
    preds = catalog.predictions(sha)
    feats = features_of(catalog, sha, teach.parts, sorted(preds))
    changed = 0
    for pid, stored in preds.items():
        vec = feats.get(pid)
        if vec is None:
            continue
        model = teach
        if pid in example_of:
            # A confirmed photo is scored against prototypes built without it.
            rest = {t: [v for p, v in rows if p != pid] for t, rows in found.items()}
            model = FewShot(
                rest,
                parts=teach.parts,
                min_examples=teach.min_examples,
                temperature=teach.temperature,
            )
        scores = model.scores_of(vec)
        if not scores:
            continue
        new = refuse_stored(stored.result, graph, scores)
        if new["tradition"] != stored.top_tradition:
            changed += 1
        catalog.put_prediction(
            pid,
            sha,
            new,
            top_tradition=str(new["tradition"]),
            top_probability=float(new["probability"]),
            uncertain=stored.uncertain,
        )
    return changed
