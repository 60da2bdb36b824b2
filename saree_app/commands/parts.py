"""`saree parts`: see, correct or revert a catalogued photo's part map."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the parts subcommand."""
    p = sub.add_parser(
        "parts",
        help="see, correct or revert a photo's part map (saree region, border, pallu, body)",
        description=(
            "Show whose part map a catalogued photo's part evidence comes from, and that "
            "evidence; or correct it from a mask file (--from-mask), or go back to the model's "
            "own map (--revert). A mask is a grey image with values 0 background, 1 body, "
            "2 border, 3 pallu, or a colour image in the legend colours; any size (it is "
            "stretched over the photo). The answer, the part evidence and the similar-by-part "
            "search follow the correction at once. Exit status: 0 done, 2 error."
        ),
    )
    p.add_argument("photo", metavar="PHOTO", help="the photo: a file in the catalogue or its id")
    p.add_argument("--catalog", type=Path, required=True, metavar="FILE", help="the catalogue")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--from-mask", type=Path, metavar="MASK", help="store this corrected map")
    how.add_argument("--revert", action="store_true", help="back to the model's own part map")
    p.add_argument("--to", type=Path, metavar="PNG", help="also write the map in use as a PNG")
    p.add_argument("--by", help="who corrected it (default: your login name)")
    p.add_argument("--model", type=Path, help="model manifest (.json) or .onnx (default: shipped)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_parts)


def _err(message: str) -> int:
    print(f"saree parts: {message}", file=sys.stderr)
    return 2


def run_parts(args: argparse.Namespace) -> int:
    """0 done, 2 error (one line on stderr)."""
    from saree_app.collection import partmaps
    from saree_app.collection.catalog import Catalog, CatalogError
    from saree_app.commands.collection import _catalogue_words, _output_problem, _photo_id
    from saree_app.imaging import PhotoError
    from saree_app.model import partmap
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    labels = None
    if args.to is not None and args.to.suffix.lower() != ".png":
        return _err(f"--to {args.to}: the map is written as a PNG: give a name ending in .png")
    if args.from_mask is not None:
        problem = _mask_problem(args.from_mask)
        if problem is not None:
            return _err(problem)
        try:
            labels = partmap.read_mask(args.from_mask)
        except partmap.PartMapError as exc:
            return _err(str(exc))
        except OSError as exc:
            return _err(f"{args.from_mask}: cannot be read ({exc.strerror or exc})")
    try:
        cat = Catalog(args.catalog, create=False)
    except CatalogError as exc:
        return _err(_catalogue_words(args.catalog, exc))
    with cat:
        found = _photo_id(cat, args.photo)
        if isinstance(found, str):
            return _err(found)
        if args.to is not None:
            # Before the map is corrected: a --to that cannot be written changes nothing.
            problem = _output_problem(args.to, cat, text=False) or _folder_problem(args.to)
            if problem is not None:
                return _err(f"--to {problem}")
        try:
            predictor = Predictor(args.model, load_graph=labels is not None or not args.json)
        except ModelError as exc:
            return _err(f"cannot use the model: {exc}")
        sha = cat.latest_model()
        if sha is not None and predictor.manifest.sha256 != sha:
            return _err(
                f"the catalogue was built with another model than {predictor.manifest.path}; "
                "give that model with --model"
            )
        try:
            if labels is not None:
                _saved, pred = partmaps.correct(cat, predictor, found, labels, by=args.by)
                done = "corrected part map stored"
            elif args.revert:
                reverted = partmaps.revert(cat, predictor, found)
                if reverted is None:
                    done = "no correction to revert: the model's part map is in use"
                    pred = partmaps.predict(cat, predictor, found)
                else:
                    pred, done = reverted, "back to the model's part map"
            else:
                pred, done = partmaps.predict(cat, predictor, found), ""
        except (PhotoError, CatalogError, partmap.PartMapError) as exc:
            return _err(str(exc))
        current = cat.part_map(found)
    if args.to is not None:
        used = current.labels if current is not None else pred.part_mask_at(pred.photo_size)
        try:
            partmap.to_image(partmap.fit(used)).save(args.to, "PNG")
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            kept = f"; {done[0].lower()}{done[1:]}" if done else ""
            return _err(f"{args.to}: cannot be written ({why}){kept}")
    _report(found, pred, current, done, as_json=args.json, label=predictor.label)
    return 0


def _mask_problem(path: Path) -> str | None:
    """Why the mask file cannot be read as a picture, in the words a photo gets (no such file,
    a folder, empty, not a picture, too large), or None."""
    from PIL import Image

    from saree_app.imaging import MAX_PIXELS, PhotoError, read_photo_file

    try:
        data = read_photo_file(path)
    except PhotoError as exc:
        return f"--from-mask {exc}"
    too_large = (
        f"--from-mask {path}: the mask is larger than the {MAX_PIXELS // 1_000_000} megapixels "
        "the app opens; save it smaller (a mask of any size is stretched over the photo)"
    )
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
    except Image.DecompressionBombError:
        return too_large
    except (OSError, ValueError):
        return None  # read_mask says what is wrong with it
    return too_large if w * h > MAX_PIXELS else None


def _folder_problem(path: Path) -> str | None:
    """Why a file cannot be written at `path` (a folder, or in a folder that is not there)."""
    if path.is_dir():
        return f"{path}: this is a folder; give a file name ending in .png"
    folder = path.absolute().parent
    if not folder.is_dir():
        return f"{path}: the folder {path.parent} does not exist"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{path}: cannot be written here (permission denied); give another place"
    return None


def _report(
    photo_id: int, pred: Any, current: Any, done: str, *, as_json: bool, label: Any
) -> None:
    whose = (
        f"corrected by {current.corrected_by or 'a curator'} on "
        f"{current.updated.replace('T', ' ')[:16]} UTC"
        if current is not None
        else "the model's own"
    )
    if as_json:
        out = {
            "photo_id": photo_id,
            "part_map": "curator" if current is not None else "model",
            "corrected_by": current.corrected_by if current is not None else None,
            "updated": current.updated if current is not None else None,
            "answer": pred.to_dict(top=5),
        }
        print(json.dumps(out, indent=1))
        return
    if done:
        print(done)
    print(f"photo #{photo_id}: part map {whose}")
    print(f"answer: {pred.fused.ranking[0].label} ({pred.fused.ranking[0].probability:.0%})")
    for part in pred.parts:
        best, p = part.ranking[0]
        if part.area <= 0:
            print(f"  {part.part:<7} not in the part map")
            continue
        where = f"{part.area:6.1%} of the photo"
        print(f"  {part.part:<7} {where}   looks most like {label(best)} ({p:.0%})")
    if current is not None and pred.unseen > 0.25:
        print(
            f"  note: {pred.unseen:.0%} of the cloth you marked was background to the model; "
            "it adds little evidence"
        )
