"""Thumbnail loader: a read that finishes after clear() does not outlive it."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def test_a_failure_read_before_clear_does_not_mark_the_photo_broken(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path
) -> None:
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore

    loader = ThumbnailLoader(ThumbnailStore(tmp_path / "cache"))
    gone = tmp_path / "gone.jpg"
    loader.request(1, gone)  # the file is missing: the read fails
    qtbot.waitUntil(lambda: loader.is_broken(1), timeout=10000)
    loader.clear()
    assert not loader.is_broken(1)
    # A failure of a read begun before the clear, delivered after it, is ignored ...
    loader._on_failed(1, gone, loader._generation - 1)
    assert not loader.is_broken(1)
    # ... so when the file is back, asking again brings its thumbnail.
    Image.new("RGB", (40, 30), (200, 30, 40)).save(gone)
    loader.request(1, gone)
    qtbot.waitUntil(lambda: loader.pixmap(1) is not None, timeout=10000)
    loader.shutdown()


def test_a_failure_at_an_old_path_does_not_stop_the_new_one(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path
) -> None:
    """A photo relocated while its old path's read was failing: the new path is still read."""
    from saree_app.gui.thumbs import ThumbnailLoader, ThumbnailStore

    loader = ThumbnailLoader(ThumbnailStore(tmp_path / "cache"))
    old, new = tmp_path / "old.jpg", tmp_path / "new.jpg"
    Image.new("RGB", (40, 30), (20, 130, 40)).save(new)
    loader._on_failed(7, old, loader._generation)  # the old path's failure lands late
    assert loader.is_broken(7) and loader.is_broken(7, old) and not loader.is_broken(7, new)
    loader.request(7, new)
    qtbot.waitUntil(lambda: loader.pixmap(7) is not None, timeout=10000)
    loader.shutdown()
