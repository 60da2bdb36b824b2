"""Folder import end to end (hash, EXIF, decode, model, catalogue) on 3-megapixel JPEGs."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from saree_app.bench import Report, at_least, photo_size, reporting


def _picture(seed: int, width: int, height: int) -> Image.Image:
    """A rendered saree when the renderer is there, else a textured card; camera-like noise."""
    rng = np.random.default_rng(seed)
    try:
        from saree_app.synth import RENDERED_TRADITIONS, render

        tradition = RENDERED_TRADITIONS[seed % len(RENDERED_TRADITIONS)]
        base = render(tradition, seed, size=480)[0].resize(
            (width, height), Image.Resampling.BICUBIC
        )
        arr = np.asarray(base, dtype=np.float32)
    except ImportError:
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        phase = rng.uniform(0, 6.28, 3)
        arr = np.stack(
            [127 + 100 * np.sin(x / (20 + 10 * c) + y / 37 + phase[c]) for c in range(3)], axis=-1
        )
    # Sensor noise makes the JPEG as large and as slow to decode as a phone photo (~1 MB).
    arr += rng.normal(0, 6, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def make_photos(folder: Path, n: int, width: int, height: int) -> list[Path]:
    """n JPEGs of width x height in `folder` (kept between runs: made once)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"photo_{i:05d}.jpg"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            _picture(i, width, height).save(tmp, "JPEG", quality=92)
            tmp.replace(path)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Print photos per second for a whole import, and for the model step alone."""
    ap = argparse.ArgumentParser(prog="saree bench import_")
    ap.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    ap.add_argument("--n", type=at_least(1), default=120, help="photos")
    ap.add_argument(
        "--size", type=photo_size, default="2000x1500", help="photo size WxH (default 3 megapixels)"
    )
    ap.add_argument(
        "--batch", type=at_least(1), help="photos per batch (default: the importer's, 2)"
    )
    ap.add_argument("--threads", type=at_least(1), help="inference threads")
    ap.add_argument(
        "--photos",
        type=Path,
        default=Path(tempfile.gettempdir()) / "saree-bench-import",
        help="where the generated photos are kept",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.batch is None:
        from saree_app.collection.importer import IMPORT_BATCH

        args.batch = IMPORT_BATCH
    with reporting("import_", argv, args.json) as report:
        report.settings.update(
            n=args.n,
            size=f"{args.size[0]}x{args.size[1]}",
            batch=args.batch,
            threads=args.threads or 0,
        )
        _run(args, report)
    return 0


def _run(args: argparse.Namespace, report: Report) -> None:
    import resource

    from saree_app.collection.catalog import Catalog
    from saree_app.collection.importer import run_import
    from saree_app.model.predict import Predictor

    width, height = args.size
    # A folder per count: the whole folder is imported, so one left by a run with more photos
    # would be imported too.
    folder = args.photos / f"{width}x{height}" / f"{args.n}"
    t0 = time.perf_counter()
    paths = make_photos(folder, args.n, width, height)
    made = time.perf_counter() - t0
    mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
    report.say(f"{len(paths)} JPEGs of {width} x {height} ({mb:.2f} MB each) ready in {made:.1f} s")
    rss_before = _peak_rss_mb(resource)
    predictor = Predictor(args.model, threads=args.threads)
    rss_loaded = _peak_rss_mb(resource)
    report.say(
        f"model: {predictor.manifest.name} ({predictor.manifest.path.name}), input "
        f"{predictor.manifest.preprocessing.size} px, batch {args.batch}"
    )
    # Warm-up: the first batch pays for session start-up and graph tables.
    for _ in predictor.predict_many(paths[: args.batch], batch_size=args.batch):
        pass
    t0 = time.perf_counter()
    for _ in predictor.predict_many(paths, batch_size=args.batch):
        pass
    model_only = time.perf_counter() - t0
    report.say(
        f"model step alone (decode + inference + fusion): {len(paths) / model_only:.1f} photos/s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        # What a catalogue costs before its first photo (its tables' and indexes' first pages):
        # over a few dozen photos it is a large part of the size a photo, over thousands none.
        Catalog(Path(tmp) / "empty.saree").close()
        empty = (Path(tmp) / "empty.saree").stat().st_size
        _, empty_used = _pages(Path(tmp) / "empty.saree")
    with tempfile.TemporaryDirectory() as tmp, Catalog(Path(tmp) / "bench.saree") as cat:
        t0 = time.perf_counter()
        last = run_import(cat, folder, predictor, batch_size=args.batch)
        total = time.perf_counter() - t0
        assert last.added == len(paths), last
        t0 = time.perf_counter()
        again = run_import(cat, folder, predictor, batch_size=args.batch)
        rerun = time.perf_counter() - t0
        assert again.already == len(paths)
        cat.close()
        size = (Path(tmp) / "bench.saree").stat().st_size
        page, used = _pages(Path(tmp) / "bench.saree")
    rss_peak = _peak_rss_mb(resource)
    report.say(
        f"import end to end (hash, EXIF, model, catalogue): {len(paths) / total:.1f} photos/s "
        f"({total:.1f} s for {len(paths)})"
    )
    report.say(f"re-run over the same folder (all already in): {len(paths) / rerun:.0f} photos/s")
    report.say(
        f"peak memory (resident): {rss_before:.0f} MB before the model, {rss_loaded:.0f} MB "
        f"with it loaded, {rss_peak:.0f} MB at the end of the import   target <= 500 MB"
    )
    growth = (size - empty) / len(paths) / 1024
    report.say(
        f"catalogue: {size / len(paths) / 1024:.1f} KB per photo; {growth:.1f} KB a photo more "
        f"than an empty catalogue ({empty / 1024:.0f} KB), what a large collection pays a "
        "photo   target <= 4 KB"
    )
    # The file grows a page at a time, and each table and index has a last page partly
    # filled: over few photos that slack moves the figure above by up to a page a table.
    rows_kb = (
        None if used is None or empty_used is None else (used - empty_used) / len(paths) / 1024
    )
    if rows_kb is not None:
        report.say(
            f"  its pages {page // 1024} KB: the photos' rows and their pages' own bookkeeping "
            f"take {rows_kb:.2f} KB a photo (without the unused part of pages); with fewer "
            f"than about {max(1, 100 * page // 4096)} photos the figure above is rough"
        )
    report.figures.update(
        photos=len(paths),
        photo_mb=round(mb, 2),
        model_step_photos_per_s=round(len(paths) / model_only, 2),
        import_photos_per_s=round(len(paths) / total, 2),
        rerun_photos_per_s=round(len(paths) / rerun, 1),
        peak_rss_mb_before_model=round(rss_before, 1),
        peak_rss_mb_model_loaded=round(rss_loaded, 1),
        peak_rss_mb=round(rss_peak, 1),
        catalogue_kb_per_photo=round(size / len(paths) / 1024, 2),
        catalogue_empty_kb=round(empty / 1024, 1),
        catalogue_growth_kb_per_photo=round(growth, 2),
        catalogue_rows_kb_per_photo=None if rows_kb is None else round(rows_kb, 2),
        catalogue_page_kb=page // 1024,
    )


def _pages(path: Path) -> tuple[int, int | None]:
    """The catalogue's page size, and the bytes of its pages in use (sqlite's dbstat: pages
    less their unused part; None where this sqlite lacks dbstat)."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
        try:
            used = db.execute("SELECT sum(pgsize - unused) FROM dbstat").fetchone()[0]
        except sqlite3.Error:
            return page, None
        return page, int(used or 0)
    finally:
        db.close()


def _peak_rss_mb(resource: Any) -> float:
    """This process's peak resident memory so far (Linux reports kilobytes, macOS bytes)."""
    peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024
