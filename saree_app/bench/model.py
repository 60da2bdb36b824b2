"""Latency of the exported model with onnxruntime: one photo, median over repeats."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from saree_app.bench import at_least, reporting
from saree_app.imaging import Preprocessing, preprocess
from saree_app.model.zooms import normalised_fill, read_zooms, run_with_zooms
from saree_app.paths import models_dir


def _times_ms(fn: Callable[[], object], repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _photo(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, size=(height // 8, width // 8, 3), dtype=np.uint8)
    return Image.fromarray(arr).resize((width, height), Image.Resampling.BILINEAR)


def measure(
    manifest_path: Path,
    *,
    repeats: int = 30,
    threads: int | None = None,
    floor: bool = False,
    floor_rounds: int = 5,
    matmul: int = 2048,
) -> dict[str, Any]:
    """Median and 90th-percentile milliseconds: model alone, and preprocess + model; with
    `floor`, also the FLOP floor and the model's ratio to it (see `flop_floor`)."""
    import onnxruntime as ort

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    inp = manifest["input"]
    prep = Preprocessing(
        size=int(inp["size"]),
        mean=(float(inp["mean"][0]), float(inp["mean"][1]), float(inp["mean"][2])),
        std=(float(inp["std"][0]), float(inp["std"][1]), float(inp["std"][2])),
        fill=(int(inp["fill"][0]), int(inp["fill"][1]), int(inp["fill"][2])),
    )
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    onnx_path = manifest_path.parent / manifest["onnx"]
    session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    # The part map is read at the manifest's zooms, as the app reads it: each one is a pass.
    zooms, mirrored = read_zooms(manifest)
    fill = normalised_fill(prep.fill, prep.mean, prep.std)
    names = [o.name for o in session.get_outputs()]

    def once(batch: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(names, session.run(None, {"image": batch}), strict=True))

    photo = _photo(1600, 1200)
    x, _ = preprocess(photo, prep)
    batch = x[None]

    def both(x: np.ndarray) -> object:
        return run_with_zooms(once, x, zooms, fill, mirrored=mirrored)

    model_only = _times_ms(lambda: both(batch), repeats)
    end_to_end = _times_ms(lambda: both(preprocess(photo, prep)[0][None]), repeats)
    extra: dict[str, Any] = {}
    if floor:
        counted = flop_floor(
            onnx_path,
            prep.size,
            len(zooms),
            threads or _cores(),
            lambda: both(batch),
            rounds=floor_rounds,
            matmul=matmul,
        )
        if counted is not None:
            extra["floor"] = counted
    return {
        **extra,
        "model": str(onnx_path),
        "size_mb": round(onnx_path.stat().st_size / 1e6, 2),
        "input": prep.size,
        "seg_zooms": ",".join(f"{z:g}" for z in zooms),
        "threads": threads or 0,
        "repeats": repeats,
        "median_ms": round(statistics.median(model_only), 2),
        "p90_ms": round(float(np.percentile(model_only, 90)), 2),
        "median_ms_with_preprocess": round(statistics.median(end_to_end), 2),
    }


