"""Overlays: the part mask and the top tradition's heatmap drawn over the photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tiny_onnx import photo

from saree_app.model.overlays import PART_COLOURS, heatmap_overlay, part_overlay, write_overlays
from saree_app.model.predict import Predictor


def test_overlays_written_and_coloured(tiny_model: Path, tmp_path: Path) -> None:
    pred = Predictor(tiny_model, load_graph=False).predict(photo(200, 150))
    paths = write_overlays(pred, tmp_path / "out", "saree")
    assert [p.name for p in paths] == ["saree.parts.png", "saree.heatmap.png"]
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "PNG"
            assert im.size == (512, 384)  # small photos are enlarged so the legend fits

    parts = np.asarray(part_overlay(pred)).astype(int)
    mask = pred.part_mask_at((512, 384))
    plain = np.asarray(pred.photo.resize((512, 384))).astype(int)  # type: ignore[union-attr]
    for k in (1, 2, 3):
        where = mask == k
        where[:80, :200] = False  # the legend's corner
        if where.sum() > 50:
            tinted = parts[where].mean(axis=0)
            # Half-way towards the part's colour.
            expected = 0.5 * plain[where].mean(axis=0) + 0.5 * np.array(PART_COLOURS[k])
            np.testing.assert_allclose(tinted, expected, atol=6)

    heat = np.asarray(heatmap_overlay(pred)).astype(int)
    assert heat.shape == (384, 512, 3)
    assert np.abs(heat[100:] - plain[100:]).mean() > 5  # the map changes the picture


def test_overlays_are_drawn_at_the_size_the_photo_view_shows(tiny_model: Path) -> None:
    """A large photo's overlays come out at the photo view's overlay size, not larger."""
    from saree_app.model.overlays import MAX_SIDE, draw_overlays

    pred = Predictor(tiny_model, load_graph=False, cloth=False).predict(photo(2000, 1500))
    for img in draw_overlays(pred).values():
        assert max(img.size) == MAX_SIDE == 768
        assert img.size == (768, 576)
