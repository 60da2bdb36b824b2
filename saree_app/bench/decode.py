"""Draft (reduced-scale) JPEG decode against full decode of a 4000 x 3000 photo."""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from saree_app.bench import at_least, reporting
from saree_app.imaging import letterbox, load_photo


def _photo_bytes(width: int, height: int) -> bytes:
    # Smooth gradients plus noise: compresses like a real photo, not like a flat test card.
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width * 200, y / height * 180, (x + y) / (width + height) * 220], axis=-1)
    base += rng.normal(0, 12, size=base.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Print median decode+letterbox times and their ratio."""
    ap = argparse.ArgumentParser(prog="saree bench decode")
    ap.add_argument("--size", type=at_least(16), default=256, help="model input side")
    ap.add_argument("--repeats", type=at_least(1), default=9)
    ap.add_argument("--width", type=at_least(1), default=4000, help="photo width (default 4000)")
    ap.add_argument("--height", type=at_least(1), default=3000, help="photo height (default 3000)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with reporting("decode", argv, args.json) as report:
        report.settings.update(
            size=args.size, repeats=args.repeats, photo=f"{args.width}x{args.height}"
        )
        data = _photo_bytes(args.width, args.height)
        fill = (124, 116, 104)
        full = _median_ms(lambda: letterbox(load_photo(data), args.size, fill), args.repeats)
        draft = _median_ms(
            lambda: letterbox(load_photo(data, target=args.size), args.size, fill), args.repeats
        )
        report.figures.update(
            full_ms=round(full, 2), draft_ms=round(draft, 2), speedup=round(full / draft, 2)
        )
        report.say(
            f"{args.width} x {args.height} JPEG -> {args.size} px letterbox, "
            f"median of {args.repeats}:"
        )
        report.say(f"  full decode : {full:8.1f} ms")
        report.say(f"  draft decode: {draft:8.1f} ms")
        report.say(f"  speed-up    : {full / draft:8.1f} x")
    return 0
