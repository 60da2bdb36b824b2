"""`saree train`, `saree eval`, `saree export-model`: the model's life cycle (train extra)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

# Imported by name: the training package is outside the type-checked core (it needs torch),
# and this keeps mypy from following into it.
train_cli: Any = importlib.import_module("saree_app.train.cli")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the model life-cycle subcommands."""
    p = sub.add_parser(
        "train",
        help="train a model on rendered or curator photos and export it (needs the train extra)",
        description="Cache frozen-backbone features, train the part-aware heads, export ONNX + "
        "manifest. Resumable: run the same command again to continue.",
    )
    train_cli.add_train_args(p)
    p.set_defaults(func=_train)
    p = sub.add_parser(
        "eval",
        help="evaluate a model: accuracy, part mIoU, attribute mAP, retrieval, calibration",
        description="Writes report.json, REPORT.md and confusion pictures.",
    )
    train_cli.add_eval_args(p)
    p.set_defaults(func=_eval)
    p = sub.add_parser(
        "export-model",
        help="export a trained checkpoint as ONNX + manifest",
    )
    train_cli.add_export_args(p)
    p.set_defaults(func=_export)
    p = sub.add_parser(
        "export-cloth-features",
        help="write the cloth-features model teaching compares photos with (needs the train "
        "extra; nothing is trained)",
        description="Exports the frozen ImageNet EfficientNet-Lite0 trunk, pooled, as "
        "cloth-features.onnx + cloth-features.json.",
    )
    p.add_argument("--out", default="models", help="folder to write into (default: models)")
    p.set_defaults(func=_export_cloth)
    p = sub.add_parser(
        "export-person-models",
        help="write the person models that keep the part map on the cloth (needs the convert "
        "extra; nothing is trained)",
        description="Takes mediapipe's person segmenter and face detector (Apache-2.0) out of a "
        "mediapipe 0.10.x wheel (pip download --no-deps mediapipe==0.10.14) and converts them "
        "to ONNX: person-segmenter.onnx, face-detector.onnx, person-models.json.",
    )
    p.add_argument("--wheel", required=True, help="the mediapipe wheel file")
    p.add_argument("--out", default="models", help="folder to write into (default: models)")
    p.set_defaults(func=_export_person)


def _argv() -> list[str]:
    return sys.argv[2:]


# Numbers checked before anything is read or trained: (dest, option, smallest, largest).
_COUNTS = (
    ("epochs", "--epochs", 1, None),
    ("seg_epochs", "--seg-epochs", 0, None),
    ("batch_size", "--batch-size", 1, None),
    ("size", "--size", 32, 4096),
    ("width", "--width", 1, None),
    ("embedding_dim", "--embedding-dim", 1, None),
    ("max_steps", "--max-steps", 1, None),
    ("threads", "--threads", 1, None),
    ("per_class", "--per-class", 1, None),
    ("eval_per_class", "--eval-per-class", 1, None),
    ("limit", "--limit", 1, None),
    ("seg_edges", "--seg-edges", 0, 16),
    ("seg_attention", "--seg-attention", 0, None),
    ("seg_tuned_blocks", "--seg-tuned-blocks", 0, 6),
    ("augment_copies", "--augment-copies", 0, None),
    ("piece_copies", "--piece-copies", 0, None),
)
# Rates and weights: a number, 0 or more (a rate of 0 keeps what a stage starts from).
_RATES = (
    ("lr", "--lr"),
    ("head_lr", "--head-lr"),
    ("seg_dice", "--seg-dice"),
    ("attr_weight", "--attr-weight"),
    ("metric_weight", "--metric-weight"),
)


