"""Curator actions on one photo: confirm, correct through a searchable list, note, tags."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.gui.analysis import pretty
from saree_app.gui.items import Item
from saree_app.gui.qtfix import emit

Labeller = Callable[[str], str]


def parse_tags(text: str) -> tuple[str, ...]:
    """'silk, wedding ,, Silk' -> ('silk', 'wedding'): comma separated, trimmed, no repeats."""
    seen: dict[str, str] = {}
    for raw in text.split(","):
        tag = " ".join(raw.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return tuple(seen.values())


class CuratorPanel(QWidget):
    """Emits what the curator decided; the window writes it to the catalogue."""

    confirmRequested = Signal(str)  # tradition id
    noteEdited = Signal(str)
    tagsEdited = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("curatorPanel")
        self._label: Labeller = pretty
        self._suggested: str | None = None
        self._item: Item | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 8, 14, 12)
        lay.setSpacing(6)
        head = QLabel("Your decision", self)
        head.setProperty("role", "section")
        lay.addWidget(head)
        self.state = QLabel("", self)
        self.state.setObjectName("curatorState")
        self.state.setWordWrap(True)
        lay.addWidget(self.state)

        self.confirm_button = QPushButton("Confirm", self)
        self.confirm_button.setObjectName("confirmButton")
        self.confirm_button.setProperty("role", "primary")
        self.confirm_button.setToolTip("Confirm the top answer (C)")
        self.confirm_button.clicked.connect(self._confirm_suggested)
        lay.addWidget(self.confirm_button)

        row = QHBoxLayout()
        self.correct_box = QComboBox(self)
        self.correct_box.setObjectName("correctBox")
        self.correct_box.setEditable(True)
        self.correct_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Long tradition names must not widen the side panel past the window.
        self.correct_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.correct_box.setMinimumContentsLength(12)
        self.correct_box.lineEdit().setPlaceholderText("Correct to… (type to search)")
        self.correct_box.setToolTip("Pick the right tradition (R to jump here)")
        row.addWidget(self.correct_box, 1)
        self.correct_button = QPushButton("Set", self)
        self.correct_button.setToolTip("Label the photo with the tradition chosen on the left")
        self.correct_button.clicked.connect(self._confirm_chosen)
        row.addWidget(self.correct_button)
        lay.addLayout(row)
        self.correct_box.lineEdit().returnPressed.connect(self._confirm_chosen)

        self.note = QPlainTextEdit(self)
        self.note.setObjectName("note")
        self.note.setPlaceholderText("Note (provenance, donor, condition…)")
        self.note.setFixedHeight(64)
        lay.addWidget(self.note)
        self.tags = QLineEdit(self)
        self.tags.setObjectName("tags")
        self.tags.setPlaceholderText("Tags, separated by commas")
        lay.addWidget(self.tags)

        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(700)  # save once typing pauses, not on every key
        self._note_timer.timeout.connect(self.flush_note)
        self.note.textChanged.connect(self._note_timer.start)
        self.tags.editingFinished.connect(self._emit_tags)
        self._loading = False
        self.set_item(None, None)

    def set_traditions(self, traditions: Sequence[str], labeller: Labeller) -> None:
        """The list the curator searches when correcting: every tradition in the graph."""
        self._label = labeller
        self.correct_box.clear()
        for t in sorted(traditions, key=lambda t: labeller(t).casefold()):
            self.correct_box.addItem(labeller(t), t)
        self.correct_box.setCurrentIndex(-1)
        model = QStringListModel([labeller(t) for t in traditions], self)
        completer = QCompleter(model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.correct_box.setCompleter(completer)

    def set_item(self, item: Item | None, suggested: str | None) -> None:
        """Show the curator's state for this photo; `suggested` is the top answer."""
        self.flush_note()
        self._loading = True
        try:
            self._item = item
            self._suggested = suggested
            enabled = item is not None
            for w in (self.confirm_button, self.correct_box, self.correct_button, self.note):
                w.setEnabled(enabled)
            self.tags.setEnabled(enabled)
            self.note.setPlainText(item.note if item else "")
            self.tags.setText(", ".join(item.tags) if item else "")
            self.correct_box.setCurrentIndex(-1)
            self.correct_box.setEditText("")
            self._refresh()
        finally:
            self._loading = False

    def _refresh(self) -> None:
        item, sug = self._item, self._suggested
        if item is None:
            self.state.setText("Select a photo from the collection to review it.")
            self.confirm_button.setText("Confirm")
            self.confirm_button.setEnabled(False)
            return
        if item.confirmed:
            self.state.setText(f"✔ Confirmed as <b>{self._label(item.confirmed)}</b>.")
        elif item.uncertain:
            self.state.setText("Not reviewed yet. The answer is uncertain: look closely.")
        else:
            self.state.setText("Not reviewed yet.")
        target = sug if sug else None
        if item.confirmed:
            # The curator's word stands; changing it is a correction, not a confirmation.
            self.confirm_button.setText(f"Confirmed: {self._label(item.confirmed)}")
            self.confirm_button.setEnabled(False)
        elif target:
            self.confirm_button.setText(f"Confirm {self._label(target)}")
            self.confirm_button.setEnabled(True)
        else:
            self.confirm_button.setText("Confirm")
            self.confirm_button.setEnabled(False)

    def chosen_tradition(self) -> str | None:
        text = self.correct_box.currentText().strip().casefold()
        if not text:
            return None
        for i in range(self.correct_box.count()):
            if self.correct_box.itemText(i).casefold() == text:
                return str(self.correct_box.itemData(i))
        matches = [
            i
            for i in range(self.correct_box.count())
            if text in self.correct_box.itemText(i).casefold()
        ]
        return str(self.correct_box.itemData(matches[0])) if len(matches) == 1 else None

    def focus_correct(self) -> None:
        self.correct_box.setFocus()
        self.correct_box.lineEdit().selectAll()

    def confirm_suggested(self) -> bool:
        if self._item is None or not self._suggested or not self.confirm_button.isEnabled():
            return False
        emit(self.confirmRequested, self._suggested)
        return True

    def _confirm_suggested(self) -> None:
        self.confirm_suggested()

    def _confirm_chosen(self) -> None:
        if self._item is None:
            return
        t = self.chosen_tradition()
        if t is None:
            self.state.setText(
                "No tradition matches “" + self.correct_box.currentText() + "”: pick one from "
                "the list."
            )
            return
        emit(self.confirmRequested, t)

    def flush_note(self) -> None:
        """Save what was typed (note and tags) before the panel moves to another photo."""
        self._note_timer.stop()
        if self._loading or self._item is None:
            return
        text = self.note.toPlainText()
        if text != self._item.note:
            emit(self.noteEdited, text)
        self._emit_tags()  # tags typed without leaving the field (J pressed right away)

    def _emit_tags(self) -> None:
        if self._loading or self._item is None:
            return
        tags = parse_tags(self.tags.text())
        if tags != self._item.tags:
            emit(self.tagsEdited, tags)

    def item_changed(self, item: Item) -> None:
        """The window stored a change: keep the panel in step without losing typed text."""
        if self._item is not None and item.id == self._item.id:
            self._item = item
            self._refresh()
