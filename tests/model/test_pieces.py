"""A photo far longer than wide (a whole saree laid out) is read in overlapping pieces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_onnx import photo

from saree_app.imaging import unletterbox
from saree_app.model import partmap
from saree_app.model.cloth import ClothFeatures, default_path
from saree_app.model.pieces import MAX_ASPECT, OVERLAP, Pieces, combine, layout
from saree_app.model.predict import TOO_SMALL_START, Predictor


def test_only_a_photo_too_long_to_read_whole_is_read_in_pieces() -> None:
    assert layout((4000, 3000), 256) is None
    assert layout((4000, 1000), 256) is None  # a quarter of the square across: read whole
    assert layout((int(MAX_ASPECT * 100) + 1, 100), 256) is None  # too long: stays too thin
    long = layout((6000, 1100), 256)
    assert long is not None and long.across and long.side == 1100
    boxes = long.boxes()
    assert boxes[0] == (0, 0, 1100, 1100) and boxes[-1] == (4900, 0, 6000, 1100)
    steps = np.diff(long.offsets)
    # Evenly spread, each overlapping the one before by at least OVERLAP of a side.
    assert steps.max() - steps.min() <= 1 and steps.max() <= (1 - OVERLAP) * 1100
    tall = layout((1100, 6000), 256)
    assert tall is not None and not tall.across
    assert tall.boxes() == [(top, left, bottom, right) for (left, top, right, bottom) in boxes]


def test_pieces_are_squares_inside_the_photo() -> None:
    pieces = layout((2300, 400), 256)
    assert pieces is not None
    img = photo(2300, 400)
    crops = pieces.crops(img)
    assert [c.size for c in crops] == [(400, 400)] * len(pieces.offsets)
    assert np.array_equal(np.asarray(crops[-1]), np.asarray(img)[:, 1900:])
    with pytest.raises(ValueError):
        pieces.crops(photo(2000, 400))


def _outputs(n: int, g: int, classes: int = 3) -> dict[str, np.ndarray]:
    return {
        "logits": np.zeros((n, classes), np.float32),
        "part_logits": np.zeros((n, 3, classes), np.float32),
        "seg": np.zeros((n, 4, g, g), np.float32),
        "cam": np.zeros((n, classes, g, g), np.float32),
        "attributes": np.zeros((n, 2), np.float32),
        "embedding": np.tile(np.eye(1, 4, dtype=np.float32), (n, 1)),
        "part_embeddings": np.tile(np.eye(1, 4, dtype=np.float32), (n, 3, 1)),
    }


def test_the_pieces_maps_are_laid_side_by_side_and_averaged_where_they_overlap() -> None:
    pieces = Pieces(size=(250, 100), offsets=(0, 75, 150))
    out = _outputs(3, 4)
    for i in range(3):
        out["cam"][i] = i + 1.0
    joined = combine(out, pieces, 64)
    canvas = pieces.canvas(64)
    assert canvas.size == 3 * 64 and canvas.content_box == (0, 0, 160, 64)
    cam = joined["cam"][0, 0]
    assert cam.shape == (12, 12)
    # Cells of 25 px: piece 1 starts at cell 3, piece 2 at cell 6.
    assert np.allclose(cam[:4, :3], 1.0) and np.allclose(cam[:4, 3], 1.5)
    assert np.allclose(cam[:4, 4:6], 2.0) and np.allclose(cam[:4, 6], 2.5)
    assert np.allclose(cam[:4, 7:10], 3.0) and np.allclose(cam[4:], 0.0)
    # Beyond the photo the part map is background, as a letterbox's padding is.
    seg = joined["seg"][0]
    assert seg[:, 4:].argmax(axis=0).max() == 0
    # The whole photo's map, as the app draws it, covers the photo from end to end.
    assert unletterbox(joined["cam"][0], canvas).shape == (3, 100, 250)


def test_pieces_with_more_cloth_weigh_more_and_embeddings_stay_unit() -> None:
    pieces = Pieces(size=(250, 100), offsets=(0, 75, 150))
    out = _outputs(3, 4)
    out["seg"][0, 0] = 20.0  # piece 0: all background
    out["seg"][1:, 1] = 20.0  # pieces 1 and 2: all body
    out["logits"][0] = [9.0, 0.0, 0.0]
    out["logits"][1:] = [0.0, 3.0, 0.0]
    out["embedding"][1:] = [0.0, 1.0, 0.0, 0.0]
    joined = combine(out, pieces, 64)
    assert joined["logits"].shape == (1, 3)
    assert joined["logits"][0, 1] > 2.9 and joined["logits"][0, 0] < 0.1
    assert np.isclose(np.linalg.norm(joined["embedding"][0]), 1.0)
    assert joined["embedding"][0, 1] > 0.99
    # Body evidence from the pieces that hold body; the other parts from all alike.
    assert joined["part_logits"].shape == (1, 3, 3)
    with pytest.raises(ValueError):
        combine({k: v[:2] for k, v in out.items()}, pieces, 64)


def _long_photo(short: int, times: int) -> Image.Image:
    rng = np.random.default_rng(3)
    arr = np.full((short, short * times, 3), (150, 40, 60), np.uint8)
    arr[: short // 8] = (220, 180, 60)  # a border along both edges
    arr[-short // 8 :] = (220, 180, 60)
    noise = rng.integers(-10, 10, size=arr.shape)
    return Image.fromarray(np.clip(arr.astype(int) + noise, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def predictor(tiny_model: Path) -> Predictor:
    return Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)


def test_a_long_photo_is_read_in_pieces_not_flagged_as_too_thin(predictor: Predictor) -> None:
    side = predictor.manifest.preprocessing.size
    long = _long_photo(side, 6)
    pred = predictor.predict(long)
    assert pred.pieces == len(layout(long.size, side).offsets) > 1  # type: ignore[union-attr]
    assert not any(r.startswith(TOO_SMALL_START) for r in pred.uncertain_reasons)
    assert pred.part_mask.shape == (side, 6 * side)
    assert pred.heatmap(pred.visual[0][0]).shape == (side, 6 * side)
    assert pred.to_dict()["read_in_pieces"] == pred.pieces
    assert "read_in_pieces" not in predictor.predict(photo(side, side)).to_dict()
    # The way before: squeezed whole into the square, and flagged as too thin.
    whole = Predictor(
        predictor.manifest.path,
        threads=1,
        load_graph=False,
        cloth=False,
        person=False,
        pieces=False,
    ).predict(long)
    assert whole.pieces == 1 and "too thin" in whole.uncertain_reasons[0]


def test_a_photo_alike_all_along_reads_as_one_of_its_pieces(predictor: Predictor) -> None:
    side = predictor.manifest.preprocessing.size
    long = _long_photo(side, 6)
    square = long.crop((0, 0, side, side))
    pieces = predictor.predict(long)
    one = predictor.predict(square)
    for t, p in one.visual_probs.items():
        assert pieces.visual_probs[t] == pytest.approx(p, abs=0.03)
    assert [t for t, _ in pieces.visual[:2]] == [t for t, _ in one.visual[:2]]


def test_a_folder_with_a_long_photo_keeps_every_other_answer(
    predictor: Predictor, tmp_path: Path
) -> None:
    side = predictor.manifest.preprocessing.size
    paths = []
    for name, img in (
        ("a.png", photo(120, 90, seed=1)),
        ("long.png", _long_photo(side, 5)),
        ("c.png", photo(90, 120, seed=2)),
    ):
        img.save(tmp_path / name)
        paths.append(tmp_path / name)
    many = dict(predictor.predict_many(paths, batch_size=3))
    alone = dict(predictor.predict_many([paths[0], paths[2]], batch_size=2))
    for p in (paths[0], paths[2]):
        assert many[p].visual_probs == pytest.approx(alone[p].visual_probs, abs=1e-6)
        assert many[p].pieces == 1
    assert many[paths[1]].pieces > 1
    one = predictor.predict(paths[1])
    assert many[paths[1]].visual_probs == pytest.approx(one.visual_probs, abs=1e-4)


def test_a_curators_part_map_on_a_long_photo_is_the_map_shown(predictor: Predictor) -> None:
    side = predictor.manifest.preprocessing.size
    long = _long_photo(side, 6)
    labels = np.zeros((partmap.MAP_SIDE, partmap.MAP_SIDE), np.uint8)
    labels[8:56, :] = partmap.BODY
    labels[8:16, :] = partmap.BORDER
    labels[:, 48:] = np.where(labels[:, 48:] == partmap.BODY, partmap.PALLU, labels[:, 48:])
    pred = predictor.predict(long, part_map=labels)
    assert pred.pieces > 1
    shown = pred.part_mask
    assert shown.shape == (side, 6 * side)
    assert np.array_equal(shown, partmap.at_size(labels, long.size))
    assert all(np.isfinite(p) for p in pred.visual_probs.values())


@pytest.fixture
def with_cloth(tiny_model: Path) -> tuple[ClothFeatures, Predictor, Image.Image, Pieces]:
    """The shipped cloth features beside the tiny model, and a long photo wide enough for the
    cloth model's own square, with its pieces."""
    cloth = ClothFeatures(default_path(), threads=1)
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=cloth, person=False)
    side = predictor.manifest.preprocessing.size
    long = _long_photo(4 * side, 6)
    pieces = layout(long.size, side)
    assert pieces is not None
    return cloth, predictor, long, pieces


