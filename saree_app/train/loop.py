"""Training of the part-aware heads on the feature cache: losses, schedule, checkpoints, ETA."""

from __future__ import annotations

import json
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
from saree_app.train.net import NetConfig, PartAwareNet

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (stored in checkpoints and the manifest)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    width: int = 256
    embedding_dim: int = 128
    dropout: float = 0.2
    feature_dropout: float = 0.1  # channel dropout on the cached maps during training
    label_smoothing: float = 0.05
    metric_scale: float = 16.0  # normalised-softmax (proxy) metric loss scale
    w_part: float = 0.5
    w_attr: float = 1.0
    w_seg: float = 1.0
    w_metric: float = 0.5
    seg_class_weights: tuple[float, float, float, float] = (0.5, 1.0, 2.0, 1.5)
    max_steps_per_epoch: int | None = None  # to cap an epoch on a slow machine or in a test


def seed_everything(seed: int) -> None:
    """Python, numpy and torch generators from one seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Targets:
    """Labels of the cache rows as arrays: class index, attribute multi-hot, part presence."""

    def __init__(
        self, cache: FeatureCache, labels: Sequence[str], attributes: Sequence[str]
    ) -> None:
        lab = {t: i for i, t in enumerate(labels)}
        att = {a: i for i, a in enumerate(attributes)}
        n = len(cache)
        self.y = np.array([lab.get(it.tradition, -1) for it in cache.items], dtype=np.int64)
        self.attr = np.zeros((n, len(attributes)), dtype=np.float32)
        for i, it in enumerate(cache.items):
            for a in it.attributes:
                if a in att:
                    self.attr[i, att[a]] = 1.0


class Trainer:
    """Holds the network, metric proxies and optimiser; trains epochs on cache rows."""

    def __init__(
        self,
        cache: FeatureCache,
        labels: Sequence[str],
        attributes: Sequence[str],
        cfg: TrainConfig,
        *,
        pretrained: bool = True,
        log: Log | None = None,
    ) -> None:
        seed_everything(cfg.seed)
        self.cache, self.cfg = cache, cfg
        self.labels, self.attributes = list(labels), list(attributes)
        self.targets = Targets(cache, labels, attributes)
        self.net_cfg = NetConfig(
            num_classes=len(labels),
            num_attributes=len(attributes),
            size=cache.size,
            width=cfg.width,
            embedding_dim=cfg.embedding_dim,
            dropout=cfg.dropout,
        )
        self.net = PartAwareNet(self.net_cfg, pretrained=pretrained)
        c, d = len(labels), cfg.embedding_dim
        self.proxies = nn.Parameter(torch.randn(4, c, d) * 0.1)  # whole, body, border, pallu
        params = [*self.net.heads.parameters(), self.proxies]
        self.opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.log = log or (lambda s: None)
        self.seg_w = torch.tensor(cfg.seg_class_weights)

    # ---------------------------------------------------------------- batches
    def _tensors(
        self, rows: np.ndarray, *, augment: bool = False
    ) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
        feats, masks = self.cache.batch(rows)
        xs = [torch.from_numpy(f) for f in feats]
        m = torch.from_numpy(masks.astype(np.int64))
        if augment:
            # Mirror maps and masks together: a cheap stand-in for photo augmentation, which the
            # cache rules out (a mirrored photo's features are close to mirrored features).
            flip = torch.rand(len(rows)) < 0.5
            xs = [torch.where(flip[:, None, None, None], x.flip(-1), x) for x in xs]
            m = torch.where(flip[:, None, None], m.flip(-1), m)
            xs = [F.dropout2d(x, p=self.cfg.feature_dropout, training=True) for x in xs]
        m[m == NO_MASK] = -1
        has_mask = (m >= 0).flatten(1).any(dim=1)
        area = torch.stack([(m == k).float().mean(dim=(1, 2)) for k in (1, 2, 3)], dim=1)
        # A part counts as present if it covers 1% of the photo; without a mask, assume it does.
        present = torch.where(has_mask[:, None], (area > 0.01).float(), torch.ones_like(area))
        tgt = {
            "y": torch.from_numpy(self.targets.y[rows]),
            "attr": torch.from_numpy(self.targets.attr[rows]),
            "mask": m,
            "present": present,
        }
        return xs, tgt

    def losses(
        self, outs: Sequence[torch.Tensor], tgt: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """All loss terms of one batch (weighted sum under 'total')."""
        cfg = self.cfg
        logits, part_logits, seg, _cam, attributes, emb, part_emb = outs
        y, present = tgt["y"], tgt["present"]
        out: dict[str, torch.Tensor] = {}
        out["cls"] = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        part_ce = torch.stack(
            [
                F.cross_entropy(part_logits[:, k], y, reduction="none", label_smoothing=0.05)
                for k in range(3)
            ],
            dim=1,
        )
        out["part"] = (part_ce * present).sum() / present.sum().clamp(min=1.0)
        out["attr"] = F.binary_cross_entropy_with_logits(attributes, tgt["attr"])
        mask = tgt["mask"]
        if (mask >= 0).any():
            seg_up = F.interpolate(seg, size=mask.shape[-2:], mode="bilinear", align_corners=False)
            out["seg"] = F.cross_entropy(seg_up, mask, weight=self.seg_w, ignore_index=-1)
        else:
            out["seg"] = seg.sum() * 0.0
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
            + cfg.w_seg * out["seg"]
            + cfg.w_metric * out["metric"]
        )
        return out

    # ---------------------------------------------------------------- epochs
    def _lr_at(self, step: int, total: int) -> float:
        warm = max(1, total // 20)
        if step < warm:
            return self.cfg.lr * (step + 1) / warm
        t = (step - warm) / max(1, total - warm)
        return self.cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    def train(
        self,
        train_rows: np.ndarray,
        *,
        val_rows: np.ndarray | None = None,
        checkpoint: Path | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Train until cfg.epochs (continuing from self.epoch); checkpoint after every epoch."""
        cfg = self.cfg
        train_rows = train_rows[self.targets.y[train_rows] >= 0]
        steps = math.ceil(len(train_rows) / cfg.batch_size)
        if cfg.max_steps_per_epoch:
            steps = min(steps, cfg.max_steps_per_epoch)
        total = steps * cfg.epochs
        t_start, done_at_start = time.monotonic(), self.epoch * steps
        while self.epoch < cfg.epochs:
            if should_stop is not None and should_stop():
                break
            rng = np.random.default_rng(cfg.seed * 1000 + self.epoch)
            perm = rng.permutation(train_rows)
            self.net.heads.train()
            sums: dict[str, float] = {}
            correct = seen = 0
            for s in range(steps):
                rows = perm[s * cfg.batch_size : (s + 1) * cfg.batch_size]
                if len(rows) < 2:
                    continue
                step = self.epoch * steps + s
                for g in self.opt.param_groups:
                    g["lr"] = self._lr_at(step, total)
                xs, tgt = self._tensors(rows, augment=True)
                outs = self.net.forward_cached(*xs)
                parts = self.losses(outs, tgt)
                self.opt.zero_grad(set_to_none=True)
                parts["total"].backward()
                self.opt.step()
                for k, v in parts.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach())
                correct += int((outs[0].argmax(1) == tgt["y"]).sum())
                seen += len(rows)
                if s % 20 == 0 or s == steps - 1:
                    elapsed = time.monotonic() - t_start
                    rate = (step + 1 - done_at_start) / max(elapsed, 1e-6)
                    eta = (total - step - 1) / max(rate, 1e-9)
                    self.log(
                        f"epoch {self.epoch + 1}/{cfg.epochs} step {s + 1}/{steps} "
                        f"loss {sums['total'] / (s + 1):.3f} acc {correct / max(seen, 1):.3f} "
                        f"ETA {int(eta) // 60}m{int(eta) % 60:02d}s"
                    )
            record: dict[str, Any] = {
                "epoch": self.epoch + 1,
                **{f"loss_{k}": v / max(steps, 1) for k, v in sums.items()},
                "train_acc": correct / max(seen, 1),
            }
            if val_rows is not None and len(val_rows):
                record["val_acc"] = self.accuracy(val_rows)
            self.history.append(record)
            self.epoch += 1
            self.log(json.dumps(record))
            if checkpoint is not None:
                self.save(checkpoint)
        return self.history

    # ---------------------------------------------------------------- inference on the cache
    @torch.no_grad()
    def predict(self, rows: np.ndarray, batch: int = 128) -> dict[str, np.ndarray]:
        """All seven outputs (cam left out) for cache rows, eval mode."""
        self.net.heads.eval()
        keep: dict[str, list[np.ndarray]] = {}
        names = ("logits", "part_logits", "seg", "attributes", "embedding", "part_embeddings")
        for s in range(0, len(rows), batch):
            xs, _ = self._tensors(rows[s : s + batch])
            outs = self.net.forward_cached(*xs)
            picked = (outs[0], outs[1], outs[2], outs[4], outs[5], outs[6])
            for name, o in zip(names, picked, strict=True):
                keep.setdefault(name, []).append(o.numpy())
        return {k: np.concatenate(v) for k, v in keep.items()}

    def accuracy(self, rows: np.ndarray) -> float:
        """Top-1 on cache rows with a known label."""
        rows = rows[self.targets.y[rows] >= 0]
        if not len(rows):
            return float("nan")
        logits = self.predict(rows)["logits"]
        return float((logits.argmax(1) == self.targets.y[rows]).mean())

    def fit_temperature(self, rows: np.ndarray) -> tuple[float, float]:
        """Temperature scaling on held-aside rows, folded into the classifier weights.

        Returns (T whole, T parts). ONNX logits are then calibrated without any extra op.
        """
        rows = rows[self.targets.y[rows] >= 0]
        if len(rows) < 10:
            return 1.0, 1.0
        out = self.predict(rows)
        y = torch.from_numpy(self.targets.y[rows])

        def fit(logits: torch.Tensor, yy: torch.Tensor) -> float:
            log_t = torch.zeros(1, requires_grad=True)
            opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

            def closure() -> torch.Tensor:
                opt.zero_grad()
                loss = F.cross_entropy(logits / log_t.exp(), yy)
                loss.backward()
                return loss

            opt.step(closure)
            return float(log_t.exp().clamp(0.05, 20.0))

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
        rows = rows[self.targets.y[rows] >= 0]
        emb = self.predict(rows)["embedding"]
        y = self.targets.y[rows]
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
            "opt": self.opt.state_dict(),
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
        """Resume from save(); refuses a checkpoint of a different label set."""
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state["labels"] != self.labels or state["attributes"] != self.attributes:
            raise ValueError(f"{path}: checkpoint was trained on other labels; start afresh")
        self.net.heads.load_state_dict(state["heads"])
        with torch.no_grad():
            self.proxies.copy_(state["proxies"])
        self.opt.load_state_dict(state["opt"])
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
