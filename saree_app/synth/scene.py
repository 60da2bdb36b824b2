"""Scene families: backgrounds, lighting set-ups and camera pipelines, each a named family."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageFilter

BACKGROUNDS: tuple[str, ...] = ("plain", "gradient", "wood", "mat", "fabric", "interior")
LIGHTINGS: tuple[str, ...] = ("soft", "warm_side", "cool_window", "spot", "tungsten", "flash")
CAMERAS: tuple[str, ...] = ("clean", "phone", "soft_focus", "low_light")


@cache
def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y), each H x W float32; cached and read-only."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs += 0.5
    ys += 0.5
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: float) -> np.ndarray:
    """Low-frequency noise (about `cells` blobs across the longer side), H x W float32 ~N(0,1)."""
    gh = max(2, round(cells * h / max(h, w)) + 2)
    gw = max(2, round(cells * w / max(h, w)) + 2)
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    img = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32)


def _c(rng: np.random.Generator, base: tuple[int, int, int], jitter: float = 25) -> np.ndarray:
    c = np.clip(np.asarray(base, np.float32) + rng.normal(0, jitter, 3), 0, 255) / 255.0
    return c.astype(np.float32)


def background(name: str, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An H x W x 3 float32 (0..1) background of the named family."""
    xs = (np.arange(w, dtype=np.float32) + 0.5)[None, :]
    ys = (np.arange(h, dtype=np.float32) + 0.5)[:, None]
    xn, yn = xs / w, ys / h
    if name == "plain":
        base = _c(
            rng,
            [
                (235, 235, 232),
                (60, 60, 62),
                (200, 190, 170),
                (120, 130, 140),
                (30, 30, 32),
                (160, 150, 140),
            ][int(rng.integers(6))],
            15,
        )
        img = np.broadcast_to(base, (h, w, 3)).copy()
        img *= (1 + 0.03 * smooth_noise(rng, h, w, 3))[..., None]
    elif name == "gradient":
        a = _c(rng, (200, 200, 205), 40)
        b = _c(rng, (70, 70, 80), 40)
        ang = rng.uniform(0, 2 * np.pi)
        t = np.clip(0.5 + (np.cos(ang) * (xn - 0.5) + np.sin(ang) * (yn - 0.5)) * 1.2, 0, 1)
        img = a * (1 - t[..., None]) + b * t[..., None]
    elif name == "wood":
        tone = _c(
            rng,
            [(150, 95, 55), (110, 70, 40), (190, 140, 90), (80, 50, 30)][int(rng.integers(4))],
            12,
        )
        vertical = rng.random() < 0.5
        along, across = (ys, xs) if vertical else (xs, ys)
        plank = max(h, w) * rng.uniform(0.12, 0.3)
        k = np.floor(across / plank)
        warp = smooth_noise(rng, h, w, 4) * 6
        grain = np.sin((across + warp * 1.5 + k * 37.0) * rng.uniform(0.25, 0.6) + along * 0.01)
        ring = np.sin((across + warp * 4) * 0.03 + k)
        shade = 1 + 0.08 * grain + 0.1 * ring + 0.12 * (np.sin(k * 12.9898) * 0.5)
        gap = np.mod(across, plank) < 1.5
        shade = np.where(gap, 0.55, shade)
        img = tone * shade[..., None]
    elif name == "mat":
        tone = _c(rng, [(200, 175, 120), (180, 150, 95), (160, 140, 100)][int(rng.integers(3))], 15)
        pitch = rng.uniform(3.0, 6.0) * max(h, w) / 320
        a = np.mod(xs / pitch, 2.0) < 1.0
        b = np.mod(ys / (pitch * 4), 2.0) < 1.0
        weave = np.where(a ^ b, 1.05, 0.88)
        strand = 1 + 0.08 * np.sin(xs / pitch * np.pi * 2) * np.sin(ys / pitch * 0.7)
        stripe = np.mod(np.floor(ys / (pitch * 16)), 5) == 0
        dye = np.where(stripe[..., None], _c(rng, (140, 40, 40), 30), tone)
        img = dye * (weave * strand)[..., None]
    elif name == "fabric":
        base = _c(
            rng,
            [(70, 80, 110), (200, 200, 195), (120, 40, 40), (60, 90, 60), (180, 160, 130)][
                int(rng.integers(5))
            ],
            20,
        )
        folds = smooth_noise(rng, h, w, 5)
        tex = 1 + 0.04 * np.sin(xs * 2.1) * np.sin(ys * 2.3)
        img = base * ((1 + 0.12 * folds) * tex)[..., None]
    elif name == "interior":
        wall = _c(
            rng,
            [(225, 215, 195), (200, 210, 215), (230, 225, 220), (180, 160, 140)][
                int(rng.integers(4))
            ],
            15,
        )
        floor_c = _c(rng, [(120, 80, 50), (170, 165, 160), (90, 70, 60)][int(rng.integers(3))], 15)
        horizon = rng.uniform(0.55, 0.85)
        img = np.where((yn < horizon)[..., None], wall, floor_c)
        img = np.broadcast_to(img, (h, w, 3)).copy()
        img = img * (1 - 0.15 * (yn > horizon) * (yn - horizon))[..., None]
        skirting = np.broadcast_to((yn > horizon - 0.02) & (yn < horizon), (h, w))
        img[skirting] = _c(rng, (240, 240, 240), 20)
        if rng.random() < 0.6:
            x0, x1 = sorted(rng.uniform(0, 1, 2))
            y0, y1 = sorted(rng.uniform(0.05, horizon - 0.05, 2))
            win = (xn > x0) & (xn < x1) & (yn > y0) & (yn < y1)
            img[win] = (
                _c(rng, (235, 240, 250), 10) if rng.random() < 0.5 else _c(rng, (120, 90, 70), 20)
            )
        img = img * (1 + 0.04 * smooth_noise(rng, h, w, 4))[..., None]
    else:
        raise ValueError(f"unknown background family {name!r}; known: {', '.join(BACKGROUNDS)}")
    out: np.ndarray = np.clip(img, 0, 1).astype(np.float32)
    return out


