"""Teaching in the window: re-rank after decisions, several photos confirmed at once, undo,
the teaching panel, and a tradition the app does not know."""

from __future__ import annotations

import re

import pytest

from saree_app.collection.traditions import load_traditions
from saree_app.gui.library import RerankProgress
from saree_app.gui.teaching import progress_text, row_texts
from tests.gui.conftest import wait_idle

QtCore = pytest.importorskip("PySide6.QtCore")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")
Sel = QtCore.QItemSelectionModel.SelectionFlag


@pytest.fixture(autouse=True)
def no_modal_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "saree_app.gui.window.show_error",
        lambda parent, title, message, details="": shown.append((title, message)),
    )
    return shown


def _select_rows(win, rows: list[int]) -> None:  # type: ignore[no-untyped-def]
    sm = win.grid.selectionModel()
    sm.clearSelection()
    for r in rows:
        sm.select(win.model.index(r), Sel.Select)


def _stored_top(win) -> dict[int, str]:  # type: ignore[no-untyped-def]
    sha = win.library.model_sha()
    return {pid: p.top_tradition for pid, p in win.library.catalog.predictions(sha).items()}


def test_a_decision_re_ranks_the_rest_in_the_background(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    seen: list[RerankProgress] = []
    win.reranker.progressed.connect(seen.append)
    items = win.model.all_items()
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    # Traditions no photo has: once taught, the answers of the rest must move towards them.
    before = _stored_top(win)
    assert "Paithani" not in before.values()
    other = next(t for t in win.library.predictor.manifest.labels if t not in before.values())
    win.confirm("Paithani")
    assert win.reranker.busy  # waiting for a pause or running, never on the GUI thread
    wait_idle(qtbot, win)
    # One tradition alone is not told apart from anything: nothing is pulled to it.
    assert _stored_top(win) == before
    win.grid.setCurrentIndex(win.model.index(1))
    wait_idle(qtbot, win)
    win.confirm(other)
    with qtbot.waitSignal(win.reranker.finished, timeout=30000) as done:
        pass
    result = done.args[0]
    wait_idle(qtbot, win)
    after = _stored_top(win)
    # The confirmed photos themselves are left out: each alone teaches its tradition.
    assert result.reranked == len(items) - 2
    assert result.changed == sum(after[i] != before[i] for i in before) > 0
    assert result.teaching.examples == 2
    assert seen[0].examples == 1 and seen[0].total == len(items)
    assert seen[-1].examples == 2 and seen[-1].done == result.reranked
    # The browser shows the new answers without a reload, and the status bar says what happened.
    shown = {it.id: it.predicted for it in win.model.all_items() if not it.confirmed}
    assert shown == {i: after[i] for i in shown}
    assert "re-ranked the 7 photos not yet confirmed, " in win.statusBar().currentMessage()
    assert not win.teach_label.isVisible()


def test_quick_decisions_make_one_re_rank(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    win.reranker.timer.setInterval(400)
    runs: list[object] = []
    win.reranker.finished.connect(runs.append)
    for row in range(3):
        win.grid.setCurrentIndex(win.model.index(row))
        win.confirm("Banarasi")
        qtbot.wait(50)
    wait_idle(qtbot, win)
    assert len(runs) == 1
    assert runs[0].teaching.examples == 3


def test_progress_reads_like_a_curator_talks() -> None:
    assert progress_text(RerankProgress(12, 340, 1200)) == (
        "Teaching from your 12 confirmed photos… re-ranked 340 of 1,200 photos"
    )
    assert progress_text(RerankProgress(1, 0, 9)) == "Teaching from your 1 confirmed photo…"


def test_confirm_several_selected_then_undo(qtbot, imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    win = imported
    asked: list[str] = []

    def answer(parent, title, text, *a, **k):  # type: ignore[no-untyped-def]
        asked.append(title)
        return QtWidgets.QMessageBox.StandardButton.Yes

    monkeypatch.setattr("saree_app.gui.window.QMessageBox.question", answer)
    cat = win.library.catalog
    first = win.model.item(0)
    win.grid.setCurrentIndex(win.model.index(0))
    win.confirm("Paithani")
    wait_idle(qtbot, win)
    _select_rows(win, [0, 1, 2, 3])
    assert win.act_confirm_selected.text() == "Confirm 4 selected"
    shown = {it.id: it.predicted for it in win.selected_items()}
    assert win.confirm_selected()
    assert asked == ["Confirm 3 photos?"]  # the one confirmed before stays as it was
    for pid, top in shown.items():
        label = cat.label(pid)
        want = "Paithani" if pid == first.id else top
        assert label.tradition == want and label.certainty == "confirmed"
    assert all(it.confirmed for it in win.selected_items())
    assert "confirming 3 photos" in win.act_undo.text()
    # Undo takes back the whole bulk decision, and only it.
    win.act_undo.trigger()
    for pid in shown:
        label = cat.label(pid)
        if pid == first.id:
            assert label.tradition == "Paithani"
        else:
            assert label.tradition is None and label.certainty is None
    assert [it.confirmed for it in win.selected_items()] == ["Paithani", None, None, None]
    assert win.act_undo.isEnabled()
    wait_idle(qtbot, win)
    # The one photo left confirmed is a single tradition: it pulls nothing to it.
    assert "Paithani" not in _stored_top(win).values()
    win.act_undo.trigger()
    assert cat.label(first.id).tradition is None
    assert not win.act_undo.isEnabled()
    wait_idle(qtbot, win)
    # Nothing is taught any more: no answer keeps what that photo taught.
    assert "Paithani" not in _stored_top(win).values()
    assert "Paithani" not in {it.predicted for it in win.model.all_items()}


def test_undo_restores_a_previous_correction_and_keeps_a_later_note(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    item = win.current_item()
    win.confirm("Banarasi")
    win.confirm("Paithani")
    win.library.set_note(item.id, "from the donor's letter")
    win.undo()
    label = win.library.catalog.label(item.id)
    assert (label.tradition, label.certainty) == ("Banarasi", "confirmed")
    assert label.note == "from the donor's letter"
    assert win.current_item().confirmed == "Banarasi"
    wait_idle(qtbot, win)


def test_several_selected_asks_first_and_no_means_nothing(qtbot, imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    win = imported
    monkeypatch.setattr(
        "saree_app.gui.window.QMessageBox.question",
        lambda *a, **k: QtWidgets.QMessageBox.StandardButton.No,
    )
    _select_rows(win, [0, 1])
    assert not win.confirm_selected()
    assert win.library.catalog.labels() == {}
    assert not win.act_undo.isEnabled()


def test_teaching_panel_counts_and_says_what_is_missing(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    for row in range(3):
        win.grid.setCurrentIndex(win.model.index(row))
        win.confirm("Banarasi")
    win.grid.setCurrentIndex(win.model.index(3))
    win.confirm("Kanchipuram")
    wait_idle(qtbot, win)
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    rows = {r[0]: r[1:] for r in dlg.rows()}
    label = win.library.label
    # Three confirmed photos with another of their tradition: one short of measuring teaching.
    assert rows[label("Banarasi")] == ["3", "Yes", "Checked once teaching is measured"]
    assert rows[label("Kanchipuram")] == ["1", "Yes", "Needs 1 more to check it"]
    summary = dlg.summary.text()
    assert "How reliable teaching has been: not measured yet" in summary
    assert "it needs 4 such photos, so confirm a second photo of some traditions" in summary
    # No figure yet, so nothing said of what one speaks for; what teaching does is said.
    assert "That is on sarees of" not in summary
    assert "A saree of a tradition you have not confirmed is answered with the nearest" in summary
    dlg.close()


def test_teaching_panel_checks_each_tradition_once_teaching_is_measured(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    for row, tradition in enumerate(["Banarasi"] * 3 + ["Kanchipuram"] * 3):
        win.grid.setCurrentIndex(win.model.index(row))
        win.confirm(tradition)
    wait_idle(qtbot, win)
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    rows = {r[0]: r[1:] for r in dlg.rows()}
    label = win.library.label
    assert "right on" in dlg.summary.text()  # measured: 6 confirmed photos of 2 traditions
    # Shown as written: plain text, no entities for the apostrophes and quotes of its words.
    from PySide6.QtCore import Qt

    assert dlg.summary.textFormat() == Qt.TextFormat.PlainText
    assert "&#" not in dlg.summary.text() and "&amp;" not in dlg.summary.text()
    for tradition in ("Banarasi", "Kanchipuram"):
        assert re.fullmatch(
            r"[0-3] of 3 right when each is left out( \(\d taken for .+\))?",
            rows[label(tradition)][2],
        ), rows
    dlg.close()


def test_the_panel_says_how_sure_answers_read_once_measured() -> None:
    from saree_app.collection.fewshot import AnswerSets
    from saree_app.gui.library import Teaching
    from saree_app.gui.teaching import reliability_text

    sets = AnswerSets(
        size=2, level=0.9, photos=12, coverage=0.92, single=0, single_right=0,
        spread=8.0, stated=0.58, stated_right=0.55,
    )  # fmt: skip
    rows = (("Banarasi", 6, True), ("Kanchipuram", 6, True))
    said = "right on 7 of 12 of your confirmed photos when each is left out"
    text = reliability_text(Teaching(rows, said, True, 12, sets))
    assert text.endswith(
        "Answers are read as sure as teaching has been right: with each of your confirmed photos "
        "held back in turn, the app's answers claimed about 58% for their first tradition and were "
        "right 55% of the time."
    )
    assert "held back in turn" not in reliability_text(Teaching(rows, said, True, 12, None))


def test_row_texts_for_each_state() -> None:
    assert row_texts(0, False) == ("Not yet: confirm a photo of it", "Needs 2 more to check it")
    assert row_texts(1, True) == ("Yes", "Needs 1 more to check it")
    # Two are enough for its own check, once teaching as a whole is measured.
    assert row_texts(2, True) == ("Yes", "Checked once teaching is measured")
    assert row_texts(5, True) == ("Yes", "Checked once teaching is measured")


def test_row_texts_say_how_a_checked_tradition_did() -> None:
    from saree_app.collection.fewshot import TraditionCheck

    check = TraditionCheck("Kotpad", 2, 4, (("Gadwal", 2),))
    assert row_texts(4, True, check, lambda t: t + " sari") == (
        "Yes",
        "2 of 4 right when each is left out (2 taken for Gadwal sari)",
    )
    two = TraditionCheck("Kotpad", 2, 2)
    assert row_texts(2, True, two) == (
        "Yes",
        "2 of 2 right when each is left out; 1 more to check it well",
    )


def test_add_a_tradition_and_label_photos_with_it(qtbot, imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.teaching import NewTraditionDialog

    win = imported

    def fill(dlg) -> int:  # type: ignore[no-untyped-def]
        # A known tradition's name is refused before the curator can press Add.
        dlg.name.setText("banarasi")
        assert "already in the list" in dlg.problem.text()
        assert not dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()
        dlg.name.setText("  Kotpad ")
        dlg.state.setText("Odisha")
        dlg.region.setText("East India")
        dlg.like.setCurrentIndex(dlg.like.findData("Sambalpuri"))
        assert dlg.problem.text() == ""
        return int(NewTraditionDialog.DialogCode.Accepted)

    monkeypatch.setattr(NewTraditionDialog, "exec", fill)
    assert win.add_tradition()
    stored = load_traditions(win.library.path)
    assert [(t.name, t.state, t.region, t.like) for t in stored] == [
        ("Kotpad", "Odisha", "East India", "Sambalpuri")
    ]
    cur = win.photo.curator
    names = [cur.correct_box.itemText(i) for i in range(cur.correct_box.count())]
    assert "Kotpad" in names
    # Correcting a photo to it labels the photo with the curator's name, as written.
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    cur.correct_box.setEditText("Kotpad")
    cur.correct_button.click()
    item = win.current_item()
    assert win.library.catalog.label(item.id).tradition == "Kotpad"
    wait_idle(qtbot, win)
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    rows = {r[0]: r[1:] for r in dlg.rows()}
    key = next(k for k in rows if k.startswith("Kotpad"))
    assert key.splitlines()[1].startswith("added by you · Odisha, East India · resembles ")
    assert rows[key][0] == "1"
    # Its long line wraps in a column of bounded width: the reliability keeps its room.
    from saree_app.gui.teaching import FIRST_COLUMN_MAX

    dlg.resize(900, 640)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.table.columnWidth(0) <= FIRST_COLUMN_MAX
    assert dlg.table.columnWidth(3) >= 200
    dlg.close()
    # It survives reopening the collection.
    path = win.library.path
    win.open_collection(path)
    wait_idle(qtbot, win)
    names = [cur.correct_box.itemText(i) for i in range(cur.correct_box.count())]
    assert "Kotpad" in names


def test_rerank_is_a_plain_function_that_reports_and_stops(tmp_path, photos, tiny_model) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.library import Library
    from saree_app.gui.tasks import Cancelled

    lib = Library(tmp_path / "c.saree", model=tiny_model, import_in_child=False)
    try:
        lib.load()
        for _ in lib.import_paths([photos], lambda: False):
            pass
        ids = [it.id for it in lib.items()]
        # Two traditions, two photos each (one alone would re-rank nothing).
        pairs = [(ids[0], "Paithani"), (ids[1], "Paithani"), (ids[2], "Kasavu"), (ids[3], "Kasavu")]
        lib.decide(pairs, "four")
        seen: list[RerankProgress] = []

        def stop_after_two_batches() -> None:
            if len(seen) > 2:
                raise Cancelled

        lib.rerank_batch = 3
        with pytest.raises(Cancelled):
            lib.rerank(stop_after_two_batches, seen.append)
        assert [p.done for p in seen] == [0, 3, 6]
        assert {(p.examples, p.total) for p in seen} == {(4, 9)}
        seen.clear()
        before = {it.id: it for it in lib.items()}
        result = lib.rerank(lambda: None, seen.append)
        assert result.reranked == seen[-1].done == 9
        assert [p.done for p in seen] == [0, 3, 6, 9]
        # The tiles to redraw: every photo whose answer, probability or flag moved.
        now = {it.id: it for it in lib.items()}
        assert {it.id for it in result.items} <= set(ids)
        for it in result.items:
            assert it == now[it.id]
        assert result.items
        assert {it.id for it in result.items} == {i for i in ids if now[i] != before[i]}
        assert result.teaching.rows == (("Kasavu", 2, True), ("Paithani", 2, True))
    finally:
        lib.close()


def test_needs_teaching_while_most_photos_are_flagged_and_fewer_than_two_are_taught() -> None:
    from pathlib import Path

    from saree_app.gui.items import Item
    from saree_app.gui.window import needs_teaching

    def item(i: int, uncertain: bool, confirmed: str | None = None) -> Item:
        return Item(i, f"p{i}", Path(f"p{i}.jpg"), "Paithani", 0.3, confirmed, uncertain)

    unsure = [item(i, True) for i in range(6)]
    assert needs_teaching(unsure)
    assert not needs_teaching(unsure[:3])  # too few photos to say anything of the collection
    # Half flagged is enough; fewer is a model that is doing well enough on these photos.
    assert needs_teaching(unsure[:3] + [item(i, False) for i in range(3, 6)])
    assert not needs_teaching(unsure[:2] + [item(i, False) for i in range(2, 6)])
    # A confirmed photo is not counted as flagged, whatever the model said.
    assert not needs_teaching([item(i, True, "Paithani") for i in range(4)] + unsure[4:])
    # One tradition confirmed teaches nothing yet; two do.
    one = [item(0, False, "Paithani"), item(1, False, "Paithani"), *unsure[2:]]
    assert needs_teaching(one)
    two = [item(0, False, "Paithani"), item(1, False, "Banarasi"), *unsure[2:]]
    assert not needs_teaching(two)


def test_the_collection_says_how_to_teach_until_two_traditions_are_confirmed(
    qtbot, imported
) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.window import needs_teaching

    win = imported
    # The tiny model's answers on the generated photos are mostly flagged uncertain.
    assert needs_teaching(win.model.all_items())
    # Counts (and the hint) follow the items a moment later, batched.
    qtbot.waitUntil(lambda: win.teach_hint.isVisibleTo(win), timeout=5000)
    assert "confirm or correct a few photos" in win.teach_hint.text()
    win.grid.setCurrentIndex(win.model.index(0))
    win.confirm("Paithani")
    wait_idle(qtbot, win)
    qtbot.wait(600)  # past the batched count update
    assert win.teach_hint.isVisibleTo(win)  # one tradition re-ranks nothing yet
    win.grid.setCurrentIndex(win.model.index(1))
    win.confirm("Banarasi")
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: not win.teach_hint.isVisibleTo(win), timeout=5000)
    win.act_undo.trigger()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.teach_hint.isVisibleTo(win), timeout=5000)


def _confirm_rows(qtbot, win, rows: dict[int, str]) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """Confirm the photos at these grid rows; the ids confirmed, per tradition, from the
    catalogue (not from what the panel is given)."""
    for row, tradition in rows.items():
        win.grid.setCurrentIndex(win.model.index(row))
        win.confirm(tradition)
    wait_idle(qtbot, win)
    out: dict[str, list[int]] = {}
    for pid, tradition in win.library.catalog.confirmed_traditions().items():
        out.setdefault(tradition, []).append(pid)
    return out


def test_a_selected_tradition_shows_the_photos_that_taught_it(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    taught = _confirm_rows(
        qtbot, win, {0: "Banarasi", 1: "Banarasi", 2: "Banarasi", 4: "Kanchipuram"}
    )
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    # The most taught tradition shows at once.
    assert dlg.selected_tradition() == "Banarasi"
    assert sorted(dlg.example_ids()) == sorted(taught["Banarasi"]) and len(taught["Banarasi"]) == 3
    assert (
        dlg.examples_title.text()
        == f"{win.library.label('Banarasi')}: taught by 3 confirmed photos"
    )
    assert dlg.examples.isVisibleTo(dlg) and dlg.show_button.isEnabled()
    # Switching rows switches the photos.
    assert dlg.select_tradition("Kanchipuram")
    assert dlg.example_ids() == taught["Kanchipuram"]
    assert dlg.examples_title.text().endswith("taught by 1 confirmed photo")
    # Thumbnails come from the loader's worker, and replace the blank ones.
    pid = taught["Kanchipuram"][0]
    qtbot.waitUntil(lambda: win.thumbs.pixmap(pid) is not None, timeout=10000)
    shown = dlg.examples.item(0).icon().pixmap(96, 96).toImage()
    assert shown.pixelColor(48, 48).name() != "#efebe4"
    assert dlg.examples_note.text() == "Double-click a photo to show it in the collection."
    # A refresh keeps the curator's choice.
    win.refresh_teaching()
    wait_idle(qtbot, win)
    assert dlg.selected_tradition() == "Kanchipuram"
    dlg.close()


def test_the_panel_shows_a_traditions_photos_in_the_collection(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.items import CONFIRMED
    from saree_app.gui.window import TAB_COLLECTION, TAB_KNOWLEDGE

    win = imported
    taught = _confirm_rows(
        qtbot, win, {0: "Banarasi", 3: "Banarasi", 5: "Kanchipuram", 6: "Kanchipuram"}
    )
    win.tabs.setCurrentIndex(TAB_KNOWLEDGE)
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    assert dlg.select_tradition("Kanchipuram")
    dlg.show_button.click()
    assert win.tabs.currentIndex() == TAB_COLLECTION
    shown = [win.model.item(r).id for r in range(win.model.rowCount())]
    assert sorted(shown) == sorted(taught["Kanchipuram"])
    assert win.facets.status_buttons[CONFIRMED].isChecked()
    assert win.facets.current_filter().tradition == "Kanchipuram"
    # Double-clicking one shows its tradition's photos with that one current.
    assert dlg.select_tradition("Banarasi")
    last = dlg.examples.item(1)
    view = dlg.examples
    at = view.visualItemRect(last).center()
    # A double-click is a press, then the double-click on the same photo (Qt's view needs both).
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=at)
    shown = [win.model.item(r).id for r in range(win.model.rowCount())]
    assert sorted(shown) == sorted(taught["Banarasi"])
    assert win.current_item().id == int(last.data(QtCore.Qt.ItemDataRole.UserRole))
    wait_idle(qtbot, win)
    dlg.close()


def test_a_tradition_with_no_confirmed_photo_says_so(qtbot, imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.teaching import NewTraditionDialog

    win = imported

    def fill(dlg) -> int:  # type: ignore[no-untyped-def]
        dlg.name.setText("Kotpad")
        return int(NewTraditionDialog.DialogCode.Accepted)

    monkeypatch.setattr(NewTraditionDialog, "exec", fill)
    assert win.add_tradition()
    _confirm_rows(qtbot, win, {0: "Banarasi"})
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    assert dlg.select_tradition("Kotpad")
    assert dlg.example_ids() == []
    assert not dlg.examples.isVisibleTo(dlg)
    assert not dlg.show_button.isEnabled()
    assert dlg.examples_title.text() == "Kotpad: no confirmed photo yet"
    assert dlg.examples_note.text().startswith("No photo is confirmed as Kotpad yet: choose it ")
    dlg.close()


def test_a_missing_photo_file_is_shown_as_missing(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    taught = _confirm_rows(qtbot, win, {0: "Banarasi", 1: "Banarasi"})
    gone = next(it for it in win.model.all_items() if it.id == taught["Banarasi"][0])
    gone.path.unlink()
    win.thumbs.clear()  # as if the panel were opened in a later session
    dlg = win.show_teaching()
    wait_idle(qtbot, win)
    assert sorted(dlg.example_ids()) == sorted(taught["Banarasi"])
    qtbot.waitUntil(lambda: "no longer where it was" in dlg.examples_note.text(), timeout=10000)
    assert dlg.examples_note.text().startswith("1 of these photos is no longer where it was: ")
    row = dlg.example_ids().index(gone.id)
    placeholder = dlg.examples.item(row).icon().pixmap(96, 96).toImage()
    assert placeholder.pixelColor(48, 20).name() == "#f6efe6"
    dlg.close()
