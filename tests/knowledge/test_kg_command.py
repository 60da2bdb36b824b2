"""`saree kg list|show|validate|export` on the bundled ontology and on a broken copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kg_helpers import edit

from saree_app.cli import main


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kg", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 27 traditions")


def test_validate_lists_every_problem(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ontology_copy / "traditions.ttl"
    text = path.read_text(encoding="utf-8")
    line = text[: text.index("saree:KotaDoria a saree:Tradition")].count("\n") + 1
    edit(path, "saree:region saree:Kota ; ", "")
    edit(path, 'rdfs:label "Gadwal"@en', 'rdfs:label "Ilkal"@en')
    assert main(["kg", "--ontology", str(ontology_copy), "validate"]) == 1
    captured = capsys.readouterr()
    assert f"traditions.ttl:{line}: KotaDoria: has no region" in captured.out
    assert "duplicate label 'Ilkal'" in captured.out
    assert "2 problems" in captured.err


def test_broken_graph_gives_a_message_not_a_traceback(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ontology_copy / "broken.ttl").write_text("saree:X a .\n", encoding="utf-8")
    assert main(["kg", "--ontology", str(ontology_copy), "list"]) == 1
    err = capsys.readouterr().err
    assert "Knowledge graph not loaded" in err and "broken.ttl:1" in err


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kg", "list"]) == 0
    out = capsys.readouterr().out
    assert "Kanchipuram silk" in out and "27 traditions" in out
    assert main(["kg", "show", "Kanjivaram"]) == 0
    out = capsys.readouterr().out
    assert "Kanchipuram (12.82, 79.69) -> Tamil Nadu -> South India" in out
    assert "temple border (gopuram)" in out
    assert "[EncKanchipuram]" in out and "application no. 15" in out
    assert "registered 2005-2006" in out
    assert "<https://en.wikipedia.org/wiki/Kanchipuram_silk_sari>" in out
    assert "Tamil Nadu: same as Wikidata Q1445" in out
    assert main(["kg", "show", "Kanchipurm"]) == 1
    assert "Did you mean: Kanchipuram" in capsys.readouterr().err


def test_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "kg.jsonld"
    assert main(["kg", "export", "--format", "jsonld", "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert any(node.get("@id") == "saree:Kanchipuram" for node in data["@graph"])
    assert main(["kg", "export", "--format", "ttl"]) == 0
    assert "saree:Kanchipuram" in capsys.readouterr().out
    assert main(["kg", "export", "-o", str(tmp_path / "no" / "such" / "x.ttl")]) == 1
    assert "Cannot write" in capsys.readouterr().err


def test_a_relative_ontology_folder_works_with_a_cold_cache(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative --ontology used to fail every file ("can't be expressed as a file URI")."""
    from saree_app.knowledge import graph as graph_module

    monkeypatch.chdir(ontology_copy.parent)
    for argv in (["validate"], ["list"], ["export", "--format", "ttl"]):
        graph_module._CACHE.clear()  # cold: parsed from the files, not the memory cache
        status = main(["kg", "--ontology", "ontology", *argv])
        captured = capsys.readouterr()
        assert status == 0, captured.err
        assert "file URI" not in captured.out + captured.err
    graph = graph_module.TextileGraph.load(Path("ontology"), cache=False)
    monkeypatch.chdir("/")  # the graph re-reads its files later, from anywhere
    graph._rdf = None
    assert len(graph.rdf()) > 100
