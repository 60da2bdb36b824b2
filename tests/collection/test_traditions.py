"""Traditions a curator adds: kept beside the catalogue, replaced by name, damage explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from saree_app.collection.traditions import (
    AlreadyKnown,
    CuratorTradition,
    TraditionsError,
    UnknownLike,
    add_tradition,
    load_traditions,
    new_tradition,
    restore_tradition,
    traditions_file,
)


def test_added_traditions_come_back_in_order(tmp_path: Path) -> None:
    cat = tmp_path / "collection.saree"
    assert load_traditions(cat) == []
    add_tradition(
        cat, CuratorTradition("  Kotpad   tie-dye ", "Odisha", "East India", "Sambalpuri")
    )
    add_tradition(cat, CuratorTradition("Gadwal", "Telangana"))
    got = load_traditions(cat)
    assert got == [
        CuratorTradition("Kotpad tie-dye", "Odisha", "East India", "Sambalpuri"),
        CuratorTradition("Gadwal", "Telangana", "", None),
    ]
    assert traditions_file(cat).name == "collection.saree.traditions.json"
    assert not list(tmp_path.glob(".*.tmp"))


def test_same_name_any_case_is_replaced_not_repeated(tmp_path: Path) -> None:
    cat = tmp_path / "c.saree"
    add_tradition(cat, CuratorTradition("Kotpad", "Odisha"))
    rows = add_tradition(cat, CuratorTradition("KOTPAD", "Odisha", "East India"))
    assert rows == [CuratorTradition("KOTPAD", "Odisha", "East India")]
    assert load_traditions(cat) == rows


def test_no_name_and_a_damaged_file_are_messages(tmp_path: Path) -> None:
    cat = tmp_path / "c.saree"
    with pytest.raises(TraditionsError, match="needs a name"):
        add_tradition(cat, CuratorTradition("   "))
    traditions_file(cat).write_text("{not json", encoding="utf-8")
    with pytest.raises(TraditionsError, match="damaged"):
        load_traditions(cat)


# The one check the app's "Add a tradition" dialog and `saree label --new` both make.
KNOWN = ["Kanchipuram", "Sambalpuri"]
NAMES = {"Kanchipuram": "Kanchipuram silk", "Sambalpuri": "Sambalpuri bandha"}


def _label(t: str) -> str:
    return NAMES.get(t, t)


def test_a_new_tradition_is_checked_and_resembles_a_known_one_by_id() -> None:
    got = new_tradition(
        "  Kotpad ", " Odisha ", "East  India", "sambalpuri BANDHA", known=KNOWN, label=_label
    )
    assert got == CuratorTradition("Kotpad", "Odisha", "East India", "Sambalpuri")
    assert new_tradition("Kotpad", like="Sambalpuri", known=KNOWN, label=_label).like == (
        "Sambalpuri"
    )
    assert new_tradition("Kotpad", like=" ", known=KNOWN, label=_label).like is None


def test_a_known_name_an_empty_one_and_an_unknown_likeness_are_refused() -> None:
    with pytest.raises(AlreadyKnown, match="Kanchipuram silk is already in the list") as caught:
        new_tradition("kanchipuram SILK", known=KNOWN, label=_label)
    assert caught.value.tradition == "Kanchipuram"
    with pytest.raises(AlreadyKnown):
        new_tradition("KANCHIPURAM", known=KNOWN, label=_label)
    with pytest.raises(TraditionsError, match="needs a name"):
        new_tradition("  ", known=KNOWN, label=_label)
    with pytest.raises(UnknownLike, match="Atlantis is not a tradition the app knows"):
        new_tradition("Kotpad", like="Atlantis", known=KNOWN, label=_label)


def test_restore_takes_an_added_tradition_out_or_puts_the_old_one_back(tmp_path: Path) -> None:
    cat = tmp_path / "c.saree"
    add_tradition(cat, CuratorTradition("Gadwal", "Telangana"))
    add_tradition(cat, CuratorTradition("Kotpad", "Odisha"))
    restore_tradition(cat, "kotpad", None)
    assert load_traditions(cat) == [CuratorTradition("Gadwal", "Telangana")]
    add_tradition(cat, CuratorTradition("Gadwal", "Telangana", "South India", "Kanchipuram"))
    restore_tradition(cat, "Gadwal", CuratorTradition("Gadwal", "Telangana"))
    assert load_traditions(cat) == [CuratorTradition("Gadwal", "Telangana")]


def test_another_name_of_a_known_tradition_is_that_tradition() -> None:
    """A local name ("Kanjeevaram") must not split a known tradition in two, in the app as in
    `saree label --new`: both ask new_tradition with the graph's other names."""
    from saree_app.collection.traditions import AlreadyKnown, new_tradition
    from saree_app.knowledge.graph import TextileGraph

    graph = TextileGraph.load()
    known = graph.traditions()
    local = next(iter(graph.local_names("Kanchipuram")))
    with pytest.raises(AlreadyKnown) as caught:
        new_tradition(
            local,
            known=known,
            label=graph.label,
            other_names=lambda t: graph.resolve(t, {"tradition"}),
        )
    assert caught.value.tradition == "Kanchipuram" and caught.value.other_name == local
    assert f"{local} is another name of Kanchipuram silk" in str(caught.value)
    # Without the lookup (no graph) the name is new; a name nobody uses is new either way.
    assert new_tradition(local, known=known, label=graph.label).name == local
    assert (
        new_tradition("Kotpad", known=known, label=graph.label, other_names=lambda t: None).name
        == "Kotpad"
    )
