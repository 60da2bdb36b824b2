"""The default recipe: render the data, train, export, evaluate, benchmark: the shipped model.

    saree train --recipe default --out models/

regenerates models/saree-model.{onnx,json}, REPORT.md, report.json and confusion.png from
nothing but this repository (each step is skipped when its output is already there, so an
interrupted run resumes).

Training has two stages, each one `saree train` command: the first trains everything from the
ImageNet backbone with the basic changed copies (SEG_EPOCHS of segmentation); the second starts
from the first's segmentation and fine-tunes it for STAGE2_SEG_EPOCHS on changed copies with
varied surfaces behind the cloth, then trains the heads afresh and exports, evaluates and
benchmarks the model it ships.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# Never trained on: left for open-set, zero-shot and few-shot evaluation of the app.
WITHHELD = ("Gadwal", "Ilkal", "KotaDoria", "Sambalpuri")
# Families never seen in training: the held-out split is rendered only with these.
HELDOUT_FAMILIES = {"view": ["hung"], "background": ["wood"], "lighting": ["tungsten"]}
RENDER_SIZE = 256
EPOCHS = 20  # head epochs over pooled vectors
# Segmentation epochs: 8 instead of 4 (the loss was still falling at 4) raised the validation
# rows' part mIoU from 0.729 to 0.787 (single view, cached maps) for 80 instead of 40 minutes;
# 12 instead of 8 (final loss 0.171 against 0.216) to 0.812, the test split's to 0.807 from
# 0.771, for about two hours of segmentation on 2 CPU cores (minutes on a GPU).
SEG_EPOCHS = 12
SEG_STEPS = 300  # per segmentation epoch (x 64 photos): about 10 minutes on a 2-core CPU
# A second stage fine-tunes the first stage's segmentation on changed copies whose surfaces are
# varied (strong textures and clutters of shapes, `--surfaces varied`) at a quarter of the
# learning rate, then pools and trains the heads afresh: the model it exports is the shipped one.
# Measured on a fresh held-out draw (720 photos never used to design it): part mIoU 0.728 ->
# 0.736, where two more epochs on the basic copies instead gave 0.723; validation rows 0.812 ->
# 0.811 (the rule, fixed before the control was measured: ship if it beats both by 0.005 there,
# costing the test and validation splits at most 0.010 and 0.005). 4 epochs instead of 2 (loss
# still falling): validation rows 0.811 -> 0.817, test split 0.804 -> 0.806, a third fresh draw
# (rendered after the rule that chose 4 was written) 0.733 -> 0.737, for 20 more minutes.
STAGE2_SEG_EPOCHS = 4
STAGE2_LR = 5e-4
# The exported part map is redrawn at stride 2 along the photo's colour edges (a guided filter
# of this radius, nothing trained; radius and strength chosen on the validation split): the
# decoder's stride-4 map, upsampled, can put a boundary a cell or two off the cloth's edge.
# On the shipped checkpoint: part mIoU test 0.806 -> 0.816, held-out 0.736 -> 0.745.
SEG_EDGES = 4
# The app reads the part map with the photo as it is and shrunk to 7/8, and averages the two
# (saree_app.model.zooms; one more pass of the model, nothing trained). Chosen on two fresh
# held-out-families draws (720 photos each, never used before) among 1 + 0.5/0.625/0.7/0.75/
# 0.8/0.875: 0.875 was best on both together and on the test split; shipped checkpoint part
# mIoU draws 0.750 -> 0.762 and 0.768 -> 0.771, test 0.816 -> 0.819, held-out 0.745 -> 0.756;
# `saree bench classify` folder rate 33-34 -> 17-19 photos/s (target >= 15).
SEG_ZOOMS = "1,0.875"
# The shrunk copy read mirrored left-right, for the same cost: part mIoU held-out 0.756 ->
# 0.758, draws 2-5 +0.002 to +0.005, test 0.819 -> 0.826, validation 0.842 (unchanged).
SEG_ZOOMS_MIRRORED = True
AUGMENT_COPIES = 1  # changed copies of every training photo in the cache (train.augment)
SEG_ATTENTION = 1  # self-attention layers in the segmentation decoder
SEG_DICE = 0.5  # weight of the soft Dice term beside the cross-entropy
SEG_TUNED_BLOCKS = 3  # stride-16 blocks the segmentation decoder tunes its own copy of
# Attribute loss weight in the heads stage. Averaged over 40 attributes the attribute loss
# was a small share of the total at weight 1; on the validation rows' pooled vectors (no test or
# held-out photo) weight 1, 3, 6, 10, 16 gave attribute mAP 0.862, 0.873, 0.876, 0.868, 0.867
# at the same top-1. The whole-saree embedding shares the attributes' hidden layer: on the full
# pipeline's test split weight 6 cost Recall@1 (95.1% -> 93.5%) unless the metric loss grew with
# it (weight 1.5: 95.0%, attribute mAP 0.835 -> 0.847).
ATTR_WEIGHT = 6.0
METRIC_WEIGHT = 1.5
WIDTH = 256
EVAL_PER_CLASS = 60  # photos per tradition evaluated in each of test and heldout
SEED = 0


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] recipe: {msg}", file=sys.stderr, flush=True)


def default_data_dir() -> Path:
    """Where the recipe renders its data set (outside the repository: it is bulk)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("saree-app")) / "synth-default"


