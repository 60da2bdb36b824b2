"""What a tester's walk on real photos found on screen (third walk): percentages shown where
the answer claims no level (the ranking, the regions, the object's answer), a likeness to the
confirmed photos called close, "nats" in the details, a folded saree with nobody in it called
worn, a corrected part map that changed the answer without a word, and a similar saree that
could be opened only by a double-click nothing mentioned."""

from __future__ import annotations

import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from saree_app.knowledge.fusion import FusionWeights, fuse
from saree_app.knowledge.graph import TextileGraph
from tests.gui.conftest import wait_idle

QtCore = pytest.importorskip("PySide6.QtCore")
Qt = QtCore.Qt

MODEL = (
    "Baluchari", "Banarasi", "Bandhani", "Chanderi", "Chettinad", "Jamdani", "Kanchipuram",
    "Kasavu", "Maheshwari", "Paithani", "PatanPatola", "PochampallyIkat",
)  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> TextileGraph:
    return TextileGraph.load()


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _prediction(
    graph: TextileGraph,
    top: str,
    p: float,
    *,
    taught: bool = False,
    unlike: bool = False,
    fewshot: dict[str, float] | None = None,
) -> Any:
    """A prediction as the photo page reads one: `taught`, re-ranked by teaching; `unlike`,
    flagged as unlike the photos the model learnt from."""
    from saree_app.model.familiar import UNLIKE_TRAINING

    rest = (1.0 - p) / (len(MODEL) - 1)
    visual = {t: (p if t == top else rest) for t in MODEL}
    fused = fuse(graph, visual, {}, weights=FusionWeights(attribute_shift=2.0), fewshot=fewshot)
    ranked = [r.tradition for r in fused.ranking]
    return SimpleNamespace(
        fused=fused,
        pieces=1,
        photo_size=(400, 300),
        uncertain=unlike,
        uncertain_reasons=(UNLIKE_TRAINING,) if unlike else (),
        parts=(),
        attributes=(),
        visual=tuple(sorted(visual.items(), key=lambda kv: -kv[1])),
        answer_set=lambda: ranked[:2],
        is_taught=lambda: taught,
        looks_unlike_training=lambda: unlike,
    )


def _panel(qtbot, graph):  # type: ignore[no-untyped-def]
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.set_labeller(graph.label)
    return panel


def _figures(panel) -> list[str]:  # type: ignore[no-untyped-def]
    return [pct.text() for _name, _bar, pct in panel.rank_rows]


