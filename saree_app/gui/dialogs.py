"""Small dialogs: import report, settings, model card, keyboard shortcuts, error messages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor, QTextDocument, QTextLength, QTextOption, QTextTable
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

SHORTCUTS = (
    ("J  or  Page Down", "Next photo"),
    ("K  or  Page Up", "Previous photo"),
    ("C", "Confirm the top answer"),
    ("Shift+C  or  Ctrl+Enter", "Confirm the top answer and go to the next photo"),
    ("R", "Correct: search the list of traditions"),
    ("Ctrl+Shift+C", "Confirm every selected photo (Shift- or Ctrl-click to select)"),
    ("Ctrl+Z", "Undo the last confirmation or correction"),
    ("F", "Fit the photo to the window"),
    ("O", "Show or hide the part overlay"),
    ("H", "Show or hide the heatmap"),
    ("Ctrl+1 / 2 / 3", "Collection / Photo / Knowledge"),
    ("Ctrl+I", "Import a folder"),
    ("Ctrl+E", "Export the catalogue"),
    ("Ctrl+F", "Search the collection"),
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
            "Saree collections (*.saree *.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.collection.setText(path)

    def values(self) -> tuple[Path, int]:
        return Path(self.collection.text().strip()).expanduser(), int(self.threads.value())


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
        self.resize(760, 640)
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


def shortcuts_html() -> str:
    rows = "".join(
        f"<tr><td style='padding:3px 18px 3px 0'><b>{k}</b></td><td>{v}</td></tr>"
        for k, v in SHORTCUTS
    )
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"


def model_card_dialog(
    card: Path | None, parent: QWidget | None = None, *, preface: str | None = None
) -> TextDialog:
    """The model card; `preface`, what a curator needs to know of the model in use, goes first
    (the card itself is written for specialists: how the model was made and measured)."""
    if card is None or not card.is_file():
        text = (
            "# No model card\n\nThe model card (models/MODEL_CARD.md) is missing from this "
            "installation. It describes what the model was trained on and how well it does; "
            "reinstall the app to get it back."
        )
    else:
        try:
            text = card.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = f"# Model card unreadable\n\n{card}: {exc}"
    if preface:
        text = (
            f"## In short\n\n{preface}\n\nThe model card below is written for specialists: "
            "how the model was made, what it learnt from and how it was measured.\n\n---\n\n" + text
        )
    dlg = TextDialog("Model card", text, True, parent)
    dlg.setObjectName("modelCard")
    dlg.browser.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return dlg
