"""The part map read at more than one zoom (saree_app.model.zooms), in the app and the evaluator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tiny_onnx import edit_manifest

from saree_app.model.manifest import ModelError, ModelManifest
from saree_app.model.session import ModelSession
from saree_app.model.zooms import (
    back_onto_photo,
    normalised_fill,
    parse_zooms,
    run_with_zooms,
    shrink,
)

SIZE = 64
FILL = np.array([-1.0, -1.0, -1.0], dtype=np.float32)


def _square_input(top: int = 8, left: int = 16, side: int = 32) -> np.ndarray:
    """One input: a bright square on the fill colour."""
    x = np.tile(FILL.reshape(1, 3, 1, 1), (1, 1, SIZE, SIZE)).astype(np.float32)
    x[:, :, top : top + side, left : left + side] = 1.0
    return x


def _square_model(batch: np.ndarray) -> dict[str, np.ndarray]:
    """A stand-in model: its stride-2 part map says "body" where the photo is bright, and a
    logit that is the photo's mean brightness."""
    n = batch.shape[0]
    bright = batch[:, 0].reshape(n, SIZE // 2, 2, SIZE // 2, 2).mean(axis=(2, 4))
    seg = np.zeros((n, 4, SIZE // 2, SIZE // 2), dtype=np.float32)
    seg[:, 1] = 4.0 * bright  # body
    seg[:, 0] = -4.0 * bright  # background
    return {"seg": seg, "logits": batch.mean(axis=(1, 2, 3))[:, None]}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_a_shrunk_photo_s_part_map_lands_back_where_the_part_is() -> None:
    x = _square_input()
    truth = _square_model(x)["seg"].argmax(1) == 1
    for zoom in (0.875, 0.75, 0.5):
        small = shrink(x, zoom, FILL)
        raw = _square_model(small)["seg"]
        # Read as it comes back, the shrunk map misses the square (what back_onto_photo undoes).
        assert _iou(raw.argmax(1) == 1, truth) < 0.8
        back = back_onto_photo(np.exp(raw), zoom, SIZE)
        assert _iou(back.argmax(1) == 1, truth) > 0.95, zoom


def test_shrink_keeps_the_photo_centred_and_fills_the_margin() -> None:
    x = _square_input(top=0, left=0, side=SIZE)  # all bright
    small = shrink(x, 0.75, FILL)
    assert np.allclose(small[0, :, 8:56, 8:56], 1.0)
    assert np.allclose(small[0, :, :8], -1.0) and np.allclose(small[0, :, 56:], -1.0)
    assert np.allclose(small[0, :, :, :8], -1.0) and np.allclose(small[0, :, :, 56:], -1.0)


def test_run_with_zooms_averages_the_part_probabilities_and_keeps_the_rest() -> None:
    calls: list[int] = []

    def model(batch: np.ndarray) -> dict[str, np.ndarray]:
        calls.append(batch.shape[0])
        return _square_model(batch)

    x = np.concatenate([_square_input(), _square_input(top=30, left=4, side=20)])
    out = run_with_zooms(model, x, (1.0, 0.75), FILL)
    assert calls == [4]  # one batch: the two photos and their shrunk copies
    plain = _square_model(x)
    assert np.array_equal(out["logits"], plain["logits"])  # only the part map is averaged
    p1 = np.exp(plain["seg"]) / np.exp(plain["seg"]).sum(1, keepdims=True)
    s = _square_model(shrink(x, 0.75, FILL))["seg"]
    p2 = back_onto_photo(np.exp(s) / np.exp(s).sum(1, keepdims=True), 0.75, SIZE)
    got = np.exp(out["seg"])
    assert np.allclose(got, (p1 + p2) / 2, atol=1e-5)
    assert np.allclose(got.sum(1), 1.0, atol=1e-4)
    calls.clear()
    single = run_with_zooms(model, x, (1.0,), FILL)
    assert calls == [2] and np.array_equal(single["seg"], plain["seg"])


def test_a_mirrored_shrunk_copy_is_mirrored_back_before_it_is_averaged() -> None:
    x = _square_input(top=8, left=4, side=20)  # off-centre: a mirror image lands elsewhere
    truth = _square_model(x)["seg"].argmax(1) == 1
    out = run_with_zooms(_square_model, x, (1.0, 0.75), FILL, mirrored=True)
    assert _iou(out["seg"].argmax(1) == 1, truth) > 0.95
    # Its second pass alone, mapped back, is where the square is, not its mirror image.
    mirrored = np.ascontiguousarray(shrink(x, 0.75, FILL)[..., ::-1])
    raw = np.exp(_square_model(mirrored)["seg"])
    raw /= raw.sum(1, keepdims=True)
    assert _iou(back_onto_photo(raw, 0.75, SIZE).argmax(1) == 1, truth) < 0.5
    back = back_onto_photo(np.ascontiguousarray(raw[..., ::-1]), 0.75, SIZE)
    assert _iou(back.argmax(1) == 1, truth) > 0.95
    p1 = np.exp(_square_model(x)["seg"])
    p1 /= p1.sum(1, keepdims=True)
    assert np.allclose(np.exp(out["seg"]), (p1 + back) / 2, atol=1e-5)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([0.875, 1.0], "first zoom must be 1"),
        ([1.0, 1.5], "outside"),
        ([1.0, 0.1], "outside"),
        ([1.0, "big"], "must be numbers"),
        ([1.0, 1.0], "twice"),
        ([], "no zooms"),
        ("1,0.875", None),
        ({"zoom": 1}, "expected a list"),
    ],
)
def test_zooms_are_checked(value: object, reason: str | None) -> None:
    if reason is None:
        assert parse_zooms(value) == (1.0, 0.875)
        return
    with pytest.raises(ValueError, match=reason):
        parse_zooms(value)


def test_the_manifest_names_wrong_zooms(model_copy: Path) -> None:
    assert ModelManifest.load(model_copy).seg_zooms == (1.0,)  # none listed: the photo once
    edit_manifest(model_copy, seg_zooms=[1, 0.75])
    assert ModelManifest.load(model_copy).seg_zooms == (1.0, 0.75)
    assert ModelManifest.load(model_copy).seg_zooms_mirrored is False
    edit_manifest(model_copy, seg_zooms_mirrored=True)
    assert ModelManifest.load(model_copy).seg_zooms_mirrored is True
    edit_manifest(model_copy, seg_zooms_mirrored="yes")
    with pytest.raises(ModelError, match='"seg_zooms_mirrored" must be true or false'):
        ModelManifest.load(model_copy)
    edit_manifest(model_copy, seg_zooms_mirrored=False, seg_zooms=[0.75])
    with pytest.raises(ModelError, match='"seg_zooms": the first zoom must be 1'):
        ModelManifest.load(model_copy)


def _zoomed_copy(model_copy: Path, tmp_path: Path, *, mirrored: bool = False) -> Path:
    folder = tmp_path / ("mirrored" if mirrored else "zoomed")
    shutil.copytree(model_copy.parent, folder)
    return edit_manifest(
        folder / model_copy.name, seg_zooms=[1.0, 0.75], seg_zooms_mirrored=mirrored
    )


def test_the_app_s_session_reads_the_part_map_at_the_manifest_s_zooms(
    model_copy: Path, tmp_path: Path
) -> None:
    zoomed = ModelSession(ModelManifest.load(_zoomed_copy(model_copy, tmp_path)))
    plain = ModelSession(ModelManifest.load(model_copy))
    m = plain.manifest
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (2, 3, m.preprocessing.size, m.preprocessing.size)).astype(np.float32)
    a, b = zoomed.run(x), plain.run(x)
    for name in ("logits", "attributes", "embedding", "cam"):
        assert np.array_equal(a[name], b[name]), name
    assert a["seg"].shape == b["seg"].shape
    assert not np.allclose(a["seg"], b["seg"], atol=1e-3)
    fill = normalised_fill(m.preprocessing.fill, m.preprocessing.mean, m.preprocessing.std)
    expected = run_with_zooms(plain.run, x, (1.0, 0.75), fill)["seg"]
    assert np.allclose(a["seg"], expected, atol=1e-5)
    mirrored = ModelSession(ModelManifest.load(_zoomed_copy(model_copy, tmp_path, mirrored=True)))
    c = mirrored.run(x)
    assert np.array_equal(c["logits"], b["logits"])
    expected = run_with_zooms(plain.run, x, (1.0, 0.75), fill, mirrored=True)["seg"]
    assert np.allclose(c["seg"], expected, atol=1e-5)
    assert not np.allclose(c["seg"], a["seg"], atol=1e-3)


