"""The photo's own colours keep the part map off the surface a saree lies on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image
from tiny_onnx import photo

from saree_app.model.predict import Predictor, cloth_by_colour


def _laid_flat(side: int = 96) -> tuple[Image.Image, np.ndarray]:
    """A red saree on a grey sheet, and a part map that is sure of each but spills a rim of
    three columns of the sheet on the right as cloth (as the pooled part map does)."""
    rgb = np.full((side, side, 3), 170, np.uint8)
    rgb[16:80, 16:64] = (190, 30, 40)
    background = np.full((side, side), 0.97, np.float32)
    background[16:80, 16:64] = 0.03
    background[16:80, 64:67] = 0.3  # the rim: grey, but the part map leans to cloth
    return Image.fromarray(rgb), background


def test_a_rim_of_the_sheet_is_not_cloth() -> None:
    picture, background = _laid_flat()
    region = cloth_by_colour(picture, background)
    assert region is not None
    assert region[20:76, 20:60].all()  # the saree stays
    assert not region[16:80, 64:67].any()  # the grey rim goes
    assert not region[:10].any()


def test_a_colour_both_share_leaves_the_part_map_its_say() -> None:
    picture, background = _laid_flat()
    rgb = np.asarray(picture).copy()
    rgb[16:80, 16:64] = 170  # a grey saree on a grey sheet: colour tells nothing
    region = cloth_by_colour(Image.fromarray(rgb), background)
    assert region is not None
    assert np.array_equal(region, background < 0.5)


def test_without_sure_cloth_and_sure_background_nothing_is_learnt() -> None:
    picture, background = _laid_flat()
    assert cloth_by_colour(picture, np.full_like(background, 0.5)) is None
    assert cloth_by_colour(picture, np.full_like(background, 0.97)) is None  # no sure cloth


def test_the_predictor_takes_the_rim_off_the_part_map(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    picture, background = _laid_flat()
    pred = predictor.predict(photo(96, 96, seed=1))
    # Part logits that say what `background` says, spread over the letterboxed model input.
    box = pred.letterbox
    assert box is not None
    seg = np.zeros_like(pred.seg_logits)
    p = np.clip(background, 1e-3, 1 - 1e-3)
    grid = Image.fromarray(np.log(p / (1 - p)).astype(np.float32), "F")
    side = seg.shape[-1]
    seg[0] = np.asarray(grid.resize((side, side), Image.Resampling.NEAREST))
    laid = dataclasses.replace(pred, seg_logits=seg, photo=picture, photo_size=(96, 96), _cache={})
    mask = laid.part_mask_at((96, 96))
    plain = dataclasses.replace(laid, photo=None, _cache={}).part_mask_at((96, 96))
    rim = (slice(20, 76), slice(64, 67))
    assert plain[rim].mean() > 0.5  # the part map alone paints the rim
    assert mask[rim].mean() < 0.2  # with the photo's colours it does not
    assert (mask[24:72, 24:56] > 0).mean() > 0.9
