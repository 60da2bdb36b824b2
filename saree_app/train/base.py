"""A shipped model's part segmentation read back out of its ONNX file into torch.

Retraining from a curator's catalogue trains the heads only: a few hundred photos carry no part
maps, and the shipped model's segmentation was trained on thousands of rendered ones. Its
checkpoint (final.pt) does not ship, only the .onnx, where the exporter folded each batch norm
into the convolution before it. So the decoder is read back by exporting a reference network of
the same configuration whose segmentation tensors hold distinct random values and whose batch
norms are the identity (their folded weights are then the tensors themselves), matching each
ONNX initializer of the reference to the tensor it came from, and taking the base model's
initializer at the same position. A folded convolution comes back as the convolution with an
identity batch norm after it carrying the folded bias: the same function.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from saree_app.train.loop import is_segmentation
from saree_app.train.net import NetConfig, PartAwareNet


class BaseModelError(Exception):
    """A base model whose segmentation cannot be read back, in plain words."""


@dataclass(frozen=True)
class BaseModel:
    """What a retrained model takes from its base: the architecture, the backbone, how the
    app reads photos with it (views, edge-following, zooms) and the segmentation decoder."""

    manifest: Path
    sha256: str
    config: NetConfig
    pretrained: bool
    seg_zooms: tuple[float, ...]
    seg_zooms_mirrored: bool
    segmentation: dict[str, torch.Tensor]


def read_base_model(manifest: Path, *, check: bool = True) -> BaseModel:
    """The base model's segmentation decoder as Heads state-dict tensors (see the module
    docstring); with check, the rebuilt torch network's part map is compared with the ONNX
    model's own on a test image, so a reading that went wrong stops here, not in the results."""
    import onnx
    from onnx import numpy_helper

    manifest = Path(manifest)
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        arch = data["architecture"]
        cfg = NetConfig(**arch["config"])
        onnx_path = manifest.parent / data["onnx"]
        pretrained = "random weights" not in str(arch.get("backbone", ""))
        zooms = tuple(float(z) for z in data.get("seg_zooms") or (1.0,))
        mirrored = bool(data.get("seg_zooms_mirrored", False))
        sha = str(data["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BaseModelError(f"{manifest}: not a model manifest saree train wrote ({exc})") from exc
    try:
        theirs = [numpy_helper.to_array(t) for t in onnx.load(str(onnx_path)).graph.initializer]
    except Exception as exc:  # onnx raises several types for a damaged file
        raise BaseModelError(f"{onnx_path}: the model file cannot be read ({exc})") from exc

    torch.manual_seed(0)
    ref = PartAwareNet(cfg, pretrained=False).eval()
    wanted = _mark(ref)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference.onnx"
        _export(ref, path)
        ours = [numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer]
    if [a.shape for a in ours] != [a.shape for a in theirs]:
        raise BaseModelError(
            f"{onnx_path}: its graph is not the one this version of saree train exports for "
            f"its configuration ({len(theirs)} tensors there, {len(ours)} here)"
        )
    taken: dict[str, np.ndarray] = {}
    for i, arr in enumerate(ours):
        for name, value in wanted.items():
            if name not in taken and value.size == arr.size and _same(value, arr):
                taken[name] = theirs[i].reshape(-1)
                break
    missing = sorted(set(wanted) - set(taken))
    if missing:
        raise BaseModelError(
            f"{onnx_path}: {len(missing)} segmentation tensors could not be found in the model "
            f"file (first: {missing[0]})"
        )
    seg = _state(ref, taken)
    if check:
        _check(cfg, seg, onnx_path, pretrained)
    return BaseModel(manifest, sha, cfg, pretrained, zooms, mirrored, seg)


def _export(net: PartAwareNet, path: Path) -> None:
    from saree_app.train.export import export_onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_onnx(net, path)


def _batch_norms(heads: nn.Module) -> dict[str, nn.BatchNorm2d]:
    return {
        name: m
        for name, m in heads.named_modules()
        if isinstance(m, nn.BatchNorm2d) and is_segmentation(name)
    }


@torch.no_grad()
def _mark(net: PartAwareNet) -> dict[str, np.ndarray]:
    """Give every learnt segmentation tensor distinct random values and every batch norm the
    identity scale; returns name -> flattened values to find in the export."""
    heads = net.heads
    gen = torch.Generator().manual_seed(1234)
    # The exporter shares initializers of equal value (a fresh network's zero biases, the
    # tuned blocks' copies of the backbone's): distinct values everywhere keep the same
    # tensors apart that the base model's trained values keep apart.
    for t in [*net.backbone.parameters(), *net.backbone.buffers()]:
        if t.is_floating_point():
            t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
    bns = _batch_norms(heads)
    bn_names = {f"{n}.{k}" for n in bns for k in ("weight", "running_mean", "running_var")}
    wanted: dict[str, np.ndarray] = {}
    for name, p in heads.named_parameters():
        if not is_segmentation(name) or name in bn_names:
            continue
        p.copy_(torch.rand(p.shape, generator=gen) + 0.5)  # positive: never a folded zero
        wanted[name] = p.detach().numpy().reshape(-1).copy()
    for bn in bns.values():
        bn.weight.fill_(1.0)
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
    return wanted


def _same(value: np.ndarray, arr: np.ndarray) -> bool:
    return bool(np.allclose(value, arr.reshape(-1), rtol=1e-4, atol=1e-6))


def _state(ref: PartAwareNet, taken: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The segmentation state dict: taken tensors, identity batch norms (running stats too)."""
    state = {k: v.clone() for k, v in ref.heads.state_dict().items() if is_segmentation(k)}
    for name, flat in taken.items():
        state[name] = torch.from_numpy(np.array(flat, dtype=np.float32)).reshape(state[name].shape)
    return state


def _check(cfg: NetConfig, seg: dict[str, torch.Tensor], onnx_path: Path, pretrained: bool) -> None:
    import onnxruntime as ort

    if not pretrained:
        # A random backbone is drawn anew for every network: only with the ImageNet one is
        # the rebuilt network the base model, so only then can the part maps be compared.
        return
    net = PartAwareNet(cfg, pretrained=True).eval()
    missing = net.heads.load_state_dict(seg, strict=False).missing_keys
    if [k for k in missing if is_segmentation(k)]:
        raise BaseModelError(f"{onnx_path}: incomplete segmentation ({missing[0]})")
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 3, cfg.size, cfg.size)))
    x = x.float()
    with torch.no_grad():
        ours = net(x)[2].numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    theirs = session.run(None, {"image": x.numpy()})[names.index("seg")]
    err = float(np.abs(ours - theirs).max())
    scale = float(np.abs(theirs).max()) + 1e-6
    if err > 5e-3 * scale + 1e-2:  # float32 folding error; a wrong tensor is far larger
        raise BaseModelError(
            f"{onnx_path}: the segmentation read back differs from the model's own "
            f"(largest difference {err:.4g}); retraining would change the part maps"
        )


def describe(base: BaseModel) -> dict[str, Any]:
    """What the manifest records about the base model."""
    return {
        "manifest": str(base.manifest),
        "sha256": base.sha256,
        "taken": "part segmentation decoder (read back from the .onnx), backbone, input size, "
        "views and zooms",
    }
