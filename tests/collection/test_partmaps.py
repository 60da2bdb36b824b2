"""Corrected part maps in the catalogue: stored, reverted, migrated, used at once and by the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app.cli import main
from saree_app.collection import catalog as catalog_mod
from saree_app.collection import partmaps
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto
from saree_app.collection.importer import run_import
from saree_app.collection.similar import search
from saree_app.model import partmap
from saree_app.model.partmap import PartMapError
from saree_app.synth.render import render

SHA = "b" * 64


def _new(i: int) -> NewPhoto:
    return NewPhoto(f"/photos/{i}.jpg", f"{i:064x}", 1000 + i, 40, 30, None, None)


def _add(cat: Catalog, i: int) -> int:
    vec = np.zeros(4, np.float32)
    vec[i % 4] = 1
    return cat.record(
        _new(i),
        SHA,
        {"i": i},
        top_tradition="Kanchipuram",
        top_probability=0.5,
        uncertain=False,
        embedding=vec,
        part_embeddings=np.stack([vec, -vec, vec * 2]),
    )


def _labels() -> np.ndarray:
    labels = np.zeros((partmap.MAP_SIDE, partmap.MAP_SIDE), np.uint8)
    labels[8:56, 8:40] = partmap.BODY
    labels[8:56, 40:48] = partmap.BORDER
    labels[8:20, 8:40] = partmap.PALLU
    return labels


def test_a_correction_round_trips_with_who_and_when(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat:
        pid, other = _add(cat, 1), _add(cat, 2)
        assert cat.part_map(pid) is None and cat.part_maps() == {}
        saved = cat.put_part_map(pid, _labels(), by="Meera")
        got = cat.part_map(pid)
        assert got is not None and np.array_equal(got.labels, _labels())
        assert (got.corrected_by, got.updated) == ("Meera", saved.updated)
        assert set(cat.part_maps()) == {pid}
        # A map of another size is stretched (nearest) to the stored grid.
        cat.put_part_map(other, np.ones((10, 20), np.uint8), by=None)
        small = cat.part_map(other)
        assert small is not None and small.labels.shape == (partmap.MAP_SIDE, partmap.MAP_SIDE)
        assert (small.labels == partmap.BODY).all()
        stored = cat._query("SELECT length(labels) FROM part_maps WHERE photo_id = ?", (pid,))
        assert stored[0][0] < 500  # compact: a small PNG
        # Bad maps and unknown photos change nothing.
        with pytest.raises(PartMapError, match="label 9"):
            cat.put_part_map(pid, np.full((4, 4), 9, np.uint8))
        with pytest.raises(CatalogError, match="no photo with id 99"):
            cat.put_part_map(99, _labels())
        got_again = cat.part_map(pid)
        assert got_again is not None and np.array_equal(got_again.labels, _labels())
        # Reverting drops it; reverting again says there was nothing to drop.
        assert cat.remove_part_map(pid) is True
        assert cat.part_map(pid) is None and cat.remove_part_map(pid) is False
        assert set(cat.part_maps()) == {other}
        assert cat.integrity_problems() == []


def test_version_3_file_gains_part_maps_and_keeps_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v3.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:3])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 3)
    with Catalog(path) as cat:
        ids = [_add(cat, i) for i in range(3)]
        cat.put_embeddings(ids[0], SHA, None, cloth=np.arange(5, dtype=np.float32))
        cat.set_label(ids[1], tradition="Banarasi", certainty="confirmed", note="old")
        cat.add_tags(ids[2], ["shelf 4"])
        with pytest.raises(CatalogError, match="no such table"):  # not in schema 3
            cat.put_part_map(ids[0], _labels())
        before = {
            "photos": cat.photos(),
            "border": cat.embeddings(SHA, "border")[1].copy(),
            "cloth": cat.embedding(ids[0], SHA, "cloth"),
            "label": cat.label(ids[1]),
            "history": cat.label_history(ids[1]),
            "tags": cat.all_tags(),
            "pred": cat.prediction(ids[2], SHA),
        }
    monkeypatch.undo()
    with Catalog(path) as cat:
        assert cat.schema_version == catalog_mod.SCHEMA_VERSION >= 4
        assert cat.photos() == before["photos"]
        assert np.array_equal(cat.embeddings(SHA, "border")[1], before["border"])
        # int8 with a scale from schema 10: within a step of the largest value.
        assert np.allclose(cat.embedding(ids[0], SHA, "cloth"), before["cloth"], atol=4 / 127)
        assert cat.label(ids[1]) == before["label"]
        assert cat.label_history(ids[1]) == before["history"]
        assert cat.all_tags() == before["tags"]
        assert cat.prediction(ids[2], SHA) == before["pred"]
        assert cat.part_maps() == {}
        cat.put_part_map(ids[0], _labels(), by="Meera")
        assert cat.part_map(ids[0]) is not None
        assert cat.integrity_problems() == []


# ---- with the real predictor (tiny model) and rendered photos


@pytest.fixture
def imported(tiny_model: Path, tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = []
    for i, tradition in enumerate(("Kanchipuram", "Banarasi", "PochampallyIkat", "Kanchipuram")):
        img, _mask, _attrs, _meta = render(tradition, i, size=160)
        paths.append(folder / f"{i}.png")
        img.save(paths[-1])
    from saree_app.model.predict import Predictor

    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    with Catalog(tmp_path / "c.saree") as cat:
        run_import(cat, folder, predictor, batch_size=4)
    return tmp_path / "c.saree", tiny_model, paths


def test_a_correction_changes_the_answer_and_part_embeddings_at_once(
    imported: tuple[Path, Path, list[Path]],
) -> None:
    from saree_app.model.predict import Predictor

    cat_path, model, paths = imported
    predictor = Predictor(model, threads=1, load_graph=False, cloth=False, person=False)
    sha = predictor.manifest.sha256
    with Catalog(cat_path) as cat:
        pid = cat.photo_by_path(str(paths[0])).id  # type: ignore[union-attr]
        model_border = cat.embedding(pid, sha, "border")
        model_answer = cat.prediction(pid, sha)
        assert model_answer is not None and model_answer.result["part_map"] == "model"
        saved, pred = partmaps.correct(cat, predictor, pid, _labels(), by="Meera")
        assert saved.corrected_by == "Meera" and pred.part_map is not None
        stored = cat.prediction(pid, sha)
        assert stored is not None and stored.result["part_map"] == "curator"
        areas = {p["part"]: p["area"] for p in stored.result["parts"]}
        assert areas["border"] == pytest.approx(float((_labels() == 2).mean()), abs=1e-6)
        new_border = cat.embedding(pid, sha, "border")
        assert new_border is not None and model_border is not None
        # 4 bits with a scale (schema 14): within a step of the largest value.
        step = float(np.abs(pred.part_embeddings[1]).max()) / 7
        assert np.allclose(new_border, pred.part_embeddings[1], rtol=0, atol=step)
        assert not np.array_equal(new_border, model_border)
        # The similar-by-part search asks with the corrected embedding.
        ids, matrix = cat.embeddings(sha, "border")
        assert np.allclose(matrix[list(ids).index(pid)], new_border)
        hits = search(cat, pid, part="border", k=3, model_sha256=sha)
        # Cosine: the stored rows are int8 blocks, unit length only to its rounding.
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        expected = unit @ (new_border / np.linalg.norm(new_border))
        best = [int(i) for i in ids[np.argsort(-expected)] if int(i) != pid][:3]
        assert [m.photo_id for m in hits] == best
        # The answer the app shows for the photo is the corrected one.
        again = partmaps.predict(cat, predictor, pid)
        assert again.part_map is not None
        assert again.visual_probs == pytest.approx(pred.visual_probs)
        # Revert: the model's map, answer and embeddings come back.
        back = partmaps.revert(cat, predictor, pid)
        assert back is not None and back.part_map is None
        assert cat.part_map(pid) is None
        restored = cat.embedding(pid, sha, "border")
        assert restored is not None and np.allclose(restored, model_border, atol=1e-6)
        reverted = cat.prediction(pid, sha)
        assert reverted is not None and reverted.result["part_map"] == "model"
        assert partmaps.revert(cat, predictor, pid) is None  # nothing left to revert


def test_a_bad_map_stores_nothing(imported: tuple[Path, Path, list[Path]]) -> None:
    from saree_app.model.predict import Predictor

    cat_path, model, paths = imported
    predictor = Predictor(model, threads=1, load_graph=False, cloth=False, person=False)
    with Catalog(cat_path) as cat:
        pid = cat.photo_by_path(str(paths[1])).id  # type: ignore[union-attr]
        before = cat.prediction(pid)
        with pytest.raises(PartMapError):
            partmaps.correct(cat, predictor, pid, np.full((8, 8), 5, np.uint8))
        assert cat.part_map(pid) is None and cat.prediction(pid) == before


# ---- the command


def _mask_file(path: Path, size: tuple[int, int]) -> Path:
    w, h = size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[h // 4 : 3 * h // 4, w // 4 : w // 2] = partmap.COLOURS["body"]
    rgb[h // 4 : 3 * h // 4, w // 2 : 3 * w // 4] = partmap.COLOURS["border"]
    Image.fromarray(rgb).save(path)
    return path


def test_saree_parts_from_mask_show_and_revert(
    imported: tuple[Path, Path, list[Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cat_path, model, paths = imported
    base = ["parts", "--catalog", str(cat_path), "--model", str(model)]
    # Any size: stretched over the photo.
    mask = _mask_file(tmp_path / "mask.png", (40, 24))
    assert main([*base, str(paths[2]), "--from-mask", str(mask), "--by", "Meera"]) == 0
    out = capsys.readouterr().out
    assert "corrected part map stored" in out and "corrected by Meera" in out
    assert "border   12.5% of the photo" in out and "pallu   not in the part map" in out
    written = tmp_path / "used.png"
    assert main([*base, str(paths[2]), "--to", str(written)]) == 0
    assert "corrected by Meera" in capsys.readouterr().out
    back = partmap.read_mask(written)
    assert (back == partmap.BORDER).mean() == pytest.approx(0.125, abs=0.01)
    assert main([*base, str(paths[2]), "--revert"]) == 0
    out = capsys.readouterr().out
    assert "back to the model's part map" in out and "the model's own" in out
    assert main([*base, str(paths[2]), "--revert"]) == 0
    assert "no correction to revert" in capsys.readouterr().out
    with Catalog(cat_path) as cat:
        assert cat.part_maps() == {}


def test_saree_parts_refuses_bad_masks_in_one_line(
    imported: tuple[Path, Path, list[Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cat_path, model, paths = imported
    base = ["parts", "--catalog", str(cat_path), "--model", str(model), str(paths[0])]
    odd = tmp_path / "odd.png"
    Image.fromarray(np.full((8, 8, 3), (12, 200, 7), np.uint8)).save(odd)
    assert main([*base, "--from-mask", str(odd)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saree parts: ") and err.count("\n") == 1
    assert "colour (12, 200, 7)" in err and "not a part colour" in err
    assert main([*base, "--from-mask", str(tmp_path / "missing.png")]) == 2
    assert "missing.png" in capsys.readouterr().err
    assert main(["parts", "--catalog", str(cat_path), "--model", str(model), "nope"]) == 2
    assert "not a catalogue id" in capsys.readouterr().err
    with Catalog(cat_path) as cat:
        assert cat.part_maps() == {}


def test_retraining_reads_the_corrected_maps(imported: tuple[Path, Path, list[Path]]) -> None:
    from saree_app.collection.training import CatalogueProblem, read_corrected_maps

    cat_path, _model, paths = imported
    with Catalog(cat_path) as cat:
        first = cat.photo_by_path(str(paths[0])).id  # type: ignore[union-attr]
        second = cat.photo_by_path(str(paths[1])).id  # type: ignore[union-attr]
        cat.put_part_map(first, _labels(), by="Meera")
        cat.put_part_map(second, _labels(), by="Meera")
    paths[1].write_bytes(paths[1].read_bytes() + b"changed")  # another photo now
    usable, left_out = read_corrected_maps(cat_path)
    assert [u.photo_id for u in usable] == [first]
    assert usable[0].path == paths[0] and usable[0].corrected_by == "Meera"
    assert np.array_equal(usable[0].labels, _labels())
    assert left_out == [(second, str(paths[1]))]
    empty = cat_path.with_name("empty.saree")
    empty.write_bytes(b"")
    with pytest.raises(CatalogueProblem, match="empty file"):
        read_corrected_maps(empty)


def test_a_new_model_answers_corrected_photos_under_their_maps(
    imported: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    from saree_app.model.predict import Predictor
    from saree_app.train.export import export_tiny_model

    cat_path, model, paths = imported
    first = Predictor(model, threads=1, load_graph=False, cloth=False, person=False)
    other_model = export_tiny_model(tmp_path / "other", seed=7, name="tiny-other")
    second = Predictor(other_model, threads=1, load_graph=False, cloth=False, person=False)
    assert second.manifest.sha256 != first.manifest.sha256
    with Catalog(cat_path) as cat:
        pid = cat.photo_by_path(str(paths[3])).id  # type: ignore[union-attr]
        partmaps.correct(cat, first, pid, _labels())
        run_import(cat, paths[0].parent, second, batch_size=4)
        stored = cat.prediction(pid, second.manifest.sha256)
        assert stored is not None and stored.result["part_map"] == "curator"
        expected = second.predict(paths[3], part_map=_labels())
        got = cat.embedding(pid, second.manifest.sha256, "border")
        # Stored at 4 bits with a scale: within a step of the largest value.
        assert got is not None
        step = float(np.abs(expected.part_embeddings[1]).max()) / 7
        assert np.allclose(got, expected.part_embeddings[1], rtol=0, atol=step)
        uncorrected = cat.photo_by_path(str(paths[0])).id  # type: ignore[union-attr]
        plain = cat.prediction(uncorrected, second.manifest.sha256)
        assert plain is not None and plain.result["part_map"] == "model"


def test_a_long_photos_correction_keeps_its_length(
    imported: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    """A saree laid out whole in one long photo (read in pieces): the curator's map is stored
    along its length, drawn on the usual square grid or at the photo's own shape."""
    from saree_app.model.predict import Predictor

    cat_path, model, _paths = imported
    predictor = Predictor(model, threads=1, load_graph=False, cloth=False, person=False)
    img, _mask, _a, _m = render("Kanchipuram", 5, 256)
    long = Image.new("RGB", (2048, 256), (200, 200, 200))
    for x in range(0, 2048, 256):
        long.paste(img, (x, 0))
    (tmp_path / "long").mkdir()
    path = tmp_path / "long" / "laid-out.jpg"
    long.save(path, quality=90)
    with Catalog(cat_path) as cat:
        run_import(cat, path.parent, predictor)
        pid = cat.photo_by_path(str(path.resolve())).id  # type: ignore[union-attr]
        drawn = np.full((partmap.MAP_SIDE, partmap.MAP_SIDE), partmap.BODY, np.uint8)
        drawn[:, 56:] = partmap.PALLU  # the last eighth: the pallu
        saved, pred = partmaps.correct(cat, predictor, pid, drawn, by="Meera")
        assert saved.labels.shape == (partmap.MAP_SIDE, 8 * partmap.MAP_SIDE)
        stored = cat.part_map(pid)
        assert stored is not None and stored.labels.shape == saved.labels.shape
        assert (stored.labels[:, 448:] == partmap.PALLU).all()
        assert (stored.labels[:, :448] == partmap.BODY).all()
        assert pred.part_map is not None and pred.part_map.shape == saved.labels.shape
        # Shown over the photo where it was drawn.
        shown = pred.part_mask_at((2048, 256))
        assert (shown[:, 1800:] == partmap.PALLU).all() and (shown[:, :1780] == 1).all()
