"""The photo page: viewer with overlays, answer and curator panels, similar-sarees strip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.gui.analysis import Analysis, heat_for, heat_scale, pretty
from saree_app.gui.answer import AnswerPanel
from saree_app.gui.curator import CuratorPanel
from saree_app.gui.flow import FlowLayout
from saree_app.gui.overlays import colour_heat, colour_mask, heat_lut, rgba_to_qimage
from saree_app.gui.qtfix import emit
from saree_app.gui.similar import SimilarStrip
from saree_app.gui.theme import PART_COLOURS, PART_LABELS, PARTS
from saree_app.gui.thumbs import ThumbnailLoader
from saree_app.gui.viewer import PhotoViewer
from saree_app.knowledge.words import curators_own

LAYER_PARTS = "parts"
LAYER_HEAT = "tradition heat"
LAYER_PART_HEAT = "part heat"
# The photo in grey, under a heatmap: in its own colours a pink or red silk hid the ramp.
LAYER_MUTED = "muted photo"


def _ramp_pixmap(width: int, height: int) -> QPixmap:
    """The heatmap colour ramp as a small legend swatch (opaque, so the colours read)."""
    lut = heat_lut()
    idx = np.linspace(0, 255, width).astype(int)
    row = lut[idx].copy()
    row[:, 3] = 255
    img = np.repeat(row[None], height, axis=0)
    return QPixmap.fromImage(rgba_to_qimage(img))


# The note above the photo while the part map in use is the curator's own.
CORRECTED_NOTE = (
    "<b>Part map corrected by you</b> — the part evidence and similar-by-part search use your map."
)
# ... and while the parts of a worn saree are shown: on real photos of sarees worn by a person,
# border and pallu were mostly mistaken (`saree bench real`: their overlap with a curator's
# labels about 0.15 and 0.10, against about 0.35 on sarees laid flat; see the model card).
WORN_NOTE = (
    "<b>Worn saree</b> — the parts are kept on the person, off the face and the room, but on a "
    "drape the app often mistakes which cloth is border and which is pallu. Correct the parts "
    "and the part evidence uses your map."
)


# The heatmap menu's words for a ranked tradition the model has no heatmap for: one it was not
# trained on, which the knowledge graph ranks (graph only), or the curator's own, which neither
# the model nor the graph knows and their confirmed photos rank (knowledge.words.curators_own).
GRAPH_ONLY = "graph only"
TAUGHT_BY_YOU = "taught by you"
HEAT_TIP = "Where the model sees the tradition chosen on the right"
NO_HEATMAP_AT_ALL = (
    "The model has no heatmap for any of the traditions ranked here: it was not trained on them"
)


def no_heatmap_why(label: str, own: bool) -> str:
    """Why a ranked tradition has no heatmap, for its greyed item in the menu."""
    if own:
        return (
            f"No heatmap: {label} is your own tradition, taught by the photos you confirmed; the "
            "model was not trained on it, so it cannot show where the photo looks like it"
        )
    return (
        f"No heatmap: the model was not trained on {label}; it is ranked from what the knowledge "
        "graph says it looks like, so the model cannot show where the photo looks like it"
    )


def heat_choice_tip(mapless: Sequence[str], any_map: bool) -> str:
    """The heatmap menu's tooltip: which tradition's map it shows, and which have none."""
    tip = "The tradition whose heatmap is shown"
    if not mapless:
        return tip
    one = len(mapless) == 1
    none = (
        f"No heatmap for {', '.join(mapless)}: the model was not trained on "
        f"{'it' if one else 'them'}, so it cannot show where the photo looks like "
        f"{'it' if one else 'them'}"
    )
    return f"{tip}. {none}" if any_map else none


class OverlayBar(QWidget):
    """Switches and blends the overlay layers: part mask, tradition heatmap, part heatmap."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overlayBar")
        # Wraps onto a second row on a narrow window rather than widening it past the screen.
        lay = FlowLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(6)
        self.parts = QCheckBox("Parts", self)
        self.parts.setToolTip("Colour the border, pallu and body the model found")
        lay.addWidget(self.parts)
        self.legend = QWidget(self)
        leg = QHBoxLayout(self.legend)
        leg.setContentsMargins(0, 0, 0, 0)
        leg.setSpacing(4)
        for part in PARTS:
            r, g, b = PART_COLOURS[part]
            sw = QLabel(self.legend)
            sw.setFixedSize(10, 10)
            sw.setStyleSheet(f"background: rgb({r},{g},{b}); border-radius: 2px;")
            leg.addWidget(sw)
            leg.addWidget(QLabel(PART_LABELS[part], self.legend))
            leg.addSpacing(4)
        lay.addWidget(self.legend)
        lay.addSpacing(8)
        self.heat = QCheckBox("Heatmap", self)
        self.heat.setToolTip(HEAT_TIP)
        lay.addWidget(self.heat)
        self.heat_choice = QComboBox(self)
        self.heat_choice.setObjectName("heatChoice")
        self.heat_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.heat_choice.setMinimumContentsLength(12)
        lay.addWidget(self.heat_choice)
        self.ramp = QLabel(self)
        self.ramp.setObjectName("heatRamp")
        self.ramp.setPixmap(_ramp_pixmap(44, 8))
        ramp_tip = (
            "Heatmap colours, over the photo in grey: weak evidence (dark, see-through) to the "
            "strongest in the answer's own map (yellow)"
        )
        self.ramp.setToolTip(ramp_tip)
        # Its two ends named beside it: a tooltip alone left the colours unexplained (third
        # walk: "the colour ramp has no low/high labels").
        self.ramp_ends: list[QLabel] = []
        for text in ("weak", "strong"):
            end = QLabel(text, self)
            end.setObjectName(f"heatRamp{text.capitalize()}")
            end.setStyleSheet("color: #7a746a;")
            end.setToolTip(ramp_tip)
            self.ramp_ends.append(end)
        lay.addWidget(self.ramp_ends[0])
        lay.addWidget(self.ramp)
        lay.addWidget(self.ramp_ends[1])
        # Not "Part map": that is what "Parts" shows (and what the part editor corrects).
        self.part_heat = QCheckBox("Part strength", self)
        self.part_heat.setToolTip(
            "How sure the model is, place by place, that the cloth belongs to the part chosen"
        )
        lay.addWidget(self.part_heat)
        self.part_choice = QComboBox(self)
        for part in PARTS:
            self.part_choice.addItem(PART_LABELS[part], part)
        self.part_choice.setCurrentIndex(1)
        lay.addWidget(self.part_choice)
        self.edit_parts = QToolButton(self)
        self.edit_parts.setObjectName("editParts")
        self.edit_parts.setText("Correct parts…")
        self.edit_parts.setToolTip(
            "Show where the saree is and which part is which; the evidence then uses your map"
        )
        lay.addWidget(self.edit_parts)
        lay.addStretch(1)
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setObjectName("opacity")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.opacity.setFixedWidth(80)
        self.opacity.setToolTip("Overlay opacity: from the bare photo to the overlay alone")
        lay.addWidget(self.opacity)
        self.fit = QToolButton(self)
        self.fit.setText("Fit")
        self.fit.setToolTip("Fit the photo to the window (F)")
        lay.addWidget(self.fit)
        for w in (self.parts, self.heat, self.part_heat):
            w.toggled.connect(lambda _on: emit(self.changed))
        self.heat_choice.currentIndexChanged.connect(self._heat_choice_changed)
        self.part_choice.currentIndexChanged.connect(self._part_choice_changed)

    def _heat_choice_changed(self, _i: int) -> None:
        if self.heat_choice.currentIndex() >= 0 and not self.heat.isChecked():
            self.heat.setChecked(True)  # picking a tradition means "show me"
        else:
            emit(self.changed)

    def _part_choice_changed(self, _i: int) -> None:
        if not self.part_heat.isChecked():
            self.part_heat.setChecked(True)
        else:
            emit(self.changed)

    def set_traditions(
        self,
        ranked: Sequence[tuple[str, str] | tuple[str, str, bool] | tuple[str, str, bool, bool]],
    ) -> None:
        """The ranked traditions; (id, label, has_heatmap, curators_own), the flags defaulting
        to True and False. A tradition the model has no heatmap for (one it was not trained on:
        the knowledge graph's, or the curator's own) is listed, greyed, saying why; the menu
        starts on the first that has one, so ticking Heatmap shows a map."""
        self.heat_choice.blockSignals(True)
        self.heat_choice.clear()
        model = self.heat_choice.model()
        first = -1
        mapless: list[str] = []
        for entry in ranked:
            tid, label = entry[0], entry[1]
            known = entry[2] if len(entry) > 2 else True
            own = bool(entry[3]) if len(entry) > 3 else False
            if known:
                self.heat_choice.addItem(label, tid)
                first = self.heat_choice.count() - 1 if first < 0 else first
                continue
            # The model cannot point at a tradition it was not trained on.
            mapless.append(label)
            self.heat_choice.addItem(f"{label} ({TAUGHT_BY_YOU if own else GRAPH_ONLY})", tid)
            item = (
                model.item(self.heat_choice.count() - 1)
                if isinstance(model, QStandardItemModel)
                else None
            )
            if item is not None:
                item.setEnabled(False)
                item.setToolTip(no_heatmap_why(label, own))
        self.heat_choice.setCurrentIndex(first)
        self.heat_choice.blockSignals(False)
        self.heat_choice.setToolTip(heat_choice_tip(mapless, first >= 0))
        enabled = bool(ranked)
        for w in (
            self.parts,
            self.heat,
            self.heat_choice,
            self.part_heat,
            self.part_choice,
            self.edit_parts,
        ):
            w.setEnabled(enabled)
        if enabled and first < 0:
            # None of them has a map: Heatmap would show nothing, and says why instead (left
            # ticked or not as the curator had it, for the next photo).
            self.heat.setEnabled(False)
        self.heat.setToolTip(
            HEAT_TIP if first >= 0 or not enabled else f"{HEAT_TIP}. {NO_HEATMAP_AT_ALL}"
        )

    def choose_tradition(self, tradition: str) -> None:
        i = self.heat_choice.findData(tradition)
        model = self.heat_choice.model()
        if i < 0 or (isinstance(model, QStandardItemModel) and not model.item(i).isEnabled()):
            return
        self.heat_choice.blockSignals(True)
        self.heat_choice.setCurrentIndex(i)
        self.heat_choice.blockSignals(False)
        if self.heat.isChecked():
            emit(self.changed)
        else:
            self.heat.setChecked(True)


