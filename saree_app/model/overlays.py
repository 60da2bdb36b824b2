"""Pictures of the evidence: the part mask and a tradition's heatmap blended over the photo."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from saree_app.model.predict import Prediction

# Background, body, border, pallu: colours that stay apart for the common colour blindnesses
# (Okabe-Ito palette).
PART_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),
    (0, 114, 178),
    (230, 159, 0),
    (204, 121, 167),
)
PART_NAMES = ("background", "body", "border", "pallu")
# The heatmap's ramp, here and in the photo view (gui/overlays.py): position, red, green, blue,
# and the view's opacity at that value. Perceptually ordered, dark violet -> teal -> yellow (like
# "viridis"): its cool middle stands apart from the reds, oranges and golds most sarees are dyed
# in, where a red-orange ramp hid the evidence on a red silk.
HEAT_STOPS = np.array(
    [
        [0.00, 68, 1, 84, 0],
        [0.25, 59, 82, 139, 110],
        [0.50, 33, 145, 140, 165],
        [0.75, 94, 201, 98, 205],
        [1.00, 253, 231, 37, 235],
    ],
    dtype=np.float32,
)
MIN_SIDE = 512
# Overlays are for looking at, not for archiving: drawn at the size the photo view shows them
# (gui/analysis.py OVERLAY_MAX), fast to draw and to write.
MAX_SIDE = 768


def _ramp_lut() -> np.ndarray:
    """256 x 3 uint8 lookup table through the ramp's colours."""
    x = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    cols = [np.interp(x, HEAT_STOPS[:, 0], HEAT_STOPS[:, i]) for i in (1, 2, 3)]
    lut: np.ndarray = np.stack(cols, axis=1).round().astype(np.uint8)
    return lut


_LUT = _ramp_lut()
# The ramp as a palette: Pillow colours a "P" picture through it in one C pass, several times
# faster than indexing the table with numpy.
_LUT_PALETTE = _LUT.reshape(-1).tolist()
_PALETTE = [v for colour in PART_COLOURS for v in colour]


def _photo(pred: Prediction, photo: Image.Image | None) -> Image.Image:
    img = photo if photo is not None else pred.photo
    if img is None:
        raise ValueError(f"{pred.source}: no photo to draw on (pass it as `photo`)")
    return img


def _base_size(img: Image.Image) -> tuple[int, int]:
    """The size the overlays of `img` are drawn at."""
    side = max(img.size)
    if side > MAX_SIDE or side < MIN_SIDE:
        # The decoded working copy can be small (draft decoding): enlarge so the legend fits.
        scale = (MAX_SIDE if side > MAX_SIDE else MIN_SIDE) / side
        return max(1, round(img.width * scale)), max(1, round(img.height * scale))
    return img.size


def _half(size: tuple[int, int]) -> tuple[int, int]:
    """Where the part overlay's tint is made for a picture of `size`."""
    return max(1, size[0] // 2), max(1, size[1] // 2)


def _base(pred: Prediction, photo: Image.Image | None) -> Image.Image:
    """The photo at the overlays' size, in RGB. Not drawn on: every overlay is a new picture
    made from it, so both overlays share one."""
    img = _photo(pred, photo)
    if img.mode != "RGB":  # converting an RGB picture would only copy it
        img = img.convert("RGB")
    size = _base_size(img)
    return img if size == img.size else img.resize(size, Image.Resampling.BILINEAR)


# A heatmap is shown stretched so its strongest value is the ramp's top, unless that value is
# under this: a map with next to no evidence stays dim instead of being blown up into noise.
HEAT_FLOOR = 0.25


def stretched(heat: np.ndarray, top: float | None = None) -> np.ndarray:
    """A heatmap in [0, 1] as it is shown (a new float32 array): divided by its maximum (or by
    `top`, to show several maps on one scale), or by HEAT_FLOOR when that is higher. On real
    photos a tradition's strongest evidence is often half the scale or less (the map is
    weighted by how sure the part map is of cloth), and shown as it was it barely tinted the
    photo."""
    peak = float(np.max(heat)) if top is None else float(top)
    out = np.asarray(heat, dtype=np.float32) / max(peak, HEAT_FLOOR)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def muted(img: Image.Image) -> Image.Image:
    """The photo in grey, as the heatmap is drawn over it (RGB)."""
    return img.convert("L").convert("RGB")


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=14)
    except TypeError:  # Pillow before 10.1 has one bitmap size only
        return ImageFont.load_default()