def test_the_cloth_checks_read_a_long_photo_a_piece_at_a_time(
    with_cloth: tuple[ClothFeatures, Predictor, Image.Image, Pieces],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloth, predictor, long, pieces = with_cloth
    side = predictor.manifest.preprocessing.size
    seen: list[tuple[int, int]] = []
    read = cloth.whole

    def whole(photo: Image.Image) -> object:
        seen.append(photo.size)
        return read(photo)

    monkeypatch.setattr(cloth, "whole", whole)
    pred = predictor.predict(long)
    # Each piece, not the whole strip squeezed into the cloth model's square.
    assert seen == [(4 * side, 4 * side)] * len(pieces.offsets)
    vectors = [read(crop)[0] for crop in pieces.crops(long)]
    mean = np.mean(vectors, axis=0)
    assert np.allclose(pred.cloth_whole(pred.photo), mean / np.linalg.norm(mean), atol=1e-5)


def test_a_long_photo_does_not_look_like_cloth_only_when_most_pieces_do_not(
    with_cloth: tuple[ClothFeatures, Predictor, Image.Image, Pieces],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloth, predictor, long, pieces = with_cloth
    side = predictor.manifest.preprocessing.size
    n = len(pieces.offsets)
    for unlike, flagged in ((1, False), (n // 2, False), (n // 2 + 1, True), (n, True)):
        judged: list[Image.Image] = []

        def not_cloth(
            photo: Image.Image,
            whole: float | None = None,
            k: int = unlike,
            judged: list[Image.Image] = judged,
        ) -> bool:
            judged.append(photo)
            return len(judged) <= k

        monkeypatch.setattr(cloth, "not_cloth", not_cloth)
        _vector, says = cloth.whole_in_pieces(pieces.crops(long))
        assert says is flagged, (unlike, n)
        assert [p.size for p in judged] == [(4 * side, 4 * side)] * n  # each piece on its own


def test_a_photo_file_is_known_to_be_read_in_pieces_from_its_header(tmp_path: Path) -> None:
    from saree_app.imaging import upright_size
    from saree_app.model.pieces import read_in_pieces

    photo(1100, 200).save(tmp_path / "laid.png")
    photo(400, 300).save(tmp_path / "plain.png")
    # A camera's long photo stored on its side, to be turned upright by its EXIF orientation.
    exif = Image.Exif()
    exif[0x0112] = 6
    photo(200, 1100).save(tmp_path / "turned.jpg", exif=exif)
    (tmp_path / "notes.jpg").write_bytes(b"not a picture")
    assert upright_size(tmp_path / "turned.jpg") == (1100, 200)
    assert read_in_pieces(tmp_path / "laid.png", 256)
    assert read_in_pieces(tmp_path / "turned.jpg", 256)
    assert not read_in_pieces(tmp_path / "plain.png", 256)
    assert upright_size(tmp_path / "notes.jpg") is None
    assert not read_in_pieces(tmp_path / "notes.jpg", 256)
    assert not read_in_pieces(tmp_path / "gone.jpg", 256)


def test_a_curators_map_on_a_long_photo_pools_as_on_one_of_its_pieces() -> None:
    # The canvas lays several pieces' class activations side by side: pooling under a map must
    # use the classifier's own bias and one piece's cloth, not the canvas's sums, which would
    # move every answer as many times too far as there are pieces.
    from saree_app.imaging import Letterbox

    pieces = Pieces(size=(250, 100), offsets=(0, 75, 150))
    out = _outputs(3, 8, classes=2)
    out["seg"][:, 1] = 20.0  # all cloth (body)
    bias = np.array([0.5, -0.5], np.float32)
    out["cam"][:, 0, :2, :] = 1.0  # the upper half looks like the first class, the rest nothing
    out["logits"][:] = bias + out["cam"].sum(axis=(2, 3))
    labels = np.zeros((partmap.MAP_SIDE, partmap.MAP_SIDE), np.uint8)
    labels[: partmap.MAP_SIDE // 2] = partmap.BODY  # the curator marks the upper half
    joined = combine(out, pieces, 64)
    assert np.allclose(joined["cam_bias"][0], bias)
    canvas = partmap.repool(
        joined["cam"][0][:, :, :],
        joined["logits"][0],
        joined["seg"][0],
        labels,
        pieces.canvas(64),
        bias=joined["cam_bias"][0],
        seen=float(joined["cam_seen"][0]),
    )
    box = Letterbox(size=64, scale=0.64, offset_x=0, offset_y=0, width=100, height=100)
    one = partmap.repool(out["cam"][0], out["logits"][0], out["seg"][0], labels, box)
    # The same evidence (to the one cell pooling adds to the cloth it divides by).
    assert canvas.logits == pytest.approx(one.logits, abs=0.25 * abs(one.logits[0] - bias[0]))
    # Read as a photo of its own, the canvas would have counted its sums as one photo's.
    naive = partmap.repool(
        joined["cam"][0], joined["logits"][0], joined["seg"][0], labels, pieces.canvas(64)
    )
    assert abs(naive.logits[0] - one.logits[0]) > 2 * abs(canvas.logits[0] - one.logits[0])


def test_the_part_map_reaches_the_photos_far_end_whatever_its_length() -> None:
    # The last piece ends where the photo ends on the canvas, as `unletterbox` reads it:
    # rounded apart, the two could differ by a cell, and the end would read background.
    for width in range(830, 2000, 37):
        for size in ((width, 200), (200, width)):
            pieces = layout(size, 256)
            assert pieces is not None, size
            out = _outputs(len(pieces.offsets), 128)
            out["seg"][:, 1] = 20.0  # every piece all body
            joined = combine(out, pieces, 256)
            shown = unletterbox(joined["seg"][0], pieces.canvas(256)).argmax(axis=0)
            assert shown.shape == size[::-1]
            assert (shown == 1).all(), size


def test_a_long_photo_is_decided_on_its_own_size_and_read_wide_enough(
    predictor: Predictor, tmp_path: Path
) -> None:
    side = predictor.manifest.preprocessing.size
    # Decoded smaller (a JPEG's draft rounds its sides up), a photo just over ten times
    # longer than wide could cross the line: whether it is read in pieces is decided on the
    # photo's own size, as what the app says of it is.
    assert predictor.pieces_of((10010, 1000)) is None
    some = predictor.pieces_of((9990, 1010))
    assert some is not None and some.size == (9990, 1010)
    _array, box = predictor._prepare(Image.new("RGB", (999, 101)), some)
    assert box.width == 9990
    Image.new("RGB", (14011, 1401), (150, 40, 60)).save(tmp_path / "long.jpg", quality=80)
    loaded = predictor._load(tmp_path / "long.jpg")
    assert layout(loaded.photo.size, side) is not None  # the decoded copy is under 10:1
    assert loaded.pieces is None and loaded.photo_size == (14011, 1401)
    crops = some.crops(Image.new("RGB", (999, 101)))  # the same shares of the smaller copy
    assert all(abs(c.width - 101) <= 1 and c.height == 101 for c in crops)
    # Decoded for the model alone (no cloth features), a long picture keeps its width at the
    # model's side or more: each piece is not enlarged more than twice.
    photo(10 * side * 3, side * 3).save(tmp_path / "laid.png")
    pred = predictor.predict(tmp_path / "laid.png")
    assert pred.pieces > 1 and min(pred.photo.size) >= side  # type: ignore[union-attr]