def traditions() -> list[str]:
    """The rendered traditions the default model learns (all but the withheld four)."""
    return [t for t in _synth().RENDERED_TRADITIONS if t not in WITHHELD]


def _synth() -> Any:
    from saree_app import synth

    return synth


# Photos per tradition in each split. Train and val photos use only the training families;
# every heldout photo has at least one held-out family (view, background or lighting).
SPLIT_COUNTS = {"train": 850, "val": 50, "test": 70, "heldout": 130}
_SEED_BASE = {"train": 0, "val": 100_000, "test": 200_000, "heldout": 300_000}


def _families(split: str, tradition: str, seed: int) -> dict[str, str]:
    import zlib

    import numpy as np

    rng = np.random.default_rng([zlib.crc32(tradition.encode()), seed, 4242])
    out: dict[str, str] = {}
    forced = None
    if split == "heldout":
        forced = list(HELDOUT_FAMILIES)[int(rng.integers(len(HELDOUT_FAMILIES)))]
    for kind, names in _synth().FAMILIES.items():
        if kind == forced:
            pool = list(HELDOUT_FAMILIES[kind])
        elif split == "heldout":
            pool = list(names)
        else:
            pool = [n for n in names if n not in HELDOUT_FAMILIES.get(kind, [])]
        out[kind] = pool[int(rng.integers(len(pool)))]
    return out


def _render_one(job: tuple[str, str, str, int, int]) -> dict[str, Any]:
    from PIL import Image

    out, split, tradition, seed, size = job
    fam = _families(split, tradition, seed)
    img, mask, attrs, meta = _synth().render(tradition, seed, size, **fam)
    stem = f"{seed:06d}"
    folder = Path(out) / tradition
    img.save(folder / f"{stem}.jpg", quality=92)
    Image.fromarray(mask).save(folder / f"{stem}.mask.png", compress_level=1)
    return {
        "image": f"{tradition}/{stem}.jpg",
        "mask": f"{tradition}/{stem}.mask.png",
        "tradition": tradition,
        "attributes": attrs,
        "split": split,
        "families": meta.get("families", fam),
        "seed": seed,
    }


def render_data(
    data_dir: Path, counts: dict[str, int], size: int = RENDER_SIZE, workers: int = 2
) -> None:
    """Render the data set (layout of INTERFACES.md) with the held-out families set aside.

    Unlike `saree synth dataset`, which draws every family at random and sends photos with a
    held-out family to "heldout", this draws train/val/test photos from the training families
    only, so no render is wasted: the same number of training photos in about 40% less time.
    Skipped when labels.jsonl is already there.
    """
    import json
    import multiprocessing

    if (data_dir / "labels.jsonl").is_file():
        _say(f"data set already there: {data_dir}")
        return
    names = traditions()
    jobs = [
        (str(data_dir), split, t, _SEED_BASE[split] + i, size)
        for t in names
        for split, n in counts.items()
        for i in range(n)
    ]
    for t in names:
        (data_dir / t).mkdir(parents=True, exist_ok=True)
    _say(f"rendering {len(jobs)} photos of {len(names)} traditions into {data_dir}")
    t0 = time.monotonic()
    rows = []
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for i, row in enumerate(pool.imap(_render_one, jobs, chunksize=8)):
            rows.append(row)
            if (i + 1) % 500 == 0 or i + 1 == len(jobs):
                rate = (i + 1) / max(time.monotonic() - t0, 1e-6)
                _say(
                    f"rendered {i + 1}/{len(jobs)} ({rate:.0f}/s, ETA "
                    f"{(len(jobs) - i - 1) / max(rate, 1e-6) / 60:.1f} min)"
                )
    tmp = data_dir / "labels.jsonl.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    tmp.replace(data_dir / "labels.jsonl")
    _say(f"rendered in {time.monotonic() - t0:.0f}s")


