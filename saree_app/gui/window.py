"""The main window: pages, menus, workers and remembered state."""

from __future__ import annotations

import gc
import hashlib
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QModelIndex, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStatusBar,
    QStyle,
    QStyleOption,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection.fewshot import TEACH_HINT
from saree_app.collection.fewshot import needs_teaching as teaching_rule
from saree_app.gui import theme
from saree_app.gui.analysis import Analysis, analyse
from saree_app.gui.answer import ConfidenceBar
from saree_app.gui.browser import CollectionModel, CollectionView, FacetCounts, FacetPanel
from saree_app.gui.compare import CompareDialog, analyse_other
from saree_app.gui.dialogs import (
    COLLECTION_FILTER,
    ImportReportDialog,
    SettingsDialog,
    TextDialog,
    collection_file_name,
    model_card_dialog,
    not_saved_text,
    shortcuts_html,
    show_error,
)
from saree_app.gui.housekeeping import Housekeeping, RemovedPhotos
from saree_app.gui.items import CONFIRMED, Filter, Item
from saree_app.gui.knowledge_page import KnowledgePage
from saree_app.gui.library import (
    Decision,
    Library,
    RerankProgress,
    RerankResult,
    SimilarSarees,
    Teaching,
    default_collection,
)
from saree_app.gui.models import ModelSwitching
from saree_app.gui.objects import ObjectChange, ObjectDesk
from saree_app.gui.part_editor import PartEditing
from saree_app.gui.photo_page import PhotoPage
from saree_app.gui.retrain import Retraining
from saree_app.gui.similar import MODES
from saree_app.gui.tasks import Cancel, TaskRunner
from saree_app.gui.teaching import (
    NewTraditionDialog,
    Reranker,
    TeachingDialog,
    done_text,
    progress_text,
)
from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore
from saree_app.imaging import PhotoError

TAB_COLLECTION, TAB_PHOTO, TAB_KNOWLEDGE = 0, 1, 2
_REFRESH_DURING_IMPORT_MS = 2500
# A status message the curator must read (what an import did, how to undo a removal) stays this
# long before teaching's report, which comes on its own a moment later, may take its place.
_HOLD_MS = 8000
_TEACHING_SAID_MS = 10000
_EMPTY_TEXT = (
    "Import a folder of saree photos to begin: each photo is classified as it comes in, and "
    "you can then review, correct and export the catalogue.\n\nDrop photos or folders "
    "anywhere on this window, or:"
)


class StatusBar(QStatusBar):
    """The window's status bar, whose messages are never cut off mid-word: one too long for
    its line (a teaching report in a 1024-pixel window) wraps onto a second line in smaller
    type, elided only past that; its whole text is the bar's tooltip while it shows."""

    MIN_POINTS = 7.5  # the smallest type a wrapped message is drawn in

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.messageChanged.connect(self._message_changed)

    def _message_changed(self, text: str) -> None:
        self.setToolTip(text)

    def message_rect(self) -> QRect:
        """Where the message goes: from the left to the first permanent widget shown (the
        others are hidden while a message shows), as QStatusBar places it."""
        right = self.width() - 12
        for w in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if w.isVisible() and w.x() > 6:
                right = min(right, w.x() - 2)
        return QRect(6, 0, max(0, right - 6), self.height())

    def message_lines(self) -> tuple[QFont, list[str]]:
        """The font and the lines the current message is drawn in: itself when it fits, else
        two lines (the second elided if still too long) in the largest type down to
        MIN_POINTS whose two lines fit the bar's height."""
        text = self.currentMessage()
        rect = self.message_rect()
        font = QFont(self.font())
        if QFontMetrics(font).horizontalAdvance(text) <= rect.width():
            return font, [text] if text else []
        size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
        while size > self.MIN_POINTS and 2 * QFontMetrics(font).lineSpacing() > rect.height():
            size = max(self.MIN_POINTS, size - 0.5)
            font.setPointSizeF(size)
        fm = QFontMetrics(font)
        words = text.split(" ")
        first = words[0]
        k = 1
        while k < len(words) and fm.horizontalAdvance(f"{first} {words[k]}") <= rect.width():
            first = f"{first} {words[k]}"
            k += 1
        rest = " ".join(words[k:])
        if not rest:  # one unbroken word: elide it on its line
            return font, [fm.elidedText(first, Qt.TextElideMode.ElideRight, rect.width())]
        second = fm.elidedText(rest, Qt.TextElideMode.ElideRight, rect.width())
        return font, [fm.elidedText(first, Qt.TextElideMode.ElideRight, rect.width()), second]

    def paintEvent(self, event: QPaintEvent) -> None:
        font, lines = self.message_lines()
        if len(lines) < 2 and (not lines or lines[0] == self.currentMessage()):
            super().paintEvent(event)  # no message, or one that fits its line
            return
        p = QPainter(self)
        opt = QStyleOption()
        opt.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, opt, p, self)
        p.setPen(self.palette().windowText().color())
        p.setFont(font)
        rect = self.message_rect()
        step = QFontMetrics(font).lineSpacing()
        top = rect.top() + (rect.height() - step * len(lines)) // 2
        for i, line in enumerate(lines):
            p.drawText(
                QRect(rect.left(), top + i * step, rect.width(), step),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                line,
            )
        p.end()


def _first_size(widget: QWidget) -> QSize:
    """1360 x 860, or the screen's free area where that is smaller (a 1366 x 768 laptop, or
    150% scale): a window taller than the screen hides its status bar and the panel's end."""
    screen = widget.screen() or QApplication.primaryScreen()
    if screen is None:
        return QSize(1360, 860)
    free = screen.availableGeometry()
    return QSize(min(1360, free.width()), min(860, free.height()))


def needs_teaching(items: Sequence[Item]) -> bool:
    """Whether the collection should say how to teach the app (`fewshot.needs_teaching`)."""
    taught = {it.confirmed for it in items if it.confirmed}
    unsure = sum(1 for it in items if it.uncertain and not it.confirmed)
    return teaching_rule(len(items), unsure, len(taught))


