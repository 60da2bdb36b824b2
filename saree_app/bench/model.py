"""Latency of the exported model with onnxruntime: one photo, median over repeats."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from saree_app.bench import reporting
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
    manifest_path: Path, *, repeats: int = 30, threads: int | None = None
) -> dict[str, float | int | str]:
    """Median and 90th-percentile milliseconds: model alone, and preprocess + model."""
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
    return {
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


def store(manifest_path: Path, figures: dict[str, float | int | str]) -> None:
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
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, help="onnxruntime intra-op threads (default: all)")
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
        report.settings.update(repeats=args.repeats, threads=args.threads or 0)
        try:
            figures = measure(path, repeats=args.repeats, threads=args.threads)
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
        if args.write_manifest:
            try:
                store(path, figures)
            except OSError as exc:
                return report.fail(f"saree bench model: cannot write {path}: {exc}")
            report.say(f'figures stored in {path} ("evaluation.latency")')
    return 0
