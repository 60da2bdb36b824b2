"""The saree check (model/saree_check.py): the rule fitted, kept in a manifest, applied by the
app to photos that are not worn and whose parts the curator did not draw."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tiny_onnx
from PIL import Image

from saree_app.model.cloth import ClothFeatures, default_path
from saree_app.model.person import PersonFound, PersonModels
from saree_app.model.predict import Predictor
from saree_app.model.saree_check import (
    FORMAT,
    FORMAT_CLOTH,
    NOT_A_SAREE,
    SIGNALS,
    SareeCheck,
    features,
    fit,
)


def _clouds(seed: int, n: int, shift: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[:, 0] += shift
    return x


def test_the_rule_tells_two_clouds_apart_and_sets_its_threshold_on_held_back_ones() -> None:
    sarees, others, held = _clouds(0, 200, 0.0), _clouds(1, 200, 4.0), _clouds(2, 400, 0.0)
    check = fit(sarees, others, held, 0.05)
    assert np.mean(check.score(held) > check.threshold) == pytest.approx(0.05, abs=0.01)
    assert np.mean(check.score(_clouds(3, 400, 4.0)) > check.threshold) > 0.9
    assert check.weights[0] > 0 and abs(check.weights[0]) > np.abs(check.weights[1:]).max()
    assert not check.not_a_saree(np.zeros(6)) and check.not_a_saree(np.array([6.0, 0, 0, 0, 0, 0]))
    back = SareeCheck.from_entry(json.loads(json.dumps(check.to_dict(note="x"))), 6)
    assert back is not None
    assert np.allclose(back.score(held), check.score(held), atol=1e-5)
    with pytest.raises(ValueError, match="too few"):
        fit(sarees[:5], others, held, 0.05)
    with pytest.raises(ValueError, match="too few"):
        fit(sarees, others, held[:5], 0.05)
    with pytest.raises(ValueError, match=r"between 0 and 0\.5"):
        fit(sarees, others, held, 0.7)


def _entry(dim: int, threshold: float) -> dict[str, object]:
    return {
        "format": FORMAT,
        "mean": [0.0] * dim,
        "scale": [1.0] * dim,
        "weights": [0.0] * dim,
        "bias": 0.0,
        "threshold": threshold,
        "false_alarm": 0.03,
    }


def test_an_unreadable_or_mismatched_entry_checks_nothing() -> None:
    assert SareeCheck.from_entry(None, 4) is None
    assert SareeCheck.from_entry({**_entry(4, 0.0), "format": "other"}, 4) is None
    assert SareeCheck.from_entry(_entry(4, 0.0), 5) is None  # made for other features
    assert SareeCheck.from_entry({**_entry(4, 0.0), "scale": [1, 0, 1, 1]}, 4) is None
    assert SareeCheck.from_entry({**_entry(4, 0.0), "weights": [1, "x", 1, 1]}, 4) is None
    assert SareeCheck.from_entry({**_entry(4, 0.0), "mean": [0, 0, float("nan"), 0]}, 4) is None
    assert SareeCheck.from_entry(_entry(4, 0.0), 4) is not None


def _dim(model: Path) -> int:
    raw = json.loads(model.read_text())
    return int(raw["embedding_dim"]) + 3 + len(raw["attributes"]) + len(SIGNALS)


def _photo() -> Image.Image:
    rng = np.random.default_rng(4)
    return Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))


@pytest.mark.parametrize(("threshold", "flagged"), [(-1.0, True), (1.0, False)])
def test_the_app_flags_what_the_manifests_rule_says(
    model_copy: Path, threshold: float, flagged: bool
) -> None:
    tiny_onnx.edit_manifest(model_copy, saree_check=_entry(_dim(model_copy), threshold))
    predictor = Predictor(model_copy, threads=1, load_graph=False, cloth=False, person=False)
    assert predictor.saree_check is not None
    pred = predictor.predict(_photo())
    assert (NOT_A_SAREE in pred.uncertain_reasons) == flagged
    if flagged:
        assert pred.uncertain
    # The features the app reads are the ones the bench fits on.
    x = features(
        pred.embedding, [p.area for p in pred.parts], list(pred.attribute_probs.values()),
        pred.open_set,
    )  # fmt: skip
    assert x.size == _dim(model_copy)


def test_a_worn_saree_or_a_drawn_part_map_is_not_checked(model_copy: Path) -> None:
    tiny_onnx.edit_manifest(model_copy, saree_check=_entry(_dim(model_copy), -1.0))

    def finding(faces: tuple[tuple[float, float, float, float], ...]) -> PersonModels:
        models = PersonModels.__new__(PersonModels)
        models.find = lambda photo: PersonFound(np.ones((32, 32), np.float32), faces)  # type: ignore[method-assign]
        return models

    someone = finding(((0.4, 0.05, 0.6, 0.2),))
    worn = Predictor(model_copy, threads=1, load_graph=False, cloth=False, person=someone)
    assert NOT_A_SAREE not in worn.predict(_photo()).uncertain_reasons
    # The person segmenter alone (no face) also takes cloth hung up: that photo is checked.
    hung = Predictor(model_copy, threads=1, load_graph=False, cloth=False, person=finding(()))
    assert NOT_A_SAREE in hung.predict(_photo()).uncertain_reasons
    plain = Predictor(model_copy, threads=1, load_graph=False, cloth=False, person=False)
    drawn = np.ones((12, 12), np.uint8)
    assert NOT_A_SAREE not in plain.predict(_photo(), part_map=drawn).uncertain_reasons
    assert NOT_A_SAREE in plain.predict(_photo()).uncertain_reasons


def test_a_manifest_without_the_entry_checks_nothing(tiny_manifest: Path) -> None:
    predictor = Predictor(tiny_manifest, threads=1, load_graph=False, cloth=False, person=False)
    assert predictor.saree_check is None
    assert NOT_A_SAREE not in predictor.predict(_photo()).uncertain_reasons


def test_a_rule_reading_the_cloth_features_needs_that_very_cloth_model() -> None:
    sarees, others, held = _clouds(0, 200, 0.0), _clouds(1, 200, 4.0), _clouds(2, 400, 0.0)
    check = fit(sarees, others, held, 0.05, cloth_sha256="ab" * 32)
    entry = json.loads(json.dumps(check.to_dict()))
    assert entry["format"] == FORMAT_CLOTH and entry["cloth_features_sha256"] == "ab" * 32
    # Rows of 6: 4 of the model's outputs and 2 of the cloth features.
    back = SareeCheck.from_entry(entry, 4, ("ab" * 32, 2))
    assert back is not None and back.cloth_sha256 == "ab" * 32
    assert np.allclose(back.score(held), check.score(held), atol=1e-5)
    assert SareeCheck.from_entry(entry, 4, None) is None  # no cloth model installed
    assert SareeCheck.from_entry(entry, 4, ("cd" * 32, 2)) is None  # another one
    assert SareeCheck.from_entry(entry, 4, ("ab" * 32, 3)) is None  # of another length
    # A rule on the model's outputs alone reads the same with or without a cloth model.
    plain = json.loads(json.dumps(fit(sarees, others, held, 0.05).to_dict()))
    assert plain["format"] == FORMAT and "cloth_features_sha256" not in plain
    assert SareeCheck.from_entry(plain, 6, ("ab" * 32, 2)) is not None


@pytest.fixture(scope="module")
def cloth() -> ClothFeatures:
    return ClothFeatures(default_path(), threads=1)


def test_the_app_reads_the_whole_pictures_cloth_features_where_the_rule_does(
    model_copy: Path, cloth: ClothFeatures
) -> None:
    """A rule that weighs only the cloth block, along one photo's own cloth features: that
    photo lies above the threshold, a photo of other cloth does not."""
    dim = _dim(model_copy)
    flagged = _photo()
    other = Image.fromarray(
        np.tile(np.array([[[200, 40, 40]], [[30, 30, 160]]], np.uint8), (60, 160, 1))
    )
    whole = cloth.whole(flagged)[0].astype(np.float64)
    assert float(whole @ cloth.whole(other)[0]) < 0.9  # they do look different to it
    entry = {
        **_entry(dim + cloth.dim, 0.95),
        "format": FORMAT_CLOTH,
        "cloth_features_sha256": cloth.sha256,
        "weights": [0.0] * dim + [float(v) for v in whole],
    }
    tiny_onnx.edit_manifest(model_copy, saree_check=entry)
    predictor = Predictor(model_copy, threads=1, load_graph=False, cloth=cloth, person=False)
    assert predictor.saree_check is not None
    assert NOT_A_SAREE in predictor.predict(flagged).uncertain_reasons
    assert NOT_A_SAREE not in predictor.predict(other).uncertain_reasons
    # Without the cloth model the rule cannot be read: nothing is flagged for it.
    alone = Predictor(model_copy, threads=1, load_graph=False, cloth=False, person=False)
    assert alone.saree_check is None
    assert NOT_A_SAREE not in alone.predict(flagged).uncertain_reasons
