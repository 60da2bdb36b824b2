"""Small dialogs: import report, settings, model card, keyboard shortcuts, error messages."""

from __future__ import annotations

import errno
import html
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QAction,
    QGuiApplication,
    QKeySequence,
    QTextCursor,
    QTextDocument,
    QTextLength,
    QTextOption,
    QTextTable,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

# Each shortcut as Qt writes its keys (QKeySequence's portable text), with what it does. The
# list F1 shows is made from it (`SHORTCUTS`); every key of the window's actions must be here
# (tests/gui/test_walk4_n.py), and `shortcuts_html` adds any an action has that is not.
SHORTCUT_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("J", "PgDown"), "Next photo"),
    (("K", "PgUp"), "Previous photo"),
    (("Return",), "Open the selected photo (in the collection; or double-click it)"),
    (("C",), "Confirm the top answer"),
    (("Shift+C", "Ctrl+Return"), "Confirm the top answer and go to the next photo"),
    (("R",), "Correct: search the list of traditions, then Enter to set the one typed"),
    (("Ctrl+Shift+C",), "Confirm every selected photo (Shift- or Ctrl-click to select)"),
    (("Ctrl+Z",), "Undo the last confirmation, correction, removal or grouping"),
    (
        ("Del", "Backspace"),
        "Remove the selected photos from the collection (in the collection; the files stay "
        "on disk)",
    ),
    (("Ctrl+G",), "Group the selected photos into an object"),
    (("Ctrl+Shift+R",), "Open the object record of the photo shown"),
    (("F",), "Fit the photo to the window"),
    (("O",), "Show or hide the part overlay"),
    (("H",), "Show or hide the heatmap"),
    (("Ctrl+1", "Ctrl+2", "Ctrl+3"), "Collection / Photo / Knowledge"),
    (("Ctrl+O",), "Open another collection file"),
    (("Ctrl+N",), "Start a new, empty collection file"),
    (("Ctrl+I",), "Import a folder"),
    (("Ctrl+E",), "Export the catalogue"),
    (("Ctrl+F",), "Search the collection"),
    (("Tab", "Shift+Tab"), "Move to the next / previous button or field"),
    (
        ("Esc",),
        "Leave the note, the tags or “Correct to…” (what you typed is kept): J, K and C act again",
    ),
    (("F1",), "This list of shortcuts"),
)

# Keys as a curator reads them.
_KEY_WORDS = {"PgDown": "Page Down", "PgUp": "Page Up", "Return": "Enter", "Del": "Delete"}
_SHOWN_AS = {
    ("Ctrl+1", "Ctrl+2", "Ctrl+3"): "Ctrl+1 / 2 / 3",
    ("Tab", "Shift+Tab"): "Tab / Shift+Tab",
}


def shown_keys(keys: Sequence[str]) -> str:
    """('J', 'PgDown') -> 'J  or  Page Down'; ('Ctrl+Return',) -> 'Ctrl+Enter'."""
    if tuple(keys) in _SHOWN_AS:
        return _SHOWN_AS[tuple(keys)]
    words = []
    for key in keys:
        *mods, last = key.split("+") if key != "+" else [key]
        words.append("+".join([*mods, _KEY_WORDS.get(last, last)]))
    return "  or  ".join(words)


SHORTCUTS = tuple((shown_keys(keys), what) for keys, what in SHORTCUT_KEYS)


def unlisted_shortcuts(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what) of each action whose keys `SHORTCUT_KEYS` does not name: the action's own
    name says what it does."""
    listed = {key for keys, _what in SHORTCUT_KEYS for key in keys}
    out = []
    for action in actions:
        keys = [
            k.toString(QKeySequence.SequenceFormat.PortableText)
            for k in action.shortcuts()
            if not k.isEmpty()
        ]
        missing = [k for k in keys if k not in listed]
        if missing:
            what = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            out.append((shown_keys(missing), what.rstrip("…")))
    return out


# The collection (catalogue) files the app makes end in .saree; older ones may end otherwise.
COLLECTION_SUFFIX = ".saree"
COLLECTION_FILTER = "Saree collections (*.saree *.sqlite *.db);;All files (*)"


def collection_file_name(path: Path) -> Path:
    """A new collection's file: the name chosen, with .saree added when it has none of a
    collection's suffixes ("Museum 2024" -> "Museum 2024.saree")."""
    if path.suffix.lower() in (COLLECTION_SUFFIX, ".sqlite", ".db"):
        return path
    return path.with_name(path.name + COLLECTION_SUFFIX)


