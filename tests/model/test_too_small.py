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
