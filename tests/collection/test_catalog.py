"""The catalogue file: schema and migrations, one-transaction writes, labels, tags, caches."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from saree_app.collection import catalog as catalog_mod
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto

SHA = "a" * 64


def _photo(i: int) -> NewPhoto:
    return NewPhoto(f"/photos/{i}.jpg", f"{i:064x}", 1000 + i, 40, 30, None, None)


def _record(cat: Catalog, i: int, dim: int = 4) -> int:
    vec = np.zeros(dim, np.float32)
    vec[i % dim] = 1
    return cat.record(
        _photo(i),
        SHA,
        {"i": i},
        top_tradition="Kanchipuram" if i % 2 else "Banarasi",
        top_probability=0.5,
        uncertain=i == 3,
        embedding=vec,
        part_embeddings=np.stack([vec, -vec, vec * 2]),
    )


def test_new_catalogue_is_wal_versioned_and_ours(tmp_path: Path) -> None:
    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA application_id").fetchone()[0] == catalog_mod.APPLICATION_ID
    db.close()


def test_record_round_trips_photo_prediction_and_embeddings(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 3)
        assert cat.photo(pid) == cat.photo_by_hash(f"{3:064x}")
        assert cat.photo(pid).size == 1003  # type: ignore[union-attr]
        pred = cat.prediction(pid, SHA)
        assert pred is not None
        assert pred.result == {"i": 3}
        assert pred.top_tradition == "Kanchipuram"
        assert pred.uncertain
        border = cat.embedding(pid, SHA, "border")
        assert border is not None
        np.testing.assert_array_equal(border, -np.eye(4, dtype=np.float32)[3])
        assert cat.integrity_problems() == []


def test_answers_of_some_photos_and_their_summaries(tmp_path: Path) -> None:
    """Teaching reads the confirmed photos' answers only, and the browser's before/after of a
    re-rank the summary columns only: each gives what reading every answer gave."""
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [_record(cat, i) for i in range(6)]
        every = cat.predictions(SHA)
        some = cat.predictions(SHA, [ids[1], ids[3], 10_000])
        assert some == {ids[1]: every[ids[1]], ids[3]: every[ids[3]]}
        assert cat.predictions(SHA, []) == {}
        assert cat.predictions("other-model", ids) == {}
        many = cat.predictions(SHA, [*ids, *range(20_000, 21_200)])  # past one IN (...) chunk
        assert many == every
        assert cat.predicted_ids(SHA) == set(ids)
        assert cat.predicted_ids("other-model") == set()
        assert cat.answer_summaries(SHA) == {
            pid: (p.top_tradition, p.top_probability, p.uncertain) for pid, p in every.items()
        }
        assert cat.answer_summaries(SHA)[ids[3]] == ("Kanchipuram", 0.5, True)


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        a = _record(cat, 1)
        b = _record(cat, 1)
        assert a == b
        assert cat.count() == 1


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        with pytest.raises(CatalogError), cat.transaction():
            cat.add_photo(_photo(1))
            cat.put_embeddings(1, SHA, np.ones(4), np.ones((2, 4)))  # wrong shape: raises
        assert cat.count() == 0


def test_embedding_matrix_is_cached_and_refreshed(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        for i in range(3):
            _record(cat, i)
        ids, m = cat.embeddings(SHA, "whole")
        assert ids.tolist() == [1, 2, 3]
        assert m.shape == (3, 4)
        assert m.dtype == np.float32
        assert cat.embeddings(SHA, "whole")[1] is m  # cached
        _record(cat, 7)
        ids2, m2 = cat.embeddings(SHA, "whole")
        assert m2.shape == (4, 4)
        assert ids2.tolist() == [1, 2, 3, 4]
        # A write from another connection (another process) also invalidates the cache.
        with Catalog(tmp_path / "c.saree") as other:
            _record(other, 8)
        assert cat.embeddings(SHA, "whole")[0].tolist() == [1, 2, 3, 4, 5]
        with pytest.raises(CatalogError, match="part must be"):
            cat.embeddings(SHA, "sleeve")


def test_labels_keep_history_and_validate(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 1)
        lab = cat.set_label(pid, tradition="Paithani")
        assert lab.certainty == "confirmed"
        cat.set_label(pid, note="bought in Pune, 1962")
        lab = cat.label(pid)
        assert lab is not None
        assert (lab.tradition, lab.certainty, lab.note) == (
            "Paithani",
            "confirmed",
            "bought in Pune, 1962",
        )
        assert len(cat.label_history(pid)) == 2
        assert cat.attributed_tradition(pid) == "Paithani"
        with pytest.raises(CatalogError, match="certainty must be"):
            cat.set_label(pid, certainty="sure")
        with pytest.raises(CatalogError, match="no photo with id 99"):
            cat.set_label(99, tradition="Paithani")


def test_tags(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 1)
        cat.add_tags(pid, ["wedding", " gift ", "wedding", ""])
        assert cat.tags(pid) == ["gift", "wedding"]
        cat.remove_tags(pid, ["gift"])
        assert cat.all_tags() == {pid: ["wedding"]}


def test_refuses_foreign_and_newer_files(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(CatalogError, match="not a saree catalogue"):
        Catalog(foreign)
    junk = tmp_path / "junk.saree"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CatalogError, match="not a catalogue file"):
        Catalog(junk)
    newer = tmp_path / "newer.saree"
    Catalog(newer).close()
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version={catalog_mod.SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(CatalogError, match="newer version"):
        Catalog(newer)
    with pytest.raises(CatalogError, match="no such catalogue"):
        Catalog(tmp_path / "missing.saree", create=False)
    with pytest.raises(CatalogError, match="does not exist"):
        Catalog(tmp_path / "nowhere" / "c.saree")


def test_migration_runs_once_and_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        _record(cat, 1)
    broken = [*catalog_mod.MIGRATIONS, "ALTER TABLE photos ADD COLUMN x TEXT; SELECT nonsense;"]
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", broken)
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", len(broken))
    with pytest.raises(CatalogError, match="cannot upgrade the catalogue"):
        Catalog(path)
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(photos)")]
    assert "x" not in cols  # rolled back with the failed step
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(broken) - 1
    db.close()
    good = [*catalog_mod.MIGRATIONS[:-1], "ALTER TABLE photos ADD COLUMN x TEXT;"]
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", good)
    with Catalog(path) as cat:
        assert cat.schema_version == len(good)
        assert cat.count() == 1
    with Catalog(path) as cat:  # already migrated: nothing runs twice
        assert cat.schema_version == len(good)


def test_busy_catalogue_is_a_plain_error_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        _record(cat, 1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with Catalog(path, timeout=0.05) as cat:
            with pytest.raises(CatalogError, match="busy in another program"):
                _record(cat, 2)
            assert cat.count() == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    with Catalog(path) as cat:
        _record(cat, 2)
        assert cat.count() == 2


def test_two_programs_creating_one_catalogue_at_once(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "c.saree"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Catalog(path).close()
        except BaseException as exc:  # collected and reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION
        assert cat.integrity_problems() == []


def test_version_1_file_is_upgraded_with_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:1])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 1)
    with Catalog(path) as cat:
        _record(cat, 1)
        cat.set_label(1, tradition="Paithani", note="kept")
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= 2
        assert cat.label(1).note == "kept"  # type: ignore[union-attr]
        assert cat.embeddings(SHA, "border")[1].shape == (1, 4)
        before = cat._generation()
        _record(cat, 2)
        assert cat._generation() == before + 4  # whole + three parts
        assert cat.integrity_problems() == []


def test_embedding_side_file_is_used_while_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_mod, "SIDE_FILE_MIN", 1)
    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        for i in range(3):
            _record(cat, i)
        ids, m = cat.embeddings(SHA, "pallu")
        side = cat.embeddings_file(SHA, "pallu")
        assert side.exists()
    with Catalog(path) as cat:
        # A fresh session reads the side file, not the rows: mark it to tell them apart.
        catalog_mod._save_side(side, cat._generation(), ids, m + 1)
        ids2, m2 = cat.embeddings(SHA, "pallu")
        np.testing.assert_array_equal(ids2, ids)
        np.testing.assert_array_equal(m2, m + 1)
        _record(cat, 9)  # the catalogue moved on: the side file is stale and rewritten
        assert catalog_mod._load_side(side, cat._generation()) is None
        assert cat.embeddings(SHA, "pallu")[0].tolist() == [1, 2, 3, 4]
        assert catalog_mod._load_side(side, cat._generation()) is not None
        good = side.read_bytes()
        for damaged in (b"damaged", good[: len(good) // 2]):  # never trusted when damaged
            side.write_bytes(damaged)
            cat._cache.clear()
            assert cat.embeddings(SHA, "pallu")[0].tolist() == [1, 2, 3, 4]


def test_version_2_file_gains_cloth_features_and_keeps_its_embeddings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v2.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:2])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 2)
    with Catalog(path) as cat:
        for i in range(3):
            _record(cat, i)
        with pytest.raises(sqlite3.IntegrityError):  # the old CHECK knows no cloth
            cat.put_embeddings(1, SHA, None, cloth=np.ones(5, np.float32))
        before = cat.embeddings(SHA, "border")[1].copy()
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= 3
        ids, border = cat.embeddings(SHA, "border")
        assert ids.tolist() == [1, 2, 3] and np.array_equal(border, before)
        generation = cat._generation()
        cat.put_embeddings(2, SHA, None, cloth=np.arange(5, dtype=np.float32))
        assert cat._generation() == generation + 1  # the triggers came back with the table
        ids, cloth = cat.embeddings(SHA, "cloth")
        # int8 with a scale (schema 10): within a step of the largest value.
        assert ids.tolist() == [2] and np.allclose(cloth[0], [0, 1, 2, 3, 4], atol=4 / 127)
        assert cat.embedding(2, SHA, "cloth") is not None
        assert cat.integrity_problems() == []
        with pytest.raises(CatalogError, match="part must be one of"):
            cat.embeddings(SHA, "sleeve")
