"""Photo-space augmentation for the feature cache: new backgrounds, perspective, folds, light.

The backbone is frozen and its maps are cached, so augmentation cannot happen per batch as
usual; instead the cache holds extra copies of the training photos, each changed by one seeded
draw of these transforms (the same seed gives the same photo, so a cache can resume). They are
generic on purpose: random textures behind the cloth, keystone and rotation as a hand-held or
hanging view gives, curtain-like fold shading, colour casts from warm to cool, blur and noise.
None of them is one of the renderer's held-out families, which stay a fair test.

With surfaces="varied" (`saree train --surfaces varied`) half of the new backgrounds are
strong multi-scale textures or clutters of shapes instead: a decoder that only ever saw plain-ish
surfaces reads any busy or straight-edged surface beside the cloth as cloth.

A "piece" copy first cuts the cloth down to a random window and enlarges it: most training
photos show a whole saree, so without it a decoder learns that any straight cloth edge is a
border and any cloth short enough to fit the frame is a pallu (the whole-region swaps of the
shipped model's worst photos); a piece shows body, border or pallu alone, cut by edges that
are none of them, at two to three times the scale.

Geometry moves the part mask with the photo (nearest neighbour: class ids are never blended).
Numpy and pillow only.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLOTH = (1, 2, 3)  # part-mask ids of body, border and pallu
SURFACES = ("basic", "varied")  # which backgrounds a changed copy may get (background())


def _solve_perspective(src: np.ndarray, dst: np.ndarray) -> tuple[float, ...]:
    """Pillow's PERSPECTIVE coefficients mapping output points `dst` back to input `src`."""
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    sol = np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))
    return tuple(float(c) for c in sol)