# ------------------------------------------------------------------ 1. no level, no percentage
def test_an_answer_that_claims_no_level_shows_no_percentage_as_odds(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    """'Jamdani (Bengal) — no level claimed for this photo' stood over a bar reading 94%."""
    panel = _panel(qtbot, graph)
    pred = _prediction(graph, "Jamdani", 0.94, unlike=True)
    panel.show_prediction("kota.webp", pred)
    assert "no level claimed" in panel.answer_set.text()
    figures = _figures(panel)
    assert not any("%" in f for f in figures), figures
    from saree_app.gui.answer import LEADING

    assert not panel.level_claimed
    assert figures[0] == LEADING, figures
    assert all(f == "" for f in figures[1:]), figures
    # The order stays, each bar measured against the leader.
    bars = [bar.value() for _n, bar, _p in panel.rank_rows]
    assert bars[0] == pytest.approx(1.0) and bars == sorted(bars, reverse=True)
    assert "not its odds" in panel.rank_rows[0][1].toolTip()
    note = _plain(panel.rank_note.text())
    assert not panel.rank_note.isHidden() and "no percentages are shown" in note
    assert "not odds" in note
    # The regions add up the same answer: named in order, with no figure either.
    regions = _plain(panel.regions.text())
    assert "State:" in regions and "%" not in regions
    # The curator confirmed it: the app's own answer is named without a figure too.
    panel.set_confirmed("Jamdani (Bengal)")
    how = _plain(panel.answer_set_how.text())
    assert "The app's own answer" in how and "%" not in how
    assert _figures(panel)[0] == LEADING
    panel.set_confirmed(None)
    # A photo like the model's training photos: its level is claimed, its figures shown.
    pred.looks_unlike_training = lambda: False
    pred.uncertain_reasons = ()
    panel.show_prediction("kota.webp", pred)
    # Checked: a level is claimed. (The set here names both taught traditions, so its
    # headline says it does not narrow them down rather than "90% sure".)
    said = panel.answer_set.text()
    assert panel.level_claimed
    assert "sure" in said or "Could be any of the traditions you have taught" in said
    assert all(f.endswith("%") for f in _figures(panel)), _figures(panel)
    assert panel.rank_note.isHidden()
    assert "%" in _plain(panel.regions.text())


def test_teaching_not_yet_checked_shows_no_percentage_until_it_is(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    """'from your teaching, not yet checked ... the percentages are not odds' over 'Banarasi
    brocade 100%' and '<1%' for the rest."""
    from saree_app.collection.fewshot import AnswerSets

    panel = _panel(qtbot, graph)
    pred = _prediction(
        graph, "Banarasi", 0.5, taught=True, fewshot={"Banarasi": 0.9, "Kanchipuram": 0.1}
    )
    panel.set_calibration(None, taught=2, examples=3, checkable=2)
    panel.show_prediction("patola.jpg", pred)
    assert "not yet checked" in panel.answer_set.text()
    figures = _figures(panel)
    assert not any("%" in f for f in figures), figures
    from saree_app.gui.answer import LEADING

    assert figures[0] == LEADING, figures
    # Checked on the confirmed photos (answer sets calibrated): the level is claimed.
    sets = AnswerSets(size=2, level=0.9, photos=24, coverage=0.917, single=10, single_right=9)
    panel.set_calibration(sets, taught=2, examples=30, checkable=24)
    # Checked: a level is claimed. (The set here names both taught traditions, so its
    # headline says it does not narrow them down rather than "90% sure".)
    said = panel.answer_set.text()
    assert panel.level_claimed
    assert "sure" in said or "Could be any of the traditions you have taught" in said
    assert all(f.endswith("%") for f in _figures(panel))


def test_the_ranking_claims_a_level_exactly_when_the_headline_does(graph) -> None:
    """One decision, not two rules: `claims_level` agrees with the headline set_words writes."""
    from saree_app.collection.fewshot import AnswerSets, set_words
    from saree_app.gui.answer import claims_level

    sets = AnswerSets(size=2, level=0.9, photos=24, coverage=0.917, single=10, single_right=9)
    for taught in (False, True):
        for unlike in (False, True):
            pred = _prediction(
                graph, "Banarasi", 0.6, taught=taught, unlike=unlike,
                fewshot={"Banarasi": 0.8, "Paithani": 0.2} if taught else None,
            )  # fmt: skip
            for s in (None, sets):
                for examples in (0, 3):
                    head, _how = set_words(pred, graph.label, s, examples=examples)
                    none = "no level claimed" in head or "not yet checked" in head
                    assert claims_level(pred, s, examples) is not none, (taught, unlike, s, head)


def test_the_likeness_to_confirmed_photos_is_not_called_close(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    """A similarity of 0.23 read 'close to the photos you confirmed as Banarasi brocade'."""
    panel = _panel(qtbot, graph)
    # Banarasi leads, and its photos are the most alike of the taught (0.5: not "close").
    pred = _prediction(
        graph, "Banarasi", 0.6, taught=True, fewshot={"Banarasi": 0.5, "Paithani": 0.35}
    )
    panel.show_prediction("a.jpg", pred)
    why = _plain(panel.explanation.text())
    assert "close to" not in why
    assert "most like your confirmed photos of Banarasi brocade" in why
    # The model's answer leads, but another taught tradition's photos are more alike.
    pred = _prediction(
        graph, "Banarasi", 0.97, taught=True, fewshot={"Banarasi": 0.4, "Paithani": 0.45}
    )
    assert pred.fused.ranking[0].tradition == "Banarasi"
    panel.show_prediction("b.jpg", pred)
    why = _plain(panel.explanation.text())
    assert "close to" not in why and "most like" not in why
    assert "though more like those of Paithani" in why
    # The details' figures in plain words: no nats, no softmax.
    details = _plain(panel.details.text())
    assert "nats" not in details and "softmax" not in details
    assert "what it adds to the answer's score, or takes from it" in details


# ------------------------------------------------------------------ 2. the object's answer
def _object_answer(uncertain: bool) -> Any:
    from saree_app.collection import objects

    return objects.ObjectAnswer(
        accession="T.1987.12",
        model_sha256="abc",
        ranking=(
            objects.ObjectRanked("Jamdani", "Jamdani (Bengal)", 0.79, 2.0),
            objects.ObjectRanked("Chanderi", "Chanderi", 0.12, 0.5),
        ),
        states=(("West Bengal", 0.81),),
        photos=(
            objects.PhotoVoice(1, "whole", 0.5, "Jamdani", 0.94, "the whole photo", uncertain),
            objects.PhotoVoice(2, "pallu", 0.5, "Jamdani", 0.64, "its pallu", uncertain),
        ),
        record=(),
        uncertain=uncertain,
        reasons=("2 of its 2 photos were flagged uncertain",) if uncertain else (),
    )


def test_an_uncertain_objects_answer_gives_no_percentage_as_odds(qtbot) -> None:  # type: ignore[no-untyped-def]
    """'Jamdani (Bengal) 79%' beside '2 of its 2 photos were flagged uncertain', where its
    photos' answers claim no level. (Flagged uncertain alone no longer takes the figures away:
    the photo page keeps them for an uncertain photo that claims a level, and an object of one
    photo is said as its photo is; `test_a_one_photo_object_claims_a_level_as_its_photo_does`.)"""
    from saree_app.collection import objects
    from saree_app.gui.objects import ObjectPanel, answer_html, object_claims_level

    ans = _object_answer(uncertain=True)
    unlike = {"answer_set": {"traditions": ["Jamdani"], "calibrated_on": 0,
                             "unlike_training": True}}  # fmt: skip
    checked = {"answer_set": {"traditions": ["Jamdani"], "calibrated_on": 24}}
    catalog = SimpleNamespace(prediction=lambda pid, sha: SimpleNamespace(result=unlike))
    level = object_claims_level(ans, catalog)  # type: ignore[arg-type]
    assert not level
    said = _plain(answer_html(ans, {1: "a.jpg", 2: "b.jpg"}, level=level))
    assert "Jamdani (Bengal)" in said and "79%" not in said and "12%" not in said
    assert "81%" not in said and "94%" not in said and "no level claimed" in said
    assert "most likely from West Bengal" in said and "then Chanderi" in said
    panel = ObjectPanel()
    qtbot.addWidget(panel)
    obj = objects.SareeObject(
        id=1,
        accession="T.1987.12",
        fields={"title": "Kota doria sari"},
        created="",
        updated="",
        photos=(objects.Member(1, "whole", 0), objects.Member(2, "pallu", 1)),
    )
    panel.show_object(obj, "whole", ans, "", level=level)
    text = panel.answer.text()
    assert "Jamdani (Bengal)" in text and "%" not in text and "no level claimed" in text
    # Its photos' answers claim a level: the figure is given, uncertain or not.
    sure = _object_answer(uncertain=False)
    panel.show_object(obj, "whole", sure, "")
    assert "Jamdani (Bengal) 79%" in panel.answer.text()
    assert "Jamdani (Bengal) 79%" in _plain(answer_html(sure))
    assert object_claims_level(sure) and object_claims_level(ans)
    catalog = SimpleNamespace(prediction=lambda pid, sha: SimpleNamespace(result=checked))
    assert object_claims_level(sure, catalog)  # type: ignore[arg-type]
    assert object_claims_level(ans, catalog)  # type: ignore[arg-type]
    panel.show_object(obj, "whole", ans, "", level=True)
    assert "Jamdani (Bengal) 79% (uncertain)" in panel.answer.text()


# ------------------------------------------------------------------ 3. worn, or taken for worn
class _Never:
    def check(self) -> None:
        pass


def _worn_prediction(faces: tuple[tuple[float, float, float, float], ...]) -> Any:
    return SimpleNamespace(
        part_map=None,
        part_mask_at=lambda size: np.zeros((size[1], size[0]), np.uint8),
        worn_region=lambda size: np.ones((size[1], size[0]), bool),
        person=SimpleNamespace(present=True, faces=faces),
        fused=SimpleNamespace(ranking=()),
        has_heatmap=lambda t: False,
        part_heatmap=lambda part, size: np.zeros((size[1], size[0])),
    )


def test_a_photo_taken_for_worn_without_a_face_says_what_the_app_did() -> None:
    """A folded saree with nobody in the photo was called a 'Worn saree'."""
    from PIL import Image

    from saree_app.gui.analysis import WORN_NO_FACE_NOTE, analyse

    img = Image.new("RGB", (40, 30), (200, 50, 50))
    folded = analyse(1, img, lambda _i: _worn_prediction(()), _Never())
    assert folded.worn and not folded.worn_face  # the part map still keeps to the "person"
    note = folded.worn_note()
    assert note == WORN_NO_FACE_NOTE
    plain = _plain(note)
    assert "Worn saree" not in plain
    assert "took part of this photo for a person wearing the saree" in plain
    assert "found no face" in plain and "correct the parts" in plain
    worn = analyse(1, img, lambda _i: _worn_prediction(((0.4, 0.1, 0.5, 0.2),)), _Never())
    assert worn.worn and worn.worn_face and worn.worn_note() is None


# ------------------------------------------------------------------ 4. what a correction changed
def test_the_words_for_what_a_new_part_map_did_to_the_answer() -> None:
    from saree_app.gui.part_editor import _change_words

    assert (
        _change_words("Pochampally ikat", "Kanchipuram silk")
        == "the answer is now Kanchipuram silk (was Pochampally ikat)"
    )
    assert _change_words("Paithani", "Paithani") == "the answer is unchanged (Paithani)"
    # A confirmed photo keeps the curator's label: it is the app's own answer that changed.
    assert _change_words("Paithani", "Kasavu", own=True) == (
        "the app's own answer is now Kasavu (was Paithani)"
    )


def test_saving_a_part_map_says_what_became_of_the_answer(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.model import partmap

    win = imported
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis is not None, timeout=10000)
    win.tabs.setCurrentIndex(1)
    lib = win.library
    before = win.photo.analysis.prediction.fused.ranking[0]
    editor = win.part_editing.open_editor()
    labels = np.full_like(editor.canvas.labels, partmap.BODY)
    labels[:, -2:] = partmap.BORDER
    editor.canvas.set_labels(labels)
    editor.save_button.click()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis.prediction.part_map is not None, timeout=15000)
    qtbot.waitUntil(lambda: "Part map saved" in win.statusBar().currentMessage(), timeout=5000)
    said = win.statusBar().currentMessage()
    after = win.photo.analysis.prediction.fused.ranking[0]
    name = after.label or lib.label(after.tradition)
    if after.tradition == before.tradition:
        assert f"the answer is unchanged ({name})" in said, said
    else:
        was = before.label or lib.label(before.tradition)
        assert f"the answer is now {name} (was {was})" in said, said


# ------------------------------------------------------------------ 5. open a similar saree
def test_the_similar_strip_says_a_double_click_opens(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.items import Item
    from saree_app.gui.similar import SimilarStrip
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore

    strip = SimilarStrip(ThumbnailLoader(ThumbnailStore(Path("/nonexistent-thumbs"))))
    qtbot.addWidget(strip)
    strip.show()
    item = Item(id=1, name="s1.jpg", path=Path("/nowhere/s1.jpg"), predicted="Paithani")
    strip.set_results([(item, 0.8)])
    assert strip.list.item(0).toolTip().endswith("Click to compare, double-click to open")
    assert strip.how.isVisible() and "double-click to open it" in strip.how.text()
    strip.set_results([], "No similar sarees yet: import more photos.")
    assert not strip.how.isVisible()


def test_compare_opens_the_compared_photo_in_the_main_window(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis is not None, timeout=10000)
    ids = win.photo.similar.result_ids()
    assert ids
    first = win.current_item().id
    win.photo.similar.compareRequested.emit(ids[0])
    dlg = win._compare
    assert dlg is not None and dlg.isVisible()
    assert dlg.open_button.isEnabled() and dlg.open_button.text() == "Open this photo"
    qtbot.mouseClick(dlg.open_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert not dlg.isVisible()
    assert win.current_item().id == ids[0] != first
    qtbot.waitUntil(lambda: win.photo.analysis.key == ids[0], timeout=10000)
