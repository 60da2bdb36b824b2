"""Vectorised cloth painters: (along, across) cloth coordinates -> colour and zari weight.

Coordinates are in saree-width units (1.0 = the saree's width). A painter takes two float32
arrays of the same shape N and returns (rgb N x 3 in 0..1, zari N in 0..1): zari marks metallic
thread, which the renderer lights with a specular highlight instead of a matte one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from saree_app.synth.stamps import S, stamp

Colour = tuple[float, float, float]
Result = tuple[np.ndarray, np.ndarray]
Painter = Callable[[np.ndarray, np.ndarray], Result]


def rgb(r: int, g: int, b: int) -> Colour:
    """0-255 sRGB to the 0..1 floats painters use."""
    return (r / 255.0, g / 255.0, b / 255.0)


def hash01(i: np.ndarray, salt: float) -> np.ndarray:
    """A cheap deterministic per-integer pseudo-random value in [0, 1)."""
    x = np.sin(i.astype(np.float32) * np.float32(12.9898) + np.float32(salt)) * np.float32(
        43758.547
    )
    out: np.ndarray = x - np.floor(x)
    return out


def _fill(n: int, colour: Colour) -> np.ndarray:
    return np.broadcast_to(np.asarray(colour, dtype=np.float32), (n, 3)).copy()


def solid(colour: Colour, zari: float = 0.0) -> Painter:
    """One colour."""

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        return _fill(a.shape[0], colour), np.full(a.shape[0], zari, np.float32)

    return paint


def stripes(
    colours: Sequence[Colour],
    widths: Sequence[float],
    *,
    along: bool = False,
    zari: Sequence[float] | None = None,
    repeat: bool = True,
) -> Painter:
    """Stripes of the given widths across the `across` axis (or the `along` axis), repeating."""
    edges = np.cumsum(np.asarray(widths, dtype=np.float32))
    total = float(edges[-1])
    pal = np.asarray(colours, dtype=np.float32)
    zs = np.asarray(zari if zari is not None else [0.0] * len(colours), dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        x = a if along else b
        x = np.mod(x, total) if repeat else np.clip(x, 0, total - 1e-6)
        k = np.minimum(np.searchsorted(edges, x, side="right"), len(edges) - 1)
        return pal[k], zs[k]

    return paint


def checks(
    ground: Colour,
    line: Colour,
    period: float,
    line_frac: float,
    *,
    line_zari: float = 0.0,
    blocks: Colour | None = None,
) -> Painter:
    """Lines in both directions (kattam, khat); with `blocks`, a bold two-colour gingham."""
    pal = np.asarray([ground, line, blocks or line], dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        fa = np.mod(a, period) / period
        fb = np.mod(b, period) / period
        if blocks is not None:
            ia = fa < 0.5
            ib = fb < 0.5
            k = ia.astype(np.int8) + ib.astype(np.int8)
            return pal[k], np.zeros(a.shape[0], np.float32)
        on = (fa < line_frac) | (fb < line_frac)
        k = on.astype(np.int8)
        return pal[k], np.where(on, line_zari, 0.0).astype(np.float32)

    return paint


def motifs(
    base: Painter,
    name: str,
    colours: Sequence[Colour],
    *,
    cell: tuple[float, float],
    size: float,
    zari: Sequence[float] = (0.0, 0.0, 0.0),
    stagger: bool = True,
    flip: bool = False,
    jitter: float = 0.0,
    thread: float = 0.008,
    double: bool = False,
    offset: tuple[float, float] = (0.0, 0.0),
    salt: float = 0.0,
) -> Painter:
    """A repeat of one motif stamp (colours for labels 1..3) over a base painter.

    `jitter` displaces each warp thread along the length by a random amount (ikat: the dyed
    yarn never lines up exactly, which gives the feathered outline); `double` does it for the
    weft too.
    """
    st = stamp(name)
    pal = np.zeros((4, 3), np.float32)
    pal[1:] = np.asarray(colours, dtype=np.float32)
    zs = np.zeros(4, np.float32)
    zs[1:] = np.asarray(zari, dtype=np.float32)
    pa, pb = cell

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        rgb_, z = base(a, b)
        if jitter > 0:
            a = a + jitter * (hash01(np.floor(b / thread), salt) - 0.5)
            if double:
                b = b + jitter * (hash01(np.floor(a / thread), salt + 1.7) - 0.5)
        ca = (a + offset[0]) / pa
        cb = (b + offset[1]) / pb
        row = np.floor(cb)
        if stagger:
            ca = ca + 0.5 * np.mod(row, 2)
        fa = (ca - np.floor(ca) - 0.5) * pa / size + 0.5
        fb = (cb - row - 0.5) * pb / size + 0.5
        inside = (fa >= 0) & (fa < 1) & (fb >= 0) & (fb < 1)
        ix = np.clip((fa * S).astype(np.int32), 0, S - 1)
        iy = np.clip((fb * S).astype(np.int32), 0, S - 1)
        if flip:
            iy = S - 1 - iy
        lab = np.where(inside, st[iy, ix], 0)
        hit = lab > 0
        rgb_[hit] = pal[lab[hit]]
        z = np.where(hit, zs[lab], z)
        return rgb_, z.astype(np.float32)

    return paint


def ikat(
    colours: Sequence[Colour],
    *,
    cell: tuple[float, float],
    ring: float,
    jitter: float,
    double: bool,
    thread: float = 0.008,
    shape: str = "diamond",
    salt: float = 0.0,
) -> Painter:
    """Nested diamonds (or chevrons, or stepped crosses) with feathered ikat edges."""
    pal = np.asarray(colours, dtype=np.float32)
    n = len(colours)
    pa, pb = cell

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        a = a + jitter * (hash01(np.floor(b / thread), salt) - 0.5)
        if double:
            b = b + jitter * (hash01(np.floor(a / thread), salt + 3.1) - 0.5)
        fa = np.mod(a / pa, 1.0) - 0.5
        fb = np.mod(b / pb, 1.0) - 0.5
        if shape == "chevron":
            d = np.abs(np.mod(np.abs(fa) * 2 + fb, 1.0) - 0.5) * 2
        elif shape == "cross":
            d = np.minimum(np.abs(fa), np.abs(fb)) * 4 + np.maximum(np.abs(fa), np.abs(fb))
        else:
            d = np.abs(fa) * 2 + np.abs(fb) * 2
        k = np.minimum((d / ring).astype(np.int32), n - 1)
        return pal[k], np.zeros(a.shape[0], np.float32)

    return paint


def dots(
    ground: Colour,
    dot: Colour,
    halo: Colour,
    *,
    pitch: float,
    radius: float,
    macro: float,
    layout: str = "diamond",
    salt: float = 0.0,
) -> Painter:
    """Bandhani: tiny tied dots with a dyed halo, arranged in a larger pattern."""
    pal = np.asarray([ground, dot, halo], dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        ia = np.floor(a / pitch)
        ib = np.floor(b / pitch)
        key = ia * 7919.0 + ib
        ca = (ia + 0.5 + 0.25 * (hash01(key, salt) - 0.5)) * pitch
        cb = (ib + 0.5 + 0.25 * (hash01(key, salt + 9.3) - 0.5)) * pitch
        r = np.hypot(a - ca, b - cb)
        ma = np.mod(ca / macro, 1.0) - 0.5
        mb = np.mod(cb / macro, 1.0) - 0.5
        if layout == "circle":
            m = np.hypot(ma, mb) * 2
        elif layout == "grid":
            m = np.maximum(np.abs(ma), np.abs(mb)) * 2
        else:
            m = np.abs(ma) * 2 + np.abs(mb) * 2
        on = (np.mod(m * 3.0, 1.0) < 0.45) | (m < 0.18)
        k = np.zeros(a.shape[0], np.int8)
        k[on & (r < radius * 1.7)] = 2
        k[on & (r < radius)] = 1
        return pal[k], np.zeros(a.shape[0], np.float32)

    return paint


def temple(
    ground: Colour,
    tooth: Colour,
    *,
    height: float,
    period: float,
    steps: int = 4,
    zari: float = 1.0,
    inward: bool = True,
) -> Painter:
    """A row of stepped triangles (gopuram / temple border) standing on the band's outer side."""
    pal = np.asarray([ground, tooth], dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        t = np.clip(b / height, 0, 0.999)
        if not inward:
            t = 1 - t
        t = np.floor(t * steps) / steps
        f = np.abs(np.mod(a / period, 1.0) - 0.5)
        on = f < 0.5 * (1 - t) * 0.95
        k = on.astype(np.int8)
        return pal[k], np.where(on, zari, 0.0).astype(np.float32)

    return paint


def zigzag(
    ground: Colour,
    line: Colour,
    *,
    height: float,
    period: float,
    thickness: float,
    zari: float = 0.0,
) -> Painter:
    """A zigzag line across a band (the separately woven pallu's join line, gomi borders)."""
    pal = np.asarray([ground, line], dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        tri = np.abs(np.mod(a / period, 1.0) - 0.5) * 2  # 0..1
        y = (0.15 + 0.7 * tri) * height
        on = np.abs(b - y) < thickness
        return pal[on.astype(np.int8)], np.where(on, zari, 0.0).astype(np.float32)

    return paint


def teeth(
    inner: Colour,
    outer: Colour,
    *,
    height: float,
    period: float,
    zari: float = 0.0,
) -> Painter:
    """Interlocking teeth where two colours meet (korvai / kupadam / tope teni loops)."""
    pal = np.asarray([inner, outer], dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        f = np.mod(a / period, 1.0)
        t = b / height
        on = np.where(f < 0.5, t < 0.7, t < 0.3)
        return pal[on.astype(np.int8)], np.where(on, zari, 0.0).astype(np.float32)

    return paint


def vine(
    ground: Colour,
    stem: Colour,
    *,
    height: float,
    period: float,
    zari: float = 1.0,
) -> Painter:
    """A running vine (bel): a wavy stem with leaves in a band."""
    pal = np.asarray([ground, stem], dtype=np.float32)
    two_pi = np.float32(2 * np.pi)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        ph = a / period * two_pi
        y = (0.5 + 0.28 * np.sin(ph)) * height
        stem_on = np.abs(b - y) < 0.07 * height
        # Leaves sit at the crests and troughs of the wave.
        fa = np.mod(a / period + 0.25, 0.5) - 0.25
        leaf_c = (0.5 + 0.28 * np.where(np.mod(a / period + 0.25, 1.0) < 0.5, 1, -1)) * height
        leaf = (fa / 0.13) ** 2 + ((b - leaf_c) / (0.2 * height)) ** 2 < 1
        on = stem_on | leaf
        return pal[on.astype(np.int8)], np.where(on, zari, 0.0).astype(np.float32)

    return paint


def jaal(
    ground: Colour,
    net: Colour,
    flower: Colour,
    *,
    period: float,
    zari: float = 1.0,
) -> Painter:
    """An all-over floral net: curved diagonal lattice with a flower in each lozenge."""
    pal = np.asarray([ground, net, flower], dtype=np.float32)
    base = solid(ground)
    fl = motifs(
        base,
        "flower",
        [flower, flower, net],
        cell=(period, period),
        size=period * 0.45,
        zari=(
            zari,
            zari,
            zari,
        ),
    )

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        rgb_, z = fl(a, b)
        p = a / period + 0.5 * np.sin(b / period * np.float32(np.pi))
        q = b / period
        d1 = np.abs(np.mod(p + q, 1.0) - 0.5)
        d2 = np.abs(np.mod(p - q, 1.0) - 0.5)
        on = (d1 > 0.46) | (d2 > 0.46)
        rgb_[on] = pal[1]
        z = np.where(on, zari, z)
        return rgb_, z.astype(np.float32)

    return paint


def frames(
    ground: Colour,
    frame: Colour,
    figure_colours: Sequence[Colour],
    names: Sequence[str],
    *,
    cell: tuple[float, float],
    margin: float,
) -> Painter:
    """Narrative panels: framed rectangles, each holding a figure, as in a Baluchari pallu."""
    pa, pb = cell
    pal = np.asarray(figure_colours, dtype=np.float32)
    stamps = np.stack([stamp(n) for n in names])
    fr = np.asarray(frame, dtype=np.float32)

    def paint(a: np.ndarray, b: np.ndarray) -> Result:
        n = a.shape[0]
        out = _fill(n, ground)
        ia = np.floor(a / pa)
        ib = np.floor(b / pb)
        fa = a / pa - ia
        fb = b / pb - ib
        edge = (fa < margin) | (fa > 1 - margin) | (fb < margin) | (fb > 1 - margin)
        out[edge] = fr
        inner = ~edge
        sa = (fa - 2 * margin) / (1 - 4 * margin)
        sb = (fb - 2 * margin) / (1 - 4 * margin)
        ok = inner & (sa >= 0) & (sa < 1) & (sb >= 0) & (sb < 1)
        which = np.mod(ia + ib, len(names)).astype(np.int32)
        ix = np.clip((sa * S).astype(np.int32), 0, S - 1)
        iy = np.clip((sb * S).astype(np.int32), 0, S - 1)
        lab = np.where(ok, stamps[which, iy, ix], 0)
        hit = lab > 0
        out[hit] = pal[np.mod(lab[hit] - 1 + which[hit], len(pal))]
        return out, np.zeros(n, np.float32)

    return paint
