"""Benchmark: the longest event-loop stall while the window imports N photos.

    python -m saree_app.gui.bench_stall --photos 1000 [--model M] [--keep DIR]
    python -m saree_app.gui.bench_stall --browse 100000


A QTimer fires every 5 ms on the GUI thread; a stall is the time between two firings beyond
that interval. While the import runs, the probe also scrolls the collection grid (the curator
browsing) so that thumbnail loading and list refreshes are part of the measurement. Run on
demand (not a timed test). Target: the longest stall <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

_INTERVAL_MS = 5
LAST_TICK = [0.0]  # perf_counter of the latest probe tick, for a sampling profiler to read


def _make_photos(folder: Path, count: int) -> Path:
    """`count` distinct photos of 640 x 480 (synthetic sarees when the renderer is there)."""
    from saree_app.gui.samples import render_samples

    marker = folder / f".complete-{count}"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    if not render_samples(folder, count, size=480):
        import numpy as np
        from PIL import Image

        rng = np.random.default_rng(0)
        for i in range(count):
            img = np.empty((480, 640, 3), np.uint8)
            img[:] = rng.integers(30, 230, 3)
            img[:, :80] = rng.integers(0, 255, 3)
            img[:, -120:] = rng.integers(0, 255, 3)
            img[:: 6 + i % 7] = rng.integers(0, 255, 3)
            img += rng.integers(0, 12, img.shape, dtype=np.uint8)
            sub = folder / f"set{i % 5}"
            sub.mkdir(exist_ok=True)
            Image.fromarray(img).save(sub / f"photo_{i:05d}.jpg", quality=88)
    marker.touch()
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m saree_app.gui.bench_stall")
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--model", type=Path, default=None, help="model manifest (default: shipped)")
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the photos in this folder")
    ap.add_argument("--no-scroll", action="store_true", help="do not scroll the grid meanwhile")
    ap.add_argument(
        "--browse",
        type=int,
        default=0,
        metavar="N",
        help="instead: time filtering and scrolling a grid of N items (no import)",
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.browse:
        return browse(args.browse)

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from saree_app.gui.app import make_app
    from saree_app.gui.screenshots import wait_until
    from saree_app.gui.thumbs import ThumbnailStore
    from saree_app.gui.window import MainWindow

    make_app()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = _make_photos(args.keep or tmp / "photos", args.photos)
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        win = MainWindow(
            settings,
            collection=tmp / "bench.saree",
            model=args.model,
            thumbs=ThumbnailStore(tmp / "thumbs"),
        )
        win.resize(1440, 900)
        win.show()
        wait_until(lambda: win._loaded.is_set() and not win.loader_jobs.busy, 120)
        if win.library is None or win.library.predictor is None:
            print(f"no model: {win.library.model_problem if win.library else '?'}")
            return 1
        wait_until(lambda: not win.lister.busy, 30)

        clock = QElapsedTimer()
        gaps: list[float] = []
        last = [0.0]
        ticks = [0]

        def probe() -> None:
            now = clock.nsecsElapsed() / 1e6
            LAST_TICK[0] = time.perf_counter()
            gaps.append(now - last[0] - _INTERVAL_MS)
            last[0] = now
            ticks[0] += 1
            if not args.no_scroll and ticks[0] % 20 == 0:
                bar = win.grid.verticalScrollBar()
                bar.setValue(bar.value() + 90 if bar.value() < bar.maximum() else 0)

        timer = QTimer()
        timer.setInterval(_INTERVAL_MS)
        timer.timeout.connect(probe)
        t0 = time.perf_counter()
        win.start_import([folder])
        clock.start()
        last[0] = 0.0
        timer.start()
        wait_until(lambda: not win.jobs.busy, 3600)
        timer.stop()
        seconds = time.perf_counter() - t0
        wait_until(lambda: not win.lister.busy, 60)
        imported = win.library.catalog.count() if win.library else 0
        report = getattr(win, "last_report", None)
        if report is not None:
            report.close()
        win.close()
        QApplication.processEvents()
    stalls = sorted(max(0.0, g) for g in gaps)
    worst = stalls[-1] if stalls else 0.0
    p99 = stalls[int(0.99 * (len(stalls) - 1))] if stalls else 0.0
    over = sum(1 for s in stalls if s > 100)
    print(
        f"imported {imported} of {args.photos} photos in {seconds:.1f} s "
        f"({imported / max(seconds, 1e-9):.1f} photos/s)"
    )
    print(f"event-loop probe every {_INTERVAL_MS} ms: {len(gaps)} ticks")
    print(f"  longest stall : {worst:7.1f} ms   (target <= 100 ms)")
    print(f"  99th pct stall: {p99:7.1f} ms")
    print(f"  median stall  : {statistics.median(stalls) if stalls else 0.0:7.1f} ms")
    print(f"  stalls > 100 ms: {over}")
    return 0 if worst <= 100 else 1


def browse(n: int) -> int:
    """Filter and scroll a grid of n items: the GUI-thread cost of a big collection."""
    from PySide6.QtWidgets import QApplication

    from saree_app.gui.app import make_app
    from saree_app.gui.browser import CollectionModel, CollectionView, FacetPanel
    from saree_app.gui.items import Filter, Item
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore

    app = make_app()
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        photo = tmp / "p.jpg"
        _make_photos(tmp / "one", 1)
        photo = next((tmp / "one").rglob("*.jpg"))
        names = ("Kanchipuram", "Banarasi", "PochampallyIkat", "Paithani", "Chanderi")
        items = [
            Item(
                id=i,
                name=f"IMG_{i:06d}.jpg",
                path=photo,
                predicted=names[i % 5],
                probability=0.5,
                uncertain=i % 7 == 0,
                note="donated 1962" if i % 3 == 0 else "",
                tags=("silk",) if i % 11 == 0 else (),
            )
            for i in range(n)
        ]
        loader = ThumbnailLoader(ThumbnailStore(tmp / "thumbs"))
        model = CollectionModel(loader)
        hay = model.search_texts(items)  # on a worker in the app
        timings: dict[str, float] = {}

        def timed(name: str, fn: object) -> None:
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            app.processEvents()
            timings[name] = (time.perf_counter() - t0) * 1000

        timed("load the list (GUI part)", lambda: model.set_items(items, None, hay))
        view = CollectionView()
        view.setModel(model)
        view.resize(1200, 800)
        view.show()
        app.processEvents()
        facets = FacetPanel()
        timed("facet counts", lambda: facets.update_counts(items, *model.counts()))
        for flt in (
            Filter(tradition="Banarasi"),
            Filter(status="uncertain"),
            Filter(text="1962"),
            Filter(text="silk banarasi"),
            Filter(),
        ):
            timed(f"filter {flt}", lambda flt=flt: model.set_filter(flt))
        bar = view.verticalScrollBar()
        frames = []
        for _step in range(200):  # wheel-sized steps, as a curator scrolls
            t0 = time.perf_counter()
            bar.setValue(bar.value() + 120)
            view.viewport().repaint()
            frames.append((time.perf_counter() - t0) * 1000)
        jumps = []
        for k in range(20):  # dragging the scroll bar far away: every cell is new
            t0 = time.perf_counter()
            bar.setValue(int(bar.maximum() * (k + 0.5) / 20))
            view.viewport().repaint()
            jumps.append((time.perf_counter() - t0) * 1000)
        loader.shutdown()
    print(f"{n:,} items")
    for name, ms in timings.items():
        print(f"  {name:60s} {ms:7.1f} ms")
    frames.sort()
    jumps.sort()
    print(
        f"  scroll frame, 120 px step: median {statistics.median(frames):5.1f} ms, "
        f"worst {frames[-1]:5.1f} ms"
    )
    print(
        f"  scroll frame, jump:        median {statistics.median(jumps):5.1f} ms, "
        f"worst {jumps[-1]:5.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
