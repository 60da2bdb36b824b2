"""render(): one labelled photograph of a procedural saree (image, part mask, attributes, meta)."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from saree_app.synth import patterns as pt
from saree_app.synth import scene
from saree_app.synth.designs import GRAMMARS, LENGTH, Band, Design, Pick, design
from saree_app.synth.patterns import hash01
from saree_app.synth.scene import BACKGROUNDS, CAMERAS, LIGHTINGS, grid
from saree_app.synth.views import BUILDERS, NAMED_VIEWS, VIEWS, Prop, Shot

RENDERED_TRADITIONS: tuple[str, ...] = tuple(GRAMMARS)

FAMILIES: dict[str, tuple[str, ...]] = {
    "view": VIEWS,
    "background": BACKGROUNDS,
    "lighting": LIGHTINGS,
    "camera": CAMERAS,
}

_THREADS = 260.0  # visible thread pitch per saree width, for the weave texture in close-ups


class SynthError(ValueError):
    """A bad argument to the renderer (unknown tradition or family, bad size or seed)."""


def check_family(kind: str, name: str | None) -> None:
    """Raise SynthError unless `name` is None or a member of family `kind`."""
    if kind not in FAMILIES:
        raise SynthError(f"unknown family kind {kind!r}; known: {', '.join(FAMILIES)}")
    # A view asked for by name may also be one the seeds never draw (NAMED_VIEWS).
    known = FAMILIES[kind] + (NAMED_VIEWS if kind == "view" else ())
    if name is not None and name not in known:
        raise SynthError(f"unknown {kind} {name!r}; known: {', '.join(known)}")


def check_tradition(tradition: str) -> None:
    """Raise SynthError unless the renderer can draw `tradition`."""
    if tradition not in GRAMMARS:
        raise SynthError(
            f"the renderer has no design grammar for {tradition!r}; "
            f"rendered traditions: {', '.join(RENDERED_TRADITIONS)}"
        )


def _rng(tradition: str, seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(tradition.encode()), stream])


def _frame(view: str, rng: np.random.Generator, size: int) -> tuple[int, int]:
    """(h, w): the longer side is `size`; portrait for hanging and draped cloth; five to six
    times longer than wide for a whole saree laid out (the length and a margin round it)."""
    if view == "laid":
        return max(8, round(size / rng.uniform(5.0, 6.0))), size
    short = round(size * (0.75 if rng.random() < 0.7 else 2 / 3))
    r = rng.random()
    if view in ("hung", "draped", "worn"):
        return (size, short) if r < 0.75 else (size, size)
    if r < 0.5:
        return short, size
    if r < 0.85 or view == "folded":
        return size, size
    return size, short


def _shadow(cover: np.ndarray, light: scene.Lighting, h: int, w: int) -> np.ndarray:
    """Soft drop shadow of what stands on the background, H x W in 0..1."""
    f = 4
    small = Image.fromarray((cover * 255).astype(np.uint8)).resize(
        (max(1, w // f), max(1, h // f)), Image.Resampling.BOX
    )
    small = small.filter(ImageFilter.GaussianBlur(max(h, w) / f * 0.02))
    big = np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), np.float32) / 255
    dx, dy = light.direction
    ox, oy = int(-dx * max(h, w) * 0.02), int(-dy * max(h, w) * 0.02)
    pad = max(abs(ox), abs(oy)) + 1
    padded = np.pad(big, pad)
    out: np.ndarray = padded[pad - oy : pad - oy + h, pad - ox : pad - ox + w]
    return out


def _occluders(rng: np.random.Generator, h: int, w: int) -> list[Prop]:
    """Things in front of the cloth now and then: a price tag, a clothes peg, fingers."""
    out: list[Prop] = []
    if rng.random() > 0.18:
        return out
    img = Image.new("L", (w, h), 0)
    dr = ImageDraw.Draw(img)
    side = max(h, w)
    kind = int(rng.integers(3))
    cx, cy = float(rng.uniform(0.1, 0.9) * w), float(rng.uniform(0.1, 0.9) * h)
    if kind == 0:  # paper tag on a string
        a = rng.uniform(0, np.pi)
        r = side * rng.uniform(0.03, 0.06)
        pts = [
            (cx + r * np.cos(a + t) * (1.6 if i % 2 else 1.0), cy + r * np.sin(a + t))
            for i, t in enumerate((0.6, 2.5, 3.8, 5.7))
        ]
        dr.polygon([(float(x), float(y)) for x, y in pts], fill=1)
        dr.line((cx, cy, cx + r * 3 * np.cos(a + 1), cy - r * 3), fill=1, width=max(1, side // 200))
        colour = np.asarray(
            [(0.93, 0.92, 0.86), (0.75, 0.6, 0.4), (0.9, 0.85, 0.5)][int(rng.integers(3))],
            np.float32,
        )
    elif kind == 1:  # clothes peg
        r = side * rng.uniform(0.015, 0.03)
        dr.rectangle((cx - r, cy - 4 * r, cx + r, cy + 4 * r), fill=1)
        colour = np.asarray(
            [(0.7, 0.5, 0.3), (0.2, 0.5, 0.9), (0.9, 0.3, 0.3)][int(rng.integers(3))], np.float32
        )
    else:  # fingers reaching in from an edge
        edge_y = h if rng.random() < 0.5 else 0
        r = side * rng.uniform(0.025, 0.04)
        for k in range(4):
            x = cx + (k - 1.5) * r * 1.7
            y_tip = edge_y + (-1 if edge_y else 1) * side * rng.uniform(0.12, 0.22)
            dr.ellipse((x - r, min(y_tip, edge_y) - r, x + r, max(y_tip, edge_y) + r), fill=1)
        colour = np.asarray(
            [(0.85, 0.65, 0.5), (0.6, 0.42, 0.3), (0.45, 0.3, 0.22)][int(rng.integers(3))],
            np.float32,
        )
    mask = np.asarray(img, bool)
    xs, _ys = grid(h, w)
    shade = (0.85 + 0.15 * np.cos((xs - cx) / side * 6)).astype(np.float32)
    out.append(Prop(mask, colour, shade))
    return out


def _clutter(rng: np.random.Generator, bg: np.ndarray) -> None:
    """Now and then a few plain objects lie about behind the cloth (boxes, a bowl, a book)."""
    if rng.random() > 0.35:
        return
    h, w = bg.shape[:2]
    img = Image.new("L", (w, h), 0)
    dr = ImageDraw.Draw(img)
    colours = [np.asarray([0.0, 0.0, 0.0], np.float32)]
    for k in range(1, int(rng.integers(2, 4))):
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        rx, ry = rng.uniform(0.05, 0.2) * w, rng.uniform(0.05, 0.2) * h
        box = (float(cx - rx), float(cy - ry), float(cx + rx), float(cy + ry))
        if rng.random() < 0.5:
            dr.rectangle(box, fill=k)
        else:
            dr.ellipse(box, fill=k)
        colours.append(rng.uniform(0.1, 0.9, 3).astype(np.float32))
    lab = np.asarray(img)
    hit = lab > 0
    if hit.any():
        xs, _ys = grid(h, w)
        shade = 0.8 + 0.3 * (xs / w)[hit]
        bg[hit] = np.stack(colours)[lab[hit]] * shade[:, None]


def _props(img: np.ndarray, shot: Shot) -> np.ndarray:
    cover = np.zeros(img.shape[:2], bool)
    for p in shot.props:
        colour = p.colour[None, :] * (p.shade[p.mask][:, None] if p.shade is not None else 1.0)
        img[p.mask] = colour
        cover |= p.mask
    return cover


def _visible(
    d: Design,
    *,
    u: np.ndarray,
    v: np.ndarray,
    cloth: np.ndarray,
    part: np.ndarray,
    band: np.ndarray,
    back: np.ndarray,
) -> tuple[list[str], dict[str, int]]:
    """Attributes whose bands are visible large and sharp enough, and pixel counts per part."""
    h, w = cloth.shape
    gu_y, gu_x = np.gradient(u)
    gv_y, gv_x = np.gradient(v)
    area = np.abs(gu_x * gv_y - gu_y * gv_x)[cloth]
    med = float(np.median(area)) if area.size else 1.0
    area = np.clip(area, 0, 4 * med)
    px_per_unit = 1 / np.sqrt(max(med, 1e-12))
    bands = d.bands()
    counts = np.bincount(band, minlength=len(bands))
    areas = np.bincount(band, weights=area, minlength=len(bands))
    min_px = max(25, int(0.002 * h * w))
    found: set[str] = set()
    for i, b in enumerate(bands):
        if not b.attrs or counts[i] < min_px:
            continue
        if b.cell > 0 and areas[i] < b.cell:
            continue
        if b.motif > 0 and b.motif * px_per_unit < 3:
            continue
        found.update(b.attrs)
    part_px = {
        name: int((part == k).sum()) for k, name in ((1, "body"), (2, "border"), (3, "pallu"))
    }
    for attr, parts in d.requires.items():
        if all(int((part == p).sum()) >= min_px for p in parts):
            found.add(attr)
    if d.reversible_border:
        # Both faces of the border in one photo (a turned corner) show that it is reversible.
        border = part == 2
        if min(int((border & back).sum()), int((border & ~back).sum())) >= min_px:
            found.add("ReversibleBorder")
    return sorted(found), part_px


def render(
    tradition: str,
    seed: int,
    size: int = 320,
    *,
    view: str | None = None,
    background: str | None = None,
    lighting: str | None = None,
    camera: str | None = None,
) -> tuple[Image.Image, np.ndarray, list[str], dict[str, Any]]:
    """One photo of a saree of `tradition`: (RGB image, part mask, attribute ids, meta).

    The mask has the image's size: 0 background, 1 body, 2 border, 3 pallu. Attributes are the
    ontology terms visible in this photo. Families left as None are drawn from the seed; the
    saree itself depends only on (tradition, seed), so one seed seen in two views is one saree.
    Same arguments, same bytes.
    """
    check_tradition(tradition)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthError(f"seed must be a non-negative integer, not {seed!r}")
    if not isinstance(size, int | np.integer) or not 32 <= size <= 4096:
        raise SynthError(f"size must be an integer from 32 to 4096, not {size!r}")
    chosen = {"view": view, "background": background, "lighting": lighting, "camera": camera}
    pick = _rng(tradition, seed, 0)
    for kind, name in chosen.items():
        check_family(kind, name)
        drawn = FAMILIES[kind][int(pick.integers(len(FAMILIES[kind])))]
        if name is None:
            chosen[kind] = drawn
    fam = {k: str(v) for k, v in chosen.items()}
    d = design(tradition, _rng(tradition, seed, 1))
    photo, mask, attrs, part_px = _photograph(
        d,
        fam,
        int(size),
        rng=_rng(tradition, seed, 2),
        occ_rng=_rng(tradition, seed, 3),
        clutter_rng=_rng(tradition, seed, 4),
    )
    meta: dict[str, Any] = {
        "tradition": tradition,
        "seed": int(seed),
        "size": [photo.width, photo.height],
        "families": fam,
        "parts_px": part_px,
    }
    return photo, mask, attrs, meta


def _photograph(
    d: Design,
    fam: dict[str, str],
    size: int,
    *,
    rng: np.random.Generator,
    occ_rng: np.random.Generator,
    clutter_rng: np.random.Generator,
) -> tuple[Image.Image, np.ndarray, list[str], dict[str, int]]:
    """Photograph one saree design in the given families: photo, mask, attributes, part sizes."""
    h, w = _frame(fam["view"], rng, size)
    light = scene.lighting(fam["lighting"], rng)
    shot = BUILDERS[fam["view"]](rng, h, w, d, light)
    bg = scene.background(fam["background"], rng, h, w)
    _clutter(clutter_rng, bg)
    cover = _props(bg, shot)

    u = np.zeros((h, w), np.float32)
    v = np.zeros((h, w), np.float32)
    shade = np.ones((h, w), np.float32)
    spec = np.zeros((h, w), np.float32)
    cloth = np.zeros((h, w), bool)
    back = np.zeros((h, w), bool)
    for layer in shot.layers:
        m = layer.valid
        np.copyto(back, layer.back if layer.back is not None else False, where=m)
        np.copyto(u, layer.u, where=m)
        np.copyto(v, layer.v, where=m)
        np.copyto(shade, layer.shade, where=m)
        np.copyto(spec, layer.spec, where=m)
        cloth |= m
    front = _occluders(occ_rng, h, w) + shot.front
    for p in front:
        cloth &= ~p.mask
    np.clip(u, 0, LENGTH, out=u)
    np.clip(v, 0, 1, out=v)
    idx = np.flatnonzero(cloth)
    uu, vv = u.ravel()[idx], v.ravel()[idx]
    # Colour is sampled a random fraction of a pixel off the pixel centre, so fine repeats
    # (checks, dots) blur into noise the camera smooths, not into moire; the part mask stays
    # on the exact pixel centres.
    foot = np.float32(1.0 / max(shot.px_per_unit, 1.0))
    uj = uu + (rng.random(idx.size, dtype=np.float32) - 0.5) * foot
    vj = vv + (rng.random(idx.size, dtype=np.float32) - 0.5) * foot
    # Woven designs change colour only from one thread to the next: in close-ups their outlines
    # step along the thread grid (no effect once a pixel covers several threads).
    t = np.float32(_THREADS)
    uj = (np.floor(uj * t) + 0.5) / t
    vj = (np.floor(vj * t) + 0.5) / t
    _pj, _bj, col, zari, _oj = d.evaluate(uj, np.clip(vj, 0, 1))
    part, band = d.parts(uu, vv)
    opacity = np.where(part == 1, d.body_opacity, d.other_opacity).astype(np.float32)

    rev = back.ravel()[idx]
    if rev.any() and not d.reversible:
        # The reverse of a woven design: floats cut short, colours duller and greyer.
        grey = (col[rev] @ np.full(3, 1 / 3, np.float32))[:, None]
        col[rev] = (0.6 * col[rev] + 0.4 * grey) * 0.9
    # Uneven yarn: each warp and weft thread is a little lighter or darker (handloom streaks).
    iu = np.floor(uu * np.float32(_THREADS))
    iv = np.floor(vv * np.float32(_THREADS))
    slub = hash01(iu, 3.7) + hash01(iv, 8.1) - 1.0
    col *= (1 + d.slub * slub)[:, None]
    # Plain-weave texture only where a thread spans a few pixels (close-ups); else it aliases.
    fade = float(np.clip((shot.px_per_unit / _THREADS - 2.0) / 3.0, 0, 1))
    if fade > 0:
        fu = uu * np.float32(_THREADS) - iu
        fv = vv * np.float32(_THREADS) - iv
        over = np.mod(iu + iv, 2) == 0
        bump = np.where(over, np.sin(fu * np.float32(np.pi)), np.sin(fv * np.float32(np.pi)))
        col *= (1 + fade * (d.weave + 0.12 * zari) * (2 * bump - 1.2))[:, None]

    field = light.field(h, w)
    lc = np.asarray(light.colour, np.float32)
    shadow = _shadow(cloth | cover, light, h, w)
    img = bg * (field * (1 - light.shadow * shadow * ~cloth))[..., None]
    flat_img = img.reshape(-1, 3)
    diffuse = shade.ravel()[idx] * field.ravel()[idx]
    sp = spec.ravel()[idx] * light.specular
    # Zari is metal: darker than silk off the highlight, glinting thread by thread in it.
    sparkle = (rng.random(idx.size, dtype=np.float32) > 0.85) * 0.8 + 0.6
    metal = zari * (sp * 2.2 + 0.12) * sparkle
    out = col * (diffuse * (1 - 0.3 * zari))[:, None] + col * metal[:, None]
    gloss = (d.sheen * sp * (1 - zari))[:, None]
    out += gloss * 0.35
    if d.shot is not None:
        # Shot silk: warp and weft of different colours, the highlight turns to the weft's.
        out += gloss * 0.8 * (np.asarray(d.shot, np.float32) - col)
    out = opacity[:, None] * out + (1 - opacity[:, None]) * flat_img[idx] * 0.92
    flat_img[idx] = out
    for p in front:
        assert p.shade is not None
        img[p.mask] = p.colour * (p.shade * field)[p.mask][:, None]
    img = img * lc
    dof = fam["view"] == "closeup" and bool(rng.random() < 0.4)
    photo = scene.camera(fam["camera"], rng, img, depth_of_field=dof)

    flat_mask: np.ndarray = np.zeros(h * w, np.uint8)
    flat_mask[idx] = part
    mask = flat_mask.reshape(h, w)
    attrs, part_px = _visible(d, u=u, v=v, cloth=cloth, part=part, band=band, back=rev)
    return photo, mask, attrs, part_px


def _other_textile(rng: np.random.Generator) -> Design:
    """Cloth that is not a saree: one all-over pattern, no border, no pallu."""
    k = Pick(rng)
    cs = rng.uniform(0.05, 0.95, (3, 3))
    c1, c2, c3 = ((float(r), float(g), float(b)) for r, g, b in cs)
    kind = k.one(["plain", "tartan", "polka", "print", "stripes"])
    painter: pt.Painter
    if kind == "plain":
        painter = pt.solid(c1)
    elif kind == "tartan":
        painter = pt.checks(c1, c2, k.u(0.05, 0.2), 0.5, blocks=c3)
    elif kind == "polka":
        painter = pt.motifs(pt.solid(c1), "coin", [c2, c2, c2], cell=(0.08, 0.08), size=0.04)
    elif kind == "print":
        name = k.one(["flower", "star", "lotus"])
        painter = pt.motifs(pt.solid(c1), name, [c2, c3, c2], cell=(0.1, 0.1), size=0.06)
    else:
        painter = pt.stripes([c1, c2, c3], [0.03, 0.01, 0.02], along=k.chance(0.5))
    return Design("Distractor", Band(0, 1, painter), 0.0, [], 0.0, [], sheen=k.u(0.0, 0.3))


def render_distractor(seed: int, size: int = 320) -> Image.Image:
    """A photo with no saree in it (objects, plain cloth, furniture) for open-set evaluation."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthError(f"seed must be a non-negative integer, not {seed!r}")
    rng = np.random.default_rng([seed, 7_777_777])
    if rng.random() < 0.5:
        # Another textile photographed like a saree: a stole, a bedsheet, a shirting length.
        fam = {
            "view": ("flat", "partial", "folded", "hung")[int(rng.integers(4))],
            "background": BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))],
            "lighting": LIGHTINGS[int(rng.integers(len(LIGHTINGS)))],
            "camera": CAMERAS[int(rng.integers(len(CAMERAS)))],
        }
        photo, _m, _a, _p = _photograph(
            _other_textile(rng),
            fam,
            int(size),
            rng=rng,
            occ_rng=np.random.default_rng([seed, 7_777_778]),
            clutter_rng=np.random.default_rng([seed, 7_777_779]),
        )
        return photo
    h, w = (round(size * 0.75), size) if rng.random() < 0.5 else (size, size)
    bg = scene.background(BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))], rng, h, w)
    light = scene.lighting(LIGHTINGS[int(rng.integers(len(LIGHTINGS)))], rng)
    canvas = Image.fromarray(np.clip(bg * 255, 0, 255).astype(np.uint8))
    dr = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(1, 6))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, x1 = sorted(rng.uniform(-0.1, 1.1, 2) * w)
        y0, y1 = sorted(rng.uniform(-0.1, 1.1, 2) * h)
        kind = int(rng.integers(4))
        if kind == 0:
            dr.rectangle((x0, y0, x1, y1), fill=colour)
        elif kind == 1:
            dr.ellipse((x0, y0, x1, y1), fill=colour)
        elif kind == 2:
            pts = [(float(a), float(b)) for a, b in rng.uniform(0, 1, (5, 2)) * (w, h)]
            dr.polygon(pts, fill=colour)
        else:
            # A patterned cloth without saree structure: tartan or polka dots, no border.
            xs, ys = grid(h, w)
            per = rng.uniform(8, 30)
            pat = (np.mod(xs, per) < per * 0.3) ^ (np.mod(ys, per) < per * 0.3)
            tile = np.where(pat[..., None], np.asarray(colour), 255 - np.asarray(colour))
            region = Image.new("L", (w, h), 0)
            ImageDraw.Draw(region).rectangle((x0, y0, x1, y1), fill=255)
            canvas.paste(Image.fromarray(tile.astype(np.uint8)), (0, 0), region)
    arr = np.asarray(canvas, np.float32) / 255 * light.field(h, w)[..., None]
    arr = arr * np.asarray(light.colour, np.float32)
    return scene.camera(CAMERAS[int(rng.integers(len(CAMERAS)))], rng, arr)
