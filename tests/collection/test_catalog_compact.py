"""Stored answers are compressed (schema 7), and older catalogues are rewritten on opening."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from saree_app.collection import catalog as catalog_mod
from saree_app.collection.catalog import Catalog, NewPhoto

SHA = "d" * 64


def _answer(seed: int) -> dict[str, Any]:
    """Shaped like Prediction.to_dict(): 27 ranked traditions, each with about a dozen lines
    of evidence in words, attributes, roll-ups."""
    ranking = []
    for t in range(27):
        evidence = [
            {
                "kind": "attribute",
                "term": f"Motif{e}",
                "path": [f"Tradition{t}", "hasAttribute", f"Motif{e}"],
                "typicality": 0.8,
                "observed": 0.123456789 * (e + 1) / (seed + 2),
                "contribution": 0.0271828182845 * (e - 5) * (t + 1),
                "text": f"Tradition{t} -> has motif -> motif {e} (typicality 0.80); seen "
                f"with p = {0.1 * e:.2f}: {0.03 * (e - 5):+.2f}",
            }
            for e in range(12)
        ]
        ranking.append(
            {
                "tradition": f"Tradition{t}",
                "label": f"Tradition {t}",
                "probability": 1 / (t + 2),
                "score": -0.5 * t,
                "known_to_model": t < 12,
                "evidence": evidence,
            }
        )
    return {
        "source": f"photo-{seed}.jpg",
        "tradition": "Tradition0",
        "probability": 0.5,
        "uncertain": False,
        "uncertain_reasons": [],
        "ranking": ranking,
        "visual": [[f"Tradition{t}", 1 / (t + 2)] for t in range(12)],
        "attributes": [
            {"term": f"Motif{a}", "label": f"motif {a}", "probability": a / 40} for a in range(40)
        ],
    }


def _record(cat: Catalog, i: int, result: dict[str, Any]) -> int:
    return cat.record(
        NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
        SHA,
        result,
        top_tradition="Tradition0",
        top_probability=0.5,
        uncertain=False,
        embedding=None,
        part_embeddings=None,
    )


def _close(a: Any, b: Any) -> bool:
    """Equal as JSON keeps them: every number to the last digit."""
    return bool(json.loads(json.dumps(a)) == b)


def _by_kind(answer: dict[str, Any]) -> list[dict[str, float]]:
    """Each ranked tradition's evidence summed by kind."""
    out = []
    for entry in answer["ranking"]:
        kinds: dict[str, float] = {}
        for e in entry["evidence"]:
            kinds[e["kind"]] = kinds.get(e["kind"], 0.0) + e["contribution"]
        out.append(kinds)
    return out


def test_an_answer_is_kept_as_what_its_ranking_is_made_from(tmp_path: Path) -> None:
    """The evidence in words is summed by kind; everything else comes back as it went in,
    in a twentieth of the space."""
    answer = _answer(0)
    answer["ranking"][3]["evidence"].append(
        {"kind": "fewshot", "term": "x", "contribution": 0.25, "text": "taught"}
    )
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 0, answer)
        stored = cat.prediction(pid, SHA)
        assert stored is not None
        assert cat.predictions(SHA)[pid].result == stored.result
    result = stored.result
    assert _close(
        {k: v for k, v in result.items() if k != "ranking"},
        {k: v for k, v in answer.items() if k != "ranking"},
    )
    for got, want in zip(result["ranking"], answer["ranking"], strict=True):
        assert _close(
            {k: v for k, v in got.items() if k != "evidence"},
            {k: v for k, v in want.items() if k != "evidence"},
        )
        assert all(set(e) == {"kind", "contribution"} for e in got["evidence"])
    for got, want in zip(_by_kind(result), _by_kind(answer), strict=True):
        assert got.keys() == want.keys()
        assert all(abs(got[k] - want[k]) < 1e-6 for k in want)
    assert [e["kind"] for e in result["ranking"][3]["evidence"]] == ["attribute", "fewshot"]
    # Compacting a compacted answer changes nothing.
    assert catalog_mod.compact_answer(result) == result
    db = sqlite3.connect(tmp_path / "c.saree")
    kind, size = db.execute("SELECT typeof(result), length(result) FROM predictions").fetchone()
    db.close()
    assert kind == "blob"
    assert size < len(json.dumps(answer, separators=(",", ":"))) / 20


def test_a_schema_6_catalogue_has_its_answers_compressed_on_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v6.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:6])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 6)
    monkeypatch.setattr(catalog_mod, "pack_result", json.dumps)  # as schema 6 stored them
    answers = [_answer(i) for i in range(3)]
    with Catalog(path) as cat:
        ids = [_record(cat, i, a) for i, a in enumerate(answers)]
        # An answer that is not JSON (damaged by hand) is left alone by the migration.
        cat.run("UPDATE predictions SET result = '{not json' WHERE photo_id = ?", (ids[2],))
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= 7
        for pid, answer in zip(ids[:2], answers[:2], strict=True):
            stored = cat.prediction(pid, SHA)
            assert stored is not None
            assert _close(stored.result, catalog_mod.compact_answer(answer))
        with pytest.raises(ValueError):
            cat.prediction(ids[2], SHA)
    db = sqlite3.connect(path)
    kinds = [r[0] for r in db.execute("SELECT typeof(result) FROM predictions ORDER BY rowid")]
    db.close()
    assert kinds == ["blob", "blob", "text"]


