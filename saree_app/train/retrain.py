"""`saree train --catalog FILE`: a new model from the photos a curator confirmed in a catalogue.

The confirmed photos (label certainty 'confirmed', with a tradition) become training items;
one in four of each tradition, chosen by content hash so that a rerun chooses the same, is held
back and the new model is evaluated on it. Only the heads train: a curator's few hundred photos
carry no part maps, so the base model's segmentation (the shipped one unless --base-model says
otherwise) is read back out of its .onnx and kept as it is, with its backbone, input size, views
and zooms. The base model's files are never written to.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# One photo in HOLD_EVERY of each tradition is held back for the report (none below that many).
HOLD_EVERY = 4
# Head epochs when the command gives none: a few hundred photos make one or two steps an epoch,
# and the linear heads need a few hundred steps.
CATALOG_EPOCHS = 300


def split(usable: list[tuple[int, Path, str, str]]) -> dict[int, str]:
    """Photo id -> 'train' or 'heldout': per tradition, in content-hash order, every
    HOLD_EVERY-th photo is held back (so at least HOLD_EVERY - 1 of each train)."""
    by_tradition: dict[str, list[tuple[str, int]]] = {}
    for pid, _path, sha, tradition in usable:
        by_tradition.setdefault(tradition, []).append((sha, pid))
    out: dict[int, str] = {}
    for rows in by_tradition.values():
        for i, (_sha, pid) in enumerate(sorted(rows)):
            out[pid] = "heldout" if i % HOLD_EVERY == HOLD_EVERY - 1 else "train"
    return out


def _say(msg: str) -> None:
    print(f"saree train: {msg}", file=sys.stderr, flush=True)


def _default_cache(out: Path) -> Path:
    from saree_app.train.cli import _default_cache as features

    key = hashlib.sha256(str(out.resolve()).encode("utf-8")).hexdigest()[:12]
    return features() / f"catalog-{key}"


def run_catalog(args: argparse.Namespace) -> int:
    """Train, export and evaluate a model from a catalogue's confirmed photos."""
    from saree_app.paths import models_dir
    from saree_app.train.base import BaseModelError, describe, read_base_model
    from saree_app.train.cli import train_items
    from saree_app.train.data import Item, load_vocabulary, ontology_attributes

    catalog = Path(args.catalog)
    if args.data or args.recipe:
        _say("give --catalog alone, or --data / --recipe, not both")
        return 2
    # Read by the `saree train` command (saree_app.collection.training.read_confirmed): the
    # training package does not open catalogues itself.
    found = getattr(args, "confirmed", None)
    if found is None:
        _say("--catalog: run it as `saree train --catalog FILE`")
        return 2
    for pid, path in found.missing:
        _say(f"photo {pid}: its file is gone ({path}); left out")
    for pid, path in found.changed:
        _say(f"photo {pid}: its file changed since it was imported ({path}); left out")
    for tradition, n in found.left_out.items():
        _say(f"{tradition}: {n} confirmed photo, {found.min_per_tradition} needed; left out")
    if args.out is None:
        args.out = catalog.with_name(catalog.stem + "-model")
    base_path = Path(args.base_model) if args.base_model else models_dir() / "saree-model.json"
    if base_path.suffix == ".onnx":
        base_path = base_path.with_suffix(".json")
    try:
        base = read_base_model(base_path)
    except BaseModelError as exc:
        _say(f"--base-model {exc}")
        return 2
    if base_path.resolve().parent == Path(args.out).resolve() and args.name == base_path.stem:
        _say(f"--out {args.out}: that would overwrite the base model; choose another folder")
        return 2
    splits = split(found.usable)
    vocab = load_vocabulary()
    items = ontology_attributes(
        [Item(image=path, tradition=t, split=splits[pid]) for pid, path, _sha, t in found.usable],
        vocab,
    )
    attributes = sorted({a for it in items for a in it.attributes})
    cfg = base.config
    # The heads are trained for the base model's way of reading a photo.
    args.size = cfg.size
    args.seg_attention = cfg.seg_attention
    args.seg_tuned_blocks = cfg.seg_tuned_blocks
    args.flip_average = cfg.flip_average
    args.rotate_average = cfg.rotate_average
    args.seg_edges = cfg.seg_edge_radius
    args.white_balance = cfg.white_balance
    args.seg_zooms = base.seg_zooms
    args.seg_zooms_mirrored = base.seg_zooms_mirrored
    args.no_pretrained = not base.pretrained
    args.rotate_augment = args.rotate_augment or cfg.rotate_average
    args.seg_epochs = 0
    args.init_segmentation = None
    if args.epochs is None:
        args.epochs = CATALOG_EPOCHS
    args.data = [catalog]
    args.cache = args.cache or _default_cache(Path(args.out))
    args.eval = any(it.split == "heldout" for it in items)
    args.base_segmentation = base.segmentation
    args.attributes = attributes
    args.calibrate = False
    args.training_extra = {
        "catalogue": str(catalog),
        "base_model": describe(base),
        "heldout_rule": f"one in {HOLD_EVERY} confirmed photos of each tradition, by content hash",
        "temperature_note": "not calibrated: a curator's catalogue has no validation split "
        "beside the held-back photos the report is about",
    }
    counts = Counter((it.tradition, it.split) for it in items)
    _say(
        f"{len(items)} confirmed photos of {len({it.tradition for it in items})} traditions: "
        f"{sum(n for (_t, s), n in counts.items() if s == 'train')} to train on, "
        f"{sum(n for (_t, s), n in counts.items() if s == 'heldout')} held back for the report"
    )
    status = train_items(items, args)
    if status != 0:
        return status
    model = Path(args.out) / f"{args.name}.json"
    write_report(
        model, catalog=catalog, found=found, items=items, base_path=base_path, evaluated=args.eval
    )
    print(f"model: {model}")
    print(f"report: {Path(args.out) / 'REPORT.md'}")
    return 0


