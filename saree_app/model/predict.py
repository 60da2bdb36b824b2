"""Predictor: photo -> Prediction (fused ranking, masks, heatmaps, attributes, embeddings)."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from saree_app.imaging import (
    Letterbox,
    PhotoError,
    load_photo,
    preprocess,
    read_photo_file,
    shown,
    unletterbox,
    upright_size,
    working_copy,
)
from saree_app.model import partmap
from saree_app.model.cloth import DECODE_SIDE, ClothFeatures
from saree_app.model.familiar import UNLIKE_TRAINING, TrainingLook
from saree_app.model.manifest import PARTS, ModelError, ModelManifest
from saree_app.model.openset import (
    OpenSetRule,
    OpenSetSignals,
    compute_signals,
    normalised_prototypes,
)
from saree_app.model.person import PersonFound, PersonModels
from saree_app.model.pieces import MAX_ASPECT, THIN_SHARE, Pieces, combine, layout
from saree_app.model.saree_check import NOT_A_SAREE, SIGNALS, SareeCheck, features, worn
from saree_app.model.session import ModelSession

if TYPE_CHECKING:
    from saree_app.knowledge.fusion import CuratorMetadata, FusionResult, FusionWeights
    from saree_app.knowledge.graph import TextileGraph

Photo = str | Path | bytes | Image.Image
# How sure an answer set is meant to be: it holds the right tradition 9 times in 10.
SET_LEVEL = 0.9


def default_model_path() -> Path:
    """The shipped model's manifest: models/saree-model.json."""
    from saree_app.paths import models_dir

    return models_dir() / "saree-model.json"


def readable(term: str) -> str:
    """'PochampallyIkat' -> 'Pochampally Ikat', for when no graph is there to name a term."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", term)


# The side up to which probability maps and heatmaps are computed, then scaled up: 4 pixels to
# each cell of the model's 128-cell part map, 32 to each heatmap cell.
MAP_SIDE = 512
# The side at which the saree region (the person and the photo's colours) is worked out, then
# scaled up to whatever size asks for it.
REGION_SIDE = 384


def _capped(size: tuple[int, int], side: int = 1024) -> tuple[int, int]:
    """`size` shrunk to at most `side` on its longer edge (the model's grid is far coarser)."""
    w, h = size
    shrink = min(1.0, side / max(w, h))
    return max(1, round(w * shrink)), max(1, round(h * shrink))


def _upsized(region: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    """A bool region (made at a capped size) at `size` (w, h), nearest-neighbour."""
    if region is None or region.shape == (size[1], size[0]):
        return region
    return np.asarray(Image.fromarray(region).resize(size, Image.Resampling.NEAREST))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    # In place on the one new array: the same arithmetic as exp(z) / sum, a third of the memory.
    out: np.ndarray = x - x.max(axis=axis, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)
    return out


def _argmax0(maps: np.ndarray) -> np.ndarray:
    """np.argmax(maps, axis=0) as uint8 (the first map on ties), for a few maps: a running
    maximum, map by map, instead of numpy's slow reduction over the leading axis."""
    best = maps[0].copy()
    out = np.zeros(maps.shape[1:], np.uint8)
    for k in range(1, len(maps)):
        np.putmask(out, maps[k] > best, k)
        np.maximum(best, maps[k], out=best)
    if np.isnan(best).any():  # numpy's argmax takes the first NaN: leave those to it
        return np.argmax(maps, axis=0).astype(np.uint8)
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))
    return out


@dataclass(frozen=True)
class PartEvidence:
    """What one part (body, border, pallu) says on its own, and how much of the photo it is."""

    part: str
    ranking: tuple[tuple[str, float], ...]  # (tradition id, probability), best first
    area: float  # share of the photo's pixels the segmentation gives this part


@dataclass(frozen=True)
class AttributeFound:
    """A motif, weave or structural feature, with the model's probability that it is there."""

    term: str
    label: str
    probability: float


