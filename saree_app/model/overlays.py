"""Pictures of the evidence: the part mask and a tradition's heatmap blended over the photo."""

from __future__ import annotations

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
# Anchors of a perceptually ordered dark-to-bright ramp (like matplotlib's "inferno").
_RAMP = np.array(
    [
        [0, 0, 4],
        [40, 11, 84],
        [101, 21, 110],
        [159, 42, 99],
        [212, 72, 66],
        [245, 125, 21],
        [250, 193, 39],
        [252, 255, 164],
    ],
    dtype=np.float32,
)
MIN_SIDE = 512
# Overlays are for looking at, not for archiving: drawn at the size the photo view shows them
# (gui/analysis.py OVERLAY_MAX), fast to draw and to write.
MAX_SIDE = 768


def _ramp_lut() -> np.ndarray:
    """256 x 3 uint8 lookup table through the ramp's anchors."""
    x = np.linspace(0, len(_RAMP) - 1, 256)
    i = np.minimum(x.astype(np.int32), len(_RAMP) - 2)
    t = (x - i)[:, None]
    lut: np.ndarray = (_RAMP[i] * (1 - t) + _RAMP[i + 1] * t).round().astype(np.uint8)
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
    areas = {p.part: p.area for p in pred.parts}
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
    heat = pred.heatmap(tradition, size=size)  # cached: not written to
    # Stretch so the strongest evidence is bright, but never amplify near-zero maps into noise.
    scaled = heat / max(float(heat.max()), 0.25)
    np.clip(scaled, 0.0, 1.0, out=scaled)
    colours = Image.fromarray((scaled * 255).astype(np.uint8), "P")
    colours.putpalette(_LUT_PALETTE)
    np.maximum(scaled, 0.15, out=scaled)
    scaled *= alpha * 255
    weight = Image.fromarray(scaled.astype(np.uint8), "L")
    out = Image.composite(colours.convert("RGB"), base(), weight)
    label = next((r.label for r in pred.fused.ranking if r.tradition == tradition), tradition)
    prob = pred.visual_probs.get(tradition, 0.0)
    _legend(out, [(None, f"where it looks like {label} (visual {prob:.0%})")])
    return out


def draw_overlays(pred: Prediction, photo: Image.Image | None = None) -> dict[str, Image.Image]:
    """{"parts": part overlay, "heatmap": the answer's heatmap overlay}, drawn side by side.

    The heatmap is the fused answer's tradition, or the best-ranked one the model knows when
    the answer came from the knowledge graph alone.
    """
    top = next((r.tradition for r in pred.fused.ranking if pred.has_heatmap(r.tradition)), None)
    size = _base_size(_photo(pred, photo))
    # The photo at the overlays' size is made once, by the part overlay's thread, and shared:
    # the heatmap's thread works out its map meanwhile and takes the photo only to blend.
    base: Future[Image.Image] = Future()

    def parts() -> Image.Image:
        try:
            # The part mask first: the saree region it is cut to is what the heatmap's
            # thread waits for.
            pred.part_mask_at(_half(size))
            img = _base(pred, photo)
        except BaseException as exc:
            base.set_exception(exc)
            raise
        base.set_result(img)
        return _part_overlay(pred, img)

    jobs: dict[str, Callable[[], Image.Image]] = {"parts": parts}
    if top is not None:
        jobs["heatmap"] = lambda: _heatmap_overlay(pred, top, size, base.result)
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