def _number_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the numbers given, or None (a count of 0 epochs, a rate of nan or
    -1 would train for nothing, or train a model that answers nothing, and say it is done)."""
    for dest, option, low, high in _COUNTS:
        value = getattr(args, dest, None)
        if value is None:
            continue
        if value < low:
            return f"{option} must be at least {low}, not {value}"
        if high is not None and value > high:
            return f"{option} must be at most {high}, not {value}"
    size = getattr(args, "size", None)
    if size is not None and size % 32:
        return f"--size must be a multiple of 32, not {size}"
    for dest, option in _RATES:
        value = getattr(args, dest, None)
        if value is not None and not (math.isfinite(value) and value >= 0):
            return f"{option} must be a number, 0 or more, not {value}"
    return None


def _folder_out_problem(out: Any, option: str = "--out") -> str | None:
    """Why the folder a model (or a report) goes to cannot be made, or None."""
    if out is None:
        return None
    path = Path(out)
    if path.exists() and not path.is_dir():
        return f"{option} {path}: a file, not a folder; give a folder"
    return None


def _needs_torch(command: str) -> bool:
    if importlib.util.find_spec("torch") is None:
        print(
            f"saree {command}: needs the train extra (torch): pip install -e '.[train]'",
            file=sys.stderr,
        )
        return False
    return True


def _train(args: argparse.Namespace) -> int:
    if not _needs_torch("train"):
        return 2
    problem = (
        _number_problem(args)
        or _folder_out_problem(args.out)
        or _folder_out_problem(args.report, "--report")
        or _folder_out_problem(args.cache, "--cache")
        or _base_model_problem(args.base_model)
    )
    if problem is not None:
        print(f"saree train: {problem}", file=sys.stderr)
        return 2
    args.argv = _argv()
    if args.catalog is not None:
        from saree_app.collection.training import (
            CatalogueProblem,
            read_confirmed,
            read_corrected_maps,
        )

        try:
            args.confirmed = read_confirmed(args.catalog)
            args.corrected = read_corrected_maps(args.catalog)
        except CatalogueProblem as exc:
            print(f"saree train: {exc}", file=sys.stderr)
            return 2
    status: int = train_cli.run_train(args)
    return status


def _eval(args: argparse.Namespace) -> int:
    problem = _number_problem(args) or _folder_out_problem(args.out, "--out")
    if problem is not None:
        print(f"saree eval: {problem}", file=sys.stderr)
        return 2
    args.argv = _argv()
    status: int = train_cli.run_eval(args)
    return status


def _export(args: argparse.Namespace) -> int:
    if not _needs_torch("export-model"):
        return 2
    problem = _checkpoint_problem(args.checkpoint) or _folder_out_problem(args.out)
    if problem is not None:
        print(f"saree export-model: {problem}", file=sys.stderr)
        return 2
    args.argv = _argv()
    status: int = train_cli.run_export(args)
    return status


def _checkpoint_problem(path: Path) -> str | None:
    """Why `path` is no checkpoint to read, where that can be said plainly, or None."""
    if path.is_dir():
        return f"--checkpoint {path}: a folder; give the final.pt file saree train wrote in it"
    if path.is_file() and path.stat().st_size == 0:
        return f"--checkpoint {path}: the file is empty, not a checkpoint of saree train"
    return None


def _base_model_problem(path: Path | None) -> str | None:
    """Why --base-model cannot be used, in the words `saree model --use` gives, or None."""
    if path is None:
        return None
    from saree_app.collection.models import ModelChoiceError, check_model

    try:
        check_model(path)
    except ModelChoiceError as exc:
        return f"--base-model: cannot use the model: {exc}"
    return None


def _export_cloth(args: argparse.Namespace) -> int:
    if not _needs_torch("export-cloth-features"):
        return 2
    from pathlib import Path

    cloth: Any = importlib.import_module("saree_app.train.cloth")
    path = cloth.export_cloth_features(Path(args.out))
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def _export_person(args: argparse.Namespace) -> int:
    from pathlib import Path

    if importlib.util.find_spec("tflite") is None or importlib.util.find_spec("onnx") is None:
        print(
            "saree export-person-models: needs the convert extra: pip install -e '.[convert]'",
            file=sys.stderr,
        )
        return 2
    person: Any = importlib.import_module("saree_app.train.person")
    converter: Any = importlib.import_module("saree_app.train.tflite_onnx")
    try:
        path = person.export_person_models(Path(args.wheel), Path(args.out))
    except (person.WheelError, converter.UnsupportedModel) as exc:
        print(f"saree export-person-models: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} and the two models beside it")
    return 0
