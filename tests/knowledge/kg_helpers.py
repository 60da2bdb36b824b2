"""Helpers for knowledge-graph tests: a tiny ontology and an in-place file editor."""

from __future__ import annotations

from pathlib import Path

TINY_TRADITIONS = """\
@prefix saree: <https://saree-provenance.example/ns#> .
@prefix src: <https://saree-provenance.example/source#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

saree:Alpha a saree:Tradition ; rdfs:label "Alpha"@en ;
    saree:region saree:KanchipuramTown ; saree:fibre saree:Silk ;
    dcterms:source src:EncKanchipuram ;
    saree:hasAttribute
        [ saree:attribute saree:TempleBorder ; saree:typicality 0.8 ; saree:shownOn saree:Border ;
            dcterms:source src:EncKanchipuram ] ,
        [ saree:attribute saree:Peacock ; saree:typicality 0.5 ; saree:shownOn saree:Pallu ;
            dcterms:source src:EncKanchipuram ] ,
        [ saree:attribute saree:ContrastingBorder ; saree:typicality 0.9 ;
            saree:shownOn saree:Border ;
            dcterms:source src:EncKanchipuram ] .

saree:Beta a saree:Tradition ; rdfs:label "Beta"@en ;
    saree:region saree:Varanasi ; saree:fibre saree:Silk ; dcterms:source src:EncKanchipuram ;
    saree:hasAttribute
        [ saree:attribute saree:ZariBrocade ; saree:typicality 0.9 ; saree:shownOn saree:Body ;
            dcterms:source src:EncKanchipuram ] ,
        [ saree:attribute saree:Paisley ; saree:typicality 0.6 ; saree:shownOn saree:Pallu ;
            dcterms:source src:EncKanchipuram ] ,
        [ saree:attribute saree:Ikat ; saree:typicality 0.4 ; saree:shownOn saree:Body ;
            dcterms:source src:EncKanchipuram ] .

saree:Gamma a saree:Tradition ; rdfs:label "Gamma"@en ;
    saree:region saree:Patan ; saree:fibre saree:Cotton ; dcterms:source src:EncKanchipuram ;
    saree:hasAttribute
        [ saree:attribute saree:DoubleIkat ; saree:typicality 0.9 ; saree:shownOn saree:Body ;
            dcterms:source src:EncKanchipuram ] ,
        [ saree:attribute saree:Elephant ; saree:typicality 0.5 ; saree:shownOn saree:Body ;
            dcterms:source src:EncKanchipuram ] ,
        [ saree:attribute saree:Parrot ; saree:typicality 0.5 ; saree:shownOn saree:Body ;
            dcterms:source src:EncKanchipuram ] .
"""


def edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old` in a file; returns its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line


def edit_link(path: Path, tradition: str, attribute: str, pattern: str, repl: str) -> int:
    """Apply re.sub(pattern, repl) to the line of `tradition`'s link to `attribute` (the
    first mention after the tradition's definition); returns that line's 1-based number."""
    import re

    lines = path.read_text(encoding="utf-8").split("\n")
    start = next(i for i, s in enumerate(lines) if s.startswith(f"saree:{tradition} a "))
    i = next(
        i for i in range(start, len(lines)) if f"saree:attribute saree:{attribute} ;" in lines[i]
    )
    new = re.sub(pattern, repl, lines[i])
    assert new != lines[i], f"{pattern!r} not found in line {i + 1}: {lines[i]}"
    lines[i] = new
    path.write_text("\n".join(lines), encoding="utf-8")
    return i + 1
