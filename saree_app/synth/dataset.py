"""Write rendered photos to disk: training data sets, contact sheets and sample photos."""

from __future__ import annotations

import json
import multiprocessing
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from saree_app.synth.render import (
    FAMILIES,
    RENDERED_TRADITIONS,
    SynthError,
    check_family,
    check_tradition,
    render,
)
from saree_app.synth.views import VIEWS

SPLITS = ("train", "val", "test")
_SPLIT_EDGES = (0.8, 0.9)

Progress = Callable[[int, int], None]


def _fraction(key: str) -> float:
    """A number in [0, 1) fixed by `key` (a hash): the same photo draws the same each time."""
    return (zlib.crc32(key.encode()) & 0xFFFFFFFF) / 2**32


def split_of(
    tradition: str,
    seed: int,
    families: Mapping[str, str],
    heldout: Mapping[str, Sequence[str]] | None,
) -> str:
    """'heldout' if any family is held out; else train/val/test (80/10/10) from the seed."""
    for kind, names in (heldout or {}).items():
        if families.get(kind) in names:
            return "heldout"
    r = _fraction(f"{tradition}/{seed}")
    if r < _SPLIT_EDGES[0]:
        return "train"
    return "val" if r < _SPLIT_EDGES[1] else "test"


def parse_heldout(specs: Sequence[str]) -> dict[str, list[str]]:
    """'view=draped,background=wood' (possibly several) -> {'view': ['draped'], ...}."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            if "=" not in item:
                raise SynthError(
                    f"held-out family {item!r} must look like KIND=NAME, e.g. view=draped"
                )
            kind, name = (s.strip() for s in item.split("=", 1))
            check_family(kind, name)
            out.setdefault(kind, [])
            if name not in out[kind]:
                out[kind].append(name)
    return out


def _check_heldout(heldout: Mapping[str, Sequence[str]] | None) -> None:
    for kind, names in (heldout or {}).items():
        if isinstance(names, str):
            raise SynthError(f"held-out {kind} must be a list of names, not the string {names!r}")
        for name in names:
            check_family(kind, name)
        if set(FAMILIES[kind]) <= set(names):
            raise SynthError(f"holding out every {kind} leaves nothing to train on")


def worn_photo(tradition: str, seed: int, share: float) -> bool:
    """Whether photo `seed` of `tradition` is rendered in the named "worn" view: a hash of the
    two (not the one the split uses) below `share`, so the same arguments pick the same photos."""
    return _fraction(f"worn/{tradition}/{seed}") < share


def _job(args: tuple[str, str, int, int, dict[str, list[str]], float]) -> dict[str, Any]:
    out, tradition, seed, size, heldout, worn = args
    view = "worn" if worn and worn_photo(tradition, seed, worn) else None
    img, mask, attrs, meta = render(tradition, seed, size, view=view)
    stem = f"{seed:06d}"
    folder = Path(out) / tradition
    img.save(folder / f"{stem}.jpg", quality=92)
    Image.fromarray(mask).save(folder / f"{stem}.mask.png", optimize=False, compress_level=1)
    fams = meta["families"]
    return {
        "image": f"{tradition}/{stem}.jpg",
        "mask": f"{tradition}/{stem}.mask.png",
        "tradition": tradition,
        "attributes": attrs,
        "split": split_of(tradition, seed, fams, heldout),
        "families": fams,
        "seed": seed,
    }


def write_dataset(  # noqa: PLR0917 (positional order is the INTERFACES.md contract)
    out: str | Path,
    per_class: int,
    size: int,
    traditions: Sequence[str] | None = None,
    heldout: Mapping[str, Sequence[str]] | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    *,
    seed: int = 0,
    worn: float = 0.0,
) -> Path:
    """Render `per_class` photos per tradition into `out` (layout of INTERFACES.md).

    Photo i of a tradition uses render seed `seed * 1_000_000 + i`, families drawn from it;
    a share `worn` of them (picked by `worn_photo`) is shown worn instead (the named view
    "worn": a figure at any scale, the pallu hanging, held out or down the front);
    photos whose view/background/lighting/camera is in `heldout` go to split "heldout", the rest
    80/10/10 to train/val/test by a hash of (tradition, seed). labels.jsonl is written in
    (tradition, seed) order, so the same arguments give the same files.
    """
    names = list(traditions) if traditions is not None else list(RENDERED_TRADITIONS)
    if not names:
        raise SynthError("no traditions to render")
    for t in names:
        check_tradition(t)
    if per_class < 1:
        raise SynthError(f"per-class count must be at least 1, not {per_class}")
    if not 32 <= size <= 4096:
        raise SynthError(f"size must be from 32 to 4096 pixels, not {size}")
    if workers < 1:
        raise SynthError(f"workers must be at least 1, not {workers}")
    if not 0.0 <= worn <= 1.0:
        raise SynthError(f"the worn share must be from 0 to 1, not {worn}")
    _check_heldout(heldout)
    held = {k: list(v) for k, v in (heldout or {}).items()}
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    for t in names:
        (root / t).mkdir(exist_ok=True)
    jobs = [
        (str(root), t, seed * 1_000_000 + i, size, held, worn)
        for t in names
        for i in range(per_class)
    ]
    total = len(jobs)
    rows: list[dict[str, Any]] = []
    if workers == 1:
        for i, job in enumerate(jobs):
            rows.append(_job(job))
            if progress:
                progress(i + 1, total)
    else:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers) as pool:
            for i, row in enumerate(pool.imap(_job, jobs, chunksize=8)):
                rows.append(row)
                if progress:
                    progress(i + 1, total)
    tmp = root / "labels.jsonl.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    tmp.replace(root / "labels.jsonl")
    return root


def contact_sheet(
    traditions: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    *,
    cell: int = 160,
    seed: int = 0,
    labels: bool = True,
) -> Image.Image:
    """A grid: a row per tradition, a column per view (mixed scenes), for a person to judge."""
    names = list(traditions) if traditions is not None else list(RENDERED_TRADITIONS)
    cols = list(views) if views is not None else list(VIEWS)
    for t in names:
        check_tradition(t)
    for v in cols:
        check_family("view", v)
    size = max(11, min(22, cell // 10))
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont
    try:
        font = ImageFont.load_default(size=size)
    except (OSError, ImportError, TypeError, ValueError):  # Pillow built without FreeType
        font = ImageFont.load_default()
    label_w = int(size * 9.5) if labels else 0
    sheet = Image.new("RGB", (label_w + cell * len(cols), cell * len(names)), (24, 24, 24))
    dr = ImageDraw.Draw(sheet)
    for r, t in enumerate(names):
        if labels:
            dr.text((8, r * cell + cell // 2 - size // 2), t, fill=(230, 230, 230), font=font)
        for c, v in enumerate(cols):
            img, _m, _a, _meta = render(t, seed * 1000 + r * 31 + c, cell, view=v)
            x = label_w + c * cell + (cell - img.width) // 2
            y = r * cell + (cell - img.height) // 2
            sheet.paste(img, (x, y))
    return sheet


def write_samples(out: str | Path, count: int = 16, size: int = 640, seed: int = 0) -> list[Path]:
    """`count` sample photos (JPEG) for the app's sample collection: mixed traditions and views.

    Cameras are the well-behaved ones (clean, phone): samples show what the app does with a
    decent photo. Files are named <Tradition>-<nn>.jpg.
    """
    if count < 1:
        raise SynthError(f"sample count must be at least 1, not {count}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = list(RENDERED_TRADITIONS)
    order = rng.permutation(len(names))
    views = [v for v in VIEWS if v != "closeup"]
    written = []
    for i in range(count):
        t = names[int(order[i % len(names)])]
        v = views[i % len(views)]
        cam = ("clean", "phone")[i % 2]
        img, _m, _a, _meta = render(t, 500 + 100 * seed + i, size, view=v, camera=cam)
        path = root / f"{t}-{i + 1:02d}.jpg"
        img.save(path, quality=82, optimize=True)
        written.append(path)
    return written
