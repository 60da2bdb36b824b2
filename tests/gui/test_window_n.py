"""The main window, after a curator's walk: File ▸ Open / New collection, a change that cannot
be written to the collection file, and status messages that stay readable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.gui.conftest import wait_idle

QtCore = pytest.importorskip("PySide6.QtCore")
QtGui = pytest.importorskip("PySide6.QtGui")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Error boxes are recorded (title, message, details) instead of blocking the test."""
    shown: list[tuple[str, str, str]] = []
    monkeypatch.setattr(
        "saree_app.gui.window.show_error",
        lambda parent, title, message, details="": shown.append((title, message, details)),
    )
    return shown


def _file_menu(win):  # type: ignore[no-untyped-def]
    bar = win.menuBar()
    return next(a.menu() for a in bar.actions() if a.text() == "&File")


def _keys(action) -> list[str]:  # type: ignore[no-untyped-def]
    return [k.toString() for k in action.shortcuts()]


def _confirm(qtbot, win, pairs) -> None:  # type: ignore[no-untyped-def]
    for row, tradition in pairs:
        win.grid.setCurrentIndex(win.model.index(row))
        wait_idle(qtbot, win)
        win.confirm(tradition)
        wait_idle(qtbot, win)


# ---------------------------------------------------------------------- 1. open / new
def test_the_file_menu_opens_and_makes_collections_with_their_shortcuts(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.dialogs import SHORTCUTS

    win = window
    menu = [a for a in _file_menu(win).actions() if not a.isSeparator()]
    assert [a.text() for a in menu[:2]] == ["&Open collection…", "&New collection…"]
    assert _keys(win.act_open_collection) == ["Ctrl+O"]
    assert _keys(win.act_new_collection) == ["Ctrl+N"]
    # No other action of the window answers to the same keys.
    taken: dict[str, list[str]] = {}
    for action in win.findChildren(QtGui.QAction):
        for key in _keys(action):
            taken.setdefault(key, []).append(action.text())
    assert taken["Ctrl+O"] == ["&Open collection…"]
    assert taken["Ctrl+N"] == ["&New collection…"]
    # The shortcuts list the app shows (F1) names them.
    keys = dict(SHORTCUTS)
    assert "collection" in keys["Ctrl+O"].lower() and "new" in keys["Ctrl+N"].lower()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    flat = " ".join(readme.split())
    assert "File > Open collection… (Ctrl+O)" in flat
    assert "File > New collection… (Ctrl+N)" in flat


def test_new_collection_makes_an_empty_catalogue_and_remembers_it(  # type: ignore[no-untyped-def]
    qtbot, imported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, boxes
) -> None:
    win = imported
    first = win.library.path
    asked: list[tuple[str, str]] = []

    def save_name(parent, caption, folder, filters, *a, **k):  # type: ignore[no-untyped-def]
        asked.append((folder, filters))
        return str(tmp_path / "Museum 2024"), ""

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", save_name)
    win.act_new_collection.trigger()
    wait_idle(qtbot, win)
    made = tmp_path / "Museum 2024.saree"  # the app's own suffix is added
    assert asked == [(str(first.parent), asked[0][1])] and "*.saree" in asked[0][1]
    assert made.is_file() and win.library.path == made
    assert win.model.rowCount() == 0 and win.collection_stack.currentWidget() is win.empty
    assert win.windowTitle().startswith("Museum 2024")
    assert win.settings.value("collection") == str(made)
    assert "New collection Museum 2024.saree" in win.statusBar().currentMessage()
    assert boxes == []

    # A name that exists already is never replaced: the open collection stays.
    before = first.read_bytes()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(first), ""))
    assert not win.choose_new_collection()
    assert first.read_bytes() == before and win.library.path == made
    assert boxes and boxes[-1][0] == "Collection not made" and "exists already" in boxes[-1][1]

    # A deleted collection's side files under the name: refused, not taken over.
    gone = tmp_path / "Old.saree"
    (tmp_path / "Old.saree.removed.json").write_text("[]", encoding="utf-8")
    (tmp_path / "Old.saree.csv").write_text("an export", encoding="utf-8")  # not a side file
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(gone), ""))
    assert not win.choose_new_collection()
    assert not gone.exists() and win.library.path == made
    said = boxes[-1][1]
    assert "Old.saree.removed.json" in said and "Old.saree.csv" not in said
    assert "earlier collection" in said

    # Cancelled: nothing happens.
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert not win.choose_new_collection() and win.library.path == made


