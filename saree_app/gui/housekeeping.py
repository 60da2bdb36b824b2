"""Edit ▸ Remove from collection (and Undo) and Edit ▸ Find moved photos…

Removing takes the selected photos out of the collection, never off the disk; Undo (Ctrl+Z)
puts them back with their labels, tags, answers and corrected part maps (the core keeps them in
a small file beside the catalogue: collection/housekeeping.py). Finding moved photos asks for
the folder they are in now and recognises each by its content, renamed or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from saree_app.gui.dialogs import show_error
from saree_app.gui.library import Decision
from saree_app.gui.tasks import Cancel

if TYPE_CHECKING:
    from saree_app.gui.window import MainWindow


@dataclass(frozen=True)
class RemovedPhotos(Decision):
    """A removal on the window's Undo list (its own undo puts the photos back)."""

    removal: Any = None


def _photos(n: int) -> str:
    return f"{n} photo{'s' if n != 1 else ''}"


class Housekeeping(QObject):
    """Owns the remove / find-moved actions of one window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.last_message = ""
        self.act_remove = QAction("&Remove from collection", window)
        self.act_remove.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")]
        )
        self.act_remove.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.act_remove.setToolTip(
            "Take the selected photos out of the collection (Delete); the files stay on disk "
            "and Undo puts them back"
        )
        self.act_remove.triggered.connect(self.remove_selected)
        self.act_remove.setEnabled(False)
        self.act_relocate = QAction("Find &moved photos…", window)
        self.act_relocate.setToolTip(
            "Photos whose files are missing: find them in the folder they were moved to"
        )
        self.act_relocate.triggered.connect(self.find_moved)
        # Delete acts in the grid only: in a text field it deletes text.
        window.grid.addAction(self.act_remove)
        for action in window.menuBar().actions():
            menu = action.menu()
            if action.text().replace("&", "") == "Edit" and menu is not None:
                menu.addSeparator()  # type: ignore[attr-defined]
                menu.addAction(self.act_remove)  # type: ignore[attr-defined]
                menu.addAction(self.act_relocate)  # type: ignore[attr-defined]
        window.grid.selectionModel().selectionChanged.connect(lambda *_: self._selection())

    def _selection(self) -> None:
        self.act_remove.setEnabled(bool(self.window.selected_items()))

    def _say(self, text: str) -> None:
        self.last_message = text
        self.window.statusBar().showMessage(text, 8000)

    # --- remove and undo
    def remove_selected(self) -> bool:
        """Remove the selected photos (the current one when none is selected)."""
        win = self.window
        items = win.selected_items() or ([win._current] if win._current else [])
        return self.remove([it.id for it in items if it is not None])

    def remove(self, ids: list[int]) -> bool:
        from saree_app.collection import housekeeping as hk
        from saree_app.collection.catalog import CatalogError

        win, lib = self.window, self.window.library
        if lib is None or not ids:
            return False
        try:
            removal = hk.remove_photos(lib.catalog, ids)
        except CatalogError as exc:
            show_error(win, "Not removed", f"The photos were not removed: {exc}")
            return False
        what = removal.describe()
        win._undo.append(RemovedPhotos(f"removing {what}", (), removal))
        del win._undo[:-100]
        win._undo_changed()
        if win._current is not None and win._current.id in removal.photo_ids:
            win._current = None
            win.photo.show_empty()
        win.refresh_items()
        win.reranker.schedule()
        keys = win.act_undo.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self._say(
            f"Removed {what} from the collection; the files stay on disk. "
            f"Undo ({keys}) puts {'it' if len(ids) == 1 else 'them'} back."
        )
        return True

    def restore_undo(self) -> None:
        """Put the removals the catalogue still remembers (from earlier sittings, too) on the
        window's Undo list, oldest first, so Ctrl+Z after a restart puts photos back."""
        from saree_app.collection import housekeeping as hk
        from saree_app.collection.catalog import CatalogError

        win, lib = self.window, self.window.library
        if lib is None:
            return
        try:
            kept = hk.removals(lib.catalog)
        except CatalogError as exc:
            self._say(f"Earlier removals cannot be undone: {exc}")
            return
        for removal in kept[-100:]:
            win._undo.append(RemovedPhotos(f"removing {removal.describe()}", (), removal))

    def undo(self, entry: RemovedPhotos) -> bool:
        """Put the photos of a removal back (called by the window's Undo)."""
        from saree_app.collection import housekeeping as hk
        from saree_app.collection.catalog import CatalogError

        win, lib = self.window, self.window.library
        if lib is None:
            return False
        try:
            restored = hk.undo_removal(lib.catalog, entry.removal)
        except CatalogError as exc:
            show_error(win, "Not put back", f"The photos could not be put back: {exc}")
            return False
        win._undo.remove(entry)
        win._undo_changed()
        if restored.photo_ids:
            win._pending_select = restored.photo_ids[0]
        win.refresh_items()
        win.reranker.schedule()
        text = f"Put back {_photos(len(restored.photo_ids))}."
        if restored.skipped:
            text += " " + " ".join(s[:1].upper() + s[1:] + "." for s in restored.skipped)
        self._say(text)
        return True

    # --- missing files
    def find_moved(self) -> None:
        """Count the missing photos (worker), then ask for the folder they are in now."""
        from saree_app.collection import housekeeping as hk

        lib = self.window.library
        if lib is None:
            return
        catalog = lib.catalog
        self.window.jobs.start(lambda _c: hk.missing_photos(catalog), on_done=self._ask_folder)

    def _ask_folder(self, missing: list[Any]) -> None:
        win = self.window
        if not missing:
            QMessageBox.information(win, "Find moved photos", "No photo is missing.")
            return
        folders = sorted({str(Path(p.path).parent) for p in missing})
        where = folders[0] + (f" and {len(folders) - 1} other folders" if len(folders) > 1 else "")
        answer = QMessageBox.question(
            win,
            "Find moved photos",
            f"{_photos(len(missing))} cannot be found where they were ({where}).\n\n"
            "Choose the folder they are in now: every photo in it and its subfolders is "
            "recognised by its content, so renamed files are found too.",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Open:
            return
        folder = QFileDialog.getExistingDirectory(win, "The folder the photos are in now")
        if folder:
            self.relocate_to(Path(folder), missing)

    def relocate_to(self, folder: Path, missing: list[Any] | None = None) -> None:
        """Look for the missing photos under `folder` on the worker; report, then refresh."""
        from saree_app.collection import housekeeping as hk

        win, lib = self.window, self.window.library
        if lib is None:
            return
        catalog = lib.catalog

        def job(cancel: Cancel) -> Any:
            return hk.relocate(catalog, folder, photos=missing, cancelled=cancel.is_set)

        win._set_progress(True, "Looking for the moved photos…")
        win.jobs.start(job, on_progress=self._progress, on_done=self._relocated)

    def _progress(self, step: Any) -> None:
        done, total = step
        self.window.progress.set_value(int(done) / max(int(total), 1))

    def _relocated(self, result: Any) -> None:
        win = self.window
        win._set_progress(False)
        win.thumbs.clear()  # the photos found again get their thumbnails back
        win.refresh_items()
        self._say(result.summary()[:1].upper() + result.summary()[1:] + ".")
