"""View geometry: for every output pixel, which cloth point (u, v) it sees, and how it is lit.

Each view builds layers (back to front). A layer maps pixels to cloth coordinates through an
inverse mapping (homography, fold profile, pleats, ...). The renderer paints colour and the
part mask from the same per-pixel (u, v), so the mask follows the cloth through every fold,
drape and perspective exactly (nearest-neighbour by construction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from saree_app.synth.designs import LENGTH, Design
from saree_app.synth.scene import Lighting, grid, smooth_noise

VIEWS: tuple[str, ...] = ("flat", "partial", "folded", "hung", "draped", "closeup")
# Views drawn only when asked for by name: adding one to VIEWS would change which view every
# seed draws, and with it every rendered data set and the models trained on them.
NAMED_VIEWS: tuple[str, ...] = ("worn", "laid")


@dataclass
class Layer:
    """One visible sheet of cloth: where it is, what cloth point each pixel shows, its light."""

    valid: np.ndarray  # H x W bool
    u: np.ndarray
    v: np.ndarray
    shade: np.ndarray  # diffuse multiplier
    spec: np.ndarray  # specular highlight 0..1
    back: np.ndarray | None = None  # H x W bool: the reverse face is showing (a turned corner)


@dataclass
class Prop:
    """A non-cloth object drawn over the background (mannequin, rod): mask, colour, shading."""

    mask: np.ndarray  # H x W bool
    colour: np.ndarray
    shade: np.ndarray | None = None


@dataclass
class Shot:
    """Everything a view contributes: cloth layers, props, and pixels per cloth unit."""

    layers: list[Layer]
    props: list[Prop] = field(default_factory=list)
    px_per_unit: float = 100.0
    front: list[Prop] = field(default_factory=list)  # drawn over the cloth (a hand, jewellery)


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3 x 3 projective map sending 4 src points to 4 dst points."""
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i in range(4):
        x, y = src[i]
        xx, yy = dst[i]
        a[2 * i] = [x, y, 1, 0, 0, 0, -xx * x, -xx * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -yy * x, -yy * y]
        b[2 * i] = xx
        b[2 * i + 1] = yy
    h = np.linalg.solve(a, b)
    return np.append(h, 1.0).reshape(3, 3)


