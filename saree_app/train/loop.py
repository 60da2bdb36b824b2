"""Training of the part-aware heads on the feature cache: staged, checkpointed, with an ETA.

Stage 1 trains the segmentation decoder on the cached backbone maps. Stage 2 pools every
photo's frozen features under its predicted soft part masks once (the same computation the
exported model does). Stage 3 trains the classifier, attribute, embedding and part heads on
those pooled vectors: cheap enough on a 2-core CPU for many epochs.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from saree_app.train.cache import NO_MASK, FeatureCache
from saree_app.train.net import EXPORT_CHOICES, NetConfig, PartAwareNet

Log = Callable[[str], None]
SEG_MODULES = (
    "lat32",
    "lat16",
    "ctx16",
    "attn16",
    "lat8",
    "up16",
    "smooth8",
    "seg8",
    "edge4",
    "seg_blocks",
)


def is_segmentation(name: str) -> bool:
    """Whether a Heads parameter or state-dict key belongs to the segmentation decoder."""
    return name.split(".", maxsplit=1)[0] in SEG_MODULES


def initial_proxies(classes: int, dim: int) -> torch.Tensor:
    """Metric proxies a run starts from (whole, body, border, pallu); draws from the generator."""
    return torch.randn(4, classes, dim) * 0.1


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (stored in checkpoints and the manifest)."""

    epochs: int = 40  # stage 3: passes over the pooled vectors
    seg_epochs: int = 3  # stage 1: passes over the cached maps
    batch_size: int = 64  # stage 1
    head_batch_size: int = 256  # stage 3
    lr: float = 2e-3
    head_lr: float = 1e-3
    weight_decay: float = 1e-4
    head_weight_decay: float = 1e-3
    seed: int = 0
    width: int = 256
    embedding_dim: int = 128
    dropout: float = 0.3
    white_balance: bool = False  # grey-world balance inside the model (needs a matching cache)
    flip_average: bool = False  # exported model averages photo and mirror image (NetConfig)
    rotate_average: bool = False  # ... and the photo turned a quarter (NetConfig)
    seg_edge_radius: int = 0  # exported part map follows the photo's edges (NetConfig)
    seg_attention: int = 0  # self-attention layers in the segmentation decoder (NetConfig)
    seg_dice: float = 0.0  # weight of a soft Dice term on the parts (IoU-like, beside the CE)
    seg_vflip: bool = False  # also flip cached maps upside down in stage 1
    seg_tuned_blocks: int = 0  # stride-16 backbone blocks the seg decoder tunes a copy of
    seg_block_lr: float = 5e-4  # their learning rate: pretrained weights move slower
    feature_noise: float = 0.1  # Gaussian noise on standardised pooled vectors (stage 3)
    label_smoothing: float = 0.05
    metric_scale: float = 16.0  # normalised-softmax (proxy) metric loss scale
    w_part: float = 0.5
    w_attr: float = 1.0
    w_metric: float = 0.5
    seg_class_weights: tuple[float, float, float, float] = (0.5, 1.0, 2.0, 1.5)
    max_steps_per_epoch: int | None = None  # cap stage 1 epochs (tests, quick runs)
    # Stage 1 keeps the decoder's batch norms at the statistics it started from: a decoder
    # read back out of an .onnx has its statistics folded into the convolutions (identity
    # batch norms), which batch statistics of a few curator photos would undo.
    seg_frozen_bn: bool = False


# TrainConfig fields that only stage 3 reads; `epochs` is left out so that a finished run can be
# resumed with more epochs.
HEAD_SETTINGS = (
    "head_batch_size",
    "head_lr",
    "head_weight_decay",
    "feature_noise",
    "label_smoothing",
    "metric_scale",
    "w_part",
    "w_attr",
    "w_metric",
)
# TrainConfig fields that shape stage 1 (the cosine schedule spans all its epochs): a checkpoint
# trained under other values cannot be continued into what this run's command says it is.
SEG_SETTINGS = (
    "seg_epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "seg_dice",
    "seg_vflip",
    "seg_block_lr",
    "seg_class_weights",
    "max_steps_per_epoch",
    "seg_frozen_bn",
)


class CheckpointUnreadable(Exception):
    """A checkpoint that is there but that the system will not let us read (permissions, a
    failing disk). Unlike a damaged one it may still hold hours of training, so nothing may
    train afresh over it: callers stop and say so."""


