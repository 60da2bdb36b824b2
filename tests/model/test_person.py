"""Person models: the shipped ONNX pair, the saree region they give, the Predictor's use of it."""

from __future__ import annotations

import dataclasses
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_onnx import photo

from saree_app.model.manifest import ModelError
from saree_app.model.person import (
    MIN_CLOTH_COVERED,
    MIN_PERSON_SHARE,
    PersonFound,
    PersonModels,
    _anchors,
    default_path,
)
from saree_app.model.predict import Predictor


@pytest.fixture(scope="module")
def models() -> PersonModels:
    return PersonModels(default_path(), threads=1)


def _found(
    person: np.ndarray, faces: tuple[tuple[float, float, float, float], ...] = ()
) -> PersonFound:
    return PersonFound(person.astype(np.float32), faces)


def _standing(side: int = 64) -> np.ndarray:
    """A person filling the middle third of the photo, top to bottom."""
    person = np.zeros((side, side), np.float32)
    person[:, side // 3 : 2 * side // 3] = 0.9
    return person


def test_the_shipped_models_run_on_any_photo(models: PersonModels) -> None:
    for img in (photo(200, 150), photo(90, 300, seed=2), Image.new("L", (50, 40), 128)):
        found = models.find(img)
        assert found.person.shape == (models.seg_size, models.seg_size)
        assert found.person.dtype == np.float32
        assert 0.0 <= float(found.person.min()) <= float(found.person.max()) <= 1.0
        for box in found.faces:
            assert len(box) == 4 and box[0] < box[2] and box[1] < box[3]


def test_a_bare_wall_has_nobody_in_it(models: PersonModels) -> None:
    wall = Image.new("RGB", (400, 300), (205, 200, 190))
    found = models.find(wall)
    assert not found.present
    assert found.faces == ()
    assert found.region((40, 30)) is None


def test_the_face_detector_anchors_match_its_outputs(models: PersonModels) -> None:
    # 16 x 16 cells x 2 + 8 x 8 cells x 6 = 896, the detector's number of boxes.
    assert _anchors(128, [[8, 2], [16, 6]]).shape == (896, 2)
    assert models._anchors.shape == (896, 2)


def test_the_region_is_the_person_less_the_head() -> None:
    face = (0.4, 0.05, 0.6, 0.2)
    region = _found(_standing(), (face,)).region((100, 100))
    assert region is not None and region.shape == (100, 100)
    assert not region[:, :30].any() and not region[:, 70:].any()  # outside the person
    assert region[60:, 40:60].all()  # the body, where a worn saree is
    assert not region[0:25, 40:60].any()  # the face, the hair above it, the chin below


def test_nobody_or_too_little_of_the_cloth_leaves_the_part_map_alone() -> None:
    tiny = np.zeros((64, 64), np.float32)
    tiny[:2, :2] = 1.0
    assert _found(tiny).share < MIN_PERSON_SHARE
    assert _found(tiny).region((64, 64)) is None
    # A person over a sliver of what the part map calls cloth: a close-up the segmenter
    # half-took for a person must keep its cloth.
    cloth = np.ones((64, 64), bool)
    person = np.zeros((64, 64), np.float32)
    person[:, : int(64 * MIN_CLOTH_COVERED) - 2] = 0.9
    assert _found(person).region((64, 64), cloth) is None
    assert _found(_standing()).region((64, 64), cloth) is not None


def _copy(tmp_path: Path) -> Path:
    for name in ("person-models.json", "person-segmenter.onnx", "face-detector.onnx"):
        shutil.copy(default_path().with_name(name), tmp_path / name)
    return tmp_path / "person-models.json"


def test_a_changed_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    with (tmp_path / "face-detector.onnx").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="does not match its description"):
        PersonModels(manifest)
    (tmp_path / "face-detector.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        PersonModels(manifest)
    manifest.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not a person-models description"):
        PersonModels(manifest)
    with pytest.raises(ModelError, match="missing"):
        PersonModels(tmp_path / "nothing.json")


def test_the_part_map_and_heatmap_stay_inside_the_person(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    pred = predictor.predict(photo(120, 120, seed=3))
    assert pred.person is None and pred.saree_region((60, 60)) is None
    # A part map that sees body cloth everywhere, as on a real photo with a wall behind.
    seg = np.zeros_like(pred.seg_logits)
    seg[1] = 5.0
    alone = dataclasses.replace(pred, seg_logits=seg, _cache={})
    assert (alone.part_mask_at((60, 60)) == 1).all()
    tradition = pred.labels[0]
    heat_alone = alone.heatmap(tradition, size=(60, 60))

    # The same answer, now with someone standing in the middle third wearing the saree.
    person = np.zeros((60, 60), np.float32)
    person[:, 20:40] = 1.0
    worn = dataclasses.replace(alone, person=_found(person), _cache={})
    assert worn.saree_region((60, 60)) is not None
    mask = worn.part_mask_at((60, 60))
    assert not mask[:, :19].any() and not mask[:, 41:].any()
    assert (mask[:, 21:39] == 1).all()
    heat = worn.heatmap(tradition, size=(60, 60))
    assert float(heat[:, :19].max()) == 0.0 and float(heat[:, 41:].max()) == 0.0
    assert np.allclose(heat[:, 21:39], heat_alone[:, 21:39])
    # The overlay's part probabilities agree with the mask: certain background outside.
    assert float(worn.part_heatmap("body", size=(60, 60))[:, :19].max()) == 0.0
    # A photo's own size works too (the overlay at full resolution).
    assert worn.part_mask.shape == (pred.photo_size[1], pred.photo_size[0])


def test_a_broken_install_is_said_and_the_answers_still_come(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _copy(tmp_path)
    manifest.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr("saree_app.model.person.default_path", lambda: manifest)
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False)
    assert predictor.person is None
    assert predictor.person_message is not None and "cannot be read" in predictor.person_message
    pred = predictor.predict(photo(80, 60))
    assert pred.person is None
    assert pred.part_mask_at((40, 30)).shape == (30, 40)


def test_the_predictor_uses_the_installed_models(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False)
    assert isinstance(predictor.person, PersonModels)
    pred = predictor.predict(photo(160, 120))
    assert isinstance(pred.person, PersonFound)
    batch = dict(predictor.predict_many([]))
    assert batch == {}


def test_export_refuses_what_is_not_a_mediapipe_wheel(tmp_path: Path) -> None:
    from saree_app.train.person import WheelError, export_person_models

    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip")
    with pytest.raises(WheelError, match="not a wheel"):
        export_person_models(junk, tmp_path / "out")
    empty = tmp_path / "mediapipe-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("mediapipe-9.9.9.dist-info/LICENSE", "Apache")
    with pytest.raises(WheelError, match="person segmenter"):
        export_person_models(empty, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_face_on_the_cloth_is_not_taken_for_the_head(
    models: PersonModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faces must sit at the top of the person and be narrower than them."""
    person = np.zeros((models.seg_size, models.seg_size), np.float32)
    person[:, 64:192] = 0.9  # a person in the middle half, arms out, head to toe
    head = (0.4, 0.02, 0.6, 0.12)
    on_the_cloth = (0.42, 0.5, 0.58, 0.6)  # a woven figure half-way down
    too_wide = (0.2, 0.05, 0.8, 0.2)
    monkeypatch.setattr(models, "_run", lambda session, array: [person[None, None]])
    monkeypatch.setattr(models, "_faces", lambda img, crop: [head, on_the_cloth, too_wide])
    found = models.find(Image.new("RGB", (200, 200), (120, 60, 30)))
    assert found.faces == (head,)
    region = found.region((100, 100))
    assert region is not None and region[55, 50]  # the cloth keeps its figure


def test_the_small_models_read_each_photo_beside_the_main_one(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They read the photo only, so they run off the thread that runs the main model (the
    decode threads in a folder, a thread of their own for one photo), and the answers are
    the same as reading them one after the other."""
    import threading

    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False)
    assert predictor.person is not None
    threads: list[str] = []
    real_find = predictor.person.find

    def find(img: Image.Image) -> PersonFound:
        threads.append(threading.current_thread().name)
        return real_find(img)

    monkeypatch.setattr(predictor.person, "find", find)
    paths = []
    for k in range(3):
        paths.append(tmp_path / f"p{k}.png")
        photo(120, 90, seed=k).save(paths[-1])
    main = threading.current_thread().name
    one = predictor.predict(paths[0])
    assert len(threads) == 1 and threads[0] != main
    many = dict(predictor.predict_many(paths, batch_size=2))
    assert len(threads) == 4 and main not in threads

    # The same answers as the small models' reading made first, on this thread.
    for path in paths:
        loaded = predictor._load(path)
        side = predictor._side(loaded)
        out = predictor.session.run(loaded.array[None])
        alone = predictor._build(loaded, out, 0, None, None, person=side.person)
        got = one if path == paths[0] else many[path]
        assert not isinstance(got, Exception)
        assert got.uncertain_reasons == alone.uncertain_reasons
        assert got.person is not None and alone.person is not None
        np.testing.assert_array_equal(got.person.person, alone.person.person)
        if path == paths[0]:
            np.testing.assert_allclose(got.seg_logits, alone.seg_logits, rtol=1e-5, atol=1e-6)


def test_a_failure_of_the_small_models_is_not_lost(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False)
    assert predictor.person is not None

    def broken(img: Image.Image) -> PersonFound:
        raise RuntimeError("the person model broke")

    monkeypatch.setattr(predictor.person, "find", broken)
    with pytest.raises(RuntimeError, match="person model broke"):
        predictor.predict(photo(80, 60))
