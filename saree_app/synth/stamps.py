"""Motif stamps: small label maps (0 empty, 1 main, 2 second colour, 3 accent) drawn once."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

S = 128  # stamp side in pixels: nearest-neighbour look-ups stay smooth even in close-ups
_K = S / 64  # the drawings below are written on a 64-pixel grid


class Draw:
    """ImageDraw on a 64-unit grid, scaled to the stamp's real side."""

    def __init__(self, img: Image.Image) -> None:
        self._d = ImageDraw.Draw(img)

    @staticmethod
    def _xy(xy: object) -> list[float]:
        flat: list[float] = []
        for p in xy:  # type: ignore[attr-defined]
            if isinstance(p, tuple):
                flat += [float(p[0]) * _K, float(p[1]) * _K]
            else:
                flat.append(float(p) * _K)
        return flat

    def ellipse(self, xy: object, fill: int) -> None:
        self._d.ellipse(self._xy(xy), fill=fill)

    def rectangle(self, xy: object, fill: int) -> None:
        self._d.rectangle(self._xy(xy), fill=fill)

    def polygon(self, xy: object, fill: int) -> None:
        self._d.polygon(self._xy(xy), fill=fill)

    def pieslice(self, xy: object, start: float, end: float, fill: int) -> None:
        self._d.pieslice(self._xy(xy), start, end, fill=fill)

    def arc_ellipse(self, xy: object, fill: int) -> None:
        self._d.ellipse(self._xy(xy), outline=fill, width=round(3 * _K))

    def line(self, xy: object, fill: int, width: int = 1) -> None:
        self._d.line(self._xy(xy), fill=fill, width=round(width * _K))


def _peacock(d: Draw) -> None:
    # In profile, facing right: a long trailing tail with eyes, plump body, S-neck, crest.
    d.polygon([(30, 40), (2, 50), (0, 60), (10, 62), (36, 48)], fill=2)
    for x, y in ((6, 56), (14, 54), (22, 51)):
        d.ellipse((x - 3, y - 3, x + 3, y + 3), fill=3)
    d.ellipse((20, 26, 48, 52), fill=1)
    d.ellipse((25, 32, 39, 46), fill=2)
    d.polygon([(36, 30), (40, 16), (44, 8), (54, 8), (50, 20), (48, 34)], fill=1)
    d.ellipse((44, 4, 56, 14), fill=1)
    d.polygon([(55, 8), (63, 11), (55, 12)], fill=3)
    for x in (46, 49, 52):
        d.line((x, 5, x - 2, 0), fill=3, width=2)
        d.ellipse((x - 3, -1, x - 1, 1), fill=3)
    d.line((32, 49, 30, 60), fill=1, width=2)
    d.line((38, 49, 40, 60), fill=1, width=2)


def _parrot(d: Draw) -> None:
    d.polygon([(18, 40), (4, 62), (12, 62), (26, 44)], fill=2)
    d.ellipse((16, 18, 42, 50), fill=1)
    d.ellipse((22, 26, 38, 46), fill=2)
    d.ellipse((32, 6, 52, 26), fill=1)
    d.polygon([(50, 12), (60, 18), (50, 24)], fill=3)
    d.ellipse((42, 12, 46, 16), fill=3)


def _paisley(d: Draw) -> None:
    # Mango / kalga: a round body whose tip sweeps up and curls over.
    d.ellipse((8, 22, 48, 62), fill=1)
    d.polygon(
        [
            (9, 38),
            (12, 24),
            (22, 12),
            (36, 4),
            (50, 1),
            (60, 5),
            (56, 10),
            (48, 12),
            (42, 18),
            (44, 30),
            (47, 40),
        ],
        fill=1,
    )
    d.ellipse((16, 32, 40, 56), fill=2)
    d.polygon([(17, 40), (22, 26), (32, 16), (40, 14), (36, 22), (36, 34)], fill=2)
    d.ellipse((24, 40, 34, 50), fill=3)
    for k in range(7):
        a = math.radians(100 + k * 30)
        x, y = 28 + 22 * math.cos(a), 42 + 22 * math.sin(a)
        d.ellipse((x - 2, y - 2, x + 2, y + 2), fill=3)


def _rudraksha(d: Draw) -> None:
    d.ellipse((6, 6, 58, 58), fill=1)
    for k in range(10):
        a = 2 * math.pi * k / 10
        x, y = 32 + 17 * math.cos(a), 32 + 17 * math.sin(a)
        d.ellipse((x - 4, y - 4, x + 4, y + 4), fill=2)
    d.ellipse((26, 26, 38, 38), fill=3)


