"""What a curator reads: the retraining window that fits its text, the Model dialog's word on
real photographs, review states that say what they count, teaching's status words, and the
knowledge cards without raw scores."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from saree_app.collection.models import ModelChoice
from saree_app.gui.items import CONFIRMED, UNCERTAIN, UNCONFIRMED, Item
from saree_app.gui.library import RerankResult, Teaching
from tests.gui.conftest import wait_idle

QtCore = pytest.importorskip("PySide6.QtCore")
QtGui = pytest.importorskip("PySide6.QtGui")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")

REPO = Path(__file__).resolve().parents[2]
LONG_INTRO = (
    "Learning from 14 confirmed photos of 5 traditions. This can take from minutes to an hour "
    "or more; you can keep working meanwhile (photos you confirm from now on are not in this "
    "run). Left out: Gadwal (1 photo, 2 needed); Ilkal (1 photo, 2 needed)."
)


# ---------------------------------------------------------------------- 1. retraining window
def _cut_off(dlg) -> list[str]:  # type: ignore[no-untyped-def]
    """The visible labels of the window whose text does not fit the room they were given."""
    out = []
    for label in dlg.findChildren(QtWidgets.QLabel):
        if not label.isVisibleTo(dlg) or not label.text():
            continue
        need = label.heightForWidth(label.width()) if label.wordWrap() else 0
        need = max(need, label.minimumSizeHint().height())
        inside = dlg.rect().contains(label.geometry())
        if label.height() < need or not inside:
            out.append(label.text()[:40])
    return out


def test_the_retraining_window_grows_to_its_text_once_training_starts(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.retrain import RetrainDialog

    dlg = RetrainDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    checking = dlg.height()
    assert _cut_off(dlg) == []
    dlg.begin(LONG_INTRO)
    dlg.set_line("Learning the traditions: pass 60 of 300 (about 45 s left)")
    dlg.set_elapsed(22)
    qtbot.wait(50)
    # The training's intro, its latest step and the time it ran are all readable.
    assert dlg.height() > checking
    assert _cut_off(dlg) == []
    # A step that wraps onto more lines makes room for itself too.
    dlg.set_line("Reading each photo's parts: " + "a long step of the training, " * 8)
    qtbot.wait(50)
    assert _cut_off(dlg) == []
    dlg.show_stopped(30)
    qtbot.wait(50)
    assert _cut_off(dlg) == []


# ---------------------------------------------------------------------- 2. Model dialog
def _choice(shipped: bool, sha: str = "0" * 64, summary: str = "") -> ModelChoice:
    return ModelChoice(Path("/nowhere/saree-model.json"), "saree-model", sha, shipped, summary)


def test_the_shipped_model_says_it_is_close_to_guessing_on_real_photos() -> None:
    from saree_app.gui.models import SHIPPED_REAL, choice_text

    sha = next(iter(SHIPPED_REAL)) + "0" * 56
    summary = "held-back accuracy 92% on 720 rendered photos · trained on 30,600 photos"
    text = choice_text(_choice(True, sha, summary), None, {})
    assert text.startswith("Shipped model\n    held-back accuracy 92% on 720 rendered photos")
    real = text.splitlines()[-1]
    assert "close to guessing" in real
    assert "174 real photographs of 15 traditions" in real and "14%" in real
    assert "teach" in real and "retrain" in real.lower()  # how it gets better


def test_another_shipped_model_gets_no_borrowed_figures() -> None:
    from saree_app.gui.models import choice_text

    real = choice_text(_choice(True, "f" * 64), None, {}).splitlines()[-1]
    assert "close to guessing" in real and "teach" in real
    assert "174" not in real and "%" not in real


def test_a_retrained_model_shows_its_own_check_on_the_curators_photos() -> None:
    from saree_app.gui.models import choice_text

    raw = {
        "training": {"catalogue": "museum.saree", "photos": {"train": 30, "heldout": 10}},
        "evaluation": {"heldout": {"photos": 10, "top1": 0.7, "balanced_accuracy": 0.7}},
    }
    real = choice_text(_choice(False), None, raw).splitlines()[-1]
    assert "7 of the 10 confirmed photos" in real  # a count: 10 photos are a handful
    assert "174" not in real and "guessing" not in real
    unchecked = choice_text(_choice(False), None, {"training": {"catalogue": "x"}})
    assert "%" not in unchecked.splitlines()[-1]
    other = choice_text(_choice(False), None, {}).splitlines()[-1]
    assert "not known" in other and "%" not in other


def test_the_real_photo_figure_belongs_to_the_shipped_model() -> None:
    """The figure is the model card's for the model in models/: tied to its sha256."""
    from saree_app.gui.models import SHIPPED_REAL

    manifest = REPO / "models" / "saree-model.json"
    if not manifest.is_file():
        pytest.skip("no shipped model in this checkout")
    sha = json.loads(manifest.read_text(encoding="utf-8")).get("sha256", "")
    assert any(sha.startswith(k) for k in SHIPPED_REAL)