def test_the_evaluator_reads_the_part_map_as_the_app_does(model_copy: Path, tmp_path: Path) -> None:
    from saree_app.train.evaluate import OnnxModel

    path = _zoomed_copy(model_copy, tmp_path, mirrored=True)
    app = ModelSession(ModelManifest.load(path))
    evaluator = OnnxModel(path)
    size = app.manifest.preprocessing.size
    x = np.random.default_rng(4).normal(0, 1, (3, 3, size, size)).astype(np.float32)
    assert np.allclose(evaluator.run(x)["seg"], app.run(x)["seg"], atol=1e-5)
    data = json.loads(path.read_text())
    data["seg_zooms"] = [1.0, 2.0]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="outside"):
        OnnxModel(path)


def test_bulk_reads_each_photo_once_and_the_photo_view_at_every_zoom(
    model_copy: Path, tmp_path: Path
) -> None:
    """predict_many (bulk import) reads a photo at one zoom, predict (the photo view) at the
    manifest's zooms; the answer is the same, only the part map differs."""
    from tiny_onnx import photo

    from saree_app.model.predict import Predictor

    zoomed = _zoomed_copy(model_copy, tmp_path, mirrored=True)
    session = ModelSession(ModelManifest.load(zoomed))
    plain = ModelSession(ModelManifest.load(model_copy))
    size = session.manifest.preprocessing.size
    x = np.random.default_rng(4).normal(0, 1, (2, 3, size, size)).astype(np.float32)
    once = session.run(x, once=True)
    for name, value in plain.run(x).items():
        assert np.allclose(once[name], value, atol=1e-6), name
    assert session.passes() == 2 and session.passes(once=True) == 1 == plain.passes()

    predictor = Predictor(zoomed, threads=1, load_graph=False, cloth=False, person=False)
    photo(200, 150, seed=9).save(tmp_path / "p.png")
    one = predictor.predict(tmp_path / "p.png")
    ((_, bulk),) = list(predictor.predict_many([tmp_path / "p.png"]))
    ((_, full),) = list(predictor.predict_many([tmp_path / "p.png"], zooms=True))
    assert not isinstance(bulk, Exception) and not isinstance(full, Exception)
    assert bulk.visual == one.visual and bulk.uncertain_reasons == one.uncertain_reasons
    assert np.allclose(full.seg_logits, one.seg_logits, atol=1e-5)
    assert not np.allclose(bulk.seg_logits, one.seg_logits, atol=1e-3)
