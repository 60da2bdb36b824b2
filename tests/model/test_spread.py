"""Saree cloth beyond the person who wears it: a pallu spread on the floor before a mannequin,
or held out in the hands, belongs to the part map too."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image
from tiny_onnx import photo

from saree_app.model.person import PersonFound
from saree_app.model.predict import Predictor, joined, spread_beyond


def test_joined_keeps_only_what_touches_the_seed() -> None:
    allowed = np.zeros((64, 64), bool)
    allowed[8:56, 8:20] = True  # the seed's own blob
    allowed[40:48, 20:44] = True  # reaching out from it
    allowed[8:20, 44:60] = True  # apart: a patch of floor elsewhere
    seed = np.zeros_like(allowed)
    seed[8:56, 8:20] = True
    out = joined(seed, allowed)
    assert out[40:48, 24:40].all()
    assert not out[8:20, 44:60].any()
    assert not (out & ~allowed).any()


def _mannequin(side: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A person (mannequin) in the middle, rows 8-80; the part map sure of cloth on her and on
    a pallu fanned out on the floor to her left, low down (rows 60-90), and on a curtain to
    her right at shoulder height (rows 10-30)."""
    person = np.zeros((side, side), bool)
    person[8:80, 36:60] = True
    background = np.full((side, side), 0.98, np.float32)
    background[8:80, 36:60] = 0.02
    background[60:90, 8:36] = 0.02  # the pallu on the floor, joined to her skirt
    background[10:30, 60:90] = 0.02  # a curtain beside her shoulders
    background[84:94, 70:90] = 0.02  # a rug low down, apart from her
    return person, background


def test_a_pallu_on_the_floor_is_saree_a_curtain_at_her_shoulders_is_not() -> None:
    person, background = _mannequin()
    everywhere = np.ones_like(person)
    spread = spread_beyond(person, background, everywhere)
    assert spread[62:88, 10:34].all()  # the floor pallu
    assert not spread[10:30, 60:90].any()  # too high: above the lowest 40% of her
    assert not spread[84:94, 70:90].any()  # low, but not joined to her
    assert not (spread & person).any()  # only what lies beyond her
    # Colours that say it is not the saree's, or a part map that is not sure: not added.
    coloured = np.ones_like(person)
    coloured[60:90, 8:36] = False
    assert not spread_beyond(person, background, coloured).any()
    unsure = background.copy()
    unsure[60:90, 8:36] = 0.2
    assert not spread_beyond(person, unsure, everywhere).any()
    assert not spread_beyond(np.zeros_like(person), background, everywhere).any()
    # Without the photo's colours to tell cloth from background, nothing is added.
    assert not spread_beyond(person, background, None).any()


def test_the_predictor_paints_the_floor_pallu_and_keeps_the_curtain_off(
    tiny_model: Path,
) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    person, background = _mannequin()
    pred = predictor.predict(photo(96, 96, seed=1))
    seg = np.zeros_like(pred.seg_logits)
    p = np.clip(background, 1e-3, 1 - 1e-3)
    side = seg.shape[-1]
    grid = Image.fromarray(np.log(p / (1 - p)).astype(np.float32), "F")
    seg[0] = np.asarray(grid.resize((side, side), Image.Resampling.NEAREST))
    found = PersonFound(person=person.astype(np.float32), faces=())
    # Red cloth (on her, the floor pallu, and a red curtain and rug) against a grey room: the
    # colours say what is cloth, so only where it lies keeps the curtain and the rug off.
    rgb = np.full((96, 96, 3), 150, np.uint8)
    rgb[background < 0.5] = (190, 30, 40)
    picture = Image.fromarray(rgb)
    worn = dataclasses.replace(pred, seg_logits=seg, photo=picture, person=found, _cache={})
    mask = worn.part_mask_at((96, 96))
    assert (mask[64:86, 12:32] > 0).mean() > 0.9  # the pallu on the floor
    assert (mask[12:28, 64:88] > 0).mean() < 0.1  # the curtain stays off
    assert (mask[86:92, 74:88] > 0).mean() < 0.1  # so does the rug
    assert (mask[12:76, 40:56] > 0).mean() > 0.9  # and the saree on her stays
