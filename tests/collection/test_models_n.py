"""What a retrained model is said to be: its check in counts when it is small, the traditions
it knows against the model in use, and the photos it learnt from counted once (not the turned
copies training adds), the same number in the retraining's window and the Model dialog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from saree_app.collection import models
from saree_app.collection.models import (
    TRUSTED_CHECK,
    choice_for,
    model_traditions,
    retrain_heldout,
    retrain_result,
    share_words,
    trained_photo_count,
)
from saree_app.model.manifest import ModelManifest


def _retrained(
    root: Path, *, held: int, top1: float, train: dict[str, int], rows: int | None = None
) -> Path:
    """A model retrained from a catalogue that knows two of the tiny model's three traditions,
    as `saree train --catalog` leaves it: `rows` (training.photos.train) counts the turned
    copies too, its report.json the photos once."""
    pytest.importorskip("torch")
    from saree_app.train.export import export_tiny_model

    manifest = export_tiny_model(
        root / "cat-model-2026-12-08",
        labels=("Kanchipuram", "Banarasi"),
        seed=4,
        name="saree-model",
    )
    data = json.loads(manifest.read_text(encoding="utf-8"))
    n = sum(train.values())
    data["training"] = {
        "catalogue": "cat.saree",
        "photos": {"train": rows if rows is not None else 2 * n, "val": 0},
        "trained_photos": [f"{i:016x}" for i in range(n)],
    }
    data["evaluation"] = {"heldout": {"photos": held, "top1": top1, "balanced_accuracy": 0.5}}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    photos: dict[str, Any] = {t: {"train": k, "heldout": 1} for t, k in train.items()}
    report = {"catalogue": {"photos": photos, "part_maps": {"fine_tuned": False, "note": "x"}}}
    (manifest.parent / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (manifest.parent / "REPORT.md").write_text("# Retrained from the catalogue\n", encoding="utf-8")
    return manifest


def test_a_small_check_is_said_as_a_count_and_as_too_small_to_trust(
    tmp_path: Path, tiny_model: Path
) -> None:
    new = _retrained(tmp_path, held=3, top1=2 / 3, train={"Kanchipuram": 5, "Banarasi": 4})
    assert retrain_heldout(new) == 3 < TRUSTED_CHECK
    lines = retrain_result(new, lambda t: f"{t} sari", current=tiny_model)
    assert lines[0].startswith(
        "It named the right tradition for 2 of the 3 confirmed photos held back"
    )
    assert "%" not in lines[0]
    assert "too small to trust" in lines[0]
    knows = next(line for line in lines if line.startswith("It knows only"))
    # Its own traditions, by the names the app shows, and what it lacks of the model in use.
    assert "the 2 traditions you confirmed photos of: Banarasi sari and Kanchipuram sari" in knows
    assert "does not know 1 of the 3 traditions of the model you use now" in knows
    assert "(PochampallyIkat sari)" in knows


def test_a_large_check_keeps_its_percentage(tmp_path: Path, tiny_model: Path) -> None:
    new = _retrained(tmp_path, held=40, top1=0.825, train={"Kanchipuram": 60, "Banarasi": 60})
    (first, *_rest) = retrain_result(new, current=tiny_model)
    assert "for 82% of the 40 confirmed photos held back" in first
    assert "too small" not in first
    assert share_words(2, 3) == "2 of the 3" and share_words(33, 40) == "82% of the 40"


def test_the_model_dialog_and_the_finished_dialog_count_the_same_photos(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model import predict

    monkeypatch.setattr(predict, "default_model_path", lambda: tiny_model)
    # 19 confirmed photos trained on; 38 rows with their quarter-turned copies.
    new = _retrained(
        tmp_path, held=3, top1=2 / 3, train={"Kanchipuram": 10, "Banarasi": 9}, rows=38
    )
    assert trained_photo_count(ModelManifest.load(new)) == 19
    said = " ".join(retrain_result(new))
    assert "It learnt from 19 confirmed photos of 2 traditions" in said
    line = choice_for(new).summary
    assert "learnt from 19 confirmed photos" in line
    assert "38" not in line
    assert line.startswith("right on 2 of 3 of your confirmed photos held back")
    # Without its report, the photos it lists as trained on: still 19, not the 38 rows.
    (new.parent / "report.json").unlink()
    assert trained_photo_count(ModelManifest.load(new)) == 19


def test_a_model_trained_from_folders_counts_its_photos_per_tradition(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from saree_app.train.export import export_tiny_model

    manifest = export_tiny_model(tmp_path / "m", seed=5)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["training"] = {
        "photos": {"train": 30, "val": 3},  # with turned and varied copies
        "per_class_train": {"Kanchipuram": 4, "Banarasi": 3, "PochampallyIkat": 3},
    }
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert trained_photo_count(ModelManifest.load(manifest)) == 10
    assert "learnt from 10 photos" in models.summary(ModelManifest.load(manifest))
    assert model_traditions(manifest) == ("Kanchipuram", "Banarasi", "PochampallyIkat")
    assert model_traditions(tmp_path / "none.json") == ()
