"""Overlays: the part mask and the top tradition's heatmap drawn over the photo."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
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


def _blend(base: np.ndarray, colour: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Pillow's composite by its definition: base + (colour - base) * weight / 255."""
    w = weight.astype(float)[..., None] / 255.0
    return base.astype(float) + (colour.astype(float) - base.astype(float)) * w


def test_overlays_are_the_photo_blended_with_the_maps(tiny_model: Path) -> None:
    """Each overlay's pixels, against the maps they show, blended as documented: the part
    colours at half strength where the mask has a part, the heatmap through the ramp at
    0.55 of its stretched strength (never under 0.15), over the photo in grey."""
    from saree_app.model.overlays import _LUT, MAX_SIDE, draw_overlays

    pred = Predictor(tiny_model, load_graph=False, cloth=False).predict(photo(1600, 1200, 4))
    size = (MAX_SIDE, MAX_SIDE * 3 // 4)
    base = np.asarray(pred.photo.resize(size, Image.Resampling.BILINEAR))  # type: ignore[union-attr]
    drawn = {k: np.asarray(v).astype(int) for k, v in draw_overlays(pred).items()}
    open_ = np.ones(base.shape[:2], bool)
    open_[:80, :420] = False  # the legend's corner

    mask = pred.part_mask_at((size[0] // 2, size[1] // 2)).repeat(2, axis=0).repeat(2, axis=1)
    colour = np.asarray(PART_COLOURS)[mask]
    want = _blend(base, colour, np.where(mask > 0, 128, 0))
    assert np.abs(drawn["parts"] - want)[open_].max() <= 1
    assert (mask[open_] > 0).mean() > 0.05  # the check saw tinted pixels

    # The heatmap is worked out at half size, like the mask, and its colours and weights
    # scaled up (nearest: each value covers two by two pixels).
    top = next(r.tradition for r in pred.fused.ranking if pred.has_heatmap(r.tradition))
    heat = pred.heatmap(top, size=(size[0] // 2, size[1] // 2))
    stretched = np.clip(heat / max(float(heat.max()), 0.25), 0.0, 1.0)
    up = Image.Resampling.NEAREST
    colours = np.asarray(Image.fromarray(_LUT[(stretched * 255).astype(np.uint8)]).resize(size, up))
    small = (0.55 * 255 * np.maximum(stretched, 0.15)).astype(np.uint8)
    weight = np.asarray(Image.fromarray(small).resize(size, up))
    # Against the map worked out at full size, as drawn before: within a few levels.
    full = np.clip(pred.heatmap(top, size=size) / max(float(heat.max()), 0.25), 0.0, 1.0)
    assert np.abs(np.asarray(weight, float) - 0.55 * 255 * np.maximum(full, 0.15)).max() <= 2
    grey = np.asarray(Image.fromarray(base).convert("L").convert("RGB"))
    assert np.abs(drawn["heatmap"] - _blend(grey, colours, weight))[open_].max() <= 1
    assert heat.max() > 0.0


def test_overlays_drawn_together_are_those_drawn_one_by_one(tiny_model: Path) -> None:
    """draw_overlays shares the resized photo and the maps between its two threads: the
    pictures are exactly those each function draws on its own, in either order."""
    from saree_app.model.overlays import draw_overlays

    predictor = Predictor(tiny_model, load_graph=False, cloth=False)
    for source in (photo(1600, 1200, 4), photo(300, 500, 2), photo(700, 600, 1)):
        together = draw_overlays(predictor.predict(source))
        first = predictor.predict(source)
        top = next(r.tradition for r in first.fused.ranking if first.has_heatmap(r.tradition))
        alone = {"heatmap": heatmap_overlay(first, top), "parts": part_overlay(first)}
        again = predictor.predict(source)
        alone_other_way = {"parts": part_overlay(again), "heatmap": heatmap_overlay(again, top)}
        for name, img in together.items():
            assert np.array_equal(np.asarray(img), np.asarray(alone[name])), name
            assert np.array_equal(np.asarray(img), np.asarray(alone_other_way[name])), name


def test_the_saree_region_is_worked_out_once_for_both_overlays(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The part overlay and the heatmap both cut their maps to the saree region: the photo's
    colours are read once, at the region's working size, whatever size asks."""
    from saree_app.model import predict as predict_module
    from saree_app.model.overlays import draw_overlays

    calls: list[tuple[int, ...]] = []
    real = predict_module.cloth_by_colour

    def counted(img: Image.Image, background: np.ndarray) -> np.ndarray | None:
        calls.append(background.shape)
        return real(img, background)

    monkeypatch.setattr(predict_module, "cloth_by_colour", counted)
    # The colour split of the saree's parts too, made slow enough that the two threads would
    # both make it were it not made under the lock.
    splits: list[tuple[int, ...]] = []
    real_split = predict_module.parts_by_colour

    def slow(img: Image.Image, parts: np.ndarray, cloth: np.ndarray) -> np.ndarray | None:
        splits.append(cloth.shape)
        time.sleep(0.05)
        return real_split(img, parts, cloth)

    monkeypatch.setattr(predict_module, "parts_by_colour", slow)
    predictor = Predictor(tiny_model, load_graph=False, cloth=False)
    pred = predictor.predict(photo(1600, 1200, 4))
    draw_overlays(pred)
    assert calls == [(288, 384)]
    assert splits == [(288, 384)]
    # Asked for at a larger size first or second, the region is the same.
    fresh = predictor.predict(photo(1600, 1200, 4))
    large = fresh.saree_region((512, 384))
    small = fresh.saree_region((384, 288))
    if small is None:
        assert large is None
    else:
        drawn = pred.saree_region((512, 384))
        assert large is not None and drawn is not None
        assert np.array_equal(large, drawn)
        up = Image.fromarray(small).resize((512, 384), Image.Resampling.NEAREST)
        assert np.array_equal(large, np.asarray(up))


def test_a_heatmap_is_shown_stretched_to_its_strongest_evidence() -> None:
    """A real photo's map rarely reaches the top of the scale: it is shown stretched to its own
    maximum (or to a common one), while a map with next to no evidence stays dim."""
    from saree_app.model.overlays import HEAT_FLOOR, stretched

    faint = np.array([[0.0, 0.2], [0.4, 0.1]], np.float32)
    np.testing.assert_allclose(stretched(faint), faint / 0.4)
    np.testing.assert_allclose(stretched(faint, top=0.8), faint / 0.8)
    almost_none = np.array([[0.0, 0.05]], np.float32)
    np.testing.assert_allclose(stretched(almost_none), almost_none / HEAT_FLOOR)
    assert stretched(np.array([[2.0]], np.float32), top=0.5)[0, 0] == 1.0  # clipped
    assert faint[1, 0] == np.float32(0.4)  # the map itself is not written to


def test_the_heatmap_reads_on_a_red_silk(tiny_model: Path) -> None:
    """Over a saree dyed in the ramp's own warm colours the map must still show: drawn over the
    photo in grey, its hot pixels carry the ramp's colour, its cold ones stay nearly grey."""
    red = Image.new("RGB", (640, 480), (200, 20, 60))
    pred = Predictor(tiny_model, load_graph=False, cloth=False).predict(red)
    top = next(r.tradition for r in pred.fused.ranking if pred.has_heatmap(r.tradition))
    drawn = np.asarray(heatmap_overlay(pred, top)).astype(int)
    heat = pred.heatmap(top, size=(drawn.shape[1], drawn.shape[0]))
    chroma = drawn.max(axis=-1) - drawn.min(axis=-1)
    chroma[:40, :420] = 0  # the legend
    hot = heat >= np.quantile(heat, 0.95)
    hot[:40, :420] = False
    assert heat.max() > 0 and hot.any()
    photo_chroma = 200 - 20
    # The photo's own strong red is gone (grey under the map) ...
    assert np.median(chroma[heat <= np.quantile(heat, 0.2)]) < photo_chroma / 3
    # ... and where the evidence is strongest the ramp's colour stands out from the rest.
    assert chroma[hot].mean() > 2 * np.median(chroma)


def test_the_heatmap_legend_shows_its_colour_ramp_and_what_its_ends_mean(
    tiny_model: Path,
) -> None:
    """The heatmap's colours are explained in its legend: the ramp, from weak evidence to the
    strongest in this photo (the map is stretched to it), drawn in the overlay's own colours."""
    from saree_app.model.overlays import _LUT, RAMP_HEIGHT, RAMP_WIDTH

    pred = Predictor(tiny_model, load_graph=False, cloth=False).predict(photo(200, 150))
    heat = np.asarray(heatmap_overlay(pred)).astype(int)
    corner = heat[:60, :400].reshape(-1, 3)
    # The ramp's colours from near its weak end to near its strong end appear in the legend's
    # corner as they are, not blended with the photo (its outline takes its end columns).
    for colour in (_LUT[8], _LUT[128], _LUT[247]):
        assert (np.abs(corner - colour.astype(int)).max(axis=1) <= 8).sum() >= RAMP_HEIGHT - 2
    assert RAMP_WIDTH >= 100  # long enough to read
