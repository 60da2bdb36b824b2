"""Teaching from the curator's confirmed photos: the background re-rank, the teaching panel,
and adding a tradition the app does not know."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from PySide6.QtCore import QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection.fewshot import (
    MIN_EXAMPLES,
    MIN_TRADITIONS,
    ONE_TRADITION,
    check_words,
)
from saree_app.gui.dialogs import resize_within_screen
from saree_app.gui.items import Item
from saree_app.gui.library import Library, RerankProgress, RerankResult, Teaching
from saree_app.gui.qtfix import emit
from saree_app.gui.tasks import Cancel, TaskRunner
from saree_app.gui.theme import WARN
from saree_app.gui.thumbs import ThumbnailLoader

Labeller = Callable[[str], str]

# Long enough that a curator confirming photo after photo (C, J, C, J…) causes one re-rank when
# they pause, not one per photo; short enough that the collection visibly follows.
QUIET_MS = 1500
_TICK_INTERVAL_S = 0.05  # the status bar cannot show more; more would flood the event loop
_EXAMPLE_ICON = QSize(96, 96)
FIRST_COLUMN_MAX = 240  # px: the teaching table's tradition column at most
# The teaching table's column headers, explained when the pointer rests on them.
HEADER_TIPS = (
    "The traditions you have confirmed photos of, and those you added",
    "How many photos you confirmed (or corrected) as this tradition",
    "Yes: the app compares every photo of the collection with this tradition's confirmed "
    "photos, and its answers take them into account (with at least two traditions taught). "
    "Not yet: no photo of it is confirmed, so only the model itself can name it.",
    "How often this tradition's own confirmed photos were named right when each was left "
    "out and answered from the rest",
)


@dataclass(frozen=True)
class TaughtResult(RerankResult):
    """A finished re-rank with what its message needs besides: how many photos have an
    answer of the model (`photos`), and what the status bar said when the re-rank was asked
    for, when that must stay readable ("Undone: …"; its message goes in front, not away)."""

    photos: int | None = None
    said_before: str = ""


_RESULT_FIELDS = tuple(f.name for f in fields(RerankResult))


def _with(r: RerankResult, photos: int | None, said_before: str) -> TaughtResult:
    values = {name: getattr(r, name) for name in _RESULT_FIELDS}
    return TaughtResult(**values, photos=photos, said_before=said_before)


class Reranker(QObject):
    """Re-ranks the collection on its own worker once the curator's decisions settle.

    Each `schedule()` stops a re-rank in progress and waits for a quiet moment, so a run of
    confirmations costs one re-rank. Only the newest run's progress and result come through.
    """

    progressed = Signal(object)  # RerankProgress
    finished = Signal(object)  # RerankResult
    failed = Signal(str, str)
    stopped = Signal()
    _ticked = Signal(int, object)  # emitted on the worker; queued to this (GUI) thread

    def __init__(self, parent: QObject | None = None, quiet_ms: int = QUIET_MS) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(quiet_ms)
        self.timer.timeout.connect(self._start)
        self._library: Library | None = None
        self._run = 0
        self._said = ""  # an Undo's message, kept in front of the re-rank's
        self._ticked.connect(self._on_tick)
        self.runner.failed.connect(self.failed)
        self.runner.cancelled.connect(self._on_cancelled)

    @property
    def busy(self) -> bool:
        """Waiting for a quiet moment or re-ranking."""
        return self.timer.isActive() or self.runner.busy

    def set_library(self, library: Library | None) -> None:
        self.timer.stop()
        self.runner.cancel()
        self._library = library

    def schedule(self, said: str = "") -> None:
        """A decision was stored: re-rank once the curator pauses. `said`: what the window
        told the curator of it (Undo's "Undone: …"), kept in front of the re-rank's own
        message so that it stays readable."""
        if self._library is None:
            return
        self.runner.cancel()
        self._said = said
        self.timer.start()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        self.timer.stop()
        return self.runner.shutdown(timeout_ms)

    def _start(self) -> None:
        lib = self._library
        if lib is None or lib.predictor is None:
            return
        self._run += 1
        run = self._run
        last = [0.0]
        total: list[int | None] = [None]
        said, self._said = self._said, ""

        def report(p: RerankProgress) -> None:  # on the worker
            if total[0] is None:  # the first report counts the photos with an answer
                total[0] = p.total
            now = time.monotonic()
            if 0 < p.done < p.total and now - last[0] < _TICK_INTERVAL_S:
                return
            last[0] = now
            emit(self._ticked, run, p)

        def job(cancel: Cancel) -> RerankResult:
            return lib.rerank(cancel.check, report)

        self.runner.start(job, on_done=lambda r: emit(self.finished, _with(r, total[0], said)))

    def _on_tick(self, run: int, progress: object) -> None:
        if run == self._run and self.runner.busy:
            emit(self.progressed, progress)

    def _on_cancelled(self) -> None:
        if not self.timer.isActive():  # stopped for good, not to start again shortly
            emit(self.stopped)


def progress_text(p: RerankProgress) -> str:
    """The status bar while re-ranking: the answers written back so far, of those to write,
    the photos the result names (`done_text`)."""
    head = f"Teaching from your {p.examples:,} confirmed photo{'s' if p.examples != 1 else ''}…"
    if p.done == 0:
        return head
    return f"{head} re-ranked {p.done:,} of {p.total:,} photos"


def _answers(n: int) -> str:
    return f"{n:,} answer{'s' if n != 1 else ''}"


def _photos(n: int) -> str:
    return f"{n:,} photo{'s' if n != 1 else ''}"


def done_text(r: RerankResult) -> str:
    """The status bar when a re-rank has finished, after what Undo said when it asked for it
    (`TaughtResult.said_before`). It counts what the progress counted: the photos whose
    answers were re-ranked, the confirmed ones among them (each is answered as if it were not
    confirmed, which is how teaching is checked: collection.fewshot.apply_to_catalog), and how
    many of those answers changed (their first tradition or their flag)."""
    said = str(getattr(r, "said_before", "") or "")
    text = _done_words(r, getattr(r, "photos", None))
    return f"{said.rstrip()} {text}" if said else text


def _done_words(r: RerankResult, photos: int | None) -> str:
    n = r.teaching.examples
    back = f" {_answers(r.changed)} went back to the model's own." if r.changed else ""
    if n == 0:
        return "Nothing is taught now: confirm photos and the app learns from them." + back
    confirmed = f"{n:,} confirmed photo{'s' if n != 1 else ''}"
    taught = {t for t, k, _active in r.teaching.rows if k > 0}
    if len(taught) < MIN_TRADITIONS or r.teaching.reliability == ONE_TRADITION:
        # Teaching's own rule and words (collection.fewshot), said of the photos confirmed.
        return f"Taught from your {confirmed}: {ONE_TRADITION}." + back
    changed = f"{_answers(r.changed)} changed" if r.changed else "no answer changed"
    done = r.reranked
    if done == 0:
        if photos is not None and photos <= n:
            return f"Taught from your {confirmed}: every photo is confirmed, nothing to re-rank."
        return f"Taught from your {confirmed}: no answer needed re-ranking."
    left = max(0, photos - n) if photos is not None else None
    if left is not None and done == left:
        # The confirmed photos were left out (each alone would leave too little to tell apart).
        which = f"the {left:,} photos" if left != 1 else "the 1 photo"
        return f"Taught from your {confirmed}: re-ranked {which} not yet confirmed, {changed}."
    everyone = "all " if photos is not None and done >= photos else ""
    ours = ""
    if left is not None and done > left:
        # The confirmed photos' answers are re-ranked too, each without its own teaching: that
        # is how teaching is checked (their own labels stay as the curator gave them).
        among = "" if everyone else " among them"
        ours = (
            f", your confirmed ones{among} each answered as if you had not confirmed it"
            if left
            else ", each answered as if you had not confirmed it"
        )
    return f"Taught from your {confirmed}: re-ranked {everyone}{_photos(done)}{ours}; {changed}."


def reliability_text(teaching: Teaching) -> str:
    if teaching.examples == 0:
        return (
            "Nothing is taught yet. Confirm or correct photos: each confirmed photo teaches the "
            "app its tradition, and the rest of the collection is re-ranked at once."
        )
    if teaching.reliability == ONE_TRADITION:
        return ONE_TRADITION[:1].upper() + ONE_TRADITION[1:] + "."
    from saree_app.collection.fewshot import reach

    taught = sum(1 for _t, _n, counts in teaching.rows if counts)
    sure = teaching.sets.sureness() if teaching.sets is not None else ""
    sure = f" {sure[:1].upper()}{sure[1:]}." if sure else ""
    said = reach(taught, teaching.measured)
    return (
        f"How reliable teaching has been: {plain_reliability(teaching.reliability)}. {said}{sure}"
    )


_UNTAUGHT = re.compile(r"\(without teaching: ([\d,]+)\)")
_UNTAUGHT_OF = re.compile(
    r"\(without teaching: ([\d,]+) of the ([\d,]+) the model was not trained on\)"
)


def plain_reliability(text: str) -> str:
    """Teaching's figure (collection.fewshot.Reliability.text) with what the model got right
    on its own said in words: "(without teaching: 2)" -> "(the model alone, untaught, got 2
    of them right)"."""
    text = _UNTAUGHT_OF.sub(
        lambda m: (
            f"(the model alone, untaught, got {m[1]} of the {m[2]} it was not trained on right)"
        ),
        text,
    )
    return _UNTAUGHT.sub(lambda m: f"(the model alone, untaught, got {m[1]} of them right)", text)


