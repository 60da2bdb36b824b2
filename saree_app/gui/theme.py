"""The look of the app: style sheet, icons, and the colours of parts and heatmaps."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from saree_app import paths

# One colour per part, used by the mask overlay, its legend and the similar-by-part chooser.
# Chosen to stay apart from each other and from the heatmap ramp, and readable by most
# colour-blind viewers (blue / vermilion / yellow of the Okabe-Ito palette).
PART_COLOURS: dict[str, tuple[int, int, int]] = {
    "body": (0, 114, 178),
    "border": (213, 94, 0),
    "pallu": (240, 228, 66),
}
PART_LABELS = {"body": "Body", "border": "Border", "pallu": "Pallu"}
PARTS = ("body", "border", "pallu")

ACCENT = "#1f5f66"
WARN = "#a86a12"
OK = "#2f7a3b"


def style_sheet() -> str:
    """resources/style.qss, or an empty sheet when the file is missing (a broken install)."""
    path = paths.resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def apply(app: QApplication) -> None:
    """Fusion style with a calm light palette, then the style sheet on top."""
    app.setStyle("Fusion")
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#f4f2ee"))
    pal.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f5f1"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#262626"))
    pal.setColor(QPalette.ColorRole.WindowText, QColor("#262626"))
    pal.setColor(QPalette.ColorRole.Button, QColor("#f7f5f1"))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor("#262626"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#fffdf6"))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor("#262626"))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8a857c"))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(icon("app"))


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons/NAME.svg; an empty icon if it is missing."""
    path = paths.resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    ic = QIcon(str(path))
    ic.addFile(str(path), QSize(16, 16))
    return ic
