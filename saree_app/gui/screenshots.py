"""`saree-app --screenshots DIR`: render each main view with the sample collection to PNGs."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QDialog, QWidget

from saree_app.gui.thumbs import ThumbnailStore

SIZE = (1440, 900)


def wait_until(cond: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Run a real event loop until `cond()` holds (True) or the timeout passes (False).

    A nested QEventLoop, not processEvents() plus sleep: the sleeping would itself stall
    the loop, and the stall benchmark must measure the app, not its driver.
    """
    if cond():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(20)
    end = time.monotonic() + timeout

    def check() -> None:
        if cond() or time.monotonic() > end:
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    return cond()


def settle(seconds: float = 0.3) -> None:
    wait_until(lambda: False, seconds)


def compress_png(path: Path) -> None:
    """256-colour PNG: a README screenshot at a third of the size, photos still smooth."""
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
    small = rgb.quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
    )
    small.save(path, "PNG", optimize=True)


def _grab(widget: QWidget, path: Path) -> Path:
    settle(0.2)
    widget.grab().save(str(path))
    compress_png(path)
    return path


def render_screenshots(out: Path, *, model: Path | None = None, samples: Path | None = None) -> int:
    """Write the PNGs; 0 on success, 1 (with a message) when something could not be shown."""
    from saree_app.gui.samples import sample_folder
    from saree_app.gui.window import TAB_COLLECTION, TAB_KNOWLEDGE, TAB_PHOTO, MainWindow

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = samples or sample_folder(tmp)
        if folder is None:
            print("no sample photos: resources/samples is empty and the renderer is missing")
            return 1
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        win = MainWindow(
            settings,
            collection=tmp / "collection.saree",
            model=model,
            thumbs=ThumbnailStore(tmp / "thumbs"),
        )
        win.resize(*SIZE)
        win.show()
        wait_until(lambda: win._loaded.is_set() and not win.loader_jobs.busy, 120)
        wait_until(lambda: not win.lister.busy, 30)
        written.append(_grab(win, out / "01-empty.png"))
        if win.library is None or win.library.predictor is None:
            print(f"no model: {win.library.model_problem if win.library else '?'}")
            win.close()
            return 1

        win.start_import([folder])
        wait_until(lambda: not win.jobs.busy, 600)
        report = getattr(win, "last_report", None)
        if report is not None:
            report.close()
        wait_until(lambda: not win.lister.busy and win.model.rowCount() > 0, 60)
        # Show a typical good answer: a sure one, preferably of a photo whose file name (the
        # samples are named after their tradition) agrees, most confident first.
        items = win.model.all_items()
        sure = [i for i in items if not i.uncertain] or items
        agreed = [i for i in sure if i.predicted and i.name.startswith(i.predicted)] or sure
        best = max(agreed, key=lambda i: i.probability)
        win.select_item(best.id)
        wait_until(lambda: not win.looker.busy, 60)
        wait_until(lambda: all(win.thumbs.pixmap(i.id) is not None for i in items[:24]), 30)
        win.tabs.setCurrentIndex(TAB_COLLECTION)
        written.append(_grab(win, out / "02-collection.png"))

        win.tabs.setCurrentIndex(TAB_PHOTO)
        bar = win.photo.overlays
        bar.parts.setChecked(True)
        written.append(_grab(win, out / "03-photo-parts.png"))
        bar.parts.setChecked(False)
        bar.heat.setChecked(True)
        bar.opacity.setValue(70)
        written.append(_grab(win, out / "04-photo-heatmap.png"))
        bar.heat.setChecked(False)

        cur = win.current_item()
        win.tabs.setCurrentIndex(TAB_KNOWLEDGE)
        if cur is not None and cur.tradition:
            win.knowledge.show_tradition(cur.tradition)
        written.append(_grab(win, out / "05-knowledge.png"))

        ids = win.photo.similar.result_ids()
        if ids:
            win.tabs.setCurrentIndex(TAB_PHOTO)
            win.compare_with(ids[0])
            dlg = win._compare
            if dlg is not None:
                dlg.resize(1200, 700)
                settle(0.3)
                dlg.left.zoom_by(2.0)
                written.append(_grab(dlg, out / "06-compare.png"))
                dlg.close()

        # An import with problems, to show the report.
        bad = tmp / "incoming"
        bad.mkdir()
        (bad / "scan-notes.txt").write_text("not a photo", encoding="utf-8")
        (bad / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
        (bad / "brochure.jpg").write_bytes(b"%PDF-1.4 not a photo")
        win.start_import([bad])
        wait_until(lambda: not win.jobs.busy, 60)
        report = getattr(win, "last_report", None)
        if isinstance(report, QDialog):
            settle(0.2)
            written.append(_grab(report, out / "07-import-report.png"))
            report.close()

        from saree_app.gui.dialogs import model_card_dialog

        info = win.library.model_info() if win.library else None
        card = model_card_dialog(info.card if info else None, win)
        card.show()
        written.append(_grab(card, out / "08-model-card.png"))
        card.close()
        win.close()
        settle(0.2)
    for p in written:
        print(p)
    return 0
