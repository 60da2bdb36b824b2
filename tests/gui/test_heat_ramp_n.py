"""The heatmap's colour ramp is explained where it is shown (third walk: "its colour ramp has no
low/high labels"): in the photo view's bar, its two ends are named beside it."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtCore")


def test_the_ramp_has_its_ends_named_beside_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    from saree_app.gui.photo_page import OverlayBar

    bar = OverlayBar()
    qtbot.addWidget(bar)
    lay = bar.layout()
    widgets = [lay.itemAt(i).widget() for i in range(lay.count())]
    at = widgets.index(bar.ramp)
    before, after = widgets[at - 1], widgets[at + 1]
    assert isinstance(before, QLabel) and before.text() == "weak"
    assert isinstance(after, QLabel) and after.text() == "strong"
    assert before.toolTip() == after.toolTip() == bar.ramp.toolTip() != ""
