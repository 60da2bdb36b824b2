"""Curator actions on one photo: confirm, correct through a searchable list, note, tags."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
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
# Another name of a tradition ("Kanjeevaram") to its id, or None: the knowledge graph's local
# names, as the Add-a-tradition check reads them (gui.library.Library._other_names).
OtherNames = Callable[[str], str | None]


def _other_names_of(labeller: Labeller) -> OtherNames | None:
    """The lookup of other names that goes with a labeller that is a library's `label`, where
    the window does not hand one over itself; None otherwise."""
    found = getattr(getattr(labeller, "__self__", None), "_other_names", None)
    return found if callable(found) else None


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
    # Esc in one of the panel's text fields: the page gives the keyboard back to the photo, so
    # that J, K and C act again instead of typing.
    leaveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("curatorPanel")
        self._label: Labeller = pretty
        self._other_names: OtherNames | None = None
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
        # Tab moves on to the tags (Shift+Tab back): it typed tab characters into the note and
        # kept the keyboard there.
        self.note.setTabChangesFocus(True)
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
        for field in (self.note, self.tags, self.correct_box.lineEdit(), self.correct_box):
            field.installEventFilter(self)
        self._loading = False
        self.set_item(None, None)

    def set_traditions(
        self,
        traditions: Sequence[str],
        labeller: Labeller,
        other_names: OtherNames | None = None,
    ) -> None:
        """The list the curator searches when correcting: every tradition in the graph;
        `other_names` finds one by another of its names ("Kanjeevaram"), by default the
        library's whose `label` `labeller` is."""
        self._label = labeller
        self._other_names = other_names if other_names is not None else _other_names_of(labeller)
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
        """The tradition typed or picked in the correction box, or None (nothing typed, no
        tradition of that name, or several that the text is part of)."""
        return self._match()[0]

    def _match(self) -> tuple[str | None, list[str]]:
        """(the tradition the correction box names, or None; the names of those the text is
        part of, when it names none): its name in the list, then another of its names in the
        knowledge graph, then the one name in the list that holds the text."""
        typed = " ".join(self.correct_box.currentText().split())
        text = typed.casefold()
        if not text:
            return None, []
        box = self.correct_box
        names = [(box.itemText(i), str(box.itemData(i))) for i in range(box.count())]
        for name, tid in names:
            if name.casefold() == text:
                return tid, []
        other = self._other_names(typed) if self._other_names is not None else None
        if other is not None and any(tid == other for _name, tid in names):
            return other, []
        holding = [(name, tid) for name, tid in names if text in name.casefold()]
        if len(holding) == 1:
            return holding[0][1], []
        return None, [name for name, _tid in holding]

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
        t, holding = self._match()
        typed = " ".join(self.correct_box.currentText().split())
        if t is None:
            if not typed:
                self.state.setText("Type or pick the tradition to label this photo with.")
            elif holding:
                shown = ", ".join(holding[:4]) + (" …" if len(holding) > 4 else "")
                self.state.setText(
                    f"{len(holding)} traditions match “{typed}” ({shown}): pick one from the list."
                )
            else:
                self.state.setText(f"No tradition matches “{typed}”: pick one from the list.")
            return
        emit(self.confirmRequested, t)
        if self._item is not None and self._item.confirmed == t:
            # Done: the box is empty for the next correction (kept when the decision could
            # not be stored, so that it can be made again).
            self.correct_box.setCurrentIndex(-1)
            self.correct_box.setEditText("")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc in the note, the tags or the correction box leaves the field (what was typed
        is kept); in the correction box it first closes an open list of names.

        Return in the correction box decides once: its line edit says returnPressed, leaves
        the key to its parent, and the combo box handed it back to the line edit, which said
        returnPressed again (two decisions for one key; Undo then seemed to do nothing)."""
        if (
            watched is self.correct_box
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            return True
        if watched is self.correct_box or not (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        ):
            return super().eventFilter(watched, event)
        completer = self.correct_box.completer()
        popup = completer.popup() if completer is not None else None
        if watched is self.correct_box.lineEdit() and popup is not None and popup.isVisible():
            popup.hide()
            return True
        if watched is self.note:
            self.flush_note()
        elif watched is self.tags:
            self._emit_tags()
        emit(self.leaveRequested)
        return True

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
