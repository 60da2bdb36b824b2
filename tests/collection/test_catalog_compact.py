"""Stored answers are compressed (schema 7), and older catalogues are rewritten on opening."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from saree_app.collection import catalog as catalog_mod
from saree_app.collection.catalog import Catalog, NewPhoto

SHA = "d" * 64


def _answer(seed: int) -> dict[str, Any]:
    """Shaped like Prediction.to_dict(): 27 ranked traditions, each with about a dozen lines
    of evidence in words, attributes, roll-ups."""
    ranking = []
    for t in range(27):
        evidence = [
            {
                "kind": "attribute",
                "term": f"Motif{e}",
                "path": [f"Tradition{t}", "hasAttribute", f"Motif{e}"],
                "typicality": 0.8,
                "observed": 0.123456789 * (e + 1) / (seed + 2),
                "contribution": 0.0271828182845 * (e - 5) * (t + 1),
                "text": f"Tradition{t} -> has motif -> motif {e} (typicality 0.80); seen "
                f"with p = {0.1 * e:.2f}: {0.03 * (e - 5):+.2f}",
            }
            for e in range(12)
        ]
        ranking.append(
            {
                "tradition": f"Tradition{t}",
                "label": f"Tradition {t}",
                "probability": 1 / (t + 2),
                "score": -0.5 * t,
                "known_to_model": t < 12,
                "evidence": evidence,
            }
        )
    return {
        "source": f"photo-{seed}.jpg",
        "tradition": "Tradition0",
        "probability": 0.5,
        "uncertain": False,
        "uncertain_reasons": [],
        "ranking": ranking,
        "visual": [[f"Tradition{t}", 1 / (t + 2)] for t in range(12)],
        "attributes": [
            {"term": f"Motif{a}", "label": f"motif {a}", "probability": a / 40} for a in range(40)
        ],
    }


def _record(cat: Catalog, i: int, result: dict[str, Any]) -> int:
    return cat.record(
        NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
        SHA,
        result,
        top_tradition="Tradition0",
        top_probability=0.5,
        uncertain=False,
        embedding=None,
        part_embeddings=None,
    )


def _close(a: Any, b: Any) -> bool:
    """Equal as JSON keeps them: every number to the last digit."""
    return bool(json.loads(json.dumps(a)) == b)


def test_an_answer_comes_back_as_it_went_in_in_a_tenth_of_the_space(tmp_path: Path) -> None:
    answer = _answer(0)
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 0, answer)
        stored = cat.prediction(pid, SHA)
        assert stored is not None
        assert _close(stored.result, answer)
        assert cat.predictions(SHA)[pid].result == stored.result
    db = sqlite3.connect(tmp_path / "c.saree")
    kind, size = db.execute("SELECT typeof(result), length(result) FROM predictions").fetchone()
    db.close()
    assert kind == "blob"
    assert size < len(json.dumps(answer, separators=(",", ":"))) / 8


def test_a_schema_6_catalogue_has_its_answers_compressed_on_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v6.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:6])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 6)
    monkeypatch.setattr(catalog_mod, "pack_result", json.dumps)  # as schema 6 stored them
    answers = [_answer(i) for i in range(3)]
    with Catalog(path) as cat:
        ids = [_record(cat, i, a) for i, a in enumerate(answers)]
        # An answer that is not JSON (damaged by hand) is left alone by the migration.
        cat.run("UPDATE predictions SET result = '{not json' WHERE photo_id = ?", (ids[2],))
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= 7
        for pid, answer in zip(ids[:2], answers[:2], strict=True):
            stored = cat.prediction(pid, SHA)
            assert stored is not None and _close(stored.result, answer)
        with pytest.raises(ValueError):
            cat.prediction(ids[2], SHA)
    db = sqlite3.connect(path)
    kinds = [r[0] for r in db.execute("SELECT typeof(result) FROM predictions ORDER BY rowid")]
    db.close()
    assert kinds == ["blob", "blob", "text"]


def test_a_damaged_compressed_answer_is_named(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 0, _answer(0))
        cat.run("UPDATE predictions SET result = x'00ff00ff' WHERE photo_id = ?", (pid,))
        with pytest.raises(catalog_mod.CatalogError, match=f"photo {pid}: its stored answer"):
            cat.prediction(pid, SHA)