def _legend(img: Image.Image, rows: list[tuple[tuple[int, int, int] | None, str]]) -> None:
    draw = ImageDraw.Draw(img, "RGBA")
    font = _font()
    line = 18
    width = max(int(draw.textlength(text, font=font)) for _, text in rows) + 30
    height = line * len(rows) + 8
    draw.rectangle((4, 4, 4 + width, 4 + height), fill=(255, 255, 255, 210))
    for k, (colour, text) in enumerate(rows):
        y = 8 + k * line
        x = 10
        if colour is not None:
            draw.rectangle((x, y + 2, x + 12, y + 14), fill=colour, outline=(0, 0, 0))
            x += 18
        draw.text((x, y), text, fill=(0, 0, 0), font=font)


# The heatmap's key: its colour ramp from the map's weakest to its strongest evidence (the map
# is stretched to the photo's own strongest, `stretched`), so a curator can read the colours.
RAMP_WIDTH = 120
RAMP_HEIGHT = 10


def _ramp_key(img: Image.Image, text: str) -> None:
    """The heatmap's legend: `text`, and under it the ramp with its two ends named."""
    draw = ImageDraw.Draw(img, "RGBA")
    font = _font()
    weak, strong = "weak", "strongest in this photo"
    gap = 6
    ramp_row = (
        int(draw.textlength(weak, font=font))
        + RAMP_WIDTH
        + int(draw.textlength(strong, font=font))
        + 2 * gap
    )
    width = max(int(draw.textlength(text, font=font)), ramp_row) + 12
    line = 18
    draw.rectangle((4, 4, 4 + width, 4 + 2 * line + 8), fill=(255, 255, 255, 210))
    draw.text((10, 8), text, fill=(0, 0, 0), font=font)
    y = 8 + line
    x = 10
    draw.text((x, y), weak, fill=(0, 0, 0), font=font)
    x += int(draw.textlength(weak, font=font)) + gap
    ramp = Image.fromarray(
        np.repeat(np.linspace(0, 255, RAMP_WIDTH).astype(np.uint8)[None, :], RAMP_HEIGHT, 0), "P"
    )
    ramp.putpalette(_LUT_PALETTE)
    img.paste(ramp.convert("RGB"), (x, y + 3))
    draw.rectangle((x, y + 3, x + RAMP_WIDTH - 1, y + 3 + RAMP_HEIGHT - 1), outline=(0, 0, 0))
    draw.text((x + RAMP_WIDTH + gap, y), strong, fill=(0, 0, 0), font=font)


def part_overlay(
    pred: Prediction, photo: Image.Image | None = None, alpha: float = 0.5
) -> Image.Image:
    """The photo with body, border and pallu tinted in distinct colours, and a legend."""
    return _part_overlay(pred, _base(pred, photo), alpha)


def _part_overlay(pred: Prediction, img: Image.Image, alpha: float = 0.5) -> Image.Image:
    # Half resolution is plenty for a tint (the model's grid is coarser still): a quarter of
    # the work. Colours and weights are made at half size and scaled up nearest-neighbour,
    # which gives the same pixels as scaling the mask up first.
    mask = pred.part_mask_at(_half(img.size))
    tint = Image.fromarray(mask, "P")
    tint.putpalette(_PALETTE)
    colours = tint.convert("RGB").resize(img.size, Image.Resampling.NEAREST)
    weight = Image.fromarray(np.where(mask > 0, round(alpha * 255), 0).astype(np.uint8), "L")
    weight = weight.resize(img.size, Image.Resampling.NEAREST)
    out = Image.composite(colours, img, weight)
    # The shares of the mask drawn (the parts as the photo's colours split them), not those
    # the model's part evidence was pooled under: the legend describes the tint beside it.
    counts = np.bincount(mask.ravel(), minlength=len(PART_NAMES))
    areas = {name: float(counts[k]) / max(1, mask.size) for k, name in enumerate(PART_NAMES)}
    _legend(
        out,
        [
            (PART_COLOURS[k], f"{name} ({areas.get(name, 0.0):.0%})")
            for k, name in enumerate(PART_NAMES)
            if k > 0
        ],
    )
    return out


def heatmap_overlay(
    pred: Prediction,
    tradition: str | None = None,
    photo: Image.Image | None = None,
    alpha: float = 0.55,
) -> Image.Image:
    """Where the photo looks like `tradition` (default the visual top one), over the photo."""
    img = _base(pred, photo)
    return _heatmap_overlay(pred, tradition, img.size, lambda: img, alpha)