def test_open_collection_switches_and_refuses_what_is_not_one(  # type: ignore[no-untyped-def]
    qtbot, imported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, make_window, boxes
) -> None:
    win = imported
    first = win.library.path
    assert win.open_collection(tmp_path / "other.saree")
    wait_idle(qtbot, win)
    assert win.model.rowCount() == 0
    chosen: list[str] = []

    def open_name(parent, caption, folder, filters, *a, **k):  # type: ignore[no-untyped-def]
        chosen.append(filters)
        return str(first), ""

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", open_name)
    win.act_open_collection.trigger()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.model.rowCount() == 9, timeout=10000)
    assert chosen and chosen[0].startswith("Saree collections (*.saree")
    assert win.library.path == first
    assert win.settings.value("collection") == str(first)
    assert boxes == []

    # Not a catalogue: the message Settings gives, and this collection stays open.
    bad = tmp_path / "notes.saree"
    bad.write_bytes(b"this is not sqlite" * 100)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    assert not win.choose_open_collection()
    assert boxes and boxes[-1][0] == "Cannot open the collection" and "notes.saree" in boxes[-1][1]
    assert win.library.path == first and win.model.rowCount() == 9
    assert win.settings.value("collection") == str(first)

    # The choice is kept: the next start opens it.
    win.settings.sync()
    win.close()
    again = make_window(collection=Path(str(win.settings.value("collection"))))
    assert again.library.path == first


# ---------------------------------------------------------------------- 2. not written
def _fail_with(win, monkeypatch: pytest.MonkeyPatch, said: str) -> None:  # type: ignore[no-untyped-def]
    from saree_app.collection.catalog import CatalogError

    lib = win.library

    def decide(*a, **k):  # type: ignore[no-untyped-def]
        try:
            raise sqlite3.OperationalError(said)
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"{lib.path}: {said}") from exc

    monkeypatch.setattr(lib, "decide", decide)


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("disk I/O error", "read-only, locked by another program, or on a disk that is full"),
        ("attempt to write a readonly database", "read-only"),
        ("database is locked", "Another program"),
        ("database or disk is full", "disk it is on is full"),
    ],
)
def test_a_change_the_file_refuses_is_said_in_a_curators_words(  # type: ignore[no-untyped-def]
    qtbot, imported, monkeypatch: pytest.MonkeyPatch, boxes, *, said: str, reason: str
) -> None:
    win = imported
    item = win.model.item(0)
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    _fail_with(win, monkeypatch, said)
    win.confirm("Banarasi")
    assert len(boxes) == 1
    title, message, details = boxes[0]
    assert title == "Not saved"
    assert "could not be written to" in message and win.library.path.name in message
    assert reason in message
    assert said not in message, "sqlite's words go to the details"
    assert said in details and str(win.library.path) in details
    assert "Everything saved before is still there." in message
    assert win.library.catalog.label(item.id) is None  # nothing was stored, nothing lost
    assert not win.act_undo.isEnabled()


def test_a_real_read_only_catalogue_is_said_plainly(qtbot, imported, boxes) -> None:  # type: ignore[no-untyped-def]
    win = imported
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    win.library.catalog.run("PRAGMA query_only = ON")  # sqlite refuses every write from now on
    win.confirm("Banarasi")
    assert boxes and boxes[0][0] == "Not saved"
    assert "could not be written to" in boxes[0][1] and "read-only" in boxes[0][1]
    assert "readonly" in boxes[0][2]


def test_other_failures_keep_their_own_words() -> None:
    from saree_app.collection.catalog import CatalogError
    from saree_app.gui.dialogs import not_saved_text

    message, _ = not_saved_text(CatalogError("no photo 12 in the collection"), None)
    assert message == "The change could not be saved: no photo 12 in the collection"
    message, _ = not_saved_text(PermissionError(13, "Permission denied"), Path("c.saree"))
    assert "“c.saree” could not be written to" in message and "read-only" in message