def untaught_text(
    rows: Sequence[tuple[str, int, bool]], photos: Sequence[Item], label: Labeller = lambda t: t
) -> str:
    """The traditions the collection's answers name that no confirmed photo teaches yet, most
    answered first: 'Not taught yet: Banarasi brocade (8 photos answered so), Jamdani (3).'
    ('' when there are none)."""
    taught = {t for t, n, _active in rows if n > 0}
    answered: dict[str, int] = {}
    for item in photos:
        if item.confirmed or not item.predicted or item.predicted in taught:
            continue
        answered[item.predicted] = answered.get(item.predicted, 0) + 1
    if not answered:
        return ""
    ranked = sorted(answered.items(), key=lambda kv: (-kv[1], label(kv[0]).casefold()))
    shown = []
    for i, (t, n) in enumerate(ranked[:5]):
        said = f"{n:,} photo{'s' * (n != 1)} answered so" if i == 0 else f"{n:,}"
        shown.append(f"{label(t)} ({said})")
    more = f", and {len(ranked) - 5} more" if len(ranked) > 5 else ""
    return (
        f"Not taught yet: {', '.join(shown)}{more}. The model alone names "
        f"{'these' if len(ranked) > 1 else 'it'}: confirm a photo of "
        f"{'each' if len(ranked) > 1 else 'it'} and teaching takes "
        f"{'them' if len(ranked) > 1 else 'it'} into account."
    )


