"""Cloth features: the shipped ImageNet trunk model, its checks, and the Predictor's use of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tiny_onnx import photo

from saree_app.model.cloth import ClothFeatures, default_path, summary, views
from saree_app.model.manifest import ModelError
from saree_app.model.predict import Predictor


@pytest.fixture(scope="module")
def cloth() -> ClothFeatures:
    return ClothFeatures(default_path(), threads=1)


def _stripes(period: int, colours: tuple[tuple[int, int, int], ...], seed: int) -> Image.Image:
    """A woven-looking cloth: stripes of a period, with a little noise and a random shift."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    x = (np.arange(w) + rng.integers(0, period)) // (period // len(colours)) % len(colours)
    arr = np.asarray(colours, np.float32)[x][None].repeat(h, axis=0)
    arr += rng.normal(0, 12, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _checks(cell: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:300, 0:400]
    on = ((yy // cell + xx // cell) % 2).astype(bool)
    arr = np.where(on[..., None], [200, 30, 40], [240, 200, 60]).astype(np.float32)
    arr += rng.normal(0, 12, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def test_a_photo_is_described_whole_and_close_up(cloth: ClothFeatures) -> None:
    vec = cloth.describe(photo(200, 150))
    assert vec.shape == (cloth.vector_dim,) == ((2 + cloth.tiles**2) * cloth.dim,)
    assert vec.dtype == np.float32
    # Blocks, each unit length: the whole picture, the mean of its tiles, then each tile.
    blocks = vec.reshape(-1, cloth.dim)
    assert np.allclose(np.linalg.norm(blocks, axis=1), 1.0, atol=1e-5)
    assert len(cloth.crops(photo(200, 150))) == 1 + cloth.tiles**2
    # The whole picture is read at the network's input size, the tiles at their own (smaller)
    # side; the mean of the tiles is the mean of the tiles before each is scaled.
    assert cloth.tile_size < cloth.size
    crops = cloth.crops(photo(200, 150))
    run = cloth._session.run
    whole = run(["features"], {cloth._input: cloth._array(crops[0])[None]})[0][0]
    tiles = run(
        ["features"],
        {cloth._input: np.stack([cloth._array(c, cloth.tile_size) for c in crops[1:]])},
    )[0]
    assert np.allclose(blocks[0], whole / np.linalg.norm(whole), atol=1e-5)
    mean = tiles.mean(axis=0)
    assert np.allclose(blocks[1], mean / np.linalg.norm(mean), atol=1e-5)
    assert np.allclose(blocks[2], tiles[0] / np.linalg.norm(tiles[0]), atol=1e-5)
    # More photos than one run takes: each still gets its own description, in order.
    again = cloth.describe_many([photo(200, 150), photo(90, 300, seed=2), photo(120, 120, seed=3)])
    assert np.allclose(again[0], vec, atol=1e-5)
    assert not np.allclose(again[1], vec, atol=1e-2)
    assert np.allclose(again[2], cloth.describe(photo(120, 120, seed=3)), atol=1e-5)
    assert cloth.describe_many([]).shape == (0, cloth.vector_dim)


def test_a_saree_laid_out_end_to_end_is_cut_into_a_row_of_near_square_tiles(
    cloth: ClothFeatures,
) -> None:
    # Each tile is read squeezed into a square: a 3 x 3 grid over a strip five and a half
    # times longer than wide would squeeze each tile five to one.
    n = cloth.tiles
    for size, grid in (((1100, 200), (1, n * n)), ((200, 1100), (n * n, 1))):
        crops = cloth.crops(photo(*size))
        assert len(crops) == 1 + n * n and crops[0].size == size
        tiles = [c.size for c in crops[1:]]
        assert max(w / h for w, h in tiles) < 1.7 and min(w / h for w, h in tiles) > 0.55
        assert cloth._grid(*size) == grid
        assert len(set(tiles)) <= 2  # one row (or column) of equal tiles, to a pixel
    # Pictures up to four times longer than wide keep the n x n grid (a standing person's box).
    assert cloth._grid(4000, 3000) == cloth._grid(1000, 3900) == (n, n)
    assert len(cloth.describe_many([photo(1100, 200)])[0]) == cloth.vector_dim


def test_the_same_cloth_looks_alike_and_another_does_not(cloth: ClothFeatures) -> None:
    """ImageNet features tell a striped cloth from a checked one across shifts and noise."""
    stripes = cloth.describe_many(
        [_stripes(24, ((30, 60, 160), (230, 220, 200)), s) for s in range(3)]
    )
    checks = cloth.describe_many([_checks(20, s) for s in range(3)])
    same = min(float(stripes[0] @ stripes[i]) for i in (1, 2))
    same = min(same, *(float(checks[0] @ checks[i]) for i in (1, 2)))
    across = max(float(a @ b) for a in stripes for b in checks)
    assert same > across


def test_views_and_summary_read_both_layouts(cloth: ClothFeatures) -> None:
    vec = cloth.describe(_checks(20, 0))
    own = views(vec)
    assert own is not None and own.shape == (1 + cloth.tiles**2, cloth.dim)
    assert np.allclose(own[0], vec[: cloth.dim])  # the whole picture first, then the tiles
    assert np.allclose(own[1:], vec[2 * cloth.dim :].reshape(-1, cloth.dim))
    # A catalogue's vector is sometimes scaled as a whole (teaching's `feature`): same views.
    assert np.allclose(views(vec / 7.0), own, atol=1e-6)
    short = summary(vec)
    assert np.allclose(short * np.sqrt(2), vec[: 2 * cloth.dim], atol=1e-5)
    # The earlier layout, [whole | mean of tiles] only: no close-ups, its summary is itself.
    old = vec[: 2 * cloth.dim]
    assert views(old) is None
    assert np.allclose(summary(old), old / np.linalg.norm(old))
    # Blocks of unequal length are not mistaken for the layout.
    lopsided = np.concatenate([vec[: cloth.dim] * 3, vec[cloth.dim :]])
    assert views(lopsided) is None


def _copy(tmp_path: Path) -> Path:
    for name in ("cloth-features.json", "cloth-features.onnx"):
        shutil.copy(default_path().with_name(name), tmp_path / name)
    return tmp_path / "cloth-features.json"


def test_a_changed_or_missing_model_file_is_refused(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    with (tmp_path / "cloth-features.onnx").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="does not match its description"):
        ClothFeatures(manifest)
    (tmp_path / "cloth-features.onnx").unlink()
    with pytest.raises(ModelError, match="model file is missing"):
        ClothFeatures(manifest)
    with pytest.raises(ModelError, match="cloth-features model is missing"):
        ClothFeatures(tmp_path / "nothing.json")
    bad = json.loads(manifest.read_text(encoding="utf-8"))
    bad["format"] = "saree-model/1"
    manifest.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ModelError, match="not a cloth-features description"):
        ClothFeatures(manifest)


def test_a_whole_picture_read_already_is_not_read_again(
    cloth: ClothFeatures, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = [photo(200, 150), photo(90, 300, seed=2), photo(120, 120, seed=3)]
    sides: list[int] = []
    real = cloth._session.run

    def run(names: Any, feeds: dict[str, np.ndarray]) -> Any:
        sides.extend(int(x.shape[-1]) for x in feeds.values() for _ in range(len(x)))
        return real(names, feeds)

    plain = cloth.describe_many(photos)
    known = [cloth.whole(photos[0])[0], None, cloth.whole(photos[2])[0]]
    monkeypatch.setattr(cloth, "_session", SimpleNamespace(run=run))
    again = cloth.describe_many(photos, known)
    assert np.allclose(again, plain, atol=1e-5)
    # One whole picture read (the second photo's), every tile read.
    assert sides.count(cloth.size) == 1
    assert sides.count(cloth.tile_size) == 3 * cloth.tiles**2


def test_a_tile_side_the_trunk_cannot_read_is_refused(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    raw = json.loads(manifest.read_text(encoding="utf-8"))
    for side, problem in ((0, "reads tiles at 0 pixels"), ("big", "description is incomplete")):
        manifest.write_text(json.dumps({**raw, "tile_size": side}), encoding="utf-8")
        with pytest.raises(ModelError, match=problem):
            ClothFeatures(manifest)
    del raw["tile_size"]  # a description from before: tiles at the network's own input
    manifest.write_text(json.dumps(raw), encoding="utf-8")
    assert ClothFeatures(manifest).tile_size == raw["input"]["size"]


def test_predictions_carry_cloth_features(
    tiny_model: Path, cloth: ClothFeatures, tmp_path: Path
) -> None:
    with_cloth = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth)
    one = with_cloth.predict(photo(240, 180))
    assert one.cloth_embedding is not None and one.cloth_embedding.shape == (cloth.vector_dim,)
    # The decoded photo the cloth is read from is the same in a batch as alone.
    photo(240, 180).save(tmp_path / "p.png")
    ((_, many),) = list(with_cloth.predict_many([tmp_path / "p.png"]))
    assert not isinstance(many, Exception) and many.cloth_embedding is not None
    assert np.allclose(many.cloth_embedding, one.cloth_embedding, atol=1e-4)
    without = Predictor(tiny_model, threads=1, load_graph=False, cloth=False)
    assert without.cloth is None
    assert without.predict(photo(240, 180)).cloth_embedding is None


def test_a_broken_cloth_model_is_said_not_raised(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model import cloth as cloth_mod

    manifest = _copy(tmp_path)
    (tmp_path / "cloth-features.onnx").write_bytes(b"not a model")
    monkeypatch.setattr(cloth_mod, "default_path", lambda: manifest)
    pred = Predictor(tiny_model, threads=1, load_graph=False)
    assert pred.cloth is None
    assert pred.cloth_message and "does not match its description" in pred.cloth_message
    assert pred.predict(photo(100, 80)).visual  # the answers do not depend on it


def test_a_single_photo_waits_for_no_cloth_features(
    tiny_model: Path, cloth: ClothFeatures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """predict() answers without running the cloth features; they run when first asked for
    (teaching, the catalogue), on the photo as it was decoded, and give what describe gives."""
    runs: list[int] = []
    given: list[bool] = []
    real = ClothFeatures.describe_many

    def counted(self: ClothFeatures, photos: list[Image.Image], wholes: Any = None) -> np.ndarray:
        runs.append(len(photos))
        given.extend(w is not None for w in wholes or [None] * len(photos))
        return real(self, photos, wholes)

    monkeypatch.setattr(ClothFeatures, "describe_many", counted)
    pred = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth).predict(photo(240, 180))
    assert runs == []
    vec = pred.cloth_embedding
    assert runs == [1] and vec is not None
    assert given == [True]  # the whole picture read for the photo's checks, not read again
    assert pred.cloth_embedding is vec and runs == [1]
    assert np.allclose(vec, real(cloth, [photo(240, 180)])[0], atol=1e-4)


def test_answers_alone_from_a_folder_read_no_close_ups(
    tiny_model: Path, cloth: ClothFeatures, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """saree classify's folder path (cloth_now=False) reads no close-ups; asked for later, a
    photo's cloth features are the ones the import's batched path gives."""
    for i in range(3):
        photo(200 + 20 * i, 150, seed=i).save(tmp_path / f"p{i}.png")
    paths = sorted(tmp_path.glob("p*.png"))
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth)
    now = dict(predictor.predict_many(paths, batch_size=2))
    runs: list[int] = []
    real = ClothFeatures.describe_many

    def counted(self: ClothFeatures, photos: list[Image.Image], wholes: Any = None) -> np.ndarray:
        runs.append(len(photos))
        return real(self, photos, wholes)

    monkeypatch.setattr(ClothFeatures, "describe_many", counted)
    later = dict(predictor.predict_many(paths, batch_size=2, cloth_now=False))
    assert runs == []
    for p in paths:
        assert later[p].visual == now[p].visual  # the same answer
        vec = later[p].cloth_embedding
        assert vec is not None and np.allclose(vec, now[p].cloth_embedding, atol=1e-4)
    assert runs == [1, 1, 1]


def test_cloth_likeness_follows_the_manifest_threshold(cloth: ClothFeatures) -> None:
    """The whole photo's belief in cloth, from the ImageNet classifier; the threshold is the
    manifest's, and a model without it judges nothing."""
    assert cloth.likeness_threshold is not None and 0.0 < cloth.likeness_threshold < 0.2
    woven = cloth.likeness(_stripes(24, ((30, 60, 160), (230, 220, 200)), 0))
    plain = cloth.likeness(Image.new("RGB", (300, 200), (90, 140, 200)))
    assert woven is not None and plain is not None
    assert 0.0 <= plain < 1.0 and 0.0 <= woven <= 1.0
    # A woven-looking stripe looks more like cloth than a plain blue surface.
    assert woven > plain
    # Greyscale and palette photos are read as RGB, as for the features.
    assert cloth.likeness(_checks(20, 0).convert("L")) is not None


def test_not_cloth_is_below_the_threshold_and_off_without_one(
    cloth: ClothFeatures, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = _checks(20, 1)
    value = cloth.likeness(img)
    each = cloth.likeness_close_up(img)
    assert value is not None and each is not None and each.shape == (1 + cloth.tiles**2,)
    assert each[0] == pytest.approx(value, abs=1e-5)  # the whole picture comes first
    high, low = max(value, float(each.mean())), min(value, float(each.mean()))
    monkeypatch.setattr(cloth, "likeness_threshold", high + 1e-3)
    assert cloth.not_cloth(img)
    monkeypatch.setattr(cloth, "likeness_threshold", low - 1e-3)
    assert not cloth.not_cloth(img)
    # Between the two, either reading above the line is enough to look like cloth.
    if high - low > 2e-3:
        monkeypatch.setattr(cloth, "likeness_threshold", (high + low) / 2)
        assert not cloth.not_cloth(img)
    # An older description without the classifier's threshold: nothing is judged.
    manifest = _copy(tmp_path)
    raw = json.loads(manifest.read_text(encoding="utf-8"))
    del raw["likeness"]
    manifest.write_text(json.dumps(raw), encoding="utf-8")
    old = ClothFeatures(manifest, threads=1)
    assert old.likeness(img) is None and not old.not_cloth(img)
    assert old.likeness_close_up(img) is None
    assert np.allclose(old.describe(img), cloth.describe(img), atol=1e-6)


def test_a_photo_that_is_not_cloth_is_flagged_with_its_reason(
    tiny_model: Path, cloth: ClothFeatures, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model.predict import NOT_CLOTH

    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth)
    monkeypatch.setattr(cloth, "likeness_threshold", 1.01)  # nothing looks like cloth
    flagged = predictor.predict(photo(200, 150))
    assert flagged.uncertain and NOT_CLOTH in flagged.uncertain_reasons
    monkeypatch.setattr(cloth, "likeness_threshold", -1.0)  # everything does
    assert NOT_CLOTH not in predictor.predict(photo(200, 150)).uncertain_reasons


def test_the_cloth_checks_read_the_photo_or_the_marked_cloth(
    tiny_model: Path, cloth: ClothFeatures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cloth checks read the whole photo as decoded (beside the main model's run); with a
    curator's part map they read the marked cloth, not the photo as decoded."""
    from saree_app.model import partmap

    img = photo(240, 180, seed=5)
    read: list[np.ndarray] = []
    real = ClothFeatures.whole

    def spied(self: ClothFeatures, p: Image.Image) -> Any:
        read.append(self.whole_input(p))
        return real(self, p)

    monkeypatch.setattr(ClothFeatures, "whole", spied)
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth)
    plain = predictor.predict(img)
    labels = np.zeros((180, 240), np.uint8)
    labels[40:140, 60:180] = partmap.BODY
    predictor.predict(img, part_map=labels)
    assert len(read) == 2
    assert np.array_equal(read[0], cloth.whole_input(img))
    assert np.array_equal(plain.cloth_whole(img), real(cloth, img)[0])
    assert not np.array_equal(read[1], read[0])  # the marked cloth, not the whole photo
    fill = predictor.manifest.preprocessing.fill
    masked = partmap.mask_photo(img, partmap.fit(labels, partmap.MAP_SIDE), fill)
    assert np.array_equal(read[1], cloth.whole_input(masked))


def test_an_import_reads_close_ups_while_the_model_reads_the_next_batch(
    tiny_model: Path, cloth: ClothFeatures, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import's path (cloth_now): a batch's close-ups are read on a thread of their own
    while the main model reads the next batch; photos come out in order, each with the cloth
    features its photo gives alone, a bad file in its place; a failure reaches the caller."""
    import threading

    for i in range(5):
        photo(200 + 10 * i, 150, seed=i).save(tmp_path / f"p{i}.png")
    (tmp_path / "p2.png").write_bytes(b"not a photo")
    paths = sorted(tmp_path.glob("p*.png"))
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth)
    where: list[str] = []
    real = ClothFeatures.describe_many

    def noted(self: ClothFeatures, photos: list[Image.Image], wholes: Any = None) -> np.ndarray:
        where.append(threading.current_thread().name)
        return real(self, photos, wholes)

    monkeypatch.setattr(ClothFeatures, "describe_many", noted)
    got = list(predictor.predict_many(paths, batch_size=2))
    assert [p for p, _ in got] == paths
    assert len(where) == 3 and threading.current_thread().name not in where
    for p, pred in got:
        if p.name == "p2.png":
            assert isinstance(pred, Exception)
            continue
        assert not isinstance(pred, Exception)
        alone = predictor.predict(p)
        assert pred.visual == alone.visual
        assert np.allclose(pred.cloth_embedding, alone.cloth_embedding, atol=1e-4)

    def broken(self: ClothFeatures, photos: list[Image.Image], wholes: Any = None) -> np.ndarray:
        raise RuntimeError("the cloth model broke")

    monkeypatch.setattr(ClothFeatures, "describe_many", broken)
    with pytest.raises(RuntimeError, match="cloth model broke"):
        list(predictor.predict_many(paths, batch_size=2))
