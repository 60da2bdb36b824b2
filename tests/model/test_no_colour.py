"""A photo without colour is flagged: the model tells traditions apart partly by colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tiny_onnx import photo

from saree_app.model.predict import NO_COLOUR, Predictor, without_colour


def _grey(seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 255, size=(120, 160), dtype=np.uint8)
    return Image.fromarray(np.stack([grey] * 3, axis=-1))


def test_black_and_white_is_told_from_colour() -> None:
    assert without_colour(_grey())
    assert without_colour(_grey().convert("L"))
    assert not without_colour(photo(160, 120))
    # A white saree on a white wall still has colour where it has some: a gold border.
    cream = np.asarray(_grey(1)).copy()
    cream[:, :10] = (200, 160, 40)
    assert not without_colour(Image.fromarray(cream))
    # A grey print with scanner noise of a few levels per channel is still grey.
    rng = np.random.default_rng(2)
    noisy = np.clip(np.asarray(_grey(3), np.int16) + rng.integers(-4, 5, (120, 160, 3)), 0, 255)
    assert without_colour(Image.fromarray(noisy.astype(np.uint8)))


def test_a_photo_without_colour_is_flagged_with_its_reason(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    grey = predictor.predict(_grey())
    assert grey.uncertain and NO_COLOUR in grey.uncertain_reasons
    coloured = predictor.predict(photo(160, 120))
    assert NO_COLOUR not in coloured.uncertain_reasons