# Why a change could not be written, in a curator's words: (reason, what to do).
_READ_ONLY = (
    "The file is read-only, or the folder it is in cannot be changed.",
    "Ask whoever looks after this computer to let you change it, or copy the collection file "
    "to a folder you can write to and open the copy (File ▸ Open collection…).",
)
_LOCKED = (
    "Another program (or this app, opened twice) is busy with the file.",
    "Close the other program or window and make the change again.",
)
_FULL = (
    "The disk it is on is full.",
    "Free some space on that disk and make the change again.",
)
_UNKNOWN = (
    "It may be read-only, locked by another program, or on a disk that is full or was "
    "disconnected.",
    "Check that you may change the file, that no other program has it open and that its disk "
    "has room; then make the change again. If it is read-only, copy it to a folder you can "
    "write to and open the copy (File ▸ Open collection…).",
)


def _write_failure(exc: BaseException, collection: Path | None) -> tuple[str, str] | None:
    """(reason, what to do) when `exc` (or what caused it) is the collection file refusing a
    write; None for any other failure."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in seen:
        if isinstance(e, OSError) and e.errno is not None:
            if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                return _READ_ONLY
            if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                return _FULL
    raw = " ".join(str(e) for e in seen if isinstance(e, sqlite3.Error)).lower()
    if not raw:
        return None
    if "readonly" in raw or "read-only" in raw:
        return _READ_ONLY
    if "locked" in raw or "busy" in raw:
        return _LOCKED
    if "full" in raw:
        return _FULL
    if "disk i/o" in raw or "unable to open" in raw:
        # sqlite says no more; the file and its folder may.
        if collection is not None and _cannot_write(collection):
            return _READ_ONLY
        return _UNKNOWN
    return None


def _cannot_write(path: Path) -> bool:
    try:
        folder = path.absolute().parent
        return (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def not_saved_text(exc: BaseException, collection: Path | None) -> tuple[str, str]:
    """The message of a change that could not be stored, and its technical details: a file
    that refuses writes (read-only, locked, a full disk) is said in a curator's words with
    what to do, the database's own words kept for the details."""
    detail = str(exc)
    cause = exc.__cause__
    if cause is not None and str(cause) not in detail:
        detail += f"\n({type(cause).__name__}: {cause})"
    if collection is not None:
        detail = f"Collection file: {collection}\n{detail}"
    failure = _write_failure(exc, collection)
    if failure is None:
        return f"The change could not be saved: {exc}", detail
    reason, todo = failure
    name = f"the collection file “{collection.name}”" if collection else "the collection file"
    return (
        f"Your change was not saved: {name} could not be written to.\n\n{reason} {todo}\n\n"
        "Everything saved before is still there.",
        detail,
    )


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A warning box in plain words; the technical details stay behind a button."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    if details:
        box.setDetailedText(details)
    box.setObjectName("errorBox")
    box.exec()


