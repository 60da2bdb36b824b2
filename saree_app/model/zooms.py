"""The part map read at more than one zoom: the photo as letterboxed, and shrunk about its centre.

Why: where the model is unsure which part a region is (an unfamiliar surface or light behind
the cloth) its part map changes with the scale it sees the cloth at, and the mistakes of two
scales are partly different ones: averaging the part probabilities of the photo as it is and
shrunk to 7/8 (the margin filled as the letterbox fills it) raised the shipped model's part
mIoU on its held-out split and on four fresh held-out-families draws (see the model card).
Only the part map is averaged: the tradition, attribute and embedding outputs are those of the
photo as it is, so the classifier's calibration, open-set thresholds and fusion weights stay the
ones measured for it.

The shrunk copies may also be read mirrored left-right (their maps mirrored back): the second
pass then differs from the first in scale and in handedness, the network was trained on mirrored
photos as well, and its mistakes on the two are less alike still (measured: the model card).

The manifest's optional "seg_zooms" lists the zooms (1 = the letterboxed photo) and
"seg_zooms_mirrored" whether the shrunk copies are mirrored; a manifest without them reads the
photo once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

NO_ZOOMS: tuple[float, ...] = (1.0,)
# A shrunk copy much smaller than this leaves the model too little cloth to read.
SMALLEST_ZOOM = 0.25


def parse_zooms(value: Any) -> tuple[float, ...]:
    """A list of zooms (numbers or a comma-separated string) -> a checked tuple starting at 1.

    Raises ValueError with the reason: every zoom must lie in [SMALLEST_ZOOM, 1], and the first
    must be 1 (the photo as it is, whose other outputs the model's answer is)."""
    if isinstance(value, str):
        items: list[Any] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise ValueError(f"expected a list of zooms, not {type(value).__name__}")
    try:
        zooms = tuple(float(v) for v in items)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"zooms must be numbers ({exc})") from exc
    if not zooms:
        raise ValueError("no zooms given (1 reads the photo once, as it is)")
    bad = [z for z in zooms if not SMALLEST_ZOOM <= z <= 1.0]
    if bad:
        raise ValueError(f"zoom {bad[0]:g} is outside {SMALLEST_ZOOM:g}-1")
    if zooms[0] != 1.0:
        raise ValueError(f"the first zoom must be 1 (the photo as it is), not {zooms[0]:g}")
    if len(set(zooms)) != len(zooms):
        raise ValueError("a zoom is listed twice")
    return zooms


def read_zooms(manifest: Mapping[str, Any]) -> tuple[tuple[float, ...], bool]:
    """The manifest JSON's ("seg_zooms", "seg_zooms_mirrored"), defaults when absent (the photo
    once); ValueError naming the entry that is wrong."""
    try:
        zooms = parse_zooms(manifest.get("seg_zooms", NO_ZOOMS))
    except ValueError as exc:
        raise ValueError(f'"seg_zooms": {exc}') from exc
    try:
        mirrored = parse_mirrored(manifest.get("seg_zooms_mirrored", False))
    except ValueError as exc:
        raise ValueError(f'"seg_zooms_mirrored" {exc}') from exc
    return zooms, mirrored


def _placement(size: int, zoom: float) -> tuple[int, int]:
    """(offset, side) of the shrunk photo inside the size x size input, in input pixels."""
    side = max(1, round(size * zoom))
    return (size - side) // 2, side


def shrink(batch: np.ndarray, zoom: float, fill: np.ndarray) -> np.ndarray:
    """N x 3 x S x S model inputs -> the same, each shrunk about its centre by `zoom` and the
    margin filled with `fill` (the normalised letterbox colour, 3 values)."""
    n, c, size, _ = batch.shape
    off, side = _placement(size, zoom)
    out = np.empty_like(batch, dtype=np.float32)
    out[:] = np.asarray(fill, dtype=np.float32).reshape(1, c, 1, 1)
    for i in range(n):
        for ch in range(c):
            # Pillow's bilinear shrink averages over the shrunk pixel's footprint (no aliasing).
            img = Image.fromarray(np.ascontiguousarray(batch[i, ch], dtype=np.float32), "F")
            small = img.resize((side, side), Image.Resampling.BILINEAR)
            out[i, ch, off : off + side, off : off + side] = np.asarray(small)
    return out


def back_onto_photo(probs: np.ndarray, zoom: float, size: int) -> np.ndarray:
    """N x K x h x w maps of shrunk inputs -> N x K x h x w maps over the unshrunk input: the
    shrunk photo's region is cut out (at fractional cell positions) and enlarged back."""
    if zoom == 1.0:
        return probs
    _n, _k, h, w = probs.shape
    off, side = _placement(size, zoom)
    box = (off * w / size, off * h / size, (off + side) * w / size, (off + side) * h / size)
    out = np.empty_like(probs, dtype=np.float32)
    for i, maps in enumerate(probs):
        for k, m in enumerate(maps):
            img = Image.fromarray(np.ascontiguousarray(m, dtype=np.float32), "F")
            out[i, k] = np.asarray(img.resize((w, h), Image.Resampling.BILINEAR, box=box))
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def normalised_fill(fill: Sequence[int], mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """The letterbox colour as the model input holds it."""
    rgb = np.asarray(fill, dtype=np.float32) / 255.0
    return np.asarray(
        (rgb - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32),
        dtype=np.float32,
    )


def parse_mirrored(value: Any) -> bool:
    """The manifest's "seg_zooms_mirrored": true or false (ValueError otherwise)."""
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def _mirror(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x[..., ::-1])


def run_with_zooms(
    run: Callable[[np.ndarray], Mapping[str, np.ndarray]],
    batch: np.ndarray,
    zooms: Sequence[float],
    fill: np.ndarray,
    *,
    mirrored: bool = False,
) -> dict[str, np.ndarray]:
    """Run the model once on the photos and their shrunk copies (one batch; the copies mirrored
    left-right when `mirrored`) and return the photos' outputs with "seg" replaced by the log of
    the zooms' averaged part probabilities (a softmax of it gives the average back)."""
    if len(zooms) <= 1:
        return dict(run(batch))
    n, size = batch.shape[0], batch.shape[-1]
    extra = [z for z in zooms if z != 1.0]
    flip = _mirror if mirrored else (lambda x: x)
    both = dict(run(np.concatenate([batch, *(flip(shrink(batch, z, fill)) for z in extra)])))
    probs = _softmax(both["seg"][:n].astype(np.float32))
    for j, z in enumerate(extra, start=1):
        # Mirrored back first: then it is the map of the shrunk photo as it is.
        shrunk = flip(_softmax(both["seg"][j * n : (j + 1) * n].astype(np.float32)))
        probs += back_onto_photo(shrunk, z, size)
    probs /= len(zooms)
    out = {name: value[:n] for name, value in both.items()}
    out["seg"] = np.log(np.maximum(probs, 1e-6)).astype(np.float32)
    return out