@dataclass
class Lighting:
    """Colour, direction and falloff of one lighting set-up."""

    colour: np.ndarray  # 3, multiplies everything
    direction: tuple[float, float]  # light comes from this image-plane direction (unit)
    gradient: float  # brightness change across the frame along the direction
    vignette: float
    spot: float  # > 0: a pool of light of this radius (fraction of the frame)
    spot_centre: tuple[float, float]
    specular: float  # how strong highlights on silk and zari are
    ambient: float  # fold shading is mixed with this much flat light
    shadow: float  # strength of the cloth's drop shadow
    bars: float = 0.0  # > 0: soft shadows of window bars fall across the frame, this dark
    bar_angle: float = 0.0
    bar_pitch: float = 0.3  # fraction of the frame between bars

    def field(self, h: int, w: int) -> np.ndarray:
        """Brightness over the frame, H x W float32."""
        xs, ys = grid(h, w)
        xn = xs / w - 0.5
        yn = ys / h - 0.5
        dx, dy = self.direction
        f = 1 - self.gradient * (dx * xn + dy * yn)
        f = f * (1 - self.vignette * (xn * xn + yn * yn) * 2)
        if self.spot > 0:
            cx, cy = self.spot_centre
            r2 = (xn - cx) ** 2 + (yn - cy) ** 2
            f = f * (0.45 + 0.75 * np.exp(-r2 / (2 * self.spot**2)))
        if self.bars > 0:
            t = (np.cos(self.bar_angle) * xn + np.sin(self.bar_angle) * yn) / self.bar_pitch
            bar = np.clip((np.abs(np.mod(t, 1.0) - 0.5) - 0.38) * 12, 0, 1)
            f = f * (1 - self.bars * bar)
        out: np.ndarray = f.astype(np.float32)
        return out


def lighting(name: str, rng: np.random.Generator) -> Lighting:
    """A random instance of the named lighting family."""
    ang = rng.uniform(0, 2 * np.pi)
    d = (float(np.cos(ang)), float(np.sin(ang)))
    u = rng.uniform
    if name == "soft":
        return Lighting(
            np.array([1.0, 1.0, 0.98]) * u(0.95, 1.08),
            d,
            u(0, 0.15),
            u(0, 0.1),
            0,
            (0, 0),
            u(0.2, 0.4),
            u(0.5, 0.7),
            u(0.05, 0.15),
        )
    if name == "warm_side":
        d = (float(rng.choice([-1.0, 1.0])), u(-0.3, 0.3))
        return Lighting(
            np.array([1.08, 0.97, 0.8]) * u(0.95, 1.1),
            d,
            u(0.35, 0.7),
            u(0.1, 0.3),
            0,
            (0, 0),
            u(0.5, 0.9),
            u(0.25, 0.45),
            u(0.25, 0.45),
        )
    if name == "cool_window":
        d = (float(rng.choice([-1.0, 1.0])), u(-0.5, 0.2))
        return Lighting(
            np.array([0.88, 0.96, 1.08]) * u(0.95, 1.1),
            d,
            u(0.3, 0.6),
            u(0.05, 0.2),
            0,
            (0, 0),
            u(0.3, 0.6),
            u(0.35, 0.55),
            u(0.15, 0.3),
            bars=u(0.2, 0.45) if rng.random() < 0.4 else 0.0,
            bar_angle=u(0, np.pi),
            bar_pitch=u(0.2, 0.45),
        )
    if name == "spot":
        return Lighting(
            np.array([1.04, 1.0, 0.92]) * u(1.0, 1.15),
            d,
            u(0, 0.2),
            u(0.1, 0.3),
            u(0.25, 0.45),
            (u(-0.15, 0.15), u(-0.15, 0.15)),
            u(0.6, 1.0),
            u(0.3, 0.5),
            u(0.3, 0.5),
        )
    if name == "tungsten":
        return Lighting(
            np.array([1.15, 0.92, 0.62]) * u(0.85, 1.0),
            d,
            u(0.1, 0.4),
            u(0.15, 0.35),
            0,
            (0, 0),
            u(0.4, 0.7),
            u(0.35, 0.55),
            u(0.2, 0.35),
        )
    if name == "flash":
        return Lighting(
            np.array([1.0, 1.0, 1.02]) * u(1.05, 1.2),
            (0.0, 0.0),
            0.0,
            u(0.3, 0.6),
            0,
            (0, 0),
            u(0.6, 1.0),
            u(0.6, 0.8),
            u(0.35, 0.6),
        )
    raise ValueError(f"unknown lighting family {name!r}; known: {', '.join(LIGHTINGS)}")


