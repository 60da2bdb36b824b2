"""ModelSession: checksum and output contract verified; a mismatch is refused by name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tiny_onnx
from tiny_onnx import BASE, edit_manifest

from saree_app.model.manifest import ModelError, ModelManifest, contract_of
from saree_app.model.session import ModelSession


def test_runs_a_batch_with_every_output(tiny_manifest: Path) -> None:
    session = ModelSession(ModelManifest.load(tiny_manifest), threads=1)
    out = session.run(np.zeros((3, 3, 64, 64), dtype=np.float32))
    assert out["logits"].shape == (3, 5)
    assert out["part_logits"].shape == (3, 3, 5)
    assert out["seg"].shape[:2] == (3, 4)
    assert out["cam"].shape[:2] == (3, 5)
    assert out["attributes"].shape == (3, 6)
    assert out["embedding"].shape == (3, 16)
    assert out["part_embeddings"].shape == (3, 3, 16)
    assert session.providers == ("CPUExecutionProvider",)


def test_bad_checksum_is_refused(model_copy: Path) -> None:
    edit_manifest(model_copy, sha256="0" * 64)
    with pytest.raises(ModelError) as err:
        ModelSession(ModelManifest.load(model_copy))
    assert "checksum mismatch" in str(err.value)
    assert err.value.file.endswith("tiny.onnx")


def test_a_changed_model_file_is_refused(model_copy: Path) -> None:
    onnx_path = model_copy.with_suffix(".onnx")
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="checksum mismatch"):
        ModelSession(ModelManifest.load(model_copy))


def test_missing_output_is_refused(tmp_path: Path) -> None:
    path = tiny_onnx.build(tmp_path, drop_output="cam")
    with pytest.raises(ModelError) as err:
        ModelSession(ModelManifest.load(path))
    assert "lacks output cam" in str(err.value)


def test_wrong_label_count_is_refused(model_copy: Path) -> None:
    data = json.loads(model_copy.read_text())
    edit_manifest(model_copy, labels=[*data["labels"], BASE + "Chanderi"], prototypes=None)
    with pytest.raises(ModelError) as err:
        ModelSession(ModelManifest.load(model_copy))
    text = str(err.value)
    assert "5 traditions" in text
    assert "lists 6" in text


def test_wrong_attribute_count_and_embedding_dim_are_refused(model_copy: Path) -> None:
    edit_manifest(model_copy, embedding_dim=32, prototypes=None)
    with pytest.raises(ModelError, match="embedding_dim"):
        ModelSession(ModelManifest.load(model_copy))


def test_wrong_input_size_is_refused(model_copy: Path) -> None:
    data = json.loads(model_copy.read_text())
    edit_manifest(model_copy, input={**data["input"], "size": 128})
    with pytest.raises(ModelError, match="N x 3 x 128 x 128"):
        ModelSession(ModelManifest.load(model_copy))


def test_missing_onnx_and_unknown_provider(model_copy: Path) -> None:
    with pytest.raises(ModelError, match="provider NoSuchProvider"):
        ModelSession(ModelManifest.load(model_copy), providers=["NoSuchProvider"])
    model_copy.with_suffix(".onnx").unlink()
    with pytest.raises(ModelError, match="does not exist"):
        ModelSession(ModelManifest.load(model_copy))


def test_not_an_onnx_file_is_refused(model_copy: Path) -> None:
    onnx_path = model_copy.with_suffix(".onnx")
    onnx_path.write_bytes(b"not a model")
    edit_manifest(model_copy, sha256=hashlib.sha256(b"not a model").hexdigest())
    with pytest.raises(ModelError, match="cannot load the model"):
        ModelSession(ModelManifest.load(model_copy))


def test_a_model_from_another_export_is_refused(tmp_path: Path) -> None:
    # Two exports of the same shapes whose first two traditions are in the other order: every
    # size check passes, only the recorded meaning tells them apart.
    ours = tiny_onnx.build(tmp_path / "ours", contract=True, record_meaning=True)
    swapped = (tiny_onnx.LABELS[1], tiny_onnx.LABELS[0], *tiny_onnx.LABELS[2:])
    other = tiny_onnx.build(tmp_path / "other", labels=swapped, record_meaning=True)
    other_onnx = other.with_suffix(".onnx")
    ours.with_suffix(".onnx").write_bytes(other_onnx.read_bytes())
    with pytest.raises(ModelError, match="checksum mismatch"):
        ModelSession(ModelManifest.load(ours))
    # Someone "repairs" the checksum: the manifest's contract no longer holds.
    edit_manifest(ours, sha256=hashlib.sha256(other_onnx.read_bytes()).hexdigest())
    with pytest.raises(ModelError, match="do not belong together"):
        ModelManifest.load(ours)
    # ...and repairs the contract too: the model file itself still says what it was made for.
    edit_manifest(ours, contract=contract_of(json.loads(ours.read_text())))
    with pytest.raises(ModelError) as err:
        ModelSession(ModelManifest.load(ours))
    message = str(err.value)
    assert "do not belong together" in message
    assert "labels differ (position 1: the model has Banarasi, the manifest Kanchipuram)" in message
    assert "\n" not in message


def test_a_model_that_records_its_meaning_loads_with_its_own_manifest(tmp_path: Path) -> None:
    path = tiny_onnx.build(tmp_path, contract=True, record_meaning=True)
    session = ModelSession(ModelManifest.load(path))
    assert session.run(np.zeros((1, 3, 64, 64), dtype=np.float32))["logits"].shape == (1, 5)


def test_the_model_checks_preprocessing_too(tmp_path: Path) -> None:
    path = tiny_onnx.build(tmp_path, record_meaning=True)
    data = json.loads(path.read_text())
    edit_manifest(path, input={**data["input"], "mean": [0.5, 0.5, 0.5]})
    with pytest.raises(ModelError, match="input differs"):
        ModelSession(ModelManifest.load(path))


def test_a_large_batch_runs_in_small_pieces_with_the_same_answers(
    tiny_manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model import session as session_mod

    sess = ModelSession(ModelManifest.load(tiny_manifest))
    size = sess.manifest.preprocessing.size
    batch = np.random.default_rng(1).normal(size=(5, 3, size, size)).astype(np.float32)
    monkeypatch.setattr(session_mod, "RUN_BATCH", 8)
    whole = {k: v.copy() for k, v in sess.run(batch).items()}  # in one run
    runs: list[int] = []
    real = sess._session.run

    def counted(names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        runs.append(next(iter(feeds.values())).shape[0])
        return list(real(names, feeds))

    monkeypatch.setattr(session_mod, "RUN_BATCH", 2)
    monkeypatch.setattr(sess._session, "run", counted, raising=False)
    pieces = sess.run(batch)
    assert runs == [2, 2, 1] * len(sess.manifest.seg_zooms)
    for name, value in whole.items():
        np.testing.assert_allclose(pieces[name], value, rtol=1e-5, atol=1e-6)


def test_a_photos_zooms_go_through_in_one_run(
    model_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two runs of one row were slower than one of two (`saree bench classify`): RUN_BATCH
    # photos' worth of rows at every zoom a run (for one photo, the photo and its shrunk copy
    # together); read once, one row a photo.
    from saree_app.model import session as session_mod

    edit_manifest(model_copy, seg_zooms=[1.0, 0.875])
    sess = ModelSession(ModelManifest.load(model_copy))
    assert len(sess.manifest.seg_zooms) == 2
    size = sess.manifest.preprocessing.size
    batch = np.random.default_rng(2).normal(size=(3, 3, size, size)).astype(np.float32)
    runs: list[int] = []
    real = sess._session.run

    def counted(names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        runs.append(next(iter(feeds.values())).shape[0])
        return list(real(names, feeds))

    monkeypatch.setattr(sess._session, "run", counted, raising=False)
    monkeypatch.setattr(session_mod, "RUN_BATCH", 1)
    zoomed = sess.run(batch)
    assert runs == [2, 2, 2]
    runs.clear()
    once = sess.run(batch, once=True)
    assert runs == [1, 1, 1]
    # The zooms change the part map only.
    np.testing.assert_allclose(zoomed["logits"], once["logits"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(zoomed["seg"], once["seg"])
