"""A curator's part map: reading masks, storing compactly, and the evidence pooled under it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app.imaging import Letterbox
from saree_app.model import partmap
from saree_app.model.partmap import PartMapError
from saree_app.model.predict import Predictor
from saree_app.synth.render import render


def _png(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, "PNG")
    return buf.getvalue()


def test_grey_labels_of_any_size_are_stretched_with_nearest() -> None:
    labels = np.zeros((30, 50), np.uint8)
    labels[:, :25] = 2
    labels[:, 25:] = 3
    got = partmap.read_mask(_png(labels))
    assert got.shape == (partmap.MAP_SIDE, partmap.MAP_SIDE) and got.dtype == np.uint8
    assert set(np.unique(got)) == {2, 3}  # nearest: no blended labels appear
    assert (got[:, :31] == 2).all() and (got[:, 33:] == 3).all()


def test_legend_colours_and_see_through_read_as_parts() -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:2, :, :3] = partmap.COLOURS["border"]
    rgba[2:6, :, :3] = partmap.COLOURS["body"]
    rgba[6:, :, :3] = partmap.COLOURS["pallu"]
    rgba[:, :2, 3] = 0  # see-through: background, whatever its colour
    got = partmap.read_mask(_png(rgba, "RGBA"), side=8)
    assert got[0, 4] == partmap.BORDER and got[3, 4] == partmap.BODY
    assert got[7, 4] == partmap.PALLU and (got[:, :2] == partmap.BACKGROUND).all()
    # The picture `to_image` writes reads back the same.
    buf = io.BytesIO()
    partmap.to_image(got).save(buf, "PNG")
    assert np.array_equal(partmap.read_mask(buf.getvalue(), side=8), got)


def test_unknown_colours_and_labels_are_refused_in_one_line(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[1, 2] = (12, 200, 7)
    with pytest.raises(PartMapError, match=r"colour \(12, 200, 7\) at \(2, 1\)") as info:
        partmap.read_mask(_png(rgb))
    assert "\n" not in str(info.value)
    grey = np.full((4, 4), 7, np.uint8)
    with pytest.raises(PartMapError, match="label 7 is not a part"):
        partmap.read_mask(_png(grey))
    junk = tmp_path / "mask.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(PartMapError, match=r"mask\.png: not a readable image"):
        partmap.read_mask(junk)
    with pytest.raises(PartMapError, match="2-D"):
        partmap.fit(np.zeros((2, 2, 2), np.uint8))


def test_encoded_map_is_small_and_round_trips() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (partmap.MAP_SIDE, partmap.MAP_SIDE)).astype(np.uint8)
    data = partmap.encode(labels)
    assert np.array_equal(partmap.decode(data), labels)
    smooth = np.zeros_like(labels)
    smooth[10:50, 5:60] = 1
    smooth[10:14, 5:60] = 2
    assert len(partmap.encode(smooth)) < 400
    with pytest.raises(PartMapError):
        partmap.decode(b"junk")


def test_box_and_lasso_keep_only_the_inside() -> None:
    labels = np.full((8, 8), partmap.BORDER, np.uint8)
    labels[4:, :] = partmap.BACKGROUND
    inside = partmap.box(0.0, 0.25, 0.5, 0.75, shape=8)
    kept = partmap.keep_inside(labels, inside)
    assert (kept[~inside] == partmap.BACKGROUND).all()
    assert (kept[2:4, :4] == partmap.BORDER).all()  # parts inside stay as they were
    assert (kept[4:6, :4] == partmap.BACKGROUND).all()  # and so does what is not saree
    # Where the map saw no saree at all, the box is the saree.
    empty = partmap.keep_inside(np.zeros((8, 8), np.uint8), inside)
    assert (empty[inside] == partmap.BODY).all() and (empty[~inside] == 0).all()
    tri = partmap.polygon([(0, 0), (1, 0), (0, 1)], shape=8)
    assert tri[0, 0] and not tri[7, 7]


# ---- pooling under a map


def _square_box(size: int = 64) -> Letterbox:
    return Letterbox(size=size, scale=1.0, offset_x=0, offset_y=0, width=size, height=size)


def test_repool_under_the_models_own_cloth_gives_back_its_logits() -> None:
    rng = np.random.default_rng(1)
    cam = rng.normal(size=(3, 4, 4))
    bias = np.array([0.5, -1.0, 2.0])
    logits = bias + cam.sum(axis=(1, 2))
    seg = np.full((4, 16, 16), -20.0)
    seg[1] = 20.0  # the model saw body everywhere
    labels = np.ones((8, 8), np.uint8)
    out = partmap.repool(cam, logits, seg, labels, _square_box())
    assert np.allclose(out.logits, logits)
    assert np.allclose(out.part_logits[0], logits)  # all of it is body
    assert out.unseen == 0.0


def test_repool_takes_evidence_only_from_the_marked_cells() -> None:
    rng = np.random.default_rng(2)
    cam = rng.normal(size=(3, 4, 4))
    bias = np.array([0.5, -1.0, 2.0])
    seg = np.full((4, 16, 16), -20.0)
    seg[1] = 20.0
    labels = np.zeros((8, 8), np.uint8)
    labels[:4, :4] = partmap.BORDER  # the top-left quarter: cam cells [0:2, 0:2]
    out = partmap.repool(cam, bias + cam.sum(axis=(1, 2)), seg, labels, _square_box())
    # Cells outside the marked quarter change: the evidence does not.
    other = cam.copy()
    other[:, 2:, :] += rng.normal(size=(3, 2, 4)) * 5
    other[:, :, 2:] += 3.0
    again = partmap.repool(other, bias + other.sum(axis=(1, 2)), seg, labels, _square_box())
    assert np.allclose(again.logits, out.logits)
    assert np.allclose(again.part_logits[1], out.part_logits[1])
    # The border's evidence is the classifier on the average of its cells.
    seen = 16.0
    expected = bias + (seen + 1) / (4 + 1) * cam[:, :2, :2].sum(axis=(1, 2))
    assert np.allclose(out.part_logits[1], expected)
    # A cell inside changes: so does the evidence.
    inside = cam.copy()
    inside[0, 0, 0] += 4.0
    moved = partmap.repool(inside, bias + inside.sum(axis=(1, 2)), seg, labels, _square_box())
    assert moved.part_logits[1][0] > out.part_logits[1][0] + 1.0


def test_repool_under_the_models_own_map_keeps_its_part_heads() -> None:
    rng = np.random.default_rng(4)
    cam = rng.normal(size=(3, 4, 4))
    logits = cam.sum(axis=(1, 2))
    labels = np.zeros((8, 8), np.uint8)
    labels[:, :4] = partmap.BODY
    labels[:4, 4:] = partmap.BORDER
    seg = np.full((4, 16, 16), -30.0)
    for k in range(4):  # the model's own map is the same as the curator's
        seg[k][np.kron(labels, np.ones((2, 2), np.uint8)) == k] = 30.0
    heads = rng.normal(size=(3, 3))
    same = partmap.repool(cam, logits, seg, labels, _square_box(), part_logits=heads)
    assert np.allclose(same.part_logits, heads)
    # The curator moves the border onto the body's cells: the border evidence moves with it.
    moved = labels.copy()
    moved[:4, :4] = partmap.BORDER
    moved[:4, 4:] = partmap.BODY
    other = partmap.repool(cam, logits, seg, moved, _square_box(), part_logits=heads)
    plain = partmap.repool(cam, logits, seg, moved, _square_box())
    own = partmap.repool(cam, logits, seg, labels, _square_box())
    assert np.allclose(other.part_logits[1], heads[1] + plain.part_logits[1] - own.part_logits[1])
    assert not np.allclose(other.part_logits[1], heads[1])


def test_repool_says_how_much_marked_cloth_the_model_never_looked_at() -> None:
    cam = np.zeros((2, 4, 4))
    seg = np.full((4, 16, 16), -20.0)
    seg[1, :, :8] = 20.0  # cloth on the left half only
    seg[0, :, 8:] = 20.0
    labels = np.ones((8, 8), np.uint8)
    out = partmap.repool(cam, np.zeros(2), seg, labels, _square_box())
    assert out.unseen == pytest.approx(0.5)


# ---- the predictor with a map


@pytest.fixture(scope="module")
def predictor(tiny_model: Path) -> Predictor:
    return Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)


def _region(img: Image.Image) -> np.ndarray:
    w, h = img.size
    labels = np.zeros((h, w), np.uint8)
    labels[h // 4 : 3 * h // 4, w // 4 : w // 2] = partmap.BODY
    labels[h // 4 : 3 * h // 4, w // 2 : 3 * w // 4] = partmap.BORDER
    return labels


def test_evidence_comes_only_from_what_the_curator_marked(predictor: Predictor) -> None:
    img, _mask, _attrs, _meta = render("Kanchipuram", 4, size=160)
    labels = _region(img)
    marked = predictor.predict(img, part_map=labels)
    model = predictor.predict(img)
    assert marked.part_map is not None and model.part_map is None
    # Different pixels outside the marked region: the same answer and evidence.
    arr = np.array(img)
    arr[labels == 0] = np.random.default_rng(3).integers(0, 255, (int((labels == 0).sum()), 3))
    scrambled = predictor.predict(Image.fromarray(arr), part_map=labels)
    assert scrambled.visual_probs == pytest.approx(marked.visual_probs)
    for a, b in zip(scrambled.parts, marked.parts, strict=True):
        assert dict(a.ranking) == pytest.approx(dict(b.ranking))
    # The masked photo the model sees is the same, so its outputs are too (bit for bit)...
    assert np.array_equal(scrambled.part_embeddings, marked.part_embeddings)
    assert np.array_equal(scrambled.embedding, marked.embedding)
    # ...while the model looking at the whole photo sees the change.
    unmasked = predictor.predict(Image.fromarray(arr))
    assert not np.array_equal(unmasked.embedding, model.embedding)
    # The curator's map is the part map shown, and its areas are the parts' areas.
    shown = marked.part_mask_at(img.size)
    assert (shown == labels).mean() > 0.95
    areas = {p.part: p.area for p in marked.parts}
    assert areas["body"] == pytest.approx(0.125, abs=0.02)
    assert areas["pallu"] == 0.0
    assert marked.to_dict()["part_map"] == "curator" and model.to_dict()["part_map"] == "model"
    # Heatmaps stay on the cloth the curator marked.
    heat = marked.heatmap(marked.labels[0], size=img.size)
    assert float(heat[labels == 0].max()) == 0.0


def test_moving_the_marked_region_moves_the_evidence(predictor: Predictor) -> None:
    img, _mask, _attrs, _meta = render("PochampallyIkat", 2, size=160)
    labels = _region(img)
    a = predictor.predict(img, part_map=labels)
    b = predictor.predict(img, part_map=np.roll(labels, img.size[0] // 4, axis=1))
    border_a = dict(a.parts[1].ranking)
    border_b = dict(b.parts[1].ranking)
    assert max(abs(border_a[t] - border_b[t]) for t in border_a) > 1e-9
    with pytest.raises(PartMapError):
        predictor.predict(img, part_map=np.full((4, 4), 9, np.uint8))


SHIPPED = Path(__file__).resolve().parents[2] / "models" / "saree-model.json"


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped model is not installed")
def test_shipped_model_evidence_follows_the_map() -> None:
    shipped = Predictor(SHIPPED, threads=1, load_graph=False, cloth=False, person=False)
    img, mask, _attrs, _meta = render("Kanchipuram", 3, size=256)
    own = shipped.predict(img)
    truth = shipped.predict(img, part_map=mask)
    assert truth.visual[0][0] == "Kanchipuram"
    # Only the body cells marked, as border: the border evidence is theirs alone and changes.
    body_as_border = np.where(mask == partmap.BODY, partmap.BORDER, 0).astype(np.uint8)
    moved = shipped.predict(img, part_map=body_as_border)
    before, after = dict(truth.parts[1].ranking), dict(moved.parts[1].ranking)
    assert max(abs(before[t] - after[t]) for t in before) > 0.05
    assert moved.parts[0].area == 0.0 and moved.parts[1].area > 0.1
    assert own.part_map is None and moved.part_map is not None


# ---- a long photo's map keeps its length


def test_a_long_photo_gets_a_grid_along_its_length() -> None:
    side = partmap.MAP_SIDE
    assert partmap.grid_for(4000, 3000) == (side, side)
    assert partmap.grid_for(3000, 4000) == (side, side)
    assert partmap.grid_for(3900, 1000) == (side, side)  # under four times: the usual grid
    assert partmap.grid_for(6000, 1000) == (side, 6 * side)  # rows, columns
    assert partmap.grid_for(1000, 8000) == (8 * side, side)  # laid out top to bottom
    assert partmap.grid_for(30000, 1000) == (side, 10 * side)  # no longer than ten times


def test_a_long_map_keeps_its_shape_through_the_catalogue_format() -> None:
    long = np.zeros((40, 400), np.int64)  # a mask file at the photo's own 10:1 shape
    long[:, 300:] = partmap.PALLU
    long[35:, :] = partmap.BORDER
    got = partmap.fit(long)
    assert got.shape == (partmap.MAP_SIDE, 10 * partmap.MAP_SIDE)
    # The pallu starts where it was drawn, to the cell: a square grid had six cells a piece.
    assert (got[:50, :478] != partmap.PALLU).all() and (got[:50, 482:] == partmap.PALLU).all()
    assert np.array_equal(partmap.decode(partmap.encode(got)), got)
    assert partmap.read_mask(_png(long.astype(np.uint8))).shape == got.shape
    # An ordinary map, and an odd shape no photo's grid has, come back square as before.
    odd = np.zeros((30, 50), np.uint8)
    assert partmap.decode(_png(odd)).shape == (partmap.MAP_SIDE, partmap.MAP_SIDE)
    square = np.ones((64, 64), np.uint8)
    assert np.array_equal(partmap.decode(partmap.encode(square)), square)
    # A box drawn on a long grid covers the fractions it was drawn at.
    inside = partmap.box(0.5, 0.0, 0.6, 1.0, shape=got.shape)
    assert inside.shape == got.shape
    assert inside[:, 320:384].all() and not inside[:, :318].any() and not inside[:, 386:].any()
