"""Evaluation of an exported model (onnxruntime, no torch): metrics, confusion picture, reports."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from saree_app.imaging import PhotoError, Preprocessing, load_photo, preprocess, upright_size
from saree_app.model.pieces import Pieces, combine, layout
from saree_app.model.zooms import normalised_fill, read_zooms, run_with_zooms
from saree_app.train.data import Item, cut_to_crop, letterbox_mask

BASE_IRI = "https://saree-provenance.example/ns#"
Progress = Callable[[int, int, str], None]


def _tid(iri: str) -> str:
    return iri[len(BASE_IRI) :] if iri.startswith(BASE_IRI) else iri


class OnnxModel:
    """An exported model and its manifest, run with onnxruntime."""

    def __init__(self, manifest_path: Path | str, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(manifest_path)
        self.manifest: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        m = self.manifest
        self.labels = [_tid(x) for x in m["labels"]]
        self.attributes = [_tid(x) for x in m["attributes"]]
        inp = m["input"]
        self.prep = Preprocessing(
            size=int(inp["size"]),
            mean=tuple(inp["mean"]),
            std=tuple(inp["std"]),
            fill=tuple(int(v) for v in inp["fill"]),  # type: ignore[arg-type]
        )
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        self.onnx_path = self.path.parent / m["onnx"]
        self.session = ort.InferenceSession(
            str(self.onnx_path), so, providers=["CPUExecutionProvider"]
        )
        self.outputs = list(m["outputs"])
        self.zooms, self.mirrored = read_zooms(m)
        self._fill = normalised_fill(self.prep.fill, self.prep.mean, self.prep.std)

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """N x 3 x S x S -> outputs by name (the part map averaged over the manifest's
        seg_zooms, as the app reads it)."""
        return run_with_zooms(
            self._run_once,
            batch.astype(np.float32),
            self.zooms,
            self._fill,
            mirrored=self.mirrored,
        )

    def _run_once(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        outs = self.session.run(None, {"image": batch})
        return dict(zip(self.outputs, outs, strict=True))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _upsample(seg: np.ndarray, size: int) -> np.ndarray:
    """K x h x w logits -> K x size x size (bilinear), as the app maps them onto a photo."""
    return np.stack(
        [
            np.asarray(
                Image.fromarray(ch.astype(np.float32), "F").resize(
                    (size, size), Image.Resampling.BILINEAR
                )
            )
            for ch in seg
        ]
    )


def run_model(
    model: OnnxModel,
    items: Sequence[Item],
    *,
    batch_size: int = 16,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the model on every photo; keeps what the metrics need (no CAMs).

    A photo far longer than wide is read as the app reads it: in overlapping pieces, their
    outputs put together into one row (model/pieces.py), its mask over the pieces' canvas. An
    item that is itself one piece (`Item.crop`) is read as that piece."""
    size = model.prep.size
    ms = size // 2
    keep: dict[str, list[np.ndarray]] = {}
    seg_preds: list[np.ndarray | None] = []
    masks: list[np.ndarray | None] = []
    used: list[Item] = []
    t0 = time.monotonic()
    for start in range(0, len(items), batch_size):
        xs: list[np.ndarray] = []
        batch_masks, batch_items = [], []
        read: list[tuple[int, Pieces | None]] = []  # each photo's first row and its pieces
        for it in items[start : start + batch_size]:
            try:
                img = load_photo(it.image, target=size)
            except PhotoError:
                continue
            mask_img = None
            if it.mask is not None and it.mask.is_file():
                with Image.open(it.mask) as mk:
                    mask_img = mk.convert("L")
            img, mask_img = cut_to_crop(it, img, mask_img)
            # Decided on the photo's own size, as the app decides (Predictor.pieces_of).
            own = upright_size(it.image) or img.size
            pieces = layout(own, size) if it.crop is None else None
            read.append((len(xs), pieces))
            if pieces is None:
                x, box = preprocess(img, model.prep)
                xs.append(x)
            else:
                xs += [preprocess(crop, model.prep)[0] for crop in pieces.crops(img)]
                box = pieces.canvas(size)
            batch_items.append(it)
            batch_masks.append(None if mask_img is None else letterbox_mask(mask_img, box, ms))
        if not xs:
            continue
        ran = model.run(np.stack(xs))
        rows = []
        for first, pieces in read:
            if pieces is None:
                rows.append({name: value[first : first + 1] for name, value in ran.items()})
            else:
                n = len(pieces.offsets)
                own_rows = {name: value[first : first + n] for name, value in ran.items()}
                rows.append(combine(own_rows, pieces, size))
        for name in ("logits", "part_logits", "attributes", "embedding", "part_embeddings"):
            keep.setdefault(name, []).extend(row[name] for row in rows)
        seg_preds.extend(
            _upsample(row["seg"][0], ms).argmax(0).astype(np.uint8) if m is not None else None
            for row, m in zip(rows, batch_masks, strict=True)
        )
        masks.extend(batch_masks)
        used.extend(batch_items)
        if progress is not None:
            done = min(start + batch_size, len(items))
            rate = done / max(time.monotonic() - t0, 1e-6)
            progress(done, len(items), f"evaluating {rate:.0f} photos/s")
    res: dict[str, Any] = {k: np.concatenate(v) for k, v in keep.items()}
    res["seg_pred"] = seg_preds
    res["masks"] = masks
    res["items"] = used
    return res


