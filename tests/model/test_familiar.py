"""The training look: photos unlike those the model learnt from are flagged, with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_onnx import photo

from saree_app.model.cloth import ClothFeatures, default_path
from saree_app.model.familiar import FORMAT, UNLIKE_TRAINING, TrainingLook, fit
from saree_app.model.predict import Predictor


def _cloud(n: int, centre: np.ndarray, spread: float, seed: int) -> np.ndarray:
    """Unit vectors scattered about a direction, in a few dimensions (1-8) more than the rest."""
    rng = np.random.default_rng(seed)
    d = centre.size
    scale = np.full(d, spread * 0.1)
    scale[1:9] = spread
    x = centre + rng.normal(0.0, 1.0, (n, d)) * scale
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def test_held_back_photos_alike_are_flagged_at_the_share_asked_for_and_others_all() -> None:
    d = 64
    centre = np.zeros(d)
    centre[0] = 1.0
    other = np.zeros(d)
    other[20] = 1.0  # a direction the cloud barely spreads along
    look = fit(_cloud(400, centre, 0.2, 0), _cloud(400, centre, 0.2, 1), "sha", 0.05)
    assert look.components.shape == (16, d) and look.threshold > 0
    # Fresh photos from the same cloud: about the share asked for lie beyond the threshold.
    same = np.mean(look.distance(_cloud(2000, centre, 0.2, 2)) > look.threshold)
    assert 0.02 < same < 0.09
    # Photos from elsewhere (a real photo to a model that saw renders): every one.
    assert np.mean(look.distance(_cloud(200, other, 0.2, 3)) > look.threshold) == 1.0
    # A looser false alarm moves the threshold in, flagging more of the same cloud.
    loose = fit(_cloud(400, centre, 0.2, 0), _cloud(400, centre, 0.2, 1), "sha", 0.3)
    assert loose.threshold < look.threshold
    # Length does not matter: the vectors are compared as directions.
    v = _cloud(1, other, 0.2, 4)
    assert look.distance(v * 7.0)[0] == pytest.approx(look.distance(v)[0])
    assert look.unlike(v[0])


def test_too_few_photos_or_a_bad_share_is_refused() -> None:
    centre = np.eye(32)[0]
    with pytest.raises(ValueError, match="too few"):
        fit(_cloud(20, centre, 0.2, 0), _cloud(100, centre, 0.2, 1), "sha", 0.05)
    with pytest.raises(ValueError, match="too few"):
        fit(_cloud(200, centre, 0.2, 0), _cloud(5, centre, 0.2, 1), "sha", 0.05)
    with pytest.raises(ValueError, match="between"):
        fit(_cloud(200, centre, 0.2, 0), _cloud(100, centre, 0.2, 1), "sha", 0.7)


def test_the_entry_reads_back_only_for_the_cloth_model_it_was_made_with() -> None:
    centre = np.eye(48)[0]
    look = fit(_cloud(300, centre, 0.3, 0), _cloud(300, centre, 0.3, 1), "abc", 0.05)
    entry = json.loads(json.dumps(look.to_dict(photos=600)))
    assert entry["format"] == FORMAT and entry["photos"] == 600
    back = TrainingLook.from_entry(entry, "abc")
    assert back is not None
    probe = _cloud(50, np.eye(48)[2], 0.3, 5)
    assert np.allclose(back.distance(probe), look.distance(probe), rtol=1e-5)
    assert back.threshold == pytest.approx(look.threshold)
    # Another cloth-features model: its distances would mean nothing.
    assert TrainingLook.from_entry(entry, "other") is None
    assert TrainingLook.from_entry(entry, None) is None
    # No entry, another format, or a damaged one: no flag, not an error.
    assert TrainingLook.from_entry(None, "abc") is None
    assert TrainingLook.from_entry({**entry, "format": "x"}, "abc") is None
    assert TrainingLook.from_entry({**entry, "variances": [0.0] * 16}, "abc") is None
    assert TrainingLook.from_entry({**entry, "mean": "oops"}, "abc") is None
    del entry["threshold"]
    assert TrainingLook.from_entry(entry, "abc") is None


def test_the_whole_picture_read_once_matches_the_description() -> None:
    cloth = ClothFeatures(default_path(), threads=1)
    img = photo(240, 180)
    vector, likeness = cloth.whole(img)
    assert vector.shape == (cloth.dim,)
    assert np.allclose(vector, cloth.describe(img)[: cloth.dim], atol=1e-5)
    assert likeness == pytest.approx(cloth.likeness(img), abs=1e-6)


def _with_look(manifest: Path, tmp_path: Path, look: TrainingLook) -> Path:
    """A copy of the model whose manifest carries `look`."""
    out = tmp_path / "model"
    out.mkdir(parents=True)
    for f in manifest.parent.iterdir():
        if f.is_file():
            (out / f.name).write_bytes(f.read_bytes())
    path = out / manifest.name
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["training_look"] = look.to_dict()
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("threshold", [-1.0, 1e12])
def test_a_photo_unlike_the_training_photos_is_flagged_with_its_reason(
    tiny_model: Path, tmp_path: Path, threshold: float
) -> None:
    cloth = ClothFeatures(default_path(), threads=1)
    centre = np.eye(cloth.dim)[0]
    look = fit(_cloud(100, centre, 0.3, 0), _cloud(100, centre, 0.3, 1), cloth.sha256, 0.05)
    look = TrainingLook(**{**look.__dict__, "threshold": threshold})
    predictor = Predictor(
        _with_look(tiny_model, tmp_path, look), threads=1, load_graph=False, cloth=cloth
    )
    assert predictor.look is not None
    pred = predictor.predict(photo(200, 150))
    # Below every distance, every photo is unlike; above every distance, none is.
    assert (UNLIKE_TRAINING in pred.uncertain_reasons) == (threshold < 0)
    if threshold < 0:
        assert pred.uncertain
    # Without the cloth-features model there is nothing to compare with: no flag.
    bare = Predictor(
        _with_look(tiny_model, tmp_path / "b", look), threads=1, load_graph=False, cloth=False
    )
    assert bare.look is None
    assert UNLIKE_TRAINING not in bare.predict(photo(200, 150)).uncertain_reasons
