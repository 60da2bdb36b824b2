"""ONNX export of PartAwareNet and its manifest (the contract in INTERFACES.md)."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from saree_app.imaging import Preprocessing
from saree_app.knowledge.namespace import BASE_IRI, term_iri
from saree_app.model.manifest import ONNX_MEANING_KEY, meaning_json, with_contract
from saree_app.train.net import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    OUTPUTS,
    PARTS,
    SEG_CLASSES,
    NetConfig,
    PartAwareNet,
    view_names,
)

FORMAT = "saree-model/1"
LETTERBOX_RULE = "centre, keep aspect ratio, pad with fill"
OPSET = 17


class ModelWriteError(Exception):
    """A model that cannot be written where asked, in plain words (what was there is kept)."""


def default_preprocessing(size: int) -> Preprocessing:
    """ImageNet mean/std; padding in the mean colour so it normalises to about zero."""
    fill = tuple(round(m * 255) for m in IMAGENET_MEAN)
    return Preprocessing(size=size, mean=IMAGENET_MEAN, std=IMAGENET_STD, fill=fill)  # type: ignore[arg-type]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_onnx(net: PartAwareNet, path: Path, *, opset: int = OPSET) -> Path:
    """Write the full network (frozen backbone + heads) as ONNX with a dynamic batch axis."""
    net = net.eval()
    size = net.cfg.size
    dummy = torch.zeros(1, 3, size, size)
    dynamic = {"image": {0: "batch"}} | {name: {0: "batch"} for name in OUTPUTS}
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter is chatty about shape inference; nothing actionable there.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (dummy,),
            str(path),
            input_names=["image"],
            output_names=list(OUTPUTS),
            dynamic_axes=dynamic,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    return path


def record_meaning(onnx_path: Path, manifest: Mapping[str, Any]) -> None:
    """Write the manifest's meaning entries into the .onnx's metadata, so that a description
    edited or swapped later is caught by the model file itself (saree_app.model.session)."""
    import onnx

    model = onnx.load(str(onnx_path))
    for prop in list(model.metadata_props):
        if prop.key == ONNX_MEANING_KEY:
            model.metadata_props.remove(prop)
    entry = model.metadata_props.add()
    entry.key = ONNX_MEANING_KEY
    entry.value = meaning_json(dict(manifest))
    onnx.save(model, str(onnx_path))


def label_iri(tradition: str) -> str:
    """A tradition's IRI in the manifest: the ontology term's, or for a tradition a curator
    added (retraining from a catalogue) the ontology's base followed by the name as the
    catalogue holds it, so that the app reads back exactly that name."""
    try:
        return str(term_iri(tradition))
    except AttributeError:
        return BASE_IRI + tradition


def build_manifest(
    onnx_path: Path,
    *,
    cfg: NetConfig,
    pretrained: bool = True,
    labels: Sequence[str],
    attributes: Sequence[str],
    prep: Preprocessing,
    name: str,
    prototypes: np.ndarray | None = None,
    training: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest dict for an exported .onnx (labels and attributes are term ids)."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "onnx": onnx_path.name,
        "sha256": sha256_of(onnx_path),
        "labels": [label_iri(t) for t in labels],
        "attributes": [str(term_iri(a)) for a in attributes],
        "parts": list(PARTS),
        "seg_classes": list(SEG_CLASSES),
        "input": {
            "name": "image",
            "size": prep.size,
            "mean": list(prep.mean),
            "std": list(prep.std),
            "fill": list(prep.fill),
            "letterbox": LETTERBOX_RULE,
        },
        "outputs": list(OUTPUTS),
        "embedding_dim": cfg.embedding_dim,
        "prototypes": [] if prototypes is None else np.round(prototypes, 6).tolist(),
        "architecture": {
            "backbone": "EfficientNet-Lite0 "
            + ("(ImageNet weights, frozen)" if pretrained else "(random weights)"),
            "heads": "FPN seg decoder (stride 8, stride-4 refinement"
            + (
                f", own tuned copy of the last {cfg.seg_tuned_blocks} stride-16 blocks"
                if cfg.seg_tuned_blocks
                else ""
            )
            + ")"
            + (
                f"; exported part map redrawn at stride 2 along the photo's colour edges "
                f"(guided filter, radius {cfg.seg_edge_radius})"
                if cfg.seg_edge_radius
                else ""
            )
            + "; part-aware pooling under soft masks at stride 16; linear "
            "tradition/attribute/embedding heads",
            "averaged_views": view_names(cfg),
            "opset": OPSET,
            "config": cfg.to_dict(),
        },
        "training": dict(training or {}),
        "evaluation": dict(evaluation or {}),
    }
    if extra:
        manifest.update(extra)
    return manifest


def write_model(
    net: PartAwareNet,
    out_dir: Path,
    *,
    labels: Sequence[str],
    attributes: Sequence[str],
    name: str,
    stem: str = "saree-model",
    prep: Preprocessing | None = None,
    prototypes: np.ndarray | None = None,
    training: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Export ONNX + manifest into out_dir; returns the manifest path. ModelWriteError, in
    plain words, when out_dir is a file or cannot be made or written into (a file there is
    left as it is)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ModelWriteError(
            f"{out_dir}: a file, not a folder; give a folder for the model (the file was left "
            "as it is)"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelWriteError(
            f"{out_dir}: the folder for the model cannot be made ({exc.strerror or exc})"
        ) from exc
    for file in (out_dir / f"{stem}.onnx", out_dir / f"{stem}.json"):
        if file.is_dir():
            raise ModelWriteError(f"{file}: a folder is in the way of the model")
    try:
        return _write_model(
            net,
            out_dir,
            labels=labels,
            attributes=attributes,
            name=name,
            stem=stem,
            prep=prep,
            prototypes=prototypes,
            training=training,
            evaluation=evaluation,
            extra=extra,
        )
    except OSError as exc:
        raise ModelWriteError(
            f"{out_dir}: the model cannot be written there ({exc.strerror or exc})"
        ) from exc


def _write_model(
    net: PartAwareNet,
    out_dir: Path,
    *,
    labels: Sequence[str],
    attributes: Sequence[str],
    name: str,
    stem: str,
    prep: Preprocessing | None,
    prototypes: np.ndarray | None,
    training: Mapping[str, Any] | None,
    evaluation: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None,
) -> Path:
    onnx_path = export_onnx(net, out_dir / f"{stem}.onnx")
    manifest = build_manifest(
        onnx_path,
        cfg=net.cfg,
        pretrained=net.backbone.pretrained,
        labels=labels,
        attributes=attributes,
        prep=prep or default_preprocessing(net.cfg.size),
        name=name,
        prototypes=prototypes,
        training=training,
        evaluation=evaluation,
        extra=extra,
    )
    record_meaning(onnx_path, manifest)
    manifest["sha256"] = sha256_of(onnx_path)  # the file changed: its metadata is new
    return write_manifest(manifest, out_dir / f"{stem}.json")


def write_manifest(manifest: Mapping[str, Any], path: Path) -> Path:
    """Write the manifest JSON with its contract (atomically: a reader never sees half a file).

    Training is where a model and its description are made, so its writes (a new export, the
    figures added later) are the ones that sign the pair.
    """
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(with_contract(dict(manifest)), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


TINY_LABELS = ("Kanchipuram", "Banarasi", "PochampallyIkat")
TINY_ATTRIBUTES = ("TempleBorder", "Peacock", "Ikat", "ZariBrocade")


def export_tiny_model(
    out_dir: Path,
    *,
    labels: Sequence[str] = TINY_LABELS,
    attributes: Sequence[str] = TINY_ATTRIBUTES,
    size: int = 64,
    seed: int = 0,
    pretrained: bool = False,
    name: str = "tiny-random",
) -> Path:
    """The real architecture with random heads at a small input size: for other parts' tests.

    Returns the manifest path. Its outputs are meaningless but have the contract's names,
    shapes and dtypes; prototypes are random unit vectors.
    """
    torch.manual_seed(seed)
    cfg = NetConfig(
        num_classes=len(labels),
        num_attributes=len(attributes),
        size=size,
        width=64,
        embedding_dim=32,
    )
    net = PartAwareNet(cfg, pretrained=pretrained).eval()
    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(len(labels), cfg.embedding_dim)).astype(np.float32)
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    return write_model(
        net,
        Path(out_dir),
        labels=labels,
        attributes=attributes,
        name=name,
        prototypes=protos,
        training={"data": "none: random weights, for tests only"},
        evaluation={},
    )
