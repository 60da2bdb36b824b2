"""Evaluation metrics and the confusion picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from saree_app.train.evaluate import (
    average_precision,
    confusion,
    confusion_png,
    expected_calibration_error,
    recall_at_k,
)


def test_average_precision_known_values() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert average_precision(scores, np.array([1, 0, 1, 0])) == (1.0 + 2 / 3) / 2
    assert average_precision(scores, np.array([1, 1, 0, 0])) == 1.0
    assert np.isnan(average_precision(scores, np.zeros(4)))


def test_recall_at_k_leaves_the_query_out() -> None:
    emb = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.1, 0.99]], dtype=np.float64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    assert recall_at_k(emb, np.array([0, 0, 1, 1]))["R@1"] == 1.0
    assert recall_at_k(emb, np.array([0, 1, 0, 1]))["R@1"] == 0.0


def test_ece_zero_when_confidence_matches_accuracy() -> None:
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(probs, np.array([0, 1])) == 0.0
    assert expected_calibration_error(probs, np.array([1, 0])) == 1.0


def test_confusion_picture(tmp_path: Path) -> None:
    cm = confusion(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    path = confusion_png(cm, ["Kanchipuram", "Banarasi", "Paithani"], tmp_path / "c.png")
    with Image.open(path) as img:
        assert img.size[0] > 150 and img.size[1] > 150
        assert len(img.getcolors(1 << 16) or []) > 3  # more than a blank canvas