def row_texts(
    examples: int, active: bool, check: Any = None, label: Labeller = lambda t: t
) -> tuple[str, str]:
    """(counts in the ranking, reliability) for one tradition, in a curator's words; `check`:
    how its own confirmed photos were answered, each left out (fewshot.TraditionCheck), once
    teaching has been measured."""
    if active:
        counted = "Yes"
    elif examples:
        counted = f"Not yet: needs {max(1, MIN_EXAMPLES - examples)} more"
    else:
        counted = "Not yet: confirm a photo of it"
    return counted, check_words(examples, check, label)


def examples_title(name: str, n: int) -> str:
    """The heading over one tradition's confirmed photos."""
    if n == 0:
        return f"{name}: no confirmed photo yet"
    return f"{name}: taught by {n:,} confirmed photo{'s' if n != 1 else ''}"


def unusable_text(missing: int, unreadable: int) -> str:
    """What is said under the examples when some of their files cannot be shown."""
    said = []
    if missing == 1:
        said.append(
            "1 of these photos is no longer where it was: Edit ▸ Find moved photos… looks for "
            "it in another folder."
        )
    elif missing:
        said.append(
            f"{missing:,} of these photos are no longer where they were: Edit ▸ Find moved "
            "photos… looks for them in another folder."
        )
    if unreadable:
        said.append(
            f"{unreadable:,} cannot be read as {'a photo' if unreadable == 1 else 'photos'}."
        )
    return " ".join(said)


