"""Removing photos from the window (and Undo), missing files in the grid, finding moved photos."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.gui.conftest import wait_idle


def _ids(win) -> list[int]:  # type: ignore[no-untyped-def]
    return [it.id for it in win.model.all_items()]


def test_remove_selected_and_undo(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    lib = win.library
    first, second = win.model.all_items()[:2]
    lib.catalog.set_label(first.id, tradition="Banarasi", note="donor's note")
    lib.catalog.add_tags(first.id, ["gift"])
    win.select_item(first.id)
    win.grid.selectionModel().select(
        win.model.index(win.model.row_of(second.id)),
        win.grid.selectionModel().SelectionFlag.Select,
    )
    assert win.housekeeping.act_remove.isEnabled()
    win.housekeeping.act_remove.trigger()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: len(_ids(win)) == 7, timeout=10000)
    assert first.id not in _ids(win) and second.id not in _ids(win)
    assert first.path.exists(), "removing never touches the file"
    assert win.housekeeping.last_message.startswith(
        "Removed 2 photos from the collection; the files stay on disk. Undo ("
    )
    assert win.act_undo.isEnabled() and "removing 2 photos" in win.act_undo.text()

    assert win.undo()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: len(_ids(win)) == 9, timeout=10000)
    assert lib.catalog.label(first.id).note == "donor's note"
    assert lib.catalog.tags(first.id) == ["gift"]
    assert win.housekeeping.last_message == "Put back 2 photos."
    assert not win.act_undo.isEnabled()
    from saree_app.collection import housekeeping as hk

    assert hk.removals(lib.catalog) == [], "an undone removal is not offered again"


def test_missing_file_is_marked_and_found_again(  # type: ignore[no-untyped-def]
    qtbot, imported, tmp_path: Path
) -> None:
    from saree_app.gui.browser import MissingRole

    win = imported
    item = win.model.all_items()[0]
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(str(item.path), str(moved / "renamed.jpg"))
    win.thumbs.clear()
    row = win.model.row_of(item.id)
    idx = win.model.index(row)
    win.model.data(idx, 1)  # asks for the thumbnail; it fails, the file is gone
    qtbot.waitUntil(lambda: win.thumbs.is_broken(item.id), timeout=10000)
    assert win.model.data(idx, MissingRole) is True
    assert "File missing" in win.model.data(idx, 3)  # the tooltip says so
    other = win.model.index(win.model.row_of(win.model.all_items()[1].id))
    assert win.model.data(other, MissingRole) is False

    win.housekeeping.relocate_to(moved)
    wait_idle(qtbot, win)
    assert win.housekeeping.last_message == "Found 1 missing photo in the new folder."

    def moved_here() -> bool:
        # By id: the refreshed list need not keep the photo first.
        now = [it for it in win.model.all_items() if it.id == item.id]
        return bool(now) and now[0].path == (moved / "renamed.jpg").resolve()

    qtbot.waitUntil(moved_here, timeout=30000)
    win.model.data(win.model.index(win.model.row_of(item.id)), 1)
    qtbot.waitUntil(lambda: win.thumbs.pixmap(item.id) is not None, timeout=10000)
    assert win.model.data(win.model.index(win.model.row_of(item.id)), MissingRole) is False


def test_a_removal_can_be_undone_after_a_restart(qtbot, imported, make_window) -> None:  # type: ignore[no-untyped-def]
    win = imported
    gone = win.model.all_items()[0]
    win.select_item(gone.id)
    assert win.housekeeping.remove([gone.id])
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: len(_ids(win)) == 8, timeout=10000)
    path = win.library.path
    win.close()

    again = make_window(collection=path)
    qtbot.waitUntil(lambda: len(_ids(again)) == 8, timeout=10000)
    assert again.act_undo.isEnabled(), "Undo forgot the removal when the app was restarted"
    assert f"removing photo {gone.name}" in again.act_undo.text()
    assert again.undo()
    wait_idle(qtbot, again)
    qtbot.waitUntil(lambda: len(_ids(again)) == 9, timeout=10000)
    assert again.housekeeping.last_message == "Put back 1 photo."
    assert not again.act_undo.isEnabled()
    from saree_app.collection import housekeeping as hk

    assert hk.removals(again.library.catalog) == [], "an undone removal is forgotten"