def apply(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map points through a homography."""
    d = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / d, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / d


def _tilt(rng: np.random.Generator, h: int, w: int, amount: float) -> np.ndarray:
    """A perspective map of the frame: the camera is not quite square to the surface."""
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    k = rng.uniform(0, amount, 4)
    side = rng.random() < 0.5
    dst = src.copy()
    if side:  # top edge further away
        dst[0, 0] += k[0] * w
        dst[1, 0] -= k[1] * w
        dst[0, 1] += k[2] * h * 0.5
        dst[1, 1] += k[3] * h * 0.5
    else:  # one side further away
        dst[0, 1] += k[0] * h
        dst[3, 1] -= k[1] * h
        dst[0, 0] += k[2] * w * 0.5
        dst[3, 0] += k[3] * w * 0.5
    return homography(src, dst)


def _place(
    *,
    centre_img: tuple[float, float],
    centre_uv: tuple[float, float],
    scale: float,
    angle: float,
    mirror: bool,
    rect: tuple[float, float, float, float],
) -> np.ndarray:
    """Image positions of the cloth rectangle's corners (u0v0, u1v0, u1v1, u0v1)."""
    u0, u1, v0, v1 = rect
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for u, v in ((u0, v0), (u1, v0), (u1, v1), (u0, v1)):
        du = (u - centre_uv[0]) * (-1 if mirror else 1)
        dv = v - centre_uv[1]
        pts.append(
            (
                centre_img[0] + scale * (ca * du - sa * dv),
                centre_img[1] + scale * (sa * du + ca * dv),
            )
        )
    return np.array(pts, float)


def _wrinkles(
    rng: np.random.Generator, h: int, w: int, light: Lighting, strength: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Displacement noise (two fields) and the shading of a gently rumpled flat cloth."""
    n1 = smooth_noise(rng, h, w, 5)
    n2 = smooth_noise(rng, h, w, 5)
    bump = smooth_noise(rng, h, w, rng.uniform(4, 9))
    gy, gx = np.gradient(bump)
    dx, dy = light.direction
    g = gx * dx + gy * dy
    g /= float(g.std()) + 1e-6
    shade = 1 + strength * 3 * g
    if rng.random() < 0.5:
        # A storage crease: one face of the ridge lit, the other in shade.
        xs, ys = grid(h, w)
        a = rng.uniform(0, np.pi)
        px, py = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        sig = max(h, w) * rng.uniform(0.01, 0.03)
        dist = ((xs - px) * np.sin(a) - (ys - py) * np.cos(a)) / sig
        shade = shade + rng.uniform(0.1, 0.3) * dist * np.exp(-dist * dist)
    return n1, n2, np.clip(shade, 0.5, 1.4).astype(np.float32)


def _flat_spec(h: int, w: int, rng: np.random.Generator, light: Lighting) -> np.ndarray:
    xs, ys = grid(h, w)
    dx, dy = light.direction
    cx = w * (0.5 - 0.3 * dx + rng.normal(0, 0.1))
    cy = h * (0.5 - 0.3 * dy + rng.normal(0, 0.1))
    r = max(h, w) * rng.uniform(0.25, 0.6)
    out: np.ndarray = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r)).astype(np.float32)
    return out


def _sheet(
    rng: np.random.Generator,
    h: int,
    w: int,
    *,
    light: Lighting,
    quad: np.ndarray,
    rect: tuple[float, float, float, float],
    wrinkle: float,
    tilt: float,
    scale: float,
    fringe: float = 0.0,
    fold: bool = False,
) -> Layer:
    """A flat rectangle of cloth seen through a perspective camera, gently rumpled.

    With `fringe`, loose warp tassels continue past the pallu's end (u beyond LENGTH).
    """
    p = _tilt(rng, h, w, tilt)
    qx, qy = apply(p, quad[:, 0], quad[:, 1])
    u0, u1, v0, v1 = rect
    m = homography(np.stack([qx, qy], 1), np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], float))
    xs, ys = grid(h, w)
    u, v = apply(m.astype(np.float32), xs, ys)
    n1, n2, shade = _wrinkles(rng, h, w, light, wrinkle)
    # Cloth never lies dead straight: small ripples plus a slow bend of the whole spread.
    span = max(h, w) / scale
    amp = wrinkle * 0.12 * span
    bend = rng.uniform(0.0, 0.02) * span
    b1 = smooth_noise(rng, h, w, 1.5)
    u = (u + amp * n1 + 0.5 * bend * b1).astype(np.float32)
    v = (v + amp * n2 + bend * b1).astype(np.float32)
    valid = (u >= u0) & (u < min(u1, LENGTH)) & (v >= v0) & (v < v1)
    if fringe > 0:
        n_tassels = int(rng.integers(25, 60))
        tassel = np.mod(v * n_tassels, 1.0) < rng.uniform(0.3, 0.6)
        valid |= (u >= LENGTH) & (u < LENGTH + fringe) & (v >= v0) & (v < v1) & tassel
    back = None
    if fold:
        # A corner at the pallu end turned over: the flap shows the reverse face, mirrored.
        ue = min(u1, LENGTH)
        vc = v0 if rng.random() < 0.5 else v1
        a1, a2 = rng.uniform(0.15, 0.6), rng.uniform(0.2, 0.7)
        p1u, p1v = ue - a1, vc
        p2u, p2v = ue, (vc + a2 if vc == v0 else vc - a2)
        tu, tv = p2u - p1u, p2v - p1v
        ln = math.hypot(tu, tv)
        nu, nv = tv / ln, -tu / ln
        if (ue - p1u) * nu + (vc - p1v) * nv < 0:
            nu, nv = -nu, -nv
        dist = (u - p1u) * nu + (v - p1v) * nv
        ru = u - 2 * dist * nu
        rv = v - 2 * dist * nv
        flap = (dist <= 0) & (ru >= u0) & (ru < ue) & (rv >= v0) & (rv < v1)
        valid = (valid & (dist <= 0)) | flap
        u = np.where(flap, ru, u).astype(np.float32)
        v = np.where(flap, rv, v).astype(np.float32)
        crease = np.exp(-((dist * scale / 2.5) ** 2))
        shade = (np.where(flap, shade * 0.9, shade) + 0.18 * crease).astype(np.float32)
        back = flap
    # A broad sheen where the light's reflection falls, brighter on the crests of wrinkles.
    spec = _flat_spec(h, w, rng, light) * (0.25 + np.clip(shade - 0.85, 0, 1) * 3)
    return Layer(valid, u, v, shade, spec.astype(np.float32), back)


def _focus(rng: np.random.Generator, d: Design, kinds: list[str]) -> tuple[float, float]:
    ps = LENGTH - d.pallu_len
    kind = kinds[int(rng.integers(len(kinds)))]
    if kind == "join":
        return ps + rng.normal(0, 0.04), rng.uniform(0.15, 0.85)
    if kind == "border":
        bv = rng.uniform(0.3, 1.6) * d.border_w
        return rng.uniform(ps - 2.0, ps - 0.1), bv if rng.random() < 0.5 else 1 - bv
    if kind == "pallu":
        # A cloth with no pallu (or one under 0.2 long: a distractor textile) has only its end
        # to aim at. min() keeps the draws, and so every saree already rendered, unchanged.
        return rng.uniform(min(ps + 0.1, LENGTH - 0.1), LENGTH - 0.1), rng.uniform(0.15, 0.85)
    if kind == "corner":
        # Near the pallu's end corner, but far enough in that the cloth fills most of the frame.
        cv = rng.uniform(0.15, 0.4)
        return LENGTH - rng.uniform(0.15, 0.4), cv if rng.random() < 0.5 else 1 - cv
    return rng.uniform(ps - 2.0, ps - 0.2), rng.uniform(0.25, 0.75)


def _spread_sheet(
    rng: np.random.Generator,
    h: int,
    w: int,
    *,
    light: Lighting,
    rect: tuple[float, float, float, float],
    centre_img: tuple[float, float],
    centre_uv: tuple[float, float],
    scale: float,
    angle: float,
    wrinkle: tuple[float, float],
    tilt: float | tuple[float, float],
    fringe: float = 0.0,
    fold: bool = False,
) -> Layer:
    """A sheet of cloth lying flat (`flat`, `laid`, `partial`, `closeup`): placed, mirrored half
    the time, rumpled by a wrinkle drawn from `wrinkle`, tilted by `tilt` (a pair: the first
    seven times in ten, else the second). The draws come in the order these views always made
    them, so a seed renders the same photo as before."""
    quad = _place(
        centre_img=centre_img,
        centre_uv=centre_uv,
        scale=scale,
        angle=angle,
        mirror=bool(rng.random() < 0.5),
        rect=rect,
    )
    rumple = rng.uniform(*wrinkle)
    # A pair draws once more, after the wrinkle, as the views drew it.
    amount = (tilt[0] if rng.random() < 0.7 else tilt[1]) if isinstance(tilt, tuple) else tilt
    return _sheet(
        rng,
        h,
        w,
        light=light,
        quad=quad,
        rect=rect,
        wrinkle=rumple,
        tilt=amount,
        scale=scale,
        fringe=fringe,
        fold=fold,
    )


def flat(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """The saree spread flat: the pallu and a stretch of body, all four edges in frame."""
    lv = d.pallu_len + rng.uniform(0.5, 1.8)
    # Sometimes the rest of the body runs out of the frame instead of ending at a fold.
    extra = 2.0 if rng.random() < 0.35 else 0.0
    fringe = rng.uniform(0.03, 0.07) if rng.random() < 0.35 else 0.0
    fold = fringe == 0 and bool(rng.random() < 0.35)
    # Often folded in half along its length first: one border shows, the other lies beneath.
    v0, v1, edge = 0.0, 1.0, None
    if rng.random() < 0.3:
        vf = rng.uniform(0.45, 0.65)
        v0, v1, edge = (0.0, vf, vf) if rng.random() < 0.5 else (1 - vf, 1.0, 1 - vf)
    width = v1 - v0
    rect = (LENGTH - lv - extra, LENGTH + fringe, v0, v1)
    angle = rng.normal(0, 0.06) + (math.pi / 2 if (h > w and rng.random() < 0.8) else 0.0)
    bw = lv * abs(math.cos(angle)) + width * abs(math.sin(angle))
    bh = lv * abs(math.sin(angle)) + width * abs(math.cos(angle))
    s = rng.uniform(0.8, 0.98) * min(w / bw, h / bh)
    c_img = (w * rng.uniform(0.45, 0.55), h * rng.uniform(0.45, 0.55))
    layer = _spread_sheet(
        rng,
        h,
        w,
        light=light,
        rect=rect,
        centre_img=c_img,
        centre_uv=(LENGTH - lv / 2, (v0 + v1) / 2),
        scale=s,
        angle=angle,
        wrinkle=(0.01, 0.04),
        tilt=(0.12, 0.3),
        fringe=fringe,
        fold=fold,
    )
    if edge is not None:
        # The rounded fold catches the light.
        ridge = np.exp(-(((layer.v - edge) * s / 3) ** 2))
        layer.shade = (layer.shade + 0.2 * ridge).astype(np.float32)
    return Shot([layer], px_per_unit=s)


def laid(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """The whole saree laid out flat, end to end, as a museum photographs it for its
    catalogue: a frame five to six times longer than wide (`render._frame`). Not one of the
    families a photo's view is drawn from (`VIEWS`): drawn only by name."""
    fringe = rng.uniform(0.03, 0.07) if rng.random() < 0.35 else 0.0
    rect = (0.0, LENGTH + fringe, 0.0, 1.0)
    angle = rng.normal(0, 0.01) + (math.pi / 2 if h > w else 0.0)
    length = LENGTH + fringe
    bw = length * abs(math.cos(angle)) + abs(math.sin(angle))
    bh = length * abs(math.sin(angle)) + abs(math.cos(angle))
    s = rng.uniform(0.86, 0.96) * min(w / bw, h / bh)
    layer = _spread_sheet(
        rng,
        h,
        w,
        light=light,
        rect=rect,
        centre_img=(w * rng.uniform(0.48, 0.52), h * rng.uniform(0.48, 0.52)),
        centre_uv=(length / 2, 0.5),
        scale=s,
        angle=angle,
        wrinkle=(0.01, 0.03),
        tilt=0.05,
        fringe=fringe,
    )
    return Shot([layer], px_per_unit=s)


def partial(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """Part of the spread saree fills the frame: a join, a border run, the pallu's end."""
    fringe = rng.uniform(0.03, 0.07) if rng.random() < 0.35 else 0.0
    fold = fringe == 0 and bool(rng.random() < 0.3)
    rect = (LENGTH - d.pallu_len - 2.6, LENGTH + fringe, 0.0, 1.0)
    cu, cv = _focus(rng, d, ["join", "border", "pallu", "corner", "join", "border", "body"])
    s = max(h, w) / rng.uniform(0.6, 1.5)
    angle = rng.uniform(-0.4, 0.4) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
    c_img = (w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65))
    layer = _spread_sheet(
        rng,
        h,
        w,
        light=light,
        rect=rect,
        centre_img=c_img,
        centre_uv=(cu, cv),
        scale=s,
        angle=angle,
        wrinkle=(0.01, 0.04),
        tilt=(0.15, 0.3),
        fringe=fringe,
        fold=fold,
    )
    return Shot([layer], px_per_unit=s)


def closeup(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """A detail crop: a hand's breadth of cloth fills the frame."""
    rect = (LENGTH - d.pallu_len - 2.6, LENGTH, 0.0, 1.0)
    cu, cv = _focus(rng, d, ["join", "border", "pallu", "body", "border"])
    s = max(h, w) / rng.uniform(0.12, 0.35)
    angle = rng.uniform(-0.3, 0.3) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
    c_img = (w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6))
    layer = _spread_sheet(
        rng,
        h,
        w,
        light=light,
        rect=rect,
        centre_img=c_img,
        centre_uv=(cu, cv),
        scale=s,
        angle=angle,
        wrinkle=(0.01, 0.04),
        tilt=0.1,
    )
    return Shot([layer], px_per_unit=s)


def _unit_map(quad: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    m = homography(quad, np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)).astype(np.float32)
    xs, ys = grid(h, w)
    return apply(m, xs, ys)


def folded(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """A folded saree lying on a surface: the top fold shows border and pallu or body."""
    pw = w * rng.uniform(0.5, 0.78)
    ph = min(pw * rng.uniform(0.55, 0.85), h * 0.7)
    t = ph * rng.uniform(0.12, 0.25)
    angle = rng.normal(0, 0.15)
    cx, cy = w * rng.uniform(0.42, 0.58), h * rng.uniform(0.4, 0.5)
    ca, sa = math.cos(angle), math.sin(angle)

    def pts(local: list[tuple[float, float]]) -> np.ndarray:
        return np.array(
            [
                (
                    cx + ca * (x - pw / 2) - sa * (y - ph / 2),
                    cy + sa * (x - pw / 2) + ca * (y - ph / 2),
                )
                for x, y in local
            ],
            float,
        )

    p = _tilt(rng, h, w, 0.15)
    top = pts([(0, 0), (pw, 0), (pw, ph), (0, ph)])
    side = pts([(0, ph), (pw, ph), (pw, ph + t), (0, ph + t)])
    top = np.stack(apply(p, top[:, 0], top[:, 1]), 1)
    side = np.stack(apply(p, side[:, 0], side[:, 1]), 1)
    lp = rng.uniform(0.28, 0.45)
    vp = lp * ph / pw
    ps = LENGTH - d.pallu_len
    if rng.random() < 0.6:
        ua = rng.uniform(min(ps, LENGTH - lp), LENGTH - lp)
    else:
        ua = rng.uniform(1.0, ps - lp)
    mirror = rng.random() < 0.5

    a, b = _unit_map(top, h, w)
    valid_t = (a >= 0) & (a < 1) & (b >= 0) & (b < 1)
    aa = 1 - a if mirror else a
    u_t = (ua + aa * lp).astype(np.float32)
    v_t = ((1 - b) * vp).astype(np.float32)
    puff = 1 - 0.5 * ((a - 0.5) ** 2 + (b - 0.5) ** 2) - 0.25 * np.clip(b - 0.85, 0, 1)
    _n1, _n2, wr = _wrinkles(rng, h, w, light, 0.015)
    shade_t = (puff * wr).astype(np.float32)
    spec_t = _flat_spec(h, w, rng, light) * 0.6

    a2, b2 = _unit_map(side, h, w)
    valid_s = (a2 >= 0) & (a2 < 1) & (b2 >= 0) & (b2 < 1)
    n_layers = int(rng.integers(6, 14))
    k = np.floor(np.clip(b2, 0, 0.999) * n_layers)
    frac = b2 * n_layers - k
    aa2 = 1 - a2 if mirror else a2
    u_s = (ua + aa2 * lp + 0.37 * k).astype(np.float32)
    v_s = (np.mod(k * 0.618, 1.0) * d.border_w * 0.7).astype(np.float32)
    shade_s = (0.55 + 0.25 * np.sin(np.clip(frac, 0, 1) * math.pi)).astype(np.float32)
    layers = [
        Layer(valid_s, u_s, v_s, shade_s, np.zeros_like(shade_s)),
        Layer(valid_t, u_t, v_t, shade_t, spec_t.astype(np.float32)),
    ]
    return Shot(layers, px_per_unit=pw / lp)


def _fold_profile(
    rng: np.random.Generator, n_folds: float, amp: float, n: int = 1025
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Arc length s over projected x for a cloth with vertical folds; slope dz/ds; mean cos."""
    s = np.linspace(0, 1, n)
    z = np.zeros(n)
    for _ in range(3):
        f = n_folds * rng.uniform(0.6, 1.4)
        z += amp * rng.uniform(0.4, 1.0) * np.sin(2 * np.pi * f * s + rng.uniform(0, 6.3))
    dz = np.gradient(z, s)
    dx = 1 / np.sqrt(1 + dz * dz)
    x = np.concatenate([[0], np.cumsum((dx[1:] + dx[:-1]) / 2)]) / (n - 1)
    mean_cos = float(x[-1])
    return x / x[-1], s, dz, mean_cos


def _fold_light(
    dz: np.ndarray, light: Lighting, spec_power: float = 12.0
) -> tuple[np.ndarray, np.ndarray]:
    nrm = np.sqrt(1 + dz * dz)
    nx, nz = -dz / nrm, 1 / nrm
    lx = light.direction[0] * 0.7
    lz = math.sqrt(1 - lx * lx)
    diffuse = np.clip(nx * lx + nz * lz, 0, 1)
    shade = light.ambient + (1 - light.ambient) * diffuse * 1.1
    hx, hz = lx / 2, (lz + 1) / 2
    hn = math.hypot(hx, hz)
    spec = np.clip((nx * hx + nz * hz) / hn, 0, 1) ** spec_power
    return shade.astype(np.float32), spec.astype(np.float32)


def _folded_sheet(
    rng: np.random.Generator,
    h: int,
    w: int,
    *,
    light: Lighting,
    left: np.ndarray,
    right: np.ndarray,
    n_folds: float,
    amp: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Across-coordinate s (0..1) per pixel of a vertically folded sheet between left/right."""
    xs, _ys = grid(h, w)
    xg, sg, dz, mean_cos = _fold_profile(rng, n_folds, amp)
    shade_g, spec_g = _fold_light(dz, light)
    xn = (xs - left) / np.maximum(right - left, 1e-3)
    inside = (xn >= 0) & (xn < 1)
    s = np.interp(xn, xg, sg).astype(np.float32)
    idx = np.clip((s * (len(sg) - 1)).astype(np.int32), 0, len(sg) - 1)
    return s, inside, shade_g[idx], spec_g[idx], mean_cos


def hung(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """Hung from a rod: the width runs across, folds fall vertically, the pallu hangs down."""
    _xs, ys = grid(h, w)
    y_t = h * rng.uniform(0.03, 0.12)
    y_b = h * rng.uniform(0.75, 1.04)
    wt = w * rng.uniform(0.45, 0.8)
    flare = w * rng.uniform(0.0, 0.12)
    cx = w * rng.uniform(0.42, 0.58)
    tdown = np.clip((ys - y_t) / (y_b - y_t), 0, 1)
    half = wt / 2 + flare * tdown
    left = cx - half
    right = cx + half
    s, inside, shade, spec, mean_cos = _folded_sheet(
        rng,
        h,
        w,
        light=light,
        left=left,
        right=right,
        n_folds=rng.uniform(2.5, 6),
        amp=rng.uniform(0.01, 0.04),
    )
    sv = wt / mean_cos  # px per cloth unit along the length
    down = rng.random() < 0.7  # the pallu hangs at the bottom (else a stretch of body)
    u = LENGTH - (y_b - ys) / sv if down else rng.uniform(1.0, 2.5) + (ys - y_t) / sv
    valid = inside & (ys >= y_t) & (ys < y_b) & (u >= 0) & (u < LENGTH)
    if down and rng.random() < 0.4:
        # Tassels of loose warp below the pallu's end.
        tassel = np.mod(s * rng.integers(25, 60), 1.0) < rng.uniform(0.3, 0.6)
        valid |= inside & (u >= LENGTH) & (u < LENGTH + rng.uniform(0.03, 0.07)) & tassel
    v = s if rng.random() < 0.5 else 1 - s
    rod_h = max(3.0, h * 0.018)
    rod = (np.abs(ys - y_t) < rod_h) & (np.abs(_xs - cx) < wt * 0.62)
    rod_c = np.asarray([(0.45, 0.3, 0.18), (0.7, 0.7, 0.72), (0.2, 0.2, 0.2)][int(rng.integers(3))])
    layer = Layer(valid, u.astype(np.float32), v.astype(np.float32), shade, spec)
    layers = [layer]
    if rng.random() < 0.5:
        # The rest of the saree hangs behind, peeking out beside the front drop.
        off = wt * rng.uniform(0.15, 0.35) * (1 if rng.random() < 0.5 else -1)
        y_b2 = y_b * rng.uniform(0.8, 0.97)
        s2, inside2, shade2, spec2, _mc2 = _folded_sheet(
            rng,
            h,
            w,
            light=light,
            left=left + off,
            right=right + off,
            n_folds=rng.uniform(3, 7),
            amp=rng.uniform(0.02, 0.05),
        )
        u2 = rng.uniform(0.5, 1.5) + (ys - y_t) / sv
        back = inside2 & (ys >= y_t) & (ys < y_b2)
        layers.insert(
            0, Layer(back, u2.astype(np.float32), s2, shade2 * np.float32(0.8), spec2 * 0.5)
        )
    props = [Prop(rod, rod_c)]
    if rng.random() < 0.4:
        # A hanger's hook above the rod.
        hook = Image.new("L", (w, h), 0)
        hd = ImageDraw.Draw(hook)
        r = max(2.0, h * 0.025)
        top = max(0.0, y_t - 3 * r)
        hd.arc((cx - r, top, cx + r, top + 2 * r), 180, 360, fill=1, width=max(1, round(r / 3)))
        hd.line((cx + r, top + r, cx, y_t), fill=1, width=max(1, round(r / 3)))
        hd.polygon([(cx - wt * 0.55, y_t), (cx, y_t - 1.2 * r), (cx + wt * 0.55, y_t)], outline=1)
        props.append(Prop(np.asarray(hook, bool), rod_c))
    return Shot(layers, props, px_per_unit=sv)


def _figure_masks(
    h: int, w: int, cx: float, hs: float, y0: float = 0.0
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[float, float]]]:
    """Mannequin and blouse masks (drawn with PIL polygons) and key points; the head's top at
    `y0`, the figure `hs` tall."""
    img = Image.new("L", (w, h), 0)
    dr = ImageDraw.Draw(img)
    head_y = y0 + 0.09 * hs
    dr.ellipse((cx - 0.05 * hs, head_y - 0.065 * hs, cx + 0.05 * hs, head_y + 0.065 * hs), fill=1)
    dr.rectangle((cx - 0.022 * hs, head_y, cx + 0.022 * hs, y0 + 0.2 * hs), fill=1)
    y_sh, y_w = y0 + 0.2 * hs, y0 + 0.44 * hs
    torso = [
        (cx - 0.14 * hs, y_sh),
        (cx + 0.14 * hs, y_sh),
        (cx + 0.11 * hs, y0 + 0.33 * hs),
        (cx + 0.09 * hs, y_w),
        (cx + 0.12 * hs, y0 + 0.55 * hs),
        (cx - 0.12 * hs, y0 + 0.55 * hs),
        (cx - 0.09 * hs, y_w),
        (cx - 0.11 * hs, y0 + 0.33 * hs),
    ]
    dr.polygon(torso, fill=1)
    for sgn in (-1, 1):
        dr.polygon(
            [
                (cx + sgn * 0.13 * hs, y_sh),
                (cx + sgn * 0.17 * hs, y_sh + 0.03 * hs),
                (cx + sgn * 0.19 * hs, y0 + 0.55 * hs),
                (cx + sgn * 0.15 * hs, y0 + 0.56 * hs),
                (cx + sgn * 0.12 * hs, y0 + 0.3 * hs),
            ],
            fill=1,
        )
    fig = np.asarray(img, bool)
    bl = Image.new("L", (w, h), 0)
    ImageDraw.Draw(bl).polygon(
        [
            (cx - 0.145 * hs, y_sh - 0.005 * hs),
            (cx + 0.145 * hs, y_sh - 0.005 * hs),
            (cx + 0.11 * hs, y0 + 0.35 * hs),
            (cx - 0.11 * hs, y0 + 0.35 * hs),
        ],
        fill=1,
    )
    blouse = np.asarray(bl, bool)
    return fig, blouse, {"shoulder": (y_sh, 0.13 * hs), "waist": (y_w, 0.1 * hs)}


@dataclass(frozen=True)
class _Drape:
    """How the saree is worn in a worn view (see `worn`): how its pallu falls, and what is
    over it; the defaults are `draped`'s."""

    kind: str = "hang"  # the pallu "hang"s beside the arm, is "spread" held out, or "front"
    reach: float | None = None  # the pallu's lower end, in figure heights from the head's top
    width: float = 1.0  # the pallu's width against draped's
    lead: float = 0.15  # how much of the length before the pallu hangs from the shoulder
    on_chest: float = 0.0  # how far into the pallu the run across the chest reaches
    in_front: bool = False  # a forearm and hand, and a necklace, over the cloth


def draped(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """Draped on a mannequin: pleated skirt, the pallu across the chest and over the shoulder."""
    hs = h * rng.uniform(0.95, 1.05)
    cx = w * rng.uniform(0.42, 0.58)
    side = 1.0 if rng.random() < 0.5 else -1.0
    return _dress(rng, h, w, d, light, cx=cx, y0=0.0, hs=hs, side=side, drape=_Drape())


def worn(rng: np.random.Generator, h: int, w: int, d: Design, light: Lighting) -> Shot:
    """Worn as shop and studio photos show a saree: the whole figure small in a room, cut at the
    knees, or the shoulders and pallu filling the frame; the pallu hanging long beside the arm,
    held out to show its design, or falling down the front, and often already the pallu where
    it crosses the chest. Not one of the families a photo's view is drawn from (`VIEWS`), so
    the rendered data sets stay as they were; asked for by name."""
    r = rng.random()
    if r < 0.45:  # the whole figure, feet in frame, room around it
        hs = h * rng.uniform(0.5, 0.95)
        y0 = rng.uniform(0.01, max(0.02, 0.99 - hs / h)) * h
    elif r < 0.8:  # cut at the thighs or knees
        hs = h * rng.uniform(1.05, 1.5)
        y0 = h * rng.uniform(0.0, 0.06)
    else:  # shoulders, chest and pallu
        hs = h * rng.uniform(1.6, 2.3)
        y0 = -hs * rng.uniform(0.0, 0.08)
    cx = w * rng.uniform(0.3, 0.7)
    side = 1.0 if rng.random() < 0.5 else -1.0
    k = rng.random()
    kind = "hang" if k < 0.5 else ("spread" if k < 0.8 else "front")
    drape = _Drape(
        kind=kind,
        reach=float(rng.uniform(0.55, 0.95)),
        width=float(rng.uniform(1.0, 1.8)),
        lead=float(rng.uniform(0.0, 0.15)),
        on_chest=float(rng.uniform(0.1, 0.5)) if rng.random() < 0.6 else 0.0,
        in_front=bool(rng.random() < 0.6),
    )
    return _dress(rng, h, w, d, light, cx=cx, y0=y0, hs=hs, side=side, drape=drape)


def _dress(
    rng: np.random.Generator,
    h: int,
    w: int,
    d: Design,
    light: Lighting,
    *,
    cx: float,
    y0: float,
    hs: float,
    side: float,
    drape: _Drape,
) -> Shot:
    """A figure `hs` tall whose head's top is at `y0`, wearing the saree: pleated skirt, the
    pallu's run across the chest and the pallu from the shoulder as `drape` says."""
    xs, ys = grid(h, w)
    fig, blouse, _kp = _figure_masks(h, w, cx, hs, y0)
    person = rng.random() < 0.5
    if person:  # a model: skin tones, dark hair
        tone = np.asarray(
            [(0.78, 0.58, 0.45), (0.62, 0.44, 0.32), (0.45, 0.3, 0.22), (0.85, 0.68, 0.55)][
                int(rng.integers(4))
            ]
        )
    else:  # a shop mannequin
        tone = np.asarray(
            [(0.92, 0.9, 0.86), (0.25, 0.25, 0.27), (0.6, 0.6, 0.62)][int(rng.integers(3))]
        )
    tone = tone * (1 + rng.normal(0, 0.04, 3))
    body_shade = (0.75 + 0.3 * np.cos(np.clip((xs - cx) / (0.16 * hs), -1.5, 1.5))).astype(
        np.float32
    )
    blouse_c = np.clip(np.asarray(rng.uniform(0.1, 0.8, 3)), 0, 1)
    props = [Prop(fig, tone, body_shade), Prop(blouse, blouse_c, body_shade)]
    if person:
        hair = Image.new("L", (w, h), 0)
        hd = ImageDraw.Draw(hair)
        hd.ellipse((cx - 0.056 * hs, y0 + 0.015 * hs, cx + 0.056 * hs, y0 + 0.1 * hs), fill=1)
        if rng.random() < 0.6:  # a plait or bun behind
            hd.ellipse((cx - 0.04 * hs, y0 + 0.09 * hs, cx + 0.04 * hs, y0 + 0.16 * hs), fill=1)
        hair_c = np.asarray((0.08, 0.06, 0.05)) * rng.uniform(0.8, 1.6)
        props.append(Prop(np.asarray(hair, bool), hair_c, body_shade))
    ps = LENGTH - d.pallu_len
    layers: list[Layer] = []

    # Skirt: width wraps around the body (u), the saree's width runs down to the hem (v).
    y_w, y_h = y0 + 0.44 * hs, min(h * 1.02, y0 + 0.98 * hs)
    tdown = np.clip((ys - y_w) / (y_h - y_w), 0, 1)
    half = 0.105 * hs + 0.1 * hs * tdown
    s, inside, shade, spec, mc = _folded_sheet(
        rng,
        h,
        w,
        light=light,
        left=cx - half,
        right=cx + half,
        n_folds=rng.uniform(2, 4),
        amp=rng.uniform(0.01, 0.03),
    )
    u = (0.2 + s * 0.9).astype(np.float32)
    v = (0.1 + 0.9 * tdown).astype(np.float32)
    skirt = inside & (ys >= y_w) & (ys < y_h)
    layers.append(Layer(skirt, u, v, shade, spec))

    # Pleats: the length folded zigzag, a fan of narrow faces from waist to hem.
    p_half = 0.035 * hs + 0.06 * hs * tdown
    p_cx = cx - side * 0.02 * hs
    n_p = int(rng.integers(5, 9))
    pn = (xs - (p_cx - p_half)) / (2 * p_half) * n_p
    k = np.floor(pn)
    f = pn - k
    pleat = skirt & (pn >= 0) & (pn < n_p)
    pu = (1.3 + k * 0.3 + f * 0.09).astype(np.float32)
    pshade = (0.62 + 0.45 * f - 0.25 * (f > 0.93)).astype(np.float32)
    layers.append(Layer(pleat, pu, v, pshade * light.ambient * 1.6, (f > 0.7) * 0.5 * f))

    # The pallu's run across the chest: from the hip up to the shoulder, gathered in folds.
    ax, ay = cx + side * 0.1 * hs, y_w + 0.02 * hs
    bx, by = cx - side * 0.1 * hs, y0 + 0.2 * hs
    dxl, dyl = bx - ax, by - ay
    ln = math.hypot(dxl, dyl)
    t = ((xs - ax) * dxl + (ys - ay) * dyl) / (ln * ln)
    c = ((xs - ax) * dyl - (ys - ay) * dxl) / ln
    hw = (0.075 - 0.03 * np.clip(t, 0, 1)) * hs
    band = (t >= 0) & (t < 1.02) & (np.abs(c) < hw)
    cn = (c / hw + 1) / 2
    xg, sg, dz, _mc = _fold_profile(rng, rng.uniform(2, 4), rng.uniform(0.02, 0.05))
    sb = np.interp(cn, xg, sg).astype(np.float32)
    bshade, bspec = _fold_light(dz, light)
    bi = np.clip((sb * (len(sg) - 1)).astype(np.int32), 0, len(sg) - 1)
    l_band = 0.55
    # The run ends where the hanging part begins (drape.lead before the pallu), or, where the
    # pallu is pleated over the shoulder, already drape.on_chest into it.
    b_end = ps - drape.lead + drape.on_chest * d.pallu_len
    ub = (b_end - l_band + t * l_band).astype(np.float32)
    layers.append(Layer(band, ub, sb, bshade[bi], bspec[bi]))

    # The pallu from the shoulder.
    top_y = y0 + 0.19 * hs
    reach = rng.uniform(0.62, 0.85) if drape.reach is None else drape.reach
    bot_y = y0 + hs * reach
    td = np.clip((ys - top_y) / (bot_y - top_y), 0, 1)
    if drape.kind == "spread":  # held out: the hand carries its lower corner to the side
        pcx = bx - side * (0.03 * hs + 0.3 * hs * td)
        phalf = (0.06 * hs + 0.17 * hs * td) * drape.width
    elif drape.kind == "front":  # falling down the front, over the skirt
        pcx = bx + side * 0.12 * hs * td
        phalf = (0.06 * hs + 0.05 * hs * td) * drape.width
    else:  # beside the arm
        pcx = bx - side * (0.03 * hs + 0.12 * hs * td)
        phalf = (0.06 * hs + 0.07 * hs * td) * drape.width
    s2, inside2, shade2, spec2, _mc2 = _folded_sheet(
        rng,
        h,
        w,
        light=light,
        left=pcx - phalf,
        right=pcx + phalf,
        n_folds=rng.uniform(2, 4),
        amp=rng.uniform(0.01, 0.04),
    )
    hang = inside2 & (ys >= top_y) & (ys < bot_y)
    uh = (b_end + td * (LENGTH - b_end)).astype(np.float32)
    layers.append(Layer(hang, uh, s2, shade2, spec2))
    front = []
    if drape.in_front:
        front = _in_front(rng, h, w, cx=cx, y0=y0, hs=hs, side=side, tone=tone)
    return Shot(layers, props, px_per_unit=(2 * 0.105 * hs) / (0.9 * mc), front=front)


def _in_front(
    rng: np.random.Generator,
    h: int,
    w: int,
    *,
    cx: float,
    y0: float,
    hs: float,
    side: float,
    tone: np.ndarray,
) -> list[Prop]:
    """What real worn photos show over the saree and label as not saree: the free arm's
    forearm and hand resting on the pleats or the hip, and a necklace over the chest."""
    xs, _ys = grid(h, w)
    shade = (0.8 + 0.2 * np.cos(np.clip((xs - cx) / (0.2 * hs), -1.5, 1.5))).astype(np.float32)
    arm = Image.new("L", (w, h), 0)
    dr = ImageDraw.Draw(arm)
    elbow = (cx + side * 0.17 * hs, y0 + rng.uniform(0.36, 0.42) * hs)
    hand = (cx + side * rng.uniform(0.0, 0.12) * hs, y0 + rng.uniform(0.46, 0.6) * hs)
    dr.line((*elbow, *hand), fill=1, width=max(1, round(0.045 * hs)))
    r = 0.032 * hs
    dr.ellipse((hand[0] - r, hand[1] - r * 1.3, hand[0] + r, hand[1] + r * 1.3), fill=1)
    out = [Prop(np.asarray(arm, bool), tone, shade)]
    if rng.random() < 0.6:
        neck = Image.new("L", (w, h), 0)
        drop = rng.uniform(0.05, 0.14) * hs
        box = (cx - 0.06 * hs, y0 + 0.2 * hs - drop, cx + 0.06 * hs, y0 + 0.2 * hs + drop)
        ImageDraw.Draw(neck).arc(box, 10, 170, fill=1, width=max(1, round(0.012 * hs)))
        gold = np.asarray((0.85, 0.68, 0.3)) * rng.uniform(0.8, 1.1)
        out.append(Prop(np.asarray(neck, bool), gold, shade))
    return out


BUILDERS = {
    "flat": flat,
    "partial": partial,
    "folded": folded,
    "hung": hung,
    "draped": draped,
    "closeup": closeup,
    "worn": worn,
    "laid": laid,
}
