"""Design grammars: each tradition's body, border and pallu as bands of painters, with labels.

A saree is laid out in cloth coordinates: u along the length (0..LENGTH, in saree widths),
v across the width (0..1). Borders run along both long edges (v near 0 and 1), the pallu
fills the end u > LENGTH - pallu_len between the borders, and some traditions add a narrow
end border. Every band says which ontology attributes it shows, so the renderer can label a
photo with exactly the attributes whose bands are visible in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from saree_app.synth import patterns as pt
from saree_app.synth.patterns import Colour, Painter, rgb

LENGTH = 5.0  # a 5.5 m saree of 1.1 m width

BODY, BORDER, PALLU = 1, 2, 3

# Palette: names used by the grammars; each draw is jittered a little (dye lots differ).
C: dict[str, Colour] = {
    "magenta": rgb(185, 20, 95),
    "rani": rgb(215, 30, 120),
    "maroon": rgb(105, 14, 30),
    "red": rgb(180, 22, 32),
    "crimson": rgb(150, 10, 40),
    "bottle": rgb(18, 85, 48),
    "parrot": rgb(80, 160, 45),
    "mustard": rgb(205, 155, 30),
    "purple": rgb(85, 28, 110),
    "royal": rgb(28, 48, 140),
    "peacock": rgb(8, 98, 118),
    "orange": rgb(220, 100, 20),
    "pink": rgb(230, 100, 145),
    "black": rgb(25, 22, 26),
    "cream": rgb(232, 222, 196),
    "offwhite": rgb(240, 234, 218),
    "white": rgb(244, 243, 236),
    "indigo": rgb(34, 40, 92),
    "yellow": rgb(238, 196, 35),
    "beige": rgb(212, 192, 156),
    "grey": rgb(140, 140, 145),
    "teal": rgb(20, 118, 108),
    "rust": rgb(158, 62, 30),
    "peach": rgb(244, 196, 168),
    "mint": rgb(186, 226, 198),
    "sky": rgb(176, 206, 232),
    "lavender": rgb(198, 178, 218),
    "ivory": rgb(248, 242, 222),
    "palepink": rgb(242, 202, 208),
    "lemon": rgb(238, 232, 150),
    "mauve": rgb(150, 95, 125),
    "olive": rgb(110, 110, 40),
    "brown": rgb(95, 55, 30),
    "navy": rgb(22, 30, 70),
    "green": rgb(30, 120, 60),
    "gold": rgb(212, 170, 80),
    "oldgold": rgb(178, 140, 70),
    "silver": rgb(200, 200, 206),
    "copper": rgb(190, 115, 70),
}


@dataclass
class Band:
    """A stripe of a part: [lo, hi) in the part's own across coordinate, and what it shows."""

    lo: float
    hi: float
    painter: Painter
    attrs: tuple[str, ...] = ()
    cell: float = 0.0  # cloth area of one repeat: the band shows its motif once this much is seen
    motif: float = 0.0  # motif size (widths): must span a few pixels to count as visible