# ---------------------------------------------------------------------- metrics
def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise, as in information retrieval)."""
    order = np.argsort(-scores, kind="stable")
    pos = positives[order].astype(bool)
    if not pos.any():
        return float("nan")
    hits = np.cumsum(pos)
    precision = hits / np.arange(1, len(pos) + 1)
    return float(precision[pos].mean())


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """ECE over equal-width confidence bins of the top-1 probability."""
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def recall_at_k(emb: np.ndarray, y: np.ndarray, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Leave-one-out retrieval: is a photo of the same tradition among the k nearest (cosine)?"""
    if len(y) < 2:
        return {f"R@{k}": float("nan") for k in ks}
    sims = emb @ emb.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argsort(-sims, axis=1)[:, : max(ks)]
    match = y[top] == y[:, None]
    return {f"R@{k}": float(match[:, :k].any(axis=1).mean()) for k in ks}


def confusion(y: np.ndarray, pred: np.ndarray, c: int) -> np.ndarray:
    """C x C counts, rows = truth."""
    m = np.zeros((c, c), dtype=np.int64)
    np.add.at(m, (y, pred), 1)
    return m


def metrics(model: OnnxModel, res: Mapping[str, Any]) -> dict[str, Any]:
    """Every figure of the report for one split."""
    labels, attrs = model.labels, model.attributes
    lab = {t: i for i, t in enumerate(labels)}
    items: list[Item] = res["items"]
    y_all = np.array([lab.get(it.tradition, -1) for it in items])
    known = y_all >= 0
    out: dict[str, Any] = {"photos": len(items), "unknown_to_model": int((~known).sum())}
    if known.any():
        y = y_all[known]
        logits = res["logits"][known]
        probs = _softmax(logits)
        pred = probs.argmax(1)
        top3 = np.argsort(-probs, axis=1)[:, :3]
        cm = confusion(y, pred, len(labels))
        recalls = [cm[i, i] / cm[i].sum() for i in range(len(labels)) if cm[i].sum()]
        out.update(
            top1=float((pred == y).mean()),
            top3=float((top3 == y[:, None]).any(1).mean()),
            balanced_accuracy=float(np.mean(recalls)),
            ece=expected_calibration_error(probs, y),
            confusion=cm.tolist(),
        )
        per_class = []
        for i, t in enumerate(labels):
            n = int(cm[i].sum())
            if not n and not cm[:, i].sum():
                continue
            per_class.append(
                {
                    "tradition": t,
                    "n": n,
                    "recall": float(cm[i, i] / n) if n else float("nan"),
                    "precision": float(cm[i, i] / cm[:, i].sum())
                    if cm[:, i].sum()
                    else float("nan"),
                }
            )
        out["per_class"] = per_class
        part_probs = _softmax(res["part_logits"][known])
        out["part_top1"] = {
            p: float((part_probs[:, k].argmax(1) == y).mean())
            for k, p in enumerate(("body", "border", "pallu"))
        }
        retrieval = {"whole": recall_at_k(res["embedding"][known], y)}
        for k, p in enumerate(("body", "border", "pallu")):
            retrieval[p] = recall_at_k(res["part_embeddings"][known][:, k], y)
        out["retrieval"] = retrieval
    # Attributes: AP per attribute with both positives and negatives in this split.
    truth = np.zeros((len(items), len(attrs)), dtype=bool)
    ai = {a: i for i, a in enumerate(attrs)}
    for r, it in enumerate(items):
        for a in it.attributes:
            if a in ai:
                truth[r, ai[a]] = True
    aps = {}
    for j, a in enumerate(attrs):
        if truth[:, j].any() and not truth[:, j].all():
            aps[a] = average_precision(res["attributes"][:, j], truth[:, j])
    out["attribute_mAP"] = float(np.mean(list(aps.values()))) if aps else float("nan")
    out["attribute_AP"] = aps
    # Segmentation: IoU accumulated over all photos that have a mask.
    inter, union, n_masks = _overlaps(res["seg_pred"], res["masks"])
    if n_masks:
        iou = inter / np.maximum(union, 1)
        out["seg"] = {
            "photos": n_masks,
            "iou": dict(zip(("background", "body", "border", "pallu"), iou.tolist(), strict=True)),
            "part_mIoU": float(iou[1:].mean()),
            "mIoU_with_background": float(iou.mean()),
        }
    by_family = _by_family(res, y_all)
    if by_family:
        out["by_family"] = by_family
    return out


