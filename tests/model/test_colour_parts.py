"""The photo's own colours split the saree into body, border and pallu where the part map
is unsure of the split."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image
from tiny_onnx import photo

from saree_app.model.predict import Predictor, parts_by_colour

BODY, BORDER, PALLU = (150, 20, 40), (20, 40, 150), (220, 180, 40)


def _saree(width: int = 192, height: int = 128) -> tuple[Image.Image, np.ndarray]:
    """A red body, a blue border along its foot and a gold pallu at its right end, on a grey
    sheet; and the true parts (0 the sheet)."""
    truth = np.zeros((height, width), np.uint8)
    truth[16:112, 16:176] = 1
    truth[96:112, 16:176] = 2
    truth[16:112, 136:176] = 3
    rgb = np.full((height, width, 3), 128, np.uint8)
    for part, colour in ((1, BODY), (2, BORDER), (3, PALLU)):
        rgb[truth == part] = colour
    return Image.fromarray(rgb), truth


def _unsure_split(truth: np.ndarray, shift: int = 6, sure: float = 0.6) -> np.ndarray:
    """The part map's probabilities of body, border and pallu: leaning only a little to the
    right part, with the border drawn `shift` rows too high and the pallu `shift` columns too
    far right, as the pooled part map misplaces them on a real photo."""
    drawn = np.zeros_like(truth)
    cloth = truth > 0
    drawn[cloth] = 1
    drawn[80 - shift + 16 : 112 - shift, 16:176] = 2
    drawn[16:112, 136 + shift : 176] = 3
    drawn[~cloth] = 0
    rest = (1.0 - sure) / 2
    probs = np.full((3, *truth.shape), rest, np.float32)
    for k in (1, 2, 3):
        probs[k - 1][drawn == k] = sure
    return probs


def test_the_colours_put_a_misplaced_border_and_pallu_back() -> None:
    picture, truth = _saree()
    probs = _unsure_split(truth)
    cloth = truth > 0
    split = parts_by_colour(picture, probs, cloth)
    assert split is not None
    assert split.shape == truth.shape and split.dtype == np.uint8
    own = np.argmax(probs, axis=0) + 1
    before = float(np.mean(own[cloth] == truth[cloth]))
    after = float(np.mean(split[cloth] == truth[cloth]))
    assert before < 0.9  # the part map's own split is off by a band on each side
    assert after > 0.95
    # The cells the part map put wrong are the ones the colours mend, most of them.
    wrong = cloth & (own != truth)
    assert np.mean(split[wrong] == truth[wrong]) > 0.6


def test_a_saree_of_one_colour_keeps_the_part_maps_split() -> None:
    picture, truth = _saree()
    rgb = np.asarray(picture).copy()
    rgb[truth > 0] = BODY  # the border and pallu woven in the body's colour: colour tells nothing
    probs = _unsure_split(truth)
    split = parts_by_colour(Image.fromarray(rgb), probs, truth > 0)
    assert split is not None
    own = np.argmax(probs, axis=0) + 1
    # Away from the part map's own edges (where the split is averaged over a small window),
    # the same parts; a smaller part is not swallowed by a larger one.
    inner = np.zeros_like(truth, bool)
    inner[20:70, 20:130] = True  # body
    inner[74:84, 20:130] = True  # the border, drawn high
    inner[20:108, 150:172] = True  # the pallu
    assert np.array_equal(split[inner], own[inner])
    assert (split == 3).sum() > 0.5 * (own == 3).sum()


def test_too_little_cloth_to_learn_from_gives_nothing() -> None:
    picture, truth = _saree()
    probs = _unsure_split(truth)
    few = np.zeros_like(truth, bool)
    few[20:22, 20:23] = True
    assert parts_by_colour(picture, probs, few) is None
    assert parts_by_colour(picture, probs, np.zeros_like(few)) is None


def test_the_predictor_shows_the_colours_split_at_every_size(tiny_model: Path) -> None:
    """Through the app: the part mask's saree is split by the photo's colours, the same split
    whatever size the mask is asked for at, and the cloth against the sheet is the part map's."""
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    picture, truth = _saree(192, 192)  # square: the model's input is the photo, no padding
    pred = predictor.predict(photo(96, 96, seed=1))
    # Part logits that say what `_unsure_split` says, the sheet sure background.
    probs = _unsure_split(truth)
    full = np.concatenate([np.where(truth > 0, 0.01, 0.97)[None], probs * 0.99], axis=0)
    logits = np.log(np.clip(full, 1e-4, 1.0)).astype(np.float32)
    side = pred.seg_logits.shape[-1]
    seg = np.stack(
        [
            np.asarray(Image.fromarray(m, "F").resize((side, side), Image.Resampling.NEAREST))
            for m in logits
        ]
    )
    shown = dataclasses.replace(
        pred, seg_logits=seg, photo=picture, photo_size=picture.size, _cache={}
    )
    mask = shown.part_mask_at(picture.size)
    plain = dataclasses.replace(shown, photo=None, _cache={}).part_mask_at(picture.size)
    # The saree against the sheet is the part map's, cell for cell: the colours split it only.
    assert np.array_equal(mask > 0, plain > 0)
    cloth = (truth > 0) & (mask > 0)
    before = float(np.mean(plain[cloth] == truth[cloth]))
    after = float(np.mean(mask[cloth] == truth[cloth]))
    assert before < 0.9  # the part map alone: off by a band
    assert after > before + 0.05
    # At half size and at the 12 x 12 grid of an export, the same split, scaled: one split a
    # photo, not one worked out afresh from each size's few pixels.
    split = shown._colour_split(picture.size)
    assert split is not None
    for size in ((96, 96), (12, 12)):
        small = shown.part_mask_at(size)
        same = np.asarray(Image.fromarray(split).resize(size, Image.Resampling.NEAREST))
        assert np.array_equal(small[small > 0], same[small > 0]), size
    grid = shown.part_mask_at((12, 12))
    assert (grid == 3).any() and (grid == 2).any() and (grid == 1).any()


def test_the_split_keeps_a_photos_shape() -> None:
    """Photos wider than tall and taller than wide: the split lies as the parts do."""
    picture, truth = _saree()  # 192 x 128
    probs = _unsure_split(truth)
    split = parts_by_colour(picture, probs, truth > 0)
    assert split is not None and split.shape == truth.shape
    cloth = truth > 0
    assert np.mean(split[cloth] == truth[cloth]) > 0.95
    turned = parts_by_colour(
        picture.transpose(Image.Transpose.TRANSPOSE),
        np.ascontiguousarray(probs.transpose(0, 2, 1)),
        cloth.T,
    )
    assert turned is not None and turned.shape == truth.T.shape
    assert np.mean(turned[cloth.T] == truth.T[cloth.T]) > 0.95
