"""The default recipe: render the data, train, export, evaluate, benchmark: the shipped model.

    saree train --recipe default --out models/

regenerates models/saree-model.{onnx,json}, REPORT.md, report.json and confusion.png from
nothing but this repository (each step is skipped when its output is already there, so an
interrupted run resumes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

# Never trained on: left for open-set, zero-shot and few-shot evaluation of the app.
WITHHELD = ("Gadwal", "Ilkal", "KotaDoria", "Sambalpuri")
# Families never seen in training: the held-out split is rendered only with these.
HELDOUT_FAMILIES = {"view": ["draped"], "background": ["wood"], "lighting": ["tungsten"]}
PER_CLASS = 1000  # photos rendered per tradition (train + val + test + heldout)
RENDER_SIZE = 256
EPOCHS = 16
SEED = 0


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] recipe: {msg}", file=sys.stderr, flush=True)


def default_data_dir() -> Path:
    """Where the recipe renders its data set (outside the repository: it is bulk)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("saree-app")) / "synth-default"


def traditions() -> list[str]:
    """The rendered traditions the default model learns (all but the withheld four)."""
    from saree_app import synth

    return [t for t in synth.RENDERED_TRADITIONS if t not in WITHHELD]


def render_data(data_dir: Path, per_class: int, size: int, workers: int = 2) -> None:
    """Render the training set with the held-out families set aside (skipped when present)."""
    from saree_app import synth

    if (data_dir / "labels.jsonl").is_file():
        _say(f"data set already there: {data_dir}")
        return
    _say(f"rendering {per_class} photos x {len(traditions())} traditions into {data_dir}")
    t0 = time.monotonic()

    def progress(done: int, total: int, *rest: Any) -> None:
        if done % 500 == 0 or done == total:
            rate = done / max(time.monotonic() - t0, 1e-6)
            _say(f"rendered {done}/{total} ({rate:.0f}/s)")

    synth.write_dataset(
        data_dir,
        per_class=per_class,
        size=size,
        traditions=traditions(),
        heldout=HELDOUT_FAMILIES,
        workers=workers,
        progress=progress,
    )
    _say(f"rendered in {time.monotonic() - t0:.0f}s")


def run(args: argparse.Namespace) -> int:
    """`saree train --recipe default`: every step of the shipped model."""
    from saree_app.train import cli

    data_dir: Path = args.data[0] if args.data else default_data_dir()
    render_data(data_dir, args.per_class or PER_CLASS, RENDER_SIZE)
    cache = args.cache or data_dir.parent / "cache-default"
    argv = [
        "--data",
        str(data_dir),
        "--out",
        str(args.out),
        "--cache",
        str(cache),
        "--exclude",
        ",".join(WITHHELD),
        "--epochs",
        str(args.epochs or EPOCHS),
        "--seed",
        str(SEED),
        "--name",
        args.name,
        "--eval",
    ]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.fresh:
        argv.append("--fresh")
    _say("saree train " + " ".join(argv))
    status = cli.main(argv)
    if status:
        return status
    manifest = Path(args.out) / f"{args.name}.json"
    _benchmark(manifest)
    if args.int8:
        _int8(manifest, data_dir, cache, args.threads)
    return 0


def _benchmark(manifest: Path) -> None:
    from saree_app.bench.model import measure
    from saree_app.train.export import write_manifest

    figures = measure(manifest, repeats=50)
    _say(f"latency: {figures}")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data.setdefault("evaluation", {})["latency"] = figures
    write_manifest(data, manifest)


def _int8(manifest: Path, data_dir: Path, cache: Path, threads: int | None) -> None:
    """Quantise (dynamic int8), evaluate on the same splits, record the change in accuracy."""
    import shutil

    from saree_app.bench.model import measure
    from saree_app.train.cli import quantize_int8
    from saree_app.train.data import load_dataset, load_vocabulary, ontology_attributes, select
    from saree_app.train.evaluate import evaluate, summary
    from saree_app.train.export import write_manifest

    work = cache / "int8"
    work.mkdir(parents=True, exist_ok=True)
    onnx = manifest.with_suffix(".onnx")
    shutil.copy(onnx, work / onnx.name)
    shutil.copy(manifest, work / manifest.name)
    q = quantize_int8(work / onnx.name)
    items = ontology_attributes(load_dataset(data_dir), load_vocabulary())
    items = select(items, splits=["test", "heldout"], exclude=WITHHELD)
    results = summary(evaluate(q.with_suffix(".json"), items, work / "report", threads=threads))
    latency = measure(q.with_suffix(".json"), repeats=50)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    base = data.get("evaluation", {})
    change = {
        split: {
            k: (v - base[split][k])
            if isinstance(v, float) and base.get(split, {}).get(k) is not None
            else None
            for k, v in figs.items()
            if k != "photos"
        }
        for split, figs in results.items()
    }
    data.setdefault("evaluation", {})["int8_variant"] = {
        "size_mb": latency["size_mb"],
        "median_ms": latency["median_ms"],
        "figures": results,
        "change_vs_float": change,
        "note": "onnxruntime.quantization.quantize_dynamic, QInt8 weights; not shipped",
    }
    write_manifest(data, manifest)
    _say(f"int8: {results} (change {change})")
