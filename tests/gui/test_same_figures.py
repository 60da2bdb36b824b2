"""One photo's answer reads the same on the photo page, in `saree classify` and in the CSV
export: the same percentage and the same display names (issue 28: 86% vs 88%, WestBengal)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.gui.conftest import wait_idle


def _plain(rich: str) -> str:
    return re.sub(r"<[^>]+>", "", rich).replace("&nbsp;", " ").strip()


@pytest.mark.parametrize("row", [0, 4])
def test_one_photo_same_figure_in_gui_classify_and_csv(  # type: ignore[no-untyped-def]
    qtbot, imported, tiny_model, capsys, row: int
) -> None:
    from saree_app.cli import main
    from saree_app.collection.export import to_csv

    win = imported
    lib = win.library
    graph = lib.graph
    win.grid.setCurrentIndex(win.model.index(row))
    wait_idle(qtbot, win)
    item = win.current_item()
    qtbot.waitUntil(
        lambda: win.photo.analysis is not None and win.photo.analysis.key == item.id,
        timeout=10000,
    )
    name_label, _bar, pct_label = win.photo.answer.rank_rows[0]
    gui_name, gui_pct = _plain(name_label.text()), pct_label.text()
    state_line = _plain(win.photo.answer.regions.text()).split("Cultural region:")[0]
    gui_state = state_line.removeprefix("State:").strip().split(",")[0]
    gui_state = gui_state.rsplit(" ", 1)[0]  # "Tamil Nadu 61%" -> "Tamil Nadu"

    # `saree classify`, as a curator runs it on the same file with the same model.
    assert main(["classify", "--model", str(tiny_model), str(item.path), "--csv"]) == 0
    (cli,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert main(["classify", "--model", str(tiny_model), str(item.path)]) == 0
    human = capsys.readouterr().out
    first = next(line for line in human.splitlines() if line.strip().startswith("1. "))

    # The catalogue's CSV export, as File > Export as CSV writes it.
    export = {
        int(r["id"]): r
        for r in csv.DictReader(io.StringIO(to_csv(lib.catalog, graph, lib.model_sha())))
    }[item.id]

    assert gui_pct.endswith("%")
    assert cli["confidence"] == gui_pct == export["model_confidence"]
    # "1. Kanchipuram silk   61%  (Tamil Nadu, South India)"
    assert re.search(rf"1\. {re.escape(gui_name)}\s+{re.escape(gui_pct)}(\s|$)", first), first
    assert cli["label"] == gui_name == export["model_answer"]
    # Display names, not term ids: "Tamil Nadu", never "TamilNadu".
    assert cli["tradition"] == export["model_tradition"]
    assert export["model_answer"] == graph.label(export["model_tradition"])
    assert cli["state"] == gui_state == export["likely_state"]
    # The region is the one that state lies in, in both (never "Maharashtra, South India").
    assert cli["cultural_region"] == export["likely_cultural_region"]
    region_of_state = {
        graph.label(graph.state_of(t)): graph.label(graph.cultural_region_of(t))
        for t in graph.traditions()
        if graph.state_of(t)
    }
    assert export["likely_cultural_region"] == region_of_state[export["likely_state"]]
    for shown in (export["likely_state"], export["model_answer"], export["tradition_name"]):
        assert shown and not re.search(r"[a-z][A-Z]", shown), shown