def _corners(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Where the photo's four corners land: scale, shift, rotation, keystone and jitter."""
    pts = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    centre = np.array([w / 2, h / 2])
    pts = pts - centre
    # Keystone along one axis: one edge narrower, as a cloth hung or shot from below looks.
    k = rng.uniform(0.0, 0.3)
    axis = int(rng.integers(4))  # which edge shrinks: top, right, bottom, left
    shrink = {0: (0, 1), 1: (1, 2), 2: (2, 3), 3: (3, 0)}[axis]
    for i in shrink:
        other = 0 if axis in (0, 2) else 1
        pts[i, other] *= 1.0 - k
    pts += rng.uniform(-0.06, 0.06, size=pts.shape) * np.array([w, h])
    angle = np.deg2rad(rng.uniform(-12, 12))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T * rng.uniform(0.7, 1.05)
    pts += centre + rng.uniform(-0.08, 0.08, size=2) * np.array([w, h])
    return pts


def _basic_surface(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Flat colour, gradient, blotchy texture or stripes, with grain."""
    w, h = size
    base = rng.uniform(20, 235, size=3)
    kind = int(rng.integers(4))
    img: np.ndarray
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 0:
        img = np.broadcast_to(base, (h, w, 3)).astype(np.float32)
    elif kind == 1:
        other = rng.uniform(20, 235, size=3)
        theta = rng.uniform(0, 2 * np.pi)
        t = (np.cos(theta) * xx / w + np.sin(theta) * yy / h + 1) / 2
        img = base * (1 - t[..., None]) + other * t[..., None]
    elif kind == 2:
        cells = int(rng.integers(3, 10))
        low = rng.uniform(-1, 1, size=(cells, cells)).astype(np.float32)
        field = np.asarray(
            Image.fromarray(low, "F").resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32
        )
        img = base * (1 + 0.35 * field[..., None])
    else:
        theta = rng.uniform(0, np.pi)
        period = rng.uniform(6, 60)
        phase = np.cos(theta) * xx + np.sin(theta) * yy
        wave = np.sin(2 * np.pi * phase / period + 2.0 * np.sin(phase / (period * 3.7)))
        img = base * (1 + 0.2 * wave[..., None])
    img = img + rng.normal(0, rng.uniform(0, 12), size=(h, w, 1))
    return np.clip(img, 0, 255)


def _texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Two colours mixed by multi-octave noise, often stretched along a random direction and
    sometimes folded into ridges: stone, grain, carpet, plaster, cloth seen out of focus."""
    stretch = rng.uniform(1, 8) if rng.random() < 0.6 else 1.0
    theta = rng.uniform(0, np.pi)
    field = np.zeros((h, w), np.float32)
    amp = 1.0
    base_cells = rng.uniform(2, 6)
    for octave in range(int(rng.integers(3, 6))):
        cells = base_cells * 2**octave
        cx, cy = max(2, int(cells)), max(2, int(cells * stretch))
        low = rng.uniform(-1, 1, size=(cy, cx)).astype(np.float32)
        # Drawn twice as large and rotated, then the middle kept: no blank corners.
        big = Image.fromarray(low, "F").resize((2 * w, 2 * h), Image.Resampling.BICUBIC)
        big = big.rotate(float(np.rad2deg(theta)), resample=Image.Resampling.BILINEAR)
        field += amp * np.asarray(big, dtype=np.float32)[h // 2 : h // 2 + h, w // 2 : w // 2 + w]
        amp *= rng.uniform(0.4, 0.7)
    field = (field - field.mean()) / (field.std() + 1e-6)
    if rng.random() < 0.5:
        field = np.sin(field * rng.uniform(2, 6))
    a = rng.uniform(20, 235, size=3)
    b = rng.uniform(20, 235, size=3)
    t = 1 / (1 + np.exp(-field * rng.uniform(0.8, 3)))
    out: np.ndarray = a * (1 - t[..., None]) + b * t[..., None]
    return out


def _clutter(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Overlapping rectangles, ellipses and polygons: furniture, tiles, things on a table.
    Their straight edges and flat stretches are what a decoder must learn are not cloth."""
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.uniform(20, 235, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 14))):
        colour = tuple(int(v) for v in rng.uniform(10, 245, 3))
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.2, 1.0) * h
        sw, sh = rng.uniform(0.05, 0.7) * w, rng.uniform(0.05, 0.7) * h
        shape = rng.integers(3)
        if shape == 0:
            draw.rectangle([x0, y0, x0 + sw, y0 + sh], fill=colour)
        elif shape == 1:
            draw.ellipse([x0, y0, x0 + sw, y0 + sh], fill=colour)
        else:
            corners = int(rng.integers(3, 7))
            pts = [(x0 + rng.uniform(0, sw), y0 + rng.uniform(0, sh)) for _ in range(corners)]
            draw.polygon(pts, fill=colour)
    arr = np.asarray(img, dtype=np.float32)
    if rng.random() < 0.5:
        shade = np.clip(_texture(rng, w, h)[..., :1] / 128 - 1, -1, 1)
        arr = arr * (1 + 0.25 * shade)
    return arr


def background(
    rng: np.random.Generator, size: tuple[int, int], surfaces: str = "basic"
) -> np.ndarray:
    """A random surface. "basic": flat colour, gradient, blotchy texture or stripes, with
    grain. "varied": half of the time one of those, else a strong multi-scale texture or a
    clutter of shapes -- a decoder that saw only plain-ish surfaces reads any textured or
    straight-edged surface as cloth (the default model's background errors)."""
    if surfaces == "basic":
        return _basic_surface(rng, size)
    if surfaces != "varied":
        raise ValueError(f"surfaces: {surfaces!r}, not one of {', '.join(SURFACES)}")
    w, h = size
    pick = rng.random()
    if pick < 0.5:
        return _basic_surface(rng, size)
    img = _texture(rng, w, h) if pick < 0.75 else _clutter(rng, w, h)
    img = img + rng.normal(0, rng.uniform(0, 12), size=(h, w, 1))
    return np.clip(img, 0, 255)


def cut_piece(
    rng: np.random.Generator, img: Image.Image, mask: Image.Image
) -> tuple[Image.Image, Image.Image]:
    """The cloth inside a random window around a cloth pixel, enlarged to fill most of the
    frame; everything outside the window is background (mask 0). Unchanged when the photo
    shows too little cloth to cut from."""
    w, h = img.size
    cloth = np.isin(np.asarray(mask), CLOTH)
    ys, xs = np.nonzero(cloth)
    if len(ys) < 64:
        return img, mask
    for _ in range(20):
        ww = int(w * rng.uniform(0.3, 0.7))
        hh = int(h * rng.uniform(0.3, 0.7))
        k = int(rng.integers(len(ys)))
        x0 = int(np.clip(xs[k] - ww * rng.uniform(0.2, 0.8), 0, w - ww))
        y0 = int(np.clip(ys[k] - hh * rng.uniform(0.2, 0.8), 0, h - hh))
        window = cloth[y0 : y0 + hh, x0 : x0 + ww]
        if window.mean() >= 0.35:
            break
    else:
        return img, mask
    # The window shrunk to the cloth it holds, so that the cloth, not the window, is enlarged.
    wy, wx = np.nonzero(window)
    box = (x0 + int(wx.min()), y0 + int(wy.min()), x0 + int(wx.max()) + 1, y0 + int(wy.max()) + 1)
    ww, hh = box[2] - box[0], box[3] - box[1]
    # At most 2.5x: the renders are small, and a larger zoom shows blur no camera gives.
    zoom = min(rng.uniform(0.7, 1.0) * min(w / ww, h / hh), 2.5)
    nw, nh = max(1, round(ww * zoom)), max(1, round(hh * zoom))
    piece = img.crop(box).resize((nw, nh), Image.Resampling.BILINEAR)
    piece_mask = mask.crop(box).resize((nw, nh), Image.Resampling.NEAREST)
    px = int(rng.uniform(0, max(w - nw, 0) + 1))
    py = int(rng.uniform(0, max(h - nh, 0) + 1))
    out = Image.new("RGB", (w, h))
    out_mask = Image.new("L", (w, h), 0)
    out.paste(piece, (px, py))
    out_mask.paste(piece_mask, (px, py))
    return out, out_mask


def augment(
    img: Image.Image,
    mask: Image.Image | None,
    seed: int,
    *,
    piece: bool = False,
    surfaces: str = "basic",
) -> tuple[Image.Image, Image.Image | None]:
    """One seeded draw of the transforms: (photo, part mask moved with it or None).

    piece: first cut the cloth down to a random window and enlarge it (cut_piece); needs the
    part mask, and without one the photo is only changed as usual.
    surfaces: which backgrounds may show behind the cloth (background())."""
    rng = np.random.default_rng([int(seed), 7919])
    img = img.convert("RGB")
    w, h = img.size
    if mask is not None and mask.size != (w, h):
        mask = mask.resize((w, h), Image.Resampling.NEAREST)
    cut = piece and mask is not None
    if cut:
        assert mask is not None
        img, mask = cut_piece(np.random.default_rng([int(seed), 104729]), img, mask)

    # Geometry first, then a new surface shows wherever the cloth is not.
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    coeffs = _solve_perspective(src, _corners(rng, w, h))
    warped = img.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
    # Where the photo's own frame ends: marks pixels that came from outside the original.
    inside = Image.new("L", (w, h), 255).transform(
        (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.NEAREST
    )
    arr = np.asarray(warped, dtype=np.float32)
    frame = np.asarray(inside) > 0
    if mask is not None:
        mask = mask.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.NEAREST)
        m = np.asarray(mask)
        cloth = np.isin(m, CLOTH)
        # With a mask the old background can go too (cut-and-paste onto a new surface).
        # A piece's old surroundings are blank, and the cloth cut away is not cloth any more.
        keep = cloth if rng.random() < 0.8 or cut else cloth | frame
    else:
        cloth = frame
        keep = frame
    bg = background(rng, (w, h), surfaces)
    arr = np.where(keep[..., None], arr, bg)

    # Fold shading across the cloth, like a hanging or draped saree's pleats.
    if rng.random() < 0.6:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        theta = rng.uniform(0, np.pi)
        period = rng.uniform(w / 12, w / 3)
        wave = np.sin(
            2 * np.pi * (np.cos(theta) * xx + np.sin(theta) * yy) / period + rng.uniform(0, 6.3)
        )
        gain = 1 + rng.uniform(0.05, 0.3) * wave
        arr = np.where(cloth[..., None], arr * gain[..., None], arr)

    # Light: colour temperature, exposure, contrast.
    t = rng.uniform(-1, 1)
    arr = arr * np.array([1 + 0.22 * t, 1 + 0.03 * t, 1 - 0.25 * t], dtype=np.float32)
    arr = arr * rng.uniform(0.7, 1.2)
    mean = arr.mean()
    arr = (arr - mean) * rng.uniform(0.75, 1.15) + mean
    if rng.random() < 0.3:
        arr = arr + rng.normal(0, rng.uniform(2, 10), size=arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.3:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3)))
    return out, mask
