"""`saree import / similar / label / fewshot / export / import-labels`: the curator's collection."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saree_app.collection.catalog import Catalog
    from saree_app.collection.traditions import CuratorTradition


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the collection subcommands."""
    p = sub.add_parser(
        "import",
        help="import a folder of photos into a catalogue (resumable)",
        description=(
            "Import every photo under DIR (recursively) into the catalogue FILE: each photo is "
            "classified once and stored with its answer and embeddings. DIR may also be a IIIF "
            "manifest, or a JSON-LD export of a catalogue (saree export --format jsonld): its "
            "photos come in with their records (tradition, certainty, note, tags). Safe to "
            "interrupt and "
            "run again: photos already in are skipped, duplicates (same content) reported. "
            "Exit status: 0 all done, 1 some files could not be used (listed), 2 error."
        ),
    )
    p.add_argument(
        "folder",
        metavar="DIR",
        help="a folder, a IIIF manifest (.json file or http(s) URL), or a .jsonld export",
    )
    _catalog_arg(p, create=True)
    p.add_argument("--model", type=Path, help="model manifest (.json) or .onnx (default: shipped)")
    p.add_argument("--threads", type=int, help="inference threads (default: one per core)")
    p.add_argument(
        "--batch",
        type=int,
        help="photos per inference batch (default 2; more uses more memory, not less time)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run_import)

    p = sub.add_parser(
        "similar",
        help="find the sarees in a catalogue most like a photo",
        description=(
            "Top-K similar sarees: by the cloth as photographed, close up (the default; on real "
            "photos it finds sarees of the same tradition most often), by the whole saree or by "
            "one part as the model sees them (a border like this one). PHOTO is a file "
            "(classified first if it is not in the catalogue) or a catalogue id."
        ),
    )
    p.add_argument("query", metavar="PHOTO|ID")
    _catalog_arg(p)
    _part_arg(p)
    p.add_argument("--top", type=int, default=12, metavar="K", help="how many (default 12)")
    p.add_argument("--tradition", metavar="T", help="only sarees attributed to this tradition")
    p.add_argument("--confirmed", action="store_true", help="only curator-confirmed sarees")
    p.add_argument("--model", type=Path, help="model for a photo not in the catalogue")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=run_similar)

    p = sub.add_parser(
        "label",
        help="confirm, correct, annotate or tag photos in a catalogue; --undo takes it back",
        description=(
            "Record the curator's word on one or more photos, all together or not at all: "
            "--confirm each one's model answer, or give --tradition (a correction, confirmed "
            "unless --certainty says otherwise), a --note, --tag / --untag. A tradition the "
            "model and graph do not know needs --new, optionally with the --state and --region "
            "it comes from and a tradition it resembles (--like); each confirmed photo then "
            "teaches it (see `saree fewshot`). --undo takes back the last labelling made with "
            "this command (the app's Undo takes back its own); the last 100 are remembered "
            "beside the catalogue (FILE.decisions.json)."
        ),
    )
    p.add_argument(
        "photos",
        nargs="*",
        metavar="PHOTO|ID",
        help="catalogue ids, or photo files in it (several: all are labelled alike)",
    )
    _catalog_arg(p)
    p.add_argument("--confirm", action="store_true", help="confirm each photo's model answer")
    p.add_argument("--tradition", metavar="T", help="the tradition (id or label)")
    p.add_argument("--new", action="store_true", help="T is a tradition new to the app")
    p.add_argument("--state", help="with --new: the state the tradition comes from")
    p.add_argument("--region", help="with --new: its cultural region, e.g. 'East India'")
    p.add_argument(
        "--like",
        metavar="KNOWN",
        help="with --new: a tradition the app knows that it resembles (id or label)",
    )
    p.add_argument("--certainty", choices=("confirmed", "probable", "possible"))
    p.add_argument("--note", help="free text (replaces the note)")
    p.add_argument("--tag", action="append", default=[], metavar="TAG")
    p.add_argument("--untag", action="append", default=[], metavar="TAG")
    p.add_argument(
        "--undo", action="store_true", help="take back the last labelling made with this command"
    )
    p.set_defaults(func=run_label)

    p = sub.add_parser(
        "fewshot",
        help="what confirmed photos teach; re-rank the catalogue with it",
        description=(
            "Confirmed photos teach their traditions from the first one: every other photo is "
            "compared with them (the cloth close-up by close-up, where the photos have it), "
            "which sharpens the ranking without retraining, including traditions the model "
            "never saw. Lists them and how reliable teaching has been on them; with --apply "
            "re-ranks every stored answer."
        ),
    )
    _catalog_arg(p)
    p.add_argument("--apply", action="store_true", help="re-rank the stored answers")
    p.add_argument(
        "--model",
        type=Path,
        help="whose stored answers to teach and re-rank, e.g. one retrained with `saree train "
        "--catalog` (default: the catalogue's model)",
    )
    p.set_defaults(func=run_fewshot)

    p = sub.add_parser(
        "model",
        help="the models a catalogue can use: list them, switch to one, or back",
        description=(
            "Lists the shipped model and the models retrained from this catalogue (`saree "
            "train --catalog`), with their held-back accuracy, photos used and date. --use M "
            "makes M the catalogue's model (import, fewshot and the app then use it); --shipped "
            "goes back to the shipped model. The shipped model is never changed."
        ),
    )
    _catalog_arg(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--use", type=Path, metavar="M", help="switch to this model (.json/.onnx)")
    which.add_argument("--shipped", action="store_true", help="switch back to the shipped model")
    p.set_defaults(func=run_model)

    p = sub.add_parser(
        "export",
        help="export a catalogue as CSV or JSON-LD (Dublin Core, Linked Art)",
        description="Export the catalogue; the file is written whole or not at all.",
    )
    _catalog_arg(p)
    p.add_argument("--format", choices=("csv", "jsonld", "annotations"), default="csv", dest="fmt")
    p.add_argument(
        "--model", type=Path, help="model for the part regions of annotations (default: shipped)"
    )
    p.add_argument(
        "--out",
        metavar="F",
        help="output file (default: stdout); for annotations a folder (an existing one, or a "
        "name ending in /) gets one AnnotationPage file per photo, for a IIIF viewer",
    )
    p.add_argument(
        "--base",
        metavar="URL",
        help="annotations: the web address the pages will be published under (their ids)",
    )
    p.set_defaults(func=run_export)

    p = sub.add_parser(
        "import-labels",
        help="read curator labels from a CSV into a catalogue",
        description=(
            "Columns: id, sha256 or path (the photo); tradition, certainty, note, tags. "
            "A tradition the app does not know is written new:Name. Bad rows are reported "
            "with their line numbers; good rows are applied. A CSV from `saree export` reads "
            "back as is. Exit status 1 when some rows were bad."
        ),
    )
    p.add_argument("csv", type=Path, metavar="CSV")
    _catalog_arg(p)
    p.set_defaults(func=run_import_labels)


def _part_arg(p: argparse.ArgumentParser) -> None:
    """--part of `saree similar` and `saree object similar`: what to compare, the default
    chosen by collection/similar.default_part and part_for."""
    p.add_argument(
        "--part",
        choices=("cloth", "whole", "body", "border", "pallu"),
        help="what to compare (default: the cloth, or the whole saree where six confirmed "
        "photos find their traditions better by it, the cloth was not read, or the "
        "collection holds 300,000 photos or more)",
    )


def _catalog_arg(p: argparse.ArgumentParser, *, create: bool = False) -> None:
    p.add_argument(
        "--catalog",
        type=Path,
        required=True,
        metavar="FILE",
        help="the catalogue file" + (" (created if missing)" if create else ""),
    )


def _err(command: str, message: str) -> int:
    print(f"saree {command}: {message}", file=sys.stderr)
    return 2


def _open(args: argparse.Namespace, command: str, *, create: bool = False) -> Catalog | None:
    from saree_app.collection.catalog import Catalog, CatalogError

    try:
        return Catalog(args.catalog, create=create)
    except CatalogError as exc:
        _err(command, _catalogue_words(args.catalog, exc))
        return None


def _catalogue_words(path: Path, exc: Exception) -> str:
    """The core's words for a catalogue that cannot be opened (collection.catalog words an
    empty file, a folder that cannot be written to, a file that is no catalogue), with what
    the command line can add: how a catalogue is made, for an empty file."""
    from saree_app.collection.catalog import EmptyCatalogue

    if isinstance(exc, EmptyCatalogue):
        return f"{exc} (saree import FOLDER --catalog {shlex.quote(str(path))} makes one)"
    return str(exc)


_SQLITE_HEADER = b"SQLite format 3\x00"


def _output_problem(
    out: str | Path, cat: Catalog | None = None, *, text: bool = True
) -> str | None:
    """Why the output file `out` must not be written over, or None.

    Never the catalogue itself or one of its side files, nor a photo it holds, nor any
    catalogue; for a text export (`text`) never a picture either: a mistyped --out must not
    cost the curator their collection. Checked before anything is written."""
    from saree_app.collection import side_files
    from saree_app.imaging import _is_picture

    path = Path(out)
    if cat is not None:
        own = cat.path.absolute()
        with contextlib.suppress(OSError):
            if path.exists() and path.samefile(own):
                return f"{out}: this is the catalogue itself; give another file name"
        with contextlib.suppress(OSError):
            if path.absolute().parent.samefile(own.parent) and side_files.is_side_file(
                own.name, path.name
            ):
                return f"{out}: one of the catalogue's own files; give another file name"
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(32)
    except OSError:
        return None  # the write itself says why it cannot be written
    if head.startswith(_SQLITE_HEADER):
        return f"{out}: this file is a catalogue; give another file name (nothing was written)"
    if cat is not None and _is_picture(head):
        import hashlib

        try:
            photo = cat.photo_by_hash(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            photo = None
        if photo is not None:
            return (
                f"{out}: this is photo {photo.id} of the catalogue; give another file name "
                "(nothing was written)"
            )
    if text and _is_picture(head):
        return f"{out}: this file is a picture; give another file name (nothing was written)"
    return None


def _graph() -> Any:
    try:
        from saree_app.knowledge.graph import load_graph_or_none
    except ImportError:
        return None
    graph, _message = load_graph_or_none()
    return graph


# ---- import -------------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    """Import a folder; progress on stderr; 0 ok, 1 some files unusable, 2 error."""
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.importer import IMPORT_BATCH, import_folder
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    if args.batch is None:
        args.batch = IMPORT_BATCH
    if args.batch < 1 or (args.threads is not None and args.threads < 1):
        return _err("import", "--batch and --threads must be at least 1")
    from saree_app.collection import iiif, records

    exported = records.is_records_source(args.folder)
    manifest = (
        not exported and iiif.is_manifest_source(args.folder) and not Path(args.folder).is_dir()
    )
    if not (manifest or exported) and not Path(args.folder).is_dir():
        what = "does not exist" if not Path(args.folder).exists() else "is not a folder"
        return _err("import", f"{args.folder}: {what}")
    model = args.model
    if model is None:
        from saree_app.collection.models import ModelChoiceError, chosen_model

        try:
            # The catalogue's own model, when it was switched; refused when that cannot be
            # known, rather than answered by the shipped model unasked.
            model = chosen_model(args.catalog, strict=True)
        except ModelChoiceError as exc:
            return _err("import", f"{exc}; nothing was imported")
    try:
        predictor = Predictor(model, threads=args.threads)
    except ModelError as exc:
        return _err("import", f"cannot use the model: {exc}")
    cat = _open(args, "import", create=True)
    if cat is None:
        return 2
    tty = sys.stderr.isatty() and not args.quiet
    started = time.monotonic()
    last = None
    shown = 0.0
    back = None
    try:
        with cat:
            if exported:
                back = records.import_records(cat, args.folder, predictor, batch_size=args.batch)
                steps = back.steps()
            elif manifest:
                steps = iiif.import_manifest(cat, args.folder, predictor, batch_size=args.batch)
            else:
                steps = import_folder(cat, args.folder, predictor, batch_size=args.batch)
            for last in steps:
                if last.waiting and not args.quiet:
                    waiting = "waiting for another import into this catalogue to finish"
                    print(waiting, file=sys.stderr)
                    continue
                now = time.monotonic()
                if not args.quiet and (now - shown > (0.2 if tty else 10) or last.finished):
                    shown = now
                    rate = last.added / max(now - started, 1e-9)
                    line = (
                        f"{last.done}/{last.total}  added {last.added}  already {last.already}"
                        f"  skipped {len(last.skipped)}  {rate:.1f} photos/s"
                    )
                    print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr)
            teaching = cat.teaching_state(predictor.manifest.sha256)
    except KeyboardInterrupt:
        done = last.added if last else 0
        print(
            f"\ninterrupted: {done} photos were added and are safe; run the same command again "
            "to import the rest",
            file=sys.stderr,
        )
        return 130
    except (CatalogError, iiif.IIIFError) as exc:  # records' errors are CatalogErrors
        return _err("import", str(exc))
    if tty:
        print(file=sys.stderr)
    assert last is not None
    if last.total == 0 and back is None and not manifest:
        return _err(
            "import",
            f"{args.folder}: no photos in this folder or its subfolders (.jpg, .png, .tif, "
            ".webp...); nothing was imported",
        )
    elapsed = time.monotonic() - started
    print(
        f"{args.catalog}: {last.added} added, {last.already} already there, "
        f"{len(last.skipped)} skipped, in {elapsed:.1f} s"
    )
    if back is not None:
        n = back.objects_made
        made = f"; {n} object{'' if n == 1 else 's'} made" if back.objects else ""
        print(
            f"{args.folder}: {back.applied} of {len(back.records)} records given back "
            f"(tradition, certainty, note, tags){made}"
        )
    for skip in last.skipped:
        print(f"skipped: {skip.path}: {skip.reason}", file=sys.stderr)
    _teaching_hint(args.catalog, teaching)
    # Duplicates and other kinds of file are reported, but only unusable photos fail the run.
    return 1 if any(s.kind == "bad" for s in last.skipped) else 0


def _teaching_hint(path: Path, state: tuple[int, int, int]) -> None:
    """After an import: how to teach the app, while most of the catalogue's answers are
    flagged and fewer than two traditions are confirmed (`fewshot.needs_teaching` of
    `Catalog.teaching_state`)."""
    from saree_app.collection.fewshot import TEACH_HINT, needs_teaching

    if needs_teaching(*state):
        print(
            f"{TEACH_HINT}\n  confirm: saree label PHOTO --tradition NAME --catalog {path}"
            f"\n  then re-rank the rest: saree fewshot --apply --catalog {path}"
        )


# ---- similar ------------------------------------------------------------------------------


def _other_names(graph: Any) -> Any:
    """The knowledge graph's lookup of a tradition by another of its names (a local name), for
    `new_tradition`; None without a graph."""
    if graph is None:
        return None

    def found(text: str) -> str | None:
        return graph.resolve(text, {"tradition"})

    return found


def _photo_id(cat: Catalog, text: str) -> int | str:
    """A catalogue id from a file (by content, then by path) or an id; or why not. A folder
    that happens to be named like an id does not hide the photo of that id."""
    import hashlib

    path = Path(text)
    if path.is_file():
        try:
            photo = cat.photo_by_hash(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError as exc:
            return f"{path}: cannot be read ({exc.strerror or exc})"
        if photo is None:
            photo = cat.photo_by_path(str(path))
        return photo.id if photo else f"{path}: not in the catalogue"
    if text.isdecimal():  # int() reads every decimal digit ("²" is a digit, not decimal)
        # An id past what the catalogue can store is simply not there (Catalog.photo).
        found = cat.photo(int(text)) is not None
        return int(text) if found else f"no photo with id {text} in {cat.path.name}"
    if path.is_dir():
        return f"{text}: a folder, not a photo; give a photo file or a catalogue id"
    return f"{text}: no such file, and not a catalogue id"


def run_similar(args: argparse.Namespace) -> int:
    """Print the top-K similar photos; 0 ok, 2 error."""
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.similar import NO_CLOTH, default_part, part_for, search
    from saree_app.imaging import shown

    if args.top < 1:
        return _err("similar", "--top must be at least 1")
    cat = _open(args, "similar")
    if cat is None:
        return 2
    with cat:
        sha = cat.latest_model()
        if sha is None:
            return _err("similar", f"{args.catalog} holds no photos yet; run `saree import`")
        tradition = None
        if args.tradition is not None:
            tradition = _tradition_named(cat, _graph(), args.tradition)
            if tradition is None:
                return _err(
                    "similar",
                    f"--tradition {args.tradition}: not a tradition the app or this catalogue "
                    "knows (`saree kg list` shows the app's)",
                )
        found = _photo_id(cat, args.query)
        chosen = args.part or default_part(cat, sha)
        part = chosen
        query: Any
        if isinstance(found, int):
            query = found
            if args.part is None:
                part = part_for(cat, [found], sha, part)
        elif Path(args.query).is_file():
            query, part = _embed_new(args, sha, part)
            if isinstance(query, str):
                return _err("similar", query)
        else:
            return _err("similar", found)
        if part != chosen:
            print(f"similar: {NO_CLOTH}", file=sys.stderr)
        try:
            matches = search(
                cat,
                query,
                part=part,
                k=args.top,
                tradition=tradition,
                confirmed_only=args.confirmed,
                model_sha256=sha,
            )
        except CatalogError as exc:
            return _err("similar", str(exc))
    if args.json:
        print(json.dumps([{**m.__dict__, "path": shown(m.path)} for m in matches], indent=1))
        return 0
    if not matches:
        print("no photo matches the filters")
    for rank, m in enumerate(matches, 1):
        mark = " (confirmed)" if m.confirmed else ""
        print(
            f"{rank:3d}. {m.score:6.3f}  #{m.photo_id:<6d} {m.tradition or '?'}{mark}  "
            f"{shown(m.path)}"
        )
    return 0


def _embed_new(args: argparse.Namespace, sha: str, part: str) -> tuple[Any, str]:
    """(the query's features for `part`, the part) of a photo not in the catalogue, or (a
    message, part); the cloth, unless asked for by name, gives way to the whole saree where
    the cloth model is not installed."""
    from saree_app.imaging import PhotoError
    from saree_app.model.cloth import split
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    try:
        predictor = Predictor(args.model, load_graph=False)
    except ModelError as exc:
        return f"cannot use the model: {exc}", part
    if predictor.manifest.sha256 != sha:
        return (
            "the catalogue was built with another model than "
            f"{predictor.manifest.path}; give that model with --model"
        ), part
    try:
        pred = predictor.predict(Path(args.query))
    except PhotoError as exc:
        return str(exc), part
    if part == "cloth":
        cloth = pred.cloth_embedding
        if cloth is not None:
            return split(cloth)[0], part
        if args.part == "cloth":
            return "the cloth-features model is not installed: compare by --part whole", part
        part = "whole"
    if part == "whole":
        return pred.embedding, part
    return pred.part_embeddings[("body", "border", "pallu").index(part)], part


# ---- label --------------------------------------------------------------------------------


def _known_traditions(cat: Catalog, graph: Any) -> dict[str, str]:
    """Lower-cased id or label -> tradition id, for every tradition the app knows, the
    curator's own included."""
    from saree_app.collection.traditions import TraditionsError, load_traditions

    known: dict[str, str] = {}
    for t in _own_traditions(cat, graph):
        known[t.lower()] = t
        if graph is not None:
            with contextlib.suppress(KeyError, ValueError):
                known[str(graph.label(t)).lower()] = t
    # Added in the app or with --new, whether or not a photo carries it yet; a damaged side
    # file only hides those not on a photo (the labels below still name them).
    with contextlib.suppress(TraditionsError):
        for added in load_traditions(cat.path):
            known.setdefault(added.name.lower(), added.name)
    for lab in cat.labels().values():
        if lab.tradition:
            known.setdefault(lab.tradition.lower(), lab.tradition)
    return known


def _tradition_named(cat: Catalog, graph: Any, text: str) -> str | None:
    """The tradition `text` names (its id, its name or a local name, in any case; or one the
    curator added), or None."""
    found = _known_traditions(cat, graph).get(" ".join(text.split()).lower())
    if found is None and graph is not None:
        found = graph.resolve(text, {"tradition"})
    return found


def _own_traditions(cat: Catalog, graph: Any) -> list[str]:
    """The app's own traditions: the knowledge graph's and the catalogue model's (ids)."""
    own: list[str] = []
    sha = cat.latest_model()
    for t in cat.model_labels(sha) if sha else []:
        own.append(t.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
    if graph is not None:
        own += [t for t in graph.traditions() if t not in own]
    return own


def _namer(graph: Any) -> Callable[[str], str]:
    """A tradition's name as a curator reads it ("Pochampally ikat"), as the window says it."""

    def name(t: str) -> str:
        if graph is not None:
            with contextlib.suppress(KeyError, ValueError):
                return str(graph.label(t))
        return t

    return name


def _label_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options together, before the catalogue is opened; or None."""
    asked = (
        args.confirm
        or args.tradition
        or args.certainty
        or args.note is not None
        or args.tag
        or args.untag
        or args.new
        or args.state is not None
        or args.region is not None
        or args.like is not None
    )
    if args.undo:
        if args.photos or asked:
            return "--undo takes back the last labelling: give it no photos and no other options"
        return None
    if not args.photos:
        return "which photos? give catalogue ids or photo files (or --undo)"
    if args.confirm and args.tradition:
        return "use --confirm (the model's answer) or --tradition, not both"
    if args.new and not args.tradition:
        return "--new needs the tradition's name: --tradition NAME --new"
    described = [
        o
        for o, v in (("--state", args.state), ("--region", args.region), ("--like", args.like))
        if v is not None
    ]
    if described and not args.new:
        one = len(described) == 1
        named = described[0] if one else f"{', '.join(described[:-1])} and {described[-1]}"
        return (
            f"{named} {'describes' if one else 'describe'} a new tradition: "
            f"give {'it' if one else 'them'} with --tradition NAME --new"
        )
    if any(not t.strip() for t in [*args.tag, *args.untag]):
        return "a tag needs a word: --tag '' tags nothing"
    if not (args.confirm or args.tradition or args.certainty or args.note is not None) and not (
        args.tag or args.untag
    ):
        return "nothing to do: give --confirm, --tradition, --note or --tag"
    return None


def run_label(args: argparse.Namespace) -> int:
    """Label photos all together, or undo the last labelling; print the result; 0 ok, 2 error."""
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.traditions import TraditionsError

    problem = _label_problem(args)
    if problem is not None:
        return _err("label", problem)
    cat = _open(args, "label")
    if cat is None:
        return 2
    with cat:
        try:
            if args.undo:
                return _undo_label(cat)
            return _label(cat, args)
        except (CatalogError, TraditionsError) as exc:
            return _err("label", str(exc))


def _label(cat: Catalog, args: argparse.Namespace) -> int:
    """Check every photo and the tradition first, then write all or nothing."""
    from saree_app.collection.decisions import Words, label_photos
    from saree_app.collection.traditions import (
        AlreadyKnown,
        TraditionsError,
        UnknownLike,
        load_traditions,
        new_tradition,
    )
    from saree_app.imaging import shown

    ids: list[int] = []
    bad: list[str] = []
    for text in args.photos:
        got = _photo_id(cat, text)
        if isinstance(got, str):
            bad.append(got)
        elif got not in ids:  # the same photo named twice (by id and by file) is one
            ids.append(got)
    if bad:
        return _err("label", f"{'; '.join(bad)}; nothing was labelled")
    graph = _graph()
    name = _namer(graph)
    chosen: dict[int, str | None] = dict.fromkeys(ids)
    added = None
    if args.confirm:
        for pid in ids:
            pred = cat.prediction(pid)
            if pred is None or not pred.top_tradition:
                return _err(
                    "label", f"photo {pid} has no model answer to confirm; nothing was labelled"
                )
            chosen[pid] = pred.top_tradition
    elif args.tradition and args.new:
        try:
            checked = new_tradition(
                args.tradition,
                args.state or "",
                args.region or "",
                args.like,
                known=_own_traditions(cat, graph),
                label=name,
                # A local name ("Kanjivaram") is the tradition it names.
                other_names=_other_names(graph),
            )
            mine = load_traditions(cat.path)
        except AlreadyKnown as exc:
            if exc.other_name is not None:
                return _err(
                    "label",
                    f"{exc.other_name} is another name of {exc.shown}, a tradition the app "
                    "knows already: label with it without --new; nothing was labelled",
                )
            return _err(
                "label",
                f"{exc.shown} is a tradition the app knows already: label with it without "
                "--new; nothing was labelled",
            )
        except UnknownLike:
            return _err(
                "label",
                f"--like {args.like}: not a tradition the app knows (`saree kg list` shows "
                "them); nothing was labelled",
            )
        except TraditionsError as exc:
            return _err("label", f"{str(exc).rstrip('. ')}; nothing was labelled")
        added = _as_before(checked, args, mine, cat)
        chosen = dict.fromkeys(ids, added.name)
    elif args.tradition:
        tradition = _tradition_named(cat, graph, args.tradition)
        if tradition is None:
            return _err(
                "label",
                f"unknown tradition {args.tradition!r}; to add a tradition new to the "
                "app, repeat with --new",
            )
        chosen = dict.fromkeys(ids, tradition)
    if len(ids) == 1:
        photo = cat.photo(ids[0])
        what = Path(photo.path).name if photo else f"photo {ids[0]}"
    else:
        what = f"{len(ids)} photos"
    doing = "confirming" if args.confirm else "labelling"
    given = set(chosen.values())
    if len(given) == 1 and None not in given:
        what += f" as {name(str(chosen[ids[0]]))}"
    decision = label_photos(
        cat,
        list(chosen.items()),
        f"{doing} {what}",
        certainty=args.certainty,
        note=args.note,
        tag=args.tag,
        untag=args.untag,
        tradition=added,
    )
    if decision.tradition_after is not None:
        t = decision.tradition_after
        # As the app's teaching panel words it: "Odisha, East India; resembles Sambalpuri".
        about = [", ".join(x for x in (t.state, t.region) if x)]
        if t.like:
            about.append(f"resembles {name(t.like)}")
        about = [x for x in about if x]
        how = "added to" if decision.tradition_before is None else "edited in"
        print(f"{t.name} {how} your traditions" + (f" ({'; '.join(about)})" if about else ""))
    for change in decision.photos:
        photo = cat.photo(change.photo_id)
        assert photo is not None
        print(f"#{change.photo_id} {shown(photo.path)}")
        after = change.after
        if after != Words():
            shown_name = name(after.tradition) if after.tradition else "-"
            print(f"  tradition: {shown_name} ({after.certainty or 'no certainty'})")
            if after.note:
                print(f"  note: {after.note}")
        if change.tags_after:
            print(f"  tags: {', '.join(change.tags_after)}")
    print(f"`saree label --undo --catalog {shlex.quote(shown(cat.path))}` takes this back")
    return 0


def _as_before(
    checked: CuratorTradition,
    args: argparse.Namespace,
    mine: list[CuratorTradition],
    cat: Catalog,
) -> CuratorTradition:
    """The new tradition as it will be stored: one the curator added already keeps its name as
    written then (photos labelled with it stay one tradition) and whatever this run does not
    give again; a name already on photos keeps that spelling."""
    from dataclasses import replace

    from saree_app.collection.traditions import named

    folded = checked.name.casefold()
    old = named(mine, checked.name)
    if old is not None:
        return replace(
            old,
            state=checked.state if args.state is not None else old.state,
            region=checked.region if args.region is not None else old.region,
            like=checked.like if args.like is not None else old.like,
        )
    on_photos = next(
        (
            lab.tradition
            for lab in cat.labels().values()
            if lab.tradition and lab.tradition.casefold() == folded
        ),
        None,
    )
    return replace(checked, name=on_photos) if on_photos else checked


def _undo_label(cat: Catalog) -> int:
    """Take back the last labelling `saree label` made on this catalogue and say what."""
    from saree_app.collection.decisions import undo_last

    undone = undo_last(cat)
    if undone is None:
        return _err(
            "label",
            f"nothing to undo: no labelling made with `saree label` on {cat.path.name} is "
            "remembered (the app's own are undone in the app, Ctrl+Z)",
        )
    name = _namer(_graph())
    print(f"undone: {undone.decision.text}")
    for change in undone.restored:
        b = change.before
        was = f"{name(b.tradition)} ({b.certainty or 'no certainty'})" if b.tradition else None
        words = f"back to {was or 'no tradition'}"
        if change.tags_before != change.tags_after:
            words += f"; tags: {', '.join(change.tags_before) or 'none'}"
        print(f"  #{change.photo_id} {change.name}: {words}")
    if undone.tradition:
        print(f"  {undone.tradition}")
    for line in undone.skipped:
        print(f"not undone: {line}", file=sys.stderr)
    return 0


# ---- few-shot -----------------------------------------------------------------------------


def run_fewshot(args: argparse.Namespace) -> int:
    """List the taught traditions and how reliable teaching is; with --apply re-rank answers."""
    from saree_app.collection.fewshot import (
        MIN_CALIBRATION,
        ONE_TRADITION,
        FewShot,
        apply_to_catalog,
        check_words,
        checkable,
        reach,
    )

    sha = _model_sha(args, "fewshot")
    if sha == "":
        return 2
    cat = _open(args, "fewshot")
    if cat is None:
        return 2
    with cat:
        if sha is not None and not cat.predicted_ids(sha):
            return _err(
                "fewshot",
                f"no photo in {args.catalog} has an answer from {args.model or 'its model'} "
                f"yet: classify them with it first (saree import FOLDER --catalog "
                f"{args.catalog} --model MODEL, or switch to it in the app)",
            )
        graph = _graph()
        teach = FewShot.from_catalog(cat, sha, graph=graph)
        rows = teach.summary()
        if not rows:
            print("no confirmed photos yet: confirm some with `saree label ID --confirm`")
            return 0
        measured = teach.reliability if teach.ranks and teach.reliability is not None else None
        for tradition, count, active in rows:
            check = measured.check_of(tradition) if measured is not None else None
            if not active:
                state = f"needs {teach.min_examples - count} more"
            else:
                # As the teaching panel words it (gui/teaching.row_texts).
                words = check_words(count, check)
                state = f"taught; {words[0].lower()}{words[1:]}"
            print(f"{tradition:<24} {count:4d} confirmed  {state}")
        if teach and not teach.ranks:
            print(f"teaching: {ONE_TRADITION}")
        elif teach.reliability is not None:
            print(f"teaching: {teach.reliability.text()}")
            taught = sum(1 for _t, _n, counts in rows if counts)
            print(f"  {reach(taught, teach.reliability.fitted)}")
            sets = teach.reliability.sets
            if sets is not None:
                print(f"answer sets: {sets.text()}")
            else:
                print(
                    f"answer sets: not calibrated on your photos yet (needs {MIN_CALIBRATION} "
                    f"confirmed photos of traditions with two or more; {checkable(rows)} so far); "
                    "until then taught answers are not checked: their percentages are not "
                    "odds, read them as leads"
                )
        if args.apply:
            changed = apply_to_catalog(cat, graph, sha, fewshot=teach, progress=_reranking())
            print(f"re-ranked the catalogue: {changed} answers changed (tradition or flag)")
    return 0


def _reranking() -> Callable[[int, int], None] | None:
    """How far a re-rank has got, on one line of a terminal (a large collection takes seconds
    a thousand photos); nothing when stderr is a file or a pipe."""
    if not sys.stderr.isatty():
        return None

    def say(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\rre-ranking: {done} of {total} answers", end=end, file=sys.stderr, flush=True)

    return say


def _model_sha(args: argparse.Namespace, command: str) -> str | None:
    """The sha256 of --model, else of the model the catalogue was switched to, else None (the
    catalogue's latest); "" after a message when the model cannot be used."""
    from saree_app.collection.models import ModelChoiceError, check_model, chosen_model

    try:
        model = args.model or chosen_model(args.catalog, strict=True)
        if model is None:
            return None
        return check_model(model).sha256
    except ModelChoiceError as exc:
        _err(command, f"cannot use the model: {exc}")
        return ""


def run_model(args: argparse.Namespace) -> int:
    """List the catalogue's models; --use / --shipped switch and remember."""
    from saree_app.collection.models import (
        ModelChoiceError,
        check_model,
        chosen_model,
        find_models,
        remember_model,
    )

    cat = _open(args, "model")
    if cat is None:
        return 2
    with cat:
        if args.use is not None or args.shipped:
            try:
                sha = check_model(args.use).sha256 if args.use is not None else None
                remember_model(args.catalog, args.use)
            except ModelChoiceError as exc:
                return _err("model", f"cannot switch: {exc}; the catalogue keeps its model")
            if sha is None:
                from saree_app.collection.models import shipped_model

                try:
                    sha = check_model(shipped_model()).sha256
                except ModelChoiceError:
                    sha = None
            have = len(cat.predicted_ids(sha)) if sha else 0
            print(
                f"{args.catalog}: now uses "
                f"{'the shipped model' if args.use is None else args.use}; {have} of "
                f"{cat.count()} photos have its answers"
                + (
                    ""
                    if have >= cat.count()
                    else " (the app classifies the rest when it opens the catalogue with it; "
                    f"or saree import FOLDER --catalog {args.catalog})"
                )
            )
            return 0
        current = chosen_model(args.catalog)
        for choice in find_models(args.catalog):
            using = (
                current is None
                if choice.shipped
                else current is not None and current.absolute() == choice.path.absolute()
            )
            mark = "*" if using else " "
            print(f"{mark} {choice.title}: {choice.path}")
            if choice.problem:
                print(f"    cannot be used: {choice.problem}")
            else:
                have = len(cat.predicted_ids(choice.sha256))
                line = choice.summary or "no report"
                print(f"    {line} · {have} of {cat.count()} photos answered")
    return 0


# ---- export and label import --------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    """Write the export (atomically to --out, or to stdout)."""
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.export import export

    if args.base is not None and args.fmt != "annotations":
        return _err("export", "--base is for --format annotations")
    if args.model is not None and args.fmt != "annotations":
        return _err("export", "--model is for --format annotations (its part regions)")
    if args.model is not None:
        from saree_app.collection.models import ModelChoiceError, check_model

        try:
            check_model(args.model)
        except ModelChoiceError as exc:
            return _err("export", f"cannot use the model: {exc}; nothing was written")
    # A name ending in a slash is a folder to make (a Path would drop the slash).
    folder = (
        args.fmt == "annotations"
        and args.out is not None
        and (args.out.endswith(("/", os.sep)) or Path(args.out).is_dir())
    )
    cat = _open(args, "export")
    if cat is None:
        return 2
    with cat:
        problem = None if args.out is None or folder else _output_problem(args.out, cat)
        if problem is not None:
            return _err("export", problem)
        try:
            if folder:
                written = _annotation_pages(cat, args)
                print(
                    f"{args.out}: annotations of {len(written)} photos, one AnnotationPage "
                    "file per photo, for a IIIF viewer"
                )
                return 0
            if args.fmt == "annotations":
                text = _annotations(cat, args)
            else:
                # The graph names traditions and places them in both formats, as the app's
                # exports do (gui.library.Library.export): without it the CSV named them by id
                # and left a confirmed photo's tradition_state and tradition_region empty.
                text = export(cat, args.fmt, args.out, graph=_graph())
        except CatalogError as exc:
            return _err("export", str(exc))
        except OSError as exc:
            return _err("export", f"{args.out}: cannot be written ({exc.strerror or exc})")
        n = cat.count()
    if args.out is None:
        sys.stdout.write(text)
    else:
        print(f"{args.out}: {n} photos exported as {args.fmt}")
    return 0


def _annotations(cat: Catalog, args: argparse.Namespace) -> str:
    """W3C Web Annotations; part regions need the model unless the curator drew every map."""
    from saree_app.collection import annotations
    from saree_app.collection.export import write_atomic

    annotations.check_base(args.base)
    predictor = _part_model(cat, args)
    text = annotations.to_annotations(
        cat,
        part_labels=annotations.part_labels_from(cat, predictor),
        base=args.base,
        graph=_graph(),
    )
    if args.out is not None:
        write_atomic(args.out, text)
    return text


def _annotation_pages(cat: Catalog, args: argparse.Namespace) -> list[Path]:
    """One AnnotationPage file per photo in the folder --out."""
    from saree_app.collection import annotations

    annotations.check_base(args.base)  # before the model looks at any photo
    return annotations.write_pages(
        cat,
        Path(args.out),
        part_labels=annotations.part_labels_from(cat, _part_model(cat, args)),
        base=args.base,
        graph=_graph(),
    )


def _part_model(cat: Catalog, args: argparse.Namespace) -> Any:
    """The model that draws the part regions the curator has not drawn; None (with a message)
    when every map is drawn or the model cannot be used."""
    if len(cat.part_maps()) >= cat.count():
        return None
    from saree_app.collection.models import ModelChoiceError, chosen_model
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    try:
        return Predictor(args.model or chosen_model(args.catalog, strict=True))
    except (ModelError, ModelChoiceError) as exc:
        print(
            f"saree export: part regions left out where the curator drew none: the model "
            f"cannot be used ({exc})",
            file=sys.stderr,
        )
        return None


def run_import_labels(args: argparse.Namespace) -> int:
    """Apply curator labels from CSV; report bad rows by line; 0 ok, 1 bad rows, 2 error."""
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.export import import_labels

    cat = _open(args, "import-labels")
    if cat is None:
        return 2
    with cat:
        known = set(_known_traditions(cat, _graph()).values())
        try:
            result = import_labels(cat, args.csv, known=known)
        except CatalogError as exc:
            return _err("import-labels", str(exc))
    print(f"{args.csv}: {result.applied} rows applied, {len(result.problems)} bad")
    for line, reason in result.problems:
        print(f"{args.csv}:{line}: {reason}", file=sys.stderr)
    return 1 if result.problems else 0
