"""Cloth features: how a photo's cloth looks to a general-purpose ImageNet network.

Teaching compares these, not the shipped model's own embeddings: the shipped heads learned
traditions from rendered sarees, and on real photographs the frozen ImageNet trunk beneath them
tells traditions apart better from a few confirmed examples (`saree bench real`; the figures
are in models/MODEL_CARD.md). A photo is described twice and the two halves concatenated,
each unit length: the whole picture, and the mean over a 3 x 3 grid of tiles from its central
80%, so weave and motif are seen close up rather than shrunk away with the rest of the photo.
Each tile's own description follows (layout "whole+tiles/2"), so teaching can also match a
photo's close-ups one by one against the close-ups of the confirmed photos (`views`): a motif
seen in one corner of both counts, where a mean over the tiles would wash it out.

The model is made by `saree export-cloth-features` (saree_app/train/cloth.py); this side needs
only onnxruntime. Without the file the app teaches from its own embeddings, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from saree_app.model.manifest import ModelError, read_description, side_session, verified

FORMAT = "cloth-features/1"
# Tiles in one row (or column) along a picture more than this many times longer than wide.
STRIP_FROM = 4.0
ONNX_NAME = "cloth-features.onnx"
MANIFEST_NAME = "cloth-features.json"
TILES = 3  # tiles per side
TILE_MARGIN = 0.1  # each edge left out of the tiles: the frame, wall or floor is mostly there
# Photos are decoded with at least this shorter side when cloth features are wanted, so a
# tile (a third of 80% of the photo, about 180 pixels) is read from the photo's own pixels
# instead of being blown up from a thumbnail.
DECODE_SIDE = 672
# The side each tile is read at (the whole picture at the network's own input, 224). A tile
# holds about 180 of the photo's pixels: read at 160 the weave reaches the network at nearly
# its own scale, not enlarged by a quarter as at 224, and the nine tiles cost half as much.
# On real photos (`saree bench real`'s photos, close-ups matched one by one, 40 paired draws)
# 160 matched 2.5 and 3.1 points better than 224 with 1 and 3 confirmed photos a tradition and
# the same with 5; 128 and 96 lost. Through the app's teaching (20 draws) the gain was smaller,
# 26.3 / 47.2 / 62.7% -> 28.7 / 47.8 / 61.1%, inside the spread (models/MODEL_CARD.md).
TILE_SIZE = 160
# What a stored description holds. "whole+tiles/2": [whole | mean of tiles | tile 1 .. tile n],
# each block unit length; the first two blocks alone are the earlier layout (`summary`).
LAYOUT = "whole+tiles/2"
BLOCKS = 2 + TILES * TILES
PHOTOS_PER_RUN = 2
# The model's second output: how much the ImageNet classifier believes a picture shows cloth
# (its cloth and garment classes together; saree_app/train/cloth.py). A photo whose whole
# picture scores below the manifest's threshold does not look like cloth at all: a photo of
# something else, which the answer must not pass off as a saree.
LIKENESS_OUTPUT = "cloth_likeness"


def default_path() -> Path:
    """models/cloth-features.json, beside the shipped model."""
    from saree_app.paths import models_dir

    return models_dir() / MANIFEST_NAME


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row at unit length, in its own dtype; zero rows stay zero."""
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


