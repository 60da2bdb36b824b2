"""What a reviewer's walk on real photos found on screen (second walk): the heatmap menu starts
on a tradition the model has a map for, says why the others have none, and calls the curator's
own tradition theirs; the re-rank's progress and its result count the same photos."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from saree_app.gui.library import RerankProgress, Teaching

QtCore = pytest.importorskip("PySide6.QtCore")
QtGui = pytest.importorskip("PySide6.QtGui")

MODEL = (
    "Baluchari", "Banarasi", "Bandhani", "Chanderi", "Chettinad", "Jamdani", "Kanchipuram",
    "Kasavu", "Maheshwari", "Paithani", "PatanPatola", "PochampallyIkat",
)  # fmt: skip


def _menu(bar: Any) -> list[tuple[str, bool, str]]:
    """The heatmap menu: (text, enabled, tooltip) per item."""
    model = bar.heat_choice.model()
    out = []
    for i in range(bar.heat_choice.count()):
        item = model.item(i)
        out.append((item.text(), item.isEnabled(), item.toolTip()))
    return out


# ------------------------------------------------------------------------------ E. heatmaps
def test_the_heatmap_menu_starts_on_a_tradition_with_a_map(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.photo_page import OverlayBar

    bar = OverlayBar()
    qtbot.addWidget(bar)
    bar.set_traditions(
        [
            ("DharmavaramSilk", "Dharmavaram silk", False),  # the graph's: no map
            ("Dhakai Jamdani", "Dhakai Jamdani", False, True),  # the curator's own
            ("Chanderi", "Chanderi", True),
            ("Bandhani", "Bandhani", True),
        ]
    )
    # Ticking Heatmap shows Chanderi's map, not nothing.
    assert bar.heat_choice.currentData() == "Chanderi"
    assert bar.heat.isEnabled()
    menu = _menu(bar)
    assert [(t, on) for t, on, _tip in menu] == [
        ("Dharmavaram silk (graph only)", False),
        ("Dhakai Jamdani (taught by you)", False),  # theirs, not "graph only"
        ("Chanderi", True),
        ("Bandhani", True),
    ]
    assert "the model was not trained on Dharmavaram silk" in menu[0][2]
    assert "knowledge graph" in menu[0][2]
    assert "your own tradition" in menu[1][2] and "knowledge graph" not in menu[1][2]
    tip = bar.heat_choice.toolTip()
    assert "No heatmap for Dharmavaram silk, Dhakai Jamdani" in tip
    # All of them with maps: the first, and no word of missing ones.
    bar.set_traditions([("Kasavu", "Kasavu", True), ("Chanderi", "Chanderi")])
    assert bar.heat_choice.currentData() == "Kasavu"
    assert "No heatmap" not in bar.heat_choice.toolTip()


def test_no_map_at_all_says_so_rather_than_show_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.photo_page import OverlayBar

    bar = OverlayBar()
    qtbot.addWidget(bar)
    bar.set_traditions([("DharmavaramSilk", "Dharmavaram silk", False)])
    assert bar.heat_choice.currentIndex() == -1
    assert not bar.heat.isEnabled()
    assert "no heatmap for any of the traditions ranked here" in bar.heat.toolTip()
    assert bar.parts.isEnabled()  # the rest of the bar still works
    bar.set_traditions([("Kasavu", "Kasavu", True)])
    assert bar.heat.isEnabled() and "no heatmap" not in bar.heat.toolTip()


def test_the_photo_page_calls_the_curators_own_tradition_theirs(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.analysis import Analysis
    from saree_app.gui.photo_page import PhotoPage
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore
    from saree_app.knowledge.fusion import FusionWeights, fuse
    from saree_app.knowledge.graph import TextileGraph

    graph = TextileGraph.load()
    visual = {t: (0.3 if t == "Chettinad" else 0.7 / (len(MODEL) - 1)) for t in MODEL}
    fused = fuse(
        graph,
        visual,
        {"Flower": 0.78},
        weights=FusionWeights(attribute_shift=2.0),
        fewshot={"Dhakai Jamdani": 0.7, "Sambalpuri": 0.2},
    )
    assert fused.ranking[0].tradition == "Dhakai Jamdani"  # the curator's own, first
    ranked = [r.tradition for r in fused.ranking]
    pred = SimpleNamespace(
        fused=fused,
        pieces=1,
        photo_size=(64, 48),
        uncertain=False,
        uncertain_reasons=(),
        parts=(),
        attributes=(),
        visual=tuple(sorted(visual.items(), key=lambda kv: -kv[1])),
        answer_set=lambda: ranked[:3],
        is_taught=lambda: True,
        looks_unlike_training=lambda: False,
        part_map=None,
        has_heatmap=lambda t: t in MODEL,
    )
    heat = {t: np.full((48, 64), 9, np.uint8) for t in MODEL}
    photo = QtGui.QImage(64, 48, QtGui.QImage.Format.Format_RGB32)
    photo.fill(0x808080)
    analysis = Analysis(
        "k", "dhakai.jpg", photo, prediction=pred, mask=np.zeros((48, 64), np.uint8), heat=heat
    )
    loader = ThumbnailLoader(ThumbnailStore(tmp_path / "thumbs"))
    page = PhotoPage(loader)
    qtbot.addWidget(page)
    page.set_labeller(graph.label)
    page.show_analysis(analysis)
    bar = page.overlays
    menu = _menu(bar)
    assert menu[0][:2] == ("Dhakai Jamdani (taught by you)", False)
    assert "(graph only)" not in menu[0][0]
    first_mapped = next(r.tradition for r in fused.ranking if r.tradition in MODEL)
    assert bar.heat_choice.currentData() == first_mapped
    bar.heat.setChecked(True)  # the curator ticks Heatmap: a map is shown
    assert "tradition heat" in page.viewer.visible_layers()
    loader.shutdown()


# ---------------------------------------------------------------------- J. re-rank counts
def _teaching(n: int) -> Teaching:
    rows = (("Kanchipuram", n - n // 2, True), ("Paithani", n // 2, True))
    return Teaching(rows, "x", False, n)


def test_the_re_ranks_progress_and_result_count_the_same_photos() -> None:
    from saree_app.gui.teaching import TaughtResult, done_text, progress_text

    # The walk: 29 photos, 4 confirmed; every answer re-ranked, the confirmed ones' too.
    going = progress_text(RerankProgress(4, 29, 29))
    assert going.endswith("re-ranked 29 of 29 photos")
    done = done_text(TaughtResult(_teaching(4), 29, 5, (), photos=29))
    assert "26" not in done  # was "re-ranked the 26 photos not yet confirmed"
    assert done == (
        "Taught from your 4 confirmed photos: re-ranked all 29 photos, your confirmed ones each "
        "answered as if you had not confirmed it; 5 answers changed."
    )
    # The confirmed photos left out (each alone leaves too little): those not yet confirmed.
    left = done_text(TaughtResult(_teaching(2), 7, 1, (), photos=9))
    assert "re-ranked the 7 photos not yet confirmed, 1 answer changed" in left
    # Some photos had nothing to re-rank by: the count is what was re-ranked.
    some = done_text(TaughtResult(_teaching(4), 27, 0, (), photos=29))
    assert "re-ranked 27 photos, your confirmed ones among them" in some
    assert "no answer changed" in some
