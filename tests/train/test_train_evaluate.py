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


def test_figures_per_rendering_family() -> None:
    from saree_app.train.data import Item
    from saree_app.train.evaluate import _by_family

    mask = np.zeros((4, 4), np.uint8)
    mask[:, 2:] = 1
    good = mask.copy()
    bad = np.zeros_like(mask)
    items = [
        Item(image=Path(f"{i}.jpg"), tradition="A", families={"view": v})
        for i, v in enumerate(("hung", "hung", "flat"))
    ]
    res = {
        "items": items,
        "logits": np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]]),  # one hung photo wrong
        "masks": [mask, mask, mask],
        "seg_pred": [good, bad, good],
    }
    table = _by_family(res, np.array([0, 0, 0]))["view"]
    assert table["hung"]["photos"] == 2 and table["flat"]["photos"] == 1
    assert table["hung"]["top1"] == 0.5 and table["flat"]["top1"] == 1.0
    # Body only (border and pallu absent in both): IoU 1 vs 0.5, averaged over the three parts
    # where the absent parts count 0.
    assert table["flat"]["part_mIoU"] > table["hung"]["part_mIoU"]
    assert (
        _by_family(
            {**res, "items": [Item(image=Path("x.jpg"), tradition="A")] * 3}, np.array([0, 0, 0])
        )
        == {}
    )
