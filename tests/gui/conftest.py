"""GUI test fixtures: a window on a fresh collection, the tiny model, generated photos.

Qt warnings fail a GUI test (like qutebrowser's qt_log_level_fail), except the offscreen
platform's notes that it cannot do window-manager things.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
QtCore = pytest.importorskip("PySide6.QtCore")

TRADITIONS = ("Kanchipuram", "Banarasi", "PochampallyIkat")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(
                pytest.mark.qt_log_ignore(
                    r"This plugin does not support", r"QFont::", r"propagateSizeHints"
                )
            )


def write_photos(
    folder: Path, count: int, *, seed: int = 0, size: tuple[int, int] = (160, 120)
) -> list[Path]:
    """Small striped 'sarees' in per-tradition folders (distinct content, so no duplicates)."""
    rng = np.random.default_rng(seed)
    out = []
    w, h = size
    for i in range(count):
        d = folder / TRADITIONS[i % len(TRADITIONS)]
        d.mkdir(parents=True, exist_ok=True)
        img = np.empty((h, w, 3), np.uint8)
        img[:] = rng.integers(30, 230, 3)
        img[:, : w // 8] = rng.integers(0, 255, 3)
        img[:, -w // 5 :] = rng.integers(0, 255, 3)
        img[:: 6 + i % 5] = rng.integers(0, 255, 3)
        path = d / f"saree_{seed}_{i:03d}.jpg"
        Image.fromarray(img).save(path, quality=90)
        out.append(path)
    return out


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    write_photos(folder, 9)
    return folder


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


def wait_idle(qtbot, win, timeout: int = 30000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: (
            win._loaded.is_set()
            and not win.loader_jobs.busy
            and not win.jobs.busy
            and not win.lister.busy
            and not win.looker.busy
            and not win.finder.busy
            and not win.teacher.busy
            and not win.reranker.busy
        ),
        timeout=timeout,
    )


def show_row(qtbot, win, row: int = 0):  # type: ignore[no-untyped-def]
    """Open the photo at `row` of the grid on the Photo tab, and wait until its page shows it;
    returns its item."""
    win.tabs.setCurrentIndex(1)
    win.grid.setCurrentIndex(win.model.index(row))
    wait_idle(qtbot, win)
    qtbot.waitUntil(
        lambda: win.photo.analysis is not None and win.photo.analysis.key == win.current_item().id,
        timeout=10000,
    )
    QtCore.QCoreApplication.processEvents()
    return win.current_item()


@pytest.fixture
def make_window(qtbot, tmp_path: Path, settings, tiny_model: Path):  # type: ignore[no-untyped-def]
    from saree_app.gui.thumbs import ThumbnailStore
    from saree_app.gui.window import MainWindow

    made = []

    def make(model: Path | None = tiny_model, collection: Path | None = None):  # type: ignore[no-untyped-def]
        win = MainWindow(
            settings,
            collection=collection or tmp_path / "collection.saree",
            model=model,
            thumbs=ThumbnailStore(tmp_path / "thumbs"),
        )
        qtbot.addWidget(win)
        # The re-rank after a decision waits for the curator to pause; tests pause at once.
        win.reranker.timer.setInterval(50)
        win.resize(1200, 800)
        win.show()
        wait_idle(qtbot, win)
        made.append(win)
        return win

    yield make
    for win in made:
        win.shutdown()


@pytest.fixture
def window(make_window):  # type: ignore[no-untyped-def]
    return make_window()


def import_into(qtbot, window, folder: Path, count: int = 9) -> None:  # type: ignore[no-untyped-def]
    """Import a folder of `count` photos into the window's collection, its report closed."""
    window.start_import([folder])
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == count, timeout=10000)
    report = getattr(window, "last_report", None)
    if report is not None:
        report.close()


@pytest.fixture
def imported(qtbot, window, photos: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[no-untyped-def]
    """A window whose collection holds the nine generated photos."""
    import_into(qtbot, window, photos)
    yield window
