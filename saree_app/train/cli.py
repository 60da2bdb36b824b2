"""`saree train`, `saree eval`, `saree export-model`: arguments and `main(argv)` entry points.

Importing this module is cheap (argparse only); torch is imported when a command runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_SIZE = 256


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _zooms(text: str) -> tuple[float, ...]:
    from saree_app.model.zooms import parse_zooms

    try:
        return parse_zooms(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


ZOOMS_HELP = (
    "the app reads the part map with the photo at each of these zooms (1 = as it is, "
    "0.875 = shrunk to 7/8 about its centre) and averages them; one more pass of the model per "
    "zoom, nothing trained; the first must be 1"
)


def _default_cache() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("saree-app")) / "features"


def train_command(argv: Sequence[str]) -> str:
    """The `saree train` command line of `argv`, as manifests and checkpoints record it."""
    return "saree train " + " ".join(shlex.quote(a) for a in argv)


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _progress(done: int, total: int, text: str) -> None:
    _say(f"{done}/{total} {text}")


# ------------------------------------------------------------------------- arguments
def add_train_args(p: argparse.ArgumentParser) -> None:
    """Options of `saree train`."""
    from saree_app.train.augment import SURFACES

    p.add_argument(
        "--data",
        action="append",
        type=Path,
        metavar="DIR",
        help="a data set: DIR/labels.jsonl (rendered) or DIR/<Tradition>/*.jpg (curator "
        "folder); repeat to combine",
    )
    p.add_argument(
        "--recipe",
        choices=["default"],
        help="the shipped model's recipe: render the data (if --data is absent or empty), "
        "train on 12 traditions, export, evaluate, benchmark",
    )
    p.add_argument("--per-class", type=int, help="--recipe: photos rendered per tradition")
    p.add_argument(
        "--catalog",
        type=Path,
        metavar="FILE",
        help="retrain from the photos confirmed in this catalogue: the heads, and the base "
        "model's part segmentation fine-tuned where the curator corrected enough part maps; "
        "one in four confirmed photos of each tradition and of the corrected part maps is held "
        "back for the report (default --out: <catalogue>-model beside it)",
    )
    p.add_argument(
        "--base-model",
        type=Path,
        metavar="MANIFEST",
        help="--catalog: the model whose segmentation, backbone and views are kept "
        "(default: the shipped one; it is never changed)",
    )
    p.add_argument("--out", type=Path, help="folder for the .onnx + manifest")
    p.add_argument("--name", default="saree-model", help="file stem and model name")
    p.add_argument("--cache", type=Path, help="feature cache folder (default: user cache)")
    p.add_argument("--exclude", type=_csv, default=[], help="traditions never to train on (a,b)")
    p.add_argument(
        "--epochs", type=int, help="passes of the head training over pooled vectors (default 40)"
    )
    p.add_argument(
        "--seg-epochs",
        type=int,
        default=3,
        help="passes of the segmentation training (default 3); a checkpoint trained with "
        "another number, rate or batch size trains its segmentation afresh",
    )
    p.add_argument("--batch-size", type=int, default=64, help="segmentation batch size")
    p.add_argument("--lr", type=float, default=2e-3, help="segmentation learning rate")
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="input side (multiple of 32)")
    p.add_argument("--width", type=int, default=256, help="hidden units of the MLP heads")
    p.add_argument("--embedding-dim", type=int, default=128)
    p.add_argument("--max-steps", type=int, help="cap the steps of an epoch (tests, quick runs)")
    p.add_argument("--threads", type=int, help="CPU threads for torch and onnxruntime")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where segmentation and pooling run (auto: an NVIDIA GPU when torch sees one)",
    )
    p.add_argument(
        "--white-balance", action="store_true", help="grey-world white balance inside the model"
    )
    p.add_argument(
        "--flip-average",
        action="store_true",
        help="the exported model also reads the mirrored photo and averages both answers",
    )
    p.add_argument(
        "--rotate-average",
        action="store_true",
        help="the exported model also reads the photo turned a quarter and averages",
    )
    p.add_argument(
        "--seg-edges",
        type=int,
        default=0,
        choices=range(17),
        metavar="R",
        help="the exported model redraws the part map at twice the resolution along the "
        "photo's colour edges (guided filter of radius R = 1-16 cells; 0: off; nothing trained)",
    )
    p.add_argument("--seg-zooms", type=_zooms, default=(1.0,), metavar="Z[,Z...]", help=ZOOMS_HELP)
    p.add_argument(
        "--seg-zooms-mirrored",
        action="store_true",
        help="the app reads the shrunk copies of --seg-zooms mirrored left-right",
    )
    p.add_argument(
        "--seg-attention",
        type=int,
        default=0,
        metavar="N",
        help="self-attention layers across the whole cloth in the segmentation decoder",
    )
    p.add_argument(
        "--seg-tuned-blocks",
        type=int,
        default=0,
        choices=range(7),
        metavar="N",
        help="the segmentation decoder trains its own copy of the last N (0-6) stride-16 "
        "backbone blocks; the classifier keeps the frozen ones",
    )
    p.add_argument(
        "--seg-dice", type=float, default=0.0, help="weight of a soft Dice term in segmentation"
    )
    p.add_argument(
        "--seg-vflip", action="store_true", help="flip cached maps upside down too (segmentation)"
    )
    p.add_argument(
        "--attr-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="weight of the attribute loss beside the tradition loss (heads stage); changing "
        "it on a finished checkpoint retrains only the heads",
    )
    p.add_argument(
        "--metric-weight",
        type=float,
        default=0.5,
        metavar="W",
        help="weight of the embeddings' metric loss (heads stage; the whole-saree embedding "
        "shares a hidden layer with the attributes); a change retrains only the heads",
    )
    p.add_argument(
        "--rotate-augment",
        action="store_true",
        help="also cache every training photo turned by 90 degrees (sarees are photographed "
        "lying, hanging and standing)",
    )
    p.add_argument(
        "--augment-copies",
        type=int,
        default=0,
        metavar="N",
        help="also cache N changed copies of every training photo: new background, perspective, "
        "fold shading, colour cast, blur (see saree_app.train.augment)",
    )
    p.add_argument(
        "--piece-copies",
        type=int,
        default=0,
        metavar="N",
        help="also cache N copies of every training photo that has a part mask, cut down to a "
        "random piece of the cloth and enlarged, then changed as --augment-copies are",
    )
    p.add_argument(
        "--surfaces",
        choices=SURFACES,
        default="basic",
        help="backgrounds the changed copies get: basic (flat, gradient, blotches, stripes) or "
        "varied (half of them strong multi-scale textures or clutters of shapes instead)",
    )
    p.add_argument(
        "--init-segmentation",
        type=Path,
        metavar="FINAL_PT|MODEL_JSON",
        help="start the part segmentation from another run's final.pt, or from a model's "
        "manifest (saree-model.json: read back from its .onnx, its batch norms kept), and "
        "fine-tune it (a second stage; use a smaller --lr and fewer --seg-epochs)",
    )
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument(
        "--no-pretrained",
        action="store_true",
        help="random backbone (tests only: the real model needs ImageNet weights)",
    )
    p.add_argument(
        "--eval",
        action="store_true",
        help="evaluate the exported model on the test and heldout splits afterwards",
    )
    p.add_argument("--report", type=Path, help="folder for the evaluation report (default: --out)")
    p.add_argument(
        "--eval-per-class",
        type=int,
        help="--eval: at most this many photos per tradition and split",
    )


def add_eval_args(p: argparse.ArgumentParser) -> None:
    """Options of `saree eval`."""
    p.add_argument("--model", type=Path, help="manifest (.json) or .onnx (default: models/)")
    p.add_argument("--data", action="append", required=True, type=Path, metavar="DIR")
    p.add_argument("--out", type=Path, required=True, help="report folder")
    p.add_argument("--splits", type=_csv, default=["test", "heldout"])
    p.add_argument("--threads", type=int)
    p.add_argument("--limit", type=int, help="at most this many photos per split (quick look)")
    p.add_argument("--per-class", type=int, help="at most this many photos per tradition and split")
    p.add_argument(
        "--update-manifest",
        action="store_true",
        help="store the headline figures in the manifest's evaluation section",
    )


def add_export_args(p: argparse.ArgumentParser) -> None:
    """Options of `saree export-model`."""
    p.add_argument("--checkpoint", type=Path, required=True, help="final.pt written by train")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", default="saree-model")
    p.add_argument(
        "--flip-average",
        choices=("yes", "no"),
        help="override the checkpoint: average the answers for the photo and its mirror image",
    )
    p.add_argument(
        "--rotate-average",
        choices=("yes", "no"),
        help="override the checkpoint: also read the photo turned a quarter, and average",
    )
    p.add_argument(
        "--seg-edges",
        type=int,
        choices=range(17),
        metavar="R",
        help="override the checkpoint: part map redrawn along the photo's edges (radius R; 0: off)",
    )
    p.add_argument(
        "--seg-zooms",
        type=_zooms,
        metavar="Z[,Z...]",
        help="override the checkpoint's: " + ZOOMS_HELP,
    )
    p.add_argument(
        "--seg-zooms-mirrored",
        choices=("yes", "no"),
        help="override the checkpoint's: the shrunk copies of --seg-zooms read mirrored",
    )


# ------------------------------------------------------------------------- train
def run_train(args: argparse.Namespace) -> int:
    """Cache features, train the heads, export ONNX + manifest (and evaluate with --eval)."""
    from saree_app.train.data import DataError, load_dataset, load_vocabulary, ontology_attributes

    if getattr(args, "catalog", None) is not None:
        from saree_app.train.retrain import run_catalog

        return run_catalog(args)
    if args.out is None:
        print("saree train: give --out DIR (the folder for the model)", file=sys.stderr)
        return 2
    if args.recipe:
        from saree_app.train import recipe

        return recipe.run(args)
    if not args.data:
        print("saree train: give --data DIR (or --recipe default)", file=sys.stderr)
        return 2
    if args.epochs is None:
        args.epochs = 40
    try:
        vocab = load_vocabulary()
        items = []
        for d in args.data:
            items += load_dataset(d, vocabulary=vocab)
    except DataError as exc:
        print(f"saree train: {exc}", file=sys.stderr)
        return 2
    if args.size % 32:
        print(f"saree train: --size must be a multiple of 32, not {args.size}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.exclude) - vocab.traditions)
    if unknown:
        print(
            f"saree train: --exclude names unknown traditions: {', '.join(unknown)}",
            file=sys.stderr,
        )
        return 2
    items = ontology_attributes(items, vocab)
    return train_items(items, args)


def train_items(items: list[Any], args: argparse.Namespace) -> int:
    """The training pipeline on already-loaded items."""
    import numpy as np
    import torch

    from saree_app.train.cache import build_cache
    from saree_app.train.data import one_per_photo, select
    from saree_app.train.export import ModelWriteError, default_preprocessing, write_model
    from saree_app.train.loop import (
        CheckpointUnreadable,
        TrainConfig,
        Trainer,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(getattr(args, "device", "auto"))
    if device is None:
        print(
            "saree train: --device cuda, but torch sees no CUDA GPU here "
            f"(torch {torch.__version__}); use --device cpu or auto",
            file=sys.stderr,
        )
        return 2
    # --catalog: the base model's segmentation, kept as it is (--seg-epochs 0: stage 1 is
    # skipped) or fine-tuned on the curator's corrected part maps.
    base_seg = getattr(args, "base_segmentation", None)
    init_seg = base_seg
    if args.init_segmentation is not None:
        try:
            init_seg, read_back = _init_segmentation(args)
        except (ValueError, CheckpointUnreadable) as exc:
            print(f"saree train: --init-segmentation {exc}", file=sys.stderr)
            return 2
        if read_back:
            # Read back out of an .onnx, its batch norms carry the statistics folded into the
            # convolutions: they are kept, as retraining from a catalogue keeps them.
            args.seg_frozen_bn = True
    items = select(items, exclude=args.exclude)
    train_set = [it for it in items if it.split == "train"]
    # --catalog: a photo with a corrected part map but no confirmed tradition comes with the
    # tradition "": it trains the segmentation only.
    labels = sorted({it.tradition for it in train_set if it.tradition})
    if len(labels) < 2:
        print(
            "saree train: need photos of at least two traditions in the train split "
            f"(found {len(labels)})",
            file=sys.stderr,
        )
        return 2
    attributes = getattr(args, "attributes", None) or sorted(
        {a for it in train_set for a in it.attributes}
    )
    if not attributes:
        print(
            "saree train: no attribute labels at all (and none from the ontology)", file=sys.stderr
        )
        return 2
    items = [
        it
        for it in items
        if it.tradition in set(labels) or (not it.tradition and it.mask is not None)
    ]
    counts = {t: sum(it.tradition == t for it in train_set) for t in labels}
    photos = len(one_per_photo(items))
    # A long photo trained on in pieces (Item.crop, `saree train --catalog`) is one photo.
    pieces = f" ({len(items)} items with the pieces of long photos)" if photos != len(items) else ""
    _say(
        f"{photos} photos{pieces}, {len(labels)} traditions, {len(attributes)} attributes; "
        f"train per class {min(counts.values())}-{max(counts.values())}"
    )
    prep = default_preprocessing(args.size)
    pretrained = not args.no_pretrained
    cache_dir = args.cache or _default_cache() / args.name
    t0 = time.monotonic()
    cached = cached_items(items, args)
    cache = build_cache(
        cached,
        cache_dir,
        prep,
        pretrained=pretrained,
        white_balance=args.white_balance,
        threads=args.threads,
        progress=_progress,
    )
    _say(f"feature cache ready in {time.monotonic() - t0:.0f}s: {cache_dir}")
    splits = np.array([it.split for it in cache.items])
    ok = cache.ok
    rows = {s: np.flatnonzero((splits == s) & ok) for s in ("train", "val", "test", "heldout")}
    skipped = int((~ok).sum())
    if skipped:
        _say(f"{skipped} photos could not be read and are left out")
    cfg = TrainConfig(
        epochs=args.epochs,
        seg_epochs=args.seg_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        # The tuned backbone blocks move at a quarter of the decoder's rate (5e-4 at the
        # default 2e-3): pretrained weights need smaller steps.
        seg_block_lr=args.lr / 4,
        head_lr=args.head_lr,
        seed=args.seed,
        width=args.width,
        embedding_dim=args.embedding_dim,
        max_steps_per_epoch=args.max_steps,
        white_balance=args.white_balance,
        flip_average=args.flip_average,
        rotate_average=args.rotate_average,
        seg_edge_radius=args.seg_edges,
        seg_attention=args.seg_attention,
        seg_tuned_blocks=args.seg_tuned_blocks,
        seg_dice=args.seg_dice,
        seg_vflip=args.seg_vflip,
        w_attr=args.attr_weight,
        w_metric=args.metric_weight,
        seg_frozen_bn=getattr(args, "seg_frozen_bn", False),
    )
    _say(f"segmentation and pooling on {device_name(device)}")
    make = functools.partial(
        Trainer, cache, labels, attributes, cfg, pretrained=pretrained, log=_say, device=device
    )
    trainer = make()
    ckpt = cache_dir / "checkpoint.pt"
    if ckpt.is_file() and not args.fresh:
        try:
            trainer.load(ckpt)
            _say(f"resumed from {ckpt} at epoch {trainer.epoch}")
        except CheckpointUnreadable as exc:
            print(
                f"saree train: {exc}; not training afresh over it (make it readable, move it "
                "away, or pass --fresh to overwrite it)",
                file=sys.stderr,
            )
            return 2
        except (ValueError, KeyError, RuntimeError) as exc:
            _say(f"not resuming ({exc}); training afresh")
            trainer = make()
    if init_seg is not None and trainer.stage == "seg" and trainer.seg_epoch == 0:
        # Only at the start: a resumed run's checkpoint already holds what it fine-tuned.
        taken = trainer.init_segmentation(init_seg)
        if base_seg is not None and not cfg.seg_epochs:
            trainer.stage = "heads"
            _say(f"segmentation taken from the base model ({taken} tensors) and kept")
        elif base_seg is not None:
            _say(
                f"segmentation starts from the base model's ({taken} tensors), fine-tuned on "
                "the corrected part maps"
            )
        else:
            _say(f"segmentation starts from {args.init_segmentation} ({taken} tensors)")
    t1 = time.monotonic()
    trainer.train(rows["train"], val_rows=rows["val"], checkpoint=ckpt)
    train_s = time.monotonic() - t1
    held_out = len(rows["val"]) >= 10
    calib_rows = rows["val"] if held_out else rows["train"]
    if getattr(args, "calibrate", True):
        t_whole, t_part = trainer.fit_temperature(calib_rows)
    else:
        # Heads fitted on these very rows would be "calibrated" to be sure of everything.
        t_whole, t_part = 1.0, 1.0
    protos = trainer.prototypes(rows["train"])
    # Kept under "training": the manifest's "open_set" belongs to the calibration tool
    # (saree bench openset), which writes thresholds there.
    # Only photos held out from training say where new photos of known traditions sit: on the
    # photos the heads were fitted on (a retrain from a few dozen confirmed photos has no
    # validation split) the answers are ~95% sure, and thresholds from them flagged every
    # new photo. Without them the app uses its lenient defaults (model/openset.py).
    known_quantiles = _open_set_stats(trainer, calib_rows, protos) if held_out else {}
    training: dict[str, Any] = {
        "data": [str(d) for d in args.data],
        "photos": {s: len(r) for s, r in rows.items()},
        "per_class_train": counts,
        "excluded_traditions": list(args.exclude),
        "config": dict(vars(cfg)),
        "temperature": {"whole": t_whole, "parts": t_part},
        "history": trainer.history,
        "train_seconds": round(train_s, 1),
        "device": device_name(device),
        "seed": args.seed,
        "command": train_command(getattr(args, "argv", [])),
        "note": "frozen ImageNet EfficientNet-Lite0 backbone; heads trained on cached features"
        + (
            f"; the segmentation decoder tunes its own copy of the last {cfg.seg_tuned_blocks} "
            "stride-16 blocks"
            if cfg.seg_tuned_blocks
            else ""
        ),
        "known_quantiles": known_quantiles,
        "seg_zooms": list(args.seg_zooms),
        "seg_zooms_mirrored": args.seg_zooms_mirrored,
        **getattr(args, "training_extra", {}),
    }
    final = cache_dir / "final.pt"
    torch.save(
        {
            "heads": trainer.net.heads.state_dict(),
            "net_config": trainer.net_cfg.to_dict(),
            "labels": labels,
            "attributes": attributes,
            "prototypes": protos,
            "training": training,
            "pretrained": pretrained,
        },
        final,
    )
    try:
        manifest = write_model(
            trainer.net,
            Path(args.out),
            labels=labels,
            attributes=attributes,
            name=args.name,
            stem=args.name,
            prototypes=protos,
            training=training,
            extra={
                "seg_zooms": list(args.seg_zooms),
                "seg_zooms_mirrored": args.seg_zooms_mirrored,
            },
        )
    except ModelWriteError as exc:
        # The training is not lost: final.pt holds it, for export-model to another folder.
        print(
            f"saree train: --out {exc}; the trained model is kept in {final}: write it with "
            f"saree export-model --checkpoint {shlex.quote(str(final))} --out FOLDER",
            file=sys.stderr,
        )
        return 2
    _say(f"model written: {manifest} (checkpoint for export-model: {final})")
    if args.eval:
        from saree_app.train.evaluate import evaluate, summary

        report_dir = args.report or args.out
        eval_items = _cap(
            [it for it in items if it.split in ("test", "heldout")], args.eval_per_class
        )
        results = evaluate(
            manifest,
            eval_items,
            report_dir,
            command=training["command"],
            threads=args.threads,
            progress=_progress,
        )
        _store_evaluation(manifest, summary(results))
        _print_summary(summary(results))
    return 0


def cached_items(items: list[Any], args: argparse.Namespace) -> list[Any]:
    """The rows of the feature cache, in order: train and val photos, then their copies."""
    # Only what training reads is cached; test and held-out photos are evaluated end to end
    # through the exported ONNX model, exactly as the app will see them.
    cached = [it for it in items if it.split in ("train", "val")]
    originals = [it for it in cached if it.split == "train"]
    if args.rotate_augment:
        cached += [
            dataclasses.replace(it, rotate=90 if i % 2 == 0 else 270)
            for i, it in enumerate(originals)
        ]
    for copy in range(1, max(args.augment_copies, 0) + 1):
        # Seeds differ per photo and per copy; a third of the copies stay the right way up.
        cached += [
            dataclasses.replace(
                it,
                rotate=(0, 90, 270)[i % 3],
                augment=copy * 1_000_003 + i + 1,
                surfaces=args.surfaces,
            )
            for i, it in enumerate(originals)
        ]
    with_mask = [it for it in originals if it.mask is not None]
    if args.piece_copies > 0 and not with_mask:
        _say("--piece-copies: no training photo has a part mask to cut a piece by; none cached")
    for copy in range(1, max(args.piece_copies, 0) + 1):
        cached += [
            dataclasses.replace(
                it,
                rotate=(0, 90, 270)[(i + copy) % 3],
                augment=(100 + copy) * 1_000_003 + i + 1,
                piece=True,
                surfaces=args.surfaces,
            )
            for i, it in enumerate(with_mask)
        ]
    return cached


def resolve_device(choice: str) -> str | None:
    """'cpu' or 'cuda' for --device; None when cuda is asked for and torch sees no GPU."""
    import torch

    has_cuda = torch.cuda.is_available()
    if choice == "auto":
        return "cuda" if has_cuda else "cpu"
    if choice == "cuda" and not has_cuda:
        return None
    return choice


def device_name(device: str) -> str:
    """'cpu' or 'cuda (NVIDIA H100 80GB HBM3)': what the log and the manifest record."""
    import torch

    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return device


def _cap(items: list[Any], per_class: int | None) -> list[Any]:
    """The first `per_class` photos of each (split, tradition): a quicker, still balanced look."""
    if not per_class:
        return items
    seen: dict[tuple[str, str], int] = {}
    kept = []
    for it in items:
        key = (it.split, it.tradition)
        if seen.get(key, 0) < per_class:
            kept.append(it)
            seen[key] = seen.get(key, 0) + 1
    return kept


def _open_set_stats(trainer: Any, rows: Any, protos: Any) -> dict[str, Any]:
    """Where known traditions sit: low quantiles of max probability and prototype cosine."""
    import numpy as np

    if not len(rows):
        return {}
    out = trainer.predict(rows)
    logits = out["logits"]
    e = np.exp(logits - logits.max(1, keepdims=True))
    maxprob = (e / e.sum(1, keepdims=True)).max(1)
    cos = (out["embedding"] @ protos.T).max(1)
    return {
        "calibration_photos": len(rows),
        "max_prob_quantiles": {
            q: float(np.quantile(maxprob, float(q))) for q in ("0.01", "0.05", "0.1")
        },
        "prototype_cosine_quantiles": {
            q: float(np.quantile(cos, float(q))) for q in ("0.01", "0.05", "0.1")
        },
        "note": "quantiles on the validation split of known traditions; a photo below the 0.05 "
        "quantile of both is unlike the training data",
    }


def _store_evaluation(manifest: Path, figures: dict[str, Any]) -> None:
    from saree_app.train.export import write_manifest

    data = json.loads(manifest.read_text(encoding="utf-8"))
    # Beside what is already there (latency): only the splits are new.
    data["evaluation"] = {**data.get("evaluation", {}), **figures}
    write_manifest(data, manifest)


def _print_summary(figures: dict[str, Any]) -> None:
    for split, m in figures.items():
        parts = ", ".join(
            f"{k} {v:.3f}" for k, v in m.items() if isinstance(v, float) and k != "photos"
        )
        print(f"{split} ({m.get('photos')} photos): {parts}")


# ------------------------------------------------------------------------- eval
def run_eval(args: argparse.Namespace) -> int:
    """Evaluate an exported model on data sets; JSON + Markdown + confusion pictures."""
    from saree_app.train.data import DataError, load_dataset, load_vocabulary, ontology_attributes
    from saree_app.train.evaluate import evaluate, summary

    model = args.model
    if model is None:
        from saree_app.paths import models_dir

        model = models_dir() / "saree-model.json"
    if model.suffix == ".onnx":
        model = model.with_suffix(".json")
    if not model.is_file():
        print(f"saree eval: {model}: no model manifest there", file=sys.stderr)
        return 2
    try:
        vocab = load_vocabulary()
        items = []
        for d in args.data:
            items += load_dataset(d, vocabulary=vocab)
    except DataError as exc:
        print(f"saree eval: {exc}", file=sys.stderr)
        return 2
    items = _cap(ontology_attributes(items, vocab), args.per_class)
    if args.limit:
        by_split: dict[str, int] = {}
        kept = []
        for it in items:
            if by_split.get(it.split, 0) < args.limit:
                kept.append(it)
                by_split[it.split] = by_split.get(it.split, 0) + 1
        items = kept
    command = "saree eval " + " ".join(shlex.quote(a) for a in getattr(args, "argv", []))
    try:
        results = evaluate(
            model,
            items,
            args.out,
            splits=args.splits,
            command=command,
            threads=args.threads,
            progress=_progress,
        )
    except (OSError, KeyError, ValueError) as exc:
        print(f"saree eval: {model}: cannot evaluate ({exc})", file=sys.stderr)
        return 2
    if not results:
        print(f"saree eval: no photos in the splits {', '.join(args.splits)}", file=sys.stderr)
        return 2
    figures = summary(results)
    if args.update_manifest:
        _store_evaluation(model, figures)
    _print_summary(figures)
    print(f"report: {Path(args.out) / 'REPORT.md'}")
    return 0


# ------------------------------------------------------------------------- export
def run_export(args: argparse.Namespace) -> int:
    """Rebuild the network from final.pt and write ONNX + manifest."""
    from saree_app.train.export import ModelWriteError, write_model
    from saree_app.train.loop import CheckpointUnreadable, read_checkpoint
    from saree_app.train.net import EXPORT_CHOICES, NetConfig, PartAwareNet

    if not args.checkpoint.is_file():
        print(f"saree export-model: {args.checkpoint}: no such checkpoint", file=sys.stderr)
        return 2
    try:
        state = read_checkpoint(args.checkpoint)
    except (ValueError, CheckpointUnreadable) as exc:
        print(f"saree export-model: {exc}", file=sys.stderr)
        return 2
    try:
        if not isinstance(state, dict):
            raise TypeError("not a dict")
        labels, attributes, prototypes = state["labels"], state["attributes"], state["prototypes"]
        cfg = NetConfig(**state["net_config"])
        if args.flip_average:
            cfg = dataclasses.replace(cfg, flip_average=args.flip_average == "yes")
        if args.rotate_average:
            cfg = dataclasses.replace(cfg, rotate_average=args.rotate_average == "yes")
        if args.seg_edges is not None:
            cfg = dataclasses.replace(cfg, seg_edge_radius=args.seg_edges)
        net = PartAwareNet(cfg, pretrained=bool(state.get("pretrained", True)))
        net.heads.load_state_dict(state["heads"])
        training = dict(state.get("training") or {})
        # A checkpoint from before seg_zooms existed read the photo once.
        zooms = list(args.seg_zooms or training.get("seg_zooms") or [1.0])
        mirrored = (
            args.seg_zooms_mirrored == "yes"
            if args.seg_zooms_mirrored
            else bool(training.get("seg_zooms_mirrored", False))
        )
        changed = args.flip_average or args.rotate_average or args.seg_edges is not None
        if changed or args.seg_zooms or args.seg_zooms_mirrored:
            # The record must describe the graph written, not the one training exported.
            chosen = {name: getattr(cfg, name) for name in EXPORT_CHOICES}
            training["config"] = {**training.get("config", {}), **chosen}
            training["seg_zooms"] = zooms
            training["seg_zooms_mirrored"] = mirrored
            training["export_command"] = "saree export-model " + " ".join(
                shlex.quote(a) for a in getattr(args, "argv", [])
            )
    except (KeyError, RuntimeError, TypeError, ValueError, AttributeError, OSError) as exc:
        if isinstance(exc, KeyError):
            why = f"it has no {exc.args[0]!r} entry"
        elif isinstance(exc, RuntimeError):
            why = "its weights do not fit the network it describes"
        else:
            why = "it does not hold a network that saree train saved"
        print(
            f"saree export-model: {args.checkpoint}: not a final.pt of saree train ({why}); "
            "it was left as it is",
            file=sys.stderr,
        )
        return 2
    try:
        manifest = write_model(
            net.eval(),
            Path(args.out),
            labels=labels,
            attributes=attributes,
            name=args.name,
            stem=args.name,
            prototypes=prototypes,
            training=training,
            extra={"seg_zooms": zooms, "seg_zooms_mirrored": mirrored},
        )
    except ModelWriteError as exc:
        print(f"saree export-model: --out {exc}", file=sys.stderr)
        return 2
    print(f"model written: {manifest}")
    return 0


# ------------------------------------------------------------------------- main(argv)
def _main(add: Any, run: Any, prog: str, argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog=prog)
    add(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    status: int = run(args)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """`saree train` as a function (tests train one tiny epoch through this)."""
    return _main(add_train_args, run_train, "saree train", argv)


def eval_main(argv: Sequence[str] | None = None) -> int:
    """`saree eval` as a function."""
    return _main(add_eval_args, run_eval, "saree eval", argv)


def export_main(argv: Sequence[str] | None = None) -> int:
    """`saree export-model` as a function."""
    return _main(add_export_args, run_export, "saree export-model", argv)


def _init_segmentation(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    """The segmentation to start from (--init-segmentation), and whether it was read back out
    of a model's .onnx: a run's checkpoint, or a model's manifest, whose decoder is read back.
    The shipped model's checkpoint does not ship, so this is how its part map is fine-tuned on
    new renders. ValueError, in plain words, when it does not fit."""
    from saree_app.train.loop import check_segmentation_shape, read_segmentation

    path: Path = args.init_segmentation
    if path.suffix.lower() != ".json":
        seg = read_segmentation(
            path,
            size=args.size,
            seg_attention=args.seg_attention,
            seg_tuned_blocks=args.seg_tuned_blocks,
        )
        return seg, False
    from saree_app.train.base import BaseModelError, read_base_model

    try:
        base = read_base_model(path)
    except BaseModelError as exc:
        raise ValueError(str(exc)) from exc
    check_segmentation_shape(
        path,
        base.config,
        size=args.size,
        seg_attention=args.seg_attention,
        seg_tuned_blocks=args.seg_tuned_blocks,
    )
    return dict(base.segmentation), True
