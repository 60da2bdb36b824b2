"""Correcting the part map in the photo view: paint, save, see it used, revert."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from saree_app.model import partmap
from tests.gui.conftest import wait_idle

QtCore = pytest.importorskip("PySide6.QtCore")
Qt = QtCore.Qt
SHOTS = Path(os.environ.get("SAREE_SHOTS", "/tmp/shots"))


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots for a person to look at; a test never depends on them."""
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(SHOTS / name))
    except OSError:
        pass


def _open(qtbot, win):  # type: ignore[no-untyped-def]
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis is not None, timeout=10000)
    win.tabs.setCurrentIndex(1)
    return win.current_item()


def _drag(qtbot, canvas, points: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    pos = [canvas.widget_pos(x, y).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pos[0])
    for p in pos[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pos[-1])


def test_paint_a_border_save_and_revert(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _open(qtbot, win)
    lib = win.library
    before = win.photo.analysis.prediction
    assert before.part_map is None and not win.photo.parts_note.isVisibleTo(win.photo)
    assert win.photo.overlays.edit_parts.isEnabled()
    win.photo.overlays.parts.setChecked(True)

    qtbot.mouseClick(win.photo.overlays.edit_parts, Qt.MouseButton.LeftButton)
    editor = win.part_editing.editor
    assert editor is not None and editor.isVisible()
    assert "model's part map" in editor.whose.text()
    canvas = editor.canvas
    # Where the saree is: a box over the left two thirds; then a border stroke down its edge.
    editor.tool_buttons["box"].click()
    _drag(qtbot, canvas, [(0.05, 0.1), (0.4, 0.5), (0.66, 0.9)])
    inside = partmap.box(0.05, 0.1, 0.66, 0.9)
    assert (canvas.labels[~inside] == partmap.BACKGROUND).all()
    assert (canvas.labels[inside] != partmap.BACKGROUND).any()
    editor.tool_buttons["body"].click()
    editor.brush.setValue(8)
    _drag(qtbot, canvas, [(0.1, 0.2), (0.3, 0.5), (0.5, 0.8)])
    assert (canvas.labels == partmap.BODY).any()
    editor.tool_buttons["border"].click()
    editor.brush.setValue(3)
    _drag(qtbot, canvas, [(0.6, 0.15), (0.6, 0.5), (0.6, 0.85)])
    border = canvas.labels == partmap.BORDER
    assert border[:, 36:40].any() and not border[:, :30].any()
    editor.tool_buttons["eraser"].click()
    _drag(qtbot, canvas, [(0.1, 0.15), (0.12, 0.2)])
    assert canvas.labels[11, 7] == partmap.BACKGROUND
    assert editor.undo_button.isEnabled()
    canvas.undo()  # the eraser stroke taken back
    assert canvas.labels[11, 7] != partmap.BACKGROUND
    drawn = canvas.labels.copy()
    _shot(editor, "parts_editor.png")

    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis.prediction.part_map is not None, timeout=15000)
    stored = lib.catalog.part_map(item.id)
    assert stored is not None and np.array_equal(stored.labels, drawn)
    after = win.photo.analysis.prediction
    assert np.array_equal(after.part_map, drawn)
    # The evidence was pooled under the drawn map: its areas are the map's.
    areas = {p.part: p.area for p in after.parts}
    assert areas["border"] == pytest.approx(float((drawn == partmap.BORDER).mean()))
    assert {p.part: p.area for p in before.parts} != areas
    # Shown instead of the model's map, with the marker.
    mask = win.photo.analysis.mask
    h, w = mask.shape
    assert (mask == partmap.at_size(drawn, (w, h))).mean() > 0.97
    assert win.photo.parts_note.isVisibleTo(win.photo)
    assert "corrected by you" in win.photo.parts_note_text.text()
    _shot(win, "parts_photo_view_corrected.png")
    # The similar-by-part search reads the corrected part embeddings.
    sha = lib.predictor.manifest.sha256
    got = lib.catalog.embedding(item.id, sha, "border")
    # Stored at 4 bits (one step: the largest value / 7, schema 14), read back within half a step.
    want = after.part_embeddings[1]
    step = float(np.abs(want).max()) / 7
    assert got is not None and np.allclose(got, want, atol=step)

    # Opening the editor again starts from the correction and says whose it is.
    qtbot.mouseClick(win.photo.parts_edit, Qt.MouseButton.LeftButton)
    again = win.part_editing.editor
    assert np.array_equal(again.canvas.labels, drawn)
    assert "Corrected by you" in again.whose.text() and again.revert_button.isEnabled()
    again.reject()

    qtbot.mouseClick(win.photo.parts_revert, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis.prediction.part_map is None, timeout=15000)
    assert lib.catalog.part_map(item.id) is None
    assert not win.photo.parts_note.isVisibleTo(win.photo)


def test_saving_nothing_marked_is_refused_in_words(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _open(qtbot, win)
    editor = win.part_editing.open_editor()
    editor.canvas.set_labels(np.zeros((8, 8), np.uint8))
    editor.save_button.click()
    assert editor.isVisible() and "Nothing is marked as saree" in editor.whose.text()
    editor.reject()
    assert win.library.catalog.part_map(item.id) is None


def test_worn_saree_parts_come_with_a_warning_and_the_way_to_correct_them(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    """On a worn saree the app often mistakes a drape's border and pallu: while its parts are
    shown, the photo page says so and offers the correction; not otherwise."""
    win = imported
    _open(qtbot, win)
    page = win.photo
    analysis = page.analysis
    overlays = page.overlays
    overlays.parts.setChecked(False)
    overlays.part_heat.setChecked(False)
    analysis.worn = False
    page.refresh_overlays()
    overlays.parts.setChecked(True)
    assert not page.parts_note.isVisibleTo(page)  # not worn: nothing to say
    overlays.parts.setChecked(False)
    analysis.worn = True
    analysis.worn_face = True  # a person with a face wears it
    page.refresh_overlays()
    assert not page.parts_note.isVisibleTo(page)  # worn, but no parts shown
    overlays.parts.setChecked(True)
    assert page.parts_note.isVisibleTo(page)
    assert "Worn saree" in page.parts_note_text.text()
    # Taken for worn with no face found (a folded saree can be): said as what the app did.
    analysis.worn_face = False
    overlays.parts.setChecked(False)
    overlays.parts.setChecked(True)
    assert "Taken for a saree being worn" in page.parts_note_text.text()
    assert "Worn saree" not in page.parts_note_text.text()
    analysis.worn_face = True
    overlays.parts.setChecked(False)
    overlays.parts.setChecked(True)
    assert not page.parts_revert.isVisibleTo(page)  # nothing of the curator's to go back from
    _shot(win, "worn_parts_note.png")
    overlays.parts.setChecked(False)
    assert not page.parts_note.isVisibleTo(page)
    overlays.part_heat.setChecked(True)
    assert page.parts_note.isVisibleTo(page)
    qtbot.mouseClick(page.parts_edit, Qt.MouseButton.LeftButton)
    editor = win.part_editing.editor
    assert editor is not None and editor.isVisible()
    editor.close()


def test_analysis_says_worn_only_for_the_models_own_map_of_a_worn_saree(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from PIL import Image

    from saree_app.gui.analysis import analyse

    class Never:
        def check(self) -> None:
            pass

    def fake(region, part_map=None):  # type: ignore[no-untyped-def]
        return SimpleNamespace(
            part_map=part_map,
            part_mask_at=lambda size: np.zeros((size[1], size[0]), np.uint8),
            worn_region=lambda size: region,
            fused=SimpleNamespace(ranking=()),
            has_heatmap=lambda t: False,
            part_heatmap=lambda part, size: np.zeros((size[1], size[0])),
        )

    img = Image.new("RGB", (40, 30), (200, 50, 50))
    worn = np.ones((30, 40), bool)
    assert analyse(1, img, lambda _i: fake(worn), Never()).worn
    assert not analyse(1, img, lambda _i: fake(None), Never()).worn
    assert not analyse(1, img, lambda _i: fake(worn, part_map=np.zeros((12, 12))), Never()).worn


def test_a_photo_file_is_read_by_the_model_as_classify_reads_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    """The photo page hands the model the file (its own decode, at the size it needs: the
    same answer as `saree classify` and the import give), shows the photo at most
    DISPLAY_MAX on its longer side, and an unreadable file raises its reason."""
    from PIL import Image

    from saree_app.gui.analysis import DISPLAY_MAX, analyse
    from saree_app.gui.tasks import Cancel
    from saree_app.imaging import PhotoError
    from saree_app.model.predict import Predictor

    rng = np.random.default_rng(5)
    big = tmp_path / "big.jpg"
    pixels = rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((3200, 2400), Image.Resampling.BILINEAR).save(big, quality=90)
    predictor = Predictor(tiny_model, threads=1, load_graph=False, cloth=False, person=False)
    given: list[object] = []

    def predict(photo: object) -> object:
        given.append(photo)
        return predictor.predict(photo)  # type: ignore[arg-type]

    got = analyse(1, big, predict, Cancel(), name="big.jpg")
    assert given == [big]
    assert max(got.photo.width(), got.photo.height()) == DISPLAY_MAX
    assert got.photo.width() * 3 == got.photo.height() * 4
    alone = predictor.predict(big)
    assert got.prediction.visual == alone.visual
    assert got.prediction.photo.size == alone.photo.size  # the model's own, smaller decode
    assert max(alone.photo.size) < 3200
    assert got.mask is not None and got.mask.shape[1] <= 768

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 cut short")
    with pytest.raises(PhotoError):
        analyse(2, bad, predict, Cancel(), name="bad.jpg")


def test_a_large_photo_is_decoded_for_the_screen_at_the_size_it_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen's copy needs DISPLAY_MAX on the longer side: a photo at least twice that
    is draft-decoded at a reduced scale (JPEG), never below it; a smaller one whole."""
    from PIL import Image

    from saree_app.gui import analysis
    from saree_app.gui.tasks import Cancel

    monkeypatch.setattr(analysis, "DISPLAY_MAX", 100)
    asked: list[int | None] = []
    real = analysis.load_photo

    def noted(source: object, *, target: int | None = None, name: str | None = None) -> object:
        asked.append(target)
        return real(source, target=target, name=name)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis, "load_photo", noted)
    big, small = tmp_path / "big.jpg", tmp_path / "small.jpg"
    pixels = np.random.default_rng(1).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(big, quality=90)
    Image.fromarray(pixels[:60, :80]).save(small, quality=90)
    shown = analysis.analyse(1, big, None, Cancel(), name="big.jpg")
    assert asked == [75]  # 100 x 75 on screen: the shorter side it needs
    assert (shown.photo.width(), shown.photo.height()) == (100, 75)
    shown = analysis.analyse(2, small, None, Cancel(), name="small.jpg")
    assert asked[-1] is None and (shown.photo.width(), shown.photo.height()) == (80, 60)
    assert analysis._screen_side(tmp_path / "missing.jpg") is None


def test_a_long_photo_is_corrected_along_its_length(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A saree laid out whole in one long photo: the editor's grid follows the photo's length,
    so a stroke across the pallu at its end lands where it was drawn, not on a cell six
    times wider than tall."""
    from PySide6.QtGui import QImage

    from saree_app.gui.part_editor import PartEditor

    photo = QImage(2000, 200, QImage.Format.Format_RGB32)
    photo.fill(0x808080)
    start = np.full((partmap.MAP_SIDE, partmap.MAP_SIDE), partmap.BODY, np.uint8)
    editor = PartEditor("laid-out.jpg", photo, start)
    qtbot.addWidget(editor)
    editor.resize(1200, 500)
    editor.show()
    canvas = editor.canvas
    rows, cols = partmap.grid_for(2000, 200)
    assert canvas.labels.shape == (rows, cols) == (partmap.MAP_SIDE, 10 * partmap.MAP_SIDE)
    editor.tool_buttons["pallu"].click()
    _drag(qtbot, canvas, [(0.905, 0.1), (0.905, 0.5), (0.905, 0.9)])
    painted = np.flatnonzero((canvas.labels == partmap.PALLU).any(axis=0))
    # Within a few cells of 90.5% of the length: on a square grid a cell is 1.6% of it.
    assert painted.size and painted.min() >= 0.895 * cols and painted.max() <= 0.915 * cols
    # A box over the last tenth keeps only that as the saree.
    editor.tool_buttons["box"].click()
    _drag(qtbot, canvas, [(0.9, 0.0), (1.0, 1.0)])
    cloth = np.flatnonzero((canvas.labels != partmap.BACKGROUND).any(axis=0))
    assert cloth.min() >= 0.895 * cols
    saved: list[np.ndarray] = []
    editor.saved.connect(saved.append)
    editor.save_button.click()
    assert saved and saved[0].shape == (rows, cols)
    # The grid follows the photo's own size where it is known, as the catalogue stores the
    # map, not the screen copy's rounded one: 3,999 x 1,000 is under four times as long.
    shown = QImage(1600, 400, QImage.Format.Format_RGB32)
    own = PartEditor("nearly-long.jpg", shown, start, photo_size=(3999, 1000))
    qtbot.addWidget(own)
    assert own.canvas.labels.shape == partmap.grid_for(3999, 1000) == (64, 64)
    assert PartEditor("nearly-long.jpg", shown, start).canvas.labels.shape == (64, 256)


def test_the_lasso_keeps_what_is_drawn_round(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The saree lasso, dragged as a curator draws it: a triangle round the saree keeps the
    cells inside as they were and makes every cell outside background; a click is no lasso."""
    from PySide6.QtGui import QImage

    from saree_app.gui.part_editor import PartEditor

    photo = QImage(600, 600, QImage.Format.Format_RGB32)
    photo.fill(0x806040)
    start = np.full((partmap.MAP_SIDE, partmap.MAP_SIDE), partmap.BODY, np.uint8)
    start[:, : partmap.MAP_SIDE // 8] = partmap.BORDER
    editor = PartEditor("worn.jpg", photo, start)
    qtbot.addWidget(editor)
    editor.resize(700, 700)
    editor.show()
    canvas = editor.canvas
    editor.tool_buttons["lasso"].click()
    corners = [(0.1, 0.9), (0.5, 0.1), (0.9, 0.9)]
    _drag(qtbot, canvas, [*corners, (0.12, 0.88)])
    inside = partmap.polygon([*corners, (0.12, 0.88)], canvas.labels.shape)
    kept = canvas.labels != partmap.BACKGROUND
    # Cell by cell what the lasso drew round, up to the cells its line cuts.
    assert (kept == inside).mean() > 0.97
    assert not kept[0].any() and kept[int(0.8 * partmap.MAP_SIDE), partmap.MAP_SIDE // 2]
    assert (canvas.labels[kept] == start[kept]).all()  # the parts inside are left as they were
    assert editor.undo_button.isEnabled()
    canvas.undo()
    assert np.array_equal(canvas.labels, start)
    # A click with the lasso keeps nothing and changes nothing.
    _drag(qtbot, canvas, [(0.5, 0.5)])
    assert np.array_equal(canvas.labels, start)