# ---------------------------------------------------------------------- 3. review states
def _items() -> list[Item]:
    out = [Item(1, "guess.jpg", Path("/x/guess.jpg"), "Kanchipuram", 0.57)]
    out += [
        Item(10 + i, f"flag{i}.jpg", Path(f"/x/flag{i}.jpg"), "Paithani", 0.2, uncertain=True)
        for i in range(29)
    ]
    return out


def test_the_review_facets_say_what_they_count(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.browser import FacetPanel

    panel = FacetPanel()
    qtbot.addWidget(panel)
    panel.update_counts(_items())
    texts = {k: b.text() for k, b in panel.status_buttons.items()}
    # One unflagged guess is not "one photo to review": 30 are still to confirm.
    assert not any("review" in t.lower() for t in texts.values())
    assert "guess" in texts[UNCONFIRMED].lower() and texts[UNCONFIRMED].endswith(" 1")
    assert "uncertain" in texts[UNCERTAIN].lower() and texts[UNCERTAIN].endswith(" 29")
    assert "30" in panel.to_confirm.text() and "confirm" in panel.to_confirm.text()
    for key in (UNCONFIRMED, UNCERTAIN, CONFIRMED):
        b = panel.status_buttons[key]
        assert b.toolTip() and not b.icon().isNull()  # each state's grid mark: the legend
    assert "still" in panel.status_buttons[UNCONFIRMED].toolTip().lower()


def _cell(item: Item) -> QtGui.QImage:  # type: ignore[name-defined]
    from saree_app.gui.browser import CELL, ThumbDelegate

    delegate = ThumbDelegate()
    pm = QtGui.QPixmap(CELL)
    pm.fill(QtGui.QColor("#ffffff"))
    p = QtGui.QPainter(pm)
    opt = QtWidgets.QStyleOptionViewItem()
    opt.rect = QtCore.QRect(QtCore.QPoint(0, 0), CELL)
    opt.font = QtWidgets.QApplication.font()
    delegate._paint_cell(p, opt, item, selected=False, pm=None, label="Kanchipuram silk")
    p.end()
    return pm.toImage()


def _dark_and_green(img, top: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Dark pixels (text) and green ones (the confirmed mark) below `top`."""
    dark = green = 0
    for y in range(top, img.height()):
        for x in range(img.width()):
            c = img.pixelColor(x, y)
            dark += c.lightness() < 110
            green += c.green() > c.red() + 40 and c.green() > c.blue() + 30
    return dark, green


def test_a_model_guess_never_looks_like_a_confirmation(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.browser import CollectionModel
    from saree_app.gui.thumbs import THUMB_SIZE, ThumbnailLoader, ThumbnailStore

    guess = Item(1, "a.jpg", Path("/x/a.jpg"), "Kanchipuram", 0.57)
    mine = Item(1, "a.jpg", Path("/x/a.jpg"), "Kanchipuram", 0.57, confirmed="Kanchipuram")
    top = THUMB_SIZE + 14 + QtGui.QFontMetrics(QtWidgets.QApplication.font()).height()
    g_dark, g_green = _dark_and_green(_cell(guess), top)
    m_dark, m_green = _dark_and_green(_cell(mine), top)
    # The curator's own answer is drawn dark, in bold, beside a green mark; the model's guess
    # in light grey with no green at all.
    assert m_dark > 2 * max(g_dark, 1) and m_green > 20 and g_green == 0
    # The tooltip names which is which.
    loader = ThumbnailLoader(ThumbnailStore(tmp_path / "thumbs"))
    model = CollectionModel(loader)
    model.set_items([guess])
    tip = model.data(model.index(0), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "guess" in tip and "not yet confirmed" in tip
    model.set_items([mine])
    tip = model.data(model.index(0), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "confirmed by you" in tip
    loader.shutdown()


# ---------------------------------------------------------------------- 4. teaching's words
def _teaching(rows: tuple[tuple[str, int, bool], ...], reliability: str = "x") -> Teaching:
    return Teaching(rows, reliability, False, sum(n for _t, n, _a in rows))


def test_one_tradition_says_a_second_must_be_confirmed() -> None:
    from saree_app.gui.teaching import done_text

    r = RerankResult(_teaching((("Kanchipuram", 3, True),)), 0, 0, ())
    text = done_text(r)
    assert "a second one" in text
    assert "re-ranked 0" not in text and "0 answers" not in text


def test_the_re_rank_counts_the_photos_it_names() -> None:
    from saree_app.gui.teaching import TaughtResult, done_text

    teaching = _teaching((("Kanchipuram", 7, True), ("Paithani", 5, True)))
    text = done_text(TaughtResult(teaching, 30, 4, (), photos=30))
    assert "12 confirmed photos" in text
    # Every answer was re-ranked, the confirmed photos' too (each without itself), as the
    # progress counted them ("re-ranked 30 of 30 photos"): not "the 18 not yet confirmed".
    assert "re-ranked all 30 photos, your confirmed ones each answered as if" in text
    assert "18" not in text
    assert "4 answers changed" in text


def test_undo_stays_readable_after_the_re_rank(qtbot, imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("saree_app.gui.window.show_error", lambda *a, **k: None)
    win = imported
    for row, tradition in ((0, "Banarasi"), (1, "Kasavu")):
        win.grid.setCurrentIndex(win.model.index(row))
        wait_idle(qtbot, win)
        win.confirm(tradition)
        wait_idle(qtbot, win)
    said: list[str] = []
    win.statusBar().messageChanged.connect(said.append)
    with qtbot.waitSignal(win.reranker.finished, timeout=30000):
        assert win.undo()
    wait_idle(qtbot, win)
    message = win.statusBar().currentMessage()
    # What was undone is still said, with what teaching did after it.
    assert message.startswith("Undone: ")
    assert "a second one" in message  # one tradition is left confirmed
    assert said[0].startswith("Undone: ")


# ---------------------------------------------------------------------- 5. knowledge cards
def test_typicality_and_neighbours_read_in_words() -> None:
    from saree_app.gui.knowledge_page import how_often, shared_words

    assert how_often(0.4) == "in about 4 of 10 of its sarees"
    assert how_often(0.5) == "in about half of its sarees"
    assert how_often(0.25) == "in about 3 of 10 of its sarees"
    assert how_often(0.95) == "in nearly all of its sarees"
    assert how_often(0.0) == "rarely in its sarees"
    assert [shared_words(s) for s in (0.85, 0.43, 0.17)] == ["many", "some", "a few"]


def test_the_card_has_no_raw_scores(qtbot) -> None:  # type: ignore[no-untyped-def]
    import re

    from saree_app.gui.knowledge_page import KnowledgePage
    from saree_app.knowledge.graph import TextileGraph

    graph = TextileGraph.load()
    page = KnowledgePage()
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.set_graph(graph, label=graph.label)
    assert page.show_tradition("Kanchipuram")
    text = page.card.toPlainText()
    assert "typicality" not in text
    assert "in about 9 of 10 of its sarees, on the border" in text  # temple border, 0.9
    lines = text.splitlines()
    near = lines[lines.index("Neighbours") + 1 :][:3]
    assert any(line.startswith("shares ") for line in near)
    # No similarity score such as "0.43" after a neighbour's name.
    assert not any(re.search(r"\b0\.\d\d\b", line) for line in near)


def test_the_knowledge_tab_opens_on_the_photo_looked_at(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.window import TAB_COLLECTION, TAB_KNOWLEDGE

    win = imported
    rows = [r for r in range(win.model.rowCount()) if win.model.item(r).tradition]
    a = rows[0]
    b = rows[1]
    win.grid.setCurrentIndex(win.model.index(a))
    win.tabs.setCurrentIndex(TAB_KNOWLEDGE)
    assert win.knowledge.current() == win.model.item(a).tradition
    # A card the curator goes to stays while they look away and back from the same photo.
    target = "Bomkai" if win.model.item(a).tradition != "Bomkai" else "Ilkal"
    assert win.knowledge.show_tradition(target)
    win.tabs.setCurrentIndex(TAB_COLLECTION)
    win.tabs.setCurrentIndex(TAB_KNOWLEDGE)
    assert win.knowledge.current() == target
    # Another photo looked at: its card (not the one the curator went to for the first).
    win.tabs.setCurrentIndex(TAB_COLLECTION)
    win.grid.setCurrentIndex(win.model.index(b))
    win.tabs.setCurrentIndex(TAB_KNOWLEDGE)
    assert win.knowledge.current() == win.model.item(b).tradition


def test_the_status_bar_and_model_card_name_the_model_as_the_menu_does(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from saree_app.collection import models as models_mod
    from saree_app.gui import dialogs
    from saree_app.gui import window as window_mod

    lib = window.library
    manifest = lib.predictor.manifest
    # The model the window loaded (a test model): named as the Model menu names a model of
    # its own, its file name and fingerprint kept for a report.
    assert window.model_label.text().startswith("Retrained model")
    assert manifest.sha256[:8] in window.model_label.toolTip()
    # Taken for the shipped model, it reads so.
    monkeypatch.setattr(models_mod, "shipped_model", lambda: Path(manifest.path))
    assert lib.model_in_use().shipped and lib.model_in_use().title == "Shipped model"
    shown: list[str] = []

    def fake_dialog(card, parent=None, *, preface=None, manifest=None):  # type: ignore[no-untyped-def]
        shown.append(preface or "")
        return SimpleNamespace(exec=lambda: 0)

    monkeypatch.setattr(window_mod, "model_card_dialog", fake_dialog)
    window.show_model_card()
    assert shown and shown[0].startswith("Shipped model: ")
    assert "close to guessing until you teach it" in shown[0]
    # The card itself opens with it, before the specialists' text.
    dlg = dialogs.model_card_dialog(None, preface="Shipped model: close to guessing.")
    text = dlg.browser.toPlainText()
    assert text.index("In short") < text.index("close to guessing") < text.index("No model card")
    dlg.close()


def test_a_damaged_model_choice_is_said_when_the_collection_opens(tmp_path: Path) -> None:
    from saree_app.collection.models import model_file
    from saree_app.gui.library import Library

    cat = tmp_path / "c.saree"
    model_file(cat).write_bytes(b"{not json")
    lib = Library(cat)
    try:
        assert lib.model_note is not None and "damaged" in lib.model_note
        assert "The shipped model is used meanwhile; choose" in lib.model_note
        assert "without asking" not in lib.model_note and "saree model" not in lib.model_note
        assert lib._model_path is None
    finally:
        lib.close()
    # A sound file says nothing.
    model_file(cat).write_text('{"model": null, "known": []}', encoding="utf-8")
    lib = Library(cat)
    try:
        assert lib.model_note is None
    finally:
        lib.close()


def test_the_app_refuses_another_name_of_a_known_tradition_as_new(tmp_path: Path) -> None:
    from saree_app.gui.library import Library
    from saree_app.knowledge.graph import TextileGraph

    lib = Library(tmp_path / "c.saree")
    try:
        lib.graph = TextileGraph.load()
        local = next(iter(lib.graph.local_names("Kanchipuram")))
        problem = lib.tradition_problem(local)
        assert problem is not None and "another name of Kanchipuram silk" in problem
        assert lib.tradition_problem("Kotpad") is None
    finally:
        lib.close()


def test_a_confirmed_photos_page_leads_with_the_curators_decision(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.window import TAB_PHOTO

    win = imported
    win.grid.setCurrentIndex(win.model.index(0))
    win.tabs.setCurrentIndex(TAB_PHOTO)
    wait_idle(qtbot, win)
    panel = win.photo.answer
    qtbot.waitUntil(lambda: panel._shown is not None, timeout=30000)
    before = panel.answer_set.text()
    assert "Confirmed by you" not in before
    # Confirmed as a tradition other than the app's answer: the curator's word leads, the
    # app's own answer is said to be its own, and no "Uncertain" banner argues with it.
    top = panel._shown[1].fused.ranking[0]
    other = next(t for t in ("Banarasi", "Kanchipuram", "Paithani") if t != top.tradition)
    win.confirm(other)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: "Confirmed by you" in panel.answer_set.text(), timeout=30000)
    assert win.library.label(other) in panel.answer_set.text()
    how = html.unescape(panel.answer_set_how.text())
    assert "The app's own answer, without your label, is" in how
    assert panel.banner.isHidden()
    # Another photo, not confirmed: the app's answer set leads again.
    win.grid.setCurrentIndex(win.model.index(1))
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: "Confirmed by you" not in panel.answer_set.text(), timeout=30000)
