"""Data loading for training: labels.jsonl, curator folders, ontology checks, mask letterbox."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app.imaging import Preprocessing, preprocess
from saree_app.train.data import (
    DataError,
    letterbox_mask,
    load_dataset,
    load_vocabulary,
    ontology_attributes,
    select,
)


def _jpg(path: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), colour).save(path)


def test_curator_folder_by_label_with_attributes_and_masks(tmp_path: Path) -> None:
    _jpg(tmp_path / "Kanchipuram silk" / "a.jpg")
    _jpg(tmp_path / "Kanchipuram silk" / "b.jpg")
    Image.new("L", (40, 30), 1).save(tmp_path / "Kanchipuram silk" / "a.mask.png")
    (tmp_path / "Kanchipuram silk" / "attributes.json").write_text(
        json.dumps({"a.jpg": ["TempleBorder", "Peacock"]})
    )
    _jpg(tmp_path / "PochampallyIkat" / "c.jpeg")
    items = load_dataset(tmp_path)
    by_name = {it.image.name: it for it in items}
    assert set(by_name) == {"a.jpg", "b.jpg", "c.jpeg"}  # the mask is not a photo
    assert by_name["a.jpg"].tradition == "Kanchipuram"
    assert by_name["a.jpg"].attributes == ("TempleBorder", "Peacock")
    assert by_name["a.jpg"].mask == tmp_path / "Kanchipuram silk" / "a.mask.png"
    assert by_name["b.jpg"].mask is None
    assert by_name["c.jpeg"].tradition == "PochampallyIkat"
    # Splits come from the names, so they never move between runs.
    assert [it.split for it in items] == [it.split for it in load_dataset(tmp_path)]
    # Photos without attribute labels get the ontology's typical attributes of their tradition.
    weak = {it.image.name: it for it in ontology_attributes(items, load_vocabulary())}
    assert weak["a.jpg"].attributes == ("TempleBorder", "Peacock")
    assert "TempleBorder" in weak["b.jpg"].attributes
    assert "Peacock" not in weak["c.jpeg"].attributes


def test_unknown_folder_suggests_the_closest_tradition(tmp_path: Path) -> None:
    _jpg(tmp_path / "Banarsi" / "a.jpg")
    with pytest.raises(DataError, match=r"'Banarsi' is not a tradition.*Banarasi"):
        load_dataset(tmp_path)


def test_unknown_attribute_in_attributes_file(tmp_path: Path) -> None:
    _jpg(tmp_path / "Banarasi" / "a.jpg")
    (tmp_path / "Banarasi" / "attributes.json").write_text(json.dumps({"a.jpg": ["Unicorn"]}))
    with pytest.raises(DataError, match="'Unicorn' is not a motif"):
        load_dataset(tmp_path)


def test_labels_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    good = {"image": "x/1.jpg", "tradition": "Banarasi", "split": "train"}
    bad = {"image": "x/2.jpg", "tradition": "Kanjivaram Silk", "split": "train"}
    (tmp_path / "labels.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match=r"line 2.*not a tradition"):
        load_dataset(tmp_path)
    (tmp_path / "labels.jsonl").write_text(json.dumps(good) + "\n{broken\n")
    with pytest.raises(DataError, match="line 2: not a label record"):
        load_dataset(tmp_path)
    (tmp_path / "labels.jsonl").write_text(json.dumps(good | {"split": "holdout"}) + "\n")
    with pytest.raises(DataError, match="split 'holdout'"):
        load_dataset(tmp_path)


def test_select_by_split_and_tradition(tmp_path: Path) -> None:
    rows = [
        {"image": f"{t}/{i}.jpg", "tradition": t, "split": s}
        for i, (t, s) in enumerate(
            [("Banarasi", "train"), ("Gadwal", "train"), ("Ilkal", "test"), ("Banarasi", "test")]
        )
    ]
    (tmp_path / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    items = load_dataset(tmp_path)
    kept = select(items, splits=["train", "test"], exclude=["Gadwal", "Ilkal"])
    assert [it.tradition for it in kept] == ["Banarasi", "Banarasi"]
    assert [it.split for it in select(items, splits=["test"])] == ["test", "test"]


def test_mask_lands_where_the_photo_lands() -> None:
    # A wide photo whose right third is red; the mask marks the same third as pallu (3).
    w, h = 90, 45
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, 60:] = (255, 0, 0)
    mask = np.zeros((h, w), np.uint8)
    mask[:, 60:] = 3
    prep = Preprocessing(64, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (0, 0, 255))
    x, box = preprocess(Image.fromarray(arr), prep)
    m = letterbox_mask(Image.fromarray(mask, "L"), box, 64)
    red = (x[0] > 0.9) & (x[2] < 0.1)
    assert red.sum() > 100
    agree = (red == (m == 3)).mean()
    assert agree > 0.98
    assert (m[x[2] > 0.9] == 0).all()  # the padding is background


def test_rotated_copy_turns_photo_and_mask_together(tmp_path: Path) -> None:
    from saree_app.train.cache import _load
    from saree_app.train.data import Item

    arr = np.zeros((40, 90, 3), np.uint8)
    arr[:, 60:] = (255, 0, 0)  # red pallu at the right end
    mask = np.zeros((40, 90), np.uint8)
    mask[:, 60:] = 3
    Image.fromarray(arr).save(tmp_path / "a.png")
    Image.fromarray(mask, "L").save(tmp_path / "a.mask.png")
    prep = Preprocessing(64, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (0, 0, 255))
    item = Item(tmp_path / "a.png", "Banarasi", mask=tmp_path / "a.mask.png", rotate=90)
    loaded = _load(item, prep)
    assert loaded is not None
    x, m = loaded
    red = (x[0] > 0.9) & (x[2] < 0.1)
    # Turned counter-clockwise: the right end is now at the top.
    assert red[:20].sum() > red[44:].sum()
    m_up = np.asarray(Image.fromarray(m).resize((64, 64), Image.Resampling.NEAREST))
    assert (red == (m_up == 3)).mean() > 0.97
    assert Item.from_dict(item.to_dict()) == item