def test_a_damaged_compressed_answer_is_named(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid = _record(cat, 0, _answer(0))
        cat.run("UPDATE predictions SET result = x'00ff00ff' WHERE photo_id = ?", (pid,))
        with pytest.raises(catalog_mod.CatalogError, match=f"photo {pid}: its stored answer"):
            cat.prediction(pid, SHA)


def _record_vectors(
    cat: Catalog, i: int, whole: np.ndarray, parts: np.ndarray, cloth: np.ndarray
) -> None:
    """Photo i with answer i and these vectors (parts as float32, as the app gives them)."""
    cat.record(
        NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
        SHA,
        _answer(i),
        top_tradition="Tradition0",
        top_probability=0.5,
        uncertain=False,
        embedding=whole,
        part_embeddings=parts.astype(np.float32),
        cloth_embedding=cloth,
    )


def test_a_schema_8_catalogue_is_made_compact_on_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embeddings float32 -> float16 (to its rounding), answers compacted, the file smaller."""
    path = tmp_path / "v8.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:8])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 8)
    monkeypatch.setattr(catalog_mod, "PAGE_SIZE", 4096)  # as the app made files then
    rng = np.random.default_rng(0)
    vectors = []
    with Catalog(path) as cat:
        for i in range(40):
            whole = rng.normal(size=128).astype(np.float32)
            whole /= np.linalg.norm(whole)
            cloth = rng.normal(size=11 * 32).astype(np.float32)
            vectors.append((whole, cloth))
            _record_vectors(cat, i, whole, rng.normal(size=(3, 128)), cloth)
        before = cat.embeddings(SHA)[1].copy()
        width = cat.run("SELECT length(vector) FROM embeddings WHERE part = 'whole'")[0][0]
        assert width == 128 * 4  # float32, as schema 8 stored them
    size_before = path.stat().st_size
    # Only as far as schema 9 (float16): schema 10's step is tested on its own below.
    monkeypatch.undo()
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:9])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 9)
    with Catalog(path) as cat:
        assert cat.schema_version == 9
        _ids, after = cat.embeddings(SHA)
        assert after.dtype == np.float32
        assert np.allclose(after, before, rtol=1e-3, atol=1e-4)
        assert np.array_equal(after, before.astype(np.float16).astype(np.float32))
        assert not np.array_equal(after, before)  # float16 now, not what was there
        width = cat.run("SELECT length(vector) FROM embeddings WHERE part = 'whole'")[0][0]
        assert width == 128 * 2
        for pid in (1, 40):
            stored = cat.prediction(pid, SHA)
            assert stored is not None
            assert _close(stored.result, catalog_mod.compact_answer(_answer(pid - 1)))
        cloth = cat.embedding(40, SHA, "cloth")
        assert cloth is not None and np.allclose(cloth, vectors[39][1], rtol=1e-3, atol=1e-4)
        stored = cat.run("SELECT sum(length(vector)) FROM embeddings")[0][0]
        assert stored == 40 * (4 * 128 + 11 * 32) * 2  # float16
    # The freed pages are given back to the disk.
    assert path.stat().st_size < size_before * 0.85


def test_a_schema_9_catalogue_has_its_vectors_quantized_on_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """float16 -> int8 blocks: each vector read back as float32 within its rounding, each
    cloth block as long as it was, the rows a little over half their size, answers kept."""
    from saree_app.model.cloth import BLOCKS

    path = tmp_path / "v9.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:9])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 9)
    rng = np.random.default_rng(1)
    dim = 64
    with Catalog(path) as cat:
        for i in range(30):
            whole = rng.normal(size=128).astype(np.float32)
            whole /= np.linalg.norm(whole)
            cloth = rng.normal(size=(BLOCKS, dim)).astype(np.float32)
            cloth /= np.linalg.norm(cloth, axis=1, keepdims=True)
            _record_vectors(cat, i, whole, rng.normal(size=(3, 128)), cloth.ravel())
        before = {part: cat.embeddings(SHA, part)[1].copy() for part in catalog_mod.EMBEDDING_KINDS}
        answer = cat.prediction(7, SHA)
        width = cat.run("SELECT length(vector) FROM embeddings WHERE part = 'whole'")[0][0]
        assert width == 128 * 2
    # Only as far as schema 10 (int8): schema 11's step is tested on its own.
    monkeypatch.undo()
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:10])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 10)
    with Catalog(path) as cat:
        assert cat.schema_version == 10
        for part, old in before.items():
            ids, new = cat.embeddings(SHA, part)
            assert new.dtype == np.float32 and new.shape == old.shape and len(ids) == 30
            assert not np.array_equal(new, old)  # int8 now, not what was there
            scale = np.abs(old).max(axis=1, keepdims=True)
            assert np.abs(new - old).max() <= float(scale.max()) / 127
        head = cat.embeddings(SHA, "cloth")[1].reshape(30, 2, dim)
        tiles = cat.embeddings(SHA, "cloth_tiles")[1].reshape(30, BLOCKS - 2, dim)
        assert np.allclose(np.linalg.norm(head, axis=2), 1, atol=1e-3)
        assert np.allclose(np.linalg.norm(tiles, axis=2), 1, atol=1e-3)
        w = before["whole"] / np.linalg.norm(before["whole"], axis=1, keepdims=True)
        assert np.abs(cat.embeddings(SHA)[1] @ w.T - w @ w.T).max() < 5e-3
        one = cat.embedding(3, SHA, "cloth_tiles")
        assert one is not None and np.array_equal(one, cat.embeddings(SHA, "cloth_tiles")[1][2])
        width = cat.run("SELECT length(vector) FROM embeddings WHERE part = 'whole'")[0][0]
        assert width == 1 + 4 + 128
        width = cat.run("SELECT length(vector) FROM embeddings WHERE part = 'cloth_tiles'")[0][0]
        assert width == 1 + 4 * (BLOCKS - 2) + (BLOCKS - 2) * dim
        assert cat.prediction(7, SHA) == answer


def test_a_value_float16_cannot_hold_is_refused_and_nothing_written(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        huge = np.full(4, 1e6, np.float32)
        with pytest.raises(catalog_mod.CatalogError, match="too large to store"):
            cat.record(
                NewPhoto("/p/x.jpg", "e" * 64, 10),
                SHA,
                _answer(0),
                top_tradition="Tradition0",
                top_probability=0.5,
                uncertain=False,
                embedding=huge,
                part_embeddings=None,
            )
        assert cat.photos() == []
        assert cat.embeddings(SHA)[0].size == 0


def _cloth_layout(rng: np.random.Generator, motif: np.ndarray, where: int) -> np.ndarray:
    """A cloth description in the tiled layout: whole | mean of tiles | nine tiles, each unit
    length; one tile (at `where`) shows the motif."""
    dim = motif.shape[0]
    tiles = [rng.normal(size=dim) for _ in range(9)]
    tiles[where] = motif + 0.3 * rng.normal(size=dim)
    blocks = [rng.normal(size=dim), np.mean(tiles, axis=0), *tiles]
    return np.concatenate([b / np.linalg.norm(b) for b in blocks]).astype(np.float32)


def _taught(path: Path, schema: int | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What teaching makes of the same twelve photos, four confirmed per tradition, in a
    catalogue of this schema (None: the current one)."""
    from saree_app.collection.fewshot import FewShot

    if schema is not None:
        monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:schema])
        monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", schema)
    rng = np.random.default_rng(21)
    motifs = {"Paithani": rng.normal(size=48), "Kotpad": rng.normal(size=48)}
    queries = []
    with Catalog(path) as cat:
        for i in range(12):
            t = ("Paithani", "Kotpad")[i % 2]
            v = rng.normal(size=24).astype(np.float32)
            v /= np.linalg.norm(v)
            cat.record(
                NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
                SHA,
                {"visual": [["Kanchipuram", 0.9], ["Banarasi", 0.1]], "attributes": []},
                top_tradition="Kanchipuram",
                top_probability=0.9,
                uncertain=False,
                embedding=v,
                part_embeddings=np.stack([v, v, v]),
                cloth_embedding=_cloth_layout(rng, motifs[t], where=i % 9),
            )
            queries.append(_cloth_layout(rng, motifs[t], where=(i + 4) % 9))
        for pid in range(1, 9):
            cat.set_label(pid, tradition=("Paithani", "Kotpad")[(pid - 1) % 2])
        monkeypatch.undo()
        fs = FewShot.from_catalog(cat, SHA)
        return fs, [fs.similarities_of(q) for q in queries]


@pytest.mark.parametrize(
    ("schema", "within"),
    [(12, 2e-3), (None, 2e-2)],  # 8 bits a value; the cloth features at 4 (schema 13)
)
def test_teaching_reads_smaller_vectors_as_it_read_float32(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema: int | None, within: float
) -> None:
    """The same photos taught from a float32 catalogue (schema 8) and a smaller one: the same
    close-ups matched, similarities within the rounding, the same nearest tradition."""
    old, old_sims = _taught(tmp_path / "v8.saree", 8, monkeypatch)
    new, new_sims = _taught(tmp_path / "new.saree", schema, monkeypatch)
    assert old.matches_views and new.matches_views
    assert old.parts == new.parts
    for a, b in zip(old_sims, new_sims, strict=True):
        assert a.keys() == b.keys() == {"Paithani", "Kotpad"}
        assert all(abs(a[t] - b[t]) < within for t in a)
        assert max(a, key=a.__getitem__) == max(b, key=b.__getitem__)
    # Neither is float32: the figures moved, if only in the rounding.
    assert any(a[t] != b[t] for a, b in zip(old_sims, new_sims, strict=True) for t in a)