@dataclass
class Design:
    """One saree: the bands of its body, borders and pallu, plus how the cloth behaves."""

    tradition: str
    body: Band
    border_w: float
    border_bands: list[Band]
    pallu_len: float
    pallu_bands: list[Band]
    end_border: float = 0.0
    end_colour: Colour = (0.8, 0.65, 0.3)
    body_opacity: float = 1.0
    other_opacity: float = 1.0
    sheen: float = 0.3  # silk gloss; cotton is low
    weave: float = 0.06  # thread texture contrast seen in close-ups
    slub: float = 0.04  # thread-to-thread unevenness (handspun cotton more than silk)
    shot: Colour | None = None  # weft colour of a shot silk, seen in highlights
    reversible: bool = False  # the reverse face looks like the front (double ikat, jamdani)
    reversible_border: bool = False  # the border is woven to look the same on both faces
    requires: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def bands(self) -> list[Band]:
        """All bands in id order: body, border bands, pallu bands, end border."""
        end = Band(0, 1, pt.solid(self.end_colour))
        return [self.body, *self.border_bands, *self.pallu_bands, end]

    def parts(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per point: part (1 body, 2 border, 3 pallu) and band id."""
        n = u.shape[0]
        nb = len(self.border_bands)
        npl = len(self.pallu_bands)
        bv = np.minimum(v, 1 - v)
        pu = u - (LENGTH - self.pallu_len)
        part = np.full(n, BODY, np.uint8)
        band = np.zeros(n, np.int16)
        is_border = bv < self.border_w
        # A cloth with no pallu (pallu_len 0) still has loose tassels past its end (pu >= 0
        # once clipped): they are body, not a pallu of zero length.
        is_pallu = (~is_border) & (pu >= 0) & (self.pallu_len > 0)
        part[is_pallu] = PALLU
        part[is_border] = BORDER
        if nb:
            lo = np.asarray([b.lo for b in self.border_bands], np.float32)
            k = np.clip(np.searchsorted(lo, bv, side="right") - 1, 0, nb - 1)
            band[is_border] = 1 + k[is_border]
        if npl:
            lo = np.asarray([b.lo for b in self.pallu_bands], np.float32)
            k = np.clip(np.searchsorted(lo, pu, side="right") - 1, 0, npl - 1)
            band[is_pallu] = 1 + nb + k[is_pallu]
        if self.end_border > 0:
            end = pu > self.pallu_len - self.end_border
            part[end] = BORDER
            band[end] = 1 + nb + npl
        return part, band

    def evaluate(
        self, u: np.ndarray, v: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per point: part (1-3), band id, rgb, zari, opacity."""
        n = u.shape[0]
        nb = len(self.border_bands)
        npl = len(self.pallu_bands)
        bv = np.minimum(v, 1 - v)
        pu = u - (LENGTH - self.pallu_len)
        part, band = self.parts(u, v)
        colour = np.empty((n, 3), np.float32)
        zari = np.zeros(n, np.float32)
        # Each band paints only its own points, in its own coordinates.
        for i, b in enumerate(self.bands()):
            idx = np.flatnonzero(band == i)
            if idx.size == 0:
                continue
            if i == 0:
                a, c = u[idx], v[idx]
            elif i <= nb:
                a, c = u[idx], bv[idx] - b.lo
            elif i <= nb + npl:
                a, c = v[idx], pu[idx] - b.lo
            else:
                a, c = v[idx], pu[idx]
            colour[idx], zari[idx] = b.painter(a, c)
        opacity = np.where(part == BODY, self.body_opacity, self.other_opacity).astype(np.float32)
        return part, band, colour, zari, opacity


# --------------------------------------------------------------------------- helpers


class Pick:
    """Random choices for one design, all from one generator (same seed, same saree)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def one(self, items: Sequence[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def colour(self, name: str, jitter: float = 0.06) -> Colour:
        c = np.asarray(C[name]) * (1 + self.rng.normal(0, jitter, 3))
        return (float(c[0]), float(c[1]), float(c[2]))

    def colours(self, names: Sequence[str], k: int, jitter: float = 0.06) -> list[Colour]:
        idx = self.rng.choice(len(names), size=k, replace=False)
        return [self.colour(names[i], jitter) for i in idx]

    def zari(self) -> Colour:
        return self.colour(self.one(["gold", "gold", "gold", "oldgold", "silver", "copper"]), 0.04)


def _shade(c: Colour, f: float) -> Colour:
    return (c[0] * f, c[1] * f, c[2] * f)


def _stack(parts: Sequence[tuple[float, Painter, tuple[str, ...], float, float]]) -> list[Band]:
    """(height, painter, attrs, cell, motif) tuples -> consecutive bands."""
    out = []
    lo = 0.0
    for h, p, attrs, cell, motif in parts:
        out.append(Band(lo, lo + h, p, attrs, cell, motif))
        lo += h
    return out


def _motif_band(
    k: Pick,
    ground: Colour,
    name: str,
    colours: Sequence[Colour],
    h: float,
    *,
    zari: float = 1.0,
    along: float | None = None,
    flip: bool = False,
    jitter: float = 0.0,
    double: bool = False,
) -> tuple[Painter, float, float]:
    """A single row of motifs filling a band of height h: painter, cell area, motif size."""
    size = h * 0.82
    pa = along if along is not None else size * k.u(1.15, 1.6)
    p = pt.motifs(
        pt.solid(ground),
        name,
        colours,
        cell=(pa, h),
        size=size,
        zari=(zari, zari, zari),
        stagger=False,
        flip=flip,
        jitter=jitter,
        double=double,
        salt=k.u(0, 100),
    )
    return p, pa * h, size


def _butis(
    k: Pick,
    ground: Painter,
    name: str,
    colours: Sequence[Colour],
    pitch: float,
    *,
    zari: float = 1.0,
    size_frac: float = 0.5,
    jitter: float = 0.0,
    double: bool = False,
) -> tuple[Painter, float, float]:
    size = pitch * size_frac
    p = pt.motifs(
        ground,
        name,
        colours,
        cell=(pitch, pitch),
        size=size,
        zari=(zari, zari, zari),
        jitter=jitter,
        double=double,
        salt=k.u(0, 100),
    )
    return p, pitch * pitch * 2, size


SILK_JEWEL = [
    "magenta",
    "rani",
    "maroon",
    "red",
    "bottle",
    "parrot",
    "mustard",
    "purple",
    "royal",
    "peacock",
    "orange",
    "pink",
    "teal",
    "navy",
]

BUTI_ATTRS = {
    "rudraksha": ("Buti", "Rudraksha"),
    "coin": ("Buti", "CoinButi"),
    "flower": ("Buti", "Flower"),
    "star": ("Buti",),
    "paisley": ("Buti", "Paisley"),
    "peacock": ("Buti", "Peacock"),
    "swan": ("Buti", "Swan"),
    "lotus": ("Buti", "Flower"),
    "boota": ("Buti", "Flower"),
    "diamond": ("Buti",),
    "jamdani": ("Buti", "Flower"),
    "fish": ("Buti", "Fish"),
    "parrot": ("Buti", "Parrot"),
    "elephant": ("Buti", "Elephant"),
    "conch": ("Buti", "Conch"),
    "wheel": ("Buti", "Wheel"),
}

MOTIF_ATTRS = {
    "peacock": ("Peacock",),
    "parrot": ("Parrot",),
    "paisley": ("Paisley",),
    "rudraksha": ("Rudraksha",),
    "elephant": ("Elephant",),
    "swan": ("Swan",),
    "conch": ("Conch",),
    "wheel": ("Wheel",),
    "fish": ("Fish",),
    "figure": ("NarrativeFigures",),
    "rider": ("NarrativeFigures",),
    "temple": ("TempleBorder",),
    "coin": ("CoinButi",),
    "flower": ("Flower",),
    "lotus": ("Flower",),
    "boota": ("Flower",),
    "jamdani": ("Flower",),
    "chatai": ("Chatai",),
    "eent": ("Eent",),
    "diamond": ("Heera",),
}


def _m(name: str) -> tuple[str, ...]:
    return MOTIF_ATTRS.get(name, ())


# --------------------------------------------------------------------------- traditions


def kanchipuram(k: Pick) -> Design:
    """Jewel silk, contrasting korvai border with a zari temple row, separately woven pallu."""
    body_c, border_c = k.colours(SILK_JEWEL, 2)
    z = k.zari()
    zs = ("ZariBrocade",)
    choice = k.one(["butis", "checks", "plain", "butis"])
    if choice == "butis":
        name = k.one(["rudraksha", "coin", "flower", "paisley", "star"])
        p, cell, size = _butis(k, pt.solid(body_c), name, [z, _shade(z, 0.8), z], k.u(0.07, 0.14))
        body = Band(0, 1, p, (*BUTI_ATTRS[name], *zs), cell, size)
    elif choice == "checks":
        per = k.u(0.05, 0.12)
        body = Band(0, 1, pt.checks(body_c, z, per, 0.12, line_zari=1.0), ("Checks", *zs), 0, per)
    else:
        body = Band(0, 1, pt.solid(body_c))
    bw = k.u(0.1, 0.25)
    temple_h = bw * k.u(0.35, 0.5)
    row_name = k.one(["peacock", "rudraksha", "paisley", "none", "none"])
    row_h = bw - temple_h - 0.035 - 0.012
    parts: list[tuple[float, Painter, tuple[str, ...], float, float]] = [
        (0.008, pt.solid(z, 1.0), zs, 0, 0),
        (0.004, pt.solid(border_c), (), 0, 0),
    ]
    if row_name != "none" and row_h > 0.03:
        p, cell, size = _motif_band(k, border_c, row_name, [z, z, z], row_h)
        parts.append((row_h, p, (*_m(row_name), *zs), cell, size))
    else:
        parts.append((max(row_h, 0.005), pt.solid(border_c), (), 0, 0))
    per = temple_h * k.u(0.7, 1.1)
    parts += [
        (
            temple_h,
            pt.temple(border_c, z, height=temple_h, period=per),
            ("TempleBorder", *zs),
            per * temple_h,
            temple_h,
        ),
        (0.007, pt.solid(z, 1.0), zs, 0, 0),
        (
            0.018,
            pt.teeth(border_c, body_c, height=0.018, period=0.02),
            ("KorvaiJoin",),
            0.002,
            0.02,
        ),
    ]
    pl = k.u(0.7, 1.0)
    pallu_c = border_c if k.chance(0.7) else k.colours(SILK_JEWEL, 1)[0]
    big = k.one(["peacock", "paisley", "elephant", "rudraksha"])
    ph = k.u(0.16, 0.26)
    p_row, cell, size = _motif_band(k, pallu_c, big, [z, _shade(z, 0.75), z], ph)
    heavy = ("HeavyZari", "ZariBrocade")
    stripes = pt.stripes([z, pallu_c], [0.02, 0.015], zari=[1.0, 0.0])
    pallu = _stack(
        [
            (
                0.05,
                pt.zigzag(pallu_c, z, height=0.05, period=0.06, thickness=0.006, zari=1.0),
                ("SeparatePallu",),
                0.004,
                0.03,
            ),
            (0.08, stripes, heavy, 0, 0),
            (ph, p_row, (*_m(big), *heavy), cell, size),
            (0.06, stripes, heavy, 0, 0),
            _kanchi_pallu_field(k, pallu_c, body_c, z, pl - 0.19 - ph),
        ]
    )
    shot = k.colours(SILK_JEWEL, 1)[0] if k.chance(0.4) else None
    return Design(
        "Kanchipuram",
        body,
        bw,
        _stack(parts),
        pl,
        pallu,
        end_border=0.03,
        end_colour=z,
        sheen=k.u(0.35, 0.6),
        requires={"ContrastingBorder": (BODY, BORDER)},
        shot=shot,
    )


def _kanchi_pallu_field(
    k: Pick, pallu_c: Colour, body_c: Colour, z: Colour, h: float
) -> tuple[float, Painter, tuple[str, ...], float, float]:
    """The rest of a Kanchipuram pallu: plain, dense zari lines, zari butis or a zari ground."""
    heavy = ("HeavyZari", "ZariBrocade")
    kind = k.one(["plain", "lines", "butis", "ground"])
    if kind == "lines":
        w = k.u(0.004, 0.01)
        p = pt.stripes([z, pallu_c], [w, w * k.u(1.2, 2.5)], zari=[1.0, 0.0])
        return (h, p, heavy, 0.0, w * 3)
    if kind == "butis":
        name = k.one(["paisley", "rudraksha", "flower", "coin"])
        p, cell, size = _butis(
            k, pt.solid(pallu_c), name, [z, _shade(z, 0.8), z], k.u(0.08, 0.14), size_frac=0.55
        )
        return (h, p, (*BUTI_ATTRS[name], *heavy), cell, size)
    if kind == "ground":
        name = k.one(["peacock", "paisley", "flower"])
        p, cell, size = _butis(
            k,
            pt.solid(z, 1.0),
            name,
            [body_c, pallu_c, body_c],
            k.u(0.12, 0.2),
            zari=0.0,
            size_frac=0.55,
        )
        return (h, p, (*BUTI_ATTRS[name], *heavy), cell, size)
    return (h, pt.solid(pallu_c), (), 0.0, 0.0)


def banarasi(k: Pick) -> Design:
    """Brocade: floral jaal or butis in zari, a bel (vine) border, a heavy paisley pallu."""
    body_c = k.colour(
        k.one(["red", "maroon", "royal", "magenta", "bottle", "black", "rani", "purple"])
    )
    z = k.zari()
    zs = ("ZariBrocade",)
    if k.chance(0.5):
        per = k.u(0.12, 0.2)
        body = Band(0, 1, pt.jaal(body_c, z, z, period=per), ("FloralJaal", *zs), per * per, per)
    else:
        name = k.one(["paisley", "flower", "star", "boota", "boota"])
        p, cell, size = _butis(
            k, pt.solid(body_c), name, [z, _shade(z, 0.8), z], k.u(0.06, 0.11), size_frac=0.6
        )
        body = Band(0, 1, p, (*BUTI_ATTRS[name], *zs), cell, size)
    bw = k.u(0.07, 0.13)
    border_c = body_c if k.chance(0.6) else k.colours(SILK_JEWEL, 1)[0]
    vh = bw - 0.025
    per = vh * k.u(1.2, 1.8)
    border = _stack(
        [
            (0.01, pt.solid(z, 1.0), zs, 0, 0),
            (vh, pt.vine(border_c, z, height=vh, period=per), ("Vine", *zs), per * vh, vh),
            (0.015, pt.stripes([z, border_c], [0.004, 0.004], zari=[1, 0]), zs, 0, 0),
        ]
    )
    pl = k.u(0.6, 0.9)
    ground = _shade(z, 0.9) if k.chance(0.3) else body_c
    fg = body_c if ground != body_c else z
    pitch = k.u(0.12, 0.2)
    fz = 0.0 if ground != body_c else 1.0
    big = k.one(["paisley", "paisley", "boota"])
    p, cell, size = _butis(
        k,
        pt.solid(ground, 1.0 - fz),
        big,
        [fg, _shade(fg, 0.7), fg],
        pitch,
        zari=fz,
        size_frac=0.75,
    )
    heavy = ("HeavyZari", "ZariBrocade")
    pallu = _stack(
        [
            (0.06, pt.stripes([z, body_c], [0.012, 0.01], zari=[1, 0]), heavy, 0, 0),
            (pl - 0.12, p, (*_m(big), *heavy), cell, size),
            (0.06, pt.stripes([z, body_c], [0.012, 0.01], zari=[1, 0]), heavy, 0, 0),
        ]
    )
    shot = k.colours(SILK_JEWEL, 1)[0] if k.chance(0.3) else None
    return Design("Banarasi", body, bw, border, pl, pallu, sheen=k.u(0.35, 0.6), shot=shot)


def paithani(k: Pick) -> Design:
    """Plain or buti body, zari border with tapestry parrots, zari-ground peacock pallu."""
    body_c = k.colour(
        k.one(
            [
                "purple",
                "magenta",
                "peacock",
                "parrot",
                "yellow",
                "orange",
                "rani",
                "royal",
                "maroon",
            ]
        )
    )
    z = k.zari()
    zs = ("ZariBrocade",)
    if k.chance(0.6):
        name = k.one(["coin", "star", "flower"])
        p, cell, size = _butis(
            k, pt.solid(body_c), name, [z, z, z], k.u(0.08, 0.14), size_frac=0.35
        )
        body = Band(0, 1, p, (*BUTI_ATTRS[name], *zs), cell, size)
    else:
        body = Band(0, 1, pt.solid(body_c))
    bw = k.u(0.11, 0.17)
    edge_c = k.colours(["green", "red", "rani", "orange", "peacock"], 1)[0]
    cols = k.colours(["green", "red", "rani", "orange", "peacock", "parrot"], 3)
    rh = bw - 0.03
    row = k.one(["parrot", "lotus", "flower"])
    p, cell, size = _motif_band(k, z, row, cols, rh, zari=0.0, flip=True)
    border = _stack(
        [
            (0.012, pt.solid(edge_c), (), 0, 0),
            (rh, p, (*_m(row), "TapestryWeave", *zs), cell, size),
            (0.018, pt.stripes([edge_c, z], [0.006, 0.006], zari=[0, 1]), zs, 0, 0),
        ]
    )
    pl = k.u(0.65, 0.95)
    pcols = k.colours(["green", "red", "rani", "orange", "peacock", "royal", "parrot"], 3)
    ph = k.u(0.3, 0.45)
    peac, cell, size = _motif_band(k, z, "peacock", pcols, ph, zari=0.0, along=ph * k.u(1.1, 1.5))
    mun = pt.stripes([z, pcols[0], z, pcols[1]], [0.02, 0.01, 0.02, 0.01], zari=[1, 0, 1, 0])
    rest = pl - ph - 0.16
    pallu = _stack(
        [
            (0.08, mun, ("ZariGroundPallu", "HeavyZari", *zs), 0, 0),
            (
                ph,
                peac,
                ("Peacock", "TapestryWeave", "ZariGroundPallu", "HeavyZari", *zs),
                cell,
                size,
            ),
            (0.08, mun, ("ZariGroundPallu", "HeavyZari", *zs), 0, 0),
            (max(rest, 0.02), pt.solid(z, 1.0), ("ZariGroundPallu", "HeavyZari", *zs), 0, 0),
        ]
    )
    return Design(
        "Paithani",
        body,
        bw,
        border,
        pl,
        pallu,
        end_border=0.02,
        end_colour=edge_c,
        sheen=k.u(0.35, 0.55),
        requires={"ContrastingBorder": (BODY, BORDER)},
        shot=k.colours(SILK_JEWEL, 1)[0] if k.chance(0.5) else None,
    )


IKAT_SETS = [
    ["red", "black", "white"],
    ["indigo", "white", "red"],
    ["maroon", "mustard", "black"],
    ["bottle", "rani", "yellow"],
    ["black", "white", "red"],
    ["royal", "orange", "white"],
    ["teal", "cream", "maroon"],
]


def pochampally(k: Pick) -> Design:
    """Double ikat diamonds (or chevrons) with feathered edges all over."""
    names = IKAT_SETS[int(k.rng.integers(len(IKAT_SETS)))]
    c1, c2, c3 = (k.colour(n) for n in names)
    jit = k.u(0.006, 0.018)
    per = k.u(0.1, 0.2)
    shape = k.one(["diamond", "diamond", "chevron", "cross"])
    attrs = ("Ikat", "DoubleIkat") + (("IkatDiamond",) if shape != "chevron" else ())
    body = Band(
        0,
        1,
        pt.ikat(
            [c2, c1, c3, c1],
            cell=(per, per * k.u(0.7, 1.1)),
            ring=k.u(0.2, 0.35),
            jitter=jit,
            double=True,
            shape=shape,
            salt=k.u(0, 50),
        ),
        attrs,
        per * per,
        per,
    )
    bw = k.u(0.07, 0.14)
    bh = bw - 0.02
    border = _stack(
        [
            (0.02, pt.solid(c3), (), 0, 0),
            (
                bh,
                pt.ikat(
                    [c2, c1],
                    cell=(bh * 1.2, bh * 2),
                    ring=0.5,
                    jitter=jit,
                    double=True,
                    salt=k.u(0, 50),
                ),
                ("Ikat", "DoubleIkat", "IkatDiamond"),
                bh * bh * 1.2,
                bh,
            ),
        ]
    )
    pl = k.u(0.6, 0.9)
    big = per * k.u(1.5, 2.2)
    pallu = _stack(
        [
            (0.06, pt.stripes([c3, c2], [0.015, 0.015]), ("Stripes",), 0, 0),
            (
                pl - 0.12,
                pt.ikat(
                    [c1, c2, c3, c2],
                    cell=(big, big),
                    ring=0.22,
                    jitter=jit * 1.4,
                    double=True,
                    salt=k.u(0, 50),
                ),
                ("Ikat", "DoubleIkat", "IkatDiamond"),
                big * big,
                big,
            ),
            (0.06, pt.stripes([c3, c2], [0.015, 0.015]), ("Stripes",), 0, 0),
        ]
    )
    return Design(
        "PochampallyIkat",
        body,
        bw,
        border,
        pl,
        pallu,
        sheen=k.u(0.1, 0.35),
        requires={"ContrastingBorder": (BODY, BORDER)},
        reversible=True,
    )


def patola(k: Pick) -> Design:
    """Double ikat lattice holding elephants, parrots, flowers or figures; banded pallu."""
    ground = k.colour(k.one(["red", "red", "crimson", "maroon", "bottle"]))
    cols = k.colours(["black", "white", "yellow", "bottle", "royal"], 3)
    jit = k.u(0.004, 0.01)
    per = k.u(0.11, 0.18)
    name = k.one(["elephant", "parrot", "flower", "figure"])
    lattice = pt.ikat(
        [ground, cols[0], ground, ground],
        cell=(per, per),
        ring=0.45,
        jitter=jit,
        double=True,
        salt=k.u(0, 50),
    )
    p = pt.motifs(
        lattice,
        name,
        cols,
        cell=(per, per),
        size=per * 0.42,
        stagger=False,
        offset=(per / 2, per / 2),
        jitter=jit,
        double=True,
        salt=k.u(0, 50),
    )
    ikat_a = ("Ikat", "DoubleIkat")
    extra = _m(name) if name != "figure" else ()
    body = Band(0, 1, p, (*ikat_a, "IkatDiamond", *extra), per * per, per * 0.42)
    bw = k.u(0.08, 0.13)
    bh = bw - 0.02
    flow = pt.motifs(
        pt.solid(cols[1]),
        "flower",
        [ground, cols[2], cols[0]],
        cell=(bh, bh),
        size=bh * 0.8,
        stagger=False,
        jitter=jit,
        double=True,
    )
    border = _stack(
        [
            (0.012, pt.solid(cols[0]), (), 0, 0),
            (bh, flow, (*ikat_a, "Flower"), bh * bh, bh),
            (0.008, pt.solid(cols[0]), (), 0, 0),
        ]
    )
    pl = k.u(0.55, 0.8)
    rh = k.u(0.14, 0.2)
    rowname = k.one(["elephant", "parrot", "figure"])
    row, cell, size = _motif_band(k, ground, rowname, cols, rh, zari=0.0, jitter=jit, double=True)
    pallu = _stack(
        [
            (0.05, pt.stripes([cols[0], cols[1]], [0.012, 0.012]), ikat_a, 0, 0),
            (rh, row, (*_m(rowname), *ikat_a) if rowname != "figure" else ikat_a, cell, size),
            (0.04, pt.stripes([cols[2], cols[0]], [0.01, 0.01]), ikat_a, 0, 0),
            (rh, row, (*_m(rowname), *ikat_a) if rowname != "figure" else ikat_a, cell, size),
            (max(pl - 0.09 - 2 * rh, 0.02), lattice, ikat_a, per * per, per),
        ]
    )
    return Design(
        "PatanPatola", body, bw, border, pl, pallu, sheen=k.u(0.25, 0.45), reversible=True
    )


def bandhani(k: Pick) -> Design:
    """Tie-dyed dot clusters in larger figures, a contrasting dotted border."""
    ground = k.colour(
        k.one(["red", "rani", "maroon", "yellow", "bottle", "orange", "black", "royal"])
    )
    dot = k.colour(k.one(["white", "yellow", "cream"]))
    halo = _shade(ground, k.u(1.15, 1.4))
    pitch = k.u(0.018, 0.03)
    td = ("BandhaniDots", "TieDye")
    macro = k.u(0.15, 0.3)
    body = Band(
        0,
        1,
        pt.dots(
            ground,
            dot,
            halo,
            pitch=pitch,
            radius=pitch * 0.28,
            macro=macro,
            layout=k.one(["diamond", "grid", "circle"]),
            salt=k.u(0, 50),
        ),
        td,
        macro * macro,
        pitch,
    )
    bw = k.u(0.08, 0.15)
    bc = k.colour(k.one(["bottle", "yellow", "maroon", "black", "rani", "royal"]))
    z = k.zari()
    zari_edge = k.chance(0.4)
    border = _stack(
        [
            (
                0.015,
                pt.solid(z if zari_edge else dot, 1.0 if zari_edge else 0.0),
                ("ZariBrocade",) if zari_edge else (),
                0,
                0,
            ),
            (
                bw - 0.015,
                pt.dots(
                    bc,
                    dot,
                    _shade(bc, 1.3),
                    pitch=pitch,
                    radius=pitch * 0.28,
                    macro=bw * 0.9,
                    layout="grid",
                ),
                td,
                pitch * bw * 8,
                pitch,
            ),
        ]
    )
    pl = k.u(0.6, 0.9)
    pc = bc if k.chance(0.5) else ground
    pallu = _stack(
        [
            (
                pl,
                pt.dots(
                    pc,
                    dot,
                    _shade(pc, 1.3),
                    pitch=pitch,
                    radius=pitch * 0.3,
                    macro=k.u(0.3, 0.5),
                    layout="circle",
                ),
                td,
                0.1,
                pitch,
            ),
        ]
    )
    return Design(
        "Bandhani",
        body,
        bw,
        border,
        pl,
        pallu,
        sheen=k.u(0.05, 0.3),
        requires={"ContrastingBorder": (BODY, BORDER)},
        reversible=True,
    )


PASTELS = ["peach", "mint", "sky", "lavender", "ivory", "palepink", "lemon", "beige", "offwhite"]


def chanderi(k: Pick) -> Design:
    """Sheer pastel ground with small zari butis, narrow zari border, striped pallu."""
    body_c = k.colour(k.one([*PASTELS, "rani", "teal"]))
    z = k.zari()
    name = k.one(["coin", "coin", "flower", "peacock", "swan", "star"])
    p, cell, size = _butis(
        k, pt.solid(body_c), name, [z, _shade(z, 0.8), z], k.u(0.07, 0.13), size_frac=0.35
    )
    body = Band(0, 1, p, (*BUTI_ATTRS[name], "ExtraWeft", "ZariBrocade", "SheerBody"), cell, size)
    bw = k.u(0.04, 0.09)
    bc = k.colour(k.one(["rani", "maroon", "bottle", "royal", "mustard", "peacock"]))
    border = _stack(
        [
            (0.012, pt.solid(z, 1.0), ("ZariBrocade",), 0, 0),
            (bw - 0.024, pt.solid(bc), (), 0, 0),
            (0.012, pt.solid(z, 1.0), ("ZariBrocade",), 0, 0),
        ]
    )
    pl = k.u(0.5, 0.8)
    stripes = pt.stripes([z, body_c], [0.012, k.u(0.02, 0.05)], zari=[1, 0])
    p2, cell2, size2 = _butis(
        k, pt.solid(body_c), name, [z, _shade(z, 0.8), z], k.u(0.06, 0.1), size_frac=0.45
    )
    pallu = _stack(
        [
            (0.12, stripes, ("ZariBrocade", "Stripes"), 0, 0),
            (pl - 0.24, p2, (*BUTI_ATTRS[name], "ExtraWeft", "ZariBrocade"), cell2, size2),
            (0.12, stripes, ("ZariBrocade", "Stripes"), 0, 0),
        ]
    )
    return Design(
        "Chanderi",
        body,
        bw,
        border,
        pl,
        pallu,
        body_opacity=k.u(0.55, 0.75),
        other_opacity=k.u(0.8, 0.92),
        sheen=k.u(0.2, 0.4),
    )


def maheshwari(k: Pick) -> Design:
    """Stripes or checks, a small reversible zari border, the five-stripe pallu."""
    c1, c2 = k.colours(
        [
            "maroon",
            "bottle",
            "mauve",
            "mustard",
            "teal",
            "pink",
            "purple",
            "navy",
            "rust",
            "peacock",
        ],
        2,
    )
    z = k.zari()
    choice = k.one(["stripes", "checks", "plain"])
    if choice == "stripes":
        w = k.u(0.02, 0.06)
        body = Band(0, 1, pt.stripes([c1, c2], [w, w * k.u(0.2, 1.0)]), ("Stripes",), 0, w)
    elif choice == "checks":
        per = k.u(0.04, 0.1)
        body = Band(0, 1, pt.checks(c1, c2, per, 0.15), ("Checks",), 0, per)
    else:
        body = Band(0, 1, pt.solid(c1))
    bw = k.u(0.06, 0.11)
    bh = bw - 0.02
    name = k.one(["chatai", "diamond", "eent"])
    p, cell, size = _motif_band(k, c2, name, [z, z, z], bh, along=bh * 1.1)
    border = _stack(
        [
            (0.01, pt.solid(z, 1.0), ("ZariBrocade",), 0, 0),
            (bh, p, (*_m(name), "ZariBrocade"), cell, size),
            (0.01, pt.solid(z, 1.0), ("ZariBrocade",), 0, 0),
        ]
    )
    pl = k.u(0.4, 0.6)
    white = k.colour("white")
    s = pl / 5
    stripes = [
        (s, pt.solid(c), ("StripedPallu", "Stripes"), 0.0, 0.0)
        for c in (c2, white, c1 if c1 != c2 else z, white, c2)
    ]
    return Design(
        "Maheshwari",
        body,
        bw,
        border,
        pl,
        _stack(stripes),
        sheen=k.u(0.2, 0.4),
        reversible_border=True,
    )


def baluchari(k: Pick) -> Design:
    """Silk with small butis, a narrative pallu of framed figures and a paisley field."""
    body_c = k.colour(
        k.one(["red", "maroon", "purple", "navy", "orange", "magenta", "bottle", "black"])
    )
    fg = k.colours(["cream", "yellow", "white", "orange", "pink", "mustard"], 3)
    name = k.one(["paisley", "flower", "star"])
    p, cell, size = _butis(k, pt.solid(body_c), name, fg, k.u(0.08, 0.14), zari=0.0, size_frac=0.45)
    body = Band(0, 1, p, BUTI_ATTRS[name], cell, size)
    bw = k.u(0.07, 0.12)
    bh = bw - 0.02
    row = k.one(["paisley", "flower"])
    rp, rcell, rsize = _motif_band(k, body_c, row, fg, bh, zari=0.0, flip=True)
    border = _stack(
        [
            (0.01, pt.solid(fg[0]), (), 0, 0),
            (bh, rp, _m(row), rcell, rsize),
            (0.01, pt.solid(fg[1]), (), 0, 0),
        ]
    )
    pl = k.u(0.7, 1.0)
    ch = k.u(0.13, 0.2)
    panel = pt.frames(
        body_c, fg[0], fg, ["figure", "rider", "figure"], cell=(ch * k.u(0.7, 0.9), ch), margin=0.06
    )
    narr = ("NarrativeFigures", "NarrativePallu")
    bigp, bcell, bsize = _motif_band(k, body_c, "paisley", fg, k.u(0.15, 0.22), zari=0.0)
    rest = pl - 0.06 - 2 * ch
    pallu = _stack(
        [
            (0.03, pt.solid(fg[1]), (), 0, 0),
            (2 * ch, panel, narr, ch * ch, ch * 0.8),
            (0.03, pt.solid(fg[1]), (), 0, 0),
            (max(rest, 0.02), bigp, ("Paisley",), bcell, bsize),
        ]
    )
    return Design("Baluchari", body, bw, border, pl, pallu, sheen=k.u(0.35, 0.55))


def sambalpuri(k: Pick) -> Design:
    """Single ikat: conch, wheel and flower rows in border and pallu."""
    body_c = k.colour(k.one(["maroon", "black", "red", "navy", "bottle", "purple", "mustard"]))
    fg = k.colours(["white", "cream", "yellow", "red", "black"], 3)
    jit = k.u(0.006, 0.014)
    if k.chance(0.6):
        name = k.one(["fish", "flower", "conch", "wheel"])
        p, cell, size = _butis(
            k, pt.solid(body_c), name, fg, k.u(0.09, 0.14), zari=0.0, size_frac=0.45, jitter=jit
        )
        body = Band(0, 1, p, (*BUTI_ATTRS[name], "Ikat", "SingleIkat"), cell, size)
    else:
        body = Band(
            0,
            1,
            pt.ikat(
                [body_c, fg[0], body_c, body_c],
                cell=(0.08, 0.08),
                ring=0.3,
                jitter=jit,
                double=False,
            ),
            ("Ikat", "SingleIkat"),
            0.0064,
            0.08,
        )
    bw = k.u(0.1, 0.16)
    bc = k.colour(k.one(["red", "black", "maroon", "white"]))
    bh = bw - 0.03
    row = k.one(["conch", "wheel", "flower"])
    rp, rcell, rsize = _motif_band(k, bc, row, fg, bh, zari=0.0, flip=True, jitter=jit)
    border = _stack(
        [
            (0.015, pt.solid(fg[0]), (), 0, 0),
            (bh, rp, (*_m(row), "Ikat", "SingleIkat"), rcell, rsize),
            (
                0.015,
                pt.ikat([bc, fg[1]], cell=(0.03, 0.015), ring=0.6, jitter=jit, double=False),
                ("Ikat",),
                0,
                0,
            ),
        ]
    )
    pl = k.u(0.6, 0.9)
    rh = k.u(0.14, 0.2)
    r1, c1, s1 = _motif_band(k, bc, "conch", fg, rh, zari=0.0, jitter=jit)
    r2, c2, s2 = _motif_band(k, bc, "wheel", fg, rh, zari=0.0, jitter=jit)
    ik = ("Ikat", "SingleIkat")
    pallu = _stack(
        [
            (0.04, pt.stripes([fg[0], bc], [0.01, 0.01]), ("Stripes",), 0, 0),
            (rh, r1, ("Conch", *ik), c1, s1),
            (0.03, pt.stripes([fg[1], bc], [0.008, 0.008]), ("Stripes",), 0, 0),
            (rh, r2, ("Wheel", *ik), c2, s2),
            (
                max(pl - 0.07 - 2 * rh, 0.02),
                pt.ikat([bc, fg[0], fg[2]], cell=(0.14, 0.14), ring=0.3, jitter=jit, double=False),
                ik,
                0.02,
                0.14,
            ),
        ]
    )
    return Design(
        "Sambalpuri",
        body,
        bw,
        border,
        pl,
        pallu,
        sheen=k.u(0.1, 0.35),
        requires={"ContrastingBorder": (BODY, BORDER)},
    )


def jamdani(k: Pick) -> Design:
    """Sheer ground with floating extra-weft geometric flowers."""
    body_c = k.colour(
        k.one(["offwhite", "ivory", "grey", "sky", "mint", "peach", "black", "navy", "palepink"])
    )
    dark = sum(body_c) < 1.2
    fg = k.colours(
        ["white", "cream", "rani", "mustard", "teal", "red", "gold"]
        if dark
        else ["white", "grey", "rani", "mustard", "teal", "red", "navy", "gold"],
        3,
    )
    jd = ("JamdaniWeave", "ExtraWeft")
    name = k.one(["jamdani", "flower", "star", "diamond"])
    p, cell, size = _butis(k, pt.solid(body_c), name, fg, k.u(0.08, 0.15), zari=0.0, size_frac=0.45)
    body = Band(0, 1, p, (*jd, *BUTI_ATTRS[name], "SheerBody"), cell, size)
    bw = k.u(0.06, 0.12)
    bh = bw - 0.015
    bname = k.one(["jamdani", "diamond", "star"])
    bp, bcell, bsize = _motif_band(k, body_c, bname, fg, bh, zari=0.0, along=bh)
    battrs = (*jd, "Flower") if bname == "jamdani" else jd
    border = _stack(
        [
            (0.015, pt.solid(fg[0]), (), 0, 0),
            (bh, bp, battrs, bcell, bsize),
        ]
    )
    pl = k.u(0.55, 0.85)
    pp, pcell, psize = _butis(
        k, pt.solid(body_c), "jamdani", fg, k.u(0.06, 0.1), zari=0.0, size_frac=0.8
    )
    pallu = _stack(
        [
            (0.04, pt.stripes([fg[0], body_c], [0.008, 0.008]), (), 0, 0),
            (pl - 0.04, pp, (*jd, "Flower"), pcell, psize),
        ]
    )
    return Design(
        "Jamdani",
        body,
        bw,
        border,
        pl,
        pallu,
        body_opacity=k.u(0.55, 0.75),
        other_opacity=k.u(0.7, 0.85),
        sheen=k.u(0.05, 0.15),
        weave=0.09,
        reversible=True,
    )


def kasavu(k: Pick) -> Design:
    """Off-white cotton with a plain gold zari border and zari-banded pallu."""
    body_c = k.colour(k.one(["offwhite", "cream", "ivory", "beige"]), 0.03)
    z = k.colour(k.one(["gold", "gold", "oldgold"]), 0.04)
    body = Band(0, 1, pt.solid(body_c), ("PlainWeave",), 0.0, 0.0)
    bw = k.u(0.04, 0.1)
    accent = k.chance(0.35)
    ac = k.colour(k.one(["red", "bottle", "maroon", "royal", "black"]))
    zb = ("ZariBands",)
    parts: list[tuple[float, Painter, tuple[str, ...], float, float]] = [
        (0.008, pt.solid(body_c), (), 0, 0),
        (bw - 0.008 - (0.008 if accent else 0.0), pt.solid(z, 1.0), zb, 0, 0),
    ]
    if accent:
        parts.append((0.008, pt.solid(ac), (), 0, 0))
    pl = k.u(0.4, 0.7)
    widths = [k.u(0.02, 0.06), k.u(0.03, 0.1), k.u(0.01, 0.03), k.u(0.03, 0.08)]
    pallu = _stack(
        [
            (pl * 0.3, pt.solid(body_c), ("PlainWeave",), 0, 0),
            (
                pl * 0.7,
                pt.stripes([z, body_c, z, body_c], widths, zari=[1, 0, 1, 0]),
                ("ZariBands", "StripedPallu"),
                0,
                0,
            ),
        ]
    )
    return Design(
        "Kasavu",
        body,
        bw,
        _stack(parts),
        pl,
        pallu,
        sheen=k.u(0.03, 0.12),
        requires={"ContrastingBorder": (BODY, BORDER)},
    )


def chettinad(k: Pick) -> Design:
    """Bold cotton checks or stripes, a broad contrasting border, striped pallu."""
    c1, c2, c3 = k.colours(
        [
            "mustard",
            "black",
            "red",
            "bottle",
            "royal",
            "orange",
            "maroon",
            "rani",
            "parrot",
            "peacock",
            "brown",
        ],
        3,
    )
    if k.chance(0.55):
        per = k.u(0.08, 0.2)
        body = Band(0, 1, pt.checks(c1, c2, per, 0.5, blocks=_mix(c1, c2)), ("Checks",), 0, per)
    else:
        w = k.u(0.03, 0.08)
        body = Band(
            0,
            1,
            pt.stripes([c1, c2, c1, c3], [w, w * 0.4, w, w * 0.3], along=True),
            ("Stripes",),
            0,
            w,
        )
    bw = k.u(0.12, 0.22)
    border = _stack(
        [
            (bw * 0.7, pt.solid(c3), (), 0, 0),
            (bw * 0.3, pt.stripes([c2, c3], [0.008, 0.008]), ("Stripes",), 0, 0),
        ]
    )
    pl = k.u(0.5, 0.8)
    pallu = _stack(
        [
            (
                pl,
                pt.stripes([c3, c2, c1, c2], [0.06, 0.015, 0.04, 0.015]),
                ("Stripes", "StripedPallu"),
                0,
                0,
            ),
        ]
    )
    return Design(
        "Chettinad",
        body,
        bw,
        border,
        pl,
        pallu,
        sheen=0.05,
        requires={"ContrastingBorder": (BODY, BORDER)},
    )


def _mix(a: Colour, b: Colour) -> Colour:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)


def kota(k: Pick) -> Design:
    """Sheer khat checks of heavier threads, zari border and pallu stripes."""
    body_c = k.colour(k.one([*PASTELS, "rani", "yellow", "orange", "parrot"]))
    line = _shade(body_c, k.u(0.75, 0.88))
    per = k.u(0.025, 0.05)
    p: Painter = pt.checks(body_c, line, per, 0.16)
    attrs: tuple[str, ...] = ("Checks", "SheerBody")
    cell, size = 0.0, per
    if k.chance(0.4):
        z = k.zari()
        p, cell, size = _butis(k, p, "flower", [z, z, z], k.u(0.1, 0.16), size_frac=0.3)
        attrs = (*attrs, "Buti", "ZariBrocade")
    body = Band(0, 1, p, attrs, cell, size)
    bw = k.u(0.03, 0.07)
    z = k.zari()
    bc = k.colour(k.one(["rani", "maroon", "bottle", "mustard", "royal"]))
    border = _stack(
        [
            (bw * 0.5, pt.solid(z, 1.0), ("ZariBrocade",), 0, 0),
            (bw * 0.5, pt.solid(bc), (), 0, 0),
        ]
    )
    pl = k.u(0.4, 0.7)
    pallu = _stack(
        [
            (
                pl,
                pt.stripes([z, body_c], [0.015, k.u(0.03, 0.06)], zari=[1, 0]),
                ("ZariBrocade", "Stripes"),
                0,
                0,
            ),
        ]
    )
    return Design(
        "KotaDoria",
        body,
        bw,
        border,
        pl,
        pallu,
        body_opacity=k.u(0.5, 0.7),
        other_opacity=k.u(0.75, 0.9),
        sheen=k.u(0.1, 0.25),
    )


def gadwal(k: Pick) -> Design:
    """Cotton body, silk temple border interlocked (kupadam), silk pallu."""
    body_c = k.colour(
        k.one(["cream", "beige", "parrot", "mustard", "pink", "sky", "lemon", "peacock", "orange"])
    )
    bc = k.colour(k.one(["maroon", "red", "magenta", "bottle", "purple", "royal"]))
    z = k.zari()
    zs = ("ZariBrocade",)
    if k.chance(0.5):
        name = k.one(["coin", "flower", "star"])
        p, cell, size = _butis(
            k, pt.solid(body_c), name, [z, z, z], k.u(0.08, 0.13), size_frac=0.35
        )
        body = Band(0, 1, p, (*BUTI_ATTRS[name], *zs), cell, size)
    elif k.chance(0.5):
        per = k.u(0.04, 0.09)
        body = Band(0, 1, pt.checks(body_c, _shade(body_c, 0.7), per, 0.12), ("Checks",), 0, per)
    else:
        body = Band(0, 1, pt.solid(body_c), ("PlainWeave",), 0, 0)
    bw = k.u(0.1, 0.16)
    th = bw * k.u(0.45, 0.6)
    per = th * k.u(0.7, 1.0)
    border = _stack(
        [
            (0.01, pt.solid(z, 1.0), zs, 0, 0),
            (bw - th - 0.035, pt.solid(bc), (), 0, 0),
            (th, pt.temple(bc, z, height=th, period=per), ("TempleBorder", *zs), per * th, th),
            (
                0.025,
                pt.teeth(bc, body_c, height=0.025, period=0.025),
                ("KupadamJoin",),
                0.002,
                0.025,
            ),
        ]
    )
    pl = k.u(0.6, 0.9)
    big = k.one(["peacock", "paisley", "elephant", "rudraksha"])
    rh = k.u(0.14, 0.22)
    row, cell, size = _motif_band(k, bc, big, [z, _shade(z, 0.75), z], rh)
    st = pt.stripes([z, bc], [0.015, 0.012], zari=[1, 0])
    pallu = _stack(
        [
            # The silk pallu is woven apart and joined to the cotton body: the join is visible.
            (
                0.03,
                pt.teeth(bc, body_c, height=0.03, period=0.03),
                ("KupadamJoin", "SeparatePallu"),
                0.003,
                0.03,
            ),
            (0.06, st, zs, 0, 0),
            (rh, row, (*_m(big), *zs), cell, size),
            (0.06, st, zs, 0, 0),
            (max(pl - 0.15 - rh, 0.02), pt.solid(bc), (), 0, 0),
        ]
    )
    return Design(
        "Gadwal",
        body,
        bw,
        border,
        pl,
        pallu,
        end_border=0.02,
        end_colour=z,
        sheen=k.u(0.15, 0.35),
        requires={"ContrastingBorder": (BODY, BORDER)},
    )


def ilkal(k: Pick) -> Design:
    """Dark cotton body, red gomi border, red pallu with white tope teni stripes."""
    body_c = k.colour(
        k.one(["bottle", "indigo", "black", "maroon", "mustard", "parrot", "purple", "peacock"])
    )
    red = k.colour(k.one(["red", "maroon", "crimson"]))
    white = k.colour("white")
    choice = k.one(["checks", "plain", "stripes"])
    if choice == "checks":
        per = k.u(0.015, 0.035)
        body = Band(0, 1, pt.checks(body_c, _shade(body_c, 1.5), per, 0.3), ("Checks",), 0, per)
    elif choice == "stripes":
        w = k.u(0.015, 0.04)
        body = Band(
            0, 1, pt.stripes([body_c, _shade(body_c, 1.4)], [w, w * 0.3]), ("Stripes",), 0, w
        )
    else:
        body = Band(0, 1, pt.solid(body_c), ("PlainWeave",), 0, 0)
    bw = k.u(0.1, 0.17)
    gh = bw * 0.35
    border = _stack(
        [
            (bw - gh - 0.01, pt.solid(red), (), 0, 0),
            (gh, pt.temple(red, white, height=gh, period=gh * 0.6, steps=3, zari=0.0), (), 0, 0),
            (0.01, pt.solid(white), (), 0, 0),
        ]
    )
    pl = k.u(0.45, 0.7)
    tw = k.u(0.04, 0.07)
    pallu = _stack(
        [
            (
                0.04,
                pt.teeth(red, body_c, height=0.04, period=0.025),
                ("TopeTeniJoin", "SeparatePallu"),
                0.002,
                0.03,
            ),
            (0.05, pt.solid(red), (), 0, 0),
            (tw * 5, pt.stripes([white, red], [tw, tw]), ("StripedPallu", "Stripes"), 0, 0),
            (max(pl - 0.09 - tw * 5, 0.02), pt.solid(red), (), 0, 0),
        ]
    )
    return Design(
        "Ilkal",
        body,
        bw,
        border,
        pl,
        pallu,
        sheen=k.u(0.05, 0.2),
        requires={"ContrastingBorder": (BODY, BORDER)},
    )


GRAMMARS: dict[str, Callable[[Pick], Design]] = {
    "Kanchipuram": kanchipuram,
    "Banarasi": banarasi,
    "Paithani": paithani,
    "PochampallyIkat": pochampally,
    "PatanPatola": patola,
    "Bandhani": bandhani,
    "Chanderi": chanderi,
    "Maheshwari": maheshwari,
    "Baluchari": baluchari,
    "Sambalpuri": sambalpuri,
    "Jamdani": jamdani,
    "Kasavu": kasavu,
    "Chettinad": chettinad,
    "KotaDoria": kota,
    "Gadwal": gadwal,
    "Ilkal": ilkal,
}


# Every attribute id the renderer can put on a photo (ontology term ids), sorted: the model's
# attribute head can be built from this list before any data set is written.
ATTRIBUTES: tuple[str, ...] = (
    "BandhaniDots", "Buti", "Chatai", "Checks", "CoinButi", "Conch", "ContrastingBorder",
    "DoubleIkat", "Eent", "Elephant", "ExtraWeft", "Fish", "FloralJaal", "Flower", "HeavyZari",
    "Heera", "Ikat", "IkatDiamond", "JamdaniWeave", "KorvaiJoin", "KupadamJoin",
    "NarrativeFigures", "NarrativePallu", "Paisley", "Parrot", "Peacock", "PlainWeave",
    "ReversibleBorder", "Rudraksha", "SeparatePallu", "SheerBody", "SingleIkat", "StripedPallu",
    "Stripes", "Swan", "TapestryWeave", "TempleBorder", "TieDye", "TopeTeniJoin", "Vine",
    "Wheel", "ZariBands", "ZariBrocade", "ZariGroundPallu",
)  # fmt: skip

# Handloom cotton (or cotton-silk) grounds: uneven yarn shows; filament silk is smoother.
COTTON_GROUNDS = frozenset(
    {
        "Chettinad",
        "Kasavu",
        "Ilkal",
        "Jamdani",
        "KotaDoria",
        "Gadwal",
        "Sambalpuri",
        "PochampallyIkat",
        "Maheshwari",
        "Chanderi",
        "Bandhani",
    }
)


def design(tradition: str, rng: np.random.Generator) -> Design:
    """A random saree of the tradition."""
    k = Pick(rng)
    d = GRAMMARS[tradition](k)
    d.slub = k.u(0.04, 0.08) if tradition in COTTON_GROUNDS else k.u(0.015, 0.035)
    return d