class MainWindow(QMainWindow):
    """Owns the library, the workers and the three pages."""

    def __init__(
        self,
        settings: QSettings,
        *,
        collection: Path | None = None,
        model: Path | None = None,
        thumbs: ThumbnailStore | None = None,
        import_in_child: bool = True,
    ) -> None:
        super().__init__()
        self._import_in_child = import_in_child
        self.setObjectName("mainWindow")
        self.setWindowTitle("Saree provenance")
        self.settings = settings
        self._model_path = model
        self.library: Library | None = None
        self._loaded = threading.Event()
        self._current: Item | None = None
        # Whose card the Knowledge tab last showed: (collection, photo id, its tradition).
        self._knowledge_photo: tuple[int, int, str | None] | None = None
        self._import_state: Any = None
        self._pending_select: int | None = None
        self._compare: CompareDialog | None = None
        # The status message held in front of teaching's report, and until when (monotonic).
        self._held: tuple[str, float] = ("", 0.0)
        self._teaching_said = ""  # teaching's report, waiting for a held message to be read

        # Workers: one for long jobs (import, export), one for the photo being looked at, one
        # for loading the model and listing the catalogue.
        self.jobs = TaskRunner(self)
        self.looker = TaskRunner(self)
        self.loader_jobs = TaskRunner(self)
        self.lister = TaskRunner(self)
        self.finder = TaskRunner(self)
        self.teacher = TaskRunner(self)
        self.reranker = Reranker(self)
        self._undo: list[Decision] = []
        self._teaching_dialog: TeachingDialog | None = None
        self.thumbs = ThumbnailLoader(thumbs, parent=self)

        self._build_ui()
        self._build_actions()
        self._connect()
        self.setAcceptDrops(True)
        self.grid.setFocus()
        self._restore_state()
        path = collection or Path(str(self.settings.value("collection", str(default_collection()))))
        self.open_collection(path)

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        self.resize(_first_size(self))
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setObjectName("mainSplitter")
        self.splitter = split
        self.facets = FacetPanel(split)
        self.facets.setMinimumWidth(170)
        split.addWidget(self.facets)
        self.tabs = QTabWidget(split)
        self.tabs.setObjectName("pages")
        self.tabs.setDocumentMode(True)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([250, 1110])
        self.setCentralWidget(split)

        # Collection page: the grid, or an empty state that says what to do.
        self.model = CollectionModel(self.thumbs, self)
        page = QWidget()
        pl = QVBoxLayout(page)
        pl.setContentsMargins(0, 0, 0, 0)
        self.collection_stack = QStackedWidget(page)
        self.grid = CollectionView(self.collection_stack)
        self.grid.setModel(self.model)
        self.empty = QWidget(self.collection_stack)
        self.empty.setObjectName("emptyCollection")
        el = QVBoxLayout(self.empty)
        el.addStretch(2)
        self.empty_title = QLabel("Your collection is empty", self.empty)
        self.empty_title.setObjectName("emptyTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        el.addWidget(self.empty_title)
        self.empty_text = QLabel(_EMPTY_TEXT, self.empty)
        self.empty_text.setObjectName("emptyState")
        self.empty_text.setWordWrap(True)
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setMaximumWidth(560)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.empty_text)
        row.addStretch(1)
        el.addLayout(row)
        brow = QHBoxLayout()
        brow.addStretch(1)
        self.empty_import = QPushButton("Import a folder…", self.empty)
        self.empty_import.setProperty("role", "primary")
        brow.addWidget(self.empty_import)
        self.empty_samples = QPushButton("Import the sample photos", self.empty)
        brow.addWidget(self.empty_samples)
        brow.addStretch(1)
        el.addLayout(brow)
        el.addStretch(3)
        self.no_match = QLabel(
            "No photo matches these filters. Clear the search or choose “All”.",
            self.collection_stack,
        )
        self.no_match.setObjectName("emptyState")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.collection_stack.addWidget(self.empty)
        self.collection_stack.addWidget(self.grid)
        self.collection_stack.addWidget(self.no_match)
        # Until the curator has taught it, a model that learnt from rendered sarees is mostly
        # guessing on their photographs, and says so photo by photo; this says what to do.
        self.teach_hint = QLabel(TEACH_HINT, page)
        self.teach_hint.setObjectName("teachHint")
        self.teach_hint.setWordWrap(True)
        self.teach_hint.hide()
        pl.addWidget(self.teach_hint)
        pl.addWidget(self.collection_stack)
        self.tabs.addTab(page, theme.icon("grid"), "Collection")

        self.photo = PhotoPage(self.thumbs)
        self.tabs.addTab(self.photo, theme.icon("photo"), "Photo")
        self.knowledge = KnowledgePage()
        self.tabs.addTab(self.knowledge, theme.icon("graph"), "Knowledge")

        # Status bar: counts, model state, import progress with cancel.
        sb = StatusBar(self)
        self.setStatusBar(sb)
        self.count_label = QLabel("")
        sb.addWidget(self.count_label)
        self.model_label = QLabel("Loading the model…")
        self.model_label.setObjectName("modelState")
        sb.addPermanentWidget(self.model_label)
        self.progress_label = QLabel("")
        # Not a QProgressBar: that one repaints synchronously on every new value, dragging the
        # whole window's pending repaints into the progress signal. This bar only update()s.
        self.progress = ConfidenceBar(0.0)
        self.progress.setObjectName("importProgress")
        self.progress.setFixedWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelImport")
        for w in (self.progress_label, self.progress, self.cancel_button):
            sb.addPermanentWidget(w)
            w.hide()
        # Teaching has its own line: it may run while an import shows its progress.
        self.teach_label = QLabel("")
        self.teach_label.setObjectName("teachingProgress")
        self.teach_bar = ConfidenceBar(0.0)
        self.teach_bar.setFixedWidth(120)
        for w in (self.teach_label, self.teach_bar):
            sb.addPermanentWidget(w)
            w.hide()

    def _build_actions(self) -> None:
        def act(text: str, slot: Any, shortcut: Any = None, icon: str | None = None) -> QAction:
            a = QAction(text, self)
            if icon:
                a.setIcon(theme.icon(icon))
            if shortcut is not None:
                if isinstance(shortcut, list):
                    a.setShortcuts([QKeySequence(s) for s in shortcut])
                else:
                    a.setShortcut(QKeySequence(shortcut))
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            plain = text.replace("&", "").rstrip("…")
            a.setToolTip(f"{plain} ({keys})" if keys else plain)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.act_open_collection = act(
            "&Open collection…", self.choose_open_collection, QKeySequence.StandardKey.Open
        )
        self.act_new_collection = act(
            "&New collection…", self.choose_new_collection, QKeySequence.StandardKey.New
        )
        self.act_import = act("&Import folder…", self.choose_import_folder, "Ctrl+I", "import")
        self.act_import_files = act("Import &photos…", self.choose_import_files)
        self.act_import_iiif = act("Import from a IIIF &manifest…", self.choose_import_manifest)
        self.act_import_samples = act("Import the &sample photos", self.import_samples)
        self.act_reclassify = act("Classify &again with this model", self.reclassify)
        self.act_export_csv = act("Export as &CSV…", lambda: self.choose_export("csv"), "Ctrl+E")
        self.act_export_csv.setIcon(theme.icon("export"))
        self.act_export_jsonld = act("Export as &JSON-LD…", lambda: self.choose_export("jsonld"))
        self.act_export_annotations = act(
            "Export &Web Annotations for a IIIF viewer…", self.choose_export_annotations
        )
        self.act_settings = act(
            "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences
        )
        self.act_quit = act("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_next = act("&Next photo", lambda: self.step(1), ["J", "PgDown"], "next")
        self.act_prev = act("&Previous photo", lambda: self.step(-1), ["K", "PgUp"], "previous")
        self.act_confirm = act("&Confirm top answer", self.confirm_top, "C", "confirm")
        self.act_confirm_next = act(
            "Confirm and &next", self.confirm_and_next, ["Shift+C", "Ctrl+Return"]
        )
        self.act_correct = act("Co&rrect…", self.focus_correct, "R")
        self.act_confirm_selected = act(
            "Confirm &selected photos", self.confirm_selected, "Ctrl+Shift+C"
        )
        self.act_confirm_selected.setEnabled(False)
        self.act_undo = act("&Undo", self.undo, QKeySequence.StandardKey.Undo, "undo")
        self.act_undo.setEnabled(False)
        self.act_undo.setIconText("Undo")  # the toolbar stays short; the menu says what
        self.act_teaching = act("&Teaching…", self.show_teaching)
        self.act_add_tradition = act("&Add a tradition…", self.add_tradition)
        self.act_fit = act("&Fit photo", self.photo.viewer.fit, "F")
        self.act_parts = act("Part &overlay", self.photo.overlays.parts.toggle, "O")
        self.act_heat = act("&Heatmap", self.photo.overlays.heat.toggle, "H")
        self.act_search = act("&Search", self.focus_search, QKeySequence.StandardKey.Find)
        self.act_tab = [
            act("&Collection", lambda: self.tabs.setCurrentIndex(TAB_COLLECTION), "Ctrl+1"),
            act("P&hoto", lambda: self.tabs.setCurrentIndex(TAB_PHOTO), "Ctrl+2"),
            act("&Knowledge", lambda: self.tabs.setCurrentIndex(TAB_KNOWLEDGE), "Ctrl+3"),
        ]
        self.act_model_card = act("&Model card", self.show_model_card, None, "card")
        self.act_choose_model = act("&Choose model…", self.choose_model)
        self.act_retrain = act("&Retrain from confirmed photos…", self.retrain_model)
        self.act_shortcuts = act("&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.act_about = act("&About", self.show_about)

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open_collection)
        m.addAction(self.act_new_collection)
        m.addSeparator()
        for a in (
            self.act_import,
            self.act_import_files,
            self.act_import_iiif,
            self.act_import_samples,
            self.act_reclassify,
        ):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_export_csv)
        m.addAction(self.act_export_jsonld)
        m.addAction(self.act_export_annotations)
        m.addSeparator()
        m.addAction(self.act_settings)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        m.addAction(self.act_undo)
        m = mb.addMenu("&Review")
        for a in (
            self.act_next,
            self.act_prev,
            self.act_confirm,
            self.act_confirm_next,
            self.act_correct,
            self.act_confirm_selected,
        ):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_teaching)
        m.addAction(self.act_add_tradition)
        m = mb.addMenu("&Model")
        for a in (
            self.act_choose_model,
            self.act_retrain,
            self.act_reclassify,
            self.act_model_card,
        ):
            m.addAction(a)
        m = mb.addMenu("&View")
        for a in self.act_tab:
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_search, self.act_fit, self.act_parts, self.act_heat):
            m.addAction(a)
        m = mb.addMenu("&Help")
        for a in (self.act_model_card, self.act_shortcuts, self.act_about):
            m.addAction(a)

        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.act_import)
        tb.addAction(self.act_export_csv)
        tb.addSeparator()
        tb.addAction(self.act_prev)
        tb.addAction(self.act_next)
        tb.addAction(self.act_confirm)
        tb.addAction(self.act_undo)
        tb.addSeparator()
        tb.addAction(self.act_model_card)
        self.addToolBar(tb)
        self.toolbar = tb

    def _connect(self) -> None:
        self.facets.filterChanged.connect(self._filter_changed)
        self.model.modelReset.connect(self._facet_numbers)  # re-filtered: the counts too
        self.grid.selectionModel().currentChanged.connect(self._current_changed)
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.grid.addActions([self.act_confirm_selected, self.act_undo])
        self.reranker.progressed.connect(self._rerank_progress)
        self.reranker.finished.connect(self._rerank_done)
        self.reranker.failed.connect(self._rerank_failed)
        self.reranker.stopped.connect(lambda: self._set_teach_progress(None))
        self.grid.activated.connect(lambda _i: self.tabs.setCurrentIndex(TAB_PHOTO))
        self.grid.doubleClicked.connect(lambda _i: self.tabs.setCurrentIndex(TAB_PHOTO))
        self.empty_import.clicked.connect(self.choose_import_folder)
        self.empty_samples.clicked.connect(self.import_samples)
        self.cancel_button.clicked.connect(self.cancel_import)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.cancelled.connect(self._import_cancelled)
        self.looker.failed.connect(self._look_failed)
        self.loader_jobs.failed.connect(self._job_failed)
        self.lister.failed.connect(self._job_failed)
        cur = self.photo.curator
        cur.confirmRequested.connect(self.confirm)
        cur.noteEdited.connect(self._note)
        cur.tagsEdited.connect(self._tags)
        self.photo.similar.modeChanged.connect(lambda _m: self._load_similar())
        self.photo.similar.filterChanged.connect(lambda _on: self._load_similar())
        self.finder.failed.connect(self._similar_failed)
        self.photo.similar.compareRequested.connect(self.compare_with)
        self.photo.similar.openRequested.connect(self.select_item)
        self.knowledge.showInCollection.connect(self.show_tradition_in_collection)
        self.part_editing = PartEditing(self)  # correcting the part map (issue 24)
        self.model_switching = ModelSwitching(self)  # the Model menu (issue 25)
        self.retraining = Retraining(self)  # Model > Retrain, a separate process (issue 25)
        self.housekeeping = Housekeeping(self)  # remove photos, find moved ones (issue 28)
        self.object_desk = ObjectDesk(self)  # objects, their records, grouping (issue 28)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(_REFRESH_DURING_IMPORT_MS)
        self._refresh_timer.timeout.connect(lambda: self.refresh_items(new_only=True))
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(300)
        self._counts_timer.timeout.connect(self._update_counts)
        self._teaching_timer = QTimer(self)
        self._teaching_timer.setSingleShot(True)
        self._teaching_timer.timeout.connect(self._say_teaching)
        self.statusBar().messageChanged.connect(self._message_changed)

    # ------------------------------------------------------------------ status bar
    def say(self, text: str, ms: int, *, hold: bool = False) -> None:
        """A status bar message for `ms`. `hold`: one the curator must be able to read (what an
        import did, how to undo), in front of which teaching's report does not come for
        _HOLD_MS (or until it goes, if sooner)."""
        if hold:
            self._hold(text, ms)
        self.statusBar().showMessage(text, ms)

    def _hold(self, text: str, ms: int) -> None:
        self._held = (text, time.monotonic() + min(ms, _HOLD_MS) / 1000)

    def _held_for_ms(self) -> int:
        """How much longer the message shown now is held (0: not held, or not any more)."""
        text, until = self._held
        if not text or self.statusBar().currentMessage() != text:
            return 0
        return max(0, int((until - time.monotonic()) * 1000))

    def _message_changed(self, text: str) -> None:
        # A removal's message says how to undo it (Housekeeping shows it): held like say()'s.
        if text and text == self.housekeeping.last_message:
            self._hold(text, _HOLD_MS)
        if not text and self._teaching_said:
            self._say_teaching()  # the held message has gone: teaching's report may come

    def _say_teaching(self, text: str | None = None) -> None:
        """Teaching's report (a re-rank finished): at once, unless the status bar holds a
        message the curator must read first; then once that has been up for _HOLD_MS."""
        if text is not None:
            self._teaching_said = text
        if not self._teaching_said:
            return
        wait = self._held_for_ms()
        if wait > 0:
            self._teaching_timer.start(wait)
            return
        self._teaching_timer.stop()
        said, self._teaching_said = self._teaching_said, ""
        self.statusBar().showMessage(said, _TEACHING_SAID_MS)

    # ------------------------------------------------------------------ state
    def _restore_state(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        for key, splitter in (
            ("window/main_splitter", self.splitter),
            ("window/photo_splitter", self.photo.splitter),
        ):
            v = s.value(key)
            if isinstance(v, QByteArray):
                splitter.restoreState(v)
        try:
            tab = int(str(s.value("window/tab", TAB_COLLECTION)))
        except ValueError:
            tab = TAB_COLLECTION
        self.tabs.setCurrentIndex(tab if 0 <= tab < self.tabs.count() else TAB_COLLECTION)
        try:
            opacity = int(str(s.value("view/opacity", 60)))
        except ValueError:
            opacity = 60
        self.photo.overlays.opacity.setValue(max(0, min(100, opacity)))

    def save_state(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/main_splitter", self.splitter.saveState())
        s.setValue("window/photo_splitter", self.photo.splitter.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        s.setValue("view/opacity", self.photo.overlays.opacity.value())
        self._remember_current()
        s.sync()

    def _remember_current(self) -> None:
        """Keep the photo shown in this collection, to select it again there."""
        if self._current is not None and self.library is not None:
            self.settings.setValue(_last_photo_key(self.library.path), self._current.id)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Start in the grid (arrow keys browse), not in the search box Qt would pick.
        QTimer.singleShot(0, self.grid.setFocus)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.jobs.busy:
            answer = QMessageBox.question(
                self,
                "Stop the import?",
                "An import is still running. Stop it and quit? Photos imported so far are kept.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        if not self.retraining.may_close():
            event.ignore()
            return
        self.photo.curator.flush_note()
        self.save_state()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop every worker (the window is closing)."""
        self._refresh_timer.stop()
        self.retraining.shutdown()
        self._stop_runners()
        self.thumbs.shutdown()
        if self.library is not None:
            self.library.close()
            self.library = None

    def _stop_runners(self) -> None:
        """Stop every background task runner (waits up to 10 s each)."""
        for runner in (
            self.jobs,
            self.looker,
            self.lister,
            self.loader_jobs,
            self.finder,
            self.teacher,
            self.reranker,
            self.model_switching.runner,
        ):
            runner.shutdown(10000)

    # ------------------------------------------------------------------ collection
    def open_collection(self, path: Path, threads: int | None = None) -> bool:
        """Open (or create) a catalogue file and load model and graph in the background."""
        from saree_app.collection.catalog import CatalogError

        if threads is None:
            try:
                threads = int(str(self.settings.value("threads", 0)))
            except ValueError:
                threads = 0
        try:
            lib = Library(
                path,
                model=self._model_path,
                threads=threads or None,
                import_in_child=self._import_in_child,
            )
        except (CatalogError, OSError) as exc:
            show_error(self, "Cannot open the collection", str(exc))
            return False
        old = self.library
        self._remember_current()  # the photo shown in the collection being left
        self._stop_runners()
        if old is not None:
            old.close()
        self.library = lib
        self.reranker.set_library(lib)
        self._set_teach_progress(None)
        self._teaching_timer.stop()
        self._teaching_said = ""  # the collection left behind was taught, not this one
        self._undo.clear()
        self.housekeeping.restore_undo()  # removals are kept beside the catalogue
        self._undo_changed()
        self.settings.setValue("collection", str(path))
        self.setWindowTitle(f"{path.stem} · Saree provenance")
        self._loaded.clear()
        self._current = None
        # The photo last shown in this collection is selected again once the listing arrives,
        # whichever comes first, the listing or the model: read now, not when the model is
        # ready (a listing that came first let the grid settle on its first photo). Only this
        # collection's: another's photo ids are not this one's.
        try:
            last = int(str(self.settings.value(_last_photo_key(path), -1)))
        except ValueError:
            last = -1
        self._pending_select = last if last >= 0 else None
        self.photo.show_empty()
        self.object_desk.refresh()  # no photo yet: no object, nothing to group (fifth walk)
        self.model_label.setText("Loading the model and knowledge graph…")
        self.loader_jobs.start(lambda c: self._load(lib), on_done=lambda _r: self._model_ready())
        self.refresh_items()
        return True

    def _load(self, lib: Library) -> None:
        try:
            lib.load()
        finally:
            self._loaded.set()

    def _model_ready(self) -> None:
        lib = self.library
        if lib is None:
            return
        # The graph and model are long-lived: moving them out of the collector's view keeps
        # full collections (which stop every thread) short while an import runs.
        gc.collect()
        gc.freeze()
        self.model.set_labeller(lib.label)
        self.refresh_items()
        self.facets.set_labeller(lib.label)
        self.photo.set_labeller(lib.label)
        self.photo.answer.set_labeller(lib.label, lib.sources)
        self.photo.similar.set_labeller(lib.label)
        self.photo.similar.set_mode(lib.similar_mode)
        self.photo.curator.set_traditions(lib.traditions(), lib.label)
        if lib.added_problem:
            self.statusBar().showMessage(lib.added_problem, 15000)
        if lib.model_note:
            show_error(self, "The collection's model cannot be used", lib.model_note)
        if lib.predictor is not None:
            self.knowledge.set_model_labels(lib.predictor.manifest.labels)
            self.refresh_teaching()  # answer sets calibrated on the confirmed photos, if any
        self.knowledge.set_graph(lib.graph, lib.graph_problem, lib.label)
        self.knowledge.set_added(lib.added)  # read on opening: `saree label --new` ones too
        info = lib.model_info()
        self.empty_text.setText(_EMPTY_TEXT)
        if info is None:
            self.model_label.setText("No model: browsing only")
            self.model_label.setToolTip(lib.model_problem or "")
            self.empty_text.setText(
                f"{lib.model_problem}\nPhotos cannot be classified until a model is installed "
                "(see Settings and the model card).\n\n" + _EMPTY_TEXT
            )
        else:
            graph = "" if lib.graph is not None else " · no knowledge graph"
            # The model as the Model menu names it; its file name and fingerprint for a report.
            choice = lib.model_in_use()
            title = choice.title if choice is not None else f"Model {info.name}"
            self.model_label.setText(f"{title}{graph}")
            tip = f"{info.name} · {info.sha256[:8]}"
            self.model_label.setToolTip(f"{tip}\n{lib.graph_problem}" if lib.graph_problem else tip)
        self._update_counts()
        if self._current is not None:
            self._look(self._current)

    def refresh_items(self, *, new_only: bool = False) -> None:
        """Re-read the catalogue listing on a worker; the grid keeps its place.

        new_only (during an import): read only photos added since the last listing, so the
        worker's share of the interpreter lock stays small however big the collection is.
        """
        lib = self.library
        if lib is None:
            return
        before = list(self.model.all_items())
        model = self.model
        last_id = max((it.id for it in before[-1:]), default=None)
        hay_before = model.search_texts_now() if new_only and last_id is not None else None

        def job(cancel: Cancel) -> tuple[list[Item], list[str], int | None]:
            if hay_before is not None:
                new = lib.items(after=last_id)
                return before + new, hay_before + model.search_texts(new), len(before)
            items = lib.items()
            cancel.check()
            hay = model.search_texts(items)
            # Compared here, not on the GUI thread: 100,000 items take a while.
            appended = len(before) if items[: len(before)] == before else None
            return items, hay, appended

        self.lister.start(job, on_done=self._items_ready)

    def _items_ready(self, result: tuple[list[Item], list[str], int | None]) -> None:
        items, hay, appended = result
        self.model.set_items(items, None, hay, appended)
        self._counts_timer.start()
        self._show_collection_state()
        if self._pending_select is not None:
            target, self._pending_select = self._pending_select, None
            self.select_item(target)
        elif self._current is not None:
            row = self.model.row_of(self._current.id)
            if row is not None and self.grid.currentIndex().row() != row:
                self.grid.setCurrentIndex(self.model.index(row))

    def _show_collection_state(self) -> None:
        n_all = len(self.model.all_items())
        if n_all == 0:
            self.collection_stack.setCurrentWidget(self.empty)
        elif self.model.rowCount() == 0:
            self.collection_stack.setCurrentWidget(self.no_match)
        else:
            self.collection_stack.setCurrentWidget(self.grid)
        shown = self.model.rowCount()
        text = f"{n_all:,} photos" if shown == n_all else f"{shown:,} of {n_all:,} photos"
        self.count_label.setText(text)

    def _update_counts(self) -> None:
        items = self.model.all_items()
        facets = self._facet_numbers()
        # Both figures from the same items: the knowledge card says how many of a tradition's
        # photos the curator confirmed (teaching's own counts leave out photos it cannot use).
        self.knowledge.set_counts(dict(facets.listed), dict(self.model.confirmed_counts()))
        self.teach_hint.setVisible(needs_teaching(items))

    def _facet_numbers(self) -> FacetCounts:
        """Each facet's numbers within the other facets' choice (the list is re-filtered, or
        an item changed); returned, with the whole collection's per tradition (`listed`)."""
        facets = self.model.facet_counts()
        self.facets.update_counts(self.model.all_items(), facets=facets)
        return facets

    def _filter_changed(self, flt: Filter) -> None:
        keep = self._current.id if self._current else None
        self.model.set_filter(flt)
        self._show_collection_state()
        if keep is not None:
            row = self.model.row_of(keep)
            if row is not None:
                self.grid.setCurrentIndex(self.model.index(row))
                self.grid.scrollTo(self.model.index(row))

    def _tab_changed(self, index: int) -> None:
        if index == TAB_KNOWLEDGE:
            self.refresh_teaching()
            # The card of the photo looked at last (its confirmed tradition, else the model's
            # answer), not the list's first; once per photo, so a card the curator went to in
            # the Knowledge tab is still there when they come back from the same photo.
            item = self._current
            # Keyed on the collection and the photo's tradition too: a photo confirmed as
            # another tradition, or another collection's photo of the same id, is a new card.
            key = (id(self.library), item.id, item.tradition) if item is not None else None
            if item is not None and item.tradition and key != self._knowledge_photo:
                self._knowledge_photo = key
                self.knowledge.show_tradition(item.tradition)

    def refresh_teaching(self) -> None:
        """What the confirmed photos teach, for the knowledge cards and the teaching panel
        (reads embeddings and fits teaching: worker)."""
        lib = self.library
        if lib is None or lib.predictor is None:
            return
        self.teacher.start(lambda c: lib.teaching_report(), on_done=self._teaching_ready)

    def _teaching_ready(self, teaching: Teaching) -> None:
        from saree_app.collection.fewshot import MIN_EXAMPLES, checkable

        self.knowledge.set_teaching({t: (n, a) for t, n, a in teaching.rows}, MIN_EXAMPLES)
        taught = sum(1 for _t, _n, counts in teaching.rows if counts)
        self.photo.answer.set_calibration(
            teaching.sets, taught, teaching.examples, checkable(teaching.rows), teaching.checks
        )
        if self._teaching_dialog is not None:
            self._teaching_dialog.set_teaching(teaching, self.model.all_items())

    def show_tradition_in_collection(self, tradition: str) -> None:
        if self._counts_timer.isActive():  # a decision just now may have added this facet
            self._counts_timer.stop()
            self._update_counts()
        for i in range(self.facets.traditions.count()):
            it = self.facets.traditions.item(i)
            if it.data(Qt.ItemDataRole.UserRole) == tradition:
                self.facets.traditions.setCurrentItem(it)
                break
        self.tabs.setCurrentIndex(TAB_COLLECTION)

    def show_confirmed_in_collection(self, tradition: str, photo: int | None = None) -> None:
        """The collection narrowed to the photos confirmed as `tradition` (the teaching
        panel's examples), with `photo` current when given."""
        self.facets.search.clear()  # a search left from before would hide some of them
        self.facets.status_buttons[CONFIRMED].setChecked(True)
        self.show_tradition_in_collection(tradition)
        # Set here too: the facets emit nothing when their choice did not change.
        self._filter_changed(Filter(tradition=tradition, status=CONFIRMED))
        if photo is not None:
            self.select_item(photo)
        self.activateWindow()

    # ------------------------------------------------------------------ selection
    def select_item(self, item_id: int) -> bool:
        row = self.model.row_of(item_id)
        if row is None:
            if not any(it.id == item_id for it in self.model.all_items()):
                return False  # not (or no longer) in the collection
            # Not under the current filter: show everything rather than hide the request.
            self.facets.search.clear()
            self.facets.status_buttons[None].setChecked(True)
            self.facets.traditions.setCurrentRow(0)
            self.model.set_filter(Filter())
            self._show_collection_state()
            row = self.model.row_of(item_id)
        if row is None:
            return False
        idx = self.model.index(row)
        self.grid.setCurrentIndex(idx)
        self.grid.scrollTo(idx)
        return True

    def current_item(self) -> Item | None:
        return self._current

    def _current_changed(self, cur: QModelIndex, _prev: QModelIndex) -> None:
        item = self.model.item(cur.row()) if cur.isValid() else None
        if item is None:
            return
        if self._current is not None and self._current.id == item.id:
            self._current = item
            self._tell_decision(item)  # confirmed or corrected since: the page leads with it
            return
        self.photo.curator.flush_note()
        self._current = item
        self._look(item)

    def step(self, delta: int) -> None:
        n = self.model.rowCount()
        if n == 0:
            return
        cur = self.grid.currentIndex()
        row = cur.row() + delta if cur.isValid() else 0
        if cur.isValid() and not 0 <= row < n:
            end = "last" if delta > 0 else "first"
            self.statusBar().showMessage(f"This is the {end} photo in the list.", 3000)
        row = max(0, min(n - 1, row))
        idx = self.model.index(row)
        self.grid.setCurrentIndex(idx)
        self.grid.scrollTo(idx)

    def _look(self, item: Item) -> None:
        """Classify and prepare the selected photo on the worker."""
        lib = self.library
        if lib is None:
            return
        self.photo.curator.set_item(item, item.predicted)
        self.photo.set_busy(f"Looking at {item.name}…")
        loaded = self._loaded

        def job(cancel: Cancel) -> Analysis:
            loaded.wait(120)
            cancel.check()
            predict = (lambda img: lib.predict(img, item.id)) if lib.predictor is not None else None
            return analyse(
                item.id,
                item.path,
                predict,
                cancel,
                name=item.name,
                no_model_reason=lib.model_problem,
            )

        self.looker.start(job, on_done=self._analysis_ready)

    def _analysis_ready(self, analysis: Analysis) -> None:
        item = self._current
        if item is None or analysis.key != item.id:
            return
        self.photo.set_busy("")
        self._tell_decision(item, redraw=False)  # shown with it just below
        self.photo.show_analysis(analysis)
        self._side_to_top()
        top = analysis.ranked()[0] if analysis.ranked() else item.predicted
        self.photo.curator.set_item(item, top)
        self._load_similar()

    def _tell_decision(self, item: Item, *, redraw: bool = True) -> None:
        """The answer panel leads with the curator's decision on the photo, if any."""
        lib = self.library
        confirmed = item.confirmed
        self.photo.answer.set_confirmed(
            (lib.label(confirmed) if lib is not None else confirmed) if confirmed else None,
            redraw=redraw,
        )

    def _look_failed(self, message: str, details: str) -> None:
        self.photo.set_busy("")
        name = self._current.name if self._current else "this photo"
        self.photo.show_empty(f"{name} cannot be shown.\n\n{message}")
        self.photo.curator.set_item(self._current, None)

    def _load_similar(self) -> None:
        """Search on a worker: the first search reads every embedding of the catalogue."""
        lib, item = self.library, self._current
        if lib is None or item is None:
            return
        strip = self.photo.similar
        part, confirmed = strip.mode(), strip.confirmed_only()
        key = (item.id, part, confirmed)

        def done(found: SimilarSarees) -> None:
            cur = self._current
            if cur is not None and (cur.id, strip.mode(), strip.confirmed_only()) == key:
                self.photo.similar.set_results(
                    found.results, accession=found.accession, photos=found.photos, note=found.note
                )

        self.photo.similar.set_results([], "Looking for similar sarees…")
        self.finder.start(lambda c: lib.similar_sarees(item.id, part, 12, confirmed), on_done=done)

    def _similar_failed(self, message: str, _details: str) -> None:
        # A damaged or model-less catalogue must not take the page down.
        self.photo.similar.set_results([], f"Similar sarees unavailable: {message}")

    # ------------------------------------------------------------------ curator
    def confirm_top(self) -> None:
        if self.photo.curator.confirm_suggested():
            return
        if self._current is None:
            self.statusBar().showMessage("Select a photo first.", 3000)

    def confirm_and_next(self) -> None:
        """The fast review loop: accept the top answer (unless the curator already decided)
        and move on."""
        cur = self._current
        if cur is not None and (cur.confirmed or self.photo.curator.confirm_suggested()):
            self.step(1)

    def focus_correct(self) -> None:
        self.tabs.setCurrentIndex(TAB_PHOTO)
        self.photo.curator.focus_correct()
        side = self.photo.findChild(QScrollArea, "sidePanel")
        if side is not None:
            side.ensureWidgetVisible(self.photo.curator.correct_box)

    def focus_search(self) -> None:
        self.facets.search.setFocus()
        self.facets.search.selectAll()

    def _store(self, fn: Any, *args: Any) -> None:
        from saree_app.collection.catalog import CatalogError

        where = self.library.path if self.library is not None else None
        try:
            item = fn(*args)
        except (CatalogError, OSError) as exc:
            # A file that refuses writes (read-only, locked, a full disk) in a curator's words;
            # sqlite's own ("disk I/O error") in the details.
            show_error(self, "Not saved", *not_saved_text(exc, where))
            return
        except Exception as exc:
            message, details = not_saved_text(exc, where)
            show_error(self, "Not saved", message, f"{details}\n\n{traceback.format_exc()}")
            return
        if item is None:
            return
        if self._current is not None and self._current.id == item.id:
            self._current = item
        self.model.update_item(item)
        self.photo.curator.item_changed(item)
        self._counts_timer.start()

    def _side_to_top(self) -> None:
        """Each photo's panel opens at its top: the decision first, then the answer."""
        side = self.photo.findChild(QScrollArea, "sidePanel")
        if side is not None:
            side.verticalScrollBar().setValue(0)

    def _leave_text_field(self) -> None:
        """After a decision typed into the correction field, J and K move on again instead of
        typing into it (plain-letter shortcuts go to the focused text field first)."""
        focus = QApplication.focusWidget()
        if isinstance(focus, (QLineEdit, QComboBox)) and self.photo.isAncestorOf(focus):
            self.photo.viewer.setFocus()

    def confirm(self, tradition: str) -> None:
        lib, item = self.library, self._current
        if lib is None or item is None:
            return
        self._leave_text_field()
        if self._decide([(item.id, tradition)], f"labelling {item.name} as {lib.label(tradition)}"):
            self.statusBar().showMessage(f"{item.name}: confirmed as {lib.label(tradition)}", 4000)

    def selected_items(self) -> list[Item]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [it for it in (self.model.item(r) for r in rows) if it is not None]

    def _selection_changed(self) -> None:
        n = len(self.grid.selectionModel().selectedIndexes())
        self.act_confirm_selected.setEnabled(n > 0)
        text = f"Confirm {n:,} selected" if n else "Confirm selected photos"
        self.act_confirm_selected.setText(text)

    def confirm_selected(self) -> bool:
        """Confirm each selected photo as its current answer, after asking when there are
        several; photos the curator already decided on stay as they are."""
        lib = self.library
        if lib is None:
            return False
        chosen = self.selected_items()
        todo = [(it.id, it.predicted) for it in chosen if not it.confirmed and it.predicted]
        if not todo:
            self.statusBar().showMessage(
                "Nothing to confirm: the selected photos are confirmed already or have no answer.",
                5000,
            )
            return False
        if len(todo) > 1:
            counts: dict[str, int] = {}
            for _, t in todo:
                counts[t] = counts.get(t, 0) + 1
            lines = ", ".join(
                f"{n} as {lib.label(t)}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1])
            )
            kept = len(chosen) - len(todo)
            note = f"\n\n{kept} already confirmed or unanswered stay as they are." if kept else ""
            answer = QMessageBox.question(
                self,
                f"Confirm {len(todo)} photos?",
                f"Confirm each of the {len(todo)} selected photos as the answer shown under "
                f"it?\n\n{lines}.{note}\n\nUndo (Ctrl+Z) takes it back.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        pairs = [(i, str(t)) for i, t in todo]
        text = f"confirming {len(pairs)} photos" if len(pairs) > 1 else ""
        if not text:
            name = next(it.name for it in chosen if it.id == pairs[0][0])
            text = f"labelling {name} as {lib.label(pairs[0][1])}"
        if not self._decide(pairs, text):
            return False
        self.statusBar().showMessage(
            f"Confirmed {len(pairs)} photo{'s' if len(pairs) != 1 else ''}.", 4000
        )
        return True

    def _decide(self, changes: list[tuple[int, str]], text: str) -> bool:
        """Store a labelling decision, remember it for Undo, and re-rank the rest."""
        lib = self.library
        if lib is None:
            return False
        result: list[Any] = []

        def store() -> None:
            decision, items = lib.decide(changes, text)
            result.append(decision)
            self._show_items(items)

        self._store(store)
        if not result:
            return False
        self._undo.append(result[0])
        del self._undo[:-100]  # a morning's review; older decisions stay in the label history
        self._undo_changed()
        self.reranker.schedule()
        return True

    def undo(self) -> bool:
        """Give the photos of the last decision back their previous labels; re-rank."""
        lib = self.library
        if lib is None or not self._undo:
            return False
        decision = self._undo[-1]
        if isinstance(decision, RemovedPhotos):
            return self.housekeeping.undo(decision)
        if isinstance(decision, ObjectChange):
            return self.object_desk.undo(decision)
        done: list[bool] = []

        def store() -> None:
            self._show_items(lib.undo(decision))
            done.append(True)

        self._store(store)
        if not done:
            return False
        self._undo.pop()
        self._undo_changed()
        said = f"Undone: {decision.text}."
        self.statusBar().showMessage(said, 5000)
        self.reranker.schedule(said)
        return True

    def _undo_changed(self) -> None:
        last = self._undo[-1] if self._undo else None
        self.act_undo.setEnabled(last is not None)
        text = f"&Undo {last.text}" if last else "&Undo"
        self.act_undo.setText(text.replace("&", "&&").replace("&&Undo", "&Undo", 1))
        self.act_undo.setIconText("Undo")
        keys = self.act_undo.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.act_undo.setToolTip(f"Undo {last.text} ({keys})" if last else f"Undo ({keys})")

    def _show_items(self, items: list[Item]) -> None:
        for item in items:
            if self._current is not None and self._current.id == item.id:
                self._current = item
                self._tell_decision(item)  # the page leads with the decision (or its undoing)
            self.model.update_item(item)
            self.photo.curator.item_changed(item)
        self.photo.similar.update_items(items)
        self._counts_timer.start()
        self.object_desk.refresh()  # an object's "Confirm for all" follows its photos' labels

    # ------------------------------------------------------------------ teaching
    def _set_teach_progress(self, p: RerankProgress | None) -> None:
        on = p is not None
        self.teach_label.setVisible(on)
        self.teach_bar.setVisible(on)
        if p is not None:
            self.teach_label.setText(progress_text(p))
            self.teach_bar.set_value(p.done / max(p.total, 1))

    def _rerank_progress(self, p: RerankProgress) -> None:
        self._set_teach_progress(p)

    def _rerank_done(self, result: RerankResult) -> None:
        self._set_teach_progress(None)
        changed = self.model.update_items(list(result.items))
        if changed:
            self._counts_timer.start()
        self._say_teaching(done_text(result))  # after a message the curator must read
        self._teaching_ready(result.teaching)
        self.photo.similar.update_items(changed)  # the strip names each match's new answer
        self.object_desk.refresh()  # and the object's answer is fused from the new ones
        cur = self._current
        for item in changed:
            if cur is not None and item.id == cur.id:
                self._current = item
                self.photo.curator.item_changed(item)
                if not item.confirmed:
                    self._look(item)  # its answer was just taught again: show the new one

    def _rerank_failed(self, message: str, details: str) -> None:
        self._set_teach_progress(None)
        show_error(
            self,
            "The collection was not re-ranked",
            f"Teaching from your confirmed photos stopped: {message}\nYour decisions are "
            "saved; the next one tries again.",
            details,
        )

    def show_teaching(self) -> TeachingDialog:
        """The teaching panel: per tradition, confirmed photos and what they still need."""
        lib = self.library
        if self._teaching_dialog is None:
            self._teaching_dialog = TeachingDialog(self.thumbs, self)
            self._teaching_dialog.addRequested.connect(self.add_tradition)
            self._teaching_dialog.showRequested.connect(self.show_confirmed_in_collection)
        dlg = self._teaching_dialog
        if lib is not None:
            dlg.set_labeller(lib.label, lib.about)
        dlg.summary.setText("Counting your confirmed photos…")
        dlg.show()
        dlg.raise_()
        self.refresh_teaching()
        return dlg

    def add_tradition(self) -> bool:
        """Add a tradition the app does not know; it joins the list photos are corrected to."""
        from saree_app.collection.traditions import TraditionsError

        lib = self.library
        if lib is None:
            return False
        known = [t for t in lib.traditions() if lib.curator_tradition(t) is None]
        parent = self._teaching_dialog if self._teaching_dialog is not None else self
        dlg = NewTraditionDialog(known, lib.label, lib.tradition_problem, parent)
        self.last_tradition_dialog = dlg
        if dlg.exec() != NewTraditionDialog.DialogCode.Accepted:
            return False
        try:
            added = lib.add_tradition(**dlg.values())
        except TraditionsError as exc:
            show_error(self, "Tradition not added", str(exc))
            return False
        self.photo.curator.set_traditions(lib.traditions(), lib.label)
        self.photo.curator.correct_box.setEditText(added.name)
        self.knowledge.set_added(lib.added)
        self.statusBar().showMessage(
            f"{added.name} added: choose it under “Correct to…” to label photos with it.", 8000
        )
        if self._teaching_dialog is not None and self._teaching_dialog.isVisible():
            self.refresh_teaching()
        return True

    def _note(self, text: str) -> None:
        if self.library is not None and self._current is not None:
            self._store(self.library.set_note, self._current.id, text)

    def _tags(self, tags: tuple[str, ...]) -> None:
        if self.library is not None and self._current is not None:
            self._store(self.library.set_tags, self._current.id, tags)

    # ------------------------------------------------------------------ compare
    def compare_with(self, other_id: int) -> None:
        lib, item = self.library, self._current
        if lib is None or item is None or self.photo.analysis is None:
            return
        other = next((i for i in self.model.all_items() if i.id == other_id), None)
        if other is None:
            return
        try:
            from saree_app.gui.thumbs import pil_to_qimage
            from saree_app.imaging import load_photo

            right = pil_to_qimage(load_photo(other.path, target=1200))
        except PhotoError as exc:
            show_error(self, "Cannot compare", str(exc))
            return
        if self._compare is None:
            self._compare = CompareDialog(self)
        lab = lib.label

        def caption(it: Item) -> str:
            trad = lab(it.tradition) if it.tradition else "not classified"
            state = "confirmed" if it.confirmed else "model"
            return f"<b>{it.name}</b> · {trad} <span style='color:#7a746a'>({state})</span>"

        score = self.photo.similar.score_of(other_id)
        mode = dict(MODES).get(self.photo.similar.mode(), "")
        right_caption = caption(other)
        if score is not None:
            right_caption += f" · {mode.lower()} {score:.0%} alike"
        dlg = self._compare
        graph = lib.graph
        dlg.set_labeller(lab, graph.kind if graph is not None else None)
        dlg.set_photos(
            self.photo.analysis.photo,
            caption(item),
            right,
            right_caption,
            items=(item, other),
            left_analysis=self.photo.analysis,
        )
        dlg.show()
        dlg.raise_()
        # The right-hand photo's answer and overlays come from the worker.
        predict = (lambda img: lib.predict(img, other.id)) if lib.predictor is not None else None
        self.finder.start(analyse_other(other, predict), on_done=dlg.set_right_analysis)

    # ------------------------------------------------------------------ import
    def choose_import_folder(self) -> None:
        start = str(self.settings.value("last_import", str(Path.home())))
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of saree photos", start)
        if folder:
            self.settings.setValue("last_import", folder)
            self.start_import([Path(folder)])

    def choose_import_files(self) -> None:
        start = str(self.settings.value("last_import", str(Path.home())))
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Import saree photos",
            start,
            "Photos (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.bmp);;All files (*)",
        )
        if files:
            self.settings.setValue("last_import", str(Path(files[0]).parent))
            self.start_import([Path(f) for f in files])

    def choose_import_manifest(self) -> None:
        """A IIIF manifest's images, by its web address or a manifest file."""
        from PySide6.QtWidgets import QInputDialog

        start = str(self.settings.value("last_manifest", ""))
        text, ok = QInputDialog.getText(
            self,
            "Import from a IIIF manifest",
            "Web address (http:// or https://) or file of a IIIF manifest:",
            QLineEdit.EchoMode.Normal,
            start,
        )
        text = text.strip()
        if not ok or not text:
            return
        from saree_app.collection.iiif import is_manifest_source

        if not is_manifest_source(text):
            show_error(
                self,
                "Not a IIIF manifest",
                f"{text} is neither a web address nor a .json manifest file.",
            )
            return
        self.settings.setValue("last_manifest", text)
        self.start_import([text], check_exists=False)

    def import_samples(self) -> None:
        from saree_app import paths

        folder = paths.samples_dir()
        if not folder.is_dir() or not any(folder.iterdir()):
            show_error(self, "No sample photos", f"The sample photos are missing ({folder}).")
            return
        self.start_import([folder])

    def reclassify(self) -> bool:
        """Run every photo through the current model (after a model update). Photos it has
        already seen are passed over; moved or deleted files are reported."""
        items = self.model.all_items()
        if not items:
            show_error(self, "Nothing to classify", "The collection is empty: import photos.")
            return False
        return self.start_import([it.path for it in items], check_exists=False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()
            self.statusBar().showMessage("Drop to import these photos and folders", 3000)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.start_import(paths)

    def start_import(self, paths: Sequence[Path | str], *, check_exists: bool = True) -> bool:
        """Import folders and photo files on the worker, with progress and cancel."""
        lib = self.library
        if lib is None:
            return False
        if self.jobs.busy:
            answer = QMessageBox.question(
                self,
                "Another task is running",
                "An import or export is running. Stop it and start this import?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        missing = [p for p in paths if not Path(p).exists()] if check_exists else []
        if missing:
            show_error(self, "Nothing to import", f"{missing[0]} does not exist.")
            return False
        loaded = self._loaded

        def job(cancel: Cancel) -> Any:
            loaded.wait(300)
            return lib.import_paths(paths, cancel.is_set)

        self._import_state = None
        self._import_paths = list(paths)
        self._set_progress(True, "Starting the import…")
        self.jobs.start(job, on_done=self._import_done, on_progress=self._import_progress)
        self._refresh_timer.start()
        return True

    def cancel_import(self) -> None:
        self.jobs.cancel()
        self.progress_label.setText("Stopping after the current photo…")

    def _set_progress(self, on: bool, text: str = "") -> None:
        for w in (self.progress_label, self.progress, self.cancel_button):
            w.setVisible(on)
        self.progress_label.setText(text)
        if on:
            self.progress.set_value(0.0)

    def _import_progress(self, p: Any) -> None:
        self._import_state = p
        self.progress.set_value(int(p.done) / max(int(p.total), 1))
        name = Path(p.current).name if p.current else ""
        self.progress_label.setText(f"Importing {p.done:,} / {p.total:,}  {name}")

    def _import_done(self, last: Any) -> None:
        self._refresh_timer.stop()
        self._set_progress(False)
        self._import_state = last
        # New photos get what the confirmed ones teach, and so do photos already there whose
        # cloth features the import read (what teaching compares); an import that did neither
        # (an empty folder, photos already there as they were) changed no answer, and its
        # report stays in view.
        added = int(getattr(last, "added", 0) or 0) + int(getattr(last, "updated", 0) or 0)
        if added and any(it.confirmed for it in self.model.all_items()):
            self.reranker.schedule()
        self.refresh_items()
        if last is None:
            return
        self._report_import(last)

    def _report_import(self, last: Any) -> None:
        skipped = [(s.path, s.reason) for s in last.skipped]
        if not skipped and not last.cancelled:
            paths = getattr(self, "_import_paths", [])
            if not last.added and not last.already:
                self.say(_nothing_found(paths), 15000, hold=True)
                return
            hint = self.object_desk.import_hint(paths)
            self.say(
                f"Import finished: {last.added:,} added, {last.already:,} already there.{hint}",
                15000 if hint else 8000,
                hold=True,
            )
            return
        self.last_report = ImportReportDialog(
            last.added, last.already, skipped, last.cancelled, self
        )
        self.last_report.open()

    def _import_cancelled(self) -> None:
        self._refresh_timer.stop()
        self._set_progress(False)
        self.refresh_items()
        last = self._import_state
        if last is not None:
            from dataclasses import replace

            self._report_import(replace(last, cancelled=True))
        else:
            self.statusBar().showMessage("Cancelled.", 5000)

    def _job_failed(self, message: str, details: str) -> None:
        self._refresh_timer.stop()
        self._set_progress(False)
        show_error(self, "Something went wrong", message, details)

    # ------------------------------------------------------------------ export
    def choose_export(self, fmt: str) -> None:
        lib = self.library
        if lib is None:
            return
        if not self.model.all_items():
            show_error(self, "Nothing to export", "The collection is empty: import photos first.")
            return
        suffix = {"csv": "csv", "jsonld": "jsonld"}[fmt]
        start = Path(str(self.settings.value("last_export", str(Path.home()))))
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export the catalogue as {fmt.upper()}",
            str(start / f"{lib.path.stem}.{suffix}"),
            f"{fmt.upper()} (*.{suffix});;All files (*)",
        )
        if path:
            self.settings.setValue("last_export", str(Path(path).parent))
            self.export_to(Path(path), fmt)

    def choose_export_annotations(self) -> None:
        """One AnnotationPage file per photo into a folder the curator picks: the parts, the
        tradition and the note on each IIIF canvas (or photo file), for Mirador and the like."""
        lib = self.library
        if lib is None:
            return
        if not self.model.all_items():
            show_error(self, "Nothing to export", "The collection is empty: import photos first.")
            return
        start = Path(str(self.settings.value("last_export", str(Path.home()))))
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for the Web Annotations (one file per photo)", str(start)
        )
        if folder:
            self.settings.setValue("last_export", folder)
            self.export_to(Path(folder), "annotations")

    def export_to(self, path: Path, fmt: str) -> None:
        lib = self.library
        if lib is None:
            return
        if self.jobs.busy:
            show_error(self, "Please wait", "An import is running; export when it has finished.")
            return
        self._set_progress(True, f"Exporting {path.name}…")
        self.cancel_button.hide()

        def done(_r: object) -> None:
            self._set_progress(False)
            self.statusBar().showMessage(f"Exported {path}", 8000)

        self.jobs.start(lambda c: lib.export(path, fmt), on_done=done)

    # ------------------------------------------------------------------ dialogs
    def open_settings(self) -> None:
        lib = self.library
        try:
            threads = int(str(self.settings.value("threads", 0)))
        except ValueError:
            threads = 0
        dlg = SettingsDialog(lib.path if lib else default_collection(), threads, self)
        if dlg.exec() != SettingsDialog.DialogCode.Accepted:
            return
        path, threads_new = dlg.values()
        self.settings.setValue("threads", threads_new)
        if lib is None or path != lib.path or threads_new != threads:
            self.switch_collection(path, threads_new)

    def switch_collection(self, path: Path, threads: int | None = None) -> bool:
        """Open another collection in this window (Settings, File ▸ Open collection…, File ▸
        New collection…): after asking, if an import or export would be stopped; a file that
        is not a collection is refused in words and the open one stays (`open_collection`),
        which remembers the choice for the next start."""
        if self.jobs.busy:
            answer = QMessageBox.question(
                self,
                "Stop the import?",
                "An import or export is running in this collection. Stop it and open "
                f"{path.name}? Photos imported so far are kept.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        return self.open_collection(path, threads)

    def _collection_folder(self) -> str:
        """Where the collection file dialogs start: the open collection's folder."""
        lib = self.library
        return str((lib.path if lib is not None else default_collection()).absolute().parent)

    def choose_open_collection(self) -> bool:
        """File ▸ Open collection…: another collection file, opened in this window."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Open a collection", self._collection_folder(), COLLECTION_FILTER
        )
        if not name:
            return False
        path = Path(name)
        lib = self.library
        if lib is not None and path.absolute() == lib.path.absolute():
            self.say(f"{path.name} is the collection open now.", 5000)
            return False
        if not path.is_file():
            show_error(
                self,
                "Cannot open the collection",
                f"{path} does not exist, or is not a file. Choose a collection file (ending "
                "in .saree), or make a new one (File ▸ New collection…).",
            )
            return False
        if not self.switch_collection(path):
            return False
        self.say(f"Opened the collection {path.name} ({path.parent}).", 8000)
        return True

    def choose_new_collection(self) -> bool:
        """File ▸ New collection…: a new, empty collection file under the name chosen (.saree
        added), opened in this window. An existing file is never replaced."""
        name, _ = QFileDialog.getSaveFileName(
            self,
            "New collection: choose its file name",
            self._collection_folder(),
            COLLECTION_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if not name:
            return False
        path = collection_file_name(Path(name).expanduser())
        if path.exists():
            show_error(
                self,
                "Collection not made",
                f"{path} exists already and was left as it is. Choose another name for the "
                "new collection, or open that one (File ▸ Open collection…).",
            )
            return False
        if not path.parent.is_dir():
            show_error(
                self,
                "Collection not made",
                f"The folder {path.parent} does not exist: choose a folder that does.",
            )
            return False
        from saree_app.collection.side_files import left_behind

        earlier = left_behind(path)
        if earlier:
            # A collection of that name was deleted without its side files: a new one would
            # take its removals to undo, its model and its traditions for its own.
            listed = ", ".join(p.name for p in earlier[:4]) + (" …" if len(earlier) > 4 else "")
            show_error(
                self,
                "Collection not made",
                f"Files of an earlier collection named {path.name} are still in {path.parent} "
                f"({listed}): a new collection of that name would take them for its own (its "
                "undo list, its model, its traditions). Choose another name, or move those "
                "files away first.",
            )
            return False
        if not self.switch_collection(path):
            return False
        self.say(f"New collection {path.name} made in {path.parent}: import photos to begin.", 8000)
        return True

    def choose_model(self) -> None:
        """The Model dialog: the shipped and retrained models; switching runs in the
        background."""
        self.model_switching.choose()

    def retrain_model(self) -> None:
        """Model > Retrain from confirmed photos: `saree train --catalog` as a separate
        process, its progress in a small window; the new model is offered when done."""
        self.retraining.start()

    def show_model_card(self) -> None:
        lib = self.library
        info = lib.model_info() if lib else None
        from saree_app import paths

        card = info.card if info else paths.models_dir() / "MODEL_CARD.md"
        # First what a curator needs (how it does on real photographs); the card itself is
        # written for specialists.
        choice = lib.model_in_use() if lib else None
        preface = None
        if choice is not None:
            from saree_app.gui.models import real_photos_text

            preface = f"{choice.title}: {real_photos_text(choice)}"
        # The model in use: a retrained one shows its own report first (gui/models.py).
        manifest = lib.model_path() if lib is not None else None
        model_card_dialog(card, self, preface=preface, manifest=manifest).exec()

    def show_shortcuts(self) -> None:
        # Every action's keys: one the list does not name yet is listed too.
        TextDialog(
            "Keyboard shortcuts", shortcuts_html(self.findChildren(QAction)), False, self
        ).exec()

    def show_about(self) -> None:
        import saree_app

        QMessageBox.about(
            self,
            "About",
            f"<b>Saree provenance</b> {saree_app.__version__}<br>Where does this saree come "
            "from? Part-aware recognition of Indian saree traditions, explained with a textile "
            "knowledge graph.<br><br>Answers are leads for a curator, not verdicts.",
        )


def _nothing_found(paths: Sequence[Path | str]) -> str:
    """What an import that found no photo at all says, naming where it looked."""
    if len(paths) == 1:
        where = paths[0]
        if isinstance(where, str) and not Path(where).exists():
            return f"No photos were found in the IIIF manifest {where}: nothing was added."
        if Path(where).is_dir():
            return (
                f"No photos were found in the folder {where} or the folders inside it: "
                "nothing was added."
            )
        return f"No photo was found in {where}: nothing was added."
    return f"No photos were found in the {len(paths)} folders and files chosen: nothing was added."


def _last_photo_key(collection: Path) -> str:
    """The setting that keeps the photo last shown in a collection (photo ids are a
    collection's own: another's id would select another photo, or none)."""
    digest = hashlib.sha1(str(Path(collection).absolute()).encode("utf-8")).hexdigest()[:16]
    return f"last_photo/{digest}"
