"""Teaching from the curator's confirmed photos: the background re-rank, the teaching panel,
and adding a tradition the app does not know."""

from __future__ import annotations

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
    return f"How reliable teaching has been: {teaching.reliability}. {said}{sure}"


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
        self.resize(820, 680)
        self._loader = loader
        self._label: Labeller = lambda t: t
        self._about: Callable[[str], str] = lambda _t: ""
        self._confirmed: dict[str, list[Item]] = {}
        self._shown: list[Item] = []
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
            ["Tradition", "Confirmed photos", "Counts in the answers", "Reliability"]
        )
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
        self.summary.setText(reliability_text(teaching))
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

    def _show_examples(self) -> None:
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


class NewTraditionDialog(QDialog):
    """Name, state and region of a tradition the app does not know, and one it resembles."""

    def __init__(
        self,
        known: Sequence[str],
        labeller: Labeller,
        check: Callable[[str], str | None],
        parent: QWidget | None = None,
    ) -> None:
        """`known`: traditions of the knowledge graph (for "resembles"); `check(name)` says
        what is wrong with a name, or None."""
        super().__init__(parent)
        self.setObjectName("newTraditionDialog")
        self.setWindowTitle("Add a tradition")
        self.resize(520, 260)
        self._check = check
        lay = QVBoxLayout(self)
        intro = QLabel(
            "A tradition the app does not know yet. Once added, choose it under “Correct to…” "
            "for its photos: the app learns it from the photos you confirm.",
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
        self.state = QLineEdit(self)
        self.state.setPlaceholderText("e.g. Odisha")
        form.addRow("State", self.state)
        self.region = QLineEdit(self)
        self.region.setPlaceholderText("e.g. East India")
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
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.name.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        text = self.name.text().strip()
        problem = self._check(text) if text else None
        self.problem.setText(problem or "")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(text) and problem is None)

    def accept(self) -> None:
        if not self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():
            return
        super().accept()

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "state": self.state.text(),
            "region": self.region.text(),
            "like": self.like.currentData(),
        }