def _placeholder(text: str) -> QPixmap:
    """A thumbnail's stand-in for a photo that cannot be shown, as the collection marks one."""
    pm = QPixmap(_EXAMPLE_ICON)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(WARN), 1.5, Qt.PenStyle.DashLine))
    p.setBrush(QColor("#f6efe6"))
    p.drawRoundedRect(QRect(1, 1, pm.width() - 2, pm.height() - 2), 4, 4)
    p.setPen(QColor(WARN))
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    p.end()
    return pm


class TeachingDialog(QDialog):
    """Per tradition: confirmed photos, whether they count, and how many more are needed; the
    selected tradition's confirmed photos under the table."""

    addRequested = Signal()
    # (tradition, photo id or None): show that tradition's confirmed photos in the collection,
    # that photo current.
    showRequested = Signal(str, object)

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teachingDialog")
        self.setWindowTitle("What your confirmed photos teach")
        resize_within_screen(self, 820, 680)
        self._loader = loader
        self._label: Labeller = lambda t: t
        self._about: Callable[[str], str] = lambda _t: ""
        self._confirmed: dict[str, list[Item]] = {}
        self._shown: list[Item] = []
        self._last: tuple[Teaching, Sequence[Item]] | None = None
        # The collection whose curator traditions "Edit state and region…" changes: the
        # window's (this panel's parent) unless set.
        self.library_of: Callable[[], Any] = lambda: getattr(self.parent(), "library", None)
        # Asked of a state or region the app does not know (NewTraditionDialog's `ask`).
        self.ask_place: Asker = ask_place
        self.last_edit_dialog: NewTraditionDialog | None = None
        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        intro = QLabel(
            "Every photo you confirm or correct teaches the app its tradition; the rest of the "
            "collection is then ranked again with what it was taught.",
            self,
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        lay.addWidget(intro)
        self.summary = QLabel("Counting your confirmed photos…", self)
        self.summary.setObjectName("teachingSummary")
        # Plain text: tradition names are the curator's own (any characters), and the words
        # carry apostrophes that escaping would show as entities.
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("teachingTable")
        self.table.setHorizontalHeaderLabels(
            ["Tradition", "Confirmed photos", "Used in answers", "Reliability"]
        )
        for c, tip in enumerate(HEADER_TIPS):
            header_item = self.table.horizontalHeaderItem(c)
            if header_item is not None:
                header_item.setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # A row is chosen to see the photos that taught its tradition.
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        head = self.table.horizontalHeader()
        # The reliability of a checked tradition names what its photos were taken for: that
        # column takes the room left and wraps, the others keep to their contents.
        for c in (1, 2):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        # The tradition's column fits its names but no wider than FIRST_COLUMN_MAX: a curator's
        # tradition's line (state, region, what it resembles) wraps rather than squeezing the
        # reliability into a sliver (`_fit_first_column`).
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # Rows as tall as their wrapped text at the column's width of the moment.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._show_examples)
        lay.addWidget(self.table, 1)
        self.untaught = QLabel("", self)
        self.untaught.setObjectName("teachingUntaught")
        self.untaught.setTextFormat(Qt.TextFormat.PlainText)
        self.untaught.setWordWrap(True)
        self.untaught.setProperty("role", "hint")
        self.untaught.hide()
        lay.addWidget(self.untaught)
        self.empty = QLabel("", self)
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "hint")
        self.empty.hide()
        lay.addWidget(self.empty)

        self.examples_title = QLabel("", self)
        self.examples_title.setObjectName("teachingExamplesTitle")
        self.examples_title.setProperty("role", "section")
        self.examples_title.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.examples_title)
        self.examples = QListWidget(self)
        self.examples.setObjectName("teachingExamples")
        self.examples.setViewMode(QListView.ViewMode.IconMode)
        self.examples.setFlow(QListView.Flow.LeftToRight)
        self.examples.setWrapping(False)
        self.examples.setIconSize(_EXAMPLE_ICON)
        self.examples.setGridSize(QSize(124, 96 + self.fontMetrics().height() + 14))
        self.examples.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.examples.setMovement(QListView.Movement.Static)
        self.examples.setFixedHeight(self.examples.gridSize().height() + 22)
        self.examples.itemDoubleClicked.connect(self._open)
        lay.addWidget(self.examples)
        self.examples_note = QLabel("", self)
        self.examples_note.setObjectName("teachingExamplesNote")
        self.examples_note.setTextFormat(Qt.TextFormat.PlainText)
        self.examples_note.setWordWrap(True)
        self.examples_note.setProperty("role", "hint")
        foot = QHBoxLayout()
        foot.addWidget(self.examples_note, 1)
        self.show_button = QPushButton("Show these photos", self)
        self.show_button.setToolTip("Show this tradition's confirmed photos in the collection")
        self.show_button.clicked.connect(lambda: self._request(None))
        foot.addWidget(self.show_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(foot)
        loader.ready.connect(self._thumb_ready)
        loader.failed.connect(self._thumb_failed)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add a tradition…", self)
        self.add_button.setToolTip("A tradition the app does not know yet")
        self.add_button.clicked.connect(lambda: emit(self.addRequested))
        row.addWidget(self.add_button)
        self.edit_button = QPushButton("Edit state and region…", self)
        self.edit_button.setObjectName("teachingEditTradition")
        self.edit_button.setToolTip(
            "Change where a tradition you added comes from, or what it resembles"
        )
        self.edit_button.clicked.connect(self.edit_tradition)
        row.addWidget(self.edit_button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        lay.addLayout(row)
        self._show_examples()

    def set_labeller(self, labeller: Labeller, about: Callable[[str], str]) -> None:
        """How tradition ids read, and a line about a curator-made one (state, region)."""
        self._label, self._about = labeller, about

    def _fit_first_column(self) -> None:
        """The tradition column as wide as its widest line, up to FIRST_COLUMN_MAX."""
        self.table.resizeColumnToContents(0)
        if self.table.columnWidth(0) > FIRST_COLUMN_MAX:
            self.table.setColumnWidth(0, FIRST_COLUMN_MAX)

    def set_teaching(self, teaching: Teaching, photos: Sequence[Item] = ()) -> None:
        """The table from `teaching`; the examples from `photos` (the collection's, of which
        the confirmed ones are shown under their tradition). The selected tradition stays."""
        self._last = (teaching, tuple(photos))
        self.summary.setText(reliability_text(teaching))
        untaught = untaught_text(teaching.rows, photos, self._label)
        self.untaught.setText(untaught)
        self.untaught.setVisible(bool(untaught))
        self._confirmed = {}
        for item in photos:
            if item.confirmed:
                self._confirmed.setdefault(item.confirmed, []).append(item)
        keep = self.selected_tradition()
        rows = sorted(teaching.rows, key=lambda r: (-r[1], self._label(r[0]).casefold()))
        checks = {c.tradition: c for c in teaching.checks}
        # Rows half rebuilt are no selection to show photos for.
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        chosen = 0
        for i, (tradition, examples, active) in enumerate(rows):
            name = self._label(tradition)
            about = self._about(tradition)
            cells = [name + (f"\n{about}" if about else ""), f"{examples:,}"]
            cells += list(row_texts(examples, active, checks.get(tradition), self._label))
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if c == 1:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setData(Qt.ItemDataRole.UserRole, tradition)
                self.table.setItem(i, c, cell)
            if tradition == keep:
                chosen = i
        self.table.clearSelection()
        if rows:
            # The most taught tradition's photos show at once: examples are not hidden behind
            # a click the curator may not think of.
            self.table.selectRow(chosen)
        self.table.blockSignals(False)
        self._fit_first_column()
        self.table.resizeRowsToContents()
        self.empty.setText(
            ""
            if rows
            else "No tradition is taught yet: confirm photos in the collection, or add a "
            "tradition the app does not know."
        )
        self.empty.setVisible(not rows)  # blank, it would still part the table from its photos
        self._show_examples()

    def rows(self) -> list[list[str]]:
        """The table as text (for tests and screen readers' sake, one list per row)."""
        out = []
        for r in range(self.table.rowCount()):
            out.append(
                [
                    (self.table.item(r, c).text() if self.table.item(r, c) else "")
                    for c in range(self.table.columnCount())
                ]
            )
        return out

    def select_tradition(self, tradition: str) -> bool:
        for r in range(self.table.rowCount()):
            cell = self.table.item(r, 0)
            if cell is not None and cell.data(Qt.ItemDataRole.UserRole) == tradition:
                self.table.selectRow(r)
                return True
        return False

    def selected_tradition(self) -> str | None:
        cells = self.table.selectedItems()
        return str(cells[0].data(Qt.ItemDataRole.UserRole)) if cells else None

    def example_ids(self) -> list[int]:
        """The photos shown under the table, in order."""
        return [
            int(self.examples.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.examples.count())
        ]

    def _editable(self) -> Any:
        """The curator's tradition selected (collection.traditions.CuratorTradition), or None:
        the app's own traditions' places are the knowledge graph's."""
        lib = self.library_of()
        tradition = self.selected_tradition()
        if lib is None or tradition is None:
            return None
        return lib.curator_tradition(tradition)

    def edit_tradition(self) -> bool:
        """Change the state, region or likeness of the curator's tradition selected (stored as
        adding it again does: collection.traditions.add_tradition replaces one of its name)."""
        from saree_app.collection.traditions import TraditionsError

        lib = self.library_of()
        current = self._editable()
        if lib is None or current is None:
            return False
        known = [t for t in lib.traditions() if lib.curator_tradition(t) is None]
        dlg = NewTraditionDialog(
            known, lib.label, lambda _n: None, self, editing=current, ask=self.ask_place
        )
        self.last_edit_dialog = dlg
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        try:
            lib.add_tradition(**dlg.values())
        except TraditionsError as exc:
            from saree_app.gui.dialogs import show_error

            show_error(self, "Tradition not changed", str(exc))
            return False
        knowledge = getattr(self.parent(), "knowledge", None)
        if knowledge is not None and hasattr(knowledge, "set_added"):
            knowledge.set_added(lib.added)  # the knowledge page's map and roll-ups
        if self._last is not None:
            self.set_teaching(*self._last)
        return True

    def _show_examples(self) -> None:
        self.edit_button.setEnabled(self._editable() is not None)
        tradition = self.selected_tradition()
        self.examples.clear()
        self._shown = list(self._confirmed.get(tradition, [])) if tradition else []
        if tradition is None:
            self.examples_title.setText("Photos that teach a tradition")
            self.examples_note.setText("Select a tradition to see the photos that teach it.")
        else:
            name = self._label(tradition)
            self.examples_title.setText(examples_title(name, len(self._shown)))
            if not self._shown:
                self.examples_note.setText(
                    f"No photo is confirmed as {name} yet: choose it under “Correct to…” for a "
                    "photo of it, and that photo teaches the app this tradition."
                )
        for item in self._shown:
            wi = QListWidgetItem(item.name)
            wi.setData(Qt.ItemDataRole.UserRole, item.id)
            wi.setToolTip(f"{item.name}\nDouble-click to show it in the collection")
            wi.setIcon(QIcon(self._icon(item)))
            self.examples.addItem(wi)
        self.examples.setVisible(bool(self._shown))
        self.show_button.setEnabled(bool(self._shown))
        if self._shown:
            self._say_unusable()

    def _icon(self, item: Item) -> QPixmap:
        pm = self._loader.pixmap(item.id)
        if pm is not None:
            return pm
        if self._loader.is_broken(item.id, item.path):
            return _placeholder("File missing" if self._missing(item) else "Cannot be read")
        self._loader.request(item.id, item.path)  # read on the loader's worker, not here
        blank = QPixmap(_EXAMPLE_ICON)
        blank.fill(QColor("#efebe4"))
        return blank

    @staticmethod
    def _missing(item: Item) -> bool:
        try:
            return not item.path.is_file()
        except OSError:
            return True

    def _say_unusable(self) -> None:
        broken = [it for it in self._shown if self._loader.is_broken(it.id, it.path)]
        missing = sum(1 for it in broken if self._missing(it))
        said = unusable_text(missing, len(broken) - missing)
        self.examples_note.setText(said or "Double-click a photo to show it in the collection.")

    def _update_example(self, key: object) -> None:
        for i in range(self.examples.count()):
            wi = self.examples.item(i)
            if wi.data(Qt.ItemDataRole.UserRole) == key:
                item = next(it for it in self._shown if it.id == key)
                wi.setIcon(QIcon(self._icon(item)))
                return

    def _thumb_ready(self, key: object) -> None:
        self._update_example(key)

    def _thumb_failed(self, key: object) -> None:
        if any(it.id == key for it in self._shown):
            self._update_example(key)
            self._say_unusable()

    def _open(self, wi: QListWidgetItem) -> None:
        self._request(int(wi.data(Qt.ItemDataRole.UserRole)))

    def _request(self, photo: int | None) -> None:
        tradition = self.selected_tradition()
        if tradition is not None and self._shown:
            emit(self.showRequested, tradition, photo)


def known_places() -> tuple[list[str], list[str]]:
    """(states, cultural regions) a new tradition can come from, by name: the knowledge
    graph's states and those of the map's outlines, and the graph's cultural regions. Both
    are cached where they are read; empty lists when neither can be read."""
    states: dict[str, str] = {}
    regions: list[str] = []
    try:
        from saree_app.knowledge.graph import load_graph_or_none

        graph, _problem = load_graph_or_none()
    except Exception:  # the dialog works without the graph: its lists are then shorter
        graph = None
    if graph is not None:
        for s in graph.regions("state"):
            name = str(graph.label(s))
            states.setdefault(name.casefold(), name)
        regions = sorted({str(graph.label(r)) for r in graph.regions("cultural_region")})
    try:
        from saree_app.gui.india_map import load_outlines

        for outline in load_outlines():
            states.setdefault(outline.name.casefold(), outline.name)
    except Exception:  # no map outlines: the graph's states alone
        pass
    return sorted(states.values(), key=str.casefold), regions


def closest_names(text: str, names: Sequence[str], n: int = 3) -> list[str]:
    """The names of `names` most like `text` (a misspelling's likely meaning), closest first."""
    import difflib

    folded = {name.casefold(): name for name in names}
    hits = difflib.get_close_matches(" ".join(text.split()).casefold(), folded, n=n, cutoff=0.6)
    return [folded[h] for h in hits]


def unknown_place_text(text: str, kind: str, closest: Sequence[str]) -> str:
    """The question asked of a state or region (`kind`) the app does not know."""
    if closest:
        guess = closest[0] if len(closest) == 1 else f"{', '.join(closest[:-1])} or {closest[-1]}"
        head = f"{text} is not a {kind} the app knows: did you mean {guess}?"
    else:
        head = f"{text} is not a {kind} the app knows."
    return (
        f"{head} Kept as typed, it is shown as a {kind} of its own wherever sarees are "
        f"counted by {kind}, apart from the {kind}s the app knows."
    )


# How the curator answered the question of a name the app does not know: the name to keep
# (one offered, or the text as typed), or None to go back and change it.
Asker = Callable[[QWidget, str, str, list[str]], str | None]


def ask_place(parent: QWidget, text: str, kind: str, closest: list[str]) -> str | None:
    """Ask whether a state or region the app does not know is meant: one of the closest names
    (a button each), the name as typed, or back to the form (None)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(f"A {kind} the app does not know")
    box.setText(unknown_place_text(text, kind, closest))
    offered = {box.addButton(f"Use {c}", QMessageBox.ButtonRole.AcceptRole): c for c in closest}
    keep = box.addButton(f"Keep “{text}”", QMessageBox.ButtonRole.YesRole)
    back = box.addButton("Change it", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(next(iter(offered)) if offered else back)
    box.setEscapeButton(back)
    box.exec()
    clicked = box.clickedButton()
    if clicked in offered:
        return offered[clicked]
    return text if clicked is keep else None


def _place_box(parent: QWidget, names: Sequence[str], example: str, tip: str) -> QLineEdit:
    """A field for a place: it offers the names the app knows as the curator types (any part
    of a name, any case), and its arrow lists them all; any other name can still be typed."""
    from PySide6.QtWidgets import QCompleter, QStyle

    box = QLineEdit(parent)
    box.setPlaceholderText(example)
    completer = QCompleter(list(names), box)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setMaxVisibleItems(12)
    box.setCompleter(completer)
    if names:
        arrow = box.addAction(
            box.style().standardIcon(QStyle.StandardPixmap.SP_ArrowDown),
            QLineEdit.ActionPosition.TrailingPosition,
        )
        arrow.setToolTip("Show the names the app knows")

        def show_all() -> None:
            completer.setCompletionPrefix("")
            completer.complete()

        arrow.triggered.connect(show_all)
    box.setToolTip(tip)
    return box


class NewTraditionDialog(QDialog):
    """Name, state and region of a tradition the app does not know, and one it resembles; or,
    `editing` one the curator added, its state, region and likeness (its name stays)."""

    def __init__(
        self,
        known: Sequence[str],
        labeller: Labeller,
        check: Callable[[str], str | None],
        parent: QWidget | None = None,
        *,
        states: Sequence[str] | None = None,
        regions: Sequence[str] | None = None,
        editing: Any = None,
        ask: Asker = ask_place,
    ) -> None:
        """`known`: traditions of the knowledge graph (for "resembles"); `check(name)` says
        what is wrong with a name, or None. `states` and `regions`: the names offered (the
        knowledge graph's and the map's, `known_places`, when not given); a name typed that
        is none of them is asked about (`ask`) before it is accepted. `editing`: a
        collection.traditions.CuratorTradition to change."""
        super().__init__(parent)
        self.setObjectName("newTraditionDialog")
        self.setWindowTitle("Add a tradition" if editing is None else f"Edit {editing.name}")
        self.resize(520, 260)
        self._check = check if editing is None else (lambda _name: None)
        self._ask = ask
        if states is None or regions is None:
            found_states, found_regions = known_places()
            states = found_states if states is None else states
            regions = found_regions if regions is None else regions
        self._places = {"state": list(states), "region": list(regions)}
        lay = QVBoxLayout(self)
        intro = QLabel(
            "A tradition the app does not know yet. Once added, choose it under “Correct to…” "
            "for its photos: the app learns it from the photos you confirm."
            if editing is None
            else "Where this tradition you added comes from, and what it resembles. Its name "
            "stays: the photos confirmed as it keep their label.",
            self,
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        lay.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit(self)
        self.name.setObjectName("traditionName")
        self.name.setPlaceholderText("e.g. Kotpad")
        form.addRow("Name", self.name)
        self.state = _place_box(
            self,
            self._places["state"],
            "e.g. Odisha",
            "The state it comes from: type and choose one the app knows, or another name",
        )
        self.state.setObjectName("traditionState")
        form.addRow("State", self.state)
        self.region = _place_box(
            self,
            self._places["region"],
            "e.g. East India",
            "The cultural region it comes from: type and choose one the app knows, or another name",
        )
        self.region.setObjectName("traditionRegion")
        form.addRow("Region", self.region)
        self.like = QComboBox(self)
        self.like.addItem("(none)", None)
        for t in sorted(known, key=lambda t: labeller(t).casefold()):
            self.like.addItem(labeller(t), t)
        self.like.setToolTip("A tradition the app knows that this one resembles (optional)")
        form.addRow("Resembles", self.like)
        lay.addLayout(form)
        self.problem = QLabel("", self)
        self.problem.setObjectName("traditionProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #a33a2a")
        lay.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Add" if editing is None else "Save")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        if editing is not None:
            self.name.setText(editing.name)
            self.name.setReadOnly(True)
            self.state.setText(editing.state)
            self.region.setText(editing.region)
            at = self.like.findData(editing.like) if editing.like else 0
            self.like.setCurrentIndex(max(at, 0))
        self.name.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        text = self.name.text().strip()
        problem = self._check(text) if text else None
        self.problem.setText(problem or "")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(text) and problem is None)

    def _settle(self, box: QLineEdit, kind: str) -> bool:
        """The place typed in `box`, as the app spells it when it knows it; one it does not
        know is asked about (a close name, as typed, or back: False)."""
        text = " ".join(box.text().split())
        if not text:
            box.setText("")
            return True
        names = self._places[kind]
        same = next((n for n in names if n.casefold() == text.casefold()), None)
        if same is not None:
            box.setText(same)
            return True
        answer = self._ask(self, text, kind, closest_names(text, names))
        if answer is None:
            box.setFocus()
            box.selectAll()
            return False
        box.setText(answer)
        return True

    def accept(self) -> None:
        if not self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():
            return
        if not self._settle(self.state, "state") or not self._settle(self.region, "region"):
            return
        super().accept()

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "state": self.state.text(),
            "region": self.region.text(),
            "like": self.like.currentData(),
        }
