"""The photo viewer: zoom and pan, with overlay layers blended over the photo."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from saree_app.gui.qtfix import emit

_MIN_ZOOM, _MAX_ZOOM = 0.02, 16.0


class PhotoViewer(QGraphicsView):
    """A photo and any number of named overlay layers; the wheel zooms, dragging pans.

    `viewChanged` fires on every zoom or pan so that a second viewer can follow
    (the comparison dialog keeps two in step).
    """

    viewChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photoViewer")
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._photo = QGraphicsPixmapItem()
        self._photo.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._photo)
        self._layers: dict[str, QGraphicsPixmapItem] = {}
        self._opacity = 0.6
        self._fit = True
        self.setRenderHints(
            QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing
        )
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QColor("#2b2a28"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.horizontalScrollBar().valueChanged.connect(self._changed)
        self.verticalScrollBar().valueChanged.connect(self._changed)

    # --- content
    def set_photo(self, image: QImage | QPixmap | None) -> None:
        for item in self._layers.values():
            self._scene.removeItem(item)
        self._layers.clear()
        if image is None:
            self._photo.setPixmap(QPixmap())
            self._scene.setSceneRect(QRectF())
            return
        pm = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
        self._photo.setPixmap(pm)
        self._scene.setSceneRect(QRectF(pm.rect()))
        self._fit = True
        self.fit()

    def has_photo(self) -> bool:
        return not self._photo.pixmap().isNull()

    def photo_size(self) -> tuple[int, int]:
        pm = self._photo.pixmap()
        return pm.width(), pm.height()

    def set_layer(self, name: str, image: QImage | None, visible: bool = True) -> None:
        """Add or replace an overlay; it is stretched over the photo whatever its resolution."""
        old = self._layers.pop(name, None)
        if old is not None:
            self._scene.removeItem(old)
        if image is None or image.isNull() or not self.has_photo():
            return
        item = QGraphicsPixmapItem(QPixmap.fromImage(image))
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        pw, ph = self.photo_size()
        item.setTransform(QTransform.fromScale(pw / image.width(), ph / image.height()))
        item.setOpacity(self._opacity)
        item.setZValue(1 + len(self._layers))
        item.setVisible(visible)
        self._scene.addItem(item)
        self._layers[name] = item

    def set_layer_visible(self, name: str, visible: bool) -> None:
        if name in self._layers:
            self._layers[name].setVisible(visible)

    def layer_names(self) -> list[str]:
        return list(self._layers)

    def visible_layers(self) -> list[str]:
        return [n for n, it in self._layers.items() if it.isVisible()]

    def set_opacity(self, opacity: float) -> None:
        self._opacity = max(0.0, min(1.0, opacity))
        for item in self._layers.values():
            item.setOpacity(self._opacity)

    def opacity(self) -> float:
        return self._opacity

    # --- zoom and pan
    def zoom(self) -> float:
        return float(self.transform().m11())

    def fit(self) -> None:
        if self.has_photo():
            self.fitInView(self._photo, Qt.AspectRatioMode.KeepAspectRatio)
            self._fit = True
            self._changed()

    def zoom_by(self, factor: float) -> None:
        z = self.zoom()
        factor = max(_MIN_ZOOM / z, min(_MAX_ZOOM / z, factor)) if z > 0 else factor
        self.scale(factor, factor)
        self._fit = False
        self._changed()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25**steps)
        event.accept()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def view_state(self) -> tuple[float, QPointF]:
        """(zoom, scene point at the centre), in the photo's own pixel units."""
        centre = self.mapToScene(self.viewport().rect().center())
        return self.zoom(), QPointF(centre)

    def relative_state(self) -> tuple[float, float, float]:
        """(zoom relative to fit, centre x / width, centre y / height): survives different
        photo sizes, which is what a side-by-side comparison needs."""
        w, h = self.photo_size()
        if not w or not h:
            return 1.0, 0.5, 0.5
        zoom, centre = self.view_state()
        return zoom / self._fit_zoom(), centre.x() / w, centre.y() / h

    def set_relative_state(self, rel_zoom: float, cx: float, cy: float) -> None:
        w, h = self.photo_size()
        if not w or not h:
            return
        target = rel_zoom * self._fit_zoom()
        self.blockSignals(True)
        try:
            self.resetTransform()
            self.scale(target, target)
            self.centerOn(QPointF(cx * w, cy * h))
            self._fit = abs(rel_zoom - 1.0) < 1e-3
        finally:
            self.blockSignals(False)

    def _fit_zoom(self) -> float:
        w, h = self.photo_size()
        vp = self.viewport().rect()
        if not w or not h or vp.width() <= 2 or vp.height() <= 2:
            return 1.0
        return min((vp.width() - 2) / w, (vp.height() - 2) / h)

    def _changed(self, *_: object) -> None:
        emit(self.viewChanged)
