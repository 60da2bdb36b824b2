"""Predictor: the structure of a Prediction, maps at photo resolution, batches, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_onnx import edit_manifest, jpeg_bytes, photo

from saree_app.imaging import PhotoError
from saree_app.model.predict import Prediction, Predictor

LABELS = ("Kanchipuram", "Banarasi", "PochampallyIkat")  # the shared tiny model's
ATTRIBUTES = ("TempleBorder", "Peacock", "Ikat", "ZariBrocade")


@pytest.fixture(scope="module")
def predictor(tiny_model: Path) -> Predictor:
    # No graph: these tests are about the model side; the graph-fused answer is tested below.
    return Predictor(tiny_model, threads=1, load_graph=False, cloth=False)


def test_prediction_structure(predictor: Predictor) -> None:
    pred = predictor.predict(photo(120, 90))
    assert isinstance(pred, Prediction)
    assert pred.photo_size == (120, 90)
    assert pred.model_sha256 == predictor.manifest.sha256
    assert set(pred.visual_probs) == set(LABELS)
    assert sum(pred.visual_probs.values()) == pytest.approx(1.0)
    probs = [p for _, p in pred.visual]
    assert probs == sorted(probs, reverse=True)
    assert [r.tradition for r in pred.fused.ranking][: len(LABELS)] == [t for t, _ in pred.visual]
    assert [p.part for p in pred.parts] == ["body", "border", "pallu"]
    for part in pred.parts:
        assert sum(p for _, p in part.ranking) == pytest.approx(1.0)
        assert 0.0 <= part.area <= 1.0
    assert sum(p.area for p in pred.parts) <= 1.0 + 1e-9
    assert [a.term for a in pred.attributes] != []
    assert {a.term for a in pred.attributes} == set(ATTRIBUTES)
    assert [a.probability for a in pred.attributes] == sorted(
        (a.probability for a in pred.attributes), reverse=True
    )
    assert pred.attributes[0].label  # a readable name, e.g. "Temple Border"
    assert pred.embedding.shape == (32,)
    assert np.linalg.norm(pred.embedding) == pytest.approx(1.0, abs=1e-5)
    assert pred.part_embeddings.shape == (3, 32)
    assert pred.open_set is not None
    assert pred.uncertain == bool(pred.uncertain_reasons)


def test_masks_and_heatmaps_at_photo_resolution(predictor: Predictor) -> None:
    pred = predictor.predict(photo(150, 70))
    mask = pred.part_mask
    assert mask.shape == (70, 150)
    assert mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1, 2, 3}
    for tradition in LABELS:
        heat = pred.heatmap(tradition)
        assert heat.shape == (70, 150)
        assert heat.dtype == np.float32
        assert 0.0 <= heat.min() <= heat.max() <= 1.0
    # The maps of all traditions share one scale: the strongest reaches 1 where the part map
    # is sure of cloth, and less where it is not (the heatmap stays on the cloth).
    cloth = 1.0 - _background(pred)
    strongest = max(float((pred.heatmap(t) / np.maximum(cloth, 1e-6)).max()) for t in LABELS)
    assert strongest == pytest.approx(1.0, abs=0.05)
    for part in ("body", "border", "pallu"):
        ph = pred.part_heatmap(part)
        assert ph.shape == (70, 150)
        assert 0.0 <= ph.min() <= ph.max() <= 1.0
    assert pred.heatmap(LABELS[0], size=(30, 14)).shape == (14, 30)
    with pytest.raises(KeyError, match="not one of the model's traditions"):
        pred.heatmap("Gadwal")
    with pytest.raises(KeyError):
        pred.part_heatmap("sleeve")


def _background(pred: Prediction) -> np.ndarray:
    parts = np.stack([pred.part_heatmap(p) for p in ("body", "border", "pallu")])
    return np.clip(1.0 - parts.sum(axis=0), 0.0, 1.0)


def test_mask_follows_the_segmentation(predictor: Predictor) -> None:
    """Where the per-part probability is highest, the mask says that part."""
    pred = predictor.predict(photo(96, 96, seed=3))
    probs = np.stack([pred.part_heatmap(p) for p in ("body", "border", "pallu")])
    fg = probs.sum(axis=0)
    confident = (probs.max(axis=0) > 0.6) & (fg > 0.8)
    if confident.any():
        want = probs.argmax(axis=0)[confident] + 1
        agree = np.mean(pred.part_mask[confident] == want)
        assert agree > 0.95


def test_photo_size_is_the_original_after_draft_decoding(
    predictor: Predictor, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(jpeg_bytes(photo(1600, 1200)))
    pred = predictor.predict(big)
    assert pred.photo_size == (1600, 1200)
    assert pred.photo is not None and max(pred.photo.size) < 1600  # decoded at reduced scale
    assert pred.part_mask.shape == (1200, 1600)
    # EXIF orientation 6 (rotate 90): the upright photo is portrait.
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = tmp_path / "rotated.jpg"
    rotated.write_bytes(jpeg_bytes(photo(400, 300), exif=exif.tobytes()))
    assert predictor.predict(rotated).photo_size == (300, 400)


def test_sources_path_bytes_and_image_agree(predictor: Predictor, tmp_path: Path) -> None:
    img = photo(100, 100, seed=5)
    path = tmp_path / "p.png"
    img.save(path)
    a = predictor.predict(path)
    b = predictor.predict(path.read_bytes())
    c = predictor.predict(img)
    assert a.source == str(path)
    assert b.source == "<photo data>"
    np.testing.assert_allclose(a.embedding, b.embedding, atol=1e-6)
    np.testing.assert_allclose(a.embedding, c.embedding, atol=1e-6)


def test_bad_photo_raises_photo_error(predictor: Predictor, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"%PDF-1.4 not a photo")
    with pytest.raises(PhotoError, match="PDF"):
        predictor.predict(bad)


def test_predict_many_keeps_order_and_reports_bad_files(
    predictor: Predictor, tmp_path: Path
) -> None:
    paths = []
    for i in range(5):
        p = tmp_path / f"{i}.jpg"
        p.write_bytes(jpeg_bytes(photo(90 + 10 * i, 80, seed=i)))
        paths.append(p)
    (tmp_path / "cut.jpg").write_bytes(paths[0].read_bytes()[:200])
    paths.insert(2, tmp_path / "cut.jpg")
    paths.append(tmp_path / "missing.jpg")
    results = list(predictor.predict_many(paths, batch_size=3))
    assert [p for p, _ in results] == paths
    kinds = [type(r).__name__ for _, r in results]
    assert kinds == ["Prediction"] * 2 + ["PhotoError"] + ["Prediction"] * 3 + ["PhotoError"]
    # Batched results equal one-at-a-time ones.
    single = predictor.predict(paths[3])
    batched = results[3][1]
    assert isinstance(batched, Prediction)
    np.testing.assert_allclose(batched.embedding, single.embedding, atol=1e-5)
    assert batched.visual[0][0] == single.visual[0][0]


def test_to_dict_is_json(predictor: Predictor) -> None:
    pred = predictor.predict(photo())
    d = json.loads(json.dumps(pred.to_dict(top=2)))
    assert d["tradition"] == pred.fused.ranking[0].tradition
    assert len(d["ranking"]) == 2
    assert d["photo_size"] == [120, 90]
    assert {p["part"] for p in d["parts"]} == {"body", "border", "pallu"}
    assert d["open_set"]["novelty"] == pytest.approx(pred.novelty, abs=1e-5)


def test_open_set_thresholds_from_the_manifest(shared_copy: Path) -> None:
    img = photo(seed=2)
    edit_manifest(shared_copy, open_set={"thresholds": {"top_probability": 0.999}})
    strict = Predictor(shared_copy, load_graph=False).predict(img)
    assert strict.uncertain
    assert any("weak" in r for r in strict.uncertain_reasons)
    lenient = dict.fromkeys(
        ("top_probability", "margin", "prototype_similarity", "saree_area"), -1.0
    )
    edit_manifest(shared_copy, open_set={"thresholds": lenient})
    relaxed = Predictor(shared_copy, load_graph=False).predict(img)
    assert not relaxed.uncertain
    assert relaxed.uncertain_reasons == ()


def test_refuse_keeps_the_visual_outputs(predictor: Predictor) -> None:
    pred = predictor.predict(photo())
    again = pred.refuse(None)
    assert again.visual == pred.visual
    assert again.fused.ranking[0].tradition == pred.visual[0][0]
    np.testing.assert_array_equal(again.part_mask, pred.part_mask)


def test_fused_with_the_knowledge_graph(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1)
    assert predictor.graph is not None, predictor.graph_message
    pred = predictor.predict(photo(seed=4))
    ranked = {r.tradition: r for r in pred.fused.ranking}
    assert set(LABELS) < set(ranked)  # graph-only traditions are ranked too (zero-shot)
    assert all(ranked[t].known_to_model for t in LABELS)
    assert not ranked["Gadwal"].known_to_model
    assert sum(r.probability for r in pred.fused.ranking) == pytest.approx(1.0, abs=1e-6)
    assert pred.fused.states and pred.fused.cultural_regions
    assert pred.attributes[0].label != pred.attributes[0].term or " " not in pred.attributes[0].term
    # Few-shot scores reach the fusion; re-fusing without them gives the first answer back.
    shot = predictor.predict(photo(seed=4), fewshot={"Gadwal": 0.99})
    assert shot.fused.probability("Gadwal") > pred.fused.probability("Gadwal")
    back = shot.refuse(predictor.graph)
    assert back.fused.probability("Gadwal") == pytest.approx(pred.fused.probability("Gadwal"))
    assert back.visual == shot.visual


def test_an_answer_from_the_graph_alone_is_marked_uncertain() -> None:
    from saree_app.knowledge.fusion import FusionResult, RankedTradition
    from saree_app.model.predict import _zero_shot_reason

    def ranked(t: str, known: bool) -> RankedTradition:
        return RankedTradition(t, t, 0.5, 0.0, known, ())

    graph_only = FusionResult((ranked("Gadwal", False), ranked("Kanchipuram", True)), (), ())
    assert "not one of the traditions the model was trained on" in _zero_shot_reason(graph_only)[0]
    known = FusionResult((ranked("Kanchipuram", True), ranked("Gadwal", False)), (), ())
    assert _zero_shot_reason(known) == []


def test_the_heatmap_stays_on_the_cloth(predictor: Predictor) -> None:
    """Activations over what the part map calls background (a face, a wall) are not shown."""
    import dataclasses

    pred = predictor.predict(photo(96, 96, seed=5))
    gh, gw = pred.seg_logits.shape[-2:]
    seg = np.zeros((4, gh, gw), np.float32)
    seg[0, :, : gw // 2] = 20.0  # left half: background
    seg[1, :, gw // 2 :] = 20.0  # right half: body
    cam = np.zeros_like(pred.cam)
    cam[0] = 5.0  # the first tradition everywhere, on cloth and off it
    pred = dataclasses.replace(pred, seg_logits=seg, cam=cam, _cache={})
    heat = pred.heatmap(LABELS[0])
    assert heat[:, :40].max() < 0.01
    assert heat[:, 56:].min() > 0.9


def test_the_heatmap_follows_the_curators_part_map(predictor: Predictor) -> None:
    """Where the curator said the saree is, the heatmap is: none of it outside a corrected map,
    whatever the model's own map said there."""
    import dataclasses

    from saree_app.model import partmap

    img = photo(96, 96, seed=5)
    drawn = np.zeros((partmap.MAP_SIDE, partmap.MAP_SIDE), np.uint8)
    drawn[:, partmap.MAP_SIDE // 2 :] = partmap.BODY  # the saree: the right half only
    pred = predictor.predict(img, part_map=drawn)
    gh, gw = pred.seg_logits.shape[-2:]
    seg = np.zeros((4, gh, gw), np.float32)
    seg[1] = 20.0  # the model's own map: cloth everywhere
    cam = np.zeros_like(pred.cam)
    cam[0] = 5.0
    pred = dataclasses.replace(pred, seg_logits=seg, cam=cam, _cache={})
    heat = pred.heatmap(LABELS[0])
    assert heat[:, :40].max() < 0.01
    assert heat[:, 56:].min() > 0.5
    # The same maps without the correction: the heatmap covers the left half too.
    own = dataclasses.replace(pred, part_map=None, _cache={})
    assert own.heatmap(LABELS[0])[:, :40].min() > 0.5


def test_the_stored_set_says_when_the_photo_is_unlike_the_training_photos(
    predictor: Predictor,
) -> None:
    import dataclasses

    from saree_app.model.familiar import UNLIKE_TRAINING

    pred = predictor.predict(photo(96, 96, seed=5))
    plain = dataclasses.replace(pred, uncertain_reasons=[])
    unlike = dataclasses.replace(pred, uncertain=True, uncertain_reasons=[UNLIKE_TRAINING])
    assert "unlike_training" not in plain.to_dict()["answer_set"]
    assert unlike.to_dict()["answer_set"]["unlike_training"] is True
    assert unlike.looks_unlike_training() and not plain.looks_unlike_training()


def test_large_maps_are_the_modest_ones_scaled_up(predictor: Predictor) -> None:
    """A heatmap or part map asked for at overlay size is the map at MAP_SIDE scaled up:
    the same picture, a fraction of the work."""
    from saree_app.model.predict import MAP_SIDE

    pred = predictor.predict(photo(400, 300, seed=5))
    big, small = (1600, 1200), (MAP_SIDE, MAP_SIDE * 3 // 4)
    top = pred.visual[0][0]
    for at in (lambda s: pred.heatmap(top, size=s), lambda s: pred.part_heatmap("body", size=s)):
        large = at(big)
        assert large.shape == (1200, 1600) and large.dtype == np.float32
        assert 0.0 <= large.min() <= large.max() <= 1.0
        # Scaled down again it is the modest map, to within the bilinear round trip.
        down = Image.fromarray(large, "F").resize(small, Image.Resampling.BOX)
        assert np.abs(np.asarray(down) - at(small)).mean() < 0.01
    # Computed at MAP_SIDE, not at the size asked: the cache holds the modest map.
    assert ("cam", top, small) in pred._cache


def test_the_cloth_is_described_only_when_asked(predictor: Predictor) -> None:
    """A photo's answer does not wait for the cloth features; teaching, asking, gets them
    once, and a re-fused copy shares them."""
    calls: list[int] = []

    def describe() -> np.ndarray:
        calls.append(1)
        return np.ones(4, np.float32)

    pred = predictor.predict(photo(120, 90))
    assert pred.cloth_embedding is None  # no cloth features installed: nothing to ask
    pred.describe_cloth_later(describe)
    again = pred.refuse(None)
    assert calls == []
    assert pred.cloth_embedding is not None and calls == [1]
    assert again.cloth_embedding is pred.cloth_embedding and calls == [1]
    pred.cloth_embedding = np.zeros(4, np.float32)
    assert not pred.cloth_embedding.any() and calls == [1]
