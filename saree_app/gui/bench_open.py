"""Benchmark: the photo page made ready for one photo, as the window does it on its worker.

    python -m saree_app.gui.bench_open [--photo FILE] [--repeats N] [--model M] [--json]

What a curator waits for after clicking a photo: the photo decoded and shrunk for the screen,
the model's answer (the model reading the file itself, meanwhile), the part map, the top
traditions' heatmaps and the three part maps at the overlays' size (`gui.analysis.analyse`).
`saree bench classify`'s "end to end" is the model's path alone (its draft decode, the two
overlays drawn); this is the page's. Default photo: `saree bench classify`'s 4000 x 3000 JPEG.
Run on demand (not a timed test); medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from saree_app.bench import at_least, run_reported


def main(argv: Sequence[str] | None = None) -> int:
    from saree_app.bench.classify import CACHE

    ap = argparse.ArgumentParser(prog="python -m saree_app.gui.bench_open", description=__doc__)
    ap.add_argument("--photo", type=Path, default=None, help="the photo (default: a 12-MP JPEG)")
    ap.add_argument("--repeats", type=at_least(1), default=9, help="timed runs (median)")
    ap.add_argument("--model", type=Path, default=None, help="model manifest (default: shipped)")
    ap.add_argument("--data", type=Path, default=CACHE, help=f"where the 12-MP JPEG is ({CACHE})")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    return run_reported("gui.bench_open", argv, args, lambda report: _run(args, report))


def _run(args: argparse.Namespace, report: object) -> int:
    from saree_app.bench import Report
    from saree_app.bench.classify import _twelve_mp_jpeg
    from saree_app.gui.analysis import analyse
    from saree_app.gui.tasks import Cancel
    from saree_app.imaging import PhotoError
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    assert isinstance(report, Report)
    photo = args.photo or _twelve_mp_jpeg(args.data / "photo-4000x3000.jpg")
    if not photo.is_file():
        return report.fail(f"bench_open: {photo} is not a file")
    try:
        predictor = Predictor(args.model)
    except ModelError as exc:
        return report.fail(f"bench_open: cannot use the model: {exc}")

    def once() -> float:
        t0 = time.perf_counter()
        analyse(1, photo, predictor.predict, Cancel(), name=photo.name)
        return (time.perf_counter() - t0) * 1000

    try:
        once()  # the first look loads what later ones reuse
    except PhotoError as exc:
        return report.fail(f"bench_open: {exc}")
    times = [once() for _ in range(args.repeats)]
    med = statistics.median(times)
    report.figures["photo_page"] = {
        "photo": str(photo),
        "median_ms": round(med, 2),
        "best_ms": round(min(times), 2),
        "repeats": args.repeats,
    }
    report.say(f"photo page made ready for {photo.name}, median of {args.repeats}: {med:.1f} ms")
    report.say(f"  best {min(times):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
