"""Side-by-side comparison of two photos, their zoom and pan kept in step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QWidget,
)

from saree_app.gui.viewer import PhotoViewer


class CompareDialog(QDialog):
    """Two viewers; zooming or panning one moves the other to the same relative place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare sarees")
        self.resize(1200, 760)
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 10, 10, 10)
        self.left = PhotoViewer(self)
        self.right = PhotoViewer(self)
        self.left_caption = QLabel("", self)
        self.right_caption = QLabel("", self)
        for c in (self.left_caption, self.right_caption):
            c.setObjectName("compareCaption")
            c.setWordWrap(True)
            c.setTextFormat(Qt.TextFormat.RichText)
        grid.addWidget(self.left_caption, 0, 0)
        grid.addWidget(self.right_caption, 0, 1)
        grid.addWidget(self.left, 1, 0)
        grid.addWidget(self.right, 1, 1)
        grid.setRowStretch(1, 1)
        self.sync = QCheckBox("Zoom and pan together", self)
        self.sync.setChecked(True)
        grid.addWidget(self.sync, 2, 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 2, 1)
        self._syncing = False
        self.left.viewChanged.connect(lambda: self._follow(self.left, self.right))
        self.right.viewChanged.connect(lambda: self._follow(self.right, self.left))

    def set_photos(
        self, left: QImage, left_caption: str, right: QImage, right_caption: str
    ) -> None:
        self.left.set_photo(left)
        self.right.set_photo(right)
        self.left_caption.setText(left_caption)
        self.right_caption.setText(right_caption)

    def _follow(self, source: PhotoViewer, target: PhotoViewer) -> None:
        if self._syncing or not self.sync.isChecked():
            return
        self._syncing = True
        try:
            target.set_relative_state(*source.relative_state())
        finally:
            self._syncing = False
