"""Pictures of the evidence: the part mask and a tradition's heatmap blended over the photo."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
_PALETTE = [v for colour in PART_COLOURS for v in colour]


def _base(pred: Prediction, photo: Image.Image | None) -> Image.Image:
    img = photo if photo is not None else pred.photo
    if img is None:
        raise ValueError(f"{pred.source}: no photo to draw on (pass it as `photo`)")
    img = img.convert("RGB")
    side = max(img.size)
    if side > MAX_SIDE or side < MIN_SIDE:
        # The decoded working copy can be small (draft decoding): enlarge so the legend fits.
        scale = (MAX_SIDE if side > MAX_SIDE else MIN_SIDE) / side
        new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(new, Image.Resampling.BILINEAR)
    return img


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
    img = _base(pred, photo)
    # Half resolution is plenty for a tint (the model's grid is coarser still): a quarter of
    # the work.
    half = (max(1, img.width // 2), max(1, img.height // 2))
    tint = Image.fromarray(pred.part_mask_at(half), "P").resize(img.size, Image.Resampling.NEAREST)
    tint.putpalette(_PALETTE)
    mask = np.asarray(tint)
    weight = Image.fromarray(np.where(mask > 0, round(alpha * 255), 0).astype(np.uint8), "L")
    out = Image.composite(tint.convert("RGB"), img, weight)
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
    tradition = tradition or pred.visual[0][0]
    heat = pred.heatmap(tradition, size=img.size)
    # Stretch so the strongest evidence is bright, but never amplify near-zero maps into noise.
    heat = np.clip(heat / max(float(heat.max()), 0.25), 0.0, 1.0)
    level = (heat * 255).astype(np.uint8)
    colours = Image.fromarray(_LUT[level], "RGB")
    weight = Image.fromarray((alpha * 255 * np.maximum(heat, 0.15)).astype(np.uint8), "L")
    out = Image.composite(colours, img, weight)
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
    jobs: dict[str, Callable[[], Image.Image]] = {"parts": lambda: part_overlay(pred, photo)}
    if top is not None:
        jobs["heatmap"] = lambda: heatmap_overlay(pred, top, photo)
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
