"""Renderer speed: photos per second at a given size on one core (median of repeats)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from saree_app.bench import Report, at_least, reporting
from saree_app.synth import RENDERED_TRADITIONS, VIEWS, render, write_dataset


def main(argv: Sequence[str] | None = None) -> int:
    """Render every tradition in every view, several rounds; print median photos/s per round."""
    ap = argparse.ArgumentParser(prog="saree bench synth")
    ap.add_argument("--size", type=at_least(32), default=320, help="longer side in pixels")
    ap.add_argument(
        "--repeats", type=at_least(1), default=5, help="timed rounds (median is reported)"
    )
    ap.add_argument("--per-round", type=at_least(1), default=48, help="photos per round")
    ap.add_argument(
        "--dataset",
        type=int,
        default=0,
        metavar="N",
        help="also time write_dataset with 2 workers, N photos per tradition (temp folder)",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with reporting("synth", argv, args.json) as report:
        report.settings.update(
            size=args.size, repeats=args.repeats, per_round=args.per_round, dataset=args.dataset
        )
        _run(args, report)
    return 0


def _run(args: argparse.Namespace, report: Report) -> None:
    combos = [(t, v) for v in VIEWS for t in RENDERED_TRADITIONS]
    render(combos[0][0], 0, args.size, view=combos[0][1])  # warm-up: stamps, caches
    wall_rates, cpu_rates = [], []
    per_view: dict[str, list[float]] = {v: [] for v in VIEWS}
    k = 0
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.per_round):
            t, v = combos[k % len(combos)]
            c1 = time.process_time()
            render(t, k, args.size, view=v)
            per_view[v].append(time.process_time() - c1)
            k += 1
        wall_rates.append(args.per_round / (time.perf_counter() - t0))
        cpu_rates.append(args.per_round / max(time.process_time() - c0, 1e-9))
    # CPU time is the one-core figure; wall time also counts other processes on a shared machine.
    report.say(
        f"synth render at {args.size} px, one process, {args.repeats} rounds of {args.per_round}:"
    )
    report.figures.update(
        photos_per_s_cpu=round(statistics.median(cpu_rates), 2),
        photos_per_s_wall=round(statistics.median(wall_rates), 2),
    )
    report.say(f"  median {statistics.median(cpu_rates):6.1f} photos/s per core (CPU time)")
    report.say(f"  median {statistics.median(wall_rates):6.1f} photos/s wall clock")
    for v, ts in per_view.items():
        if ts:
            report.figures.setdefault("cpu_ms_per_view", {})[v] = round(
                statistics.median(ts) * 1000, 2
            )
            report.say(f"  {v:8s} median {statistics.median(ts) * 1000:6.1f} ms CPU per photo")
    if args.dataset > 0:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_dataset(Path(tmp), args.dataset, args.size, workers=2)
            n = args.dataset * len(RENDERED_TRADITIONS)
            dt = time.perf_counter() - t0
        report.figures["dataset_photos_per_s"] = round(n / dt, 2)
        report.say(
            f"  write_dataset, 2 workers: {n} photos in {dt:.1f} s = {n / dt:.1f} photos/s wall"
        )