def run(args: argparse.Namespace) -> int:
    """`saree train --recipe default`: every step of the shipped model."""
    from saree_app.train import cli

    data_dir: Path = args.data[0] if args.data else default_data_dir()
    counts = dict(SPLIT_COUNTS)
    if args.per_class:  # scale every split alike
        scale = args.per_class / sum(SPLIT_COUNTS.values())
        counts = {k: max(2, round(v * scale)) for k, v in SPLIT_COUNTS.items()}
    render_data(data_dir, counts, RENDER_SIZE, workers=args.threads or os.cpu_count() or 2)
    cache = args.cache or data_dir.parent / "cache-default"
    # The second stage's cache holds other changed copies: a folder of its own.
    cache2 = cache.parent / f"{cache.name}-varied"
    common = [
        "--data",
        str(data_dir),
        "--exclude",
        ",".join(WITHHELD),
        "--epochs",
        str(args.epochs or EPOCHS),
        "--seed",
        str(SEED),
        "--name",
        args.name,
        "--max-steps",
        str(SEG_STEPS),
        "--width",
        str(WIDTH),
        "--rotate-augment",
        "--augment-copies",
        str(AUGMENT_COPIES),
        "--seg-attention",
        str(SEG_ATTENTION),
        "--seg-dice",
        str(SEG_DICE),
        "--seg-tuned-blocks",
        str(SEG_TUNED_BLOCKS),
        "--seg-vflip",
        "--attr-weight",
        str(ATTR_WEIGHT),
        "--metric-weight",
        str(METRIC_WEIGHT),
        # The exported model reads each photo as it is and turned a quarter, and averages
        # (+2.9 points of held-out top-1 when it came in). Adding the mirror image of both
        # (four views) gave this model +0.005 test and +0.003 held-out part mIoU but halved
        # `saree bench classify`'s folder rate to 15.3 photos/s, at that target's edge: not taken.
        "--rotate-average",
    ]
    if args.white_balance:
        common.append("--white-balance")
    if args.threads:
        common += ["--threads", str(args.threads)]
    if args.device != "auto":
        common += ["--device", args.device]
    if args.fresh:
        common.append("--fresh")
    first = [*common, "--out", str(cache / "stage1-model"), "--cache", str(cache)]
    first += ["--seg-epochs", str(SEG_EPOCHS)]
    second = [*common, "--out", str(args.out), "--cache", str(cache2)]
    second += ["--seg-epochs", str(STAGE2_SEG_EPOCHS), "--lr", str(STAGE2_LR)]
    second += ["--surfaces", "varied", "--init-segmentation", str(cache / "final.pt")]
    # Export choices, so only the shipped (second) stage's model gets them.
    second += ["--seg-edges", str(SEG_EDGES), "--seg-zooms", SEG_ZOOMS]
    if SEG_ZOOMS_MIRRORED:
        second.append("--seg-zooms-mirrored")
    second += ["--eval", "--eval-per-class", str(EVAL_PER_CLASS)]
    from saree_app.train.loop import CheckpointUnreadable

    try:
        first_done = not args.fresh and _finished(cache / "final.pt", first)
    except CheckpointUnreadable as exc:
        # Two hours of training may be in it: stop rather than train the first stage over it.
        print(
            f"saree train --recipe: {exc}; stopping (make it readable or move it away)",
            file=sys.stderr,
        )
        return 2
    if first_done:
        _say(f"first stage: done already ({cache / 'final.pt'})")
        stages = [("second stage", second)]
    else:
        stages = [("first stage", first), ("second stage", second)]
    for stage, argv in stages:
        _say(f"{stage}: {cli.train_command(argv)}")
        status = cli.main(argv)
        if status:
            return status
    manifest = Path(args.out) / f"{args.name}.json"
    from saree_app.train.export import write_manifest

    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["training"]["recipe_command"] = cli.train_command(getattr(args, "argv", []))
    data["training"]["first_stage"] = _first_stage_record(cache / "final.pt")
    data["training"]["split_counts_per_tradition"] = counts
    data["training"]["heldout_families"] = HELDOUT_FAMILIES
    data["training"]["renderer"] = "saree_app.synth.render at this repository's commit"
    write_manifest(data, manifest)
    _benchmark(manifest)
    return 0


def _finished(final: Path, argv: list[str]) -> bool:
    """Whether `final` was written by a finished run of exactly this `saree train` argv (the
    first stage's pooling alone takes a quarter of an hour: not redone on a resumed recipe)."""
    if not final.is_file():
        return False
    from saree_app.train.cli import train_command
    from saree_app.train.loop import read_checkpoint

    try:
        command = read_checkpoint(final)["training"]["command"]
    except (ValueError, KeyError, TypeError):
        return False  # damaged or not a checkpoint: not a finished stage, so train it again
    return bool(command == train_command(argv))


def _first_stage_record(final: Path) -> dict[str, Any]:
    """The first stage's command and history, for the second stage's manifest."""
    import torch

    state = torch.load(final, map_location="cpu", weights_only=False)
    training = state.get("training", {})
    keep = ("command", "history", "train_seconds", "device", "config")
    return {k: training[k] for k in keep if k in training}


def _benchmark(manifest: Path) -> None:
    from saree_app.bench.model import measure, store

    figures = measure(manifest, repeats=50)
    _say(f"latency: {figures}")
    store(manifest, figures)
