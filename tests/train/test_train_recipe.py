"""The default recipe's data plan: held-out families never reach train, val or test."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from saree_app.train import recipe


def test_training_splits_never_see_a_held_out_family() -> None:
    for split in ("train", "val", "test"):
        for seed in range(200):
            fam = recipe._families(split, "Banarasi", seed)
            for kind, names in recipe.HELDOUT_FAMILIES.items():
                assert fam[kind] not in names, (split, seed, fam)


def test_every_heldout_photo_has_a_held_out_family() -> None:
    seen_kinds = set()
    for seed in range(200):
        fam = recipe._families("heldout", "Kanchipuram", seed)
        held = [k for k, names in recipe.HELDOUT_FAMILIES.items() if fam[k] in names]
        assert held, fam
        seen_kinds.update(held)
    assert seen_kinds == set(recipe.HELDOUT_FAMILIES)


def test_withheld_traditions_are_not_trained_on() -> None:
    names = recipe.traditions()
    assert len(names) == 12
    assert not set(names) & set(recipe.WITHHELD)
    assert recipe._families("train", "Banarasi", 3) == recipe._families("train", "Banarasi", 3)
