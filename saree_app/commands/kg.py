"""`saree kg list|show|validate|export`: browse, check and export the textile knowledge graph."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from saree_app.knowledge.graph import TextileGraph


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `saree kg` and its subcommands."""
    p = sub.add_parser(
        "kg",
        help="browse, validate and export the textile knowledge graph",
        description="The textile knowledge graph: traditions, regions, motifs, weaves, sources.",
    )
    p.add_argument(
        "--ontology",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of Turtle files (default: the bundled ontology)",
    )
    kg = p.add_subparsers(dest="kg_command", metavar="ACTION")
    kg.add_parser("list", help="list the traditions").set_defaults(func=_list)
    show = kg.add_parser("show", help="every fact about one tradition, with sources")
    show.add_argument("tradition", help="id, name or local name, e.g. Kanchipuram or Kanjivaram")
    show.set_defaults(func=_show)
    kg.add_parser("validate", help="check the ontology files").set_defaults(func=_validate)
    exp = kg.add_parser("export", help="write the whole graph as JSON-LD or Turtle")
    exp.add_argument(
        "--format",
        choices=("jsonld", "ttl"),
        default=None,
        help="default: as the --output file name ends (.jsonld or .json: jsonld), else ttl",
    )
    exp.add_argument("-o", "--output", type=Path, default=None, help="file (default: stdout)")
    exp.set_defaults(func=_export)
    p.set_defaults(func=lambda _args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _load(args: argparse.Namespace) -> TextileGraph | None:
    from saree_app.knowledge.graph import load_graph_or_none

    if args.ontology is not None and args.ontology.is_file():
        print(
            f"Knowledge graph not loaded: --ontology {args.ontology} is a file; give the folder "
            "of Turtle (.ttl) files",
            file=sys.stderr,
        )
        return None
    graph, message = load_graph_or_none(args.ontology)
    if graph is None:
        print(message, file=sys.stderr)
        print("Run `saree kg validate` to list every problem.", file=sys.stderr)
    return graph


def _list(args: argparse.Namespace) -> int:
    graph = _load(args)
    if graph is None:
        return 1
    rows = []
    for t in graph.traditions():
        state = graph.state_of(t)
        region = graph.cultural_region_of(t)
        gi = graph.card(t).gi
        gi_text = "GI" if gi is not None and gi.registered and gi.confirmed else "-"
        if gi is not None and not gi.confirmed:
            gi_text = "GI?"
        rows.append(
            (
                t,
                graph.label(t),
                graph.label(state) if state else "",
                graph.label(region) if region else "",
                gi_text,
                str(len(graph.attributes_of(t))),
            )
        )
    head = ("id", "name", "state", "region", "GI", "attributes")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"{len(rows)} traditions")
    return 0


def _show(args: argparse.Namespace) -> int:
    import difflib

    graph = _load(args)
    if graph is None:
        return 1
    t = graph.resolve(args.tradition, {"tradition"})
    if t is None:
        by_name = {graph.label(x).casefold(): x for x in graph.traditions()}
        by_name.update({x.casefold(): x for x in graph.traditions()})
        close_keys = difflib.get_close_matches(args.tradition.casefold(), by_name, n=6, cutoff=0.5)
        close = list(dict.fromkeys(by_name[k] for k in close_keys))[:3]
        hint = f" Did you mean: {', '.join(close)}?" if close else " See `saree kg list`."
        print(
            f"No tradition called {args.tradition!r} in the knowledge graph.{hint}", file=sys.stderr
        )
        return 1
    card = graph.card(t)
    print(f"{card.label}  [{card.id}]")
    if card.local_names:
        print(f"  also called: {', '.join(card.local_names)}")
    chain = " -> ".join(
        r.label
        + (
            f" ({r.latitude:.2f}, {r.longitude:.2f})"
            if r.latitude is not None and r.longitude is not None
            else ""
        )
        for r in card.region_chain
    )
    print(f"  from: {chain}   [{', '.join(card.record_sources)}]")
    print(
        f"  fibres: {', '.join(f.label for f in card.fibres)}   [{', '.join(card.record_sources)}]"
    )
    if card.gi is not None:
        gi = card.gi
        facts = gi_facts(gi)
        if not gi.registered or not gi.registered_on:
            facts.insert(0, "registered" if gi.registered else "not registered")
        if not gi.confirmed:
            facts[0] += " (not confirmed)"
        if gi.note:
            facts.append(gi.note)
        print(f"  GI: {'; '.join(facts)}   [{', '.join(gi.sources)}]")
        if gi.disagreement:
            print(f"    sources disagree: {gi.disagreement}")
    if card.note:
        print(f"  note: {card.note}")
    why = graph.disagreement(t)
    if why:
        print(f"  sources disagree: {why}")
    linked = [(card.label, graph.links_of(t))]
    linked += [(r.label, graph.links_of(r.id)) for r in card.region_chain]
    linked += [(f.label, graph.links_of(f.id)) for f in card.fibres]
    linked += [(a.label, graph.links_of(a.term)) for a in card.attributes]
    shown = [(name, links) for name, links in linked if links]
    if shown:
        print("  shared vocabularies:")
        for name, links in shown:
            for k in links:
                how = "same as" if k.match == "exact" else "close to"
                print(f"    {name}: {how} {k.vocabulary} {k.identifier} ({k.label}) <{k.url}>")
    print("  attributes (typicality, shown on):")
    for a in card.attributes:
        local = f" ({', '.join(a.local_names)})" if a.local_names else ""
        flag = "" if a.confirmed else "  not confirmed"
        parts = "/".join(a.shown_on) or "-"
        print(
            f"    {a.typicality:4.2f}  {a.kind:7s} {a.label}{local}  on {parts}"
            f"   [{', '.join(a.sources)}]{flag}"
        )
        if a.disagreement:
            print(f"          sources disagree: {a.disagreement}")
    similar = graph.similar_traditions(t, 3)
    if similar:
        print("  similar: " + ", ".join(f"{graph.label(o)} ({s:.2f})" for o, s in similar))
    print("  sources:")
    for s in card.sources:
        print(f"    [{s.id}] {s.citation()}")
    return 0


