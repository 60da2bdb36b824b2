"""Schema 11: vectors name their model by number, answers keep each term once per catalogue,
a cloth description keeps its mean of tiles in its tiles; older catalogues are rewritten on
opening and answer as before."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from saree_app import paths
from saree_app.collection import catalog as catalog_mod
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto

SHA = "e" * 64

# Bytes per photo of the bundled rendered samples imported with the shipped model, beyond the
# same catalogue emptied (after VACUUM): measured 10752 at schema 10 and 6144 at schema 11 (on
# 174 real photos, file size / photos: 11.5 KiB -> 7.6 KiB).
SLIM_BYTES = 6800
SLIM_SHARE = 0.65  # of what schema 10 took for the same photos


def _samples() -> list[Path]:
    return sorted(paths.samples_dir().glob("*.jpg"))


@pytest.fixture(scope="module")
def predictor() -> Any:
    from saree_app.model.cloth import ClothFeatures
    from saree_app.model.predict import Predictor, default_model_path

    if not default_model_path().exists() or ClothFeatures.shipped() is None or not _samples():
        pytest.skip("needs the shipped model, its cloth features and the bundled samples")
    return Predictor(None, threads=2)


def _schema(monkeypatch: pytest.MonkeyPatch, version: int) -> None:
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:version])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", version)


def _import(path: Path, folder: Path, predictor: Any) -> None:
    from saree_app.collection.importer import run_import

    with Catalog(path) as cat:
        last = run_import(cat, folder, predictor, batch_size=4)
        assert last.added == len(_samples())


def _import_taught(path: Path, predictor: Any) -> None:
    """The bundled samples imported, every photo confirmed as one of two traditions."""
    _import(path, paths.samples_dir(), predictor)
    with Catalog(path) as cat:
        for n, pid in enumerate(p.id for p in cat.photos()):
            cat.set_label(pid, tradition="Odd" if n % 2 else "Even", certainty="confirmed")


def _bytes_per_photo(path: Path, tmp: Path) -> float:
    """What each photo adds to the file, after VACUUM, beyond the same catalogue emptied."""
    full, empty = tmp / "full.saree", tmp / "empty.saree"
    for copy in (full, empty):
        copy.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    n = db.execute("SELECT count(*) FROM photos").fetchone()[0]
    db.execute(f"VACUUM INTO '{full}'")
    db.close()
    size = full.stat().st_size
    db = sqlite3.connect(full, isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in ("photos", "models", "terms"):
        if table in tables:
            db.execute(f"DELETE FROM {table}")
    db.execute(f"VACUUM INTO '{empty}'")
    db.close()
    return (size - empty.stat().st_size) / n


def _state(cat: Catalog) -> dict[str, Any]:
    """What a curator sees of the catalogue: every answer, every vector, similar photos by
    each part, and what teaching scores each photo."""
    from saree_app.collection.fewshot import CLOTH_PARTS, FewShot, features_of
    from saree_app.collection.similar import search

    sha = cat.latest_model()
    assert sha is not None
    ids = [p.id for p in cat.photos()]
    out: dict[str, Any] = {"answers": {i: cat.prediction(i, sha) for i in ids}}
    out["vectors"] = {k: cat.embeddings(sha, k) for k in catalog_mod.EMBEDDING_KINDS}
    out["similar"] = {
        (i, part): [(m.photo_id, round(m.score, 3)) for m in search(cat, i, part=part, k=5)]
        for i in ids[:6]
        for part in ("whole", "border")
    }
    teach = FewShot.from_catalog(cat, sha, parts=CLOTH_PARTS, min_examples=2, fit=False)
    feats = features_of(cat, sha, CLOTH_PARTS, ids)
    out["teaching"] = {i: teach.scores_of(feats[i]) for i in ids}
    return out


def test_a_schema_10_catalogue_is_made_slim_on_opening_and_answers_as_before(
    predictor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model.cloth import BLOCKS

    path = tmp_path / "v10.saree"
    _schema(monkeypatch, 10)
    _import_taught(path, predictor)
    with Catalog(path) as cat:
        before = _state(cat)
    old_size = _bytes_per_photo(path, tmp_path)
    monkeypatch.undo()
    _schema(monkeypatch, catalog_mod.CLOTH_READS)  # the cloth at 4 bits has its own test
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.CLOTH_READS >= catalog_mod.SLIM
        after = _state(cat)
        assert cat.integrity_problems() == []
        assert cat.run("SELECT type FROM sqlite_master WHERE name = 'embeddings'") == [("view",)]
        heads = cat.run("SELECT length(vector) FROM vectors WHERE part = 'cloth'")
        tiles = cat.run("SELECT length(vector) FROM vectors WHERE part = 'cloth_tiles'")
    assert after["answers"] == before["answers"]  # every answer as it was, to the last digit
    assert after["similar"] == before["similar"]
    for part in ("whole", "body", "border", "pallu"):
        assert np.array_equal(after["vectors"][part][0], before["vectors"][part][0])
        assert np.array_equal(after["vectors"][part][1], before["vectors"][part][1])
    for part in ("cloth", "cloth_tiles"):
        old, new = before["vectors"][part][1], after["vectors"][part][1]
        assert new.shape == old.shape
        assert np.abs(new - old).max() < 5e-3  # the mean of tiles made again, within int8's
    for pid, scores in before["teaching"].items():
        assert after["teaching"][pid].keys() == scores.keys()
        for t, s in scores.items():
            assert after["teaching"][pid][t] == pytest.approx(s, abs=1e-3)
    # The cloth heads keep the whole picture alone; the file gives its space back.
    dim = before["vectors"]["cloth"][1].shape[1] // 2
    assert {h for (h,) in heads} == {1 + 4 + dim}
    assert {t for (t,) in tiles} == {1 + 4 * (BLOCKS - 2) + (BLOCKS - 2) * dim}
    new_size = _bytes_per_photo(path, tmp_path)
    print(f"bytes per photo: schema 10 {old_size:.0f}, migrated to 11 {new_size:.0f}")
    assert new_size < old_size * SLIM_SHARE, (old_size, new_size)
    assert path.stat().st_size < (old_size * SLIM_SHARE + 64_000) * len(_samples()) + 200_000


def test_a_photo_imported_now_takes_under_the_bound_and_reads_back_as_at_schema_10(
    predictor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _schema(monkeypatch, 10)
    _import(tmp_path / "v10.saree", paths.samples_dir(), predictor)
    with Catalog(tmp_path / "v10.saree") as cat:
        old = {p.path: cat.prediction(p.id) for p in cat.photos()}
    monkeypatch.undo()
    _import(tmp_path / "v11.saree", paths.samples_dir(), predictor)
    with Catalog(tmp_path / "v11.saree") as cat:
        new = {p.path: cat.prediction(p.id) for p in cat.photos()}
        sha = cat.latest_model()
        assert cat.run("SELECT count(*) FROM models") == [(1,)]
        assert cat.run("SELECT count(DISTINCT model) FROM vectors") == [(1,)]
        # Each photo's cloth tiles kept with the side they were read at (schema 12).
        read_at = cat.cloth_tile_sizes(str(sha))
        assert len(read_at) == len(new) and set(read_at.values()) == {predictor.cloth.tile_size}
    assert new.keys() == old.keys()
    for key, stored in new.items():
        assert stored is not None and old[key] is not None
        assert stored.result == old[key].result
        assert stored.result["model_sha256"] == sha
        assert stored.result["ranking"][0]["label"]  # labels come back from the terms table
    size = _bytes_per_photo(tmp_path / "v11.saree", tmp_path)
    print(f"bytes per photo at schema 11: {size:.0f}")
    assert size < SLIM_BYTES, size


# -- the slim answer on its own ----------------------------------------------------------------


def _answer(seed: int, label: str = "Tradition 0") -> dict[str, Any]:
    """Shaped like a compacted Prediction.to_dict()."""
    return {
        "source": f"photo-{seed}.jpg",
        "model_sha256": SHA,
        "photo_size": [751, 750],
        "tradition": "Tradition0",
        "label": label,
        "probability": 0.5 + seed / 100,
        "uncertain": True,
        "uncertain_reasons": ["the model sees little evidence", f"weak: only {seed}%"],
        "ranking": [
            {
                "tradition": f"Tradition{t}",
                "label": label if t == 0 else f"Tradition {t}",
                "probability": round(1 / (t + 2 + seed), 6),
                "score": -0.5 * t,
                "known_to_model": t < 2,
                "evidence": [
                    {"kind": "visual", "contribution": 0.25 * t},
                    {"kind": "attribute", "contribution": -0.125},
                ],
            }
            for t in range(5)
        ],
        "visual": [[f"Tradition{t}", 1 / (t + 2)] for t in range(4)],
        "states": [{"region": "TamilNadu", "label": "Tamil Nadu", "probability": 0.7}],
        "cultural_regions": [{"region": "SouthIndia", "label": "South India", "probability": 1}],
        "part_map": "model",
        "parts": [{"part": "body", "area": 0.2, "ranking": [["Tradition1", 0.4]]}],
        "attributes": [{"term": "Ikat", "label": "ikat", "probability": 0.25}],
        "open_set": {"nearest_prototype": "Tradition3", "top_probability": 0.7},
        "answer_set": {"traditions": ["Tradition0", "Tradition2"], "level": 0.9},
        "fewshot": {"Tradition0": 0.5},
    }


def _put(cat: Catalog, pid: int, answer: dict[str, Any], sha: str = SHA) -> dict[str, Any]:
    cat.put_prediction(pid, sha, answer, top_tradition="x", top_probability=0.5, uncertain=False)
    stored = cat.prediction(pid, sha)
    assert stored is not None
    return stored.result


def test_answers_come_back_whole_whatever_their_labels_and_shape(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(8)]
        answers = [
            _answer(0),
            _answer(1, label="Another name"),  # a term's label that is not the one kept
            {**_answer(2), "model_sha256": "f" * 64},  # another model's sha256 in it
            {**_answer(3), "tradition": 3},  # a number where a term belongs: kept as before
            {**_answer(4), "ranking": "~"},  # shapes it does not know are kept as they are
            {"ranking": [{"tradition": "Tradition9", "probability": 1}], "visual": []},
            {**_answer(6), "attributes": [{"term": "Ikat", "probability": 0.5}]},
            {**_answer(7), "uncertain_reasons": ["why", 7]},  # ambiguous too
        ]
        for pid, answer in zip(ids, answers, strict=True):
            assert _put(cat, pid, answer) == answer
            assert json.dumps(_put(cat, pid, answer)) == json.dumps(answer)  # key order too
        kinds = cat.run("SELECT substr(result, 1, 1) FROM predictions ORDER BY photo_id")
        assert [k for (k,) in kinds].count(b"\x03") == 6  # all but the two ambiguous ones
        # A reason in words is kept once, one with a figure in it in each answer.
        terms = {t for (t,) in cat.run("SELECT term FROM terms")}
        assert "the model sees little evidence" in terms and "weak: only 1%" not in terms
    # Another program reading the same file gets the same answers (its own terms read).
    with Catalog(tmp_path / "c.saree") as cat:
        for pid, answer in zip(ids, answers, strict=True):
            stored = cat.prediction(pid, SHA)
            assert stored is not None and stored.result == answer


def test_a_term_first_seen_without_its_label_keeps_the_label_given_later(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        a, b = (cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(2))
        first = {"visual": [["Tradition4", 0.5]], "tradition": "Tradition4"}
        assert _put(cat, a, first) == first
        assert _put(cat, b, _answer(1)) == _answer(1)
        assert cat.run("SELECT label FROM terms WHERE term = 'Tradition4'") == [("Tradition 4",)]
        assert cat.prediction(a, SHA).result == first  # type: ignore[union-attr]


def test_a_write_rolled_back_leaves_no_term_behind_it(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = cat.add_photo(NewPhoto("/p/0.jpg", "0" * 64, 1))
        with pytest.raises(RuntimeError), cat.transaction():
            _put(cat, pid, _answer(0))
            raise RuntimeError("stop")
        assert cat.run("SELECT count(*) FROM terms") == [(0,)]
        answer = {**_answer(0), "label": "Renamed"}
        assert _put(cat, pid, answer) == answer


def test_vectors_written_by_the_embeddings_name_are_read_as_the_catalogue_writes_them(
    tmp_path: Path,
) -> None:
    """What writes "embeddings" itself (bench similar's bulk writer) still can: a view whose
    triggers keep the model's number, and the counter moves with each write."""
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(3)]
        rng = np.random.default_rng(0)
        vecs = rng.normal(size=(3, 16)).astype(np.float32)
        cat.put_embeddings(ids[0], SHA, vecs[0])
        before = cat.generations()["embeddings"]
        with cat.transaction():
            cat.run(
                "INSERT INTO embeddings (photo_id, model_sha256, part, vector)"
                " VALUES (?, ?, 'whole', ?), (?, ?, 'whole', ?)",
                (
                    ids[1],
                    SHA,
                    catalog_mod._blob(vecs[1]),
                    ids[2],
                    "a" * 64,
                    catalog_mod._blob(vecs[2]),
                ),
            )
        assert cat.generations()["embeddings"] > before
        got, matrix = cat.embeddings(SHA)
        assert got.tolist() == ids[:2]
        # At 4 bits a value (schema 14): within half a step of the largest value.
        assert np.abs(matrix - vecs[:2]).max() <= np.abs(vecs[:2]).max() / 14 + 1e-6
        assert cat.embeddings("a" * 64)[0].tolist() == [ids[2]]
        # A model first named by its vectors is registered as it would have been.
        assert cat.latest_model() is None or cat.latest_model() == SHA
        cat.register_model("a" * 64, name="later", labels=["X"])
        assert cat.latest_model() == "a" * 64 and cat.model_labels("a" * 64) == ["X"]
        cat.run("DELETE FROM embeddings WHERE photo_id = ?", (ids[1],))
        assert cat.embeddings(SHA)[0].tolist() == ids[:1]
        assert cat.run("SELECT count(*) FROM vectors") == [(2,)]


