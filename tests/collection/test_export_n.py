"""The CSV export as a registrar reads one row: no labelled time without a label, and the model
answer's own state beside it (likely_state is a roll-up over every tradition, not that)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from saree_app.collection import decisions
from saree_app.collection.catalog import Catalog, NewPhoto
from saree_app.collection.export import CSV_COLUMNS, export
from saree_app.collection.traditions import CuratorTradition, add_tradition
from saree_app.knowledge.graph import TextileGraph

SHA = "e" * 64
README = Path(__file__).resolve().parents[2] / "README.md"


def _photo(cat: Catalog, i: int, top: str, states: list[dict[str, object]]) -> int:
    return cat.record(
        NewPhoto(f"/photos/{i}.jpg", f"{i:064x}", 100 + i, 40, 30, None, None),
        SHA,
        {"states": states, "cultural_regions": []},
        top_tradition=top,
        top_probability=0.12,
        uncertain=True,
        embedding=np.ones(4, np.float32),
        part_embeddings=None,
    )


def _table(cat: Catalog, graph: object = None) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export(cat, "csv", graph=graph))))


def test_an_undone_confirmation_leaves_no_labelled_time(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _photo(cat, 1, "Banarasi", [])
        kept = _photo(cat, 2, "Banarasi", [])
        decisions.label_photos(
            cat, [(pid, "Banarasi"), (kept, "Banarasi")], "confirm", certainty="confirmed"
        )
        decisions.undo_last(cat)
        # What the catalogue keeps after the undo: the label row, every field empty.
        lab = cat.label(pid)
        assert lab is not None and not (lab.tradition or lab.certainty or lab.note)
        cat.set_label(kept, note="Donated 1994")  # a note alone is a label: its time stays
        first, second = _table(cat)
    assert (first["curator_tradition"], first["certainty"], first["note"]) == ("", "", "")
    assert first["labelled"] == ""
    assert second["note"] == "Donated 1994" and second["labelled"] != ""


def test_the_model_answers_own_state_sits_beside_it(tmp_path: Path) -> None:
    graph = TextileGraph.load()
    # The roll-up's first state is not the top tradition's: Andhra Pradesh's traditions
    # together outweigh Patan Patola alone.
    rollup = [
        {"region": "AndhraPradesh", "label": "Andhra Pradesh", "probability": 0.3},
        {"region": "Gujarat", "label": "Gujarat", "probability": 0.12},
    ]
    with Catalog(tmp_path / "c.saree") as cat:
        _photo(cat, 1, "PatanPatola", rollup)
        _photo(cat, 2, "Kotpad", rollup)  # a tradition the curator added, with its state
        add_tradition(cat.path, CuratorTradition("Kotpad", "Odisha", "East India", None))
        text = export(cat, "csv", graph=graph)
    header = next(csv.reader(io.StringIO(text)))
    assert header.index("model_answer_state") == header.index("model_answer") + 1
    assert list(CSV_COLUMNS) == header
    first, second = csv.DictReader(io.StringIO(text))
    assert first["model_answer"] == "Patan Patola"
    assert first["model_answer_state"] == "Gujarat"
    assert first["likely_state"] == "Andhra Pradesh"  # kept: the roll-up, as before
    assert second["model_answer_state"] == "Odisha"


def test_the_columns_kept_and_likely_state_said_plainly() -> None:
    for column in ("likely_state", "likely_cultural_region", "model_answer", "labelled"):
        assert column in CSV_COLUMNS
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "`model_answer_state`" in text
    assert "`likely_state` is not the answer's own state" in text
