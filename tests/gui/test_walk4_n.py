"""What a tester's fourth walk found on the photo page: Tab typed into the note and kept the
keyboard there, Confirm was the 19th Tab stop, a long file name widened the side panel past
the window, a new empty collection kept the last photo's decision and answer on screen, the
correction box did not know the graph's other names nor said when several traditions matched,
old ranking rows stayed under new ones, one Return recorded two decisions, and the F1 list
missed shortcuts the window has."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QScrollArea, QWidget

from tests.gui.conftest import import_into, show_row, wait_idle, write_photos
from tests.gui.fit_check import clipped

LONG_NAME = "sambalpurihaat_1001976352-1601019949.jpg"


def _tab(qtbot, times: int = 1, back: bool = False) -> QWidget:  # type: ignore[no-untyped-def]
    for _ in range(times):
        w = QApplication.focusWidget()
        assert w is not None
        key = Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab
        mods = Qt.KeyboardModifier.ShiftModifier if back else Qt.KeyboardModifier.NoModifier
        qtbot.keyClick(w, key, mods)
    w = QApplication.focusWidget()
    assert w is not None
    return w


def _is(w: QWidget, target: QWidget) -> bool:
    """`w` is `target` or its focus proxy's own widget (a combo box's line edit)."""
    return w is target or (w.parentWidget() is target and target.focusProxy() is w)


# ---------------------------------------------------------------------- 1. Tab and Esc
def test_tab_leaves_the_note_instead_of_typing_into_it(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = show_row(qtbot, win)
    win.activateWindow()
    cur = win.photo.curator
    cur.note.setFocus()
    qtbot.keyClicks(cur.note, "From the donor")
    assert _tab(qtbot) is cur.tags
    assert "\t" not in cur.note.toPlainText()
    assert _tab(qtbot, back=True) is cur.note
    cur.flush_note()
    wait_idle(qtbot, win)
    assert win.library.catalog.label(item.id).note == "From the donor"
    # Esc leaves the field for the photo, keeping what was typed; J then moves on.
    qtbot.keyClicks(cur.note, ".")
    qtbot.keyClick(cur.note, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is win.photo.viewer
    wait_idle(qtbot, win)
    assert win.library.catalog.label(item.id).note == "From the donor."
    for field in (cur.tags, cur.correct_box.lineEdit()):
        field.setFocus()
        qtbot.keyClick(field, Qt.Key.Key_Escape)
        assert QApplication.focusWidget() is win.photo.viewer
    qtbot.keyClick(win.photo.viewer, Qt.Key.Key_J)
    wait_idle(qtbot, win)
    assert win.current_item().id != item.id


def test_the_decision_comes_first_after_the_photo_and_the_why_text_is_no_tab_stop(
    qtbot, imported
) -> None:  # type: ignore[no-untyped-def]
    win = imported
    show_row(qtbot, win)
    win.activateWindow()
    cur, answer = win.photo.curator, win.photo.answer
    win.photo.viewer.setFocus()
    assert _tab(qtbot) is cur.confirm_button
    assert _is(_tab(qtbot), cur.correct_box)
    assert _tab(qtbot) is cur.correct_button
    assert _tab(qtbot) is cur.note
    assert _tab(qtbot) is cur.tags
    # Read-only text takes no Tab stop: not the Why text, nor each source link in it.
    flags = answer.explanation.textInteractionFlags()
    assert not flags & Qt.TextInteractionFlag.LinksAccessibleByKeyboard
    assert answer.explanation.focusPolicy() == Qt.FocusPolicy.NoFocus
    stops = []
    for _ in range(60):
        w = _tab(qtbot)
        if w is cur.confirm_button:
            break
        stops.append(w)
    assert answer.explanation not in stops


# ---------------------------------------------------------------------- 2. long names
@pytest.fixture
def long_named(qtbot, window, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "long"
    paths = write_photos(folder, 3, seed=4)
    paths[0].rename(paths[0].with_name(LONG_NAME))
    import_into(qtbot, window, folder, 3)
    return window


@pytest.mark.parametrize("size", [(1024, 700), (1366, 768)])
def test_a_long_file_name_does_not_widen_the_side_panel(qtbot, long_named, size) -> None:  # type: ignore[no-untyped-def]
    win = long_named
    row = next(r for r in range(3) if win.model.item(r).name == LONG_NAME)
    win.resize(*size)
    show_row(qtbot, win, row)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size)
    QApplication.processEvents()
    side = win.photo.findChild(QScrollArea, "sidePanel")
    content = side.widget()
    assert content.width() <= side.viewport().width(), "the side panel is cut off on the right"
    title = win.photo.answer.title
    assert title.width() <= side.viewport().width()
    assert [c for c in clipped(win) if "answerTitle" in c or "curatorState" in c] == []
    # Cut in its middle, the name keeps its start and end, and says itself in full on hover.
    if title.text() != LONG_NAME:
        assert "…" in title.text() and title.text().endswith(".jpg")
        assert title.text().startswith("samb")
        assert title.toolTip() == LONG_NAME
    assert title.full_text() == LONG_NAME


def test_the_title_elides_only_what_does_not_fit(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.answer import ElidedTitle

    t = ElidedTitle("")
    qtbot.addWidget(t)
    t.show()
    t.resize(120, 60)
    t.setText(LONG_NAME)
    assert "…" in t.text() and t.toolTip() == LONG_NAME
    assert t.fontMetrics().horizontalAdvance(t.text()) <= t.contentsRect().width()
    assert t.minimumSizeHint().width() < 120
    t.setText("No photo selected.")
    assert t.text() == "No photo selected." and t.toolTip() == ""
    t.setText(LONG_NAME)
    t.resize(900, 60)
    assert t.text() == LONG_NAME and t.toolTip() == ""


# ---------------------------------------------------------------------- 3. new collection
def test_a_new_empty_collection_shows_nothing_of_the_last_photo(  # type: ignore[no-untyped-def]
    qtbot, imported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = imported
    show_row(qtbot, win)
    page = win.photo
    qtbot.waitUntil(lambda: page.similar.list.count() > 0, timeout=10000)
    assert page.answer.rank_rows and page.curator.confirm_button.isEnabled()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "Empty"), "")
    )
    win.act_new_collection.trigger()
    wait_idle(qtbot, win)
    assert win.model.rowCount() == 0
    cur = page.curator
    assert not cur.confirm_button.isEnabled() and cur.confirm_button.text() == "Confirm"
    assert not cur.correct_box.isEnabled() and not cur.note.isEnabled()
    assert cur.state.text().startswith("Select a photo")
    assert page.similar.list.count() == 0 and page.similar.result_ids() == []
    assert page.answer.rank_rows == [] and page.answer.part_labels == {}
    for box in (page.answer._rank_box, page.answer._parts_box):
        assert not [w for w in box.findChildren(QWidget) if w.isVisible()]
    assert page.answer.title.text() == "No photo selected."


# ---------------------------------------------------------------------- 4. Correct to…
def _type_and_return(qtbot, box, text: str) -> None:  # type: ignore[no-untyped-def]
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)


def test_correct_to_says_when_several_match_and_knows_other_names(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = show_row(qtbot, win)
    win.activateWindow()
    cur = win.photo.curator
    box = cur.correct_box
    asked: list[str] = []
    cur.confirmRequested.connect(asked.append)
    _type_and_return(qtbot, box, "silk")
    said = cur.state.text()
    assert "No tradition matches" not in said, said
    assert "traditions match “silk”" in said and "pick one" in said
    assert "Kanchipuram silk" in said and asked == []
    # The knowledge graph's other name for Kanchipuram silk, as Add a tradition knows it.
    _type_and_return(qtbot, box, "Kanjeevaram")
    assert asked == ["Kanchipuram"]
    assert win.library.catalog.label(item.id).tradition == "Kanchipuram"
    # The box is empty again for the next correction.
    assert box.currentText() == "" and box.currentIndex() == -1
    # A name of nothing says so.
    _type_and_return(qtbot, box, "Zzyzx")
    assert "No tradition matches “Zzyzx”" in cur.state.text()
    assert asked == ["Kanchipuram"]


def test_the_library_lookup_goes_with_its_labeller(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.curator import CuratorPanel

    win = imported
    panel = CuratorPanel()
    qtbot.addWidget(panel)
    lib = win.library
    panel.set_traditions(lib.traditions(), lib.label)
    panel.correct_box.setEditText("kanjeevaram")
    assert panel.chosen_tradition() == "Kanchipuram"
    # Any other lookup may be handed over; a plain labeller has none.
    panel.set_traditions(lib.traditions(), lib.label, lambda t: "Paithani")
    panel.correct_box.setEditText("kanjeevaram")
    assert panel.chosen_tradition() == "Paithani"

    def plain(t: str) -> str:  # a labeller that is no library's
        return str(lib.label(t))

    panel.set_traditions(lib.traditions(), plain)
    panel.correct_box.setEditText("kanjeevaram")
    assert panel.chosen_tradition() is None


# ---------------------------------------------------------------------- 5. redraw and Return
def test_old_rows_are_hidden_at_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel._fill_ranking([("Paithani", "Paithani", 0.6, True, False)])
    panel._fill_parts({"border": [("Paithani", 0.7)]}, {"border": 0.3})
    qtbot.waitUntil(panel.rank_rows[0][0].isVisible)
    old = [w for row in panel.rank_rows for w in row] + list(panel.part_labels.values())
    assert old and all(w.isVisible() for w in old)
    panel._fill_ranking([("Kanchipuram", "Kanchipuram silk", 0.5, True, False)])
    panel._fill_parts({"pallu": [("Kanchipuram", 0.4)]}, {"pallu": 0.2})
    # No event loop has run: deleted later, the old rows must not be drawn meanwhile.
    assert all(w.isHidden() for w in old)
    qtbot.waitUntil(panel.rank_rows[0][0].isVisible)
    assert len(panel.rank_rows) == 1 and list(panel.part_labels) == ["pallu"]


def test_one_return_makes_one_decision_and_undo_takes_it_back(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = show_row(qtbot, win)
    win.activateWindow()
    cur = win.photo.curator
    asked: list[str] = []
    cur.confirmRequested.connect(asked.append)
    before = len(win._undo)
    _type_and_return(qtbot, cur.correct_box, "Paithani")
    assert asked == ["Paithani"]
    assert len(win._undo) == before + 1
    wait_idle(qtbot, win)
    assert win.library.catalog.label(item.id).tradition == "Paithani"
    assert win.undo()
    wait_idle(qtbot, win)
    assert win.library.catalog.label(item.id).tradition != "Paithani"
    # The Set button and a Return picked from the list of names each decide once too.
    cur.correct_box.setEditText("Paithani")
    cur.correct_button.click()
    assert asked == ["Paithani", "Paithani"]


# ---------------------------------------------------------------------- 6. F1
def test_the_shortcuts_list_names_every_shortcut_the_window_has(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.dialogs import SHORTCUTS, shortcuts_html, unlisted_shortcuts

    win = imported
    actions = win.findChildren(QAction)
    assert sum(1 for a in actions if a.shortcuts()) >= 20
    assert unlisted_shortcuts(actions) == []
    keys = dict(SHORTCUTS)
    assert "remove" in keys["Delete  or  Backspace"].lower()
    assert "object" in keys["Ctrl+G"].lower()
    assert "record" in keys["Ctrl+Shift+R"].lower()
    assert "open" in keys["Enter"].lower()
    assert "leave" in keys["Esc"].lower()
    assert "next" in keys["Tab / Shift+Tab"].lower()
    assert keys["Shift+C  or  Ctrl+Enter"] and keys["J  or  Page Down"]
    # An action given keys the list does not name is added under its own name.
    extra = QAction("&Frobnicate the saree…", win)
    extra.setShortcut("Ctrl+Shift+K")
    assert unlisted_shortcuts([extra]) == [("Ctrl+Shift+K", "Frobnicate the saree")]
    page = shortcuts_html([*actions, extra])
    assert "Ctrl+Shift+K" in page and "Frobnicate the saree" in page
    assert "Ctrl+Shift+K" not in shortcuts_html(actions)
