"""Does a photo look like the photos the model learnt from?

The shipped model learnt from rendered sarees only, and on real photographs its ranking is
close to a guess (models/MODEL_CARD.md, "Real photographs"). Its own open-set signals do not
know that: they were calibrated on rendered photos as well, and a real photo can look as
familiar to them as a rendered one. A general-purpose ImageNet network that was never trained
here (the cloth-features model, model/cloth.py) sees the difference plainly: rendered and real
photos fall in different parts of its feature space. So each model may carry, in its manifest's
"training_look" entry, a description of where the photos it learnt from lie there: a Gaussian
over the whole-picture cloth features of photos like its training photos (rendered afresh,
never the training photos themselves), in its first principal directions plus one variance for
the rest. A photo farther from them than nearly all such photos (the stated false-alarm share)
is flagged: its answer is the model's guess about a kind of photo it has never seen.

A model retrained on a curator's own photos carries no entry (it learnt from real photos), and
nor does any model until `saree bench familiar` writes one. Teaching replaces the flag: once
answer sets are calibrated on the curator's confirmed photos, those decide (collection/fewshot).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from saree_app.model.cloth import unit_rows

FORMAT = "training-look/1"
# Principal directions kept: enough for the spread of rendered photos (the scene, the view, the
# tradition's palette), few enough to estimate from a thousand photos and to keep in a manifest.
COMPONENTS = 16
UNLIKE_TRAINING = (
    "the photo looks unlike the photos the model learnt from (rendered sarees, not "
    "photographs): read its answer as a guess until you have confirmed a few photos of "
    "each tradition"
)


@dataclass(frozen=True)
class TrainingLook:
    """Where the model's training photos lie in the cloth features' whole-picture space."""

    cloth_sha256: str  # the cloth-features model the vectors come from
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (K, D) orthonormal rows
    variances: np.ndarray  # (K,) along each component
    residual_variance: float  # per dimension, in what the components leave
    threshold: float  # distance above which a photo is flagged
    false_alarm: float  # share of held-back photos like the training ones above it

    def distance(self, vectors: np.ndarray) -> np.ndarray:
        """(N,) squared distance of whole-picture vectors (N, D) from the training photos: the
        Mahalanobis distance in the components plus the rest scaled by its variance."""
        z = unit_rows(np.atleast_2d(np.asarray(vectors, np.float64))) - self.mean
        p = z @ self.components.T
        rest = np.maximum((z * z).sum(axis=1) - (p * p).sum(axis=1), 0.0)
        out: np.ndarray = (p * p / self.variances).sum(axis=1) + rest / self.residual_variance
        return out

    def unlike(self, vector: np.ndarray) -> bool:
        """Whether one photo's whole-picture vector is farther than the threshold."""
        return bool(self.distance(vector)[0] > self.threshold)

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """The manifest's "training_look" entry."""
        return {
            "format": FORMAT,
            "cloth_features_sha256": self.cloth_sha256,
            "mean": [round(float(v), 7) for v in self.mean],
            "components": [[round(float(v), 7) for v in row] for row in self.components],
            "variances": [float(v) for v in self.variances],
            "residual_variance": float(self.residual_variance),
            "threshold": float(self.threshold),
            "false_alarm": float(self.false_alarm),
            **extra,
        }

    @classmethod
    def from_entry(cls, entry: Any, cloth_sha256: str | None) -> TrainingLook | None:
        """The manifest's entry, or None when there is none, it is unreadable, or it was made
        with another cloth-features model than the one installed (its distances would mean
        nothing: the flag is then not raised, as for a model without the entry)."""
        if not isinstance(entry, Mapping) or entry.get("format") != FORMAT:
            return None
        if cloth_sha256 is None or entry.get("cloth_features_sha256") != cloth_sha256:
            return None
        try:
            mean = np.asarray(entry["mean"], np.float64)
            components = np.asarray(entry["components"], np.float64)
            variances = np.asarray(entry["variances"], np.float64)
            look = cls(
                cloth_sha256=cloth_sha256,
                mean=mean,
                components=components.reshape(len(variances), mean.size),
                variances=variances,
                residual_variance=float(entry["residual_variance"]),
                threshold=float(entry["threshold"]),
                false_alarm=float(entry["false_alarm"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if (
            mean.ndim != 1
            or not np.all(np.isfinite(look.components))
            or np.any(look.variances <= 0)
            or look.residual_variance <= 0
        ):
            return None
        return look


def fit(
    reference: np.ndarray,
    held_back: np.ndarray,
    cloth_sha256: str,
    false_alarm: float,
    components: int = COMPONENTS,
) -> TrainingLook:
    """Fit on `reference` (N, D) whole-picture vectors of photos like the training photos and
    set the threshold so that `false_alarm` of `held_back` (M, D) ones lie beyond it.

    Raises ValueError when there are too few photos for the components asked for.
    """
    x = unit_rows(np.asarray(reference, np.float64))
    n, d = x.shape
    if n < 4 * components or components >= d:
        raise ValueError(
            f"{n} reference photos are too few for {components} components (need {4 * components})"
        )
    if len(held_back) < 20:
        raise ValueError(f"{len(held_back)} held-back photos are too few to set the threshold")
    if not 0.0 < false_alarm < 0.5:
        raise ValueError("the false-alarm share must be between 0 and 0.5")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = s * s / (n - 1)
    rest = float(var[components:].sum() / (d - components))
    look = TrainingLook(
        cloth_sha256=cloth_sha256,
        mean=mean,
        components=vt[:components],
        variances=np.maximum(var[:components], 1e-12),
        residual_variance=max(rest, 1e-12),
        threshold=float("inf"),
        false_alarm=false_alarm,
    )
    threshold = float(np.quantile(look.distance(held_back), 1.0 - false_alarm))
    return dataclasses.replace(look, threshold=threshold)