_NOISE_SIDE = 1024
_THIRD = np.full(3, 1 / 3, np.float32)


@cache
def _noise_texture() -> np.ndarray:
    """A fixed field of sensor noise (luma plus weaker chroma), sliced at random offsets."""
    rng = np.random.default_rng(20240601)
    side = _NOISE_SIDE
    luma = rng.standard_normal((side, side, 1), dtype=np.float32)
    chroma = rng.standard_normal((side, side, 3), dtype=np.float32) * np.float32(0.4)
    tex = luma + chroma
    tex.setflags(write=False)
    return tex


def _sensor_noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """H x W x 3 unit sensor noise: a random window of the fixed texture (cheap), or fresh."""
    if h > _NOISE_SIDE or w > _NOISE_SIDE:
        return rng.standard_normal((h, w, 3), dtype=np.float32)
    tex = _noise_texture()
    oy = int(rng.integers(0, _NOISE_SIDE - h + 1))
    ox = int(rng.integers(0, _NOISE_SIDE - w + 1))
    out: np.ndarray = tex[oy : oy + h, ox : ox + w]
    return out if rng.random() < 0.5 else -out


def camera(
    name: str, rng: np.random.Generator, img: np.ndarray, *, depth_of_field: bool = False
) -> Image.Image:
    """The named camera pipeline: exposure, blur, sensor noise, JPEG; float H x W x 3 -> RGB.

    With `depth_of_field`, one side of the frame falls out of focus (a close-up taken at a slant).
    """
    h, w = img.shape[:2]
    scale = max(h, w) / 320
    if name == "clean":
        blur, noise, quality, gain = rng.uniform(0, 0.5), rng.uniform(0.5, 2), (88, 96), 1.0
    elif name == "phone":
        blur, noise, quality, gain = rng.uniform(0.2, 0.8), rng.uniform(2, 5), (68, 88), 1.0
        mean = (img @ _THIRD)[..., None]
        img = mean + (img - mean) * np.float32(rng.uniform(1.05, 1.25))
    elif name == "soft_focus":
        blur, noise, quality, gain = rng.uniform(0.7, 1.5), rng.uniform(1, 3), (80, 92), 1.0
    elif name == "low_light":
        blur, noise, quality, gain = rng.uniform(0.3, 1.0), rng.uniform(6, 12), (60, 80), 0.7
    else:
        raise ValueError(f"unknown camera family {name!r}; known: {', '.join(CAMERAS)}")
    img = img * np.float32(gain * rng.uniform(0.92, 1.08))
    # Every camera grades colour a little differently: white balance, saturation, tone curve.
    wb = (1 + rng.normal(0, 0.035, 3)).astype(np.float32)
    img = np.clip(img * wb, 0, 1.2)
    mean = (img @ _THIRD)[..., None]
    img = mean + (img - mean) * np.float32(rng.uniform(0.75, 1.12))
    k = np.float32(rng.uniform(-0.25, 0.25))  # > 0 lifts shadows, < 0 deepens them
    img = img * (1 + k * (1 - img))
    arr = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    pil = Image.fromarray(arr)
    if blur * scale > 0.3:
        pil = pil.filter(ImageFilter.GaussianBlur(blur * scale))
    if depth_of_field:
        xs, ys = grid(h, w)
        ang = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(ang) * (xs / w - 0.5) + np.sin(ang) * (ys / h - 0.5)) * 2
        ramp = ramp - rng.uniform(-0.3, 0.5)
        weight = np.clip(ramp * 255, 0, 255).astype(np.uint8)
        soft = pil.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.5) * scale))
        pil = Image.composite(soft, pil, Image.fromarray(weight))
    if noise > 0:
        a = np.asarray(pil, np.float32) + _sensor_noise(rng, h, w) * np.float32(noise)
        pil = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=int(rng.integers(quality[0], quality[1] + 1)))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")
