"""`saree object ...`: objects (one saree, an accession number) with their record and photos."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saree_app.commands.collection import (
    _catalog_arg,
    _err,
    _graph,
    _open,
    _output_problem,
    _part_arg,
    _photo_id,
)

if TYPE_CHECKING:
    from saree_app.collection.catalog import Catalog

# Command-line flag -> record field.
_FIELD_FLAGS = {
    "title": "title",
    "source": "source",
    "acquired": "date_acquired",
    "made_from": "made_from",
    "made_to": "made_to",
    "place_acquired": "place_acquired",
    "place_made": "place_made",
    "fibre": "fibre",
    "condition": "condition",
    "notes": "notes",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `saree object` and its subcommands."""
    p = sub.add_parser(
        "object",
        help="objects: one saree under its accession number, its record and its photos",
        description=(
            "An object is one saree: its accession number, its record (title, source or donor, "
            "dates, places, fibre, condition, notes) and the photos that show it, each in a "
            "role (whole, border, pallu, body, reverse, detail). Its answer is fused over its "
            "photos, and the record's fibre and place of acquisition count as evidence. "
            "Exit status: 0 done, 2 error."
        ),
    )
    osub = p.add_subparsers(dest="object_command", metavar="ACTION")

    c = osub.add_parser("create", help="a new object, with its record and photos")
    c.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(c)
    _field_args(c)
    c.add_argument("--photo", action="append", default=[], metavar="ID|FILE", help="a photo")
    c.add_argument(
        "--role", action="append", default=[], metavar="ROLE", help="role of each --photo"
    )
    c.set_defaults(func=run_create)

    s = osub.add_parser("show", help="an object's record and photos")
    s.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(s)
    s.add_argument("--json", action="store_true", help="JSON on stdout")
    s.set_defaults(func=run_show)

    e = osub.add_parser("edit", help="change fields of an object's record ('' clears one)")
    e.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(e)
    _field_args(e)
    e.add_argument("--accession", dest="new_accession", metavar="NEW", help="renumber it")
    e.set_defaults(func=run_edit)

    a = osub.add_parser("add", help="add photos to an object (or change their role)")
    a.add_argument("accession", metavar="ACCESSION")
    a.add_argument("photos", nargs="+", metavar="ID|FILE")
    _catalog_arg(a)
    a.add_argument("--role", help="what the photos show (default: from the file name)")
    a.add_argument("--move", action="store_true", help="take photos from other objects")
    a.set_defaults(func=run_add)

    r = osub.add_parser("remove", help="take photos out of an object (they stay in the catalogue)")
    r.add_argument("accession", metavar="ACCESSION")
    r.add_argument("photos", nargs="+", metavar="ID|FILE")
    _catalog_arg(r)
    r.set_defaults(func=run_remove)

    d = osub.add_parser("delete", help="delete an object's record (its photos stay, ungrouped)")
    d.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(d)
    d.set_defaults(func=run_delete)

    ls = osub.add_parser("list", help="every object, or those a search finds")
    _catalog_arg(ls)
    ls.add_argument(
        "--search", metavar="TEXT", help="words in the record or its places (e.g. Gujarat)"
    )
    ls.set_defaults(func=run_list)

    k = osub.add_parser("classify", help="the object's answer, fused over its photos and record")
    k.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(k)
    k.add_argument("--top", type=int, default=3, metavar="K", help="traditions shown (default 3)")
    k.add_argument("--json", action="store_true", help="JSON on stdout")
    k.set_defaults(func=run_classify)

    f = osub.add_parser("confirm", help="label every photo of an object at once")
    f.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(f)
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--answer", action="store_true", help="confirm the object's fused answer")
    which.add_argument("--tradition", metavar="T", help="the tradition (id or name)")
    f.add_argument("--certainty", choices=("confirmed", "probable", "possible"))
    f.add_argument("--note", help="free text for each photo's label")
    f.set_defaults(func=run_confirm)

    m = osub.add_parser("similar", help="the sarees most like an object, one line per object")
    m.add_argument("accession", metavar="ACCESSION")
    _catalog_arg(m)
    _part_arg(m)
    m.add_argument("--top", type=int, default=12, metavar="K", help="how many (default 12)")
    m.add_argument("--json", action="store_true", help="JSON on stdout")
    m.set_defaults(func=run_similar)

    x = osub.add_parser("export", help="one row per object: its record and answer (CSV or JSON)")
    _catalog_arg(x)
    x.add_argument("--format", choices=("csv", "json"), default="csv", dest="fmt")
    x.add_argument("--out", type=Path, metavar="F", help="output file (default: stdout)")
    x.set_defaults(func=run_export)

    def usage(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)
    _extend_import(sub)