class ClothFeatures:
    """One onnxruntime session of the cloth-features model, checksum verified."""

    def __init__(self, manifest_path: Path | str | None = None, threads: int | None = None):
        path = Path(manifest_path) if manifest_path is not None else default_path()
        raw = read_description(
            path, FORMAT, "the cloth-features model is missing", "cloth-features"
        )
        try:
            onnx_path = path.with_name(str(raw["onnx"]))
            self.size = int(raw["input"]["size"])
            # Models made before the tiles had a size of their own read them at `size`.
            self.tile_size = int(raw.get("tile_size", self.size))
            self.mean = np.asarray(raw["input"]["mean"], np.float32).reshape(1, 1, 3)
            self.std = np.asarray(raw["input"]["std"], np.float32).reshape(1, 1, 3)
            self.dim = int(raw["output"]["dim"])
            self.tiles = int(raw.get("tiles", TILES))
            self.margin = float(raw.get("tile_margin", TILE_MARGIN))
            self._features = str(raw["output"].get("name", "features"))
            likeness = raw.get("likeness")
            # None: an older model without the classifier; nothing is judged by it.
            self.likeness_threshold: float | None = (
                float(likeness["threshold"]) if isinstance(likeness, dict) else None
            )
            want = str(raw["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(path, f"the description is incomplete ({exc})") from exc
        if self.tiles != TILES:
            # Stored descriptions are cut into blocks by TILES (`views`).
            raise ModelError(path, f"it looks at {self.tiles} tiles a side; this app at {TILES}")
        if not 32 <= self.tile_size <= 4 * self.size:  # the trunk's stride is 32 pixels
            raise ModelError(path, f"it reads tiles at {self.tile_size} pixels a side")
        self.sha256 = verified(onnx_path, want, "the cloth-features model file is missing")
        self._session = side_session(onnx_path, threads)
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def shipped(cls) -> ClothFeatures | None:
        """The model in models/, or None when it is not installed (teaching then uses the
        shipped model's own embeddings)."""
        path = default_path()
        if not path.is_file():
            return None
        return cls(path)

    @property
    def vector_dim(self) -> int:
        """Length of one photo's description (whole picture, mean of tiles, each tile)."""
        return (2 + self.tiles * self.tiles) * self.dim

    def crops(self, photo: Image.Image) -> list[Image.Image]:
        """The whole picture, then the tiles row by row."""
        img = photo if photo.mode == "RGB" else photo.convert("RGB")
        w, h = img.size
        m = self.margin
        x0, y0, x1, y1 = w * m, h * m, w * (1 - m), h * (1 - m)
        out = [img]
        rows, cols = self._grid(x1 - x0, y1 - y0)
        for i in range(rows):
            for j in range(cols):
                box = (
                    int(x0 + (x1 - x0) * j / cols),
                    int(y0 + (y1 - y0) * i / rows),
                    max(int(x0 + (x1 - x0) * (j + 1) / cols), int(x0 + (x1 - x0) * j / cols) + 1),
                    max(int(y0 + (y1 - y0) * (i + 1) / rows), int(y0 + (y1 - y0) * i / rows) + 1),
                )
                out.append(img.crop(box))
        return out

    def _grid(self, width: float, height: float) -> tuple[int, int]:
        """Rows and columns of the tiles: n x n, or for a picture more than STRIP_FROM times
        longer than wide (a saree laid out end to end) one row or column of n * n. Each tile
        is read squeezed into a square: a 3 x 3 grid over a strip five times longer than
        wide would squeeze each five to one. Below that the grid stays: on the person crops
        of realdev's worn photos a column of nine tiles (two crops 3.3 times taller than
        wide) read 1-1.5 points worse in teaching than the grid."""
        n = self.tiles
        if width > STRIP_FROM * height:
            return 1, n * n
        if height > STRIP_FROM * width:
            return n * n, 1
        return n, n

    def _array(self, crop: Image.Image, side: int | None = None) -> np.ndarray:
        side = side or self.size
        small = crop.resize((side, side), Image.Resampling.BILINEAR)
        a = (np.asarray(small, np.float32) / 255.0 - self.mean) / self.std
        return a.transpose(2, 0, 1)

    def describe_many(
        self,
        photos: Sequence[Image.Image],
        wholes: Sequence[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """(N, vector_dim) float32: per photo, [whole picture | mean of tiles | each tile],
        each block unit length. `wholes[i]`, when given, is photo i's whole picture as `whole`
        read it already: it is not read again."""
        if not photos:
            return np.zeros((0, self.vector_dim), np.float32)
        known = list(wholes) if wholes is not None else [None] * len(photos)
        per = 1 + self.tiles * self.tiles
        parts = []
        # A couple of photos per run: ten crops each, and onnxruntime's working memory grows
        # with the batch (eight photos at once were most of an import's 970 MB peak).
        for start in range(0, len(photos), PHOTOS_PER_RUN):
            group = [self.crops(p) for p in photos[start : start + PHOTOS_PER_RUN]]
            given = known[start : start + PHOTOS_PER_RUN]
            pairs = zip(group, given, strict=True)
            unread = [self._array(crops[0]) for crops, w in pairs if w is None]
            close = [self._array(c, self.tile_size) for crops in group for c in crops[1:]]
            with self._lock:  # one run at a time: the session's threads already use the cores
                if self.tile_size == self.size:  # one picture size: one run
                    got = self._run(np.stack(unread + close))
                    read, tiled = got[: len(unread)], got[len(unread) :]
                else:  # the whole pictures, then the tiles at their own size
                    read = self._run(np.stack(unread)) if unread else np.zeros((0, self.dim))
                    tiled = self._run(np.stack(close))
            fresh = iter(read)
            rows = [next(fresh) if w is None else np.asarray(w).reshape(-1) for w in given]
            parts.append(
                np.concatenate(
                    [np.stack(rows)[:, None], tiled.reshape(len(group), per - 1, -1)], axis=1
                ).astype(np.float32)
            )
        feats = np.concatenate(parts).reshape(len(photos), per, -1)
        whole = unit_rows(feats[:, 0])
        tiles = unit_rows(feats[:, 1:].mean(axis=1))
        each = unit_rows(feats[:, 1:]).reshape(len(photos), -1)
        return np.concatenate([whole, tiles, each], axis=1).astype(np.float32)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """The features of a batch of pictures (under the caller's lock)."""
        return np.asarray(self._session.run([self._features], {self._input: batch})[0], np.float32)

    def describe(self, photo: Image.Image) -> np.ndarray:
        """One photo's description (see describe_many)."""
        return self.describe_many([photo])[0]

    def whole_input(self, photo: Image.Image) -> np.ndarray:
        """The whole picture as `whole` reads it (C x S x S float32)."""
        return self._array(photo if photo.mode == "RGB" else photo.convert("RGB"))

    def whole(self, photo: Image.Image) -> tuple[np.ndarray, float | None]:
        """The whole picture's features (unit length: the first block of `describe`) and its
        `likeness`, from one run (None for a model without the classifier)."""
        array = self.whole_input(photo)
        names = [self._features]
        if self.likeness_threshold is not None:
            names.append(LIKENESS_OUTPUT)
        with self._lock:
            out = self._session.run(names, {self._input: array[None]})
        vector = unit_rows(np.asarray(out[0], np.float32).reshape(1, -1))[0]
        return vector, (float(np.asarray(out[1]).reshape(-1)[0]) if len(out) > 1 else None)

    def whole_in_pieces(self, pieces: Sequence[Image.Image]) -> tuple[np.ndarray, bool]:
        """A photo read in pieces (model/pieces.py): its whole picture, each piece's averaged
        (unit length), and whether it does not look like cloth (most of its pieces do not,
        each judged as any photo is). Squeezed whole into this model's square, a saree laid
        out end to end is a thin strip that looks like no cloth it knows."""
        reads = [self.whole(piece) for piece in pieces]
        mean = np.mean([vector for vector, _ in reads], axis=0)
        vector = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        unlike = sum(self.not_cloth(c, v) for c, (_, v) in zip(pieces, reads, strict=True))
        return vector, 2 * unlike > len(pieces)

    def likeness(self, photo: Image.Image) -> float | None:
        """How much the whole photo looks like cloth to the ImageNet classifier (0-1: its
        belief in its cloth and garment classes together); None for a model without it."""
        if self.likeness_threshold is None:
            return None
        img = photo if photo.mode == "RGB" else photo.convert("RGB")
        return float(self._likeness_of([img])[0])

    def likeness_close_up(self, photo: Image.Image) -> np.ndarray | None:
        """`likeness` of the whole photo and of each tile the features look at (see `crops`);
        None for a model without it."""
        if self.likeness_threshold is None:
            return None
        return self._likeness_of(self.crops(photo))

    def _likeness_of(self, crops: Sequence[Image.Image]) -> np.ndarray:
        # Every crop at the network's own input, tiles too: the threshold was set so.
        batch = np.stack([self._array(c) for c in crops])
        with self._lock:
            out = self._session.run([LIKENESS_OUTPUT], {self._input: batch})
        return np.asarray(out[0], np.float64)

    def not_cloth(self, photo: Image.Image, whole: float | None = None) -> bool:
        """Whether the photo does not look like cloth at all: neither the whole picture nor,
        on average, the whole and its close-ups (`likeness_close_up`).

        The close-ups are read only when the whole picture falls short (one pass for most
        photos): a rendered or finely patterned cloth seen whole can look to ImageNet like
        a pattern, not a textile, while its tiles still look woven; a photo of a face, a
        room or the sky looks like cloth neither way.
        """
        if whole is None:  # `whole`: the whole picture's likeness, when already read
            whole = self.likeness(photo)
        limit = float(self.likeness_threshold or 0.0)
        if whole is None or whole >= limit:
            return False
        tiles = self._likeness_of(self.crops(photo)[1:])  # the whole picture is read already
        return (whole + float(tiles.sum())) / (1 + len(tiles)) < limit


def _blocks(vector: np.ndarray) -> np.ndarray | None:
    """The description cut into its BLOCKS unit blocks, or None for the earlier layout
    ([whole | mean of tiles] only, from catalogues made before the tiles were kept)."""
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if v.size == 0 or v.size % BLOCKS:
        return None
    rows = v.reshape(BLOCKS, -1)
    norms = np.linalg.norm(rows, axis=1)
    # Every block was stored unit length (a whole vector scaled by a constant keeps them
    # equal); unequal norms mean an earlier layout whose length happens to divide.
    if norms.min() <= 0 or norms.max() > norms.min() * 1.001:
        return None
    return rows / norms[:, None]


def summary(vector: np.ndarray) -> np.ndarray:
    """[whole | mean of tiles], unit length: what a prototype of the cloth is made of, in
    either layout."""
    rows = _blocks(vector)
    v = np.asarray(vector, dtype=np.float32).reshape(-1) if rows is None else rows[:2].ravel()
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def views(vector: np.ndarray) -> np.ndarray | None:
    """(1 + tiles, dim) unit rows: the whole picture and each close-up, matched one by one
    when teaching; None for the earlier layout, which kept only their mean."""
    rows = _blocks(vector)
    if rows is None:
        return None
    return np.concatenate([rows[:1], rows[2:]], axis=0)


def split(vector: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(whole | mean of tiles, each tile) as stored apart; no tiles for the earlier layout."""
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if _blocks(v) is None:
        return v, None
    cut = 2 * (v.size // BLOCKS)
    return v[:cut], v[cut:]


def joined(head: np.ndarray, tiles: np.ndarray | None) -> np.ndarray:
    """What `split` took apart, put back together (the head alone without tiles)."""
    h = np.asarray(head, dtype=np.float32).reshape(-1)
    if tiles is None:
        return h
    return np.concatenate([h, np.asarray(tiles, dtype=np.float32).reshape(-1)])
