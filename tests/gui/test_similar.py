"""The similar strip: tradition names and similarity under each thumbnail; near-zero hidden."""

from __future__ import annotations

from pathlib import Path

from saree_app.gui.items import Item


def _strip(qtbot):  # type: ignore[no-untyped-def]
    from saree_app.gui.similar import SimilarStrip
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore

    loader = ThumbnailLoader(ThumbnailStore(Path("/nonexistent-thumbs")))
    strip = SimilarStrip(loader)
    qtbot.addWidget(strip)
    names = {"WestBengal": "West Bengal", "PochampallyIkat": "Pochampally ikat"}
    strip.set_labeller(lambda t: names.get(t, t))
    return strip


def _item(i: int, tradition: str | None, confirmed: bool = False, unsure: bool = False) -> Item:
    return Item(
        id=i,
        name=f"s{i}.jpg",
        path=Path(f"/nowhere/s{i}.jpg"),
        predicted=None if confirmed else tradition,
        confirmed=tradition if confirmed else None,
        uncertain=unsure,
    )


def test_names_and_similarity_under_each_thumbnail(qtbot) -> None:  # type: ignore[no-untyped-def]
    strip = _strip(qtbot)
    strip.show()
    strip.set_results(
        [
            (_item(1, "PochampallyIkat"), 0.8712),
            (_item(2, "WestBengal", confirmed=True), 0.40),
            (_item(3, None), 0.21),
            (_item(4, "Banarasi"), 0.049),
            (_item(5, "Banarasi"), -0.3),
        ]
    )
    texts = [strip.list.item(i).text() for i in range(strip.list.count())]
    assert texts == [
        "Pochampally ikat\n87% alike",
        "West Bengal\n40% alike",
        "not classified\n21% alike",
    ]
    assert strip.result_ids() == [1, 2, 3]
    assert strip.hidden == 2 and strip.score_of(4) is None
    assert not strip.empty.isHidden()
    assert strip.empty.text() == "2 more are less than 5% alike, not shown."
    assert "confirmed by you" in strip.list.item(1).toolTip()
    # Two lines of text fit under the icon: nothing is cut by the cell.
    fm = strip.list.fontMetrics()
    grid = strip.list.gridSize()
    assert grid.height() >= strip.list.iconSize().height() + 2 * fm.height()
    for t in texts:
        for line in t.split("\n"):
            assert fm.horizontalAdvance(line) <= grid.width(), line


def test_only_unlike_matches_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    strip = _strip(qtbot)
    strip.show()
    strip.set_results([(_item(4, "Banarasi"), 0.01)])
    assert strip.result_ids() == [] and strip.list.isHidden()
    assert strip.empty.text() == (
        "No saree in the collection is much like this one (1 is less than 5% alike)."
    )
    strip.set_results([(_item(1, "Banarasi"), 0.5)])
    assert strip.hidden == 0 and strip.empty.isHidden()


def test_a_changed_answer_is_named_at_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    """After a re-rank or a decision, each match names its photo's new tradition."""
    from dataclasses import replace

    strip = _strip(qtbot)
    first, second = _item(1, "Banarasi"), _item(2, "PochampallyIkat")
    strip.set_results([(first, 0.6), (second, 0.3)])
    assert strip.list.item(0).text() == "Banarasi\n60% alike"
    taught = replace(first, predicted="PochampallyIkat")
    other = _item(9, "Banarasi")  # not in the strip: nothing to change
    assert strip.update_items([taught, other]) == 1
    assert strip.list.item(0).text() == "Pochampally ikat\n60% alike"
    assert strip.list.item(1).text() == "Pochampally ikat\n30% alike"
    confirmed = replace(second, predicted=None, confirmed="Banarasi")
    strip.update_items([confirmed])
    assert "Banarasi (confirmed by you)" in strip.list.item(1).toolTip()


def test_an_uncertain_match_reads_as_a_guess(qtbot) -> None:  # type: ignore[no-untyped-def]
    """As in the collection's cells: a match whose answer is flagged uncertain carries a
    question mark; a sure answer and a confirmed one do not."""
    strip = _strip(qtbot)
    strip.set_results(
        [
            (_item(1, "PochampallyIkat", unsure=True), 0.6),
            (_item(2, "Banarasi"), 0.5),
            (_item(3, "WestBengal", confirmed=True, unsure=True), 0.4),
            (_item(4, None, unsure=True), 0.3),
        ]
    )
    texts = [strip.list.item(i).text() for i in range(strip.list.count())]
    assert texts == [
        "Pochampally ikat?\n60% alike",
        "Banarasi\n50% alike",
        "West Bengal\n40% alike",
        "not classified\n30% alike",
    ]
    assert "(the model's answer, flagged uncertain)" in strip.list.item(0).toolTip()
    assert "(the model's answer)" in strip.list.item(1).toolTip()
