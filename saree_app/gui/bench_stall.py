"""Benchmark: the longest event-loop stall while the window imports N photos.

    python -m saree_app.gui.bench_stall --photos 1000 [--model M] [--keep DIR]

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
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

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


if __name__ == "__main__":
    sys.exit(main())
