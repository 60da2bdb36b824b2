"""Correcting a photo's part map: where the saree is (box, lasso) and its parts (brushes).

The editor paints on the small label grid the catalogue stores (model/partmap.py); saving
stores it with the answer and embeddings recomputed under it (collection/partmaps.py) and
shows the photo again, so the part evidence and the similar-by-part search change at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.gui.dialogs import resize_within_screen
from saree_app.gui.overlays import rgba_to_qimage
from saree_app.gui.qtfix import emit
from saree_app.gui.theme import PART_COLOURS
from saree_app.model import partmap

if TYPE_CHECKING:
    from saree_app.gui.analysis import Analysis

# Tools: what a drag does. The box and lasso say where the saree is; the brushes paint a part.
BOX, LASSO = "box", "lasso"
BRUSHES = {"body": partmap.BODY, "border": partmap.BORDER, "pallu": partmap.PALLU}
ERASER = "eraser"
TOOLS = (
    (BOX, "Saree box", "Drag a box around the saree: everything outside it is background"),
    (LASSO, "Saree lasso", "Draw round the saree: everything outside the line is background"),
    ("body", "Body", "Paint the body of the saree"),
    ("border", "Border", "Paint the border"),
    ("pallu", "Pallu", "Paint the pallu (the decorated end)"),
    (ERASER, "Not saree", "Paint what is not the saree: skin, hair, blouse, walls, other cloth"),
)
# Background cells are shaded so that what is left clearly reads as the saree.
_SHADE = (20, 20, 20, 165)
_PART_ALPHA = 105


def _swatch(key: str) -> QIcon:
    """A small square in the colour the tool paints (shaded grey for what is not saree)."""
    pm = QPixmap(12, 12)
    if key in PART_COLOURS:
        pm.fill(QColor(*PART_COLOURS[key]))
    elif key == ERASER:
        pm.fill(QColor(60, 60, 60))
    else:  # box and lasso draw an outline
        pm.fill(QColor(0, 0, 0, 0))
        p = QPainter(pm)
        p.setPen(QPen(QColor("#444444"), 1, Qt.PenStyle.DashLine))
        if key == BOX:
            p.drawRect(1, 1, 10, 10)
        else:
            p.drawEllipse(1, 1, 10, 10)
        p.end()
    return QIcon(pm)


def colour_labels(labels: np.ndarray) -> np.ndarray:
    """Labels -> RGBA: parts in the legend colours, background shaded."""
    lut = np.zeros((4, 4), np.uint8)
    lut[partmap.BACKGROUND] = _SHADE
    for name, k in BRUSHES.items():
        lut[k] = (*PART_COLOURS[name], _PART_ALPHA)
    return np.ascontiguousarray(lut[np.asarray(labels, np.uint8)])


class PartCanvas(QWidget):
    """The photo with the part map over it; drags edit the map with the chosen tool."""

    edited = Signal()

    def __init__(
        self,
        photo: QImage,
        labels: np.ndarray,
        parent: QWidget | None = None,
        *,
        grid: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("partCanvas")
        self.setMouseTracking(False)
        self.setMinimumSize(360, 280)
        self._photo = photo
        # The grid the photo's shape calls for (`PartEditor`), else the picture's own.
        self.grid = grid or partmap.grid_for(photo.width(), photo.height())
        self.labels = partmap.fit(labels, self.grid).copy()
        self._history: list[np.ndarray] = []
        self.tool = "border"
        self.radius = 2  # brush radius in map cells
        self._drag: list[QPointF] = []  # fractions of the photo
        self._overlay = rgba_to_qimage(colour_labels(self.labels))

    def sizeHint(self) -> QSize:
        return QSize(720, 540)

    # --- geometry
    def photo_rect(self) -> QRectF:
        """Where the photo is drawn: fitted into the widget, aspect kept, centred."""
        w, h = max(1, self._photo.width()), max(1, self._photo.height())
        scale = min(self.width() / w, self.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def fraction(self, pos: QPointF) -> QPointF:
        """A widget position as fractions (0-1) of the photo, clamped to it."""
        r = self.photo_rect()
        x = min(max((pos.x() - r.x()) / max(r.width(), 1e-6), 0.0), 1.0)
        y = min(max((pos.y() - r.y()) / max(r.height(), 1e-6), 0.0), 1.0)
        return QPointF(x, y)

    def widget_pos(self, fx: float, fy: float) -> QPointF:
        """Fractions of the photo -> a widget position (tests drive the mouse with it)."""
        r = self.photo_rect()
        return QPointF(r.x() + fx * r.width(), r.y() + fy * r.height())

    # --- editing
    def set_labels(self, labels: np.ndarray, *, undoable: bool = True) -> None:
        if undoable:
            self._history.append(self.labels.copy())
        self.labels = partmap.fit(labels, self.grid).copy()
        self._changed()

    def undo(self) -> bool:
        if not self._history:
            return False
        self.labels = self._history.pop()
        self._changed()
        return True

    def can_undo(self) -> bool:
        return bool(self._history)

    def _changed(self) -> None:
        self._overlay = rgba_to_qimage(colour_labels(self.labels))
        self.update()
        emit(self.edited)

    def _paint_at(self, a: QPointF, b: QPointF) -> None:
        """A brush stroke from a to b (fractions), at the brush radius, in map cells."""
        rows, cols = self.grid
        value = partmap.BACKGROUND if self.tool == ERASER else BRUSHES[self.tool]
        steps = max(1, int(max(abs(b.x() - a.x()) * cols, abs(b.y() - a.y()) * rows) * 2))
        yy, xx = np.mgrid[0:rows, 0:cols]
        hit = np.zeros((rows, cols), bool)
        for i in range(steps + 1):
            t = i / steps
            cx = (a.x() + (b.x() - a.x()) * t) * cols - 0.5
            cy = (a.y() + (b.y() - a.y()) * t) * rows - 0.5
            hit |= (xx - cx) ** 2 + (yy - cy) ** 2 <= self.radius**2
        self.labels[hit] = value

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        p = self.fraction(event.position())
        self._history.append(self.labels.copy())
        self._drag = [p]
        if self.tool in BRUSHES or self.tool == ERASER:
            self._paint_at(p, p)
            self._changed()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._drag:
            return
        p = self.fraction(event.position())
        if self.tool in BRUSHES or self.tool == ERASER:
            self._paint_at(self._drag[-1], p)
            self._drag.append(p)
            self._changed()
        else:
            self._drag.append(p)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._drag or event.button() != Qt.MouseButton.LeftButton:
            return
        p = self.fraction(event.position())
        pts = [*self._drag, p]
        self._drag = []
        if self.tool == BOX:
            inside = partmap.box(pts[0].x(), pts[0].y(), p.x(), p.y(), self.grid)
        elif self.tool == LASSO:
            inside = partmap.polygon([(q.x(), q.y()) for q in pts], self.grid)
        else:
            return
        if inside.any():
            self.labels = partmap.keep_inside(self.labels, inside)
            self._changed()
        else:  # a click, not a box: nothing to keep, nothing changed
            self._history.pop()
            self.update()

    # --- drawing
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#2b2a28"))
        r = self.photo_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(r, self._photo)
        # The map is coarse: drawn cell by cell (no smoothing), so what is stored is what shows.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(r, self._overlay)
        if len(self._drag) > 1 and self.tool in (BOX, LASSO):
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            pen = QPen(QColor("#ffffff"), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            pts = [self.widget_pos(q.x(), q.y()) for q in self._drag]
            if self.tool == BOX:
                painter.drawRect(QRectF(pts[0], pts[-1]).normalized())
            else:
                path = QPainterPath(pts[0])
                for q in pts[1:]:
                    path.lineTo(q)
                painter.drawPath(path)
        painter.end()


class PartEditor(QDialog):
    """The part map editor for one photo. `saved` carries the labels; `reverted` asks for
    the model's own map back."""

    saved = Signal(object)
    reverted = Signal()

    def __init__(
        self,
        name: str,
        photo: QImage,
        labels: np.ndarray,
        *,
        corrected: str | None = None,
        parent: QWidget | None = None,
        photo_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("partEditor")
        self.setWindowTitle(f"Correct the parts of {name}")
        # The grid the photo's shape calls for: a long photo keeps its length (partmap.grid_for).
        # From the photo's own size where known, as the catalogue stores it: the screen copy's
        # rounded size could land a column off, or either side of where the length counts.
        grid = partmap.grid_for(*(photo_size or (photo.width(), photo.height())))
        self._start = partmap.fit(labels, grid).copy()
        lay = QVBoxLayout(self)
        intro = QLabel(
            "Show where the saree is and which part is which. <b>Saree box</b> or "
            "<b>Saree lasso</b>: everything outside is not the saree. <b>Body</b>, "
            "<b>Border</b>, <b>Pallu</b>: paint the part. <b>Not saree</b>: paint out skin, "
            "hair, the blouse, walls. The evidence for the answer is taken from what you mark.",
            self,
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.whose = QLabel(self)
        self.whose.setObjectName("partMapWhose")
        self.whose.setText(
            f"<b>Corrected by you</b> ({corrected}). Saving replaces your correction."
            if corrected
            else "This is the model's part map. Saving keeps your correction instead."
        )
        lay.addWidget(self.whose)

        bar = QHBoxLayout()
        self.tools = QButtonGroup(self)
        self.tools.setExclusive(True)
        self.tool_buttons: dict[str, QToolButton] = {}
        for key, text, tip in TOOLS:
            b = QToolButton(self)
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setIcon(_swatch(key))
            self.tools.addButton(b)
            self.tool_buttons[key] = b
            bar.addWidget(b)
            b.toggled.connect(lambda on, k=key: self._tool(k) if on else None)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Brush", self))
        self.brush = QSlider(Qt.Orientation.Horizontal, self)
        self.brush.setRange(1, 8)
        self.brush.setValue(2)
        self.brush.setFixedWidth(90)
        self.brush.setToolTip("Brush size")
        bar.addWidget(self.brush)
        bar.addStretch(1)
        self.undo_button = QToolButton(self)
        self.undo_button.setText("Undo")
        self.undo_button.setShortcut("Ctrl+Z")
        bar.addWidget(self.undo_button)
        self.restart = QToolButton(self)
        self.restart.setText("Start again")
        self.restart.setToolTip("Back to the map you started from")
        bar.addWidget(self.restart)
        lay.addLayout(bar)

        self.canvas = PartCanvas(photo, self._start, self, grid=grid)
        lay.addWidget(self.canvas, 1)

        buttons = QHBoxLayout()
        self.revert_button = QPushButton("Use the model's map", self)
        self.revert_button.setToolTip("Drop your correction: the model's own part map is used")
        self.revert_button.setEnabled(bool(corrected))
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        buttons.addWidget(self.cancel_button)
        self.save_button = QPushButton("Save correction", self)
        self.save_button.setDefault(True)
        buttons.addWidget(self.save_button)
        lay.addLayout(buttons)

        self.brush.valueChanged.connect(self._radius)
        self.undo_button.clicked.connect(self.canvas.undo)
        self.restart.clicked.connect(lambda: self.canvas.set_labels(self._start))
        self.canvas.edited.connect(self._edited)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button.clicked.connect(self._save)
        self.revert_button.clicked.connect(self._revert)
        self.tool_buttons["border"].setChecked(True)
        self._edited()
        resize_within_screen(self, 820, 680)

    def _tool(self, key: str) -> None:
        self.canvas.tool = key

    def _radius(self, value: int) -> None:
        self.canvas.radius = value

    def _edited(self) -> None:
        self.undo_button.setEnabled(self.canvas.can_undo())

    def _save(self) -> None:
        if not (self.canvas.labels != partmap.BACKGROUND).any():
            self.whose.setText(
                "<b>Nothing is marked as saree.</b> Mark the saree (a box, the lasso or a brush) "
                "before saving."
            )
            return
        emit(self.saved, self.canvas.labels.copy())
        self.accept()

    def _revert(self) -> None:
        emit(self.reverted)
        self.accept()


def _whose(correction: Any) -> str:
    from saree_app.collection.catalog import _user

    who = correction.corrected_by
    when = str(correction.updated).replace("T", " ")[:16]
    return f"{when} UTC" if who in (None, _user()) else f"by {who}, {when} UTC"


class PartEditing(QObject):
    """Connects the photo page's part editing to the window: opens the editor, stores a
    correction or a revert on the window's photo worker, and shows the photo again."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self.editor: PartEditor | None = None
        page = window.photo
        page.overlays.edit_parts.clicked.connect(self.open_editor)
        page.parts_edit.clicked.connect(self.open_editor)
        page.parts_revert.clicked.connect(self.revert)

    def _target(self) -> tuple[Any, Any, Analysis] | None:
        win = self.win
        lib, item, analysis = win.library, win._current, win.photo.analysis
        if lib is None or item is None or analysis is None or analysis.prediction is None:
            win.statusBar().showMessage("Open a photo with an answer first.", 4000)
            return None
        if analysis.key != item.id:
            return None
        return lib, item, analysis

    def open_editor(self) -> PartEditor | None:
        """The editor over the photo shown, starting from the part map in use."""
        target = self._target()
        if target is None:
            return None
        lib, item, analysis = target
        pred = analysis.prediction
        stored = lib.catalog.part_map(item.id)
        if pred.part_map is not None:
            start = pred.part_map
        else:
            w, h = pred.photo_size
            grid = partmap.grid_for(w, h)
            start = partmap.fit(pred.part_mask_at(_capped(w, h, 4 * max(grid))), grid)
        editor = PartEditor(
            item.name,
            analysis.photo,
            start,
            corrected=_whose(stored) if stored is not None else None,
            parent=self.win,
            photo_size=pred.photo_size,
        )
        editor.saved.connect(lambda labels: self.save(item, labels))
        editor.reverted.connect(self.revert)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.editor = editor
        editor.open()
        return editor

    def save(self, item: Any, labels: np.ndarray) -> None:
        """Store the correction and what follows from it, then show the photo again."""
        from saree_app.collection import partmaps

        self._run(
            item,
            lambda lib: partmaps.correct(lib.catalog, lib.predictor, item.id, labels),
            "Part map saved: the evidence and similar-by-part search use it now",
        )

    def revert(self) -> None:
        """Back to the model's part map for the photo shown."""
        from saree_app.collection import partmaps

        target = self._target()
        if target is None:
            return
        _lib, item, _a = target
        self._run(
            item,
            lambda lib: partmaps.revert(lib.catalog, lib.predictor, item.id),
            "Back to the model's part map",
        )

    def _run(self, item: Any, store: Any, done_text: str) -> None:
        from saree_app.gui.analysis import analyse

        win, lib = self.win, self.win.library
        if lib is None or lib.predictor is None:
            return
        shown = win.photo.analysis
        before = _answer_of(shown, lib) if shown is not None and shown.key == item.id else None
        win.photo.set_busy(f"Saving the part map of {item.name}…")

        def job(cancel: Any) -> Any:
            store(lib)
            cancel.check()
            return analyse(
                item.id,
                item.path,
                lambda img: lib.predict(img, item.id),
                cancel,
                name=item.name,
            )

        def done(analysis: Any) -> None:
            win._analysis_ready(analysis)
            fresh = lib.item(item.id)
            if fresh is not None:
                win.model.update_item(fresh)
            # A confirmed photo keeps the curator's label: what changed is the app's own answer.
            own = bool(getattr(item, "confirmed", None))
            said = f"{done_text}; {_change_words(before, _answer_of(analysis, lib), own=own)}"
            win.statusBar().showMessage(f"{item.name}: {said}.", 10000)

        win.looker.start(job, on_done=done)


def _answer_of(analysis: Any, lib: Any) -> str | None:
    """The name of the tradition the app answers for an analysed photo (None: no answer)."""
    pred = getattr(analysis, "prediction", None)
    if pred is None or not pred.fused.ranking:
        return None
    top = pred.fused.ranking[0]
    label = getattr(lib, "label", None)
    return str(top.label or (label(top.tradition) if label is not None else top.tradition))


def _change_words(before: str | None, after: str | None, *, own: bool = False) -> str:
    """What a new part map did to the app's answer, in words: "the answer is now Kanchipuram
    silk (was Pochampally ikat)", or "the answer is unchanged (Kanchipuram silk)"; `own`:
    the photo is confirmed, and it is "the app's own answer" that changed or did not."""
    if after is None:
        return "the photo has no answer now"
    what = "the app's own answer" if own else "the answer"
    if before is None:
        return f"{what} is {after}"
    if before == after:
        return f"{what} is unchanged ({after})"
    return f"{what} is now {after} (was {before})"


def _capped(w: int, h: int, side: int) -> tuple[int, int]:
    s = min(1.0, side / max(w, h, 1))
    return max(1, round(w * s)), max(1, round(h * s))