def read_checkpoint(path: Path) -> Any:
    """A final.pt or checkpoint.pt as `saree train` saved it; ValueError, in plain words, when
    there is none or it is not one (a copy cut short, a stray file); CheckpointUnreadable when
    the file is there but cannot be read."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: no such checkpoint") from exc
    except OSError as exc:
        if exc.errno is not None:  # the system refused the read: the file itself may be fine
            raise CheckpointUnreadable(
                f"{path}: cannot be read ({exc.strerror or exc}); it was left as it is"
            ) from exc
        raise ValueError(damaged_checkpoint(path)) from exc
    except MemoryError:
        raise
    except Exception as exc:
        # Unpickling a stray file fails in many ways (pickle.UnpicklingError "invalid load
        # key", EOFError "Ran out of input", RuntimeError from torch's zip reader, a class
        # that is not there): for the curator all of them mean the same.
        raise ValueError(damaged_checkpoint(path)) from exc


def damaged_checkpoint(path: Path) -> str:
    """What is said of a file that cannot be read as a checkpoint (no unpickler's words)."""
    return (
        f"{path}: not a checkpoint of saree train, or a damaged one (a copy cut short, say); "
        "it was left as it is"
    )


def check_segmentation_shape(
    path: Path, theirs: NetConfig, *, size: int, seg_attention: int, seg_tuned_blocks: int
) -> None:
    """ValueError, in plain words, when the segmentation `path` holds (of configuration
    `theirs`) has another shape than this run's."""
    ours = {"size": size, "seg_attention": seg_attention, "seg_tuned_blocks": seg_tuned_blocks}
    other = [
        f"{k} {getattr(theirs, k)} there, {v} here"
        for k, v in ours.items()
        if getattr(theirs, k) != v
    ]
    if other:
        raise ValueError(f"{path}: its segmentation has another shape ({'; '.join(other)})")


def read_segmentation(
    path: Path, *, size: int, seg_attention: int, seg_tuned_blocks: int
) -> dict[str, torch.Tensor]:
    """The segmentation decoder's tensors from another run's final.pt or checkpoint.pt, for
    Trainer.init_segmentation; ValueError, in plain words, when it cannot be used here (read
    before any photo is cached: a refusal after an hour of caching helps nobody)."""
    state = read_checkpoint(path)
    try:
        theirs = NetConfig(**state["net_config"])
        heads = state["heads"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a checkpoint of saree train ({exc})") from exc
    check_segmentation_shape(
        path, theirs, size=size, seg_attention=seg_attention, seg_tuned_blocks=seg_tuned_blocks
    )
    seg = {k: v for k, v in heads.items() if is_segmentation(k)}
    if not seg:
        raise ValueError(f"{path}: holds no segmentation decoder")
    return seg


def seed_everything(seed: int) -> None:
    """Python, numpy and torch generators from one seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _eta(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 60}m{s % 60:02d}s"


class Trainer:
    """Holds the network, metric proxies and optimisers; runs the three stages."""

    def __init__(
        self,
        cache: FeatureCache,
        labels: Sequence[str],
        attributes: Sequence[str],
        cfg: TrainConfig,
        *,
        pretrained: bool = True,
        log: Log | None = None,
        device: str = "cpu",
    ) -> None:
        seed_everything(cfg.seed)
        self.cache, self.cfg = cache, cfg
        # Where stages 1 and 2 (segmentation and pooling over every cached map) run; the heads
        # train on pooled vectors, a few MB, on the CPU wherever the maps were read.
        self.device = torch.device(device)
        if self.device.type == "cuda":
            # TF32 matrix products: the Hopper/Ampere fast path; the loss does not notice.
            torch.set_float32_matmul_precision("high")
        self.labels, self.attributes = list(labels), list(attributes)
        lab = {t: i for i, t in enumerate(labels)}
        att = {a: i for i, a in enumerate(attributes)}
        n = len(cache)
        self.y = np.array([lab.get(it.tradition, -1) for it in cache.items], dtype=np.int64)
        self.attr = np.zeros((n, len(attributes)), dtype=np.float32)
        for i, it in enumerate(cache.items):
            for a in it.attributes:
                if a in att:
                    self.attr[i, att[a]] = 1.0
        self.has_mask = np.array([bool((cache.masks[i] != NO_MASK).any()) for i in range(n)])
        self.net_cfg = NetConfig(
            num_classes=len(labels),
            num_attributes=len(attributes),
            size=cache.size,
            width=cfg.width,
            embedding_dim=cfg.embedding_dim,
            dropout=cfg.dropout,
            white_balance=cfg.white_balance,
            flip_average=cfg.flip_average,
            rotate_average=cfg.rotate_average,
            seg_edge_radius=cfg.seg_edge_radius,
            seg_attention=cfg.seg_attention,
            seg_tuned_blocks=cfg.seg_tuned_blocks,
        )
        self.net = PartAwareNet(self.net_cfg, pretrained=pretrained)
        self.proxies = nn.Parameter(initial_proxies(len(labels), cfg.embedding_dim))
        self.stage = "seg"  # seg -> heads -> done
        self.seg_epoch = 0
        self.seg_given = False  # init_segmentation handed it a trained one
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.log = log or (lambda s: None)
        self.seg_w = torch.tensor(cfg.seg_class_weights)
        self.pooled: torch.Tensor | None = None  # N x 4 x FEAT for all cache rows
        self.present: torch.Tensor | None = None  # N x 3 part presence
        self._opt_state: dict[str, Any] | None = None

    # ---------------------------------------------------------------- stage 1: segmentation
    def _maps(self, rows: np.ndarray, *, augment: bool) -> tuple[list[torch.Tensor], torch.Tensor]:
        feats, masks = self.cache.batch(rows)
        dev = self.device
        xs = [torch.from_numpy(f).to(dev) for f in feats]
        m = torch.from_numpy(masks.astype(np.int64)).to(dev)
        m[m == NO_MASK] = -1
        if augment:
            # Mirror maps and masks together: a cheap stand-in for photo augmentation, which the
            # cache rules out (a mirrored photo's features are close to mirrored features).
            # Upside down too with seg_vflip: a hanging saree shows its pallu at the bottom.
            for dim in (-1, -2) if self.cfg.seg_vflip else (-1,):
                # Drawn on the CPU whatever the device: the same flips for the same seed.
                flip = (torch.rand(len(rows)) < 0.5).to(dev)
                xs = [torch.where(flip[:, None, None, None], x.flip(dim), x) for x in xs]
                m = torch.where(flip[:, None, None], m.flip(dim), m)
        return xs, m

    def _segment(self, xs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Cached maps -> (segmentation logits, the 1280-channel neck map pooling reads)."""
        s4, s8, s16, s32 = xs
        with torch.no_grad():
            n32 = self.net.backbone.neck(s32)
            tune_in = self.net.tune_input(s8)
        return self.net.heads.segment(s4, s8, s16, n32, tune_in), n32

    def train_seg(self, rows: np.ndarray, checkpoint: Path | None, should_stop: Any) -> None:
        """Stage 1 on the rows that have a part mask."""
        cfg = self.cfg
        rows = rows[self.has_mask[rows]]
        heads = self.net.heads
        params = [p for name, p in heads.named_parameters() if is_segmentation(name)]
        tuned = {id(p) for p in heads.seg_blocks.parameters()}
        if not len(rows) and self.seg_given:
            # Never the untrained fallback below over a segmentation that was handed over.
            self.log("no part masks to fine-tune on: the segmentation is kept as it started")
            self.stage = "heads"
            return
        if not len(rows):
            self.log("no part masks: the segmentation head stays untrained (whole photo = saree)")
            with torch.no_grad():
                heads.seg8.bias.copy_(torch.tensor([-4.0, 4.0, 0.0, 0.0]))
            self.stage = "heads"
            return
        # Before the optimiser exists: a resumed optimiser state follows its parameters' device.
        self.net.to(self.device)
        seg_w = self.seg_w.to(self.device)
        groups = [
            {"params": [p for p in params if id(p) not in tuned], "base_lr": cfg.lr},
            {"params": [p for p in params if id(p) in tuned], "base_lr": cfg.seg_block_lr},
        ]
        groups = [g for g in groups if g["params"]]
        opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if self._opt_state is not None and self._opt_state.get("stage") == "seg":
            opt.load_state_dict(self._opt_state["state"])
        steps = math.ceil(len(rows) / cfg.batch_size)
        if cfg.max_steps_per_epoch:
            steps = min(steps, cfg.max_steps_per_epoch)
        total = steps * cfg.seg_epochs
        t0, start_step = time.monotonic(), self.seg_epoch * steps
        while self.seg_epoch < cfg.seg_epochs:
            if should_stop is not None and should_stop():
                return
            perm = np.random.default_rng(cfg.seed * 1000 + self.seg_epoch).permutation(rows)
            heads.train()
            if cfg.seg_frozen_bn:
                for name, module in heads.named_modules():
                    if isinstance(module, nn.BatchNorm2d) and is_segmentation(name):
                        module.eval()
            loss_sum = 0.0
            for s in range(steps):
                batch = perm[s * cfg.batch_size : (s + 1) * cfg.batch_size]
                if len(batch) < 2:
                    continue
                step = self.seg_epoch * steps + s
                for g in opt.param_groups:
                    # base_lr: a checkpoint from before the tuned blocks has one group, at cfg.lr
                    g["lr"] = _cosine(g.get("base_lr", cfg.lr), step, total)
                xs, m = self._maps(batch, augment=True)
                seg, _ = self._segment(xs)
                seg_up = F.interpolate(seg, size=m.shape[-2:], mode="bilinear", align_corners=False)
                loss = F.cross_entropy(seg_up, m, weight=seg_w, ignore_index=-1)
                if cfg.seg_dice:
                    loss = loss + cfg.seg_dice * soft_dice_loss(seg_up, m)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += float(loss.detach())
                if s % 20 == 0 or s == steps - 1:
                    rate = (step + 1 - start_step) / max(time.monotonic() - t0, 1e-6)
                    self.log(
                        f"segmentation epoch {self.seg_epoch + 1}/{cfg.seg_epochs} step "
                        f"{s + 1}/{steps} loss {loss_sum / (s + 1):.3f} "
                        f"ETA {_eta((total - step - 1) / max(rate, 1e-9))}"
                    )
            self.seg_epoch += 1
            self.history.append(
                {"stage": "seg", "epoch": self.seg_epoch, "loss_seg": loss_sum / steps}
            )
            self._opt_state = {"stage": "seg", "state": opt.state_dict()}
            if self.seg_epoch >= cfg.seg_epochs:
                self.stage = "heads"
                self._opt_state = None
            if checkpoint is not None:
                self.save(checkpoint)

    # ---------------------------------------------------------------- stage 2: pooled vectors
    @torch.no_grad()
    def pool_all(self, batch: int = 128) -> None:
        """Pooled vectors (and part presence) of every cache row, with the trained seg head."""
        heads = self.net.to(self.device).heads.eval()
        n = len(self.cache)
        pooled = []
        present = []
        t0 = time.monotonic()
        for s in range(0, n, batch):
            rows = np.arange(s, min(n, s + batch))
            xs, m = self._maps(rows, augment=False)
            seg, n32 = self._segment(xs)
            _, s8, s16, _ = xs
            p, *_ = heads.pool(seg, s8, s16, n32)
            pooled.append(p.cpu())
            # Part presence from the true mask where there is one, else from the prediction.
            if (m >= 0).any():
                area = torch.stack([(m == k).float().mean(dim=(1, 2)) for k in (1, 2, 3)], 1)
            else:
                area = torch.zeros(len(rows), 3, device=self.device)
            pred = torch.softmax(seg, 1)[:, 1:].mean(dim=(2, 3))
            has = torch.from_numpy(self.has_mask[rows])[:, None].to(self.device)
            present.append((torch.where(has, area, pred) > 0.01).float().cpu())
            if (s // batch) % 20 == 0:
                rate = (s + len(rows)) / max(time.monotonic() - t0, 1e-6)
                self.log(f"pooling {s + len(rows)}/{n} ETA {_eta((n - s - len(rows)) / rate)}")
        self.pooled = torch.cat(pooled)
        self.present = torch.cat(present)
        self.net.to("cpu")  # the heads, temperature, prototypes and export read pooled vectors

    def fit_standardisation(self, rows: np.ndarray) -> None:
        """Mean and spread of the pooled vectors on the training rows, into the net's buffers."""
        assert self.pooled is not None
        p = self.pooled[torch.from_numpy(rows)]
        with torch.no_grad():
            self.net.heads.mu.copy_(p.mean(0))
            self.net.heads.sd.copy_(p.std(0) + 1e-3)

    # ---------------------------------------------------------------- stage 3: heads
    def losses(
        self,
        outs: Sequence[torch.Tensor],
        y: torch.Tensor,
        attr: torch.Tensor,
        present: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """All stage-3 loss terms of one batch (weighted sum under 'total')."""
        cfg = self.cfg
        logits, part_logits, attributes, emb, part_emb = outs
        out: dict[str, torch.Tensor] = {}
        out["cls"] = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        part_ce = torch.stack(
            [
                F.cross_entropy(
                    part_logits[:, k], y, reduction="none", label_smoothing=cfg.label_smoothing
                )
                for k in range(3)
            ],
            dim=1,
        )
        out["part"] = (part_ce * present).sum() / present.sum().clamp(min=1.0)
        out["attr"] = F.binary_cross_entropy_with_logits(attributes, attr)
        protos = F.normalize(self.proxies, dim=-1)
        metric = F.cross_entropy(cfg.metric_scale * emb @ protos[0].T, y)
        part_metric = torch.stack(
            [
                F.cross_entropy(
                    cfg.metric_scale * part_emb[:, k] @ protos[k + 1].T, y, reduction="none"
                )
                for k in range(3)
            ],
            dim=1,
        )
        pm = (part_metric * present).sum() / present.sum().clamp(min=1.0)
        out["metric"] = metric + 0.5 * pm
        out["total"] = (
            out["cls"]
            + cfg.w_part * out["part"]
            + cfg.w_attr * out["attr"]
            + cfg.w_metric * out["metric"]
        )
        return out

    def _classify(self, rows: torch.Tensor, *, train: bool) -> tuple[torch.Tensor, ...]:
        assert self.pooled is not None
        heads = self.net.heads
        p = self.pooled[rows]
        if train and self.cfg.feature_noise:
            p = p + torch.randn_like(p) * self.cfg.feature_noise * heads.sd
        return heads.classify(p)

    def train_heads(
        self,
        rows: np.ndarray,
        val_rows: np.ndarray | None,
        checkpoint: Path | None,
        should_stop: Any,
    ) -> None:
        """Stage 3: classifier, attributes, embeddings and part heads on pooled vectors."""
        cfg = self.cfg
        assert self.present is not None
        rows = rows[self.y[rows] >= 0]
        heads = self.net.heads
        params = [p for name, p in heads.named_parameters() if not is_segmentation(name)]
        opt = torch.optim.AdamW(
            [*params, self.proxies], lr=cfg.head_lr, weight_decay=cfg.head_weight_decay
        )
        if self._opt_state is not None and self._opt_state.get("stage") == "heads":
            opt.load_state_dict(self._opt_state["state"])
        bs = cfg.head_batch_size
        steps = max(1, math.ceil(len(rows) / bs))
        total = steps * cfg.epochs
        y_all = torch.from_numpy(self.y)
        a_all = torch.from_numpy(self.attr)
        t0, start_epoch = time.monotonic(), self.epoch
        while self.epoch < cfg.epochs:
            if should_stop is not None and should_stop():
                return
            perm = torch.from_numpy(
                np.random.default_rng(cfg.seed * 7919 + self.epoch).permutation(rows)
            )
            heads.train()
            sums: dict[str, float] = {}
            correct = 0
            for s in range(steps):
                r = perm[s * bs : (s + 1) * bs]
                if len(r) < 2:
                    continue
                for g in opt.param_groups:
                    g["lr"] = _cosine(cfg.head_lr, self.epoch * steps + s, total)
                outs = self._classify(r, train=True)
                parts = self.losses(outs, y_all[r], a_all[r], self.present[r])
                opt.zero_grad(set_to_none=True)
                parts["total"].backward()
                opt.step()
                for k, v in parts.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach())
                correct += int((outs[0].argmax(1) == y_all[r]).sum())
            self.epoch += 1
            record: dict[str, Any] = {
                "stage": "heads",
                "epoch": self.epoch,
                **{f"loss_{k}": round(v / steps, 4) for k, v in sums.items()},
                "train_acc": round(correct / max(len(rows), 1), 4),
            }
            if val_rows is not None and len(val_rows):
                record["val_acc"] = round(self.accuracy(val_rows), 4)
            self.history.append(record)
            rate = (self.epoch - start_epoch) / max(time.monotonic() - t0, 1e-6)
            if self.epoch % 5 == 0 or self.epoch in (1, cfg.epochs):
                self.log(
                    f"heads epoch {self.epoch}/{cfg.epochs} loss {record.get('loss_total', 0):.3f} "
                    f"train acc {record['train_acc']:.3f} val acc {record.get('val_acc', 'n/a')} "
                    f"ETA {_eta((cfg.epochs - self.epoch) / max(rate, 1e-9))}"
                )
            self._opt_state = {"stage": "heads", "state": opt.state_dict()}
            if self.epoch >= cfg.epochs:
                self.stage = "done"
            if checkpoint is not None and (self.epoch % 5 == 0 or self.stage == "done"):
                self.save(checkpoint)

    def train(
        self,
        train_rows: np.ndarray,
        *,
        val_rows: np.ndarray | None = None,
        checkpoint: Path | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """All stages, continuing from wherever a loaded checkpoint left off."""
        if self.stage == "seg":
            self.train_seg(train_rows, checkpoint, should_stop)
        if self.stage == "seg":  # stopped early
            return self.history
        self.pool_all()
        self.fit_standardisation(train_rows[self.y[train_rows] >= 0])
        self.train_heads(train_rows, val_rows, checkpoint, should_stop)
        return self.history

    # ---------------------------------------------------------------- inference on pooled rows
    @torch.no_grad()
    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Heads' outputs for cache rows (eval mode), from the pooled vectors."""
        self.net.heads.eval()
        outs = self._classify(torch.from_numpy(rows), train=False)
        names = ("logits", "part_logits", "attributes", "embedding", "part_embeddings")
        return {k: v.numpy() for k, v in zip(names, outs, strict=True)}

    def accuracy(self, rows: np.ndarray) -> float:
        """Top-1 on cache rows with a known label."""
        rows = rows[self.y[rows] >= 0]
        if not len(rows):
            return float("nan")
        logits = self.predict(rows)["logits"]
        return float((logits.argmax(1) == self.y[rows]).mean())

    def fit_temperature(self, rows: np.ndarray) -> tuple[float, float]:
        """Temperature scaling on held-aside rows, folded into the classifier weights.

        Returns (T whole, T parts). ONNX logits are then calibrated without any extra op.
        """
        rows = rows[self.y[rows] >= 0]
        if len(rows) < 10:
            return 1.0, 1.0
        out = self.predict(rows)
        y = torch.from_numpy(self.y[rows])

        def fit(logits: torch.Tensor, yy: torch.Tensor) -> float:
            log_t = torch.zeros(1, requires_grad=True)
            opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

            def closure() -> torch.Tensor:
                opt.zero_grad()
                loss = F.cross_entropy(logits / log_t.exp(), yy)
                loss.backward()
                return loss

            opt.step(closure)
            return float(log_t.detach().exp().clamp(0.05, 20.0))

        t_whole = fit(torch.from_numpy(out["logits"]), y)
        pl = torch.from_numpy(out["part_logits"])
        t_part = fit(pl.reshape(-1, pl.shape[-1]), y.repeat_interleave(3))
        with torch.no_grad():
            heads = self.net.heads
            lins: list[tuple[nn.Linear, float]] = [(heads.cls, t_whole)]
            lins += [(lin, t_part) for lin in heads.part_cls if isinstance(lin, nn.Linear)]
            for lin, t in lins:
                lin.weight.div_(t)
                lin.bias.div_(t)
        return t_whole, t_part

    def prototypes(self, rows: np.ndarray) -> np.ndarray:
        """Class means of the whole-saree embedding (re-normalised to unit length), C x D."""
        rows = rows[self.y[rows] >= 0]
        emb = self.predict(rows)["embedding"]
        y = self.y[rows]
        protos = np.zeros((len(self.labels), emb.shape[1]), dtype=np.float32)
        for c in range(len(self.labels)):
            sel = emb[y == c]
            if len(sel):
                v = sel.mean(0)
                protos[c] = v / max(float(np.linalg.norm(v)), 1e-8)
        return protos

    # ---------------------------------------------------------------- checkpoints
    def save(self, path: Path) -> None:
        """Heads, proxies, optimiser and progress; atomic replace."""
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "heads": self.net.heads.state_dict(),
            "proxies": self.proxies.detach().clone(),
            "opt": self._opt_state,
            "stage": self.stage,
            "seg_epoch": self.seg_epoch,
            "epoch": self.epoch,
            "history": self.history,
            "config": asdict(self.cfg),
            "net_config": self.net_cfg.to_dict(),
            "labels": self.labels,
            "attributes": self.attributes,
        }
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(path)

    def load(self, path: Path) -> None:
        """Resume from save(); refuses (ValueError) a checkpoint of another label set or
        architecture, or one that cannot be read."""
        state = read_checkpoint(path)
        if state["labels"] != self.labels or state["attributes"] != self.attributes:
            raise ValueError(f"{path}: checkpoint was trained on other labels; start afresh")
        try:
            # Export choices (views, edge-following) are not learnt: compared as this run's.
            ours = {name: getattr(self.net_cfg, name) for name in EXPORT_CHOICES}
            saved = dataclasses.replace(NetConfig(**state.get("net_config", {})), **ours)
            same = saved == self.net_cfg
        except TypeError:
            same = False
        if not same:
            raise ValueError(f"{path}: checkpoint has another architecture; start afresh")
        seg_changed = self.settings_changed(state.get("config", {}), SEG_SETTINGS)
        if seg_changed:
            # Else a finished 2-epoch segmentation would ship under a command saying 4.
            raise ValueError(
                f"{path}: checkpoint's segmentation was trained with other settings "
                f"({', '.join(seg_changed)}); start afresh"
            )
        self.net.heads.load_state_dict(state["heads"])
        with torch.no_grad():
            self.proxies.copy_(state["proxies"])
        self._opt_state = state.get("opt")
        self.stage = state.get("stage", "seg")
        self.seg_epoch = int(state.get("seg_epoch", 0))
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        changed = self.settings_changed(state.get("config", {}), HEAD_SETTINGS)
        if changed and self.stage != "seg":
            # Stage 3 is minutes on pooled vectors, stage 1 most of an hour: a change that only
            # concerns the heads keeps the finished segmentation and trains the heads afresh
            # (resuming them under other loss weights would mix two runs in one model).
            self.log(
                f"{path}: heads' settings changed ({', '.join(changed)}); keeping the "
                "trained segmentation and training the heads afresh"
            )
            self.restart_heads()

    def init_segmentation(self, seg: dict[str, torch.Tensor]) -> int:
        """Start stage 1 from another run's trained segmentation (read_segmentation) instead
        of from scratch: a second, shorter stage that fine-tunes it on other copies of the
        photos. The heads are not taken: they train afresh on the new masks' pooled vectors.
        Returns how many tensors were taken."""
        missing = self.net.heads.load_state_dict(seg, strict=False).missing_keys
        if [k for k in missing if is_segmentation(k)]:
            raise ValueError("the checkpoint has no complete segmentation decoder")
        self.seg_given = True
        return len(seg)

    def settings_changed(self, saved: dict[str, Any], names: Sequence[str]) -> list[str]:
        """'name old -> new' for each of `names` that differs from a saved TrainConfig."""
        defaults = asdict(TrainConfig())
        out = []
        for name in names:
            old, new = saved.get(name, defaults[name]), getattr(self.cfg, name)
            if old != new:
                out.append(f"{name} {old} -> {new}")
        return out

    def restart_heads(self) -> None:
        """Stage-3 modules and metric proxies back to the values a fresh run starts from
        (same seed, same construction order); the segmentation decoder is kept."""
        seed_everything(self.cfg.seed)
        fresh = PartAwareNet(self.net_cfg, pretrained=False).heads.state_dict()
        proxies = initial_proxies(len(self.labels), self.cfg.embedding_dim)
        stage3 = {k: v for k, v in fresh.items() if not is_segmentation(k)}
        self.net.heads.load_state_dict(stage3, strict=False)  # seg modules' keys: left as they are
        with torch.no_grad():
            self.proxies.copy_(proxies)
        self.stage, self.epoch, self._opt_state = "heads", 0, None
        self.history = [h for h in self.history if h.get("stage") != "heads"]


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft Dice of body, border and pallu over the batch; target -1 is ignored.

    Cross-entropy weighs every pixel alike, so a thin border costs little when it is missed;
    Dice scores each part by its overlap, as the IoU it is judged by does."""
    valid = (target >= 0).unsqueeze(1).float()
    prob = torch.softmax(logits, dim=1) * valid
    onehot = F.one_hot(target.clamp(min=0), logits.shape[1]).permute(0, 3, 1, 2).float() * valid
    inter = (prob * onehot).sum(dim=(0, 2, 3))
    total = prob.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    dice = (2 * inter + 1.0) / (total + 1.0)
    return 1.0 - dice[1:].mean()


def _cosine(base: float, step: int, total: int) -> float:
    warm = max(1, total // 20)
    if step < warm:
        return base * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
