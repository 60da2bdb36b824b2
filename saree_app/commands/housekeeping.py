"""`saree remove / relocate`: take photos out of a catalogue (and back), find moved photos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from saree_app.commands.collection import _catalog_arg, _err, _open, _photo_id


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the housekeeping subcommands."""
    p = sub.add_parser(
        "remove",
        help="take photos out of a catalogue (never off the disk); --undo puts them back",
        description=(
            "Remove photos from the catalogue FILE: their answers, labels, tags, embeddings and "
            "corrected part maps go with them, but the files on disk are not touched. The last "
            "removals are kept beside the catalogue (FILE.removed.json): --undo puts the most "
            "recent one back, with everything it had. Exit status: 0 done, 2 error (then "
            "nothing was changed)."
        ),
    )
    p.add_argument("photos", metavar="PHOTO|ID", nargs="*", help="catalogue ids or photo files")
    _catalog_arg(p)
    p.add_argument("--undo", action="store_true", help="put the last removed photos back")
    p.set_defaults(func=run_remove)

    p = sub.add_parser(
        "relocate",
        help="list photos whose files are missing; find them in a folder they moved to",
        description=(
            "Without DIR, lists the photos whose files are no longer where the catalogue saw "
            "them. With DIR, looks through DIR and its subfolders for those photos (by their "
            "content, so renamed files are found too) and records where they are now. Exit "
            "status: 0 none missing (any more), 1 some still missing, 2 error."
        ),
    )
    p.add_argument("folder", metavar="DIR", nargs="?", type=Path, help="where the photos are now")
    _catalog_arg(p)
    p.set_defaults(func=run_relocate)


def run_remove(args: argparse.Namespace) -> int:
    """Remove photos, or undo the last removal; 0 ok, 2 error."""
    from saree_app.collection import housekeeping as hk
    from saree_app.collection.catalog import CatalogError

    if args.undo and args.photos:
        return _err("remove", "give photos to remove, or --undo, not both")
    if not args.undo and not args.photos:
        return _err("remove", "which photos? give catalogue ids or photo files (or --undo)")
    cat = _open(args, "remove")
    if cat is None:
        return 2
    with cat:
        try:
            if args.undo:
                last = hk.removals(cat)
                restored = hk.undo_removal(cat)
                for line in restored.skipped:
                    print(f"not put back: {line}", file=sys.stderr)
                what = last[-1].describe() if last else "photos"
                print(f"put back {what} ({len(restored.photo_ids)} in the collection again)")
                return 0
            ids: list[int] = []
            for text in args.photos:
                got = _photo_id(cat, text)
                if isinstance(got, str):
                    return _err("remove", f"{got}; nothing was removed")
                ids.append(got)
            removal = hk.remove_photos(cat, ids)
        except CatalogError as exc:
            return _err("remove", str(exc))
    print(
        f"removed {removal.describe()} from {Path(args.catalog).name} (the files stay on "
        "disk); `saree remove --undo` puts them back"
    )
    return 0


def run_relocate(args: argparse.Namespace) -> int:
    """List missing photos, or find them in a folder; 0 none missing, 1 some, 2 error."""
    from saree_app.collection import housekeeping as hk
    from saree_app.collection.catalog import CatalogError

    if args.folder is not None and args.folder.exists() and not args.folder.is_dir():
        return _err(
            "relocate", f"{args.folder}: a file, not a folder; give the folder the photos moved to"
        )
    cat = _open(args, "relocate")
    if cat is None:
        return 2
    with cat:
        missing = hk.missing_photos(cat)
        if args.folder is None:
            for photo in missing:
                print(f"{photo.id}\t{photo.path}")
            n = len(missing)
            print(
                f"{n} photo{'s' if n != 1 else ''} missing"
                + (
                    "; give the folder they moved to: saree relocate DIR --catalog FILE"
                    if n
                    else ""
                ),
                file=sys.stderr,
            )
            return 1 if missing else 0
        if not missing:
            print("no photo is missing; nothing to relocate")
            return 0
        try:
            result = hk.run_relocate(cat, args.folder, photos=missing)
        except CatalogError as exc:
            return _err("relocate", str(exc))
    for pid, path in sorted(result.moved.items()):
        print(f"{pid}\t{path}")
    for photo in result.still_missing:
        print(f"still missing: {photo.id}\t{photo.path}", file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    return 1 if result.still_missing else 0
