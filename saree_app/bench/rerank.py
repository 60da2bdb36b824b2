"""Re-ranking a collection after the curator confirms a photo, as the app's worker does it
(gui/library.py `Library.rerank`): teach from the confirmed photos (`FewShot.from_catalog`),
fuse every stored answer again and write it back (`apply_to_catalog`). The worker also reads
the answers' summary columns before and after, to redraw the tiles that changed: one query
each, left out here (the GUI is imported by nothing else).

Distinct photos are rendered and imported once (the app's own import); the collection is then
grown to `--n` by copying their catalogue rows under other paths (the same answers and cloth
features: re-ranking reads only those, never the photo files), so a collection of thousands
costs seconds to make. Between two timed runs one more photo is confirmed, so every run
teaches afresh as a curator's confirmation does.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from saree_app.bench import Report, at_least, photo_size, reporting

# Tables whose rows belong to one photo and are what re-ranking reads (copied to grow it).
_PHOTO_TABLES = ("predictions", "vectors", "cloth_reads")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the seconds a re-rank takes after a confirmation, per collection and per 1,000."""
    ap = argparse.ArgumentParser(prog="saree bench rerank")
    ap.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    ap.add_argument("--n", type=at_least(1), default=2000, help="photos in the collection")
    ap.add_argument("--distinct", type=at_least(1), default=36, help="photos rendered and imported")
    ap.add_argument(
        "--confirmed", type=at_least(1), default=2, help="confirmed photos per tradition"
    )
    ap.add_argument(
        "--repeats", type=at_least(1), default=3, help="timed re-ranks (median reported)"
    )
    ap.add_argument("--size", type=photo_size, default="800x600", help="rendered photo size WxH")
    ap.add_argument(
        "--photos",
        type=Path,
        default=Path(tempfile.gettempdir()) / "saree-bench-rerank",
        help="where the rendered photos are kept",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.n < args.distinct:
        ap.error("--n must be at least --distinct")
    with reporting("rerank", argv, args.json) as report:
        report.settings.update(
            n=args.n,
            distinct=args.distinct,
            confirmed=args.confirmed,
            repeats=args.repeats,
            size=f"{args.size[0]}x{args.size[1]}",
        )
        _run(args, report)
    return 0


def grow(catalog_path: Path, n: int) -> int:
    """Copy the catalogue's photos (and their answers and features) under other paths until
    it holds `n` photos; returns how many it holds."""
    import sqlite3

    db = sqlite3.connect(catalog_path)
    try:
        photos = db.execute(
            "SELECT id, path, sha256, size, width, height, added FROM photos ORDER BY id"
        ).fetchall()
        rows = {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in _PHOTO_TABLES}
        have = len(photos)
        next_id = max(p[0] for p in photos) + 1
        copy = 0
        with db:
            while have < n:
                copy += 1
                new_id: dict[int, int] = {}
                for p in photos[: n - have]:
                    new_id[p[0]] = next_id
                    sha = hashlib.sha256(f"{p[2]}#{copy}".encode()).hexdigest()
                    db.execute(
                        "INSERT INTO photos (id, path, sha256, size, width, height, added)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (next_id, f"{p[1]}#{copy}", sha, *p[3:]),
                    )
                    next_id += 1
                for table, found in rows.items():
                    wanted = [r for r in found if r[0] in new_id]
                    if wanted:
                        marks = ",".join("?" * len(wanted[0]))
                        db.executemany(
                            f"INSERT INTO {table} VALUES ({marks})",
                            [(new_id[r[0]], *r[1:]) for r in wanted],
                        )
                have += len(new_id)
        return have
    finally:
        db.close()


def _run(args: argparse.Namespace, report: Report) -> None:
    from saree_app.bench.import_ import make_photos
    from saree_app.collection.catalog import Catalog
    from saree_app.collection.fewshot import FewShot, apply_to_catalog
    from saree_app.collection.importer import run_import
    from saree_app.model.predict import Predictor

    try:
        from saree_app.synth import RENDERED_TRADITIONS
    except ImportError as exc:  # the photos name their tradition by the renderer's order
        raise SystemExit(f"saree bench rerank needs the renderer (saree_app.synth): {exc}") from exc

    width, height = args.size
    # A folder per count and size: the whole folder is imported.
    folder = args.photos / f"{width}x{height}" / f"{args.distinct}"
    paths = make_photos(folder, args.distinct, width, height)
    predictor = Predictor(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.saree"
        t0 = time.perf_counter()
        with Catalog(path) as cat:
            run_import(cat, folder, predictor, batch_size=2)
        report.say(f"{len(paths)} rendered photos imported in {time.perf_counter() - t0:.1f} s")
        total = grow(path, args.n)
        # The rendered photos' traditions (import_._picture: seed i shows tradition i mod n).
        with Catalog(path) as cat:
            by_path = {str(p.resolve()): i for i, p in enumerate(paths)}
            order: dict[str, list[int]] = {}
            for item in cat.photos():
                i = by_path.get(str(Path(item.path).resolve()))
                if i is not None:
                    order.setdefault(RENDERED_TRADITIONS[i % len(RENDERED_TRADITIONS)], []).append(
                        item.id
                    )
            spare: list[tuple[int, str]] = []
            for tradition, ids in sorted(order.items()):
                for pid in ids[: args.confirmed]:
                    cat.set_label(pid, tradition=tradition, certainty="confirmed")
                spare += [(pid, tradition) for pid in ids[args.confirmed :]]
            taught = sum(min(len(v), args.confirmed) for v in order.values())
        report.say(
            f"collection of {total} photos ({args.distinct} distinct), {taught} confirmed "
            f"in {len(order)} traditions"
        )
        sha = str(predictor.manifest.sha256)
        times: list[float] = []
        written = [0]

        def progress(done: int, _total: int) -> None:
            written[0] = done

        with Catalog(path) as cat:
            for k in range(args.repeats):
                if k and spare:  # one more confirmation: the curator's next decision
                    pid, tradition = spare.pop(0)
                    cat.set_label(pid, tradition=tradition, certainty="confirmed")
                t0 = time.perf_counter()
                teach = FewShot.from_catalog(cat, sha, graph=predictor.graph)
                apply_to_catalog(cat, predictor.graph, sha, fewshot=teach, progress=progress)
                times.append(time.perf_counter() - t0)
            # The photo page fits the same teaching each time it opens a photo
            # (Library.predict), with nothing changed since the last fit.
            page: list[float] = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                FewShot.from_catalog(cat, sha, graph=predictor.graph)
                page.append(time.perf_counter() - t0)
    median = statistics.median(times)
    page_ms = statistics.median(page) * 1000
    report.say(
        f"re-rank after a confirmation: {median:.2f} s for {written[0]} answers (median of "
        f"{len(times)}: {', '.join(f'{t:.2f}' for t in times)}), "
        f"{median / max(written[0], 1) * 1000:.2f} s per 1,000 photos"
    )
    report.say(f"teaching as the photo page fits it, nothing changed since: {page_ms:.0f} ms")
    report.figures.update(
        photos=total,
        answers_reranked=written[0],
        seconds_median=round(median, 3),
        seconds=[round(t, 3) for t in times],
        seconds_per_1000_photos=round(median / max(written[0], 1) * 1000, 3),
        photo_page_teaching_ms=round(page_ms, 1),
    )
