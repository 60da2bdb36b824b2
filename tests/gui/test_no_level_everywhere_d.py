"""Where an answer claims no level, no screen gives its percentages as odds: the photo page's
part lines, the compare table, the grid's tooltip and the object panel read one rule
(collection.fewshot `claims_level` for a live answer, `stored_set_claims_level` for a stored
one); and the object's answer says where the record's place made and the model part ways."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from saree_app.knowledge.graph import TextileGraph
from tests.gui.conftest import wait_idle
from tests.gui.test_walk3_n import _object_answer, _prediction

QtCore = pytest.importorskip("PySide6.QtCore")
Qt = QtCore.Qt


@pytest.fixture(scope="module")
def graph() -> TextileGraph:
    return TextileGraph.load()


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _with_parts(pred: Any) -> Any:
    """The prediction with part lines and attributes, as the photo page shows them."""
    pred.parts = (
        SimpleNamespace(
            part="border", area=0.12, ranking=(("Kanchipuram", 0.62), ("Paithani", 0.2))
        ),
        SimpleNamespace(part="pallu", area=0.2, ranking=(("Jamdani", 0.51), ("Banarasi", 0.3))),
        SimpleNamespace(part="body", area=0.0, ranking=(("Kasavu", 0.4), ("Chanderi", 0.3))),
    )
    pred.attributes = (
        SimpleNamespace(term="TempleBorder", label="temple border", probability=0.87),
    )
    return pred


# ------------------------------------------------------------------ 1. the parts' lines
def test_the_part_lines_give_no_figure_where_no_level_is_claimed(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    """'Border looks like Kanchipuram 62%' under a note that said no percentages are shown."""
    from saree_app.gui.answer import NO_LEVEL_NOTE, AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.set_labeller(graph.label)
    pred = _with_parts(_prediction(graph, "Jamdani", 0.94, unlike=True))
    panel.show_prediction("kota.webp", pred)
    assert not panel.level_claimed
    border = _plain(panel.part_labels["border"].text())
    kanchi, paithani = graph.label("Kanchipuram"), graph.label("Paithani")
    assert " ".join(border.split()) == f"Border looks like {kanchi}, then {paithani}", border
    lines = {p: _plain(lab.text()) for p, lab in panel.part_labels.items()}
    assert not any("%" in t for t in lines.values()), lines
    assert "not marked on the part map" in lines["body"]
    # What the note covers is true of the panel: the traditions, places and parts carry no
    # percentage; the attributes keep theirs, and the note says so.
    note = _plain(panel.rank_note.text()).strip()
    assert note == NO_LEVEL_NOTE and "parts" in note and "attributes" in note
    figures = [pct.text() for _n, _b, pct in panel.rank_rows]
    assert not any("%" in f for f in figures), figures
    assert "%" not in _plain(panel.regions.text())
    assert "%" not in _plain(panel.answer_set.text())
    assert "87%" in _plain(panel.attributes.text())
    # The Why list says each part's likeness without its figure too.
    why = _plain(panel.explanation.text())
    assert "pallu looks" in why and "%" not in why, why
    # A level claimed: each part's figures as before.
    pred.looks_unlike_training = lambda: False
    pred.uncertain_reasons = ()
    panel.show_prediction("kota.webp", pred)
    assert panel.level_claimed
    border = " ".join(_plain(panel.part_labels["border"].text()).split())
    assert border.startswith(f"Border looks like {kanchi} 62%") and f"{paithani} 20%" in border
    assert "51%" in _plain(panel.explanation.text())


def test_the_why_lines_and_doubts_without_figures() -> None:
    from saree_app.gui.answer import _without_likeness_figures

    assert _without_likeness_figures("the border looks like Paithani's: 95%") == (
        "the border looks like Paithani's"
    )
    assert _without_likeness_figures(
        "the pallu looks more like Kasavu's (34%) than Banarasi brocade's (<1%)"
    ) == ("the pallu looks more like Kasavu's than Banarasi brocade's")
    assert _without_likeness_figures("the body looks like Kasavu's (34%), not like Paithani's") == (
        "the body looks like Kasavu's, not like Paithani's"
    )
    assert _without_likeness_figures("the whole saree looks like Kasavu's: only 3%") == (
        "the whole saree looks like Kasavu's, only a little"
    )
    # An attribute's figure is how surely the model sees it: it stays.
    line = "ikat seen (51%), which Kasavu is not known for"
    assert _without_likeness_figures(line) == line


# ------------------------------------------------------------------ 2. compare
def _compared(pred: Any, tradition: str, item_id: int) -> tuple[Any, Any]:
    from PySide6.QtGui import QImage

    from saree_app.gui.analysis import Analysis
    from saree_app.gui.items import Item

    pred.has_heatmap = lambda _t: False  # no heatmaps for the overlays
    item = Item(id=item_id, name=f"s{item_id}.jpg", path=Path("/x"), predicted=tradition)
    analysis = Analysis(
        key=item_id, name=item.name, photo=QImage(), prediction=pred,
        mask=np.zeros((4, 4), np.uint8),
    )  # fmt: skip
    return item, analysis


def test_compare_gives_no_figure_where_no_level_is_claimed(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    """'model, 94%, uncertain' for an answer the photo page states with no level."""
    from saree_app.gui.answer import AnswerPanel
    from saree_app.gui.compare import CompareDialog, differences
    from saree_app.knowledge.words import pct

    unlike = _with_parts(_prediction(graph, "Jamdani", 0.94, unlike=True))
    sure = _with_parts(_prediction(graph, "Kanchipuram", 0.9))
    left, right = _compared(unlike, "Jamdani", 1), _compared(sure, "Kanchipuram", 2)
    rows = {what: (a, b) for what, a, b, _d in differences(left, right, graph.label)}
    odds = pct(sure.fused.ranking[0].probability)
    assert rows["Certainty"] == ("model, no level claimed, uncertain", f"model, {odds}")
    assert rows["Border looks like"] == (
        graph.label("Kanchipuram"),
        f"{graph.label('Kanchipuram')} 62%",
    )
    # Taught, not yet checked: with the photo page's calibration, no figure; checked, figures.
    taught = _with_parts(
        _prediction(graph, "Banarasi", 0.6, taught=True, fewshot={"Banarasi": 0.9, "Paithani": 0.1})
    )
    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.set_calibration(None, taught=2, examples=3)
    rows = {
        w: (a, b)
        for w, a, b, _d in differences(
            _compared(taught, "Banarasi", 3), right, graph.label, level=panel.claims_level_of
        )
    }
    assert (
        rows["Certainty"][0] == "model, no level claimed"
        and "%" not in rows["Border looks like"][0]
    )
    from saree_app.collection.fewshot import AnswerSets

    panel.set_calibration(
        AnswerSets(size=2, level=0.9, photos=24, coverage=0.92, single=1, single_right=1)
    )
    rows = {
        w: (a, b)
        for w, a, b, _d in differences(
            _compared(taught, "Banarasi", 3), right, graph.label, level=panel.claims_level_of
        )
    }
    assert rows["Certainty"][0].startswith("model, ") and rows["Certainty"][0].endswith("%")
    # The dialog reads the rule from its window's photo page.
    from PySide6.QtWidgets import QWidget

    win = QWidget()
    qtbot.addWidget(win)
    win.photo = SimpleNamespace(answer=panel)  # type: ignore[attr-defined]
    panel.set_calibration(None, taught=2, examples=3)
    dlg = CompareDialog(win)
    dlg.set_labeller(graph.label)
    item, analysis = _compared(taught, "Banarasi", 3)
    dlg.set_photos(
        analysis.photo, "a", analysis.photo, "b", items=(item, right[0]), left_analysis=analysis
    )
    dlg.set_right_analysis(right[1])
    assert dlg.table.item(1, 1).text() == "model, no level claimed"
    assert dlg.table.item(1, 2).text() == f"model, {odds}"


# ------------------------------------------------------------------ 2. the grid's tooltip
def test_the_grid_tooltip_gives_no_figure_where_the_stored_answer_claims_no_level(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """'Kanchipuram (unreviewed, 94%)' for a stored answer that claims no level."""
    from saree_app.gui.browser import CollectionModel
    from saree_app.gui.items import Item
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore

    sets: dict[int, Any] = {
        1: {"traditions": ["Kanchipuram"], "level": 0.9, "calibrated_on": 0, "taught": True},
        2: {
            "traditions": ["Kanchipuram"],
            "level": 0.9,
            "calibrated_on": 0,
            "unlike_training": True,
        },
        3: {"traditions": ["Kanchipuram"], "level": 0.9, "calibrated_on": 12, "taught": True},
        4: {"traditions": ["Kanchipuram"], "level": 0.9, "calibrated_on": 0},
        5: None,  # stored before answer sets were kept
    }
    loader = ThumbnailLoader(ThumbnailStore(tmp_path / "thumbs"))
    model = CollectionModel(loader)
    model.set_stored_sets(sets.get)
    model.set_items([Item(i, f"{i}.jpg", Path(f"/x/{i}.jpg"), "Kanchipuram", 0.94) for i in sets])
    tips = {
        model.item(r).id: model.data(model.index(r), Qt.ItemDataRole.ToolTipRole)  # type: ignore[union-attr]
        for r in range(model.rowCount())
    }
    for i in (1, 2):
        assert "94%" not in tips[i] and "no level claimed" in tips[i], tips[i]
    for i in (3, 4, 5):
        assert "94%" in tips[i] and "no level claimed" not in tips[i], tips[i]
    loader.shutdown()


def test_the_stored_rule_is_the_exports(graph) -> None:  # type: ignore[no-untyped-def]
    """One rule for stored answers: a set claims no level exactly where the export says so."""
    from saree_app.collection.export import _answer_set_words
    from saree_app.collection.fewshot import stored_set_claims_level

    for on in (0, 12):
        for taught in (False, True):
            for unlike in (False, True):
                found = {"traditions": ["Kanchipuram", "Banarasi"], "level": 0.9,
                         "calibrated_on": on}  # fmt: skip
                if taught:
                    found["taught"] = True
                if unlike:
                    found["unlike_training"] = True
                said = _answer_set_words(graph, found, 28) or ""
                none = "no level claimed" in said or "not yet checked" in said
                assert stored_set_claims_level(found) is not none, (found, said)
    assert stored_set_claims_level(None)


# ------------------------------------------------------------------ 4. objects
def test_a_one_photo_object_claims_a_level_as_its_photo_does(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    """An object of one photo flagged uncertain lost its figure though its photo kept it; and
    with teaching not yet checked, both drop them."""
    from saree_app.collection import objects
    from saree_app.knowledge.words import pct

    win = imported
    cat = win.library.catalog
    panel = win.object_desk.panel

    def page_and_object(row: int) -> tuple[bool, str, str]:
        win.tabs.setCurrentIndex(1)
        win.grid.setCurrentIndex(win.model.index(row))
        wait_idle(qtbot, win)
        item = win.current_item()
        qtbot.waitUntil(
            lambda: win.photo.analysis is not None and win.photo.analysis.key == item.id,
            timeout=10000,
        )
        win.object_desk.refresh()
        return (
            win.photo.answer.level_claimed,
            win.photo.answer.rank_rows[0][2].text(),
            panel.answer.text(),
        )

    first = win.model.item(0)
    assert first.uncertain
    objects.group(cat, [first.id], "T.1", {})
    level, shown, said = page_and_object(0)
    # Flagged uncertain, its level claimed: the page and the object both give the figure.
    assert level and shown.endswith("%"), shown
    ans = objects.fuse_object(cat, objects.get_object(cat, "T.1"), graph=win.library.graph)
    assert ans.uncertain
    assert f"{ans.top.label} {pct(ans.top.probability)}" in said, said
    assert "no level claimed" not in said
    # Taught from confirmed photos nothing can check yet: neither gives a figure.
    items = win.model.all_items()
    win.library.decide([(it.id, it.path.parent.name) for it in items[3:7]], "test")
    with qtbot.waitSignal(win.reranker.finished, timeout=60000):
        win.reranker.schedule()
    wait_idle(qtbot, win)
    win.refresh_items()
    wait_idle(qtbot, win)
    level, shown, said = page_and_object(0)
    assert not level and "%" not in shown, shown
    assert "%" not in said.split("\n")[0] and "no level claimed" in said, said


def test_the_object_says_where_its_record_and_the_model_part_ways(qtbot) -> None:  # type: ignore[no-untyped-def]
    """ObjectAnswer.disagrees was in the exports, on no screen."""
    from saree_app.collection import objects
    from saree_app.gui.objects import ObjectPanel, answer_html

    said = (
        "the record says it was made in Kaithoon, Rajasthan (Rajasthan); the model's likely "
        "state is West Bengal"
    )
    ans = dataclasses.replace(_object_answer(uncertain=False), disagrees=said)
    text = _plain(answer_html(ans, {1: "a.jpg", 2: "b.jpg"}))
    assert f"Your record and the model's answer disagree: {said}." in " ".join(text.split())
    panel = ObjectPanel()
    qtbot.addWidget(panel)
    obj = objects.SareeObject(
        id=1, accession="T.1987.12", fields={"place_made": "Kaithoon, Rajasthan"}, created="",
        updated="", photos=(objects.Member(1, "whole", 0), objects.Member(2, "pallu", 1)),
    )  # fmt: skip
    panel.show_object(obj, "whole", ans, "")
    assert f"Your record and the model's answer disagree: {said}." in panel.answer.text()
    panel.show_object(obj, "whole", ans, "", decided=True)
    assert said in panel.answer.text()
    # When they agree, nothing is said.
    agree = _object_answer(uncertain=False)
    panel.show_object(obj, "whole", agree, "")
    assert "disagree" not in panel.answer.text()
    assert "disagree" not in _plain(answer_html(agree))