class ImportReportDialog(QDialog):
    """What an import did: counts, and every skipped file with the reason."""

    def __init__(
        self,
        added: int,
        already: int,
        skipped: Sequence[tuple[str, str]],
        cancelled: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importReport")
        self.setWindowTitle("Import finished" if not cancelled else "Import cancelled")
        self.resize(760, 420 if skipped else 180)
        lay = QVBoxLayout(self)
        head = "Import cancelled. " if cancelled else ""
        parts = [f"{added:,} photo{'s' if added != 1 else ''} added"]
        if already:
            parts.append(f"{already:,} already in the collection")
        if skipped:
            parts.append(f"{len(skipped):,} skipped")
        self.summary = QLabel(head + ", ".join(parts) + ".", self)
        self.summary.setObjectName("importSummary")
        lay.addWidget(self.summary)
        self.table = QTableWidget(len(skipped), 2, self)
        self.table.setHorizontalHeaderLabels(["File", "Why it was skipped"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (path, reason) in enumerate(skipped):
            item = QTableWidgetItem(Path(path).name)
            item.setToolTip(path)
            self.table.setItem(row, 0, item)
            self.table.setItem(row, 1, QTableWidgetItem(reason))
        self.table.setColumnWidth(0, 240)
        self.table.setVisible(bool(skipped))
        if skipped:
            hint = QLabel("Nothing was lost: fix or convert these files and import again.", self)
            hint.setProperty("role", "hint")
            lay.addWidget(hint)
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)


class SettingsDialog(QDialog):
    """The collection file and the number of threads the model may use."""

    def __init__(self, collection: Path, threads: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.resize(560, 160)
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.collection = QLineEdit(str(collection), self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.collection, 1)
        row.addWidget(browse)
        form.addRow("Collection file", row)
        self.threads = QSpinBox(self)
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText("automatic")
        self.threads.setValue(threads)
        form.addRow("Model threads", self.threads)
        note = QLabel("A new collection file is created when it does not exist yet.", self)
        note.setProperty("role", "hint")
        form.addRow(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Collection file",
            self.collection.text(),
            COLLECTION_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.collection.setText(path)

    def values(self) -> tuple[Path, int]:
        return Path(self.collection.text().strip()).expanduser(), int(self.threads.value())


def resize_within_screen(widget: QWidget, width: int, height: int) -> None:
    """`widget` at `width` x `height`, or less where its screen is smaller: a dialog sized for
    a large screen put its buttons off the bottom of a 1366 x 768 laptop (fifth walk)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        room = screen.availableGeometry()
        width = min(width, max(320, room.width() - 40))
        height = min(height, max(240, room.height() - 60))
    widget.resize(width, height)


def wrap_to_width(doc: QTextDocument) -> None:
    """Make a Markdown page read without sideways scrolling at any window width: the lines of its
    code blocks wrap like the rest (Markdown keeps them unbroken, so one long command line
    made the whole model card scroll sideways), and its tables take 99% of the width. A table
    left to size itself comes out one to three pixels wider than the page once its text fills
    the page (so at most widths, measured from 420 to 1700 pixels), which is enough for a
    scroll bar; at 99% it fits, and its cells wrap instead."""
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().nonBreakableLines():
            fmt = block.blockFormat()
            fmt.setNonBreakableLines(False)
            QTextCursor(block).setBlockFormat(fmt)
        block = block.next()
    frames = list(doc.rootFrame().childFrames())
    while frames:
        frame = frames.pop()
        frames.extend(frame.childFrames())
        if isinstance(frame, QTextTable):
            table = frame.format()
            table.setWidth(QTextLength(QTextLength.Type.PercentageLength, 99))
            frame.setFormat(table)


class TextDialog(QDialog):
    """A read-only Markdown or HTML page (model card, shortcuts)."""

    def __init__(
        self, title: str, text: str, markdown: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        resize_within_screen(self, 760, 640)
        lay = QVBoxLayout(self)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("textPage")
        self.browser.setOpenExternalLinks(True)
        self.browser.document().setDocumentMargin(18)
        # Long lines break at a word if they can, anywhere if they cannot (a long file path).
        self.browser.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        if markdown:
            self.browser.setMarkdown(text)
            wrap_to_width(self.browser.document())
        else:
            self.browser.setHtml(text)
        lay.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


def shortcuts_html(actions: Iterable[QAction] = ()) -> str:
    """The keyboard shortcuts, as F1 shows them; with the window's `actions`, any of their
    keys the list does not name are added, so that it cannot fall behind them."""
    rows = "".join(
        f"<tr><td style='padding:3px 18px 3px 0'><b>{html.escape(k)}</b></td>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in (*SHORTCUTS, *unlisted_shortcuts(actions))
    )
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"


def model_card_dialog(
    card: Path | None,
    parent: QWidget | None = None,
    *,
    preface: str | None = None,
    manifest: Path | None = None,
) -> TextDialog:
    """The model card; `preface`, what a curator needs to know of the model in use, goes first
    (the card itself is written for specialists: how the model was made and measured).
    `manifest`: the model in use; when it was retrained from the collection, its own report
    is shown first and the shipped card below (`model_card_text`). Not given, the model in use
    of the parent window's collection is taken, if it has one."""
    if manifest is None:
        lib = getattr(parent, "library", None)
        path = getattr(lib, "model_path", None)
        if callable(path):
            manifest = path()
    from saree_app.gui.models import is_retrained, model_card_text

    text = model_card_text(card, manifest, preface)
    title = "Retrained model: its report" if is_retrained(manifest) else "Model card"
    dlg = TextDialog(title, text, True, parent)
    dlg.setObjectName("modelCard")
    dlg.browser.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return dlg
