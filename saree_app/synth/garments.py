"""Other garments, rendered: photos a curator's collection may hold that are not sarees.

A shirt, a kurta, a blouse, a skirt, trousers or a dupatta, cut from cloth the renderer paints
(plain, checked, dotted, printed or striped, as `render_distractor`'s other textiles), laid
flat or hung on a hanger, on the renderer's backgrounds, lights and cameras. They measure
whether the app flags them (issue 26: photos that are not sarees flagged, other garments
among them); nothing is trained on them. Garments have no saree structure: a body without a
border running its length, no pallu.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from saree_app.synth import scene
from saree_app.synth.render import SynthError, _other_textile
from saree_app.synth.scene import BACKGROUNDS, CAMERAS, LIGHTINGS

# Outlines in a unit box (x right, y down), the garment's width 1 and its length as drawn:
# a simplified flat lay of each, the way a shop photographs it.
GARMENTS: dict[str, list[tuple[float, float]]] = {
    "shirt": [
        (0.32, 0.0),
        (0.42, 0.06),
        (0.5, 0.14),
        (0.58, 0.06),
        (0.68, 0.0),
        (0.9, 0.06),
        (1.0, 0.42),
        (0.86, 0.46),
        (0.8, 0.26),
        (0.8, 1.0),
        (0.2, 1.0),
        (0.2, 0.26),
        (0.14, 0.46),
        (0.0, 0.42),
        (0.1, 0.06),
    ],
    "kurta": [
        (0.34, 0.0),
        (0.44, 0.04),
        (0.5, 0.12),
        (0.56, 0.04),
        (0.66, 0.0),
        (0.88, 0.04),
        (1.0, 0.36),
        (0.88, 0.38),
        (0.78, 0.18),
        (0.84, 0.6),
        (0.9, 1.0),
        (0.1, 1.0),
        (0.16, 0.6),
        (0.22, 0.18),
        (0.12, 0.38),
        (0.0, 0.36),
        (0.12, 0.04),
    ],
    "blouse": [
        (0.3, 0.0),
        (0.5, 0.22),
        (0.7, 0.0),
        (0.92, 0.1),
        (1.0, 0.5),
        (0.82, 0.56),
        (0.78, 0.36),
        (0.8, 1.0),
        (0.2, 1.0),
        (0.22, 0.36),
        (0.18, 0.56),
        (0.0, 0.5),
        (0.08, 0.1),
    ],
    "skirt": [(0.3, 0.0), (0.7, 0.0), (0.74, 0.08), (1.0, 1.0), (0.0, 1.0), (0.26, 0.08)],
    "trousers": [
        (0.18, 0.0),
        (0.82, 0.0),
        (0.9, 1.0),
        (0.56, 1.0),
        (0.5, 0.3),
        (0.44, 1.0),
        (0.1, 1.0),
    ],
    "dupatta": [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)],
}
# Length over width, drawn from these ranges.
PROPORTIONS = {
    "shirt": (1.0, 1.25),
    "kurta": (1.5, 1.9),
    "blouse": (0.7, 0.9),
    "skirt": (0.9, 1.2),
    "trousers": (1.5, 1.8),
    "dupatta": (3.0, 5.0),
}


def render_garment(seed: int, size: int = 320) -> Image.Image:
    """One photo of another garment (not a saree), reproducible from `seed`."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthError(f"seed must be a non-negative integer, not {seed!r}")
    if size < 32:
        raise SynthError(f"size must be at least 32 pixels, not {size}")
    rng = np.random.default_rng([int(seed), 8_888_888])
    kind = sorted(GARMENTS)[int(rng.integers(len(GARMENTS)))]
    h, w = (size, round(size * 0.75)) if rng.random() < 0.6 else (round(size * 0.75), size)
    bg = scene.background(BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))], rng, h, w)
    light = scene.lighting(LIGHTINGS[int(rng.integers(len(LIGHTINGS)))], rng)
    hung = kind != "dupatta" and rng.random() < 0.4

    # The garment's box: its width a share of the frame, its length from its proportions,
    # both kept inside the frame (a dupatta is folded to fit: drawn shorter than it is).
    ratio = float(rng.uniform(*PROPORTIONS[kind]))
    gw = float(rng.uniform(0.45, 0.8)) * w
    gh = min(gw * ratio, 0.9 * h)
    gw = min(gw, gh / ratio) if kind != "dupatta" else gw
    x0 = float(rng.uniform(0.03 * w, max(0.04 * w, w - gw - 0.03 * w)))
    y0 = float(rng.uniform(0.08 * h if hung else 0.03 * h, max(0.1 * h, h - gh - 0.03 * h)))
    angle = float(rng.normal(0.0, 4.0 if hung else 10.0))
    outline = [(x0 + x * gw, y0 + y * gh) for x, y in GARMENTS[kind]]
    cx, cy = x0 + gw / 2, y0 + gh / 2
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    outline = [
        (cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in outline
    ]
    cut = Image.new("L", (w, h), 0)
    ImageDraw.Draw(cut).polygon(outline, fill=255)
    mask = np.asarray(cut.filter(ImageFilter.GaussianBlur(0.8)), np.float32) / 255.0

    # The cloth, painted in the garment's own coordinates (its width is 1), with soft folds.
    design = _other_textile(rng)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    across = ((xs - cx) * c + (ys - cy) * s) / max(gw, 1.0)
    along = (-(xs - cx) * s + (ys - cy) * c) / max(gw, 1.0)
    colour, _zari = design.body.painter(along.ravel(), across.ravel())
    cloth = colour.reshape(h, w, 3).astype(np.float32)
    folds = 1.0 + 0.08 * np.sin(across * rng.uniform(6, 14) + rng.uniform(0, 6.3)) * np.sin(
        along * rng.uniform(2, 5)
    )
    cloth = cloth * folds[..., None].astype(np.float32)
    # A shadow under the garment, lifted a little off the surface.
    shadow = np.asarray(cut.filter(ImageFilter.GaussianBlur(max(2.0, size / 60))), np.float32)
    shadow = np.roll(shadow, (max(1, size // 80), max(1, size // 80)), axis=(0, 1)) / 255.0
    img = bg * (1.0 - 0.35 * shadow[..., None])
    img = img * (1.0 - mask[..., None]) + cloth * mask[..., None]
    if hung:
        hook = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(hook)
        top = min(y for _, y in outline)
        d.line(
            [
                (x0 + 0.12 * gw, top + 0.05 * gh),
                (cx, top - 0.06 * h),
                (x0 + 0.88 * gw, top + 0.05 * gh),
            ],
            fill=255,
            width=max(2, size // 120),
        )
        d.arc(
            [cx - 0.03 * w, top - 0.14 * h, cx + 0.03 * w, top - 0.05 * h],
            180,
            360,
            fill=255,
            width=max(2, size // 140),
        )
        m = np.asarray(hook, np.float32)[..., None] / 255.0
        wood = np.asarray(rng.uniform(0.2, 0.6, 3), np.float32)
        img = img * (1.0 - m) + wood * m
    arr = img * light.field(h, w)[..., None] * np.asarray(light.colour, np.float32)
    return scene.camera(CAMERAS[int(rng.integers(len(CAMERAS)))], rng, arr)