# ---------------------------------------------------------------------- 3. messages stay
def test_an_empty_folder_is_named_and_its_message_stays(  # type: ignore[no-untyped-def]
    qtbot, imported, tmp_path: Path
) -> None:
    win = imported
    _confirm(qtbot, win, [(0, "Banarasi"), (1, "Kasavu")])
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    runs: list[object] = []
    win.reranker.finished.connect(runs.append)
    win.start_import([empty])
    wait_idle(qtbot, win)
    said = f"No photos were found in the folder {empty}"
    assert win.statusBar().currentMessage().startswith(said)
    assert "nothing was added." in win.statusBar().currentMessage()
    assert not win.reranker.busy, "nothing was added: nothing to re-rank"
    qtbot.wait(600)
    assert runs == []
    assert win.statusBar().currentMessage().startswith(said)


def test_how_to_undo_a_removal_stays_readable_before_teaching_reports(  # type: ignore[no-untyped-def]
    qtbot, imported, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("saree_app.gui.window._HOLD_MS", 2500, raising=False)
    win = imported
    _confirm(qtbot, win, [(0, "Banarasi"), (1, "Kasavu")])
    said: list[str] = []
    win.statusBar().messageChanged.connect(said.append)
    ids = [it.id for it in win.model.all_items()[5:7]]
    with qtbot.waitSignal(win.reranker.finished, timeout=30000):
        assert win.housekeeping.remove(ids)
    wait_idle(qtbot, win)
    removed = win.housekeeping.last_message
    assert "Undo (Ctrl+Z) puts them back." in removed
    assert win.statusBar().currentMessage() == removed, "teaching waits behind it"
    # Once it has been up a while, teaching's report comes.
    qtbot.waitUntil(lambda: "Taught from your" in win.statusBar().currentMessage(), timeout=8000)
    assert said[0] == removed
    assert said.index(removed) < next(i for i, m in enumerate(said) if "Taught from" in m)

    # Putting them back is held the same way.
    said.clear()
    with qtbot.waitSignal(win.reranker.finished, timeout=30000):
        assert win.undo()
    wait_idle(qtbot, win)
    assert win.statusBar().currentMessage() == "Put back 2 photos."
    qtbot.waitUntil(lambda: "Taught from your" in win.statusBar().currentMessage(), timeout=8000)


def test_an_import_that_adds_photos_is_reported_before_teaching(  # type: ignore[no-untyped-def]
    qtbot, imported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.gui.conftest import write_photos

    monkeypatch.setattr("saree_app.gui.window._HOLD_MS", 2500, raising=False)
    win = imported
    _confirm(qtbot, win, [(0, "Banarasi"), (1, "Kasavu")])
    more = tmp_path / "more"
    write_photos(more, 2, seed=5)
    with qtbot.waitSignal(win.reranker.finished, timeout=60000):
        win.start_import([more])
    wait_idle(qtbot, win)
    assert win.statusBar().currentMessage().startswith("Import finished: 2 added")
    qtbot.waitUntil(lambda: "Taught from your" in win.statusBar().currentMessage(), timeout=8000)


def test_a_plain_confirmation_gives_way_to_teaching_at_once(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    _confirm(qtbot, win, [(0, "Banarasi")])
    win.grid.setCurrentIndex(win.model.index(1))
    wait_idle(qtbot, win)
    with qtbot.waitSignal(win.reranker.finished, timeout=30000):
        win.confirm("Kasavu")
    wait_idle(qtbot, win)
    assert "Taught from your 2 confirmed photos" in win.statusBar().currentMessage()


def test_an_import_that_brings_photos_up_to_date_re_ranks(  # type: ignore[no-untyped-def]
    qtbot, imported, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing added, but photos already there got their cloth features (what teaching
    compares): the collection is re-ranked; an import that changed nothing is not."""
    from saree_app.collection.importer import ImportProgress

    win = imported
    _confirm(qtbot, win, [(0, "Banarasi"), (1, "Kasavu")])
    wait_idle(qtbot, win)
    asked: list[bool] = []
    monkeypatch.setattr(win.reranker, "schedule", lambda *a, **k: asked.append(True))
    win._import_paths = []
    win._import_done(ImportProgress(4, 4, "", 0, 4, (), finished=True, updated=3))
    assert asked == [True]
    asked.clear()
    win._import_done(ImportProgress(4, 4, "", 0, 4, (), finished=True))
    assert asked == []