def _extend_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`saree import DIR --objects folder|pattern [--pattern REGEX]`: after the import, group
    the folder's photos into objects. Added here, beside the other object commands, around
    the import command that commands/collection.py defines (registered before this module)."""
    imp = sub.choices.get("import")
    if imp is None:
        return
    imp.add_argument(
        "--objects",
        choices=("folder", "pattern"),
        help="group the photos into objects: one per sub-folder of DIR (its name is the "
        "accession number), or by --pattern on the file names",
    )
    imp.add_argument(
        "--pattern",
        metavar="REGEX",
        help="with --objects pattern: a regular expression with a group named accession and "
        r"optionally one named role, e.g. '(?P<accession>[A-Z]+\d+)_(?P<role>\w+)'",
    )
    plain = imp.get_default("func")

    def run(args: argparse.Namespace) -> int:
        return run_import_grouped(args, plain)

    imp.set_defaults(func=run)


def run_import_grouped(args: argparse.Namespace, plain: Any) -> int:
    """The import as usual, then (with --objects) its photos grouped into objects."""
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError

    mode = getattr(args, "objects", None)
    if mode is None:
        if getattr(args, "pattern", None):
            return _err("import", "--pattern needs --objects pattern")
        status: int = plain(args)
        return status
    if not Path(args.folder).is_dir():
        return _err("import", "--objects groups the photos of a folder; DIR is not a folder")
    if mode == "pattern":
        if not args.pattern:
            return _err("import", "--objects pattern needs --pattern REGEX")
        try:
            objects.compile_pattern(args.pattern)
        except CatalogError as exc:
            return _err("import", str(exc))
    elif args.pattern:
        return _err("import", "--pattern goes with --objects pattern, not --objects folder")
    status = plain(args)
    if status not in (0, 1):
        return status
    cat = _open(args, "import")
    if cat is None:
        return 2
    with cat:
        try:
            done = objects.group_photos(cat, args.folder, mode, args.pattern)
        except CatalogError as exc:
            return _err("import", str(exc))
    print(f"{args.catalog}: {done.summary()}")
    for name in done.elsewhere:
        print(f"not grouped: {name} already shows another object", file=sys.stderr)
    return status


def _field_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--title")
    p.add_argument("--source", help="source or donor")
    p.add_argument("--acquired", metavar="DATE", help="date acquired (1987, 1987-05, 1987-05-17)")
    p.add_argument("--made-from", metavar="DATE", help="made no earlier than (a year or a date)")
    p.add_argument("--made-to", metavar="DATE", help="made no later than (a year or a date)")
    p.add_argument("--place-acquired", metavar="PLACE", help="where it was acquired")
    p.add_argument("--place-made", metavar="PLACE", help="where it was made, when known")
    p.add_argument("--fibre", help="silk, cotton, silk-cotton, ...")
    p.add_argument("--condition")
    p.add_argument("--notes")


def _fields(args: argparse.Namespace) -> dict[str, str | None]:
    return {
        field: getattr(args, flag)
        for flag, field in _FIELD_FLAGS.items()
        if getattr(args, flag, None) is not None
    }


def _photos(cat: Catalog, texts: list[str], command: str) -> list[int] | None:
    ids = []
    for text in texts:
        pid = _photo_id(cat, text)
        if isinstance(pid, str):
            _err(command, pid)
            return None
        ids.append(pid)
    return ids


def _print_object(cat: Catalog, obj: Any) -> None:
    from saree_app.collection import objects
    from saree_app.imaging import shown

    print(obj.accession + (f"  {obj.title}" if obj.title else ""))
    for name in objects.FIELDS:
        if name in ("title", "made_from", "made_to"):
            continue
        value = obj.get(name)
        if name == "place_made" and obj.made():
            print(f"  {'Date made':<17} {obj.made()}")
        if value:
            print(f"  {objects.FIELD_NAMES[name]:<17} {value}")
    if not obj.photos:
        print("  no photos yet (saree object add)")
    for m in obj.photos:
        photo = cat.photo(m.photo_id)
        where = shown(photo.path) if photo else "?"
        print(f"  #{m.photo_id:<5} {objects.ROLE_NAMES.get(m.role, m.role):<16} {where}")


def run_create(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError

    if args.role and len(args.role) != len(args.photo):
        return _err("object create", f"{len(args.photo)} --photo but {len(args.role)} --role")
    cat = _open(args, "object create", create=False)
    if cat is None:
        return 2
    with cat:
        ids = _photos(cat, args.photo, "object create")
        if ids is None:
            return 2
        try:
            obj = objects.create_object(cat, args.accession, _fields(args), ids, args.role or None)
        except CatalogError as exc:
            return _err("object create", str(exc))
        _print_object(cat, obj)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from saree_app.collection import objects

    cat = _open(args, "object show")
    if cat is None:
        return 2
    with cat:
        obj = objects.get_object(cat, args.accession)
        if obj is None:
            return _err("object show", f"no object {args.accession} in {cat.path.name}")
        if args.json:
            print(json.dumps(obj.to_dict(), indent=1, ensure_ascii=False))
        else:
            _print_object(cat, obj)
    return 0


def run_edit(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError

    fields = _fields(args)
    if not fields and args.new_accession is None:
        return _err("object edit", "nothing to change: give a field, e.g. --title or --fibre")
    cat = _open(args, "object edit")
    if cat is None:
        return 2
    with cat:
        try:
            obj = objects.update_object(cat, args.accession, fields, accession=args.new_accession)
        except CatalogError as exc:
            return _err("object edit", str(exc))
        _print_object(cat, obj)
    return 0


def run_add(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError

    cat = _open(args, "object add")
    if cat is None:
        return 2
    with cat:
        ids = _photos(cat, args.photos, "object add")
        if ids is None:
            return 2
        try:
            if args.role:
                roles = [objects.role(args.role)] * len(ids)
            else:
                roles = [
                    objects.guess_role(p.path) if (p := cat.photo(i)) else "whole" for i in ids
                ]
            obj = objects.add_photos(cat, args.accession, ids, roles, move=args.move)
        except CatalogError as exc:
            return _err("object add", str(exc))
        _print_object(cat, obj)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError

    cat = _open(args, "object remove")
    if cat is None:
        return 2
    with cat:
        ids = _photos(cat, args.photos, "object remove")
        if ids is None:
            return 2
        try:
            obj = objects.need_object(cat, args.accession)
            strangers = [i for i in ids if i not in obj.photo_ids]
            if strangers:
                return _err(
                    "object remove", f"photo {strangers[0]} is not one of {obj.accession}'s photos"
                )
            objects.remove_photos(cat, ids)
            _print_object(cat, objects.need_object(cat, obj.id))
        except CatalogError as exc:
            return _err("object remove", str(exc))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError

    cat = _open(args, "object delete")
    if cat is None:
        return 2
    with cat:
        try:
            obj = objects.delete_object(cat, args.accession)
        except CatalogError as exc:
            return _err("object delete", str(exc))
    n = len(obj.photos)
    what = f"its {n} photos stay" if n != 1 else "its photo stays"
    print(
        f"deleted object {obj.accession}; {what} in the catalogue"
        if n
        else f"deleted object {obj.accession} (it had no photos)"
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from saree_app.collection import objects

    cat = _open(args, "object list")
    if cat is None:
        return 2
    with cat:
        if args.search:
            found = objects.find_objects(cat, args.search, _graph())
        else:
            found = objects.all_objects(cat)
        if not found:
            print("no object matches" if args.search else "no objects yet (saree object create)")
        for obj in found:
            place = obj.get("place_acquired") or ""
            n = len(obj.photos)
            print(
                f"{obj.accession:<16} {n} photo{'s' if n != 1 else ' '}  "
                f"{obj.title or ''}{'  (' + place + ')' if place else ''}"
            )
    return 0


def run_classify(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError
    from saree_app.knowledge.words import pct

    if args.top < 1:
        return _err("object classify", "--top must be at least 1")
    cat = _open(args, "object classify")
    if cat is None:
        return 2
    with cat:
        try:
            ans = objects.fuse_object(cat, args.accession, graph=_graph())
        except CatalogError as exc:
            return _err("object classify", str(exc))
    if args.json:
        print(json.dumps(ans.to_dict(args.top), indent=1, ensure_ascii=False))
        return 0
    flag = "  (uncertain)" if ans.uncertain else ""
    print(f"{ans.accession}: {ans.top.label} {pct(ans.top.probability)}{flag}")
    for r in ans.ranking[1 : args.top]:
        print(f"  then {r.label} {pct(r.probability)}")
    if ans.states:
        print(f"  likely state: {ans.states[0][0]} {pct(ans.states[0][1])}")
    for v in ans.photos:
        own = v.tradition or "-"
        print(
            f"  photo #{v.photo_id} ({objects.ROLE_NAMES.get(v.role, v.role)}, "
            f"{v.weight:.0%} of the answer), heard through {v.through}: "
            f"on its own {_name(ans, own)} {pct(v.probability)}"
        )
    for line in ans.record:
        print(f"  record: {line}")
    if ans.disagrees:
        print(f"  record and model disagree: {ans.disagrees}")
    for reason in ans.reasons:
        print(f"  note: {reason}")
    return 0


def _name(ans: Any, tradition: str) -> str:
    for r in ans.ranking:
        if r.tradition == tradition:
            return str(r.label)
    return tradition


def run_confirm(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError
    from saree_app.commands.collection import _tradition_named

    cat = _open(args, "object confirm")
    if cat is None:
        return 2
    with cat:
        graph = _graph()
        try:
            if args.answer:
                tradition = objects.fuse_object(cat, args.accession, graph=graph).top.tradition
            else:
                found = _tradition_named(cat, graph, args.tradition)
                if found is None:
                    return _err(
                        "object confirm",
                        f"unknown tradition {args.tradition!r}; a tradition new to the app is "
                        "added on one photo first (saree label --new)",
                    )
                tradition = found
            ids = objects.confirm_object(
                cat,
                args.accession,
                tradition,
                certainty=args.certainty or "confirmed",
                note=args.note,
            )
        except CatalogError as exc:
            return _err("object confirm", str(exc))
        name = graph.label(tradition) if graph is not None and tradition in graph else tradition
    n = len(ids)
    print(
        f"{args.accession}: {n} photo{'s' if n != 1 else ''} labelled {name} "
        f"({args.certainty or 'confirmed'})"
    )
    return 0


def run_similar(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.similar import NO_CLOTH, default_part, part_for
    from saree_app.imaging import shown

    if args.top < 1:
        return _err("object similar", "--top must be at least 1")
    cat = _open(args, "object similar")
    if cat is None:
        return 2
    with cat:
        try:
            obj = objects.need_object(cat, args.accession)
            sha = cat.latest_model()
            chosen = args.part or default_part(cat, sha)
            part = chosen
            if args.part is None and sha is not None:
                part = part_for(cat, list(obj.photo_ids), sha, part)
                if part != chosen:
                    print(f"object similar: {NO_CLOTH}", file=sys.stderr)
            found = objects.similar_objects(cat, obj, part=part, k=args.top)
        except CatalogError as exc:
            return _err("object similar", str(exc))
    if args.json:
        print(json.dumps([{**m.__dict__, "path": shown(m.path)} for m in found], indent=1))
        return 0
    if not found:
        print("nothing to compare with yet")
    for rank, m in enumerate(found, 1):
        who = f"object {m.accession}" if m.accession else f"photo #{m.photo_id}"
        title = f" {m.title}" if m.title else ""
        mark = " (confirmed)" if m.confirmed else ""
        print(
            f"{rank:>2}. {who}{title}  {m.score:.2f}  {m.tradition or '-'}{mark}  {shown(m.path)}"
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from saree_app.collection import objects
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.export import write_atomic

    cat = _open(args, "object export")
    if cat is None:
        return 2
    with cat:
        problem = None if args.out is None else _output_problem(args.out, cat)
        if problem is not None:
            return _err("object export", problem)
        graph = _graph()
        count = len(objects.all_objects(cat))
        text = objects.to_csv(cat, graph) if args.fmt == "csv" else objects.to_json(cat, graph)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomic(args.out, text)
    except CatalogError as exc:
        return _err("object export", str(exc))
    except OSError as exc:
        return _err("object export", f"{args.out}: cannot write ({exc.strerror or exc})")
    print(f"{args.out}: {count} object{'s' if count != 1 else ''} written")
    return 0
