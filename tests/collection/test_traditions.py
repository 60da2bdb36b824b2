"""Traditions a curator adds: kept beside the catalogue, replaced by name, damage explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from saree_app.collection.traditions import (
    CuratorTradition,
    TraditionsError,
    add_tradition,
    load_traditions,
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
