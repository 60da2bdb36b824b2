"""`saree train --catalog FILE`: a new model from the photos a curator confirmed in a catalogue.

The confirmed photos (label certainty 'confirmed', with a tradition) become training items;
one saree in four of each tradition (an object's photos go together), chosen by content hash
so that a rerun chooses the same, is held back and the new model is evaluated on it. An object
whose confirmed photos name two traditions is left out, and said. The base model (the shipped
one unless --base-model says otherwise) gives its backbone, input size, views and zooms, and
its part segmentation, read back out of its .onnx. The base model's files are never written to.

The part segmentation is fine-tuned, as the recipe's second stage does (from a trained
decoder, few passes, a small learning rate, mirrored and quarter-turned copies), when the
curator corrected the part maps of at least MIN_PART_MAPS photos besides those held back: those
photos become segmentation items with their maps as masks (a photo with a corrected map but no
confirmed tradition trains the segmentation only; photos without one carry no mask and are not
in the segmentation loss). One in four corrected maps, by content hash, and the maps of the
sarees held back for the tradition report are held back, and the report gives the part IoU of
the base model and of the new one on them. With fewer, the base segmentation is kept as it is.

A photo far longer than wide (a whole saree laid out end to end) is trained on as the app reads
it (model/pieces.py): each of its overlapping pieces is an item of its own with the photo's
tradition, split and, when the curator corrected its part map, the same piece of the map
(`Item.crop`). Held back, it stays one photo: the evaluation reads it in pieces and puts their
answers together, as the app does (evaluate.run_model). The counts said and reported are of
photos; the pieces are said beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saree_app.train.data import Item

# One photo in HOLD_EVERY of each tradition is held back for the report (none below that many).
HOLD_EVERY = 4
# Head epochs when the command gives none: a few hundred photos make one or two steps an epoch,
# and the linear heads need a few hundred steps.
CATALOG_EPOCHS = 300
# Corrected part maps to fine-tune the segmentation on (besides those held back): fewer teach
# the decoder a handful of photos rather than the collection's way of photographing.
MIN_PART_MAPS = 8
# The fine-tuning: the recipe's second stage (5e-4, from a trained decoder) with batches a
# curator's few dozen maps fill, for at least SEG_STEPS steps and SEG_MIN_EPOCHS passes.
SEG_LR = 5e-4
SEG_BATCH = 16
SEG_STEPS = 80
SEG_MIN_EPOCHS = 4


def split(
    usable: list[tuple[int, Path, str, str]], saree: Callable[[int], str] | None = None
) -> dict[int, str]:
    """Photo id -> 'train' or 'heldout': per tradition, every HOLD_EVERY-th saree in
    content-hash order (a saree's order: its first photo's hash) is held back with all its
    photos (so at least HOLD_EVERY - 1 of each train). `saree`: photo id -> which saree it
    shows (Confirmed.saree_of); without it each photo is a saree of its own. Photos of one
    saree on both sides would let the report grade the model on a view of what it learnt."""
    of = saree or (lambda pid: f"photo:{pid}")
    by_tradition: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for pid, _path, sha, tradition in usable:
        by_tradition.setdefault(tradition, {}).setdefault(of(pid), []).append((sha, pid))
    out: dict[int, str] = {}
    for sarees in by_tradition.values():
        for i, rows in enumerate(sorted(sarees.values(), key=min)):
            for _sha, pid in rows:
                out[pid] = "heldout" if i % HOLD_EVERY == HOLD_EVERY - 1 else "train"
    return out


def split_maps(maps: list[Any], held_photos: set[int]) -> dict[int, str]:
    """Photo id -> 'train' or 'heldout' for each corrected part map: in content-hash order every
    HOLD_EVERY-th map is held back, and so is the map of a photo held back for the tradition
    report (its segmentation must not have seen it either)."""
    out: dict[int, str] = {}
    for i, m in enumerate(sorted(maps, key=lambda m: (m.sha256, m.photo_id))):
        held = i % HOLD_EVERY == HOLD_EVERY - 1 or m.photo_id in held_photos
        out[m.photo_id] = "heldout" if held else "train"
    return out


def _digest(labels: Any) -> str:
    import numpy as np

    arr = np.ascontiguousarray(labels, dtype=np.uint8)
    return hashlib.sha256(arr.tobytes() + str(arr.shape).encode()).hexdigest()[:12]


def write_masks(maps: list[Any], folder: Path) -> dict[int, Path]:
    """Each corrected map as a mask file the training reads (grey labels 0-3, the map's grid:
    it is stretched over the photo as the catalogue's is); named by content, so a map the
    curator changed is a new file."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for m in maps:
        path = folder / f"photo-{m.photo_id}-{_digest(m.labels)}.png"
        if not path.is_file():
            tmp = path.with_suffix(".tmp")
            Image.fromarray(m.labels.astype("uint8"), "L").save(tmp, format="PNG")
            tmp.replace(path)
        out[m.photo_id] = path
    return out


def _needed(n_maps: int, n_train: int) -> str:
    """Why the part map is not retrained, in a curator's words."""
    if not n_maps:
        return (
            "no photo's part map has been corrected in this catalogue, so the base model's part "
            f"map is kept; correct the parts of at least {MIN_PART_MAPS + 3} photos (Correct "
            "parts... in the photo view, or saree parts --from-mask) to retrain it too"
        )
    held = n_maps - n_train
    return (
        f"{n_maps} photo{'s' if n_maps != 1 else ''} with corrected part maps: {held} held back "
        f"to check the result leave {n_train} to learn from, and {MIN_PART_MAPS} are needed, "
        "so the base model's part map is kept; correct the parts of at least "
        f"{MIN_PART_MAPS - n_train} more photos to retrain it too"
    )


def _say(msg: str) -> None:
    print(f"saree train: {msg}", file=sys.stderr, flush=True)


def in_pieces(item: Item, model_side: int) -> list[Item]:
    """The item as training reads it: a photo the app reads in pieces (model/pieces.py) as one
    item a piece, each with the photo's labels and split and, through `Item.crop`, the same
    piece of its mask; any other photo as it is."""
    from saree_app.imaging import upright_size
    from saree_app.model.pieces import layout

    # Decided on the photo's own size, as the app decides (Predictor.pieces_of).
    size = upright_size(item.image)
    pieces = None if size is None else layout(size, model_side)
    if pieces is None:
        return [item]
    return [dataclasses.replace(item, crop=box) for box in pieces.boxes()]


def pieces_read(items: list[Item], model_side: int) -> dict[str, int]:
    """How many confirmed photos were trained on in pieces, in how many pieces, and how many
    held back are checked in pieces (the evaluation reads those itself, evaluate.run_model)."""
    from saree_app.model.pieces import read_in_pieces

    trained = Counter(it.image for it in items if it.crop is not None and it.tradition)
    held = sum(
        read_in_pieces(it.image, model_side)
        for it in items
        if it.split == "heldout" and it.tradition
    )
    return {"trained_on": len(trained), "pieces": sum(trained.values()), "held_back": held}


def pieces_note(read: dict[str, int]) -> str | None:
    """What to tell the curator of the confirmed photos read in pieces (`pieces_read`), as the
    app reads them; None when there are none."""
    k, held = read["trained_on"], read["held_back"]
    n = k + held
    if n == 0:
        return None
    said = []
    if k:
        who = "it is" if n == 1 else "they are" if k == n else f"{k} {'is' if k == 1 else 'are'}"
        said.append(
            f"{who} trained on as the app reads {'it' if k == 1 else 'them'}, in "
            f"{read['pieces']} overlapping pieces{' in all' if k > 1 else ''}, each taught as a "
            "photo of its tradition"
        )
    if held:
        who = (
            "it is held back and" if n == 1 else f"{held} held back {'is' if held == 1 else 'are'}"
        )
        said.append(
            f"{who} checked as the app reads {'it' if held == 1 else 'them'}, "
            f"{'its' if held == 1 else 'their'} pieces' answers put together"
        )
    many = f"{n} confirmed photos are" if n > 1 else "1 confirmed photo is"
    return f"{many} far longer than wide (a saree laid out end to end): " + "; ".join(said)


def _default_cache(out: Path) -> Path:
    from saree_app.train.cli import _default_cache as features

    key = hashlib.sha256(str(out.resolve()).encode("utf-8")).hexdigest()[:12]
    return features() / f"catalog-{key}"


def run_catalog(args: argparse.Namespace) -> int:
    """Train, export and evaluate a model from a catalogue's confirmed photos."""
    from saree_app.model.manifest import TRAINED_DIGITS
    from saree_app.paths import models_dir
    from saree_app.train.base import BaseModelError, describe, read_base_model
    from saree_app.train.cli import train_items
    from saree_app.train.data import Item, load_vocabulary, one_per_photo, ontology_attributes

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
    for accession, traditions in found.disagree.items():
        _say(
            f"object {accession}: its photos are confirmed as {' and '.join(traditions)}; "
            "left out until they agree (saree object show, then saree label)"
        )
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
    splits = split(found.usable, found.saree_of)
    args.cache = args.cache or _default_cache(Path(args.out))
    maps, maps_gone = getattr(args, "corrected", None) or ([], [])
    for pid, path in maps_gone:
        _say(f"photo {pid}: its corrected part map is left out: file gone or changed ({path})")
    held_sarees = {found.saree_of(pid) for pid, s in splits.items() if s == "heldout"}
    map_split = split_maps(
        maps, {m.photo_id for m in maps if found.saree_of(m.photo_id) in held_sarees}
    )
    n_train_maps = sum(s == "train" for s in map_split.values())
    tune = n_train_maps >= MIN_PART_MAPS
    masks = write_masks(maps, Path(args.cache) / "part-maps") if tune else {}
    learn = {pid: masks[pid] for pid, s in map_split.items() if s == "train" and tune}
    confirmed = {pid for pid, *_ in found.usable}
    vocab = load_vocabulary()
    items = ontology_attributes(
        [
            Item(image=path, tradition=t, split=splits[pid], mask=learn.get(pid))
            for pid, path, _sha, t in found.usable
        ]
        # A corrected map of a photo not confirmed (or of a tradition left out): the
        # segmentation learns from it, the heads do not (no tradition).
        + [
            Item(image=m.path, tradition="", split="train", mask=learn[m.photo_id])
            for m in maps
            if m.photo_id in learn and m.photo_id not in confirmed
        ],
        vocab,
    )
    held_maps = [
        Item(image=m.path, tradition="", split="heldout", mask=masks[m.photo_id])
        for m in maps
        if tune and map_split[m.photo_id] == "heldout"
    ]
    attributes = sorted({a for it in items for a in it.attributes})
    cfg = base.config
    # Trained on as the app reads them: a long photo's pieces, an item each (all on the
    # photo's side of the split). Photos held back stay whole: the evaluation reads a long
    # one in pieces itself, and scores the answer the app would give for it.
    items = [p for it in items for p in (in_pieces(it, cfg.size) if it.split == "train" else [it])]
    read = pieces_read(items, cfg.size)
    note = pieces_note(read)
    if note is not None:
        _say(note)
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
    args.init_segmentation = None
    if tune:
        # The rows the masks fill: a long photo's pieces each, and the turned copies.
        masked = sum(it.mask is not None for it in items if it.split == "train")
        rows = masked * (2 if args.rotate_augment else 1)
        per_epoch = -(-rows // SEG_BATCH)
        args.seg_epochs = max(SEG_MIN_EPOCHS, -(-SEG_STEPS // per_epoch))
        args.lr, args.batch_size, args.seg_frozen_bn = SEG_LR, SEG_BATCH, True
        _say(
            f"part map: fine-tuned on {n_train_maps} corrected part maps "
            f"({len(held_maps)} held back to check it), {args.seg_epochs} passes"
            + (
                f"; a long photo's map is learnt a piece at a time ({masked} maps and pieces "
                "in all)"
                if masked != n_train_maps
                else ""
            )
        )
    else:
        args.seg_epochs = 0
        _say(f"part map: {_needed(len(maps), n_train_maps)}")
    if args.epochs is None:
        args.epochs = CATALOG_EPOCHS
    args.data = [catalog]
    _fresh_if_maps_changed(
        Path(args.cache),
        args,
        sorted(
            [m.photo_id, m.sha256, _digest(m.labels), map_split[m.photo_id]] for m in maps if tune
        ),
    )
    args.eval = any(it.split == "heldout" for it in items)
    args.base_segmentation = base.segmentation
    args.attributes = attributes
    args.calibrate = False
    args.training_extra = {
        "catalogue": str(catalog),
        # Which confirmed photos the heads were fitted on (their content's sha256, first
        # TRAINED_DIGITS hex digits): teaching, fitted on the confirmed photos, must not take
        # this model's answers on them for what it would say of a new photo
        # (collection.fewshot.fit_teaching).
        "trained_photos": sorted(
            {sha[:TRAINED_DIGITS] for pid, _path, sha, _t in found.usable if splits[pid] == "train"}
        ),
        "base_model": describe(base),
        "heldout_rule": f"one in {HOLD_EVERY} confirmed sarees of each tradition (an object's "
        "photos together), by content hash",
        "part_maps": {
            "fine_tuned": tune,
            "trained_on": n_train_maps if tune else 0,
            "held_back": len(held_maps),
            "minimum": MIN_PART_MAPS,
            "heldout_rule": f"one in {HOLD_EVERY} corrected part maps by content hash, and those "
            "of photos held back for the tradition report",
        },
        "temperature_note": "not calibrated: a curator's catalogue has no validation split "
        "beside the held-back photos the report is about",
    }
    if tune:
        args.training_extra["base_model"]["taken"] = (
            "part segmentation decoder (read back from the .onnx, then fine-tuned on the "
            "corrected part maps), backbone, input size, views and zooms"
        )
    counts = Counter((it.tradition, it.split) for it in one_per_photo(items) if it.tradition)
    _say(
        f"{sum(counts.values())} confirmed photos of {len({t for t, _s in counts})} traditions: "
        f"{sum(n for (_t, s), n in counts.items() if s == 'train')} to train on, "
        f"{sum(n for (_t, s), n in counts.items() if s == 'heldout')} held back for the report"
    )
    status = train_items(items, args)
    if status != 0:
        return status
    model = Path(args.out) / f"{args.name}.json"
    parts: dict[str, Any] = {
        "fine_tuned": tune,
        "corrected": len(maps),
        "trained_on": n_train_maps if tune else 0,
        "held_back": len(held_maps),
        "minimum": MIN_PART_MAPS,
        "left_out": [{"photo": pid, "path": p} for pid, p in maps_gone],
    }
    if tune:
        _say(f"part map: the base model and the new one on {len(held_maps)} held-back maps")
        parts["heldout"] = {
            "base_model": part_figures(base_path, held_maps, args.threads),
            "new_model": part_figures(model, held_maps, args.threads),
        }
    else:
        parts["note"] = _needed(len(maps), n_train_maps)
    write_report(
        model,
        catalog=catalog,
        found=found,
        items=[it for it in items if it.tradition],
        base_path=base_path,
        evaluated=args.eval,
        parts=parts,
        pieces=read,
    )
    print(f"model: {model}")
    print(f"report: {Path(args.out) / 'REPORT.md'}")
    return 0


def _fresh_if_maps_changed(cache: Path, args: argparse.Namespace, maps: list[Any]) -> None:
    """The feature cache and checkpoint know the photos, not their masks: when the corrected
    part maps trained on differ from the last run's in this cache, both start afresh."""
    stamp = cache / "catalogue-part-maps.json"
    try:
        before = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = []  # a cache of a run without part maps (or none yet)
    if before != maps and (cache / "done.npy").is_file():
        _say("the corrected part maps changed since the last run: the photos are read again")
        (cache / "done.npy").unlink()
        args.fresh = True
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(maps) + "\n", encoding="utf-8")


def part_figures(model: Path, items: list[Any], threads: int | None) -> dict[str, Any]:
    """IoU of background, body, border and pallu over the items' masks (the letterboxed photo
    at half the input size, as `saree eval` scores), their part mIoU, and the share of
    background pixels painted as saree, with the model read as the app reads it."""
    import numpy as np

    from saree_app.train.evaluate import OnnxModel, run_model

    res = run_model(OnnxModel(model, threads=threads), items)
    inter, union = np.zeros(4), np.zeros(4)
    background = painted = 0
    n = 0
    for pred, truth in zip(res["seg_pred"], res["masks"], strict=True):
        if truth is None:
            continue
        n += 1
        for k in range(4):
            inter[k] += np.logical_and(pred == k, truth == k).sum()
            union[k] += np.logical_or(pred == k, truth == k).sum()
        background += int((truth == 0).sum())
        painted += int(((truth == 0) & (pred != 0)).sum())
    iou = inter / np.maximum(union, 1)
    return {
        "photos": n,
        "iou": dict(zip(("background", "body", "border", "pallu"), iou.tolist(), strict=True)),
        "part_mIoU": float(iou[1:].mean()),
        "background_as_saree": painted / background if background else None,
    }


def _parts_lines(parts: dict[str, Any]) -> list[str]:
    if not parts.get("fine_tuned"):
        return ["## Part map", "", f"Not retrained: {parts['note']}.", ""]

    def row(name: str, f: dict[str, Any]) -> str:
        bg = f["background_as_saree"]
        return (
            f"| {name} | {f['iou']['body']:.3f} | {f['iou']['border']:.3f} | "
            f"{f['iou']['pallu']:.3f} | {f['part_mIoU']:.3f} | "
            f"{'n/a' if bg is None else f'{100 * bg:.1f}%'} |"
        )

    held = parts["heldout"]
    return [
        "## Part map",
        "",
        f"Fine-tuned from the base model's part map on {parts['trained_on']} photos whose part "
        f"maps you corrected. Checked on the {held['new_model']['photos']} corrected maps held "
        "back (never trained on), for the base model and the new one:",
        "",
        "| model | body IoU | border IoU | pallu IoU | part mIoU | background painted as saree |",
        "|---|---|---|---|---|---|",
        row("base model", held["base_model"]),
        row("new model", held["new_model"]),
        "",
        "With so few maps held back, read differences of a few hundredths as noise.",
        "",
    ]


def write_report(
    model: Path,
    *,
    catalog: Path,
    found: Any,
    items: list[Any],
    base_path: Path,
    evaluated: bool,
    parts: dict[str, Any] | None = None,
    pieces: dict[str, int] | None = None,
) -> None:
    """report.json / REPORT.md: the held-back figures (written by the evaluation) with what the
    catalogue gave, what was left out and why. `items`: a long photo's pieces count once;
    `pieces`: what `pieces_read` found, said when there are any."""
    from saree_app.train.data import one_per_photo

    out = model.parent
    tuned = bool(parts and parts.get("fine_tuned"))
    per = Counter((it.tradition, it.split) for it in one_per_photo(items))
    note = pieces_note(pieces) if pieces else None
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
        "part_maps": parts or {},
    }
    if note is not None:
        section["read_in_pieces"] = pieces
    report_json = out / "report.json"
    report: dict[str, Any] = {}
    if evaluated and report_json.is_file():
        report = json.loads(report_json.read_text(encoding="utf-8"))
    report["catalogue"] = section
    report_json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    lines = [
        "# Retrained from the catalogue",
        "",
        f"Catalogue: `{catalog}`; base model: `{base_path}` (its part segmentation "
        + ("fine-tuned on your corrected part maps)." if tuned else "kept)."),
        f"New model sha256: `{section['model_sha256']}`.",
        "",
        "| tradition | trained on | held back |",
        "|---|---|---|",
        *(f"| {t} | {per[(t, 'train')]} | {per[(t, 'heldout')]} |" for t in traditions),
        "",
    ]
    if note is not None:
        lines += [f"{note}. The table counts photos, not pieces.", ""]
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
    if parts:
        lines += _parts_lines(parts)
    body = (out / "REPORT.md").read_text(encoding="utf-8") if evaluated else ""
    (out / "REPORT.md").write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
