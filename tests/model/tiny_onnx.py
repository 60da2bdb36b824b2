"""A hand-built ONNX model that honours the model contract, for tests that need no torch."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from saree_app.model.manifest import ONNX_MEANING_KEY, meaning_json, with_contract

BASE = "https://saree-provenance.example/ns#"
LABELS = ("Kanchipuram", "Banarasi", "Paithani", "PochampallyIkat", "Bandhani")
ATTRIBUTES = ("TempleBorder", "Peacock", "Paisley", "IkatDiamond", "BandhaniDots", "ZariBrocade")


def build(
    out_dir: Path,
    *,
    size: int = 64,
    labels: tuple[str, ...] = LABELS,
    attributes: tuple[str, ...] = ATTRIBUTES,
    dim: int = 16,
    drop_output: str | None = None,
    seed: int = 0,
    contract: bool = False,
    record_meaning: bool = False,
) -> Path:
    """Write tiny.onnx + tiny.json into out_dir; returns the manifest path.

    `contract`: the manifest carries its "contract" entry; `record_meaning`: the .onnx records
    the manifest's meaning in its metadata (as export does). Both off: a manifest as written
    before contracts existed.
    """
    rng = np.random.default_rng(seed)
    c, a, hid = len(labels), len(attributes), 8
    inits = []

    def w(name: str, shape: tuple[int, ...]) -> str:
        inits.append(numpy_helper.from_array(rng.normal(0, 0.5, shape).astype(np.float32), name))
        return name

    def const(name: str, values: list[int]) -> str:
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    nodes = [
        helper.make_node("Conv", ["image", w("w1", (hid, 3, 4, 4))], ["f0"], strides=[4, 4]),
        helper.make_node("Relu", ["f0"], ["f"]),
        helper.make_node("Conv", ["f", w("ws", (4, hid, 1, 1))], ["seg"]),
        helper.make_node("Conv", ["f", w("wc", (c, hid, 1, 1))], ["cam"]),
        helper.make_node("GlobalAveragePool", ["cam"], ["cam_p"]),
        helper.make_node("Flatten", ["cam_p"], ["logits"]),
        helper.make_node("Conv", ["f", w("wp", (3 * c, hid, 1, 1))], ["pl0"]),
        helper.make_node("GlobalAveragePool", ["pl0"], ["pl1"]),
        helper.make_node("Reshape", ["pl1", const("shape_pl", [-1, 3, c])], ["part_logits"]),
        helper.make_node("Conv", ["f", w("wa", (a, hid, 1, 1))], ["a0"]),
        helper.make_node("GlobalAveragePool", ["a0"], ["a1"]),
        helper.make_node("Flatten", ["a1"], ["attributes"]),
        helper.make_node("Conv", ["f", w("we", (dim, hid, 1, 1))], ["e0"]),
        helper.make_node("GlobalAveragePool", ["e0"], ["e1"]),
        helper.make_node("Flatten", ["e1"], ["e2"]),
        helper.make_node("LpNormalization", ["e2"], ["embedding"], axis=1, p=2),
        helper.make_node("Conv", ["f", w("wpe", (3 * dim, hid, 1, 1))], ["pe0"]),
        helper.make_node("GlobalAveragePool", ["pe0"], ["pe1"]),
        helper.make_node("Reshape", ["pe1", const("shape_pe", [-1, 3, dim])], ["pe2"]),
        helper.make_node("LpNormalization", ["pe2"], ["part_embeddings"], axis=2, p=2),
    ]
    g = size // 4
    shapes = {
        "logits": ["N", c],
        "part_logits": ["N", 3, c],
        "seg": ["N", 4, g, g],
        "cam": ["N", c, g, g],
        "attributes": ["N", a],
        "embedding": ["N", dim],
        "part_embeddings": ["N", 3, dim],
    }
    outputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
        for name, shape in shapes.items()
        if name != drop_output
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, size, size])],
        outputs,
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    protos = rng.normal(0, 1, (c, dim))
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    manifest: dict[str, Any] = {
        "format": "saree-model/1",
        "name": "tiny",
        "onnx": "tiny.onnx",
        "sha256": "",
        "labels": [BASE + t for t in labels],
        "attributes": [BASE + t for t in attributes],
        "parts": ["body", "border", "pallu"],
        "seg_classes": ["background", "body", "border", "pallu"],
        "input": {
            "name": "image",
            "size": size,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
            "fill": [124, 116, 104],
            "letterbox": "centre, keep aspect ratio, pad with fill",
        },
        "outputs": list(shapes),
        "embedding_dim": dim,
        "prototypes": protos.round(6).tolist(),
    }
    if record_meaning:
        helper.set_model_props(model, {ONNX_MEANING_KEY: meaning_json(manifest)})
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "tiny.onnx"
    onnx.save(model, onnx_path)
    manifest["sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    if contract:
        manifest = with_contract(manifest)
    path = out_dir / "tiny.json"
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return path


def edit_manifest(path: Path, **changes: Any) -> Path:
    """Rewrite keys of a manifest in place (None deletes the key)."""
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))
    return path


def photo(width: int = 120, height: int = 90, seed: int = 0) -> Image.Image:
    """A saree-ish striped picture: bands of colour with noise."""
    rng = np.random.default_rng(seed)
    arr = np.zeros((height, width, 3), dtype=np.uint8)
    colours = rng.integers(0, 255, size=(6, 3))
    for k in range(6):
        arr[k * height // 6 : (k + 1) * height // 6] = colours[k]
    noise = rng.integers(-20, 20, size=arr.shape)
    return Image.fromarray(np.clip(arr.astype(int) + noise, 0, 255).astype(np.uint8))


def jpeg_bytes(img: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()
