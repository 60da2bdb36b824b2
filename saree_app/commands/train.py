"""`saree train`, `saree eval`, `saree export-model`: the model's life cycle (train extra)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
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
    args.argv = _argv()
    status: int = train_cli.run_eval(args)
    return status


def _export(args: argparse.Namespace) -> int:
    if not _needs_torch("export-model"):
        return 2
    args.argv = _argv()
    status: int = train_cli.run_export(args)
    return status


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
