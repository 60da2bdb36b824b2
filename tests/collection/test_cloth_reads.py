"""Schema 12: the side each photo's cloth tiles were read at is kept beside its cloth features
(model/cloth.py TILE_SIZE), so photos read at another side can be read again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saree_app.collection import catalog as catalog_mod
from saree_app.collection import housekeeping as hk
from saree_app.collection.catalog import EARLIER_TILE_SIZE, Catalog, NewPhoto

SHA = "c" * 64


def _cloth(seed: int) -> np.ndarray:
    from saree_app.model.cloth import BLOCKS

    rows = np.random.default_rng(seed).normal(size=(BLOCKS, 8)).astype(np.float32)
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).reshape(-1)


def _photo(cat: Catalog, folder: Path, n: int) -> int:
    path = folder / f"{n}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * (n + 1))
    return cat.add_photo(NewPhoto(str(path), f"{n:064x}", n + 1))


def test_a_schema_11_catalogue_keeps_its_cloth_as_read_at_224(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[: catalog_mod.SLIM])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", catalog_mod.SLIM)
    with Catalog(path) as cat:
        a, b, c = (_photo(cat, tmp_path / "p", n) for n in range(3))
        cat.put_embeddings(a, SHA, None, cloth=_cloth(1), cloth_tile_size=160)  # not kept yet
        cat.put_embeddings(b, SHA, None, cloth=_cloth(2))
        assert cat.cloth_tile_sizes(SHA) == {a: EARLIER_TILE_SIZE, b: EARLIER_TILE_SIZE}
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= catalog_mod.CLOTH_READS
        assert cat.cloth_tile_sizes(SHA) == {a: 224, b: 224}  # c has no cloth features
        cat.put_embeddings(c, SHA, None, cloth=_cloth(3), cloth_tile_size=160)
        cat.put_embeddings(a, SHA, None, cloth=_cloth(4), cloth_tile_size=160)
        assert cat.cloth_tile_sizes(SHA) == {a: 160, b: 224, c: 160}
        assert cat.cloth_tile_sizes("d" * 64) == {}
        # Written again without saying the side: unknown, taken as the earlier side.
        cat.put_embeddings(c, SHA, None, cloth=_cloth(5))
        assert cat.cloth_tile_sizes(SHA)[c] == EARLIER_TILE_SIZE
        # Embeddings without cloth leave what the cloth was read at alone.
        cat.put_embeddings(a, SHA, np.ones(4, np.float32))
        assert cat.cloth_tile_sizes(SHA)[a] == 160


def test_removing_a_photo_and_undoing_it_keeps_the_side_its_tiles_were_read_at(
    tmp_path: Path,
) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        a, b = (_photo(cat, tmp_path / "p", n) for n in range(2))
        cat.put_embeddings(a, SHA, None, cloth=_cloth(1), cloth_tile_size=160)
        cat.put_embeddings(b, SHA, None, cloth=_cloth(2), cloth_tile_size=192)
        hk.remove_photos(cat, [b])
        assert cat.cloth_tile_sizes(SHA) == {a: 160}
        assert cat.run("SELECT count(*) FROM cloth_reads") == [(1,)]
        hk.undo_removal(cat)
        assert cat.cloth_tile_sizes(SHA) == {a: 160, b: 192}
