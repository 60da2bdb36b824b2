"""Where the photos a model learnt from lie for the cloth features; written to its manifest.

Renders photos of the model's traditions with the renderer its training photos came from (seeds
far from any training or open-set seed), reads each whole picture through the cloth-features
model as the app does, fits model/familiar.py's description on the even seeds and sets its
threshold on the odd ones (the share given by --false-alarm lies beyond it), and writes it into
the manifest's "training_look" entry (the checksum covers only the .onnx). From then on the app
flags a photo that looks unlike them: on a real photograph the model trained on renders is
guessing.

With --photos DIR, every photo under DIR (real photographs, for instance) is read the same way
and the share flagged is printed: those photos only measure, they never take part in the fit.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.bench import Report, at_least, run_reported
from saree_app.bench.openset import (
    add_fit_arguments,
    folder_files,
    render_for_fit,
    write_entry,
)

SEED_BASE = 8_000_000  # apart from training seeds and from `saree bench openset`'s 7,000,000


def main(argv: Sequence[str] | None = None) -> int:
    """Fit the training look of a model, print how it flags, write it to the manifest."""
    ap = argparse.ArgumentParser(prog="saree bench familiar", description=__doc__)
    ap.add_argument("--model", type=Path, help="manifest (default: the shipped model)")
    ap.add_argument("--per-class", type=int, default=100, help="rendered photos per tradition")
    ap.add_argument("--size", type=at_least(32), default=384, help="rendered photo side (px)")
    add_fit_arguments(ap, "familiar", 0.02)
    args = ap.parse_args(argv)
    return run_reported("familiar", argv, args, lambda report: _main(args, report, argv))


def _whole(cloth: Any, paths: Sequence[Path]) -> tuple[np.ndarray, list[Path]]:
    """Whole-picture vectors of the readable photos, as the app reads them."""
    from saree_app.imaging import PhotoError, load_photo
    from saree_app.model.cloth import DECODE_SIDE

    rows, kept = [], []
    for path in paths:
        try:
            photo = load_photo(path, target=DECODE_SIDE)
        except PhotoError:
            continue
        rows.append(cloth.whole(photo)[0])
        kept.append(path)
    return (np.stack(rows) if rows else np.zeros((0, cloth.dim), np.float32)), kept


def _main(args: argparse.Namespace, report: Report, argv: Sequence[str] | None) -> int:
    if not 0.0 < args.false_alarm < 0.5:
        return report.fail("saree bench familiar: --false-alarm must be between 0 and 0.5")
    if args.per_class < 10:
        return report.fail("saree bench familiar: --per-class must be at least 10")
    if args.photos is not None and not args.photos.is_dir():
        return report.fail(f"saree bench familiar: {args.photos} is not a folder")

    from saree_app import synth
    from saree_app.model.cloth import ClothFeatures
    from saree_app.model.familiar import fit
    from saree_app.model.manifest import ModelError, ModelManifest
    from saree_app.model.predict import default_model_path

    try:
        m = ModelManifest.load(args.model or default_model_path())
        cloth = ClothFeatures.shipped()
    except ModelError as exc:
        return report.fail(f"saree bench familiar: cannot use the model: {exc}")
    if cloth is None:
        return report.fail("saree bench familiar: the cloth-features model is not installed")
    rendered = set(getattr(synth, "RENDERED_TRADITIONS", ()))
    known = [t for t in m.labels if t in rendered]
    if not known:
        return report.fail("saree bench familiar: none of the model's traditions can be rendered")
    report.settings.update(
        per_class=args.per_class, size=args.size, false_alarm=args.false_alarm, traditions=known
    )

    root = args.data / str(args.size)
    jobs = [
        ("known", t, SEED_BASE + i, args.size, str(root / t / f"{SEED_BASE + i}.jpg"))
        for t in known
        for i in range(args.per_class)
    ]
    render_for_fit(jobs, args, report)
    ref, _ = _whole(cloth, [Path(j[4]) for j in jobs if j[2] % 2 == 0])
    held, _ = _whole(cloth, [Path(j[4]) for j in jobs if j[2] % 2 == 1])
    try:
        look = fit(ref, held, cloth.sha256, args.false_alarm)
    except ValueError as exc:
        return report.fail(f"saree bench familiar: {exc}")
    flagged_held = float(np.mean(look.distance(held) > look.threshold))
    report.say(
        f"fitted on {len(ref)} rendered photos; of {len(held)} held back, "
        f"{flagged_held:.1%} lie beyond the threshold {look.threshold:.1f} "
        f"(asked for {args.false_alarm:.0%})"
    )
    figures: dict[str, Any] = {
        "reference": len(ref),
        "held_back": len(held),
        "held_back_flagged": round(flagged_held, 4),
        "threshold": round(look.threshold, 3),
    }
    if args.photos is not None:
        # Every file: one that is not a photo the app can read is left out of the count.
        vectors, kept = _whole(cloth, folder_files(args.photos))
        flags = look.distance(vectors) > look.threshold if len(kept) else np.zeros(0, bool)
        share = float(flags.mean()) if len(kept) else float("nan")
        report.say(f"{args.photos}: {len(kept)} photos read, {share:.1%} flagged")
        figures["photos"] = {"folder": str(args.photos), "read": len(kept), "flagged": share}
    report.figures.update(figures)
    entry = look.to_dict(
        photos={"reference": len(ref), "held_back": len(held), "size": args.size},
        held_back_flagged=round(flagged_held, 4),
        split="even seeds fit, odd seeds set the threshold",
        command="saree bench familiar " + " ".join(argv or []),
    )
    return write_entry(m, "training_look", entry, args, report)
