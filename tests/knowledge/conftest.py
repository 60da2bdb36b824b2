"""Fixtures for knowledge-graph tests: a writable copy of the bundled ontology, a tiny graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kg_helpers import TINY_TRADITIONS

from saree_app.paths import ontology_dir


@pytest.fixture
def ontology_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled ontology folder."""
    dest = tmp_path / "ontology"
    dest.mkdir()
    for f in ontology_dir().glob("*.ttl"):
        shutil.copy(f, dest / f.name)
    return dest


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """The bundled schema and vocabularies with three made-up traditions (Alpha, Beta, Gamma)."""
    dest = tmp_path / "tiny"
    dest.mkdir()
    for name in ("schema.ttl", "sources.ttl", "regions.ttl", "vocabulary.ttl"):
        shutil.copy(ontology_dir() / name, dest / name)
    (dest / "traditions.ttl").write_text(TINY_TRADITIONS, encoding="utf-8")
    return dest


@pytest.fixture(autouse=True)
def graph_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep the pickled-graph cache of these tests out of the user's cache folder."""
    from saree_app.knowledge import graph as graph_module

    folder = tmp_path_factory.mktemp("kg-cache")
    monkeypatch.setattr(graph_module, "_cache_dir", lambda: folder)
    return folder
