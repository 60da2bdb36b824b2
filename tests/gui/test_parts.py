"""Qt-light pieces: overlay colouring, filters, tags, thumbnail cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from saree_app.gui.curator import parse_tags
from saree_app.gui.items import CONFIRMED, UNCERTAIN, UNCONFIRMED, Filter, Item, apply_filter
from saree_app.gui.overlays import colour_heat, colour_mask, heat_lut, part_areas, to_uint8
from saree_app.gui.theme import PART_COLOURS
from saree_app.gui.thumbs import ThumbnailStore


def test_mask_colours_follow_the_legend() -> None:
    mask = np.array([[0, 1], [2, 3]], dtype=np.uint8)
    rgba = colour_mask(mask)
    assert rgba[0, 0, 3] == 0  # background stays see-through
    assert tuple(rgba[0, 1, :3]) == PART_COLOURS["body"]
    assert tuple(rgba[1, 0, :3]) == PART_COLOURS["border"]
    assert tuple(rgba[1, 1, :3]) == PART_COLOURS["pallu"]
    only_border = colour_mask(mask, ("border",))
    assert only_border[0, 1, 3] == 0 and only_border[1, 0, 3] > 0


def test_heat_ramp_gets_more_opaque_and_brighter() -> None:
    lut = heat_lut()
    assert lut.shape == (256, 4)
    assert np.all(np.diff(lut[:, 3].astype(int)) >= 0)
    assert lut[0, 3] == 0 and lut[255, 3] > 200
    heat = to_uint8(np.array([[0.0, 0.5], [1.0, 2.0]]), size=(4, 4))
    assert heat.shape == (4, 4) and heat.dtype == np.uint8
    assert colour_heat(heat).shape == (4, 4, 4)


def test_part_areas_sum_with_background_to_one() -> None:
    mask = np.zeros((10, 10), np.uint8)
    mask[:, :5] = 1
    mask[:2] = 2
    areas = part_areas(mask)
    assert abs(areas["border"] - 0.2) < 1e-9
    assert abs(areas["body"] - 0.4) < 1e-9
    assert areas["pallu"] == 0.0


def _item(i: int, **kw) -> Item:  # type: ignore[no-untyped-def]
    return Item(id=i, name=f"photo{i}.jpg", path=Path(f"/x/photo{i}.jpg"), **kw)


def test_filters_combine_tradition_status_and_words() -> None:
    items = [
        _item(1, predicted="Kanchipuram", note="from the Madras donation"),
        _item(2, predicted="Banarasi", uncertain=True),
        _item(3, predicted="Banarasi", confirmed="Kanchipuram", tags=("wedding",)),
    ]
    assert [items[i].status for i in range(3)] == [UNCONFIRMED, UNCERTAIN, CONFIRMED]
    assert apply_filter(items, Filter()) == [0, 1, 2]
    assert apply_filter(items, Filter(tradition="Kanchipuram")) == [0, 2]
    assert apply_filter(items, Filter(status=UNCERTAIN)) == [1]
    assert apply_filter(items, Filter(text="madras DONATION")) == [0]
    assert apply_filter(items, Filter(text="wedding", tradition="Kanchipuram")) == [2]
    assert apply_filter(items, Filter(text="silk"), labels={"Kanchipuram": "Kanchipuram silk"}) == [
        0,
        2,
    ]


def test_parse_tags() -> None:
    assert parse_tags(" silk, wedding ,, Silk,  red   border ") == ("silk", "wedding", "red border")
    assert parse_tags("") == ()


def test_thumbnail_store_caches_on_disk(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (800, 400), (200, 30, 30)).save(photo)
    store = ThumbnailStore(tmp_path / "cache", size=64)
    thumb = store.get(photo)
    assert thumb is not None and max(thumb.size) == 64
    cached = store.cache_path(photo)
    assert cached.is_file()
    again = store.get(photo)
    assert again is not None and again.size == thumb.size
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    assert store.get(tmp_path / "bad.jpg") is None


def test_library_lists_answers_of_an_older_model(tmp_path: Path, tiny_model: Path) -> None:
    from saree_app.collection.catalog import NewPhoto
    from saree_app.gui.library import Library

    lib = Library(tmp_path / "c.saree", model=tiny_model, import_in_child=False)
    lib.load()
    cat = lib.catalog
    old = cat.add_photo(NewPhoto(str(tmp_path / "old.jpg"), "a" * 64, 10))
    both = cat.add_photo(NewPhoto(str(tmp_path / "both.jpg"), "b" * 64, 10))
    for pid, top in ((old, "Paithani"), (both, "Paithani")):
        cat.put_prediction(
            pid, "f" * 64, {}, top_tradition=top, top_probability=0.7, uncertain=False
        )
    cat.put_prediction(
        both, lib.model_sha(), {}, top_tradition="Banarasi", top_probability=0.6, uncertain=True
    )
    cat.set_label(old, note="from the 1962 donation")
    items = {i.id: i for i in lib.items()}
    assert items[old].predicted == "Paithani" and items[old].note == "from the 1962 donation"
    assert items[both].predicted == "Banarasi" and items[both].uncertain  # current model wins
    lib.confirm(old, "Kanchipuram")
    assert lib.item(old).confirmed == "Kanchipuram"
    # A name that is not UTF-8 (stored as bytes) lists with its real path and a printable name.
    import os

    odd = tmp_path / os.fsdecode(b"caf\xe9.jpg")
    pid = cat.add_photo(NewPhoto(str(odd), "c" * 64, 10))
    assert (lib.item(pid).path, lib.item(pid).name) == (odd, "caf\\xe9.jpg")
    lib.close()


def test_tiny_probabilities_read_as_less_than_one_percent(qtbot) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel._fill_parts({"pallu": [("Paithani", 0.995), ("Chanderi", 0.0004)]}, {"pallu": 0.3})
    panel.show()
    text = panel.part_labels["pallu"].text()
    assert "&lt;1%" in text and "Chanderi" in text


def test_a_part_the_map_did_not_mark_is_said_of_the_map(qtbot) -> None:  # type: ignore[no-untyped-def]
    """'Border: not found in the photo' beside 'some sign of temple border' read as two answers
    (third walk): the part line speaks of the part map, which the curator can correct."""
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel._fill_parts(
        {"border": [("Kanchipuram", 0.6)], "body": [("Paithani", 0.5)]},
        {"border": 0.0, "body": 0.4},
    )
    text = panel.part_labels["border"].text()
    assert text.endswith(": not marked on the part map") and "photo" not in text
    assert "Paithani" in panel.part_labels["body"].text()
