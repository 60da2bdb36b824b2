"""Is it a saree at all? A check on the model's own outputs.

The model ranks traditions for whatever it is shown. Its open-set signals and the cloth check
(model/cloth.py) catch photos that are not cloth, and the training look (model/familiar.py)
photos unlike its training photos; but a stole, a bedsheet or a shirting length photographed
like a saree is cloth, and a rendered one looks like the renders the model learnt from, so
nearly half of them went unflagged (`saree bench openset`: rendered non-sarees 73% flagged).

What tells them apart is in the model's outputs together: the part map finds no border or
pallu where a saree has them, the attributes find no saree motif, the embedding lies away from
every tradition's; and the cloth features' view of the whole picture (an ImageNet network's,
model/cloth.py) sees a stole's or a bedsheet's layout apart from a saree's (on held-back renders
at 3% of sarees flagged, 85% of the other photos caught from the model's outputs alone, 94% with
the cloth features too). So a model may carry, in its manifest's "saree_check" entry, a logistic
rule over those outputs (`features`), fitted by `saree bench saree_check` on rendered sarees
and rendered other textiles and scenes (seeds apart from every other data set), with its
threshold set so that a stated share of the rendered sarees is flagged. A photo above it is
flagged "it may not be a saree". A photo whose part map the curator drew is a saree by their
word and is not checked, nor is one worn by a person with a face (`worn`); a model without the
entry checks nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# The open-set signals the rule reads, in their order (model/openset.OpenSetSignals).
from saree_app.model.openset import SIGNALS

FORMAT = "saree-check/1"
# The same rule reading the cloth features' whole picture too (model/cloth.py): tied to that
# model's sha256, as the training look is (model/familiar.py).
FORMAT_CLOTH = "saree-check/2"
NOT_A_SAREE = (
    "it may not be a saree: the model finds less of a saree's make (border, pallu, its "
    "motifs) than in nearly any saree it was checked on; look before trusting the ranking"
)


def worn(person: Any) -> bool:
    """Whether the person models found someone wearing the saree, as the check reads it: a
    person and a face. Such a photo is not checked: on real photos of a drape the part map
    misses the border and the pallu the check looks for (7 of realdev's 43 worn photos were
    flagged when they were), while the person segmenter alone also takes some cloth hung or
    held up for a person (2 of `saree bench openset`'s 60 rendered other textiles)."""
    return bool(person is not None and person.present and person.faces)


def features(
    embedding: np.ndarray,
    part_areas: Sequence[float],
    attribute_probs: Sequence[float],
    signals: Any,
    cloth_whole: np.ndarray | None = None,
) -> np.ndarray:
    """One photo's inputs to the rule: the embedding, the body / border / pallu shares of the
    photo, each attribute's probability (the manifest's order) and the open-set signals of
    SIGNALS (a missing one as 0); then, for a rule that reads them (FORMAT_CLOTH), the cloth
    features of the whole picture."""
    sig = [signals.value(name) for name in SIGNALS]
    blocks = [
        np.asarray(embedding, np.float64).reshape(-1),
        np.asarray(part_areas, np.float64).reshape(-1),
        np.asarray(attribute_probs, np.float64).reshape(-1),
        np.asarray([0.0 if v is None else float(v) for v in sig], np.float64),
    ]
    if cloth_whole is not None:
        blocks.append(np.asarray(cloth_whole, np.float64).reshape(-1))
    return np.concatenate(blocks)


@dataclass(frozen=True)
class SareeCheck:
    """A logistic rule: standardise, weigh, add the bias; above the threshold: not a saree."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    false_alarm: float  # share of the rendered sarees it was set on that lie above it
    # The cloth-features model whose whole picture the rule reads too (FORMAT_CLOTH), or None.
    cloth_sha256: str | None = None

    def score(self, x: np.ndarray) -> np.ndarray:
        """(N,) scores of feature rows (N, D) (or one row): higher is less like a saree."""
        z = (np.atleast_2d(np.asarray(x, np.float64)) - self.mean) / self.scale
        out: np.ndarray = z @ self.weights + self.bias
        return out

    def not_a_saree(self, x: np.ndarray) -> bool:
        """Whether one photo's features lie above the threshold."""
        return bool(self.score(x)[0] > self.threshold)

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """The manifest's "saree_check" entry."""
        cloth = {} if self.cloth_sha256 is None else {"cloth_features_sha256": self.cloth_sha256}
        return {
            "format": FORMAT if self.cloth_sha256 is None else FORMAT_CLOTH,
            **cloth,
            "mean": [round(float(v), 7) for v in self.mean],
            "scale": [round(float(v), 7) for v in self.scale],
            "weights": [round(float(v), 7) for v in self.weights],
            "bias": float(self.bias),
            "threshold": float(self.threshold),
            "false_alarm": float(self.false_alarm),
            **extra,
        }

    @classmethod
    def from_entry(
        cls, entry: Any, dim: int, cloth: tuple[str, int] | None = None
    ) -> SareeCheck | None:
        """The manifest's entry, or None when there is none, it is unreadable, or it was made
        for features of another length than this model's (`dim`): nothing is then flagged.
        `cloth`: the installed cloth-features model's (sha256, whole-picture length), or None;
        a rule that reads the cloth features (FORMAT_CLOTH) needs that very model."""
        if not isinstance(entry, Mapping) or entry.get("format") not in (FORMAT, FORMAT_CLOTH):
            return None
        cloth_sha256 = None
        if entry["format"] == FORMAT_CLOTH:
            if cloth is None or entry.get("cloth_features_sha256") != cloth[0]:
                return None
            cloth_sha256, dim = cloth[0], dim + cloth[1]
        try:
            check = cls(
                mean=np.asarray(entry["mean"], np.float64),
                scale=np.asarray(entry["scale"], np.float64),
                weights=np.asarray(entry["weights"], np.float64),
                bias=float(entry["bias"]),
                threshold=float(entry["threshold"]),
                false_alarm=float(entry["false_alarm"]),
                cloth_sha256=cloth_sha256,
            )
        except (KeyError, TypeError, ValueError):
            return None
        arrays = (check.mean, check.scale, check.weights)
        if any(a.ndim != 1 or a.size != dim or not np.all(np.isfinite(a)) for a in arrays):
            return None
        if np.any(check.scale <= 0) or not np.isfinite([check.bias, check.threshold]).all():
            return None
        return check


def fit(
    sarees: np.ndarray,
    others: np.ndarray,
    held_back: np.ndarray,
    false_alarm: float,
    *,
    ridge: float = 0.01,
    steps: int = 3000,
    cloth_sha256: str | None = None,
) -> SareeCheck:
    """Fit on feature rows of sarees (N, D) and of photos that are not (M, D): a logistic
    regression with a ridge penalty on the standardised features; its threshold set so that
    `false_alarm` of `held_back` sarees (K, D), not fitted on, lie above it. `cloth_sha256`:
    the cloth-features model whose whole picture ends each row, if it does. Raises ValueError
    with too few photos."""
    sarees = np.asarray(sarees, np.float64)
    others = np.asarray(others, np.float64)
    held_back = np.asarray(held_back, np.float64)
    if len(sarees) < 20 or len(others) < 20:
        raise ValueError(
            f"{len(sarees)} sarees and {len(others)} other photos are too few (need 20 of each)"
        )
    if len(held_back) < 20:
        raise ValueError(f"{len(held_back)} held-back sarees are too few to set the threshold")
    if not 0.0 < false_alarm < 0.5:
        raise ValueError("the false-alarm share must be between 0 and 0.5")
    x = np.concatenate([sarees, others])
    y = np.concatenate([np.zeros(len(sarees)), np.ones(len(others))])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-6, scale, 1.0)  # a constant input says nothing: left as it is
    z = (x - mean) / scale
    # Each class weighs as much in the loss, whatever their counts.
    sample = np.where(y == 1, 0.5 / len(others), 0.5 / len(sarees))
    w = np.zeros(z.shape[1])
    b = 0.0
    for _ in range(steps):  # plain gradient descent: the loss is convex and the data small
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = sample * (p - y)
        w -= 0.5 * (z.T @ g + ridge * w)
        b -= 0.5 * float(g.sum())
    check = SareeCheck(mean, scale, w, b, 0.0, false_alarm, cloth_sha256)
    threshold = float(np.quantile(check.score(held_back), 1.0 - false_alarm))
    return dataclasses.replace(check, threshold=threshold)
