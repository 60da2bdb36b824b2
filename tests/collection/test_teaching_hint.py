"""How to teach the app is said while most answers are flagged and little is taught."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_helpers import answered_photo

from saree_app.collection.catalog import Catalog
from saree_app.collection.fewshot import TEACH_HINT, needs_teaching
from saree_app.commands.collection import _teaching_hint

SHA = "m" * 64


def _photo(cat: Catalog, folder: Path, i: int, uncertain: bool, sha: str = SHA) -> int:
    content = f"photo {i}".encode()
    return answered_photo(
        cat,
        folder / f"{i}.jpg",
        content,
        "Kanchipuram",
        probability=0.4,
        uncertain=uncertain,
        embeddings=True,
        model=sha,
    )


def test_the_rule() -> None:
    assert needs_teaching(6, 6, 0) and needs_teaching(6, 3, 1)
    assert not needs_teaching(3, 3, 0)  # too few photos to say anything of the collection
    assert not needs_teaching(6, 2, 0)  # most answers are not flagged
    assert not needs_teaching(6, 6, 2)  # two traditions taught: teaching is under way


def test_counted_from_the_catalogue_and_said_after_an_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        ids = [_photo(cat, tmp_path / "p", i, uncertain=i < 4) for i in range(5)]
        _photo(cat, tmp_path / "p", 9, uncertain=False, sha="n" * 64)  # another model's
        state = cat.teaching_state(SHA)
        assert state == (5, 4, 0)
    _teaching_hint(path, state)
    out = capsys.readouterr().out
    assert out.startswith(TEACH_HINT) and f"saree fewshot --apply --catalog {path}" in out
    with Catalog(path) as cat:
        # A confirmed photo no longer counts as flagged; a probable label teaches nothing.
        cat.set_label(ids[0], tradition="Paithani", certainty="confirmed")
        cat.set_label(ids[1], tradition="Banarasi", certainty="probable")
        assert cat.teaching_state(SHA) == (5, 3, 1)
        cat.set_label(ids[1], certainty="confirmed")
        state = cat.teaching_state(SHA)
        assert state == (5, 2, 2)
    _teaching_hint(path, state)
    assert capsys.readouterr().out == ""