def _coin(d: Draw) -> None:
    d.ellipse((8, 8, 56, 56), fill=1)
    d.ellipse((15, 15, 49, 49), fill=2)
    d.ellipse((20, 20, 44, 44), fill=1)
    d.ellipse((28, 28, 36, 36), fill=3)


def _flower(d: Draw) -> None:
    for k in range(6):
        a = 2 * math.pi * k / 6
        x, y = 32 + 15 * math.cos(a), 32 + 15 * math.sin(a)
        d.ellipse((x - 11, y - 11, x + 11, y + 11), fill=1)
    d.ellipse((22, 22, 42, 42), fill=3)


def _elephant(d: Draw) -> None:
    # Facing right, trunk curled down, a caparison cloth on the back.
    d.ellipse((4, 16, 46, 46), fill=1)
    d.ellipse((34, 10, 58, 36), fill=1)
    d.polygon([(52, 26), (60, 30), (60, 50), (56, 58), (50, 56), (54, 48), (52, 34)], fill=1)
    for x in (8, 18, 30, 40):
        d.rectangle((x, 36, x + 7, 60), fill=1)
    d.ellipse((36, 14, 48, 32), fill=2)
    d.polygon([(12, 16), (38, 16), (36, 32), (14, 32)], fill=3)
    d.line((4, 28, 0, 40), fill=1, width=3)
    d.polygon([(52, 34), (58, 42), (54, 44)], fill=2)


def _swan(d: Draw) -> None:
    d.ellipse((4, 30, 46, 54), fill=1)
    d.polygon([(4, 36), (0, 26), (14, 34)], fill=1)
    d.line((40, 36, 46, 20, 40, 10, 46, 4), fill=1, width=6)
    d.ellipse((42, 2, 52, 10), fill=1)
    d.polygon([(51, 5), (60, 8), (51, 9)], fill=3)
    d.ellipse((12, 36, 34, 48), fill=2)


def _conch(d: Draw) -> None:
    # Shankha: a spiralled shell with a pointed spire and a flared lip.
    d.ellipse((12, 18, 48, 60), fill=1)
    d.polygon([(20, 24), (30, 0), (40, 24)], fill=1)
    d.polygon([(44, 28), (60, 40), (52, 58), (40, 56)], fill=1)
    d.line((22, 12, 38, 12), fill=2, width=3)
    d.line((18, 22, 42, 22), fill=2, width=3)
    d.arc_ellipse((20, 28, 44, 54), fill=2)
    d.ellipse((28, 38, 36, 46), fill=3)


def _wheel(d: Draw) -> None:
    d.ellipse((4, 4, 60, 60), fill=1)
    d.ellipse((11, 11, 53, 53), fill=0)
    for k in range(8):
        a = math.pi * k / 4
        d.line((32, 32, 32 + 24 * math.cos(a), 32 + 24 * math.sin(a)), fill=2, width=4)
    d.ellipse((24, 24, 40, 40), fill=3)


def _fish(d: Draw) -> None:
    d.ellipse((10, 18, 50, 46), fill=1)
    d.polygon([(12, 32), (0, 18), (0, 46)], fill=1)
    d.polygon([(26, 20), (34, 10), (40, 22)], fill=2)
    d.polygon([(26, 44), (34, 54), (40, 42)], fill=2)
    d.ellipse((40, 26, 46, 32), fill=3)


def _figure(d: Draw) -> None:
    d.ellipse((26, 2, 38, 14), fill=3)
    d.polygon([(32, 14), (16, 58), (48, 58)], fill=1)
    d.rectangle((28, 14, 36, 30), fill=1)
    d.line((28, 20, 14, 34), fill=1, width=4)
    d.line((36, 20, 50, 30), fill=1, width=4)
    d.line((22, 42, 42, 42), fill=2, width=4)


def _rider(d: Draw) -> None:
    d.ellipse((6, 28, 46, 44), fill=1)
    d.polygon([(40, 30), (52, 12), (60, 16), (50, 36)], fill=1)
    for x in (10, 18, 34, 40):
        d.rectangle((x, 40, x + 4, 60), fill=1)
    d.polygon([(4, 32), (0, 48), (6, 34)], fill=1)
    d.ellipse((24, 2, 34, 12), fill=3)
    d.polygon([(26, 12), (20, 30), (36, 30), (32, 12)], fill=2)


