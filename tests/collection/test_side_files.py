"""The files a catalogue keeps beside it are named in one place (collection/side_files.py), and
the check that keeps an export from writing over one of them asks that place."""

from __future__ import annotations

from pathlib import Path

import pytest

from saree_app.collection import side_files
from saree_app.collection.catalog import Catalog
from saree_app.collection.decisions import decisions_file
from saree_app.collection.housekeeping import removed_file
from saree_app.collection.iiif import cache_folder
from saree_app.collection.models import model_file
from saree_app.collection.similar import _generation_path, _ids_path, ann_path
from saree_app.collection.traditions import traditions_file

SHA = "0123456789abcdef" * 4


def _every_side_file(cat: Catalog) -> list[Path]:
    """Each side file, as the module that keeps it names it."""
    return [
        decisions_file(cat),
        removed_file(cat),
        traditions_file(cat.path),
        model_file(cat.path),
        cache_folder(cat.path),
        ann_path(cat, SHA, "border"),
        cat.embeddings_file(SHA, "cloth"),
        cat.embeddings_file(SHA, "whole").with_name(
            cat.embeddings_file(SHA, "whole").name + ".tmp.npz"
        ),
        side_files.beside(cat.path, side_files.IMPORT_LOCK),
        # What a faiss index keeps beside it, and writes through.
        _ids_path(ann_path(cat, SHA, "border")),
        _generation_path(ann_path(cat, SHA, "border")),
        *(
            ann_path(cat, SHA, "whole").with_name(ann_path(cat, SHA, "whole").name + end)
            for end in (".tmp", ".ids.tmp.npy", ".generation.tmp")
        ),
        *(cat.path.with_name(cat.path.name + s) for s in side_files.SQLITE),
    ]


def test_every_side_file_a_module_names_is_known(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        files = _every_side_file(cat)
    assert len({f.name for f in files}) == len(files)  # no two modules share a file
    for f in files:
        assert f.parent == tmp_path
        assert side_files.is_side_file("c.saree", f.name), f.name


@pytest.mark.parametrize(
    "name",
    [
        "c.saree",  # the catalogue itself is refused apart, by its own message
        "c.saree.csv",
        "c.saree.jsonld",
        "c.saree.objects.csv",
        "c.saree.decisions.json.csv",
        "d.saree.decisions.json",  # another catalogue's
        "c.saree.0123456789ab.border.png",
        "c.saree.notasha.border.npz",
    ],
)
def test_an_export_beside_the_catalogue_is_not_a_side_file(name: str) -> None:
    assert not side_files.is_side_file("c.saree", name)


def test_only_a_known_side_file_is_named() -> None:
    with pytest.raises(ValueError, match="not one of a catalogue's side files"):
        side_files.beside(Path("c.saree"), ".notes.json")
