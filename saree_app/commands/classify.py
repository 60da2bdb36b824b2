"""`saree classify PHOTO|FOLDER ...`: explained provenance answers on the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# One way to word a percentage, an answer set and a doubt: the photo page's and the export's.
from saree_app.knowledge.words import curators_own, pct, plain_reason, why_lines

if TYPE_CHECKING:
    from saree_app.collection.catalog import Catalog
    from saree_app.collection.fewshot import AnswerSets, FewShot
    from saree_app.knowledge.graph import TextileGraph
    from saree_app.model.predict import Prediction, Predictor

# As the importer's (collection.importer.PHOTO_SUFFIXES), kept here so `saree --help` stays light.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif"}
PHOTO_SUFFIXES |= {".avif", ".heic", ".heif"}  # AVIF is read; HEIC is named as unsupported


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `saree classify`."""
    p = sub.add_parser(
        "classify",
        help="say where sarees in photos come from, and why",
        description=(
            "Classify saree photos: the most likely traditions with confidence, their state and "
            "cultural region, the evidence behind the answer, and whether it is uncertain. "
            "Folders are searched recursively for photos. Exit status: 0 all photos done, "
            "1 some could not be read (reported on stderr, skipped), 2 usage or model error."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PHOTO|FOLDER", type=Path)
    p.add_argument("--top", type=int, default=3, metavar="K", help="traditions shown (default 3)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON document (a list) on stdout")
    fmt.add_argument("--csv", action="store_true", help="one CSV row per photo on stdout")
    p.add_argument(
        "--overlays",
        type=Path,
        metavar="DIR",
        help="write <photo>.parts.png and <photo>.heatmap.png into DIR",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        metavar="FILE",
        help="answer as this collection's teaching does: its confirmed photos re-rank the "
        "answer, and its answer sets, once checked on them, are stated (its stored answers "
        "are not changed)",
    )
    p.add_argument("--model", type=Path, help="model manifest (.json) or .onnx (default: shipped)")
    p.add_argument("--threads", type=int, help="inference threads (default: one per core)")
    p.add_argument(
        "--batch",
        type=int,
        default=1,
        help="photos per inference batch (default 1: fastest on a small CPU, where a batch's "
        "activations overflow the cache; try 8 or more on a GPU)",
    )
    p.set_defaults(func=run)


def _expand(paths: list[Path], errors: list[str]) -> list[Path]:
    """Files as given; folders searched recursively for photos (masks and others skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            photos = sorted(
                f
                for f in path.rglob("*")
                # Not is_file(): a pipe or a looping link named .jpg is said, not passed over.
                if not f.is_dir()
                and f.suffix.lower() in PHOTO_SUFFIXES
                and not f.name.lower().endswith(".mask.png")
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
            )
            if not photos:
                errors.append(f"{path}: no photos in this folder")
            found += photos
        elif path.exists() or path.is_symlink():
            found.append(path)  # the reader says what is wrong with a broken or looping link
        else:
            errors.append(f"{path}: no such file or folder")
    return found


@dataclass
class _Teaching:
    """A collection's teaching, as `--catalog` applies it to each photo (the photo page's)."""

    catalog: Catalog
    fewshot: FewShot
    sets: AnswerSets | None  # calibrated on the confirmed photos; None: not yet
    taught: int  # traditions the confirmed photos that teach are of
    examples: int  # confirmed photos that teach
    checkable: int  # of them, those with another of their tradition confirmed
    fewshot_model: str = ""  # the model the answers are read with (its sha256)
    confirmed_features: dict[str, list[tuple[int, Any]]] | None = None  # read when first needed

    def apply(self, pred: Prediction, path: Path, graph: TextileGraph | None) -> Prediction:
        """The photo at `path` answered as the collection's browser and export answer it."""
        from saree_app.collection.fewshot import refuse_photo
        from saree_app.model.manifest import sha256_of

        try:
            known = self.catalog.photo_by_hash(sha256_of(path))
        except OSError:
            known = None
        # A photo of the collection is scored without itself when it is one of the examples.
        result: Prediction = refuse_photo(
            pred,
            graph,
            self.fewshot,
            self.catalog,
            known.id if known else None,
            examples=self._confirmed_features(),
        )
        return result

    def _confirmed_features(self) -> dict[str, list[tuple[int, Any]]]:
        """The confirmed photos' features, read once for the whole folder."""
        if self.confirmed_features is None:
            from saree_app.collection.fewshot import confirmed_examples

            sha = self.fewshot_model or None
            self.confirmed_features = confirmed_examples(self.catalog, sha, self.fewshot.parts)
        return self.confirmed_features

    def stated_set(self, pred: Prediction) -> dict[str, object]:
        """The answer set as the collection states it, in the catalogue's stored form."""
        if self.sets is None:
            own = dict(pred.to_dict(top=1)["answer_set"])
            if pred.is_taught():
                own["taught"] = True  # taught evidence nothing has checked: no level claimed
            return own
        return self.sets.stored_set([r.tradition for r in pred.fused.ranking])


def _open_teaching(path: Path, predictor: Predictor) -> _Teaching | str:
    """The collection's teaching for this model, or why it cannot be used (one line)."""
    from saree_app.collection.catalog import Catalog, CatalogError
    from saree_app.collection.fewshot import FewShot, checkable

    if path.is_dir():
        return f"{path}: a folder, not a catalogue (give the catalogue's .saree file)"
    if not path.is_file():
        return f"{path}: no such catalogue"
    try:
        catalog = Catalog(path, create=False)
    except CatalogError as exc:
        from saree_app.commands.collection import _catalogue_words

        return _catalogue_words(path, exc)
    try:
        fewshot = FewShot.from_catalog(catalog, predictor.manifest.sha256, graph=predictor.graph)
    except (CatalogError, ValueError, OSError) as exc:
        catalog.close()
        return f"{path}: its teaching cannot be read ({exc})"
    rows = fewshot.summary()
    rel = fewshot.reliability
    return _Teaching(
        catalog,
        fewshot,
        rel.sets if rel is not None else None,
        sum(1 for _t, n, active in rows if active and n),
        sum(n for _t, n, _a in rows),
        checkable(rows),
        str(predictor.manifest.sha256),
    )


def _human(
    pred: Prediction,
    top: int,
    out: TextIO,
    graph: TextileGraph | None,
    extra: list[str],
    *,
    teaching: _Teaching | None = None,
) -> None:
    w, h = pred.photo_size
    out.write(f"{pred.source}  ({w} x {h})\n")
    ranking = pred.fused.ranking[:top]

    def label_of(term: str) -> str:
        """A tradition as the ranking names it; a motif, weave or fibre as the graph does."""
        named = _label_of(pred, term)
        if named == term and graph is not None:
            with contextlib.suppress(KeyError, ValueError):
                return str(graph.label(term))
        return named

    for k, r in enumerate(ranking, 1):
        region = _region_line(graph, r.tradition)
        own = curators_own(r)
        if own:
            known = "  [taught by you: neither the model nor the knowledge graph knows it]"
        elif not r.known_to_model:
            known = "  [not in the model: from graph evidence]"
        else:
            known = ""
        out.write(f"  {k}. {r.label:<24} {pct(r.probability):>5}{region}{known}\n")
        if k == 1:
            # The photo page's "Why" list, in its words and marks (what speaks for the answer,
            # what against it); the fusion's figures stay in --json.
            why = why_lines(
                r.evidence, r.label, label_of, own=own, spread=float(pred.fused.spread), most=4
            )
            for sign, line in why:
                out.write(f"       {'▲' if sign > 0 else '▼'} {line}\n")
            if why:
                out.write("       (▲ speaks for it, ▼ against it)\n")
    visual = ", ".join(f"{_label_of(pred, t)} {pct(p)}" for t, p in pred.visual[:top])
    # Named as the reasons name it ("on the picture alone"): its figures differ from the ranking's.
    out.write(f"  visual only: {visual} (on the picture alone, before the knowledge graph)\n")
    if pred.fused.states:
        states = ", ".join(f"{s.label} {pct(s.probability)}" for s in pred.fused.states[:top])
        out.write(f"  state: {states}\n")
    if pred.fused.cultural_regions:
        regions = ", ".join(
            f"{s.label} {pct(s.probability)}" for s in pred.fused.cultural_regions[:top]
        )
        out.write(f"  cultural region: {regions}\n")
    found = [a for a in pred.attributes if a.probability >= 0.5][:6]
    if found:
        out.write("  seen: " + ", ".join(f"{a.label} ({pct(a.probability)})" for a in found) + "\n")
    parts = ", ".join(f"{p.part} {p.area:.0%}" for p in pred.parts)
    out.write(f"  parts found: {parts}\n")
    from saree_app.model.pieces import read_words

    read = read_words(getattr(pred, "pieces", 1), pred.photo_size)
    if read is not None:
        out.write(f"  {read}\n")
    head, how = _answer_set_lines(pred, teaching)
    out.write(f"  could be: {head}\n    {how}\n")
    if pred.uncertain:
        out.write("  uncertain because:\n")
        for reason in pred.uncertain_reasons:
            out.write(f"    - {plain_reason(reason)}\n")
    for line in extra:
        out.write(f"  {line}\n")
    out.write("\n")


def _answer_set_lines(pred: Prediction, teaching: _Teaching | None = None) -> tuple[str, str]:
    """The answer set's headline and how it was reckoned, as the photo page words them: the
    model's own set, or with --catalog the collection's, checked on its confirmed photos."""
    from saree_app.collection.fewshot import set_words

    head, how = set_words(
        pred,
        lambda t: _label_of(pred, t),
        teaching.sets if teaching is not None else None,
        taught=teaching.taught if teaching is not None else 0,
        examples=teaching.examples if teaching is not None else 0,
        checkable=teaching.checkable if teaching is not None else None,
        checks=_checks_of(teaching),
    )
    # After the label "could be:", the headline's own "Could be any of 12 ..." would repeat it.
    return head.removeprefix("Could be "), how


def _checks_of(teaching: _Teaching | None) -> tuple[Any, ...]:
    """Each taught tradition's check on its own confirmed photos, as the teaching panel has it
    (none until teaching is measured)."""
    rel = teaching.fewshot.reliability if teaching is not None else None
    return tuple(rel.by_tradition) if rel is not None and rel.fitted else ()


def _label_of(pred: Prediction, term: str) -> str:
    for r in pred.fused.ranking:
        if r.tradition == term:
            return str(r.label)
    return term


def _region_line(graph: TextileGraph | None, tradition: str) -> str:
    if graph is None:
        return ""
    try:
        chain = [graph.label(t) for t in graph.region_chain(tradition)]
    except (KeyError, ValueError):
        return ""
    return f"   {' > '.join(chain)}" if chain else ""


CSV_FIELDS = (
    "file",
    "tradition",
    "label",
    "probability",
    "confidence",
    "state",
    "cultural_region",
    "uncertain",
    "reasons",
    "visual_top",
    "visual_probability",
    "ranking",
    "answer_set",
)


def _csv_row(
    pred: Prediction, top: int, graph: TextileGraph | None, teaching: _Teaching | None = None
) -> dict[str, str]:
    # As `saree export --format csv` writes its answer_set column, from the same stored form.
    from saree_app.collection.export import _answer_set_words as answer_set_cell
    from saree_app.collection.export import likely_place

    best = pred.fused.ranking[0]
    # One place, as the export's likely_state and likely_cultural_region: the likeliest state
    # and the region it lies in (the region roll-up's first may be another region).
    state, region = likely_place(
        graph,
        [{"region": s.region, "label": s.label} for s in pred.fused.states],
        [r.tradition for r in pred.fused.ranking],
        teaching.fewshot.places if teaching is not None else None,
    )
    return {
        "file": pred.source,
        "tradition": best.tradition,
        "label": best.label,
        "probability": f"{best.probability:.4f}",
        "confidence": pct(best.probability),
        "state": state or "",
        "cultural_region": region or "",
        "uncertain": "yes" if pred.uncertain else "no",
        "reasons": " | ".join(plain_reason(r) for r in pred.uncertain_reasons),
        "visual_top": pred.visual[0][0],
        "visual_probability": f"{pred.visual[0][1]:.4f}",
        "ranking": "; ".join(
            f"{r.tradition}={r.probability:.4f}" for r in pred.fused.ranking[:top]
        ),
        "answer_set": answer_set_cell(graph, _stated_set(pred, teaching), len(pred.fused.ranking))
        or "",
    }


def _stated_set(pred: Prediction, teaching: _Teaching | None) -> dict[str, object]:
    if teaching is None:
        return dict(pred.to_dict(top=1)["answer_set"])
    return teaching.stated_set(pred)


def run(args: argparse.Namespace) -> int:
    """Classify every photo; report failures on stderr; 0 ok, 1 some failed, 2 usage/model."""
    from saree_app import spreadsheet
    from saree_app.imaging import PhotoError
    from saree_app.model.manifest import ModelError
    from saree_app.model.overlays import write_overlays
    from saree_app.model.predict import Predictor

    for flag, value in (("--top", args.top), ("--threads", args.threads), ("--batch", args.batch)):
        if value is not None and value < 1:
            print(f"saree classify: {flag} must be at least 1", file=sys.stderr)
            return 2
    try:
        predictor = Predictor(args.model, threads=args.threads)
    except ModelError as exc:
        print(f"saree classify: cannot use the model: {exc}", file=sys.stderr)
        return 2
    if predictor.graph_message:
        print(f"note: {predictor.graph_message}; showing the visual ranking only", file=sys.stderr)
    if args.overlays is not None:
        try:
            args.overlays.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(
                f"saree classify: --overlays {args.overlays}: cannot make this folder "
                f"({exc.strerror or exc})",
                file=sys.stderr,
            )
            return 2
        if not os.access(args.overlays, os.W_OK):
            print(
                f"saree classify: --overlays {args.overlays}: this folder cannot be written to "
                "(permission denied); give another folder",
                file=sys.stderr,
            )
            return 2
    teaching: _Teaching | None = None
    if args.catalog is not None:
        opened = _open_teaching(args.catalog, predictor)
        if isinstance(opened, str):
            print(f"saree classify: --catalog {opened}", file=sys.stderr)
            return 2
        teaching = opened
        if not teaching.fewshot.ranks:
            print(
                f"note: {args.catalog} teaches nothing yet for this model (confirm photos of "
                "two traditions or more); answers are the model's own",
                file=sys.stderr,
            )
    errors: list[str] = []
    files = _expand(list(args.paths), errors)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    failed = bool(errors)
    out = sys.stdout
    rows: list[dict[str, object]] = []
    writer = None
    if args.csv:
        writer = spreadsheet.writer(out)
        writer.writerow(CSV_FIELDS)
    stems = _overlay_stems(files)
    try:
        # Answers alone: the close-ups teaching compares are not read (a third of the time),
        # unless --catalog's teaching compares them.
        # Teaching compares the cloth's close-ups: read with --catalog, when it teaches.
        compare = teaching is not None and bool(teaching.fewshot.ranks)
        for path, result in predictor.predict_many(files, batch_size=args.batch, cloth_now=compare):
            if isinstance(result, PhotoError):
                print(f"error: {result}", file=sys.stderr)
                failed = True
                continue
            pred = result if teaching is None else teaching.apply(result, path, predictor.graph)
            extra: list[str] = []
            if args.overlays is not None:
                try:
                    written = write_overlays(pred, args.overlays, stems[path])
                except OSError as exc:
                    why = exc.strerror or exc
                    print(f"error: {path}: overlays not written ({why})", file=sys.stderr)
                    failed = True
                else:
                    extra.append("overlays: " + ", ".join(str(p) for p in written))
            if args.json:
                answer = pred.to_dict(top=args.top)
                answer["answer_set"] = _stated_set(pred, teaching)
                rows.append(answer)
            elif writer is not None:
                row = _csv_row(pred, args.top, predictor.graph, teaching)
                writer.writerow([spreadsheet.cell(row[f]) for f in CSV_FIELDS])
            else:
                _human(pred, args.top, out, predictor.graph, extra, teaching=teaching)
            out.flush()
        if args.json:
            json.dump(rows, out, indent=1, ensure_ascii=False)
            out.write("\n")
            out.flush()
    except BrokenPipeError:
        # The reader went away (`saree classify ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1 if failed else 0
    finally:
        if teaching is not None:
            teaching.catalog.close()
    return 1 if failed else 0


def _overlay_stems(files: list[Path]) -> dict[Path, str]:
    """File name stems for overlays; photos sharing a stem get their folder's name in front."""
    count: dict[str, int] = {}
    for f in files:
        count[f.stem] = count.get(f.stem, 0) + 1
    stems: dict[Path, str] = {}
    seen: dict[str, int] = {}
    for f in files:
        if count[f.stem] == 1:
            stems[f] = f.stem
        else:
            # Two photos both called IMG_0001.jpg must not overwrite each other's overlays.
            seen[f.stem] = seen.get(f.stem, 0) + 1
            stems[f] = f"{f.parent.name}_{f.stem}_{seen[f.stem]}"
    return stems