def _heatmap_overlay(
    pred: Prediction,
    tradition: str | None,
    size: tuple[int, int],
    base: Callable[[], Image.Image],
    alpha: float = 0.55,
) -> Image.Image:
    """The heatmap overlay at `size`; `base()` gives the photo at that size when it is needed
    (last: another thread may still be making it)."""
    tradition = tradition or pred.visual[0][0]
    # At half size, as the part overlay's mask: the map there shares the part map's
    # probabilities and saree region (worked out once, `_part_overlay`), where a map at full
    # size made them again at another (`saree bench classify`: 4.7 ms against 0.5 ms). Its
    # colours and weights are then scaled up as pictures, each value over two by two pixels
    # (nearest, as the part tint): the model's grid is far coarser than either size, and
    # bilinear took 1.5 ms a picture.
    half = _half(size)
    scaled = stretched(pred.heatmap(tradition, size=half))  # the map is cached: not written to
    colours = Image.fromarray((scaled * 255).astype(np.uint8), "P")
    colours.putpalette(_LUT_PALETTE)
    np.maximum(scaled, 0.15, out=scaled)
    scaled *= alpha * 255
    weight = Image.fromarray(scaled.astype(np.uint8), "L")
    coloured = colours.convert("RGB")
    if half != size:
        coloured = coloured.resize(size, Image.Resampling.NEAREST)
        weight = weight.resize(size, Image.Resampling.NEAREST)
    # Over the photo in grey: in its own colours a pink or red silk swallowed the ramp, and
    # the map of a real photo, rarely strong, could not be seen at all.
    out = Image.composite(coloured, muted(base()), weight)
    label = next((r.label for r in pred.fused.ranking if r.tradition == tradition), tradition)
    prob = pred.visual_probs.get(tradition, 0.0)
    _ramp_key(out, f"where it looks like {label} (visual {prob:.0%})")
    return out


def draw_overlays(pred: Prediction, photo: Image.Image | None = None) -> dict[str, Image.Image]:
    """{"parts": part overlay, "heatmap": the answer's heatmap overlay}, drawn side by side.

    The heatmap is the fused answer's tradition, or the best-ranked one the model knows when
    the answer came from the knowledge graph alone.
    """
    top = next((r.tradition for r in pred.fused.ranking if pred.has_heatmap(r.tradition)), None)
    size = _base_size(_photo(pred, photo))
    # The photo at the overlays' size is made once, by the part overlay's thread, and shared;
    # meanwhile the heatmap's thread works out the part mask (the saree region and the part
    # probabilities both maps are cut from, at the same half size) and its own map, and takes
    # the photo only to blend. Each thread starts on what the other does not need first.
    base: Future[Image.Image] = Future()

    def parts() -> Image.Image:
        try:
            img = _base(pred, photo)
        except BaseException as exc:
            base.set_exception(exc)
            raise
        base.set_result(img)
        return _part_overlay(pred, img)

    def heatmap(tradition: str) -> Image.Image:
        pred.part_mask_at(_half(size))
        return _heatmap_overlay(pred, tradition, size, base.result)

    jobs: dict[str, Callable[[], Image.Image]] = {"parts": parts}
    if top is not None:
        jobs["heatmap"] = functools.partial(heatmap, top)
    # numpy and Pillow release the GIL while they work: the two pictures take the time of one.
    with ThreadPoolExecutor(len(jobs)) as pool:
        done = {name: pool.submit(draw) for name, draw in jobs.items()}
        return {name: fut.result() for name, fut in done.items()}


def save_overlays(images: dict[str, Image.Image], out_dir: Path, stem: str) -> list[Path]:
    """Write each picture as <stem>.<name>.png (fast zlib level: these are previews)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(out_dir / f"{stem}.{name}.png", img) for name, img in images.items()]

    def save(job: tuple[Path, Image.Image]) -> Path:
        job[1].save(job[0], compress_level=1)
        return job[0]

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(save, jobs))


def write_overlays(pred: Prediction, out_dir: Path, stem: str | None = None) -> list[Path]:
    """Write <stem>.parts.png and <stem>.heatmap.png into out_dir; returns their paths."""
    if stem is None:
        # Bytes and in-memory pictures are labelled "<photo data>": no file name to reuse.
        stem = "photo" if pred.source.startswith("<") else Path(pred.source).stem
    return save_overlays(draw_overlays(pred), out_dir, stem)