class PhotoPage(QWidget):
    """Shows one Analysis; everything the curator decides leaves through the curator panel."""

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photoPage")
        self._analysis: Analysis | None = None
        self._label: Callable[[str], str] = pretty
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("photoSplitter")
        outer.addWidget(self.splitter)

        left = QWidget(self.splitter)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        self.overlays = OverlayBar(left)
        ll.addWidget(self.overlays)
        # Shown while the part map in use is the curator's own (gui/part_editor.py).
        self.parts_note = QFrame(left)
        self.parts_note.setObjectName("partsNote")
        self.parts_note.setStyleSheet(
            "#partsNote { background: #fbf3dc; border-bottom: 1px solid #e0cf9a; }"
        )
        pn = QHBoxLayout(self.parts_note)
        pn.setContentsMargins(10, 4, 10, 4)
        self.parts_note_text = QLabel(CORRECTED_NOTE, self.parts_note)
        self.parts_note_text.setWordWrap(True)
        pn.addWidget(self.parts_note_text, 1)
        self.parts_edit = QToolButton(self.parts_note)
        self.parts_edit.setText("Edit")
        pn.addWidget(self.parts_edit)
        self.parts_revert = QToolButton(self.parts_note)
        self.parts_revert.setText("Use the model's map")
        pn.addWidget(self.parts_revert)
        self.parts_note.hide()
        ll.addWidget(self.parts_note)
        self.stack = QStackedWidget(left)
        self.viewer = PhotoViewer(self.stack)
        self.placeholder = QLabel(
            "Select a photo in the Collection tab (double-click or Enter) to see where it comes "
            "from.\n\nJ / K move to the next / previous photo, C confirms the top answer.",
            self.stack,
        )
        self.placeholder.setObjectName("emptyState")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.viewer)
        ll.addWidget(self.stack, 1)
        self.busy = QLabel("", left)
        self.busy.setObjectName("busyLine")
        self.busy.hide()
        ll.addWidget(self.busy)
        self.similar = SimilarStrip(loader, left)
        ll.addWidget(self.similar)
        self.splitter.addWidget(left)

        right = QScrollArea(self.splitter)
        right.setObjectName("sidePanel")
        right.setWidgetResizable(True)
        right.setFrameShape(QFrame.Shape.NoFrame)
        right.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side = QWidget(right)
        side.setObjectName("sideContent")
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(0)
        self.answer = AnswerPanel(side)
        self.curator = CuratorPanel(side)
        sl.addWidget(self.curator)
        line = QFrame(side)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("divider")
        sl.addWidget(line)
        sl.addWidget(self.answer, 1)
        right.setWidget(side)
        # The panel scrolls vertically only: never narrower than what its content needs.
        right.setMinimumWidth(max(310, side.minimumSizeHint().width() + 16))
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([860, 420])

        self.overlays.changed.connect(self.refresh_overlays)
        self.overlays.opacity.valueChanged.connect(lambda v: self.viewer.set_opacity(v / 100.0))
        self.overlays.fit.clicked.connect(self.viewer.fit)
        self.answer.traditionClicked.connect(self.overlays.choose_tradition)
        self.curator.leaveRequested.connect(self.viewer.setFocus)
        self.viewer.set_opacity(self.overlays.opacity.value() / 100.0)
        self.overlays.set_traditions([])
        self._tab_order()

    def _tab_order(self) -> None:
        """Tab from the photo goes to the decision first (Confirm, Correct to…, Set, the note,
        the tags), then the ways of showing the photo, the similar sarees and the answer's
        Details: it reached Confirm, at the top of the side panel, only at the 19th press."""
        bar, strip = self.overlays, self.similar
        chain: list[QWidget] = [
            self.viewer,
            self.curator.confirm_button,
            self.curator.correct_box,
            self.curator.correct_button,
            self.curator.note,
            self.curator.tags,
            bar.parts,
            bar.heat,
            bar.heat_choice,
            bar.part_heat,
            bar.part_choice,
            bar.edit_parts,
            bar.opacity,
            bar.fit,
            self.parts_edit,
            self.parts_revert,
            *strip.mode_buttons.values(),
            strip.list,
            strip.confirmed_box,
            self.answer.details_button,
        ]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def set_labeller(self, labeller: Callable[[str], str]) -> None:
        self._label = labeller

    @property
    def analysis(self) -> Analysis | None:
        return self._analysis

    def show_empty(self, text: str | None = None) -> None:
        self._analysis = None
        if text:
            self.placeholder.setText(text)
        self.stack.setCurrentWidget(self.placeholder)
        # Nothing of the photo shown before stays: its decision (Confirm, note, tags), its
        # answer and the sarees like it (a new, empty collection showed them all).
        self.answer.set_confirmed(None, redraw=False)
        self.answer.clear("No photo selected.")
        self.curator.set_item(None, None)
        self.similar.set_results([], "Select a photo to see similar sarees.")
        self.overlays.set_traditions([])
        self.parts_note.hide()
        self.set_busy("")

    def set_busy(self, text: str) -> None:
        self.busy.setText(text)
        self.busy.setVisible(bool(text))

    def show_analysis(self, analysis: Analysis) -> None:
        self._analysis = analysis
        self.viewer.set_photo(analysis.photo)
        self.stack.setCurrentWidget(self.viewer)
        pred = analysis.prediction
        if pred is None:
            self.answer.show_problem(analysis.name, analysis.problem or "")
            self.overlays.set_traditions([])
        else:
            self.answer.show_prediction(analysis.name, pred)
            self.overlays.set_traditions(
                [
                    (
                        r.tradition,
                        r.label or self._label(r.tradition),
                        pred.has_heatmap(r.tradition),
                        curators_own(r),
                    )
                    for r in pred.fused.ranking[:5]
                ]
            )
        self.refresh_overlays()

    def _show_parts_note(self) -> None:
        """Above the photo: the curator's own part map is in use; or, while the parts are
        shown on a worn saree, that the app often mistakes a drape's border and pallu."""
        a, bar = self._analysis, self.overlays
        pred = a.prediction if a is not None else None
        if getattr(pred, "part_map", None) is not None:
            self.parts_note_text.setText(CORRECTED_NOTE)
            self.parts_edit.setText("Edit")
            self.parts_revert.show()
            self.parts_note.show()
        elif a is not None and a.worn and (bar.parts.isChecked() or bar.part_heat.isChecked()):
            # With no face found, the app says it took the photo for a worn saree (a folded
            # one can be), not that it is one.
            self.parts_note_text.setText(a.worn_note() or WORN_NOTE)
            self.parts_edit.setText("Correct…")  # the bar below has its own "Correct parts…"
            self.parts_revert.hide()
            self.parts_note.show()
        else:
            self.parts_note.hide()

    def refresh_overlays(self) -> None:
        a = self._analysis
        bar = self.overlays
        self._show_parts_note()
        if a is None or a.prediction is None or a.mask is None:
            for name in (LAYER_MUTED, LAYER_PARTS, LAYER_HEAT, LAYER_PART_HEAT):
                self.viewer.set_layer(name, None)
            return
        # Bottom to top: the photo in grey when a heatmap is shown, heatmaps, then the part
        # outline colours.
        heat_on = bar.heat.isChecked() and bar.heat_choice.currentIndex() >= 0
        self.viewer.set_layer(
            LAYER_MUTED, a.muted() if heat_on or bar.part_heat.isChecked() else None
        )
        if bar.part_heat.isChecked():
            part = str(bar.part_choice.currentData())
            heat = a.part_heat.get(part)
            self.viewer.set_layer(
                LAYER_PART_HEAT, rgba_to_qimage(colour_heat(heat)) if heat is not None else None
            )
        else:
            self.viewer.set_layer(LAYER_PART_HEAT, None)
        if heat_on:
            heat = heat_for(a, str(bar.heat_choice.currentData()))
            self.viewer.set_layer(
                LAYER_HEAT,
                rgba_to_qimage(colour_heat(heat, heat_scale(a))) if heat is not None else None,
            )
        else:
            self.viewer.set_layer(LAYER_HEAT, None)
        if bar.parts.isChecked():
            self.viewer.set_layer(LAYER_PARTS, rgba_to_qimage(colour_mask(a.mask)))
        else:
            self.viewer.set_layer(LAYER_PARTS, None)
