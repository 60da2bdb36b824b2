"""Side-by-side comparison of two photos: zoom and pan kept in step, the same overlays on both,
and a table of where the two differ (tradition, certainty, motifs and weaves, each part)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection.fewshot import claims_level
from saree_app.gui.analysis import Analysis, analyse, heat_for, pretty
from saree_app.gui.dialogs import resize_within_screen
from saree_app.gui.items import Item
from saree_app.gui.overlays import colour_heat, colour_mask, rgba_to_qimage
from saree_app.gui.qtfix import emit
from saree_app.gui.tasks import Cancel, Cancelled
from saree_app.gui.viewer import PhotoViewer
from saree_app.knowledge.words import pct

LAYER_PARTS = "parts"
LAYER_HEAT = "tradition heat"
LAYER_MUTED = "muted photo"  # under the heatmap (as on the photo page)
# An attribute counts as seen from this probability on (as in the answer panel).
SEEN = 0.5
PART_ROWS = (
    ("border", "Border looks like"),
    ("pallu", "Pallu looks like"),
    ("body", "Body looks like"),
)
ATTRIBUTE_ROWS = (("motif", "Motifs seen"), ("weave", "Weaves seen"), ("feature", "Other features"))

Labeller = Callable[[str], str]
Kind = Callable[[str], str | None]
# Whether a live answer (a Prediction) claims a level (collection.fewshot.claims_level with the
# photo page's calibration: AnswerPanel.claims_level_of); where it does not, no percentage of
# the answer's is given as odds.
LevelRule = Callable[[Any], bool]
# How the certainty row names an answer that claims no level (as the object panel does).
NO_LEVEL = "no level claimed"


def _no_calibration(pred: Any) -> bool:
    """The rule without the photo page's calibration: as if nothing were calibrated yet."""
    return claims_level(pred, None)


def _tradition(item: Item | None, label: Labeller) -> str:
    if item is None or not item.tradition:
        return "not classified"
    return label(item.tradition)


def _certainty(
    item: Item | None, analysis: Analysis | None, level: LevelRule = _no_calibration
) -> str:
    if item is not None and item.confirmed:
        return "confirmed by you"
    pred = analysis.prediction if analysis is not None else None
    if pred is None or not pred.fused.ranking:
        return "—"
    if level(pred):
        text = f"model, {pct(float(pred.fused.ranking[0].probability))}"
    else:
        text = f"model, {NO_LEVEL}"
    return text + ", uncertain" if pred.uncertain else text


def _attributes(analysis: Analysis | None, kinds: Sequence[str] | None, kind: Kind) -> str:
    pred = analysis.prediction if analysis is not None else None
    if pred is None:
        return "—"
    seen = [
        a
        for a in pred.attributes
        if float(a.probability) >= SEEN and (kinds is None or (kind(a.term) or "feature") in kinds)
    ]
    if not seen:
        return "none with confidence"
    return ", ".join(f"{a.label} {pct(float(a.probability))}" for a in seen)


def _part(
    analysis: Analysis | None, part: str, label: Labeller, level: LevelRule = _no_calibration
) -> str:
    pred = analysis.prediction if analysis is not None else None
    if pred is None:
        return "—"
    for pe in pred.parts:
        if pe.part == part and pe.ranking:
            if float(pe.area) <= 0.0:
                return "not marked on the part map"
            t, p = pe.ranking[0]
            # As the photo page says it: no figure where the answer claims no level.
            return f"{label(t)} {pct(float(p))}" if level(pred) else label(t)
    return "not marked on the part map"


def _key(text: str) -> str:
    """What two cells are compared by: the words, not the percentages."""
    return " ".join(w for w in text.replace(",", " ").split() if not w.rstrip("%").isdigit())


def differences(
    left: tuple[Item | None, Analysis | None],
    right: tuple[Item | None, Analysis | None],
    label: Labeller = pretty,
    kind: Kind | None = None,
    level: LevelRule | None = None,
) -> list[tuple[str, str, str, bool]]:
    """(what, left, right, differs) rows for the compare table.

    Rows: the tradition, the certainty, the motifs / weaves / other features seen (one row
    for all of them when `kind` cannot tell them apart: no knowledge graph), and each part's
    own top tradition. A row differs when its words differ; percentages alone do not count.
    `level`: whether a photo's answer claims a level (the photo page's rule,
    `AnswerPanel.claims_level_of`; None: as if nothing were calibrated yet); where it does
    not, its certainty and its parts give no percentage.
    """
    rule = level or _no_calibration
    rows: list[tuple[str, str, str]] = [
        ("Tradition", _tradition(left[0], label), _tradition(right[0], label)),
        ("Certainty", _certainty(*left, rule), _certainty(*right, rule)),
    ]
    if kind is None:
        rows.append(
            (
                "Motifs and weaves seen",
                _attributes(left[1], None, str),
                _attributes(right[1], None, str),
            )
        )
    else:
        for k, title in ATTRIBUTE_ROWS:
            rows.append(
                (title, _attributes(left[1], (k,), kind), _attributes(right[1], (k,), kind))
            )
    for part, title in PART_ROWS:
        rows.append((title, _part(left[1], part, label, rule), _part(right[1], part, label, rule)))
    out = []
    for what, a, b in rows:
        if what == "Certainty":
            differs = a.split(",")[0] != b.split(",")[0] or a.endswith("uncertain") != b.endswith(
                "uncertain"
            )
        else:
            differs = _key(a) != _key(b)
        out.append((what, a, b, differs))
    return out