def write_report(
    model: Path,
    *,
    catalog: Path,
    found: Any,
    items: list[Any],
    base_path: Path,
    evaluated: bool,
) -> None:
    """report.json / REPORT.md: the held-back figures (written by the evaluation) with what the
    catalogue gave, what was left out and why."""
    out = model.parent
    per = Counter((it.tradition, it.split) for it in items)
    traditions = sorted({it.tradition for it in items})
    manifest = json.loads(model.read_text(encoding="utf-8"))
    section = {
        "catalogue": str(catalog),
        "base_model": str(base_path),
        "model_sha256": manifest.get("sha256"),
        "photos": {
            t: {"train": per[(t, "train")], "heldout": per[(t, "heldout")]} for t in traditions
        },
        "missing_files": [{"photo": pid, "path": p} for pid, p in found.missing],
        "changed_files": [{"photo": pid, "path": p} for pid, p in found.changed],
        "traditions_left_out": found.left_out,
    }
    report_json = out / "report.json"
    report: dict[str, Any] = {}
    if evaluated and report_json.is_file():
        report = json.loads(report_json.read_text(encoding="utf-8"))
    report["catalogue"] = section
    report_json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    lines = [
        "# Retrained from the catalogue",
        "",
        f"Catalogue: `{catalog}`; base model: `{base_path}` (its part segmentation kept).",
        f"New model sha256: `{section['model_sha256']}`.",
        "",
        "| tradition | trained on | held back |",
        "|---|---|---|",
        *(f"| {t} | {per[(t, 'train')]} | {per[(t, 'heldout')]} |" for t in traditions),
        "",
    ]
    if found.missing or found.changed or found.left_out:
        lines.append("Left out:")
        lines += [f"- photo {pid}: file gone ({p})" for pid, p in found.missing]
        lines += [f"- photo {pid}: file changed since import ({p})" for pid, p in found.changed]
        lines += [
            f"- {t}: {n} confirmed photo; {found.min_per_tradition} needed"
            for t, n in found.left_out.items()
        ]
        lines.append("")
    if not evaluated:
        lines += [
            f"No photos held back: a tradition needs {HOLD_EVERY} or more confirmed photos for "
            "one to be held back and checked. Confirm more to get a report.",
            "",
        ]
    body = (out / "REPORT.md").read_text(encoding="utf-8") if evaluated else ""
    (out / "REPORT.md").write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
