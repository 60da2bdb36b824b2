"""Labelling photos together or not at all, remembered beside the catalogue, and undone."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_helpers import answered_photo

from saree_app.collection import decisions as dec
from saree_app.collection.catalog import Catalog, CatalogError
from saree_app.collection.traditions import (
    CuratorTradition,
    TraditionsError,
    add_tradition,
    load_traditions,
    traditions_file,
)

SHA = "m" * 64


def _catalog(root: Path, n: int = 3) -> Catalog:
    cat = Catalog(root / "c.saree")
    for i in range(n):
        answered_photo(cat, root / f"p{i}.jpg", f"photo {i}".encode(), "Kanchipuram")
    return cat


def _state(cat: Catalog) -> tuple[object, ...]:
    return (
        {pid: dec.Words.of(lab) for pid, lab in cat.labels().items()},
        cat.all_tags(),
        [len(cat.label_history(pid)) for pid in (1, 2, 3)],
    )


def test_label_several_then_undo_gives_each_its_own_label_and_tags_back(tmp_path: Path) -> None:
    with _catalog(tmp_path) as cat:
        cat.set_label(1, tradition="Banarasi", certainty="probable", note="the donor says")
        cat.add_tags(1, ["gift"])
        decision = dec.label_photos(
            cat, [(1, "Paithani"), (2, "Paithani")], "labelling 2 photos", tag=["wedding"]
        )
        assert [c.photo_id for c in decision.photos] == [1, 2]
        assert cat.label(1).tradition == cat.label(2).tradition == "Paithani"
        assert cat.tags(1) == ["gift", "wedding"]
        assert [d.text for d in dec.decisions(cat)] == ["labelling 2 photos"]

        undone = dec.undo_last(cat)
        assert undone is not None and undone.skipped == ()
        assert [c.photo_id for c in undone.restored] == [1, 2]
        assert dec.Words.of(cat.label(1)) == dec.Words("Banarasi", "probable", "the donor says")
        assert dec.Words.of(cat.label(2)) == dec.Words()
        assert cat.tags(1) == ["gift"] and cat.tags(2) == []
        assert dec.decisions(cat) == []
        assert not dec.decisions_file(cat).exists()
        assert dec.undo_last(cat) is None


def test_undo_survives_closing_and_takes_back_the_last_decision_only(tmp_path: Path) -> None:
    with _catalog(tmp_path) as cat:
        dec.label_photos(cat, [(1, "Banarasi")], "first")
        dec.label_photos(cat, [(1, "Paithani")], "second")
    with Catalog(tmp_path / "c.saree") as cat:
        undone = dec.undo_last(cat)
        assert undone is not None and undone.decision.text == "second"
        assert cat.label(1).tradition == "Banarasi"
        assert [d.text for d in dec.decisions(cat)] == ["first"]


def test_a_photo_changed_since_is_left_as_it_is_and_named(tmp_path: Path) -> None:
    with _catalog(tmp_path) as cat:
        dec.label_photos(cat, [(1, "Paithani"), (2, "Paithani")], "labelling 2 photos")
        cat.set_label(2, tradition="Banarasi")  # in the app, after
        undone = dec.undo_last(cat)
        assert undone is not None
        assert [c.photo_id for c in undone.restored] == [1]
        assert undone.skipped == ("#2 p1.jpg: changed again since; left as it is",)
        assert cat.label(1).tradition is None
        assert cat.label(2).tradition == "Banarasi"


def test_an_unknown_photo_writes_nothing(tmp_path: Path) -> None:
    with _catalog(tmp_path) as cat:
        before = _state(cat)
        with pytest.raises(CatalogError, match=r"no photo with id 9 in c\.saree; nothing was"):
            dec.label_photos(
                cat,
                [(1, "Kotpad"), (9, "Kotpad")],
                "x",
                tradition=CuratorTradition("Kotpad", "Odisha"),
            )
        assert _state(cat) == before
        assert dec.decisions(cat) == []
        assert load_traditions(cat.path) == []


def test_a_new_tradition_is_stored_with_the_labels_and_undone_with_them(tmp_path: Path) -> None:
    with _catalog(tmp_path) as cat:
        kotpad = CuratorTradition("Kotpad", "Odisha", "East India", "Sambalpuri")
        decision = dec.label_photos(cat, [(1, "Kotpad")], "x", tradition=kotpad)
        assert (decision.tradition_before, decision.tradition_after) == (None, kotpad)
        assert load_traditions(cat.path) == [kotpad]
        undone = dec.undo_last(cat)
        assert undone is not None and undone.tradition == "Kotpad taken out of your traditions"
        assert load_traditions(cat.path) == []


def test_an_edited_tradition_gets_its_old_fields_back_and_a_used_one_stays(
    tmp_path: Path,
) -> None:
    with _catalog(tmp_path) as cat:
        old = CuratorTradition("Kotpad", "Odisha")
        add_tradition(cat.path, old)
        edited = CuratorTradition("Kotpad", "Odisha", "East India")
        dec.label_photos(cat, [(1, "Kotpad")], "x", tradition=edited)
        assert load_traditions(cat.path) == [edited]
        undone = dec.undo_last(cat)
        assert undone is not None and "put back as they were" in undone.tradition
        assert load_traditions(cat.path) == [old]

        traditions_file(cat.path).unlink()
        dec.label_photos(cat, [(1, "Gadwal")], "x", tradition=CuratorTradition("Gadwal"))
        cat.set_label(2, tradition="Gadwal")  # labelled with it since, in the app
        undone = dec.undo_last(cat)
        assert undone is not None
        assert (
            undone.tradition == "Gadwal stays in your traditions: 1 other photo is labelled with it"
        )
        assert [t.name for t in load_traditions(cat.path)] == ["Gadwal"]


def test_a_side_file_that_cannot_be_written_rolls_the_labels_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _catalog(tmp_path) as cat:
        dec.label_photos(cat, [(3, "Banarasi")], "earlier")
        before = _state(cat)

        def refuse(*_args: object) -> None:
            raise TraditionsError("c.saree.traditions.json cannot be saved: disk full")

        monkeypatch.setattr(dec, "add_tradition", refuse)
        with pytest.raises(TraditionsError, match="disk full"):
            dec.label_photos(cat, [(1, "Kotpad")], "x", tradition=CuratorTradition("Kotpad"))
        assert _state(cat) == before
        assert [d.text for d in dec.decisions(cat)] == ["earlier"]


def test_a_damaged_side_file_is_a_message_and_the_labels_are_untouched(tmp_path: Path) -> None:
    with _catalog(tmp_path) as cat:
        cat.set_label(1, tradition="Banarasi")
        dec.decisions_file(cat).write_text("{not json", encoding="utf-8")
        with pytest.raises(CatalogError, match=r"damaged: .*the labels themselves are untouched"):
            dec.undo_last(cat)
        assert cat.label(1).tradition == "Banarasi"
        # Bytes that are not UTF-8 are damage too, said the same way (not a traceback).
        dec.decisions_file(cat).write_bytes(b'{"decisions": [\xff\xfe]}')
        with pytest.raises(CatalogError, match="is damaged: "):
            dec.undo_last(cat)
        with pytest.raises(CatalogError, match="is damaged: "):
            dec.label_photos(cat, [(2, "Paithani")], "x")
        assert cat.label(2) is None  # nothing labelled
        traditions_file(cat.path).write_bytes(b"[\xff]")
        with pytest.raises(TraditionsError, match="is damaged; "):
            load_traditions(cat.path)


def test_a_failing_undo_of_a_tradition_keeps_the_decision_to_undo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever stops the tradition's undo, the labels roll back with the transaction, and the
    decision must stay remembered: else the photo keeps Kotpad and nothing is left to undo."""
    with _catalog(tmp_path) as cat:
        dec.label_photos(cat, [(1, "Kotpad")], "x", tradition=CuratorTradition("Kotpad"))

        def broken(*_args: object) -> str:
            raise RuntimeError("the disk went away")

        monkeypatch.setattr(dec, "_undo_tradition", broken)
        with pytest.raises(RuntimeError):
            dec.undo_last(cat)
        assert cat.label(1).tradition == "Kotpad"
        assert [d.text for d in dec.decisions(cat)] == ["x"]
        monkeypatch.undo()
        undone = dec.undo_last(cat)
        assert undone is not None and dec.Words.of(cat.label(1)) == dec.Words.of(None)