def analyse_other(item: Item, predict: Callable[[Any], Any] | None) -> Callable[[Cancel], Analysis]:
    """The worker job that looks at the right-hand photo; a photo that cannot be read or
    classified comes back as an Analysis whose problem says why (the compare stays open)."""

    def job(cancel: Cancel) -> Analysis:
        try:
            return analyse(item.id, item.path, predict, cancel, name=item.name)
        except Cancelled:
            raise
        except Exception as exc:
            return Analysis(item.id, item.name, QImage(), problem=f"{item.name}: {exc}")

    return job


class CompareDialog(QDialog):
    """Two viewers; zooming or panning one moves the other to the same relative place.
    "Open this photo" asks (`openRequested`, the photo's id) for the right-hand photo in the
    main window; on a window whose photo page has a similar strip, it asks the way the strip's
    double-click does."""

    openRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare sarees")
        resize_within_screen(self, 1200, 760)
        self._label: Labeller = pretty
        self._kind: Kind | None = None
        # The photo page's rule for whether an answer claims a level (its calibration as it
        # is when asked): the parent window's answer panel, where it has one.
        panel = getattr(getattr(parent, "photo", None), "answer", None)
        self._level: LevelRule | None = getattr(panel, "claims_level_of", None)
        self._items: list[Item | None] = [None, None]
        self._analyses: list[Analysis | None] = [None, None]
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        bar = QHBoxLayout()
        self.parts = QCheckBox("Parts", self)
        self.parts.setToolTip("Colour the border, pallu and body the model found, in both photos")
        self.heat = QCheckBox("Heatmap of", self)
        self.heat.setToolTip("Where the model sees the chosen tradition, in both photos")
        self.heat_choice = QComboBox(self)
        self.heat_choice.setObjectName("compareHeatChoice")
        self.heat_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status = QLabel("", self)
        self.status.setProperty("role", "hint")
        bar.addWidget(self.parts)
        bar.addWidget(self.heat)
        bar.addWidget(self.heat_choice)
        bar.addSpacing(12)
        bar.addWidget(self.status, 1)
        outer.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical, self)
        panes = QWidget(split)
        grid = QGridLayout(panes)
        grid.setContentsMargins(0, 0, 0, 0)
        self.left = PhotoViewer(panes)
        self.right = PhotoViewer(panes)
        self.left_caption = QLabel("", panes)
        self.right_caption = QLabel("", panes)
        for c in (self.left_caption, self.right_caption):
            c.setObjectName("compareCaption")
            c.setWordWrap(True)
            c.setTextFormat(Qt.TextFormat.RichText)
        grid.addWidget(self.left_caption, 0, 0)
        grid.addWidget(self.right_caption, 0, 1)
        grid.addWidget(self.left, 1, 0)
        grid.addWidget(self.right, 1, 1)
        grid.setRowStretch(1, 1)
        self.table = QTableWidget(0, 3, split)
        self.table.setObjectName("compareDifferences")
        self.table.setHorizontalHeaderLabels(["", "Left", "Right"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        split.addWidget(panes)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        outer.addWidget(split, 1)
        foot = QHBoxLayout()
        self.sync = QCheckBox("Zoom and pan together", self)
        self.sync.setChecked(True)
        foot.addWidget(self.sync)
        self.open_button = QPushButton("Open this photo", self)
        self.open_button.setObjectName("compareOpen")
        self.open_button.setToolTip(
            "Show the right-hand photo on the photo page, with its answer (closes this window)"
        )
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_right)
        foot.addStretch(1)
        foot.addWidget(self.open_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        foot.addWidget(buttons)
        outer.addLayout(foot)
        self._syncing = False
        self.left.viewChanged.connect(lambda: self._follow(self.left, self.right))
        self.right.viewChanged.connect(lambda: self._follow(self.right, self.left))
        self.parts.toggled.connect(lambda _on: self._overlays())
        self.heat.toggled.connect(lambda _on: self._overlays())
        self.heat_choice.currentIndexChanged.connect(self._heat_chosen)
        # The window opens a similar saree on the strip's double-click (`openRequested` of its
        # SimilarStrip): the button asks the same way.
        strip = getattr(getattr(parent, "photo", None), "similar", None)
        if strip is not None and hasattr(strip, "openRequested"):
            self.openRequested.connect(strip.openRequested)

    def _open_right(self) -> None:
        item = self._items[1]
        if item is None:
            return
        emit(self.openRequested, int(item.id))
        self.close()

    def set_labeller(self, label: Labeller, kind: Kind | None = None) -> None:
        """Display names of terms, and (with a knowledge graph) what kind of term each is."""
        self._label, self._kind = label, kind

    def set_level_rule(self, rule: LevelRule | None) -> None:
        """Whether a photo's answer claims a level (the photo page's rule,
        AnswerPanel.claims_level_of); the table is said again by it."""
        self._level = rule
        self._fill_table()

    def set_photos(
        self,
        left: QImage,
        left_caption: str,
        right: QImage,
        right_caption: str,
        *,
        items: tuple[Item | None, Item | None] = (None, None),
        left_analysis: Analysis | None = None,
    ) -> None:
        self.left.set_photo(left)
        self.right.set_photo(right)
        self.left_caption.setText(left_caption)
        self.right_caption.setText(right_caption)
        self._items = list(items)
        self._analyses = [left_analysis, None]
        right_item = items[1]
        self.open_button.setEnabled(right_item is not None)
        if right_item is not None:
            self.open_button.setToolTip(
                f"Show {right_item.name} on the photo page, with its answer (closes this window)"
            )
        self.table.setHorizontalHeaderLabels(
            [
                "",
                *(
                    it.name if it is not None else side
                    for it, side in zip(items, ("Left", "Right"), strict=True)
                ),
            ]
        )
        self.status.setText("Looking at the right-hand photo…" if left_analysis else "")
        self._refresh()

    def set_right_analysis(self, analysis: Analysis) -> None:
        """The right-hand photo's answer and overlays, once the worker has them."""
        self._analyses[1] = analysis
        self.status.setText(analysis.problem or "")
        self._refresh()

    def rows(self) -> list[tuple[str, str, str, bool]]:
        return differences(
            (self._items[0], self._analyses[0]),
            (self._items[1], self._analyses[1]),
            self._label,
            self._kind,
            self._level,
        )

    # --- overlays
    def _refresh(self) -> None:
        current = self.heat_choice.currentData()
        self.heat_choice.blockSignals(True)
        self.heat_choice.clear()
        seen: list[str] = []
        for a in self._analyses:
            for t in a.ranked() if a is not None else []:
                if t not in seen:
                    seen.append(t)
        for t in seen:
            self.heat_choice.addItem(self._label(t), t)
        i = self.heat_choice.findData(current)
        self.heat_choice.setCurrentIndex(i if i >= 0 else (0 if seen else -1))
        self.heat_choice.blockSignals(False)
        ready = any(a is not None and a.mask is not None for a in self._analyses)
        for w in (self.parts, self.heat, self.heat_choice):
            w.setEnabled(ready)
        self._overlays()
        self._fill_table()

    def _heat_chosen(self, _i: int) -> None:
        if not self.heat.isChecked():
            self.heat.setChecked(True)  # choosing a tradition means "show me"
        else:
            self._overlays()

    def heat_tradition(self) -> str | None:
        data = self.heat_choice.currentData()
        return str(data) if data is not None else None

    def _overlays(self) -> None:
        tradition = self.heat_tradition()
        heats = [
            heat_for(a, tradition) if a is not None and tradition else None for a in self._analyses
        ]
        # Both photos' maps on one scale: which of the two looks more like the tradition.
        top = max((int(h.max()) for h in heats if h is not None and h.size), default=None)
        showing = self.heat.isChecked()
        for viewer, a, heat in zip((self.left, self.right), self._analyses, heats, strict=True):
            mask = a.mask if a is not None else None
            viewer.set_layer(LAYER_MUTED, a.muted() if showing and a is not None else None)
            viewer.set_layer(
                LAYER_HEAT,
                rgba_to_qimage(colour_heat(heat, top)) if showing and heat is not None else None,
            )
            viewer.set_layer(
                LAYER_PARTS,
                rgba_to_qimage(colour_mask(mask))
                if self.parts.isChecked() and mask is not None
                else None,
            )

    # --- differences
    def _fill_table(self) -> None:
        rows = self.rows()
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        mark = QBrush(QColor("#f6ead7"))
        for r, (what, a, b, differs) in enumerate(rows):
            for c, text in enumerate((what, a, b)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                if differs:
                    cell.setBackground(mark)
                    if c:
                        cell.setFont(bold)
                self.table.setItem(r, c, cell)
        self.table.resizeRowsToContents()

    def _follow(self, source: PhotoViewer, target: PhotoViewer) -> None:
        if self._syncing or not self.sync.isChecked():
            return
        self._syncing = True
        try:
            target.set_relative_state(*source.relative_state())
        finally:
            self._syncing = False
