"""Similar-saree search: exact top-k, filters, parts, and the approximate index against exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto
from saree_app.collection.similar import ExactIndex, faiss_available, search, top_k

SHA = "c" * 64


def test_top_k_orders_best_first_and_handles_small_inputs() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9, -1.0], dtype=np.float32)
    assert top_k(scores, 3).tolist() == [1, 3, 2]
    assert top_k(scores, 10).tolist() == [1, 3, 2, 0, 4]
    assert top_k(scores, 0).tolist() == []


def test_exact_index_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(500, 16)).astype(np.float32)
    ids = np.arange(1000, 1500)
    index = ExactIndex(ids, m)
    q = rng.normal(size=16).astype(np.float32)
    found, scores = index.search(q, 12)
    cos = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ (q / np.linalg.norm(q))
    assert found.tolist() == (1000 + np.argsort(-cos)[:12]).tolist()
    np.testing.assert_allclose(scores, np.sort(cos)[::-1][:12], rtol=1e-5)
    allowed = np.zeros(500, bool)
    allowed[[3, 7]] = True
    found, _ = index.search(q, 12, allowed)
    assert sorted(found.tolist()) == [1003, 1007]
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.ones(3), 2)


def _catalogue(tmp_path: Path) -> Catalog:
    """8 photos: whole embeddings on a circle; border embeddings grouped differently."""
    cat = Catalog(tmp_path / "c.saree")
    for i in range(8):
        a = i * np.pi / 8
        whole = np.array([np.cos(a), np.sin(a), 0, 0], np.float32)
        border = (
            np.array([0, 0, 1.0, 0.1 * i], np.float32)
            if i % 2
            else np.array([0, 0, 0.1 * i, 1.0], np.float32)
        )
        cat.record(
            NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10, 1, 1),
            SHA,
            {},
            top_tradition="Kanchipuram" if i < 4 else "Banarasi",
            top_probability=0.6,
            uncertain=False,
            embedding=whole,
            part_embeddings=np.stack([whole, border, whole]),
        )
    return cat


def test_search_by_photo_whole_and_by_part(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        near = search(cat, 1, k=3)
        assert [m.photo_id for m in near] == [2, 3, 4]  # ids are 1-based; itself excluded
        assert near[0].path == "/p/1.jpg"
        assert near[0].score > near[1].score > near[2].score
        # By border: photo 2 (i=1, odd) is closest to the other odd ones.
        by_border = search(cat, 2, part="border", k=3)
        assert {m.photo_id for m in by_border} == {4, 6, 8}


def test_filters_tradition_and_confirmed(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        q = np.array([1, 0, 0, 0], np.float32)
        assert {m.photo_id for m in search(cat, q, k=12, tradition="Banarasi")} == {5, 6, 7, 8}
        cat.set_label(8, tradition="Kanchipuram")  # the curator's word beats the model's
        cat.set_label(2, tradition="Kanchipuram", certainty="probable")
        found = search(cat, q, k=12, tradition="Kanchipuram")
        assert {m.photo_id for m in found} == {1, 2, 3, 4, 8}
        confirmed = search(cat, q, k=12, confirmed_only=True)
        assert [(m.photo_id, m.tradition, m.confirmed) for m in confirmed] == [
            (8, "Kanchipuram", True)
        ]
        assert search(cat, q, tradition="Paithani") == []


def test_search_errors_are_plain(tmp_path: Path) -> None:
    with (
        Catalog(tmp_path / "empty.saree") as cat,
        pytest.raises(CatalogError, match="import photos first"),
    ):
        search(cat, np.ones(4))
    with _catalogue(tmp_path) as cat:
        with pytest.raises(CatalogError, match="part must be"):
            search(cat, 1, part="sleeve")
        with pytest.raises(CatalogError, match="photo 99 has no"):
            search(cat, 99)


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu (extra `ann`) not installed")
def test_approximate_index_recall_against_exact() -> None:
    from saree_app.collection.similar import AnnIndex

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(40, 32))
    labels = rng.integers(0, 40, 20_000)
    data = (centres[labels] + 0.35 * rng.normal(size=(20_000, 32))).astype(np.float32)
    ids = np.arange(20_000) + 1
    exact = ExactIndex(ids, data)
    ann = AnnIndex(ids, data, nprobe=16)
    queries = (centres[rng.integers(0, 40, 50)] + 0.35 * rng.normal(size=(50, 32))).astype(
        np.float32
    )
    hits = 0
    for q in queries:
        truth = set(exact.search(q, 10)[0].tolist())
        hits += len(truth & set(ann.search(q, 10)[0].tolist()))
    assert hits / 500 >= 0.95
    allowed = np.zeros(20_000, bool)
    allowed[:100] = True
    found, _ = ann.search(queries[0], 10, allowed)
    assert set(found.tolist()) <= set(range(1, 101))


def test_search_uses_the_approximate_index_when_asked(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        if not faiss_available():
            with pytest.raises(CatalogError, match="needs faiss"):
                search(cat, 1, approximate=True)
            return
        found = search(cat, 1, k=3, approximate=True)
        assert [m.photo_id for m in found] == [2, 3, 4]


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu (extra `ann`) not installed")
def test_approximate_index_is_saved_and_grows_with_the_catalogue(tmp_path: Path) -> None:
    from saree_app.collection import similar

    with _catalogue(tmp_path) as cat:
        first = [m.photo_id for m in search(cat, 1, k=3, approximate=True)]
        path = similar.ann_path(cat, SHA, "whole")
        assert path.exists()
        similar._INDEXES.clear()  # a new session: the index comes from the file
        loaded = similar.catalog_index(cat, SHA, "whole", approximate=True)
        assert len(loaded) == 8
        assert [m.photo_id for m in search(cat, 1, k=3, approximate=True)] == first
        vec = np.array([1, 0.01, 0, 0], np.float32)
        cat.record(
            NewPhoto("/p/new.jpg", "f" * 64, 10, 1, 1),
            SHA,
            {},
            top_tradition="Paithani",
            top_probability=0.5,
            uncertain=False,
            embedding=vec,
            part_embeddings=np.stack([vec, vec, vec]),
        )
        found = search(cat, vec, k=1, approximate=True)
        assert [m.photo_id for m in found] == [9]
        assert len(similar.AnnIndex.load(path)) == 9
        path.write_bytes(b"damaged")  # a damaged file is rebuilt, never fatal
        similar._INDEXES.clear()
        assert len(similar.catalog_index(cat, SHA, "whole", approximate=True)) == 9
