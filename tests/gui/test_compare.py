"""Compare: the same overlays in both panes and a table of where the two sarees differ."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtGui import QImage

from saree_app.gui.analysis import Analysis
from saree_app.gui.items import Item
from tests.gui.conftest import wait_idle

NAMES = {"WestBengal": "West Bengal", "PochampallyIkat": "Pochampally ikat"}
KINDS = {"Peacock": "motif", "Ikat": "weave", "TempleBorder": "feature"}


def _analysis(
    top: str,
    p: float,
    attrs: dict[str, float],
    parts: dict[str, str],
    *,
    uncertain=False,
    unlike=False,
):  # type: ignore[no-untyped-def]
    pred = SimpleNamespace(
        fused=SimpleNamespace(ranking=[SimpleNamespace(tradition=top, probability=p)]),
        uncertain=uncertain,
        # What says whether its answer claims a level (collection.fewshot.claims_level).
        is_taught=lambda: False,
        looks_unlike_training=lambda: unlike,
        attributes=[
            SimpleNamespace(term=t, label=t.lower(), probability=q) for t, q in attrs.items()
        ],
        parts=[
            SimpleNamespace(part=k, ranking=((v, 0.61),), area=0.0 if v == "-" else 0.2)
            for k, v in parts.items()
        ],
    )
    return Analysis(
        key=0, name="x", photo=QImage(), prediction=pred, mask=np.zeros((4, 4), np.uint8)
    )


def _item(i: int, tradition: str, confirmed: bool) -> Item:
    return Item(
        id=i,
        name=f"s{i}.jpg",
        path=Path(f"/x/s{i}.jpg"),
        predicted=None if confirmed else tradition,
        confirmed=tradition if confirmed else None,
    )


def test_differences_in_a_curators_words() -> None:
    from saree_app.gui.compare import differences

    left = (
        _item(1, "WestBengal", confirmed=True),
        _analysis(
            "WestBengal", 0.9, {"Peacock": 0.8, "Ikat": 0.2}, {"border": "WestBengal", "pallu": "-"}
        ),
    )
    right = (
        _item(2, "PochampallyIkat", confirmed=False),
        _analysis(
            "PochampallyIkat",
            0.55,
            {"Peacock": 0.7, "Ikat": 0.9, "TempleBorder": 0.6},
            {"border": "WestBengal", "pallu": "PochampallyIkat"},
            uncertain=True,
        ),
    )
    rows = differences(left, right, lambda t: NAMES.get(t, t), KINDS.get)
    got = {what: (a, b, d) for what, a, b, d in rows}
    assert [r[0] for r in rows] == [
        "Tradition",
        "Certainty",
        "Motifs seen",
        "Weaves seen",
        "Other features",
        "Border looks like",
        "Pallu looks like",
        "Body looks like",
    ]
    assert got["Tradition"] == ("West Bengal", "Pochampally ikat", True)
    assert got["Certainty"] == ("confirmed by you", "model, 55%, uncertain", True)
    # Same motif, other percentage: not a difference.
    assert got["Motifs seen"] == ("peacock 80%", "peacock 70%", False)
    assert got["Weaves seen"] == ("none with confidence", "ikat 90%", True)
    assert got["Other features"] == ("none with confidence", "templeborder 60%", True)
    assert got["Border looks like"] == ("West Bengal 61%", "West Bengal 61%", False)
    assert got["Pallu looks like"] == ("not marked on the part map", "Pochampally ikat 61%", True)
    assert got["Body looks like"] == (
        "not marked on the part map",
        "not marked on the part map",
        False,
    )

    # Without a knowledge graph the motifs and weaves share one row.
    rows = differences(left, right, lambda t: NAMES.get(t, t), None)
    assert [r[0] for r in rows][2] == "Motifs and weaves seen"
    assert rows[2][1] == "peacock 80%"


def test_compare_shows_overlays_in_both_panes_and_the_differences(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.compare import LAYER_HEAT, LAYER_MUTED, LAYER_PARTS

    win = imported
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis is not None, timeout=10000)
    ids = win.photo.similar.result_ids()
    assert ids
    win.photo.similar.compareRequested.emit(ids[0])
    dlg = win._compare
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: dlg._analyses[1] is not None, timeout=20000)
    assert dlg.status.text() == ""
    rows = dlg.rows()
    assert rows[0][0] == "Tradition" and dlg.table.rowCount() == len(rows)
    lab = win.library.label
    left = win.current_item()
    right = next(it for it in win.model.all_items() if it.id == ids[0])
    assert rows[0][1] == lab(left.tradition) and rows[0][2] == lab(right.tradition)
    assert dlg.table.item(0, 1).text() == rows[0][1]
    assert all("—" not in r[2] for r in rows), rows  # the right-hand photo was looked at

    assert dlg.parts.isEnabled()
    dlg.parts.setChecked(True)
    assert LAYER_PARTS in dlg.left.visible_layers() and LAYER_PARTS in dlg.right.visible_layers()
    assert dlg.heat_choice.count() >= 1
    dlg.heat.setChecked(True)
    assert LAYER_HEAT in dlg.left.visible_layers() and LAYER_HEAT in dlg.right.visible_layers()
    # Both photos in grey under their maps, each grey copy made once.
    assert LAYER_MUTED in dlg.left.visible_layers() and LAYER_MUTED in dlg.right.visible_layers()
    left_a = dlg._analyses[0]
    assert left_a is not None and left_a.muted() is left_a.muted()
    dlg.parts.setChecked(False)
    assert LAYER_PARTS not in dlg.left.layer_names() and LAYER_PARTS not in dlg.right.layer_names()