def _overlaps(
    preds: Sequence[np.ndarray | None], masks: Sequence[np.ndarray | None]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per class (background, body, border, pallu): pixels in both and in either of prediction
    and mask, summed over the photos that have a mask; and how many those are."""
    inter, union, n = np.zeros(4), np.zeros(4), 0
    for pred_m, gt in zip(preds, masks, strict=True):
        if gt is None:
            continue
        n += 1
        for k in range(4):
            p, g = pred_m == k, gt == k
            inter[k] += np.logical_and(p, g).sum()
            union[k] += np.logical_or(p, g).sum()
    return inter, union, n


def _by_family(res: Mapping[str, Any], y_all: np.ndarray) -> dict[str, dict[str, Any]]:
    """Top-1 and part mIoU per rendering family (view, background, ...): where a split's
    shift hurts. Empty for photos without family labels (a curator's own folders)."""
    items: list[Item] = res["items"]
    kinds = sorted({k for it in items for k in it.families})
    pred = res["logits"].argmax(1) if len(items) else np.zeros(0, dtype=int)
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        values = sorted({it.families[kind] for it in items if kind in it.families})
        table: dict[str, Any] = {}
        for value in values:
            rows = [i for i, it in enumerate(items) if it.families.get(kind) == value]
            known = [i for i in rows if y_all[i] >= 0]
            inter, union, _ = _overlaps(
                [res["seg_pred"][i] for i in rows], [res["masks"][i] for i in rows]
            )
            inter, union = inter[1:], union[1:]  # the parts: body, border, pallu
            table[value] = {
                "photos": len(rows),
                "top1": float((pred[known] == y_all[known]).mean()) if known else float("nan"),
                "part_mIoU": float((inter / np.maximum(union, 1)).mean())
                if union.any()
                else float("nan"),
            }
        out[kind] = table
    return out


# ---------------------------------------------------------------------- pictures and reports
def confusion_png(cm: np.ndarray, labels: Sequence[str], path: Path, title: str = "") -> Path:
    """Row-normalised confusion matrix drawn with pillow (truth down, prediction across)."""
    c = len(labels)
    cell, left, top = 34, 150, 150
    w, h = left + c * cell + 10, top + c * cell + 30
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    rows = cm.sum(1, keepdims=True)
    norm = np.divide(cm, np.maximum(rows, 1))
    for i in range(c):
        for j in range(c):
            v = float(norm[i, j])
            shade = int(255 - 200 * v)
            colour = (shade, shade, 255) if i != j else (shade, 255, shade)
            x0, y0 = left + j * cell, top + i * cell
            d.rectangle(
                [x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour, outline=(220, 220, 220)
            )
            if cm[i, j]:
                d.text((x0 + 4, y0 + 11), str(int(cm[i, j])), fill="black", font=font)
        d.text((4, top + i * cell + 11), labels[i][:22], fill="black", font=font)
        # Column labels: rendered horizontally on a strip, then turned upright.
        strip = Image.new("RGB", (top - 6, cell), "white")
        ImageDraw.Draw(strip).text((2, 11), labels[i][:22], fill="black", font=font)
        img.paste(strip.rotate(90, expand=True), (left + i * cell, 2))
    d.text((4, h - 24), title or "rows: truth, columns: prediction", fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _pct(v: Any) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.1f}%"


def _f(v: Any) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def markdown_report(
    results: Mapping[str, Mapping[str, Any]], model: OnnxModel, command: str
) -> str:
    """The Markdown report of all splits."""
    lines = [f"# Evaluation of {model.manifest.get('name', model.path.name)}", ""]
    lines += [
        f"Command: `{command}`",
        "",
        f"Model sha256: `{model.manifest.get('sha256', '')}`",
        "",
        # The part mIoU depends on it: the same .onnx read once gives other figures.
        "Part map read at zoom"
        + ("s " if len(model.zooms) > 1 else " ")
        + ", ".join(f"{z:g}" for z in model.zooms)
        + (" (the shrunk copies mirrored)" if model.mirrored and len(model.zooms) > 1 else "")
        + " (the manifest's seg_zooms; 1 = the photo as it is), as the app reads it.",
        "",
    ]
    lines += [
        "| split | photos | top-1 | top-3 | balanced acc. | ECE | part mIoU | attribute mAP "
        "| R@1 | R@5 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for split, m in results.items():
        r = m.get("retrieval", {}).get("whole", {})
        lines.append(
            f"| {split} | {m['photos']} | {_pct(m.get('top1'))} | {_pct(m.get('top3'))} | "
            f"{_pct(m.get('balanced_accuracy'))} | {_f(m.get('ece'))} | "
            f"{_f(m.get('seg', {}).get('part_mIoU'))} | {_f(m.get('attribute_mAP'))} | "
            f"{_pct(r.get('R@1'))} | {_pct(r.get('R@5'))} |"
        )
    for split, m in results.items():
        lines += ["", f"## {split}", ""]
        if "seg" in m:
            iou = m["seg"]["iou"]
            lines.append(
                "Segmentation IoU: "
                + ", ".join(f"{k} {_f(v)}" for k, v in iou.items())
                + f" (over {m['seg']['photos']} masks; part mIoU = mean of body, border, pallu)."
            )
        if "retrieval" in m:
            lines.append("")
            lines.append(
                "Retrieval (leave-one-out, cosine): "
                + "; ".join(
                    f"{p} R@1 {_pct(v['R@1'])} R@5 {_pct(v['R@5'])}"
                    for p, v in m["retrieval"].items()
                )
            )
        if "part_top1" in m:
            lines.append("")
            lines.append(
                "Part-only top-1: " + ", ".join(f"{p} {_pct(v)}" for p, v in m["part_top1"].items())
            )
        if m.get("by_family"):
            lines += ["", "| family | photos | top-1 | part mIoU |", "|---|---|---|---|"]
            for kind, table in m["by_family"].items():
                for value, row in table.items():
                    lines.append(
                        f"| {kind} = {value} | {row['photos']} | {_pct(row['top1'])} "
                        f"| {_f(row['part_mIoU'])} |"
                    )
        if m.get("per_class"):
            lines += ["", "| tradition | photos | recall | precision |", "|---|---|---|---|"]
            for row in m["per_class"]:
                lines.append(
                    f"| {row['tradition']} | {row['n']} | {_pct(row['recall'])} "
                    f"| {_pct(row['precision'])} |"
                )
        if m.get("unknown_to_model"):
            lines.append(
                f"\n{m['unknown_to_model']} photos of traditions the model does not know were "
                "left out of the classification figures."
            )
    return "\n".join(lines) + "\n"


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def evaluate(
    manifest: Path | str,
    items: Sequence[Item],
    out_dir: Path | str,
    *,
    splits: Sequence[str] = ("test", "heldout"),
    command: str = "",
    threads: int | None = None,
    batch_size: int = 16,
    progress: Progress | None = None,
    confusion_split: str | None = None,
) -> dict[str, Any]:
    """Evaluate on each split present in items; writes report.json, REPORT.md, confusion_*.png."""
    model = OnnxModel(manifest, threads=threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for split in splits:
        chosen = [it for it in items if it.split == split]
        if not chosen:
            continue
        res = run_model(model, chosen, batch_size=batch_size, progress=progress)
        m = metrics(model, res)
        results[split] = m
        if "confusion" in m:
            confusion_png(
                np.asarray(m["confusion"]),
                model.labels,
                out / f"confusion_{split}.png",
                title=f"{split}: rows truth, columns prediction (row-normalised colour)",
            )
    chosen_split = confusion_split or ("heldout" if "heldout" in results else None)
    if chosen_split and (out / f"confusion_{chosen_split}.png").is_file():
        (out / "confusion.png").write_bytes((out / f"confusion_{chosen_split}.png").read_bytes())
    clean = _jsonable(results)
    (out / "report.json").write_text(json.dumps(clean, indent=1) + "\n", encoding="utf-8")
    (out / "REPORT.md").write_text(markdown_report(results, model, command), encoding="utf-8")
    return clean


def summary(results: Mapping[str, Any]) -> dict[str, Any]:
    """The headline figures per split, for the manifest's "evaluation"."""
    out = {}
    for split, m in results.items():
        out[split] = {
            "photos": m.get("photos"),
            "top1": m.get("top1"),
            "top3": m.get("top3"),
            "balanced_accuracy": m.get("balanced_accuracy"),
            "ece": m.get("ece"),
            "part_mIoU": (m.get("seg") or {}).get("part_mIoU"),
            "attribute_mAP": m.get("attribute_mAP"),
            "recall_at_1": ((m.get("retrieval") or {}).get("whole") or {}).get("R@1"),
            "recall_at_5": ((m.get("retrieval") or {}).get("whole") or {}).get("R@5"),
        }
    return out