@dataclass
class Prediction:
    """Everything the app knows about one photo: the answer, its evidence, its uncertainty.

    Masks and heatmaps are computed when first asked for, at the photo's resolution
    (`photo_size`) or at a `size` the caller gives (an overlay, a thumbnail).
    """

    source: str
    model_sha256: str
    photo_size: tuple[int, int]
    fused: FusionResult
    visual: tuple[tuple[str, float], ...]
    visual_probs: dict[str, float]
    attribute_probs: dict[str, float]
    parts: tuple[PartEvidence, ...]
    attributes: tuple[AttributeFound, ...]
    uncertain: bool
    uncertain_reasons: tuple[str, ...]
    embedding: np.ndarray = field(repr=False)
    part_embeddings: np.ndarray = field(repr=False)
    open_set: OpenSetSignals | None = None
    novelty: float = 0.0
    # The raw grids over the square model input and where the photo sits in it.
    seg_logits: np.ndarray = field(default_factory=lambda: np.zeros((4, 1, 1)), repr=False)
    cam: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1)), repr=False)
    letterbox: Letterbox | None = field(default=None, repr=False)
    labels: tuple[str, ...] = field(default=(), repr=False)
    photo: Image.Image | None = field(default=None, repr=False, compare=False)
    # Who the person models found wearing the saree (model/person.py): the part map and the
    # heatmaps stay inside that person, off the head. None: nobody looked (not installed).
    person: PersonFound | None = field(default=None, repr=False, compare=False)
    # The curator's corrected part map (model/partmap.py: labels over the photo), when there is
    # one: it is the part map shown, the saree region, and what the part evidence pooled under.
    part_map: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Share of the cloth the curator marked that the model had taken for background (its
    # activations there are faint, so that cloth adds little evidence).
    unseen: float = 0.0
    # How many overlapping pieces a photo far longer than wide was read in (model/pieces.py);
    # 1: read whole, as most photos are.
    pieces: int = 1
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    # ---- the cloth features, described when first asked for
    @property
    def cloth_embedding(self) -> np.ndarray | None:
        """How the cloth looks to the ImageNet trunk (model/cloth.py), what teaching compares;
        None when the cloth-features model is not installed.

        Described when first asked for (teaching, the catalogue): a photo's answer does not
        need it, and it is the costliest step (ten passes of the trunk, `saree bench
        classify`). Copies made by `refuse` share it.
        """
        if "cloth" not in self._cache:
            later = self._cache.get("cloth_later")
            if later is None:
                return None
            self._cache["cloth"] = later()
        vector: np.ndarray | None = self._cache["cloth"]
        return vector

    @cloth_embedding.setter
    def cloth_embedding(self, vector: np.ndarray | None) -> None:
        self._cache["cloth"] = vector

    def describe_cloth_later(self, describe: Callable[[], np.ndarray]) -> None:
        """Let `cloth_embedding` be `describe()`, called when it is first asked for."""
        self._cache.pop("cloth", None)
        self._cache["cloth_later"] = describe

    def cloth_whole(self, view: Image.Image) -> np.ndarray | None:
        """The whole-picture cloth features already read for the photo's own checks (the cloth
        likeness, the training look), when `view` is that photo: describing it need not read
        the whole picture again. None otherwise (a worn saree's crop, say)."""
        whole: np.ndarray | None = self._cache.get("cloth_whole")
        return whole if view is self.photo else None

    # ---- maps at photo resolution
    def _guard(self) -> threading.RLock:
        """The lock under which a map both overlays need is made (they are drawn on two
        threads): each such map is made once, not once per thread. Kept in the cache, so the
        copies `refuse` makes, which share the cache, share the lock too."""
        lock: threading.RLock = self._cache.setdefault("lock", threading.RLock())
        return lock

    def _box(self, size: tuple[int, int] | None) -> Letterbox:
        if self.letterbox is None:
            raise ValueError("this prediction carries no maps")
        w, h = size or self.photo_size
        box = self.letterbox
        if (w, h) == (box.width, box.height):
            return box
        # Same content box over the square, only the output size changes.
        return dataclasses.replace(box, width=w, height=h, scale=box.scale * box.width / w)

    def _logits(self, size: tuple[int, int]) -> np.ndarray:
        """The part map's logits over the photo at `size`: its probabilities and its part mask
        are both made from them, resized once."""
        key = ("logits", size)
        if key not in self._cache:
            self._cache[key] = unletterbox(self.seg_logits, self._box(size))
        return self._cache[key]

    def _raw_probs(self, size: tuple[int, int]) -> np.ndarray:
        """The segmentation's own part probabilities at `size`, before the person models."""
        key = ("raw", size)
        if key not in self._cache:
            self._cache[key] = _softmax(self._logits(size), axis=0)
        return self._cache[key]

    def _seg_probs(self, size: tuple[int, int] | None) -> np.ndarray:
        size = size or self.photo_size
        key = ("seg", size)
        if key not in self._cache:
            probs = self._raw_probs(size)
            region = self.saree_region(size)
            if region is not None:
                # Outside the region: background for certain (one pass, not a copy and two
                # masked writes).
                outside = np.zeros((len(probs), 1, 1), probs.dtype)
                outside[0] = 1.0
                probs = np.where(region, probs, outside)
            self._cache[key] = probs
        return self._cache[key]

    def saree_region(self, size: tuple[int, int]) -> np.ndarray | None:
        """H x W bool at `size` (w, h): where the saree can be. When it is worn, the person
        less the head (`worn_region`); and wherever the photo's colours say so, cloth rather
        than the background around it (`cloth_by_colour`). None when neither narrows it (no
        person found, colours that cannot be told apart) and the part map alone decides.
        With a curator's part map: the cloth on it."""
        if self.part_map is not None:
            return self.worn_region(size)
        key = ("region", size)
        if key in self._cache:
            return self._cache[key]
        with self._guard():  # the part overlay and the heatmap's thread both need it
            if key not in self._cache:
                small = _capped(size, REGION_SIDE)
                if small != size:
                    # Made once at the small size, whatever size asks: scaled up from there.
                    self._cache[key] = _upsized(self.saree_region(small), size)
                    return self._cache[key]
                worn = region = self.worn_region(small)
                background = self._raw_probs(small)[0]
                coloured = None
                if self.photo is not None:
                    coloured = cloth_by_colour(self.photo, background)
                    if coloured is not None:
                        region = coloured if region is None else region & coloured
                if worn is not None and region is not None:
                    region = region | spread_beyond(worn, background, coloured)
                self._cache[key] = region
        return self._cache[key]

    def worn_region(self, size: tuple[int, int]) -> np.ndarray | None:
        """H x W bool at `size` (w, h): where the saree can be when it is worn (the person,
        less the head); None when the person models found nobody wearing it, or are not
        installed. With a curator's part map: the cloth on it."""
        key = ("worn", size)
        if key in self._cache:
            return self._cache[key]
        if self.part_map is not None:
            self._cache[key] = partmap.at_size(self.part_map, size) != partmap.BACKGROUND
            return self._cache[key]
        if self.person is None:
            return None
        small = _capped(size, REGION_SIDE)
        if small != size:
            self._cache[key] = _upsized(self.worn_region(small), size)
            return self._cache[key]
        self._cache[key] = self.person.region(small, self._raw_probs(small)[0] < 0.5)
        return self._cache[key]

    @property
    def part_mask(self) -> np.ndarray:
        """H x W uint8 at photo resolution: 0 background, 1 body, 2 border, 3 pallu."""
        return self.part_mask_at(None)

    def part_mask_at(self, size: tuple[int, int] | None) -> np.ndarray:
        """The part mask at `size` (w, h), default the photo's."""
        w, h = size or self.photo_size
        key = ("mask", (w, h))
        if key not in self._cache and self.part_map is not None:
            # The curator's map is shown as drawn, not as the model's coarser grid redraws it.
            self._cache[key] = partmap.at_size(self.part_map, (w, h))
        if key in self._cache:
            return self._cache[key]
        # Made under the lock: both overlays' threads ask for the mask at the same size, and
        # the colour split behind it is the dearest part of it.
        with self._guard():
            if key not in self._cache:
                # Argmax at a modest size, then nearest-neighbour up: a 12-megapixel photo must
                # not cost four full-resolution float maps.
                small = _capped((w, h))
                region = self.saree_region(small)
                # Argmax of logits equals argmax of probabilities: no softmax needed. The
                # logits resized are those the saree region's probabilities come from.
                mask = _argmax0(self._logits(small))
                if region is not None:
                    mask[~region] = 0
                split = self._colour_split(small, mask > 0)
                if split is not None:
                    mask = np.where(mask > 0, split, mask)
                if small != (w, h):
                    mask = np.asarray(
                        Image.fromarray(mask, "L").resize((w, h), Image.Resampling.NEAREST)
                    )
                self._cache[key] = mask
        return self._cache[key]

    def _colour_split(
        self, size: tuple[int, int], cloth: np.ndarray | None = None
    ) -> np.ndarray | None:
        """H x W uint8 at `size` (w, h): the saree's parts as the photo's colours split them
        (`parts_by_colour`), worked out once at the saree region's size and scaled up; None
        without the photo or with too little cloth. `cloth`: where the part mask at `size`
        finds the saree, used when that is the size the split is worked out at."""
        if self.photo is None:
            return None
        # One split a photo, at the photo's own shape and at most the region's size, scaled
        # to whatever size asks: the overlay, the photo view and an export's 12 x 12 grid
        # (too few pixels to count a part's colours from) show the same parts.
        at = _capped(self.photo_size, REGION_SIDE)
        key = ("colour split", at)
        with self._guard():
            if key not in self._cache:
                if cloth is None or at != size:
                    cloth = _argmax0(self._logits(at)) > 0
                    region = self.saree_region(at)
                    if region is not None:
                        cloth &= region
                self._cache[key] = parts_by_colour(self.photo, self._raw_probs(at)[1:], cloth)
        split = self._cache[key]
        if split is None or at == size:
            return split
        up: np.ndarray = np.asarray(
            Image.fromarray(split, "L").resize(size, Image.Resampling.NEAREST)
        )
        return up

    def has_heatmap(self, tradition: str) -> bool:
        """Whether the model knows this tradition (graph-only traditions have no heatmap)."""
        return tradition in self.labels

    def heatmap(self, tradition: str, *, size: tuple[int, int] | None = None) -> np.ndarray:
        """H x W float32 in [0, 1]: where the photo looks like `tradition` more than the others.

        Each cell's class activation for the tradition minus the mean over all traditions
        (evidence for this one rather than for a saree in general), floored at zero and scaled
        by the strongest such value over all traditions: comparable across traditions, so a
        runner-up's map is dimmer than the winner's; then weighted by the part map's
        probability of cloth, so it stays on the saree. Raises KeyError for a tradition the model
        does not know (see `has_heatmap`).
        """
        if tradition not in self.labels:
            raise KeyError(
                f"{tradition} is not one of the model's traditions (ranked from knowledge-graph "
                "evidence only, so it has no heatmap)"
            )
        w, h = size or self.photo_size
        key = ("cam", tradition, (w, h))
        small = _capped((w, h), MAP_SIDE)
        if key not in self._cache and small != (w, h):
            # Drawn at a modest size and scaled up once: the maps are far coarser than a
            # large overlay, and each full-size map costs more than the whole answer.
            heat = Image.fromarray(self.heatmap(tradition, size=small), "F")
            up = np.asarray(heat.resize((w, h), Image.Resampling.BILINEAR))
            self._cache[key] = np.clip(up, 0.0, 1.0).astype(np.float32, copy=False)
        if key not in self._cache:
            if "contrast" not in self._cache:
                contrast = np.maximum(self.cam - self.cam.mean(axis=0, keepdims=True), 0.0)
                self._cache["contrast"] = contrast / max(float(contrast.max()), 1e-12)
            grid = self._cache["contrast"][self.labels.index(tradition)]
            heat = unletterbox(grid, self._box((w, h))) * self._cloth((w, h))
            # float32 already (both factors are): clipped where it lies, no copies.
            self._cache[key] = np.clip(heat, 0.0, 1.0, out=heat).astype(np.float32, copy=False)
        return self._cache[key]

    def _cloth(self, size: tuple[int, int]) -> np.ndarray:
        """H x W: the part map's probability that a pixel is saree cloth (any part).

        The heatmap is evidence about the saree: on real photos the class activations also
        light up faces, arms and walls (`saree bench real`: 63% of the heat on the saree in
        worn photos), so it is weighted by where the part map sees cloth.
        """
        return self._prob_map(("cloth", size), size, self._cloth_probs)

    def _cloth_probs(self, size: tuple[int, int]) -> np.ndarray:
        """1 - the background probability of `_seg_probs`, from that map alone: outside the
        saree region none (background for certain), inside 1 - the segmentation's own."""
        cloth = 1.0 - self._raw_probs(size)[0]
        region = self.saree_region(size)
        return cloth if region is None else np.where(region, cloth, np.float32(0.0))

    def part_heatmap(self, part: str, *, size: tuple[int, int] | None = None) -> np.ndarray:
        """H x W float32 in [0, 1]: the segmentation's probability of `part` at each pixel."""
        if part not in PARTS:
            raise KeyError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
        w, h = size or self.photo_size
        k = 1 + PARTS.index(part)
        return self._prob_map(("part", part, (w, h)), (w, h), lambda at: self._seg_probs(at)[k])

    def _prob_map(
        self, key: Any, size: tuple[int, int], pick: Callable[[tuple[int, int]], np.ndarray]
    ) -> np.ndarray:
        """One map of the part probabilities (`pick(small)`: the map at a small size), at
        `size`, clipped to [0, 1], cached.

        Probabilities at a modest size, then the one map scaled up: a 12-megapixel photo must
        not cost a softmax over four full-resolution maps.
        """
        if key not in self._cache:
            small = _capped(size, MAP_SIDE)
            # No copy: the map picked is clipped into a new array below.
            prob = pick(small).astype(np.float32, copy=False)
            if small != size:
                prob = np.asarray(
                    Image.fromarray(prob, "F").resize(size, Image.Resampling.BILINEAR)
                )
            self._cache[key] = np.clip(prob, 0.0, 1.0)
        return self._cache[key]

    # ---- re-fusion and export
    def refuse(
        self,
        graph: TextileGraph | None,
        *,
        metadata: CuratorMetadata | None = None,
        fewshot: Mapping[str, float] | None = None,
        weights: FusionWeights | None = None,
        places: Mapping[str, tuple[str | None, str | None]] | None = None,
    ) -> Prediction:
        """The same visual outputs fused again (new curator metadata, few-shot scores, graph);
        `places`: where the curator's own traditions are from (fusion.fuse)."""
        fused = fuse_visual(
            graph,
            self.visual_probs,
            self.attribute_probs,
            metadata=metadata,
            fewshot=fewshot,
            weights=weights,
            places=places,
        )
        reasons = [r for r in self.uncertain_reasons if not r.startswith(_ZERO_SHOT)]
        reasons += _zero_shot_reason(fused)
        return dataclasses.replace(
            self,
            fused=fused,
            uncertain=bool(reasons),
            uncertain_reasons=tuple(reasons),
            _cache=self._cache,
        )

    @property
    def top(self) -> str:
        """The fused answer's tradition id."""
        return str(self.fused.ranking[0].tradition)

    def is_taught(self) -> bool:
        """Whether the answer was re-ranked with taught evidence (the curator's confirmed
        photos)."""
        return any(e.kind == "fewshot" for r in self.fused.ranking for e in r.evidence)

    def looks_unlike_training(self) -> bool:
        """Whether the photo is flagged as unlike the photos the model learnt from."""
        from saree_app.model.familiar import UNLIKE_TRAINING

        return UNLIKE_TRAINING in self.uncertain_reasons

    def answer_set(self, level: float = SET_LEVEL) -> list[str]:
        """The traditions that together hold the answer with probability `level`, by the
        model's own calibration (see `answer_set`)."""
        return answer_set({r.tradition: r.probability for r in self.fused.ranking}, level)

    def to_dict(self, *, top: int | None = None) -> dict[str, Any]:
        """JSON-able summary (no masks, heatmaps or embeddings)."""
        ranking = self.fused.ranking[:top] if top else self.fused.ranking
        return {
            "source": self.source,
            "model_sha256": self.model_sha256,
            "photo_size": list(self.photo_size),
            "tradition": self.top,
            "label": self.fused.ranking[0].label,
            "probability": round(float(self.fused.ranking[0].probability), 6),
            "uncertain": self.uncertain,
            "uncertain_reasons": list(self.uncertain_reasons),
            # Only after teaching: probabilities are softmax(score / spread) (FusionWeights).
            **({"spread": self.fused.spread} if self.fused.spread != 1.0 else {}),
            # Only for a photo far longer than wide, read a piece at a time (model/pieces.py).
            **({"read_in_pieces": self.pieces} if self.pieces > 1 else {}),
            "ranking": [
                {
                    "tradition": r.tradition,
                    "label": r.label,
                    "probability": round(float(r.probability), 6),
                    "score": round(float(r.score), 6),
                    "known_to_model": bool(r.known_to_model),
                    "evidence": [
                        {
                            "kind": e.kind,
                            "term": e.term,
                            "path": list(e.path),
                            "typicality": e.typicality,
                            "observed": e.observed,
                            "contribution": e.contribution,
                            "text": e.text,
                        }
                        for e in r.evidence
                    ],
                }
                for r in ranking
            ],
            "visual": [[t, round(p, 6)] for t, p in (self.visual[:top] if top else self.visual)],
            "states": [
                {"region": s.region, "label": s.label, "probability": round(s.probability, 6)}
                for s in self.fused.states
            ],
            "cultural_regions": [
                {"region": s.region, "label": s.label, "probability": round(s.probability, 6)}
                for s in self.fused.cultural_regions
            ],
            # Whose part map the part evidence was pooled under: the model's, or the curator's.
            "part_map": "model" if self.part_map is None else "curator",
            "parts": [
                {
                    "part": p.part,
                    "area": round(p.area, 6),
                    "ranking": [[t, round(v, 6)] for t, v in p.ranking[: top or 5]],
                }
                for p in self.parts
            ],
            "attributes": [
                {"term": a.term, "label": a.label, "probability": round(a.probability, 6)}
                for a in self.attributes
            ],
            "open_set": None
            if self.open_set is None
            else {**self.open_set.to_dict(), "novelty": round(self.novelty, 6)},
            # calibrated_on 0: by the model's own calibration, not on a curator's photos
            "answer_set": {
                "traditions": self.answer_set(),
                "level": SET_LEVEL,
                "calibrated_on": 0,
                # Its calibration, made on renders, does not hold for this photo: no level is
                # claimed for it in words (knowledge.words.answer_set_words).
                **({"unlike_training": True} if self.looks_unlike_training() else {}),
            },
        }


# `cloth_by_colour`: cells the part map is this sure of teach the two colour models, and
# each needs at least COLOUR_SEEDS of the photo to teach them at all.
COLOUR_SURE = 0.9
COLOUR_SEEDS = 0.02
COLOUR_LEVELS = 8  # per channel: 512 colour bins, coarse enough to fill from one photo


def cloth_by_colour(photo: Image.Image, background: np.ndarray) -> np.ndarray | None:
    """H x W bool, at the shape of `background` (the part map's probability of background):
    where the cloth is once the photo's own colours are heard too; None when the part map is
    not sure enough of either side to learn their colours.

    The part map is pooled at a sixteenth of its input, and on real photos it paints a rim of
    floor, sheet or wall around a saree laid flat or folded as border (`saree bench real`). A
    saree and the surface under it are mostly told apart by colour, and each photo shows
    both: a colour histogram of what the part map is sure is cloth and one of what it is sure
    is background give, at every pixel, how much likelier its colour is on the cloth, and
    that likelihood ratio is added to the part map's own odds (naive Bayes, no weight
    chosen). A colour both sides share leaves the part map's say as it was. Measured
    (`saree bench real`, the 60 realdev photos with part labels): background painted as saree
    9.1% -> 8.1% (flat 16.9% -> 3.7%, folded 18.6% -> 16.8%, close-ups 45% -> 30%, worn 7.4%
    -> 7.0%), heatmap on the saree 88.1% -> 88.6% (folded 84.4% -> 85.0%), mIoU 0.368 ->
    0.369; on 72 rendered photos through the app, part mIoU 0.697 -> 0.694. About 5 ms.
    """
    h, w = background.shape
    bins = _colour_bins(photo, (w, h))
    sure_bg = background > COLOUR_SURE
    sure_cloth = background < 1.0 - COLOUR_SURE
    if sure_bg.mean() < COLOUR_SEEDS or sure_cloth.mean() < COLOUR_SEEDS:
        return None
    n = COLOUR_LEVELS**3
    # One count added to every bin: a colour never seen on one side is unlikely there, not
    # impossible.
    on_bg = np.bincount(bins[sure_bg], minlength=n) + 1.0
    on_cloth = np.bincount(bins[sure_cloth], minlength=n) + 1.0
    ratio = np.log(on_cloth / on_cloth.sum()) - np.log(on_bg / on_bg.sum())
    p = np.clip(1.0 - background, 1e-4, 1.0 - 1e-4)
    return np.asarray(np.log(p / (1.0 - p)) + ratio[bins] > 0.0, dtype=bool)


def _colour_bins(photo: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """H x W int64 at `size` (w, h): each pixel's colour bin (COLOUR_LEVELS a channel)."""
    w, h = size
    rgb = photo if photo.mode == "RGB" else photo.convert("RGB")
    # A box-filtered integer shrink, then nearest: a fifth of a bilinear resize's time, and
    # the same colours to count.
    shrunk = rgb.reduce(max(1, min(rgb.width // w, rgb.height // h)))
    pixels = np.asarray(shrunk.resize((w, h), Image.Resampling.NEAREST), dtype=np.int64)
    q = pixels // (256 // COLOUR_LEVELS)
    bins: np.ndarray = (q[..., 0] * COLOUR_LEVELS + q[..., 1]) * COLOUR_LEVELS + q[..., 2]
    return bins


# `parts_by_colour`: rounds of learning each part's colours from the split and splitting again;
# the share of each part's colour likelihood spread evenly over all colours; the side it works
# at (every other pixel or fewer of a map at REGION_SIDE: the colours of a saree's parts are as
# well counted from a quarter of its pixels, for a quarter of the time); the radius, in pixels
# at that side, over which the split is then averaged.
PART_COLOUR_ROUNDS = 3
PART_COLOUR_EVEN = 0.01
PART_COLOUR_SIDE = 192
PART_COLOUR_RADIUS = 2


def parts_by_colour(photo: Image.Image, parts: np.ndarray, cloth: np.ndarray) -> np.ndarray | None:
    """H x W uint8 at the shape of `cloth` (1 body, 2 border, 3 pallu, at every pixel): the part
    map's split of the saree into its parts once the photo's own colours are heard too; None
    when there is too little cloth to learn colours from.

    `parts`: 3 x H x W, the part map's probabilities of body, border and pallu; `cloth`: where
    the saree is. On real photos the part map finds the cloth far better than it splits it (on
    realdev's labelled photos the saree against background IoU is 0.74, body, border and pallu
    0.35, 0.22 and 0.18), while a saree's border and pallu are mostly woven in other colours
    than its body. Each part's colour histogram is counted over the cloth, each pixel weighed
    by how likely the split makes it that part; the split is then the part map's probability
    times that colour's likelihood for the part (naive Bayes, no weight chosen), and learnt
    again from the new split (expectation-maximisation, PART_COLOUR_ROUNDS rounds); last,
    averaged over a small window, since a single thread of zari is not a border. Unlike
    counting only the cells the part map is sure of (tried 2026-12-07 i: within the noise), it
    learns from the whole saree, which the part map is rarely sure of a real pallu in. Measured
    on realdev: see the model card, 2026-12-07 k.
    """
    h, w = cloth.shape
    step = max(1, -(-max(h, w) // PART_COLOUR_SIDE))
    on = cloth[::step, ::step]
    if on.sum() < max(16, COLOUR_SEEDS * on.size):
        return None
    sh, sw = on.shape
    bins = _colour_bins(photo, (sw, sh))
    n = COLOUR_LEVELS**3
    picked = parts[:, ::step, ::step].astype(np.float32)
    prior = picked / np.maximum(picked.sum(axis=0), np.float32(1e-6))
    seen = bins[on]
    split = prior[:, on]
    for _ in range(PART_COLOUR_ROUNDS):
        counts = np.stack([np.bincount(seen, weights=s, minlength=n) for s in split])
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-9)
        # Mixed with an even spread: a colour a part was never seen in is unlikely there, not
        # impossible; and a colour every part shows alike (a saree of one colour) leaves the
        # part map's split as it was, whatever each part's size (a count added to every bin
        # weighed against the smaller parts).
        likely = ((1.0 - PART_COLOUR_EVEN) * shares + PART_COLOUR_EVEN / n).astype(np.float32)
        split = prior[:, on] * likely[:, seen]
        split /= split.sum(axis=0, keepdims=True)
    # Every pixel, not the cloth alone: a caller may cut the cloth finer at a larger size.
    every = prior * likely[:, bins]
    every /= np.maximum(every.sum(axis=0, keepdims=True), np.float32(1e-12))
    body, border, pallu = (_box_mean(m, PART_COLOUR_RADIUS) for m in every)
    small = np.where(body >= border, 1, 2).astype(np.uint8)
    small[pallu > np.maximum(body, border)] = 3
    out: np.ndarray = small.repeat(step, axis=0).repeat(step, axis=1)[:h, :w]
    return out


def _box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """The mean over a (2 radius + 1) square window at each pixel, edges repeated."""
    n = 2 * radius + 1
    # Summed in float64: in float32 the running sums lose the last digits far from the
    # corner, and a near tie between two parts would be settled by where a pixel lies.
    padded = np.pad(values.astype(np.float64), radius, mode="edge")
    c = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    c[1:, 1:] = padded.cumsum(axis=0).cumsum(axis=1)
    out: np.ndarray = (c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]) / (n * n)
    return out


# `spread_beyond`: cloth the part map is at least this sure of (background under 1 - SPREAD_SURE)
# counts outside the person, in the lowest (1 - SPREAD_FROM) of the person's height.
SPREAD_SURE = 0.95
SPREAD_FROM = 0.6


def spread_beyond(
    person: np.ndarray, background: np.ndarray, coloured: np.ndarray | None
) -> np.ndarray:
    """H x W bool: saree cloth beyond the person who wears it, low down, where a pallu is spread
    on the floor before a mannequin or held out in the hands, or a skirt flares wider than the
    person segmenter's outline; nothing elsewhere.

    The person models keep walls, doors and furniture off the part map, but they take the
    person, not the cloth: on a mannequin with its pallu fanned out on the floor, or a model
    holding hers out, most of the saree lies outside the person (`saree bench real`: the
    person outline lost 487 of the 2,426 saree cells of realdev's 43 worn photos, the part map
    alone 282). Cloth the part map is sure of, in the photo's cloth colours (`coloured`, from
    `cloth_by_colour`), below SPREAD_FROM of the person's height and joined to the person, is
    the saree too. Without the colours (None: the part map too sure of cloth everywhere, or of
    nothing, to learn them) nothing is added: a wall the part map takes for cloth would be.
    Measured on realdev's 60 labelled photos (`saree bench real`): see the model card,
    2026-12-07 j.
    """
    rows = np.flatnonzero(person.any(axis=1))
    if coloured is None or rows.size == 0:
        return np.zeros_like(person)
    sure = (background < 1.0 - SPREAD_SURE) & coloured
    below = np.zeros_like(person)
    below[int(rows[0] + SPREAD_FROM * (rows[-1] - rows[0])) :] = True
    candidate = sure & below & ~person
    if not candidate.any():
        return candidate
    return joined(person, candidate | person) & candidate


def joined(seed: np.ndarray, allowed: np.ndarray, factor: int = 4) -> np.ndarray:
    """H x W bool: the pixels of `allowed` connected to `seed` through `allowed` (4-neighbour),
    traced at 1 / `factor` of the size (a fraction of a millisecond at 384 px, where a trace
    at full size could take tens) and kept at full size where `allowed` holds."""
    h, w = allowed.shape
    size = (max(1, w // factor), max(1, h // factor))

    def shrunk(mask: np.ndarray, majority: bool) -> np.ndarray:
        img = Image.fromarray(mask.astype(np.uint8) * 255, "L").resize(size, Image.Resampling.BOX)
        arr = np.asarray(img)
        return arr >= 128 if majority else arr > 0

    start = shrunk(seed, majority=False)
    through = shrunk(allowed, majority=True) | start
    reached = start.copy()
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= through
        if np.array_equal(grown, reached):
            break
        reached = grown
    up = Image.fromarray(reached.astype(np.uint8) * 255, "L").resize(
        (w, h), Image.Resampling.NEAREST
    )
    out: np.ndarray = (np.asarray(up) > 0) & allowed
    return out


def cloth_view(photo: Image.Image, where: Prediction | PersonFound | None) -> Image.Image:
    """What the cloth features look at: the photo, cropped to the saree when it is worn.

    Someone wearing a saree stands in a room, and the face, the walls and the floor would
    otherwise weigh as much as the cloth in the comparison teaching makes (`saree bench real`:
    cropping raised the nearest-example match on worn photos by 5-7 points). `where` is the
    photo's prediction (its saree region, which knows how much cloth the part map sees) or,
    without one, what the person models found.
    """
    w, h = photo.size
    small = _capped((w, h), 384)
    if isinstance(where, Prediction):
        # The person, not the colours: the box teaching compares was measured on this crop,
        # and a saree laid flat is most of its photo anyway.
        region = where.worn_region(small)
    elif isinstance(where, PersonFound):
        region = where.region(small)
    else:
        region = None
    if region is None or not region.any():
        return photo
    ys, xs = np.nonzero(region)
    sw, sh = small
    box = (
        int(xs.min() * w / sw),
        int(ys.min() * h / sh),
        max(int(np.ceil((xs.max() + 1) * w / sw)), int(xs.min() * w / sw) + 1),
        max(int(np.ceil((ys.max() + 1) * h / sh)), int(ys.min() * h / sh) + 1),
    )
    return photo.crop(box)


def describe_cloth(cloth: ClothFeatures, photo: Image.Image, pred: Prediction) -> np.ndarray:
    """The cloth features of `photo` (as decoded), cropped to the saree `pred` found."""
    view = cloth_view(photo, pred)
    return cloth.describe_many([view], [pred.cloth_whole(view)])[0]


def answer_set(probabilities: Mapping[str, float], level: float = SET_LEVEL) -> list[str]:
    """The most probable traditions until their probabilities add up to `level`.

    This trusts the model's own calibration, made on rendered sarees; on real photos it is
    overconfident (`saree bench real` measures how often the set holds the right tradition).
    Once a curator has confirmed enough photos, teaching calibrates sets on them instead
    (collection/fewshot.AnswerSets).
    """
    out, total = [], 0.0
    for t, p in sorted(probabilities.items(), key=lambda kv: -kv[1]):
        out.append(t)
        total += p
        if total >= level:
            break
    return out


_ZERO_SHOT = "the best match, "


# A photo whose every pixel is grey: an archival black-and-white print, a scan, or not a
# photograph of cloth at all. Traditions are told apart partly by colour (a Kasavu's cream and
# gold, a Paithani's contrast pallu), and the model learned them in colour, so its ranking of a
# colourless photo is not to be trusted. Real colour photos of sarees, even of white ones, have
# some saturated pixels (a border, a zari line, skin, the room): the threshold is on the 99th
# percentile of saturation, far below any colour photo measured (`saree bench real`: 0.18 at
# the lowest) and above the noise of a scanned grey print.
NO_COLOUR = (
    # "Almost", and the subject named: the check reads only how colourful the pixels are, so a
    # colour photo of a white wall or plain white cloth is flagged too, and "black and white"
    # was untrue of it.
    "the photo has almost no colour (black and white, or a white, grey or black subject): the "
    "model tells traditions apart partly by colour, so this ranking rests on pattern alone"
)
NO_COLOUR_SATURATION = 0.05
# A photo of something else (a room, a face, an object): a general ImageNet classifier sees no
# cloth or garment in it (model/cloth.py, `likeness`). The saree model ranks traditions for
# whatever it is shown, so without this such a photo could come out as a confident answer.
NOT_CLOTH = (
    "the photo does not look like cloth: it may not show a saree at all, or too little of one"
)


TOO_SMALL_START = "the photo is only "


def too_small(size: tuple[int, int], model_side: int, *, pieces: bool = True) -> str | None:
    """Why a photo is too small to read, or None. Under half the side the model reads photos
    at, it is enlarged more than twice before the model sees it (a thumbnail, a photo cut
    from a page): no weave or motif survives that, and the ranking rests on colour alone.

    A photo more than THIN_SHARE times longer than wide (a whole saree laid out flat) is read
    in pieces of its own width (model/pieces.py), each enlarged to the model's square: it is
    too small when that width is under half the square. More than MAX_ASPECT times longer
    than wide, it is not read in pieces and is too thin: fitted into the square whole, its
    width comes to a few cells of the model's grid (8 x 8 at 256 px), too few to tell border
    from body across it. `pieces` False: no photo is read in pieces, and every photo more
    than THIN_SHARE times longer than wide is too thin."""
    w, h = size
    if max(w, h) * 2 < model_side:
        return (
            f"{TOO_SMALL_START}{w} x {h} pixels, too small to show the weave and motifs (the "
            f"model reads photos at {model_side} pixels): use a larger photo if there is one"
        )
    narrow = round(model_side * min(w, h) / max(w, h))
    if narrow * THIN_SHARE >= model_side:
        return None
    if pieces and layout(size, model_side) is not None:  # as `Predictor._prepare` decides
        if min(w, h) * 2 >= model_side:
            return None
        return (
            f"{TOO_SMALL_START}{min(w, h)} pixels across ({w} x {h}), too narrow to show the "
            f"weave and motifs when read a piece at a time (the model reads each piece at "
            f"{model_side} pixels): use a larger photo if there is one"
        )
    beyond = f", more than the {MAX_ASPECT:.0f} times the app reads in pieces" if pieces else ""
    across = f"{narrow} pixels" if narrow >= 1 else "under a pixel"
    return (
        f"{TOO_SMALL_START}{across} across once fitted into the {model_side}-pixel "
        f"square the model reads ({w} x {h}, {max(w, h) / min(w, h):.1f} times longer than "
        f"wide{beyond}), too thin to show the border, pallu and body apart: a photo of part "
        "of the saree (its pallu, a stretch of border and body) may read better"
    )


def without_colour(photo: Image.Image) -> bool:
    """Whether a photo is black and white (or so nearly that no colour can be read)."""
    if photo.mode in ("1", "L", "LA", "I", "I;16", "F"):
        return True
    rgb = photo if photo.mode == "RGB" else photo.convert("RGB")
    # A box average to about 256 px: no copy of the photo, and a tenth of a thumbnail's time.
    small = rgb.reduce(max(1, max(rgb.size) // 256))
    a = np.asarray(small)
    # Channel by channel: numpy's max over a 3-long last axis is many times slower.
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    saturation = spread.astype(np.float32) / 255.0
    return float(np.percentile(saturation, 99)) < NO_COLOUR_SATURATION


def _zero_shot_reason(fused: FusionResult) -> list[str]:
    best = fused.ranking[0]
    if best.known_to_model:
        return []
    return [
        f"{_ZERO_SHOT}{best.label}, is not one of the traditions the model was trained on: "
        "it is ranked from motif, weave and structure evidence in the knowledge graph only"
    ]


def fuse_visual(
    graph: TextileGraph | None,
    visual: Mapping[str, float],
    attributes: Mapping[str, float],
    *,
    metadata: CuratorMetadata | None = None,
    fewshot: Mapping[str, float] | None = None,
    weights: FusionWeights | None = None,
    explain: bool = True,
    places: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> FusionResult:
    """Fuse through the graph; without a graph, the visual ranking alone in the same shape.
    `explain` False: the evidence without words (fusion.fuse)."""
    from saree_app.knowledge import fusion

    if graph is not None:
        kwargs: dict[str, Any] = {
            "metadata": metadata,
            "fewshot": fewshot,
            "explain": explain,
            "places": places,
        }
        if weights is not None:
            kwargs["weights"] = weights
        return fusion.fuse(graph, visual, attributes, **kwargs)
    ranked = sorted(visual.items(), key=lambda kv: -kv[1])
    return fusion.FusionResult(
        ranking=tuple(
            fusion.RankedTradition(
                tradition=t,
                label=readable(t),
                probability=float(p),
                score=float(np.log(max(p, 1e-12))),
                known_to_model=True,
                evidence=(),
            )
            for t, p in ranked
        ),
        states=(),
        cultural_regions=(),
    )


def _weights_from(manifest: ModelManifest) -> FusionWeights | None:
    if not manifest.fusion:
        return None
    from saree_app.knowledge import fusion

    cls = fusion.FusionWeights
    maker = getattr(cls, "from_dict", None)
    try:
        if callable(maker):
            made: FusionWeights = maker(manifest.fusion)
            return made
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in manifest.fusion.items() if k in names})
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelError(manifest.path, f'"fusion" weights cannot be read ({exc})') from exc


@dataclass
class _Loaded:
    source: str
    array: np.ndarray
    box: Letterbox
    photo: Image.Image
    photo_size: tuple[int, int]
    # The photo for the person models and the colour check: `working_copy`.
    small: Image.Image
    # What the small models beside the main one found (`Predictor._side`), when read ahead:
    # on a decode thread, or beside the main model's run, so the cores are kept busy.
    side: _Side | None = None
    # A photo far longer than wide, read in pieces (model/pieces.py): `array` is then one
    # square a piece (N x 3 x S x S) and `box` the canvas their grids are laid on.
    pieces: Pieces | None = None

    @property
    def rows(self) -> np.ndarray:
        """The model's input for this photo: one row, or one a piece."""
        return self.array if self.pieces is not None else self.array[None]


_Batch = tuple[
    list[tuple[Path, "_Loaded | PhotoError"]], dict[int, "Prediction"], "Future[None] | None"
]


def _handed_out(
    group: list[tuple[Path, _Loaded | PhotoError]],
    results: dict[int, Prediction],
    described: Future[None] | None,
) -> Iterator[tuple[Path, Prediction | PhotoError]]:
    """A batch's photos in input order, once their close-ups have been read (their failure,
    if any, raised here)."""
    if described is not None:
        described.result()
    for i, (p, item) in enumerate(group):
        yield (p, item) if isinstance(item, PhotoError) else (p, results[i])


@dataclass(frozen=True)
class _Side:
    """The photo as the person models and the cloth checks see it: they read only the photo,
    not the main model's outputs, so they can run while the main model does."""

    person: PersonFound | None
    # The cloth features' whole picture (ClothFeatures.whole), and whether the photo does not
    # look like cloth (ClothFeatures.not_cloth, from that picture's likeness).
    whole: np.ndarray | None
    not_cloth: bool
    # Black and white, or so nearly that no colour can be read (`without_colour`).
    no_colour: bool


class Predictor:
    """Photos in, explained predictions out; one verified model session, reused.

    `model`: the manifest (.json) or the .onnx beside it (default: the shipped model).
    `graph`: the knowledge graph for fusion; by default loaded from ontology/, and when it
    cannot be loaded the answer is the visual ranking alone (see `graph_message`).
    """

    def __init__(
        self,
        model: Path | str | None = None,
        graph: TextileGraph | None = None,
        threads: int | None = None,
        *,
        providers: list[str] | None = None,
        load_graph: bool = True,
        decode_workers: int | None = None,
        spin: bool = False,
        cloth: ClothFeatures | bool = True,
        person: PersonModels | bool = True,
        pieces: bool = True,
    ) -> None:
        # A photo far longer than wide is read in overlapping pieces (model/pieces.py); False:
        # fitted whole into the model's square, as before (`saree bench pieces` compares them).
        self.read_in_pieces = pieces
        # Where the small models read a photo while the main one does (`_run_beside`).
        self._side_pool = ThreadPoolExecutor(1, thread_name_prefix="saree-side")
        path = Path(model) if model is not None else default_model_path()
        if model is None and not path.exists():
            raise ModelError(
                path,
                "the default model is missing; reinstall the app, or give a model with --model",
            )
        self.manifest = ModelManifest.load(path)
        # No spin-waiting between runs by default: on a small CPU the decode threads and the
        # overlay drawing need those cores more than the next run needs a fast wake-up.
        self.session = ModelSession(self.manifest, providers, threads, spin=spin)
        self.graph_message: str | None = None
        if graph is None and load_graph:
            from saree_app.knowledge.graph import load_graph_or_none

            graph, self.graph_message = load_graph_or_none()
        self.graph = graph
        self.weights = _weights_from(self.manifest) if graph is not None else None
        training = self.manifest.raw.get("training")
        self.open_set_rule = OpenSetRule.from_manifest(
            self.manifest.open_set, training if isinstance(training, dict) else None
        )
        self._prototypes = normalised_prototypes(self.manifest.prototypes)
        self._labels = self.manifest.labels
        self._decode_workers = decode_workers or min(4, os.cpu_count() or 2)
        # The cloth features teaching compares (True: the installed ones, if any). A broken
        # install costs teaching its better features, not the answers: said, not raised.
        self.cloth: ClothFeatures | None = None
        self.cloth_message: str | None = None
        if isinstance(cloth, ClothFeatures):
            self.cloth = cloth
        elif cloth:
            try:
                self.cloth = ClothFeatures.shipped()
            except ModelError as exc:
                self.cloth_message = str(exc)
        # Where the photos the model learnt from lie for the cloth features (model/familiar.py):
        # None without either, and then no photo is flagged for looking unlike them.
        self.look = TrainingLook.from_entry(
            self.manifest.raw.get("training_look"),
            self.cloth.sha256 if self.cloth is not None else None,
        )
        # Whether the photo is a saree at all, from the model's own outputs (model/saree_check.py):
        # None without the manifest's entry, and then nothing is flagged for it.
        self.saree_check = SareeCheck.from_entry(
            self.manifest.raw.get("saree_check"),
            self.manifest.embedding_dim + len(PARTS) + len(self.manifest.attributes) + len(SIGNALS),
            (self.cloth.sha256, self.cloth.dim) if self.cloth is not None else None,
        )
        # The person models that keep the part map and heatmaps on a worn saree (True: the
        # installed ones, if any); a broken install is said, the part map is then the model's.
        self.person: PersonModels | None = None
        self.person_message: str | None = None
        if isinstance(person, PersonModels):
            self.person = person
        elif person:
            try:
                self.person = PersonModels.shipped()
            except ModelError as exc:
                self.person_message = str(exc)

    # ---- labels
    def label(self, term: str) -> str:
        """A term's English label (from the graph when there is one)."""
        if self.graph is not None:
            try:
                label = str(self.graph.label(term))
            except (KeyError, ValueError):
                label = term
            if label != term:  # the graph answers an unknown term with the id itself
                return label
        return readable(term)

    # ---- loading
    def _load(self, photo: Photo, name: str | None = None, *, side: bool = False) -> _Loaded:
        """Decode and prepare one photo; `side`: the small models read it too (`_side`)."""
        prep = self.manifest.preprocessing
        if isinstance(photo, Image.Image):
            img = photo if photo.mode == "RGB" else photo.convert("RGB")
            size = img.size
            pieces = self.pieces_of(size)
            label = name or "<image>"
        else:
            if isinstance(photo, bytes):
                data, label = photo, name or "<photo data>"
            else:
                label = shown(name or photo)
                data = self._read(Path(photo), label)
            # The cloth features look at tiles of the photo: decode it large enough for them.
            target = max(prep.size, DECODE_SIDE) if self.cloth is not None else prep.size
            header = upright_size(data)
            pieces = self.pieces_of(header) if header is not None else None
            if pieces is not None:
                # Read in pieces of its own width: decoded with that width at least the model's
                # side (the decode keeps a long side of at most four times `target`).
                target = max(target, math.ceil(prep.size * max(pieces.size) / pieces.side / 4))
            img = load_photo(data, target=target, name=label)
            size = header or img.size
        array, box = self._prepare(img, pieces)
        # The cloth checks' whole picture is made by `_side`, where they read it: beside the
        # main model's run for one photo (whose cores it leaves partly idle: 2 ms off a 12-MP
        # photo's wait, `saree bench classify`), on the decode thread in `predict_many`.
        loaded = _Loaded(label, array, box, img, size, working_copy(img), pieces=pieces)
        if side:
            loaded.side = self._side(loaded)
        return loaded

    def pieces_of(self, size: tuple[int, int]) -> Pieces | None:
        """How a photo of `size` (its own, upright) is read in pieces (model/pieces.py); None
        when it is read whole. Decided on the photo's own size, as `too_small` decides what to
        say of it: a JPEG decoded smaller rounds its sides up, and would cross the line at a
        different place."""
        return layout(size, self.manifest.preprocessing.size) if self.read_in_pieces else None

    def _prepare(self, img: Image.Image, pieces: Pieces | None) -> tuple[np.ndarray, Letterbox]:
        """The model's input for a decoded photo: letterboxed whole, or, read in `pieces`, one
        square a piece and the canvas their grids are laid on."""
        prep = self.manifest.preprocessing
        if pieces is None:
            return preprocess(img, prep)
        rows = [preprocess(crop, prep)[0] for crop in pieces.crops(img)]
        return np.stack(rows), pieces.canvas(prep.size)

    def _combined(
        self, loaded: _Loaded, out: Mapping[str, np.ndarray], start: int = 0
    ) -> dict[str, np.ndarray]:
        """The model's outputs for `loaded` from a run that began at row `start`: its own row
        as it is, or its pieces' rows put together into one (model/pieces.combine)."""
        if loaded.pieces is None:
            return {name: value[start : start + 1] for name, value in out.items()}
        n = len(loaded.pieces.offsets)
        rows = {name: value[start : start + n] for name, value in out.items()}
        return combine(rows, loaded.pieces, self.manifest.preprocessing.size)

    def _side(self, loaded: _Loaded, *, person: bool = True) -> _Side:
        """What the small models beside the main one find in the photo (`person`: the person
        models too), and whether it has colour. They read the photo only, not the main
        model's outputs."""
        found = self.person.find(loaded.small) if person and self.person is not None else None
        whole: np.ndarray | None = None
        likeness: float | None = None
        not_cloth = False
        if self.cloth is not None:
            # One run of the cloth-features model on the whole picture gives both checks (and
            # the first block of the cloth features, `Prediction.cloth_whole`).
            if loaded.pieces is None:
                whole, likeness = self.cloth.whole(loaded.photo)
                not_cloth = self.cloth.not_cloth(loaded.photo, likeness)
            else:
                whole, not_cloth = self.cloth.whole_in_pieces(loaded.pieces.crops(loaded.photo))
        return _Side(found, whole, not_cloth, without_colour(loaded.small))

    def _run_beside(self, loaded: _Loaded, *, person: bool = True) -> dict[str, np.ndarray]:
        """The main model's run on one photo, the small models' (`_side`) on another thread
        meanwhile: the main model keeps two cores only partly busy (its depthwise layers),
        and the small models fill the gaps (a 12-MP photo's four passes and the small models:
        48.7 ms one after the other, 45.2 beside, medians of 22 in alternation). Returns the
        main model's outputs; the small models' go into `loaded`."""
        side = self._side_pool.submit(self._side, loaded, person=person)
        try:
            out = self.session.run(loaded.rows)
        finally:
            # Waited for either way: a failed run must not leave it working on the photo.
            loaded.side = side.result()
        return self._combined(loaded, out)

    @staticmethod
    def _read(path: Path, label: str) -> bytes:
        # load_photo reads paths too; reading here once lets the header give the true size.
        return read_photo_file(path, label)

    # ---- prediction
    def predict(
        self,
        photo: Photo,
        *,
        metadata: CuratorMetadata | None = None,
        fewshot: Mapping[str, float] | None = None,
        name: str | None = None,
        part_map: np.ndarray | None = None,
    ) -> Prediction:
        """One photo -> Prediction; raises PhotoError for a file that is not a usable photo.

        `part_map`: the curator's corrected part map (labels over the photo, any size; see
        model/partmap.py). The model then sees only the cloth on it (the rest painted over),
        the part evidence is pooled under it, and it is the part map shown; PartMapError for
        one that is not a part map.
        """
        loaded = self._load(photo, name)
        if part_map is not None:
            labels = partmap.fit(part_map)
            masked = partmap.mask_photo(loaded.photo, labels, self.manifest.preprocessing.fill)
            array, box = self._prepare(masked, loaded.pieces)
            # The checks read the marked cloth too: its own small copy, its own whole picture.
            loaded = dataclasses.replace(
                loaded,
                array=array,
                box=box,
                photo=masked,
                small=working_copy(masked),
                side=None,
            )
            out = self._run_beside(loaded, person=False)
            pred = self._build(loaded, out, 0, metadata, fewshot, part_map=labels)
        else:
            out = self._run_beside(loaded)
            found = loaded.side.person if loaded.side is not None else None
            pred = self._build(loaded, out, 0, metadata, fewshot, person=found)
        if self.cloth is not None:
            # Described when first asked for: a photo's answer and its maps do not need it.
            pred.describe_cloth_later(
                functools.partial(describe_cloth, self.cloth, loaded.photo, pred)
            )
        return pred

    def predict_many(
        self,
        paths: Iterable[Path | str],
        batch_size: int = 8,
        *,
        metadata: CuratorMetadata | None = None,
        zooms: bool = False,
        cloth_now: bool = True,
    ) -> Iterator[tuple[Path, Prediction | PhotoError]]:
        """Photos in input order -> (path, Prediction or PhotoError); never raises for a photo.

        Decoding runs on a thread pool ahead of inference (Pillow releases the GIL while it
        decodes), and photos go through the model `batch_size` at a time.

        The bulk path: each photo is read once, without the part map's second zoom that
        `predict` (the photo view) adds (ModelSession.run's `once`); `zooms` reads them as
        `predict` does. `cloth_now`: the cloth features' close-ups are read now, a batch at a
        time (what an import stores for teaching); False: when `cloth_embedding` is first
        asked for, if ever (answers alone, as `saree classify` prints them, never ask).
        """
        batch_size = max(1, batch_size)
        with (
            ThreadPoolExecutor(self._decode_workers, thread_name_prefix="saree-decode") as pool,
            ThreadPoolExecutor(1, thread_name_prefix="saree-close-ups") as close_ups,
        ):
            pending: deque[tuple[Path, Future[_Loaded]]] = deque()
            it = iter(paths)
            exhausted = False

            def fill() -> None:
                nonlocal exhausted
                while not exhausted and len(pending) < 2 * batch_size + self._decode_workers:
                    try:
                        p = Path(next(it))
                    except StopIteration:
                        exhausted = True
                        return
                    # The small models read each photo on its decode thread too, while the
                    # main model reads the batch before it.
                    pending.append((p, pool.submit(self._load, p, side=True)))

            fill()
            # The batch whose close-ups are being read, handed out when they are.
            waiting: _Batch | None = None
            while pending:
                group: list[tuple[Path, _Loaded | PhotoError]] = []
                while pending and len(group) < batch_size:
                    p, fut = pending.popleft()
                    try:
                        group.append((p, fut.result()))
                    except PhotoError as exc:
                        group.append((p, exc))
                    except (OSError, ValueError, MemoryError) as exc:
                        reason = f"the photo cannot be used ({exc})"
                        group.append((p, PhotoError(shown(p), reason)))
                    fill()
                good = [(i, x) for i, (_, x) in enumerate(group) if isinstance(x, _Loaded)]
                results: dict[int, Prediction] = {}
                described: Future[None] | None = None
                if good:
                    batch = np.concatenate([ld.rows for _, ld in good])
                    out = self.session.run(batch, once=not zooms)
                    start = 0
                    for i, ld in good:
                        found = ld.side.person if ld.side is not None else None
                        own = self._combined(ld, out, start)
                        start += len(ld.rows)
                        results[i] = self._build(ld, own, 0, metadata, None, person=found)
                    if self.cloth is not None and not cloth_now:
                        for i, ld in good:
                            results[i].describe_cloth_later(
                                functools.partial(describe_cloth, self.cloth, ld.photo, results[i])
                            )
                    elif self.cloth is not None:
                        # The close-ups are read on a thread of their own while the main model
                        # reads the next batch (they need this batch's part maps: not sooner).
                        described = close_ups.submit(
                            self._describe, [(results[i], ld.photo) for i, ld in good]
                        )
                # This batch waits to be handed out until the one before it has been.
                if waiting is not None:
                    yield from _handed_out(*waiting)
                waiting = (group, results, described)
            if waiting is not None:
                yield from _handed_out(*waiting)

    def _describe(self, preds: list[tuple[Prediction, Image.Image]]) -> None:
        """Each photo's cloth features (the close-ups teaching compares), into its prediction."""
        assert self.cloth is not None
        views = [cloth_view(photo, pred) for pred, photo in preds]
        vectors = self.cloth.describe_many(
            views, [pred.cloth_whole(v) for (pred, _), v in zip(preds, views, strict=True)]
        )
        for (pred, _), vec in zip(preds, vectors, strict=True):
            pred.cloth_embedding = vec

    def _build(
        self,
        loaded: _Loaded,
        out: Mapping[str, np.ndarray],
        row: int,
        metadata: CuratorMetadata | None,
        fewshot: Mapping[str, float] | None,
        *,
        cloth: np.ndarray | None = None,
        person: PersonFound | None = None,
        part_map: np.ndarray | None = None,
    ) -> Prediction:
        labels = self._labels
        seg = out["seg"][row].astype(np.float32)
        box = loaded.box
        logits = out["logits"][row]
        part_logits = out["part_logits"][row]
        unseen = 0.0
        if part_map is None:
            area_fg, areas = self._areas(seg, box)
        else:
            pooled = partmap.repool(
                out["cam"][row],
                logits,
                seg,
                part_map,
                box,
                part_logits=part_logits,
                # A photo read in pieces: what its canvas cannot say (model/pieces.combine).
                bias=out["cam_bias"][row] if "cam_bias" in out else None,
                seen=float(out["cam_seen"][row]) if "cam_seen" in out else None,
            )
            logits, part_logits, unseen = pooled.logits, pooled.part_logits, pooled.unseen
            areas = partmap.areas(part_map)
            area_fg = float(sum(areas))
            # The part map shown is the curator's: its shares over the model's grid as logits.
            shares = partmap.on_grid(part_map, box, (seg.shape[-2], seg.shape[-1]), fine=1)
            seg = np.log(shares + 1e-4).astype(np.float32)
        probs = _softmax(np.asarray(logits, np.float64), axis=0)
        visual_probs = {t: float(p) for t, p in zip(labels, probs, strict=True)}
        visual = tuple(sorted(visual_probs.items(), key=lambda kv: -kv[1]))
        attr = _sigmoid(out["attributes"][row].astype(np.float64))
        attribute_probs = {t: float(p) for t, p in zip(self.manifest.attributes, attr, strict=True)}
        attributes = tuple(
            sorted(
                (AttributeFound(t, self.label(t), p) for t, p in attribute_probs.items()),
                key=lambda a: -a.probability,
            )
        )
        part_probs = _softmax(np.asarray(part_logits, np.float64), axis=-1)
        parts = tuple(
            PartEvidence(
                part=part,
                ranking=tuple(
                    sorted(
                        ((t, float(v)) for t, v in zip(labels, part_probs[k], strict=True)),
                        key=lambda kv: -kv[1],
                    )
                ),
                area=areas[k],
            )
            for k, part in enumerate(PARTS)
        )
        embedding = out["embedding"][row].astype(np.float32)
        signals = compute_signals(
            labels,
            probs,
            embedding,
            self._prototypes,
            area_fg,
            logits=np.asarray(logits),
            part_probs=part_probs,
            part_areas=areas,
        )
        names = {t: self.label(t) for t in labels}
        reasons = self.open_set_rule.reasons(signals, names)
        fused = fuse_visual(
            self.graph,
            visual_probs,
            attribute_probs,
            metadata=metadata,
            fewshot=fewshot,
            weights=self.weights,
        )
        reasons += _zero_shot_reason(fused)
        side = loaded.side if loaded.side is not None else self._side(loaded, person=False)
        if side.no_colour:
            reasons.append(NO_COLOUR)
        whole = side.whole
        if self.cloth is not None:
            if side.not_cloth:
                reasons.append(NOT_CLOTH)
            elif self.look is not None and whole is not None and self.look.unlike(whole):
                # First: it says how far to trust everything else said about the photo.
                reasons.insert(0, UNLIKE_TRAINING)
        small = too_small(
            loaded.photo_size, self.manifest.preprocessing.size, pieces=self.read_in_pieces
        )
        if small is not None:
            reasons.insert(0, small)  # before all: it is why nothing else can be read
        if self.saree_check is not None and part_map is None and not worn(person):
            # A map the curator drew says where the saree is: that photo is not checked. Nor is
            # one worn by a person (model/saree_check.worn). A rule that reads the cloth
            # features is only loaded with its own cloth model, so `whole` is there for it.
            x = features(
                embedding,
                areas,
                list(attribute_probs.values()),
                signals,
                whole if self.saree_check.cloth_sha256 is not None else None,
            )
            if self.saree_check.not_a_saree(x):
                reasons.append(NOT_A_SAREE)
        pred = Prediction(
            source=loaded.source,
            model_sha256=self.manifest.sha256,
            photo_size=loaded.photo_size,
            fused=fused,
            visual=visual,
            visual_probs=visual_probs,
            attribute_probs=attribute_probs,
            parts=parts,
            attributes=attributes,
            uncertain=bool(reasons),
            uncertain_reasons=tuple(reasons),
            embedding=embedding,
            part_embeddings=out["part_embeddings"][row].astype(np.float32),
            open_set=signals,
            novelty=self.open_set_rule.novelty(signals),
            seg_logits=seg,
            cam=out["cam"][row].astype(np.float32),
            letterbox=box,
            labels=labels,
            photo=loaded.photo,
            person=person,
            part_map=part_map,
            unseen=unseen,
            pieces=1 if loaded.pieces is None else len(loaded.pieces.offsets),
        )
        if whole is not None:
            pred._cache["cloth_whole"] = whole
        if cloth is not None:
            pred.cloth_embedding = cloth
        return pred

    @staticmethod
    def _areas(seg: np.ndarray, box: Letterbox) -> tuple[float, list[float]]:
        """Share of the photo that is saree cloth, and each part's share, at grid resolution."""
        gh, gw = seg.shape[-2:]
        left, top, right, bottom = box.content_box
        x0, y0 = round(left * gw / box.size), round(top * gh / box.size)
        x1 = max(x0 + 1, round(right * gw / box.size))
        y1 = max(y0 + 1, round(bottom * gh / box.size))
        probs = _softmax(seg[:, y0:y1, x0:x1], axis=0)
        hard = np.argmax(probs, axis=0)
        n = hard.size
        fg = float(1.0 - probs[0].mean())
        return fg, [float((hard == k + 1).sum() / n) for k in range(len(PARTS))]