@pytest.mark.parametrize("bits", [8, 4])  # schema 12; from 13 the cloth at 4 bits a value
def test_cloth_features_are_kept_slim_and_read_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bits: int
) -> None:
    from saree_app.model.cloth import BLOCKS, TILES, views

    if bits == 8:
        _schema(monkeypatch, catalog_mod.CLOTH_READS)

    rng = np.random.default_rng(3)
    dim = 48
    raw = np.abs(rng.normal(size=(4, 1 + TILES * TILES, dim))).astype(np.float32)

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    given = np.concatenate(
        [unit(raw[:, 0]), unit(raw[:, 1:].mean(axis=1)), unit(raw[:, 1:]).reshape(4, -1)], 1
    )
    # The third photo's mean of tiles is not one its tiles make: kept whole.
    given[2, dim : 2 * dim] = unit(rng.normal(size=dim))
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(4)]
        for pid, vec in zip(ids, given, strict=True):
            cat.put_embeddings(pid, SHA, None, cloth=vec)
        sql = "SELECT length(vector) FROM vectors WHERE part = 'cloth' ORDER BY photo_id"
        widths = cat.run(sql)
        size = dim * bits // 8
        assert [w for (w,) in widths] == [1 + 4 + size] * 2 + [1 + 8 + 2 * size] + [1 + 4 + size]
        _, heads = cat.embeddings(SHA, "cloth")
        _, tiles = cat.embeddings(SHA, "cloth_tiles")
        joined = np.concatenate([heads, tiles], axis=1)
        assert joined.shape == (4, BLOCKS * dim)
        assert np.abs(joined - given).max() < (0.02 if bits == 8 else 0.12)
        for i, pid in enumerate(ids):
            one = cat.embedding(pid, SHA, "cloth")
            assert one is not None and np.array_equal(one, heads[i])
            assert views(joined[i]) is not None  # every block unit length, as cloth.py wants
            # Each block (the mean of tiles made again among them) as given, to the rounding.
            blocks = joined[i].reshape(BLOCKS, dim) @ given[i].reshape(BLOCKS, dim).T
            assert np.diag(blocks).min() > (1 - 2e-4 if bits == 8 else 0.98)


