"""Helpers for knowledge-graph tests: a tiny ontology and an in-place file editor."""

from __future__ import annotations

from pathlib import Path

TINY_TRADITIONS = """\
@prefix saree: <https://saree-provenance.example/ns#> .
@prefix src: <https://saree-provenance.example/source#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

saree:Alpha a saree:Tradition ; rdfs:label "Alpha"@en ;
    saree:region saree:KanchipuramTown ; saree:fibre saree:Silk ; dcterms:source src:Glossary ;
    saree:hasAttribute
        [ saree:attribute saree:TempleBorder ; saree:typicality 0.8 ; saree:shownOn saree:Border ;
            dcterms:source src:Glossary ] ,
        [ saree:attribute saree:Peacock ; saree:typicality 0.5 ; saree:shownOn saree:Pallu ;
            dcterms:source src:Glossary ] ,
        [ saree:attribute saree:ContrastingBorder ; saree:typicality 0.9 ;
            saree:shownOn saree:Border ;
            dcterms:source src:Glossary ] .

saree:Beta a saree:Tradition ; rdfs:label "Beta"@en ;
    saree:region saree:Varanasi ; saree:fibre saree:Silk ; dcterms:source src:Glossary ;
    saree:hasAttribute
        [ saree:attribute saree:ZariBrocade ; saree:typicality 0.9 ; saree:shownOn saree:Body ;
            dcterms:source src:Glossary ] ,
        [ saree:attribute saree:Paisley ; saree:typicality 0.6 ; saree:shownOn saree:Pallu ;
            dcterms:source src:Glossary ] ,
        [ saree:attribute saree:Ikat ; saree:typicality 0.4 ; saree:shownOn saree:Body ;
            dcterms:source src:Glossary ] .

saree:Gamma a saree:Tradition ; rdfs:label "Gamma"@en ;
    saree:region saree:Patan ; saree:fibre saree:Cotton ; dcterms:source src:Glossary ;
    saree:hasAttribute
        [ saree:attribute saree:DoubleIkat ; saree:typicality 0.9 ; saree:shownOn saree:Body ;
            dcterms:source src:Glossary ] ,
        [ saree:attribute saree:Elephant ; saree:typicality 0.5 ; saree:shownOn saree:Body ;
            dcterms:source src:Glossary ] ,
        [ saree:attribute saree:Parrot ; saree:typicality 0.5 ; saree:shownOn saree:Body ;
            dcterms:source src:Glossary ] .
"""


def edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old` in a file; returns its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line
