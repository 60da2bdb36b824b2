"""A photo too small to show weave and motifs (a thumbnail) is flagged, and says why first."""

from __future__ import annotations

from pathlib import Path

from tiny_onnx import photo

from saree_app.model.predict import TOO_SMALL_START, Predictor, too_small


def test_a_photo_under_half_the_models_side_is_too_small() -> None:
    assert too_small((20, 20), 256) == (
        "the photo is only 20 x 20 pixels, too small to show the weave and motifs (the model "
        "reads photos at 256 pixels): use a larger photo if there is one"
    )
    assert too_small((127, 40), 256) is not None
    assert too_small((128, 40), 256) is None  # enlarged at most twice: read as it is
    assert too_small((4000, 3000), 256) is None


def test_a_thumbnail_is_flagged_with_its_size_before_any_other_reason(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    side = predictor.manifest.preprocessing.size  # 64 for the tiny model
    thumb = predictor.predict(photo(side // 2 - 1, side // 4))
    assert thumb.uncertain
    assert thumb.uncertain_reasons[0].startswith(TOO_SMALL_START)
    assert f"{side // 2 - 1} x {side // 4} pixels" in thumb.uncertain_reasons[0]
    fine = predictor.predict(photo(side // 2, side // 4))
    assert not any(r.startswith(TOO_SMALL_START) for r in fine.uncertain_reasons)


def test_a_whole_saree_laid_out_is_read_in_pieces_up_to_ten_times_longer_than_wide() -> None:
    assert too_small((6000, 1100), 256) is None  # read in pieces (model/pieces.py)
    assert too_small((4000, 1000), 256) is None  # a quarter of the square: read whole
    # Too narrow for its pieces: each would be enlarged more than twice.
    narrow = too_small((600, 100), 256)
    assert narrow is not None and narrow.startswith(TOO_SMALL_START)
    assert "100 pixels across (600 x 100)" in narrow and "a piece at a time" in narrow
    assert too_small((640, 128), 256) is None
    # More than ten times longer than wide: not read in pieces, too thin.
    thin = too_small((6000, 500), 256)
    assert thin is not None and thin.startswith(TOO_SMALL_START)
    assert "21 pixels across" in thin and "12.0 times longer than wide" in thin
    assert "more than the 10 times the app reads in pieces" in thin
    assert too_small((500, 6000), 256) == thin.replace("6000 x 500", "500 x 6000")
    sliver = too_small((5000, 1), 256)  # a one-pixel line: no "0 pixels across"
    assert sliver is not None and sliver.startswith("the photo is only under a pixel across")


def test_without_pieces_a_whole_saree_laid_out_is_too_thin() -> None:
    thin = too_small((6000, 1100), 256, pieces=False)
    assert thin is not None and thin.startswith(TOO_SMALL_START)
    assert "47 pixels across" in thin and "5.5 times longer than wide" in thin
    assert "in pieces" not in thin
    assert too_small((1100, 6000), 256, pieces=False) == thin.replace("6000 x 1100", "1100 x 6000")
    assert too_small((4000, 1000), 256, pieces=False) is None  # a quarter of the square
    assert too_small((3000, 1200), 256, pieces=False) is None


def test_a_long_photo_is_flagged_through_the_predictor(tiny_model: Path) -> None:
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    long = predictor.predict(photo(700, 60))  # 11.7 times longer than wide: too thin
    assert long.uncertain and "pixels across once fitted" in long.uncertain_reasons[0]
    narrow = predictor.predict(photo(300, 31))  # pieces of 31 px for a 64 px model
    assert narrow.uncertain and "a piece at a time" in narrow.uncertain_reasons[0]
    read = predictor.predict(photo(400, 90))  # read in pieces of 90 px
    assert read.pieces > 1
    assert not any(r.startswith(TOO_SMALL_START) for r in read.uncertain_reasons)
    wide = predictor.predict(photo(400, 100))  # 16 px: a quarter, read whole
    assert wide.pieces == 1
    assert not any(r.startswith(TOO_SMALL_START) for r in wide.uncertain_reasons)