def test_a_schema_12_catalogue_gets_its_cloth_at_4_bits_on_opening(
    predictor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model.cloth import BLOCKS

    path = tmp_path / "v12.saree"
    _schema(monkeypatch, catalog_mod.CLOTH_READS)
    _import_taught(path, predictor)
    with Catalog(path) as cat:
        before = _state(cat)
        old_rows = dict(cat.run("SELECT photo_id || part, vector FROM vectors"))
        # A cloth row damaged by hand is left as it is, not lost.
        damaged = cat.run("SELECT photo_id FROM vectors WHERE part = 'cloth' LIMIT 1")[0][0]
        cat.run(
            "UPDATE vectors SET vector = x'00' WHERE photo_id = ? AND part = 'cloth'", (damaged,)
        )
    old_size = _bytes_per_photo(path, tmp_path)
    monkeypatch.undo()
    _schema(monkeypatch, catalog_mod.NIBBLES)  # the model's embeddings have their own test
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.NIBBLES
        rows = dict(cat.run("SELECT photo_id || part, vector FROM vectors"))
        assert rows[f"{damaged}cloth"] == b"\x00"
        cat.run(
            "UPDATE vectors SET vector = ? WHERE photo_id = ? AND part = 'cloth'",
            (old_rows[f"{damaged}cloth"], damaged),
        )
        after = _state(cat)
    assert rows.keys() == old_rows.keys()
    dim = before["vectors"]["cloth"][1].shape[1] // 2
    for key, old in old_rows.items():
        if key.endswith(("cloth_tiles", "cloth")):
            if key == f"{damaged}cloth":
                continue
            new = rows[key]
            assert new[0] == old[0] | 0x40  # the same blocks and mark, at 4 bits
            assert len(new) == len(old) - ((len(old) - 1) // (4 + dim)) * dim // 2
        else:
            assert rows[key] == old  # the model's embeddings as they were, byte for byte
    assert after["answers"] == before["answers"]
    assert after["similar"] == before["similar"]
    for part in ("cloth", "cloth_tiles"):
        old_v, new_v = before["vectors"][part][1], after["vectors"][part][1]
        assert new_v.shape == old_v.shape
        n = new_v.shape[1] // dim
        cos = np.einsum("pbd,pbd->pb", new_v.reshape(-1, n, dim), old_v.reshape(-1, n, dim))
        assert cos.min() > 0.95 and np.median(cos) > 0.98  # 4 bits' rounding, no more
        assert not np.array_equal(new_v, old_v)
    assert before["vectors"]["cloth_tiles"][1].shape[1] == (BLOCKS - 2) * dim
    for pid, scores in before["teaching"].items():
        assert after["teaching"][pid].keys() == scores.keys()
        for t, s in scores.items():
            assert after["teaching"][pid][t] == pytest.approx(s, abs=3e-2)
    new_size = _bytes_per_photo(path, tmp_path)
    print(f"bytes per photo: schema 12 {old_size:.0f}, migrated to 13 {new_size:.0f}")
    # Half of each cloth row given back (page rounding takes some on a few photos).
    assert new_size < old_size - 0.6 * (BLOCKS - 1) * dim / 2, (old_size, new_size)


# -- schema 14: answers without what follows from them, on 16 KiB pages -------------------------


def _raw_lean(value: bytes) -> Any:
    """A lean answer as stored, before what it left out is made again."""
    inflate = zlib.decompressobj(-15, zdict=catalog_mod._ANSWER_WORDS)
    return json.loads(inflate.decompress(value[1:]) + inflate.flush())


def _fused(seed: int) -> dict[str, Any]:
    """Shaped like a compacted answer whose ranking fusion made: each score the sum of its
    evidence, each probability the softmax of the scores, both to 6 decimals."""
    rng = np.random.default_rng(seed)
    answer = _answer(seed)
    contributions = rng.normal(0, 2, size=(6, 3)).round(6)
    scores = contributions.sum(axis=1)
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    answer["ranking"] = [
        {
            "tradition": f"Tradition{t}",
            "label": f"Tradition {t}",
            "probability": round(float(probs[t]), 6),
            "score": round(float(scores[t]), 6),
            "known_to_model": bool(t < 3),
            "evidence": [
                {"kind": kind, "contribution": float(c)}
                for kind, c in zip(("visual", "attribute", "other"), contributions[t], strict=True)
            ],
        }
        for t in map(int, np.argsort(-probs))
    ]
    return answer


def test_the_words_lean_answers_are_packed_against_never_change() -> None:
    # An answer packed against other words cannot be read back: they are part of the format.
    digest = hashlib.sha256(catalog_mod._ANSWER_WORDS).hexdigest()
    assert digest == "4d35d0efe6988cb2655f409f34e5146521153d37340172e21d1a068e53ece5b0"


def test_a_lean_answer_leaves_out_only_figures_that_come_back_the_same(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        ids = [cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(7)]
        fused = _fused(0)
        off = _fused(1)
        # A score that is not the sum of its evidence is kept as it is.
        off["ranking"][1]["evidence"][0]["contribution"] += 0.5
        off["ranking"][2]["probability"] = 0.123456  # not the softmax: kept too
        marked = _fused(2)
        marked["ranking"][0]["score"] = "="  # the mark itself as a figure: packed as before
        nudged = _fused(5)  # scores a millionth off their evidence's sum: left out too
        nudged["ranking"][0]["score"] = round(nudged["ranking"][0]["score"] + 1e-6, 6)
        nudged["ranking"][1]["score"] = round(nudged["ranking"][1]["score"] - 1e-6, 6)
        odd = _fused(6)
        odd["ranking"][0]["probability"] = [0.5]  # a shape it does not expect: kept as it is
        answers = [fused, off, marked, _answer(3), {**_fused(4), "ranking": []}, nudged, odd]
        for pid, answer in zip(ids, answers, strict=True):
            assert json.dumps(_put(cat, pid, answer)) == json.dumps(answer)  # to the last digit
        raw = dict(cat.run("SELECT photo_id, result FROM predictions"))
    assert [raw[i][:1] for i in ids] == [b"\x03"] * 2 + [b"\x02"] + [b"\x03"] * 4
    rows = _raw_lean(raw[ids[5]])["ranking"][1:]
    assert [r[3] for r in rows[:2]] == ["=+", "=-"] and [r[3] for r in rows[2:]] == ["="] * 4
    rows = _raw_lean(raw[ids[0]])["ranking"][1:]
    assert all(r[2] == "=" and r[3] == "=" for r in rows)  # every one made again on reading
    rows = _raw_lean(raw[ids[1]])["ranking"][1:]
    assert rows[1][3] == off["ranking"][1]["score"] and rows[2][2] == 0.123456
    # The other probabilities follow from the scores, the one kept among them.
    assert [r[2] for k, r in enumerate(rows) if k != 2] == ["="] * 5
    assert sum(r[3] == "=" for r in rows) == 5
    # Another program reading the same file gets the same answers.
    with Catalog(tmp_path / "c.saree") as cat:
        for pid, answer in zip(ids, answers, strict=True):
            stored = cat.prediction(pid, SHA)
            assert stored is not None and json.dumps(stored.result) == json.dumps(answer)
        # A lean answer cut short is named, not read as something else.
        cat.run("UPDATE predictions SET result = substr(result, 1, 40) WHERE photo_id = ?", (1,))
        with pytest.raises(CatalogError, match="photo 1: its stored answer is damaged"):
            cat.prediction(1, SHA)


def test_a_new_catalogue_has_large_pages(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        assert cat.run("PRAGMA page_size") == [(catalog_mod.PAGE_SIZE,)]
        assert cat.run("PRAGMA journal_mode") == [("wal",)]


def test_a_schema_13_catalogue_gets_lean_answers_and_large_pages_on_opening(
    predictor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v13.saree"
    _schema(monkeypatch, catalog_mod.NIBBLES)
    monkeypatch.setattr(catalog_mod, "PAGE_SIZE", 4096)  # as the app made files then
    _import_taught(path, predictor)
    with Catalog(path) as cat:
        before = _state(cat)
        old = dict(cat.run("SELECT photo_id, result FROM predictions"))
        generation = cat.run("SELECT value FROM meta WHERE key = 'predictions_generation'")
        assert cat.run("PRAGMA page_size") == [(4096,)]
    assert {v[:1] for v in old.values()} == {b"\x02"}
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= catalog_mod.LEAN
        assert cat.run("PRAGMA page_size") == [(catalog_mod.PAGE_SIZE,)]
        assert cat.run("PRAGMA journal_mode") == [("wal",)]
        assert cat.integrity_problems() == []
        after = _state(cat)
        new = dict(cat.run("SELECT photo_id, result FROM predictions"))
        # The answers mean what they meant: what was derived from them stays valid.
        assert cat.run("SELECT value FROM meta WHERE key = 'predictions_generation'") == generation
    # Every answer and teaching score the same; the cloth features as they were, the model's
    # embeddings at 4 bits.
    for key in ("answers", "teaching"):
        assert after[key] == before[key]
    for part, (ids, vectors) in before["vectors"].items():
        assert np.array_equal(after["vectors"][part][0], ids)
        if part.startswith("cloth"):
            assert np.array_equal(after["vectors"][part][1], vectors)
            continue
        now_v = after["vectors"][part][1]
        cos = (
            (now_v * vectors).sum(1)
            / np.linalg.norm(now_v, axis=1)
            / np.linalg.norm(vectors, axis=1)
        )
        assert cos.min() > 0.97 and np.median(cos) > 0.99, part  # 4 bits' rounding, no more
        assert not np.array_equal(now_v, vectors)
    with Catalog(path) as cat:
        rows = cat.run("SELECT part, vector FROM vectors")
    assert {part for part, v in rows if v[0] & catalog_mod._NIBBLES} == set(
        catalog_mod.EMBEDDING_KINDS
    )
    assert all(v[0] & catalog_mod._NIBBLES for _, v in rows)  # every row at 4 bits
    assert new.keys() == old.keys() and {v[:1] for v in new.values()} == {b"\x03"}
    # Fusion's scores and probabilities follow from their evidence: most are left out.
    left_out = [x == "=" for v in new.values() for r in _raw_lean(v)["ranking"][1:] for x in r[2:4]]
    assert sum(left_out) > 0.6 * len(left_out)
    saved = sum(map(len, old.values())) - sum(map(len, new.values()))
    print(
        f"answers: {sum(map(len, old.values())) / len(old):.0f} -> "
        f"{sum(map(len, new.values())) / len(new):.0f} bytes"
    )
    assert saved > 0.25 * sum(map(len, old.values()))


def test_a_catalogue_open_elsewhere_is_upgraded_and_gets_its_pages_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v13.saree"
    _schema(monkeypatch, catalog_mod.NIBBLES)
    monkeypatch.setattr(catalog_mod, "PAGE_SIZE", 4096)
    with Catalog(path) as cat:
        ids = [cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(6)]
        answers = [_fused(i) for i in range(6)]
        for pid, answer in zip(ids, answers, strict=True):
            _put(cat, pid, answer)
    monkeypatch.undo()
    other = sqlite3.connect(path)  # another program has it open, reading
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM photos").fetchone()
    try:
        with Catalog(path, timeout=0.5) as cat:
            assert cat.schema_version == catalog_mod.SCHEMA_VERSION
            assert cat.run("PRAGMA page_size") == [(4096,)]  # not now: nothing lost
            for pid, answer in zip(ids, answers, strict=True):
                stored = cat.prediction(pid, SHA)
                assert stored is not None and json.dumps(stored.result) == json.dumps(answer)
    finally:
        other.close()
    with Catalog(path) as cat:  # the next time it is opened alone
        assert cat.run("PRAGMA page_size") == [(catalog_mod.PAGE_SIZE,)]
        assert cat.run("PRAGMA journal_mode") == [("wal",)]
        assert cat.integrity_problems() == []
        for pid, answer in zip(ids, answers, strict=True):
            stored = cat.prediction(pid, SHA)
            assert stored is not None and json.dumps(stored.result) == json.dumps(answer)


def test_a_taught_answer_keeps_its_spread_and_stays_lean(tmp_path: Path) -> None:
    """After teaching, probabilities are softmax(score / spread) (fusion.FusionWeights): the
    answer keeps its spread, so they are still left out of the stored row and made again."""
    taught = _fused(8)
    scores = [float(e["score"]) for e in taught["ranking"]]
    want = np.exp((np.array(scores) - max(scores)) / 3.0)
    want /= want.sum()
    for entry, p in zip(taught["ranking"], want, strict=True):
        entry["probability"] = round(float(p), 6)
    taught = {"spread": 3.0, **taught}
    plain = _fused(8)
    with Catalog(tmp_path / "c.saree") as cat:
        a, b = (cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1)) for i in range(2))
        assert json.dumps(_put(cat, a, taught)) == json.dumps(taught)
        assert json.dumps(_put(cat, b, plain)) == json.dumps(plain)
        raw = dict(cat.run("SELECT photo_id, result FROM predictions"))
    for pid in (a, b):
        rows = _raw_lean(raw[pid])["ranking"][1:]
        assert all(r[2] == "=" for r in rows)  # every probability made again on reading
    assert taught["ranking"][0]["probability"] < plain["ranking"][0]["probability"]
