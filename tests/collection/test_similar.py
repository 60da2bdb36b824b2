"""Similar-saree search: exact top-k, filters, parts, and the approximate index against exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saree_app.collection import similar as similar_mod
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto
from saree_app.collection.similar import (
    ExactIndex,
    default_part,
    faiss_available,
    part_for,
    search,
    top_k,
)

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


def _with_cloth(cat: Catalog, photo_ids: list[int]) -> None:
    """Cloth features (model/cloth.py's layout: whole, mean of tiles, nine tiles) for some
    photos: two looks, told apart by the cloth though the model's embeddings do not."""
    from saree_app.model.cloth import TILES

    rng = np.random.default_rng(7)
    looks = [rng.normal(size=32), rng.normal(size=32)]
    for pid in photo_ids:
        look = looks[pid % 2]
        blocks = [look + 0.2 * rng.normal(size=32) for _ in range(1 + TILES * TILES)]
        tiles = [b / np.linalg.norm(b) for b in blocks[1:]]
        mean = np.mean(tiles, axis=0)
        parts = [blocks[0], mean, *tiles]
        vec = np.concatenate([b / np.linalg.norm(b) for b in parts]).astype(np.float32)
        cat.put_embeddings(pid, SHA, None, cloth=vec)


def test_search_by_the_cloth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _catalogue(tmp_path) as cat:
        assert default_part(cat) == "cloth"
        monkeypatch.setattr(similar_mod, "CLOTH_LIMIT", 8)  # a collection that large
        assert default_part(cat) == "whole"
        monkeypatch.undo()
        _with_cloth(cat, [1, 2, 3, 4, 5, 6])
        found = search(cat, 2, part="cloth", k=3)
        # The cloth groups even ids with even ids, whatever the model's embeddings say.
        assert sorted(m.photo_id for m in found[:2]) == [4, 6]
        assert found[0].score > found[2].score
        assert part_for(cat, [2], SHA, "cloth") == "cloth"
        # A photo whose cloth was never read: the whole saree instead, or a plain message.
        assert part_for(cat, [7], SHA, "cloth") == "whole"
        assert part_for(cat, [7, 8, 1], SHA, "cloth") == "cloth"  # one of them has it
        assert part_for(cat, [7], SHA, "border") == "border"
        with pytest.raises(CatalogError, match="cloth has not been read"):
            search(cat, 7, part="cloth")
        # Photos without cloth are not among the matches, never with a made-up score.
        assert {m.photo_id for m in search(cat, 1, part="cloth", k=12)} == {2, 3, 4, 5, 6}


def test_the_way_of_comparing_is_learnt_from_the_confirmed_photos(tmp_path: Path) -> None:
    """Before six confirmed photos, the cloth; after, whichever finds their traditions."""
    with _catalogue(tmp_path) as cat:
        _with_cloth(cat, list(range(1, 9)))
        for pid in range(1, 6):
            cat.set_label(pid, tradition="Kanchipuram" if pid <= 4 else "Banarasi")
        assert default_part(cat, SHA) == "cloth"  # five confirmed: too few to measure
        # The whole-saree embeddings lie on a circle, the first four apart from the last four:
        # confirmed by that split, the whole saree finds their traditions, the cloth does not.
        cat.set_label(6, tradition="Banarasi")
        assert default_part(cat, SHA) == "whole"
        # Confirmed by what the cloth tells apart (odd and even photos): the cloth.
        for pid in range(1, 9):
            cat.set_label(pid, tradition="Odd" if pid % 2 else "Even")
        assert default_part(cat, SHA) == "cloth"
        # A tentative label teaches nothing here either.
        for pid in range(1, 9):
            cat.set_label(pid, certainty="probable")
        assert default_part(cat, SHA) == "cloth"


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
        vec = np.array([1, -0.2, 0, 0], np.float32)  # apart from photo 1 at 4 bits a value
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


def test_a_label_write_keeps_the_embeddings_and_the_index(tmp_path: Path) -> None:
    from saree_app.collection import similar

    with _catalogue(tmp_path) as cat:
        before = cat.generations()
        _ids, matrix = cat.embeddings(SHA, "whole")
        index = similar.catalog_index(cat, SHA, "whole", approximate=False)
        cat.set_label(3, tradition="Banarasi", note="seen at the dealer's")
        after = cat.generations()
        assert after["labels"] > before["labels"]
        assert after["embeddings"] == before["embeddings"]
        # Not read again: the very same arrays and index.
        assert cat.embeddings(SHA, "whole")[1] is matrix
        assert similar.catalog_index(cat, SHA, "whole", approximate=False) is index
        # ...while the label is seen at once by the filters and in the answer.
        q = np.array([1, 0, 0, 0], np.float32)
        found = search(cat, q, k=12, tradition="Banarasi", approximate=False)
        assert {m.photo_id for m in found} == {3, 5, 6, 7, 8}
        assert next(m for m in found if m.photo_id == 3).confirmed
        # A new embedding does move the counter, and the search sees the new photo.
        vec = np.array([0, 0, 0, 1], np.float32)
        cat.record(
            NewPhoto("/p/new.jpg", "e" * 64, 10, 1, 1),
            SHA,
            {},
            top_tradition="Paithani",
            top_probability=0.5,
            uncertain=False,
            embedding=vec,
            part_embeddings=np.stack([vec, vec, vec]),
        )
        assert cat.generations()["embeddings"] > after["embeddings"]
        assert [m.photo_id for m in search(cat, vec, k=1, approximate=False)] == [9]


def test_a_label_written_by_another_program_is_seen(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        q = np.array([1, 0, 0, 0], np.float32)
        assert {m.photo_id for m in search(cat, q, k=12, confirmed_only=True)} == set()
        with Catalog(cat.path) as other:
            other.set_label(2, tradition="Kanchipuram")
        found = search(cat, q, k=12, confirmed_only=True)
        assert [(m.photo_id, m.tradition, m.confirmed) for m in found] == [(2, "Kanchipuram", True)]


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu (extra `ann`) not installed")
def test_a_saved_approximate_index_answers_without_reading_the_embeddings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.collection import similar

    with _catalogue(tmp_path) as cat:
        first = [m.photo_id for m in search(cat, 1, k=3, approximate=True)]
    similar._INDEXES.clear()  # a new program, as `saree similar` from the command line

    def no_rows(*_args: object) -> None:
        raise AssertionError("the embeddings were read")

    with Catalog(tmp_path / "c.saree") as cat:
        monkeypatch.setattr(cat, "embeddings", no_rows)
        assert [m.photo_id for m in search(cat, 1, k=3, approximate=True)] == first
        cat.set_label(2, tradition="Banarasi")  # labels leave the saved index valid
        similar._INDEXES.clear()
        found = search(cat, 1, k=3, approximate=True)
        assert [m.photo_id for m in found] == first
        assert found[0].tradition == "Banarasi"


def test_a_schema_5_catalogue_gains_the_counters_and_its_filters_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.collection import catalog as catalog_mod

    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:5])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 5)
    with _catalogue(tmp_path) as cat:
        cat.set_label(1, tradition="Paithani")
        assert "labels" not in cat.generations()
    monkeypatch.undo()
    with Catalog(tmp_path / "c.saree") as cat:
        assert cat.schema_version >= 6
        gens = cat.generations()
        assert gens["labels"] == 0 and gens["predictions"] == 0
        q = np.array([1, 0, 0, 0], np.float32)
        assert [m.photo_id for m in search(cat, q, k=12, tradition="Paithani")] == [1]
        cat.set_label(2, tradition="Paithani")
        assert cat.generations()["labels"] == 1
        assert {m.photo_id for m in search(cat, q, k=12, tradition="Paithani")} == {1, 2}


def test_labels_changed_one_after_another_keep_the_filters_right(tmp_path: Path) -> None:
    with _catalogue(tmp_path) as cat:
        q = np.array([1, 0, 0, 0], np.float32)

        def banarasi() -> set[int]:
            return {m.photo_id for m in search(cat, q, k=12, tradition="Banarasi")}

        assert banarasi() == {5, 6, 7, 8}
        cat.set_label(1, tradition="Banarasi")
        assert banarasi() == {1, 5, 6, 7, 8}
        cat.set_label(5, tradition="Paithani", certainty="possible")
        assert banarasi() == {1, 6, 7, 8}
        # The curator takes the tradition back: the model's answer stands again.
        cat.set_label(5, tradition=None, note="not sure", keep=False)
        assert banarasi() == {1, 5, 6, 7, 8}
        assert {m.photo_id for m in search(cat, q, k=12, confirmed_only=True)} == {1}
        # A label removed without a history entry (its photo's row deleted by hand): all of
        # them are read again.
        cat.run("DELETE FROM labels WHERE photo_id = 1")
        assert banarasi() == {5, 6, 7, 8}
