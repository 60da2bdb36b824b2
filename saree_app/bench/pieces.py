"""A whole saree laid out in one long photo: read in pieces against read whole.

Renders each of the model's traditions in the renderer's "laid" view (the whole saree spread
flat end to end, five to six times longer than wide, as a museum photographs it for its
catalogue; seeds apart from every other bench's), reads each photo twice through the app's own
path (`Predictor.predict`): in overlapping pieces (model/pieces.py, the app's way) and fitted
whole into the model's square (`Predictor(pieces=False)`, the way before), and prints for each
the tradition right first and among the first three (the model's own ranking, and the answer
fused with the knowledge graph), the part map's mean IoU against the render's own part mask,
how many photos are flagged and why, and the time per photo.

Rendered photos only: realdev has no photo more than 2.5 times longer than wide, so no
real-photo figure moves with this (see the model card).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.bench import Report, at_least, run_reported
from saree_app.bench.real.inputs import CLASS_NAMES
from saree_app.bench.real.scoring import PartTally

SEED_BASE = 8_600_000  # apart from training seeds and the other benches' (7,000,000-8,000,000)
CACHE = Path.home() / ".cache" / "saree-app" / "bench" / "pieces"


def main(argv: Sequence[str] | None = None) -> int:
    """Read rendered laid-out sarees in pieces and whole; print both."""
    ap = argparse.ArgumentParser(prog="saree bench pieces", description=__doc__)
    ap.add_argument("--model", type=Path, help="manifest (default: the shipped model)")
    ap.add_argument("--per-class", type=at_least(1), default=5, help="photos per tradition")
    ap.add_argument(
        "--size", type=at_least(320), default=1600, help="rendered photo's longer side (px)"
    )
    ap.add_argument("--data", type=Path, default=CACHE, help="render cache")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    return run_reported("pieces", argv, args, lambda report: _main(args, report))


def _render(tradition: str, seed: int, size: int, root: Path) -> tuple[Path, Path]:
    """The photo (JPEG) and its part mask (PNG), rendered once and kept."""
    from PIL import Image

    from saree_app import synth

    photo = root / str(size) / tradition / f"{seed}.jpg"
    mask = photo.with_suffix(".mask.png")
    if not (photo.exists() and mask.exists()):
        img, labels, _attrs, _meta = synth.render(tradition, seed, size, view="laid")
        photo.parent.mkdir(parents=True, exist_ok=True)
        img.convert("RGB").save(photo, "JPEG", quality=92)
        Image.fromarray(labels.astype(np.uint8), "L").save(mask)
    return photo, mask


def _read(predictor: Any, photos: list[tuple[str, Path, Path]]) -> dict[str, Any]:
    from PIL import Image

    confusion = np.zeros((4, 4), np.int64)
    first = three = fused = flagged = 0
    unflagged_right: list[bool] = []
    thin = 0
    times: list[float] = []
    pieces: list[int] = []
    for tradition, photo, mask in photos:
        t0 = time.perf_counter()
        pred = predictor.predict(photo)
        times.append(time.perf_counter() - t0)
        pieces.append(pred.pieces)
        ranked = [t for t, _ in pred.visual]
        first += ranked[0] == tradition
        three += tradition in ranked[:3]
        fused += pred.top == tradition
        flagged += pred.uncertain
        if not pred.uncertain:
            unflagged_right.append(pred.top == tradition)
        thin += any("too thin" in r for r in pred.uncertain_reasons)
        with Image.open(mask) as m:
            truth = np.asarray(m, np.int64)
        shown = pred.part_mask_at((truth.shape[1], truth.shape[0])).astype(np.int64)
        confusion += np.bincount(4 * truth.ravel() + shown.ravel(), minlength=16).reshape(4, 4)
    n = len(photos)
    # The part figures as `saree bench real` counts them from its cells.
    parts = PartTally(confusion, []).figures()
    return {
        "photos": n,
        "right_first": round(first / n, 4),
        "right_in_three": round(three / n, 4),
        "fused_right_first": round(fused / n, 4),
        "flagged": round(flagged / n, 4),
        "flagged_too_thin": round(thin / n, 4),
        # The fused answer, as the app states it, among the photos it does not flag.
        "right_among_unflagged": round(float(np.mean(unflagged_right)), 4)
        if unflagged_right
        else None,
        "part_miou": round(float(parts["miou"]), 4),
        "part_iou": {
            name: None if parts[f"iou_{name}"] is None else round(parts[f"iou_{name}"], 4)
            for name in CLASS_NAMES
        },
        "ms_per_photo": round(1000 * statistics.median(times), 1),
        "pieces_median": statistics.median(pieces),
    }


def _main(args: argparse.Namespace, report: Report) -> int:
    from saree_app import synth
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    try:
        ways = {
            "in pieces": Predictor(args.model),
            "whole": Predictor(args.model, pieces=False),
        }
    except ModelError as exc:
        return report.fail(f"saree bench pieces: cannot use the model: {exc}")
    labels = ways["whole"].manifest.labels
    rendered = set(getattr(synth, "RENDERED_TRADITIONS", ()))
    known = [t for t in labels if t in rendered]
    if not known:
        return report.fail("saree bench pieces: none of the model's traditions can be rendered")
    t0 = time.perf_counter()
    photos = []
    for tradition in known:
        for i in range(args.per_class):
            photo, mask = _render(tradition, SEED_BASE + i, args.size, args.data)
            photos.append((tradition, photo, mask))
    report.say(
        f"{len(photos)} laid-out sarees of {len(known)} traditions at {args.size} px "
        f"ready in {time.perf_counter() - t0:.0f} s"
    )
    report.settings.update(traditions=known)
    for name, predictor in ways.items():
        figures = _read(predictor, photos)
        report.figures[name.replace(" ", "_")] = figures
        report.say(
            f"{name:>10}: right first {figures['right_first']:.1%} (in the first three "
            f"{figures['right_in_three']:.1%}; with the knowledge graph "
            f"{figures['fused_right_first']:.1%}); part mIoU {figures['part_miou']:.3f}; "
            f"flagged {figures['flagged']:.1%} (too thin {figures['flagged_too_thin']:.1%}; "
            f"right among the rest {_share(figures['right_among_unflagged'])}); "
            f"{figures['ms_per_photo']:.0f} ms a photo, {figures['pieces_median']:g} pieces"
        )
    return 0


def _share(value: float | None) -> str:
    return "none left" if value is None else f"{value:.1%}"
