"""Photo-space augmentation for the feature cache: seeded, and the mask moves with the photo."""

from __future__ import annotations

import numpy as np
from PIL import Image

from saree_app.train.augment import augment


def _photo() -> tuple[Image.Image, Image.Image]:
    """Red body with a blue pallu at the right, on grey; the mask says the same."""
    arr = np.full((96, 128, 3), 128, np.uint8)
    mask = np.zeros((96, 128), np.uint8)
    arr[20:76, 20:88] = (230, 20, 20)
    mask[20:76, 20:88] = 1
    arr[20:76, 88:112] = (20, 20, 230)
    mask[20:76, 88:112] = 3
    return Image.fromarray(arr), Image.fromarray(mask)


def test_same_seed_same_photo_other_seed_other_photo() -> None:
    img, mask = _photo()
    a, ma = augment(img, mask, 5)
    b, mb = augment(img, mask, 5)
    c, _ = augment(img, mask, 6)
    assert ma is not None and mb is not None
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert np.array_equal(np.asarray(ma), np.asarray(mb))
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    assert a.size == img.size and ma.size == img.size


def test_the_part_mask_follows_the_cloth() -> None:
    img, mask = _photo()
    for seed in range(1, 13):
        out, m = augment(img, mask, seed)
        assert m is not None
        arr = np.asarray(out, dtype=np.int32)
        ids = np.asarray(m)
        assert set(np.unique(ids)) <= {0, 1, 3}
        body, pallu = ids == 1, ids == 3
        assert body.sum() > 200 and pallu.sum() > 50, seed
        # Colour casts shift channels but never turn the red body blue or the blue pallu red.
        assert np.median(arr[body, 0] - arr[body, 2]) > 60, seed
        assert np.median(arr[pallu, 2] - arr[pallu, 0]) > 60, seed


def test_without_a_mask_the_photo_is_still_changed() -> None:
    img, _ = _photo()
    out, m = augment(img, None, 3)
    assert m is None
    assert out.size == img.size
    assert not np.array_equal(np.asarray(out), np.asarray(img))


def test_a_piece_is_cut_from_the_cloth_and_enlarged() -> None:
    img, mask = _photo()
    cloth_before = int(np.isin(np.asarray(mask), (1, 2, 3)).sum())
    alone = 0
    for seed in range(1, 21):
        out, m = augment(img, mask, seed, piece=True)
        assert m is not None and out.size == img.size
        arr = np.asarray(out, dtype=np.int32)
        ids = np.asarray(m)
        assert set(np.unique(ids)) <= {0, 1, 3}
        body, pallu = ids == 1, ids == 3
        assert body.sum() + pallu.sum() > 0.3 * cloth_before, seed  # enlarged, not lost
        # The labels still follow the colours: the cut moves the mask with the photo.
        if body.sum() > 30:
            assert np.median(arr[body, 0] - arr[body, 2]) > 60, seed
        if pallu.sum() > 30:
            assert np.median(arr[pallu, 2] - arr[pallu, 0]) > 60, seed
        alone += int(body.sum() == 0 or pallu.sum() == 0)
    # The whole photo always shows both parts; some pieces show only one of them.
    assert alone >= 2


def test_a_piece_needs_a_mask_and_is_its_own_draw() -> None:
    img, mask = _photo()
    plain, _ = augment(img, mask, 4)
    piece, _ = augment(img, mask, 4, piece=True)
    assert not np.array_equal(np.asarray(plain), np.asarray(piece))
    # Without a mask there is nothing to cut by: the photo is changed as usual.
    a, _ = augment(img, None, 4, piece=True)
    b, _ = augment(img, None, 4)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def _edge_texture(arr: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: how busy a surface is."""
    a = arr.astype(np.float32)
    return float(np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean())


def test_varied_surfaces_are_busier_and_the_mask_still_follows_the_cloth() -> None:
    img, mask = _photo()
    busy = {"basic": [], "varied": []}
    for surfaces in ("basic", "varied"):
        for seed in range(1, 25):
            out, m = augment(img, mask, seed, surfaces=surfaces)
            assert m is not None
            arr = np.asarray(out, dtype=np.int32)
            ids = np.asarray(m)
            body, pallu = ids == 1, ids == 3
            assert body.sum() > 200 and pallu.sum() > 50, (surfaces, seed)
            assert np.median(arr[body, 0] - arr[body, 2]) > 60, (surfaces, seed)
            assert np.median(arr[pallu, 2] - arr[pallu, 0]) > 60, (surfaces, seed)
            # How busy the new surface is, read where the mask says background.
            bg = ids == 0
            rows = np.flatnonzero(bg.all(axis=1))
            if len(rows) >= 8:
                busy[surfaces].append(_edge_texture(arr[rows]))
    assert len(busy["basic"]) >= 10 and len(busy["varied"]) >= 10
    # Textures and clutters: a varied background is on the whole busier than a basic one.
    assert np.mean(busy["varied"]) > 1.2 * np.mean(busy["basic"])
    a, _ = augment(img, mask, 9, surfaces="varied")
    b, _ = augment(img, mask, 9, surfaces="varied")
    assert np.array_equal(np.asarray(a), np.asarray(b))  # still one seeded draw


def test_surfaces_are_checked_and_each_background_is_a_valid_image() -> None:
    import pytest

    from saree_app.train.augment import background

    for seed in range(12):
        bg = background(np.random.default_rng(seed), (40, 30), "varied")
        assert bg.shape == (30, 40, 3)
        assert bg.min() >= 0 and bg.max() <= 255 and np.isfinite(bg).all()
    with pytest.raises(ValueError, match="surfaces"):
        background(np.random.default_rng(0), (40, 30), "wood")


def test_the_cache_key_tells_surfaces_apart_only_on_changed_copies() -> None:
    from pathlib import Path

    from saree_app.train.cache import cache_key
    from saree_app.train.data import Item
    from saree_app.train.export import default_preprocessing

    prep = default_preprocessing(64)
    plain = Item(Path("a.jpg"), "Banarasi")
    changed = Item(Path("a.jpg"), "Banarasi", augment=5)

    def key(it: Item) -> str:
        return cache_key([it], prep, "b")

    varied = Item(Path("a.jpg"), "Banarasi", augment=5, surfaces="varied")
    assert key(changed) != key(varied)
    # A photo as it is has no background to change: its rows are shared by both caches.
    assert key(plain) == key(Item(Path("a.jpg"), "Banarasi", surfaces="varied"))
    assert Item.from_dict(varied.to_dict()) == varied
    assert Item.from_dict({"image": "a.jpg", "tradition": "Banarasi"}).surfaces == "basic"