def flop_floor(
    onnx_path: Path,
    size: int,
    passes: int,
    threads: int,
    run: Callable[[], object],
    *,
    rounds: int = 5,
    matmul: int = 2048,
) -> dict[str, Any] | None:
    """The FLOP floor: the model's FLOPs (Conv, Gemm, MatMul, Einsum counted from the ONNX
    graph, times the passes a photo takes) at this CPU's float32 matmul rate on the same
    threads, and `run` (one photo through the model) timed against it. The matmul and the
    model are measured in alternation, `rounds` times, so both see the same machine (other work
    on a shared CPU slows both). None when the graph cannot be counted (no `onnx` package).
    """
    import os

    from saree_app.bench.classify import blas_gflops, cpu_peak_gflops, onnx_flops

    counted = onnx_flops(onnx_path, size)
    if counted is None:
        return None
    per_pass, by_op = counted
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rates: list[float] = []
    times: list[float] = []
    for _ in range(max(1, rounds)):
        if threads == usable:  # numpy's BLAS here already runs one thread per CPU
            rate: float | None = max(
                cpu_peak_gflops(matmul, 2), cpu_peak_gflops(max(64, matmul // 2), 3)
            )
        else:  # BLAS takes its thread count at start-up: a fresh process
            rate = blas_gflops(threads, max(64, matmul // 2), 6)
        if rate:
            rates.append(rate)
        times += _times_ms(run, 5, warmup=1)
    if not rates:
        return None
    # The best rate is what this CPU can do; the median model time is what the model does.
    gflops = max(rates)
    total = per_pass * passes
    floor_ms = total / (gflops * 1e9) * 1000
    median, best = statistics.median(times), min(times)
    return {
        "gflop_per_pass": round(per_pass / 1e9, 3),
        "passes": passes,
        "gflop_per_photo": round(total / 1e9, 3),
        "gflop_by_op": {k: round(v / 1e9, 3) for k, v in sorted(by_op.items())},
        "matmul_gflops": round(gflops, 1),
        "matmul_gflops_median": round(statistics.median(rates), 1),
        "matmul_threads": threads,
        "floor_ms": round(floor_ms, 2),
        "model_median_ms": round(median, 2),
        "model_best_ms": round(best, 2),
        "ratio_to_floor": round(median / floor_ms, 2),
        "best_ratio_to_floor": round(best / floor_ms, 2),
    }


def _cores() -> int:
    """The threads onnxruntime uses by default: one per physical core. Linux only counts them
    here; elsewhere (and where it cannot tell) the CPUs this process may use."""
    import os

    try:
        cores = set()
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        for block in text.split("\n\n"):
            fields = {
                k.strip(): v.strip()
                for k, _, v in (line.partition(":") for line in block.splitlines())
            }
            if "core id" in fields:
                cores.add((fields.get("physical id"), fields["core id"]))
        if cores:
            return len(cores)
    except OSError:
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def store(manifest_path: Path, figures: dict[str, Any]) -> None:
    """Keep `figures` as the manifest's "evaluation.latency", its other figures untouched."""
    from saree_app.model.manifest import ModelManifest

    manifest = ModelManifest.load(manifest_path)
    data = dict(manifest.raw)
    data["evaluation"] = {**(data.get("evaluation") or {}), "latency": figures}
    manifest.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the latency figures (JSON with --json)."""
    ap = argparse.ArgumentParser(prog="saree bench model")
    ap.add_argument("--model", type=Path, default=models_dir() / "saree-model.json")
    ap.add_argument("--repeats", type=at_least(1), default=30)
    ap.add_argument(
        "--threads", type=at_least(1), help="onnxruntime intra-op threads (default: all)"
    )
    ap.add_argument(
        "--no-floor", action="store_true", help="skip the FLOP count and the matmul rate"
    )
    ap.add_argument(
        "--floor-rounds",
        type=at_least(1),
        default=5,
        help="rounds of matmul and model, alternating",
    )
    ap.add_argument(
        "--matmul-size", type=at_least(16), default=2048, help="side of the matmul (n x n)"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--write-manifest",
        action="store_true",
        help='store the figures as the manifest\'s "evaluation.latency" (what the recipe records '
        "right after training; rerun it on a quiet machine). The .onnx is untouched",
    )
    args = ap.parse_args(argv)
    path: Path = args.model
    if path.suffix == ".onnx":
        path = path.with_suffix(".json")
    if not path.is_file():
        print(f"saree bench model: {path}: no model manifest there", file=sys.stderr)
        return 2
    with reporting("model", argv, args.json) as report:
        report.settings.update(
            repeats=args.repeats,
            threads=args.threads or 0,
            floor_rounds=args.floor_rounds,
            matmul_size=args.matmul_size,
        )
        try:
            figures = measure(
                path,
                repeats=args.repeats,
                threads=args.threads,
                floor=not args.no_floor,
                floor_rounds=args.floor_rounds,
                matmul=args.matmul_size,
            )
        except ValueError as exc:  # a manifest that is not JSON, or whose seg_zooms are wrong
            return report.fail(f"saree bench model: {path}: {exc}")
        report.figures.update(figures)
        report.say(
            f"{figures['model']} ({figures['size_mb']} MB, {figures['input']} px input, "
            f"part map at zooms {figures['seg_zooms']})"
        )
        report.say(
            f"  model only        : median {figures['median_ms']} ms, p90 {figures['p90_ms']} ms"
        )
        report.say(f"  with preprocessing: median {figures['median_ms_with_preprocess']} ms")
        floor = report.figures.get("floor")
        if floor:
            report.say(
                f"  FLOP floor        : {floor['gflop_per_photo']} GFLOP per photo "
                f"({floor['passes']} passes of {floor['gflop_per_pass']}, counted from the graph)"
                f" at {floor['matmul_gflops']} GFLOP/s (float32 matmul, {floor['matmul_threads']}"
                f" threads) = {floor['floor_ms']} ms; the model, timed in alternation with the"
                f" matmul: median {floor['model_median_ms']} ms = {floor['ratio_to_floor']} x"
                f" the floor (best {floor['best_ratio_to_floor']} x)   target <= 2 x"
            )
        elif not args.no_floor:
            report.say("  FLOP floor        : not counted (the onnx package is missing)")
        if args.write_manifest:
            try:
                store(path, figures)
            except OSError as exc:
                return report.fail(f"saree bench model: cannot write {path}: {exc}")
            report.say(f'figures stored in {path} ("evaluation.latency")')
    return 0
