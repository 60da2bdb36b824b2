"""Find text the window cuts off: buttons, check boxes and labels narrower (or, wrapped,
shorter) than what their text needs. Used by the fit tests and the screenshot script."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QToolButton,
    QWidget,
)


def _name(w: QWidget) -> str:
    text = w.text() if isinstance(w, (QLabel, QAbstractButton)) else ""
    return f"{type(w).__name__}({w.objectName() or '-'}): {text[:60]!r}"


def clipped(window: QWidget) -> list[str]:
    """Every visible text widget of `window` too small for its text, as 'Kind(name): text
    (needs N, has M)'; empty when everything fits."""
    out = []
    for w in window.findChildren(QWidget):
        if not w.isVisibleTo(window) or w.width() <= 0:
            continue
        if isinstance(w, (QPushButton, QToolButton, QCheckBox, QRadioButton)):
            if not w.text():
                continue
            need, have = w.sizeHint().width(), w.width()
            if need > have:
                out.append(f"{_name(w)} (needs {need} px wide, has {have})")
        elif isinstance(w, QLabel):
            if not w.text() or (w.pixmap() is not None and not w.pixmap().isNull()):
                continue
            rect = w.contentsRect()
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + 1:
                    out.append(f"{_name(w)} (needs {need} px high, has {w.height()})")
                # One word longer than the line is cut even when wrapped.
                widest = max(
                    (w.fontMetrics().horizontalAdvance(word) for word in _words(w)),
                    default=0,
                )
                if widest > rect.width() + 1:
                    out.append(f"{_name(w)} (a word needs {widest} px, has {rect.width()})")
            else:
                need = w.sizeHint().width() - (w.width() - rect.width())
                if need > rect.width() + 1:
                    out.append(f"{_name(w)} (needs {need} px wide, has {rect.width()})")
    return out


def _words(label: QLabel) -> list[str]:
    """The label's words as laid out: rich text as shown, non-breaking spaces joining."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument

    text = label.text()
    if label.textFormat() != Qt.TextFormat.PlainText and "<" in text:
        doc = QTextDocument()
        doc.setHtml(text)
        text = doc.toPlainText()
    return text.split()