def gi_facts(gi: object) -> list[str]:
    """The GI fields that are known, each saying what it is."""
    out = []
    application = getattr(gi, "application", None)
    if application:
        out.append(f"application no. {application}")
    filed = getattr(gi, "filed", None)
    if filed:
        out.append(f"filed {filed}")
    registered_on = getattr(gi, "registered_on", None)
    if registered_on:
        out.append(f"registered {str(registered_on).replace('/', '-')}")
    certificate = getattr(gi, "certificate", None)
    if certificate:
        out.append(f"certificate no. {certificate}")
    proprietor = getattr(gi, "proprietor", None)
    if proprietor:
        out.append(f"registered proprietor: {proprietor}")
    return out


def _validate(args: argparse.Namespace) -> int:
    import time

    from saree_app.knowledge.graph import TextileGraph

    t0 = time.perf_counter()
    problems = TextileGraph.check(args.ontology)
    ms = (time.perf_counter() - t0) * 1000
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''}", file=sys.stderr)
        return 1
    graph = TextileGraph.load(args.ontology)
    links = sum(len(graph.attributes_of(t)) for t in graph.traditions())
    print(
        f"ok: {len(graph.traditions())} traditions, {links} attribute links, "
        f"{len(graph.attributes())} attributes, {len(graph.regions())} regions; "
        f"loaded and validated in {ms:.0f} ms"
    )
    sources = graph.sources()
    with_url = sum(1 for s in sources if s.url)
    notes = sum(1 for s in sources if s.project_note)
    print(
        f"sources: {len(sources)} ({with_url} with a web address, "
        f"{len(sources) - with_url - notes} printed with full details, {notes} project notes)"
    )
    vocab: dict[str, int] = {}
    for term_links in graph.all_links().values():
        for k in term_links:
            vocab[k.vocabulary] = vocab.get(k.vocabulary, 0) + 1
    print(
        "links to shared vocabularies: "
        + (", ".join(f"{n} {v}" for v, n in sorted(vocab.items())) or "none")
    )
    counts = graph.notes_only_counts()
    if any(counts.values()):
        print(
            "resting only on project notes (shown as not confirmed): "
            f"{counts.get('tradition', 0)} tradition facts, {counts.get('region', 0)} regions, "
            f"{counts.get('vocabulary', 0)} vocabulary terms"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from saree_app.collection.catalog import CatalogError
    from saree_app.collection.export import write_atomic
    from saree_app.commands.collection import _output_problem

    out: Path | None = args.output
    fmt = args.format
    if fmt is None:
        fmt = "jsonld" if out is not None and out.suffix.lower() in (".jsonld", ".json") else "ttl"
    if out is not None:
        # Never over a catalogue or a photo: a mistyped -o must not cost the curator anything.
        problem = _output_problem(out)
        if problem is None and out.is_dir():
            problem = f"{out}: this is a folder; give a file name"
        if problem is None and not out.absolute().parent.is_dir():
            problem = f"{out}: the folder {out.parent} does not exist"
        if problem is not None:
            print(f"Cannot write {problem}", file=sys.stderr)
            return 1
    graph = _load(args)
    if graph is None:
        return 1
    text = graph.serialize(fmt)
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomic(out, text)  # whole or not at all: an interrupted export leaves the old file
    except CatalogError as exc:
        print(f"Cannot write {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({fmt})")
    return 0