def _temple(d: Draw) -> None:
    steps = 5
    for k in range(steps):
        w = 30 - 5.5 * k
        y0 = 62 - 12 * (k + 1)
        d.rectangle((32 - w, y0, 32 + w, y0 + 12), fill=1)
    d.polygon([(32, 0), (26, 6), (38, 6)], fill=3)
    d.rectangle((28, 40, 36, 62), fill=2)


def _diamond(d: Draw) -> None:
    d.polygon([(32, 2), (62, 32), (32, 62), (2, 32)], fill=1)
    d.polygon([(32, 14), (50, 32), (32, 50), (14, 32)], fill=2)
    d.polygon([(32, 24), (40, 32), (32, 40), (24, 32)], fill=3)


def _jamdani(d: Draw) -> None:
    # Stepped geometric flower, the way extra-weft floats build shapes thread by thread.
    for k in range(4):
        a = 6 + 6 * k
        d.rectangle((32 - a, 32 - (26 - 6 * k), 32 + a, 32 + (26 - 6 * k)), fill=1 + (k % 2))
    d.rectangle((28, 2, 36, 62), fill=1)
    d.rectangle((2, 28, 62, 36), fill=1)
    d.rectangle((28, 28, 36, 36), fill=3)


def _star(d: Draw) -> None:
    pts = []
    for k in range(16):
        r = 30 if k % 2 == 0 else 13
        a = math.pi * k / 8
        pts.append((32 + r * math.cos(a), 32 + r * math.sin(a)))
    d.polygon(pts, fill=1)
    d.ellipse((25, 25, 39, 39), fill=3)


def _lotus(d: Draw) -> None:
    d.ellipse((22, 4, 42, 50), fill=1)
    d.polygon([(32, 50), (4, 24), (10, 46)], fill=2)
    d.polygon([(32, 50), (60, 24), (54, 46)], fill=2)
    d.rectangle((8, 50, 56, 58), fill=3)


def _chatai(d: Draw) -> None:
    # Mat (chatai) weave motif: interlaced short bars.
    for i in range(4):
        for j in range(4):
            x, y = i * 16, j * 16
            if (i + j) % 2:
                d.rectangle((x + 2, y + 5, x + 14, y + 11), fill=1)
            else:
                d.rectangle((x + 5, y + 2, x + 11, y + 14), fill=2)


def _boota(d: Draw) -> None:
    # Mughal flowering plant: a stem with paired leaves, a large bloom and two buds.
    d.line((32, 62, 32, 20), fill=2, width=4)
    for y, sgn in ((50, -1), (42, 1), (34, -1)):
        d.ellipse((32 + sgn * 16 - 8, y - 5, 32 + sgn * 16 + 8, y + 5), fill=2)
    d.ellipse((18, 4, 46, 30), fill=1)
    d.ellipse((26, 10, 38, 24), fill=3)
    d.ellipse((6, 18, 18, 30), fill=1)
    d.ellipse((46, 18, 58, 30), fill=1)
    d.rectangle((22, 58, 42, 63), fill=2)


def _eent(d: Draw) -> None:
    # Brick (eent) motif: staggered courses.
    for j in range(4):
        off = 8 if j % 2 else 0
        for i in range(-1, 4):
            x = i * 16 + off
            d.rectangle((x + 1, j * 16 + 2, x + 14, j * 16 + 13), fill=1 if (i + j) % 2 else 2)


_DRAWERS: dict[str, Callable[[Draw], None]] = {
    "peacock": _peacock,
    "parrot": _parrot,
    "paisley": _paisley,
    "rudraksha": _rudraksha,
    "coin": _coin,
    "flower": _flower,
    "elephant": _elephant,
    "swan": _swan,
    "conch": _conch,
    "wheel": _wheel,
    "fish": _fish,
    "figure": _figure,
    "rider": _rider,
    "temple": _temple,
    "diamond": _diamond,
    "jamdani": _jamdani,
    "star": _star,
    "lotus": _lotus,
    "chatai": _chatai,
    "eent": _eent,
    "boota": _boota,
}

NAMES: tuple[str, ...] = tuple(_DRAWERS)


@cache
def stamp(name: str) -> np.ndarray:
    """The label map of a motif, S x S uint8 (0 empty, 1-3 colour slots); cached."""
    if name not in _DRAWERS:
        raise KeyError(f"unknown motif stamp {name!r}; known: {', '.join(NAMES)}")
    img = Image.new("L", (S, S), 0)
    _DRAWERS[name](Draw(img))
    arr = np.asarray(img, dtype=np.uint8).copy()
    arr.setflags(write=False)
    return arr
