"""The main flows on a real window, offscreen.

Import, select, overlays, confirm, notes and tags, similar, compare, knowledge browser,
filters, empty states, errors, remembered state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.conftest import import_into, wait_idle, write_photos

QtCore = pytest.importorskip("PySide6.QtCore")
Qt = QtCore.Qt


@pytest.fixture(autouse=True)
def no_modal_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Error boxes are recorded instead of blocking the test."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "saree_app.gui.window.show_error",
        lambda parent, title, message, details="": shown.append((title, message)),
    )
    return shown


def _select_first(qtbot, win):  # type: ignore[no-untyped-def]
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis is not None, timeout=10000)
    return win.current_item()


def test_empty_collection_says_what_to_do(window) -> None:  # type: ignore[no-untyped-def]
    assert window.collection_stack.currentWidget() is window.empty
    assert "Import" in window.empty_import.text()
    assert window.photo.stack.currentWidget() is window.photo.placeholder
    assert "model" in window.model_label.text().lower()


def test_import_with_progress_and_skipped_report(qtbot, window, photos: Path) -> None:  # type: ignore[no-untyped-def]
    (photos / "notes.txt").write_text("a catalogue note, not a photo")
    (photos / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    progress: list[object] = []
    window.jobs.progress.connect(progress.append)
    assert window.start_import([photos])
    assert window.progress.isVisible() and window.cancel_button.isVisible()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 9, timeout=10000)
    assert progress, "no progress reached the window"
    assert not window.progress.isVisible()
    report = window.last_report
    skipped = {
        report.table.item(r, 0).text(): report.table.item(r, 1).text()
        for r in range(report.table.rowCount())
    }
    assert set(skipped) == {"notes.txt", "cut.jpg"}
    assert all(reason for reason in skipped.values())
    assert "9 photos added" in report.summary.text()
    assert window.collection_stack.currentWidget() is window.grid
    qtbot.waitUntil(lambda: window.facets.status_buttons[None].text().endswith(" 9"))
    # Importing the same folder again adds nothing.
    window.start_import([photos])
    wait_idle(qtbot, window)
    assert window.model.rowCount() == 9


def test_dropped_files_are_imported(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = write_photos(tmp_path / "loose", 2, seed=7)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(f)) for f in files])
    from PySide6.QtGui import QDropEvent

    event = QDropEvent(
        QtCore.QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10000)
    assert {i.name for i in window.model.all_items()} == {f.name for f in files}


def test_cancel_import_keeps_what_was_imported(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "many"
    write_photos(folder, 60, seed=3)
    window.start_import([folder])
    window.cancel_import()
    wait_idle(qtbot, window)
    n = window.model.rowCount()
    assert n < 60
    assert n == window.library.catalog.count()
    assert not window.progress.isVisible()


def test_select_shows_the_answer(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    pred = win.photo.analysis.prediction
    ranking = pred.fused.ranking
    rows = win.photo.answer.rank_rows
    assert len(rows) == min(5, len(ranking))
    for (name, bar, _pct), r in zip(rows, ranking, strict=False):
        assert r.label in name.text()
        assert bar.value() == pytest.approx(r.probability)
    assert win.photo.answer.title.full_text() == item.name
    assert win.photo.answer.banner.isVisibleTo(win.photo.answer) == pred.uncertain
    assert set(win.photo.answer.part_labels) == {"body", "border", "pallu"}
    assert ranking[0].label in win.photo.curator.confirm_button.text()
    assert win.photo.viewer.has_photo()


def test_overlays_switch_and_blend(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    _select_first(qtbot, win)
    viewer, bar = win.photo.viewer, win.photo.overlays
    assert viewer.visible_layers() == []
    bar.parts.setChecked(True)
    assert viewer.visible_layers() == ["parts"]
    top = win.photo.analysis.ranked()[0]
    bar.choose_tradition(top)
    assert bar.heat.isChecked()
    # A heatmap is drawn over the photo in grey, the part colours over both.
    assert set(viewer.visible_layers()) == {"parts", "tradition heat", "muted photo"}
    stacked = [
        name
        for item in reversed(viewer.scene().items())  # bottom first
        for name, layer in viewer._layers.items()
        if layer is item
    ]
    assert stacked == ["muted photo", "tradition heat", "parts"]
    bar.part_heat.setChecked(True)
    assert set(viewer.visible_layers()) == {
        "parts",
        "tradition heat",
        "part heat",
        "muted photo",
    }
    bar.opacity.setValue(25)
    assert viewer.opacity() == pytest.approx(0.25)
    bar.parts.setChecked(False)
    bar.heat.setChecked(False)
    assert set(viewer.visible_layers()) == {"part heat", "muted photo"}
    bar.part_heat.setChecked(False)
    assert viewer.visible_layers() == []  # no heatmap, the photo in its own colours


def test_every_heatmap_of_a_photo_is_shown_on_the_answers_scale(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    """The answer's map is stretched to the top of the ramp; another tradition's on the same
    scale, so it shows no brighter than its evidence against the answer's."""
    from saree_app.gui.analysis import heat_for, heat_scale
    from saree_app.gui.overlays import _LUT

    win = imported
    _select_first(qtbot, win)
    a, bar, viewer = win.photo.analysis, win.photo.overlays, win.photo.viewer
    pred = a.prediction
    known = [r.tradition for r in pred.fused.ranking if pred.has_heatmap(r.tradition)]
    assert len(known) >= 2
    scale = heat_scale(a)
    assert scale == int(heat_for(a, known[0]).max()) and scale > 0

    def top_alpha(tradition: str) -> int:
        bar.choose_tradition(tradition)
        img = viewer._layers["tradition heat"].pixmap().toImage()
        return max(
            img.pixelColor(x, y).alpha() for x in range(img.width()) for y in range(img.height())
        )

    assert top_alpha(known[0]) == int(_LUT[255, 3])  # the answer's strongest evidence: the top
    other = next(t for t in known[1:] if heat_for(a, t).max() > 0)
    want = min(255, round(255 * int(heat_for(a, other).max()) / max(scale, 64)))
    assert want < 255  # a weaker map than the answer's ...
    assert abs(top_alpha(other) - int(_LUT[want, 3])) <= 3  # ... shows dimmer, on its scale


def test_confirm_correct_and_review_loop(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    top = win.photo.analysis.ranked()[0]
    win.act_confirm.trigger()
    label = win.library.catalog.label(item.id)
    assert label is not None and label.tradition == top and label.certainty == "confirmed"
    assert win.current_item().confirmed == top
    qtbot.waitUntil(lambda: win.facets.status_buttons["confirmed"].text().endswith("1"))
    # Next photo, then correct it through the searchable list.
    win.act_next.trigger()
    wait_idle(qtbot, win)
    second = win.current_item()
    assert second.id != item.id
    cur = win.photo.curator
    cur.correct_box.setEditText("Paithani")
    cur.correct_button.click()
    assert win.library.catalog.label(second.id).tradition == "Paithani"
    win.act_prev.trigger()
    assert win.current_item().id == item.id
    # Confirm-and-next keeps a curator's correction and moves on; on an unreviewed photo it
    # confirms the top answer first.
    win.act_next.trigger()
    wait_idle(qtbot, win)
    assert win.current_item().id == second.id
    assert not cur.confirm_button.isEnabled()
    win.act_confirm_next.trigger()
    wait_idle(qtbot, win)
    assert win.library.catalog.label(second.id).tradition == "Paithani"
    third = win.current_item()
    assert third.id not in (item.id, second.id)
    third_top = win.photo.analysis.ranked()[0]
    win.act_confirm_next.trigger()
    assert win.library.catalog.label(third.id).tradition == third_top
    assert win.current_item().id not in (item.id, second.id, third.id)


def test_note_and_tags_are_saved(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    cur = win.photo.curator
    cur.note.setPlainText("Bought in Kanchipuram, 1962")
    cur.flush_note()
    cur.tags.setText("wedding, red border")
    cur.tags.editingFinished.emit()
    cat = win.library.catalog
    assert cat.label(item.id).note == "Bought in Kanchipuram, 1962"
    assert cat.tags(item.id) == ["red border", "wedding"]
    # Typed but not committed (focus never left the fields): moving on still saves them.
    cur.tags.setText("wedding, red border, 1960s")
    cur.note.setPlainText("Bought in Kanchipuram, 1962; darned")
    win.act_next.trigger()
    wait_idle(qtbot, win)
    assert cat.tags(item.id) == ["1960s", "red border", "wedding"]
    assert cat.label(item.id).note == "Bought in Kanchipuram, 1962; darned"
    # Search finds the photo by its note and by its tags.
    win.facets.search.setText("1962")
    qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=3000)
    assert win.model.item(0).id == item.id
    win.facets.search.setText("wedding")
    qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=3000)
    win.facets.search.setText("no such word")
    qtbot.waitUntil(lambda: win.collection_stack.currentWidget() is win.no_match, timeout=3000)


def test_similar_strip_and_synchronised_compare(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    strip = win.photo.similar
    ids = strip.result_ids()
    assert ids, strip.empty.text()
    assert item.id not in ids and len(ids) <= 8
    strip.mode_buttons["border"].click()
    wait_idle(qtbot, win)
    border_ids = strip.result_ids()
    assert border_ids and item.id not in border_ids
    strip.compareRequested.emit(ids[0])
    dlg = win._compare
    assert dlg is not None and dlg.isVisible()
    assert dlg.left.has_photo() and dlg.right.has_photo()
    qtbot.wait(50)
    dlg.left.zoom_by(2.5)
    lz, lx, ly = dlg.left.relative_state()
    rz, rx, ry = dlg.right.relative_state()
    assert rz == pytest.approx(lz, rel=0.05)
    assert (rx, ry) == pytest.approx((lx, ly), abs=0.05)
    dlg.sync.setChecked(False)
    dlg.left.zoom_by(2.0)
    assert dlg.right.relative_state()[0] == pytest.approx(rz, rel=0.05)


def test_similar_strip_compares_the_cloth_and_says_when_it_cannot(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    strip = win.photo.similar
    assert strip.mode() == "cloth"
    qtbot.waitUntil(lambda: bool(strip.result_ids()), timeout=10000)
    by_cloth = strip.result_ids()
    assert not strip.empty.isVisible() or "whole saree" not in strip.empty.text()
    assert "real photographs" in strip.mode_buttons["cloth"].toolTip()
    strip.mode_buttons["whole"].click()
    wait_idle(qtbot, win)
    by_whole = strip.result_ids()
    # This photo's cloth gone (imported before it was read): the whole saree, and a note.
    win.library.catalog.run("DELETE FROM vectors WHERE photo_id = ? AND part = 'cloth'", (item.id,))
    strip.mode_buttons["cloth"].click()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: "Compared by the whole saree" in strip.empty.text(), timeout=10000)
    assert strip.empty.isVisibleTo(strip)
    assert strip.result_ids() == by_whole
    assert by_cloth  # the cloth had found matches of its own before


def test_similar_strip_shows_the_confirmed_photos_alone_when_asked(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    strip = win.photo.similar
    qtbot.waitUntil(lambda: bool(strip.result_ids()), timeout=10000)
    everyone = strip.result_ids()
    strip.confirmed_box.setChecked(True)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: "None of your confirmed photos" in strip.empty.text(), timeout=10000)
    assert strip.result_ids() == []
    # Two photos confirmed: they, and only they, are shown, most alike first.
    cat = win.library.catalog
    chosen = [i for i in everyone if i != item.id][:2]
    for pid in chosen:
        cat.set_label(pid, tradition="Banarasi", certainty="confirmed")
    strip.confirmed_box.setChecked(False)
    wait_idle(qtbot, win)
    strip.confirmed_box.setChecked(True)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: bool(strip.result_ids()), timeout=10000)
    assert sorted(strip.result_ids()) == sorted(chosen)
    assert strip.result_ids() == [i for i in everyone if i in chosen]
    strip.confirmed_box.setChecked(False)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: strip.result_ids() == everyone, timeout=10000)


def test_knowledge_browser(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    graph = win.library.graph
    page = win.knowledge
    assert page.list.count() == len(graph.traditions())
    assert page.show_tradition("Kanchipuram")
    card = graph.card("Kanchipuram")
    text = page.card.toPlainText()
    assert card.label in text
    for region in card.region_chain:
        assert region.label in text
    near = graph.similar_traditions("Kanchipuram", 5)[0][0]
    page._link(QtCore.QUrl(f"tradition:{near}"))
    assert page.current() == near
    page.search.setText("Tamil Nadu")
    visible = [page.list.item(i) for i in range(page.list.count())]
    shown = {i.data(Qt.ItemDataRole.UserRole) for i in visible if not i.isHidden()}
    assert "Kanchipuram" in shown and "Banarasi" not in shown
    # The card says how far the curator's confirmed photos teach a tradition.
    win.grid.setCurrentIndex(win.model.index(0))
    wait_idle(qtbot, win)
    win.photo.curator.correct_box.setEditText("Bomkai")
    win.photo.curator.correct_button.click()
    win.tabs.setCurrentIndex(2)
    wait_idle(qtbot, win)
    page.search.clear()
    page.show_tradition("Bomkai")
    assert (
        "1 confirmed photo: already counted in the ranking; 1 more and the app can check how "
        "reliable they are" in page.card.toPlainText()
    )
    # The card's collection link filters the browser.
    trad = win.model.all_items()[0].tradition
    page.showInCollection.emit(trad)
    assert win.tabs.currentIndex() == 0
    assert all(win.model.item(r).tradition == trad for r in range(win.model.rowCount()))


def test_no_model_still_browses_and_says_why(
    qtbot, make_window, tmp_path: Path, no_modal_boxes
) -> None:  # type: ignore[no-untyped-def]
    win = make_window(model=tmp_path / "missing.json")
    assert "No model" in win.model_label.text()
    win.start_import([tmp_path])
    wait_idle(qtbot, win)
    assert no_modal_boxes and "model" in no_modal_boxes[-1][1].lower()


def test_bad_collection_file_is_a_message(qtbot, window, tmp_path: Path, no_modal_boxes) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "not-a-catalogue.saree"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert not window.open_collection(bad)
    assert no_modal_boxes and "Cannot open" in no_modal_boxes[-1][0]
    assert window.library is not None  # the old collection stays open


def test_window_state_is_remembered(qtbot, make_window, settings) -> None:  # type: ignore[no-untyped-def]
    win = make_window()
    win.tabs.setCurrentIndex(2)
    win.photo.overlays.opacity.setValue(35)
    win.close()
    win2 = make_window()
    assert win2.tabs.currentIndex() == 2
    assert win2.photo.overlays.opacity.value() == 35


def test_export_writes_the_catalogue(qtbot, imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    win = imported
    item = _select_first(qtbot, win)
    win.act_confirm.trigger()
    out = tmp_path / "catalogue.csv"
    win.export_to(out, "csv")
    wait_idle(qtbot, win)
    text = out.read_text(encoding="utf-8")
    assert item.name in text
    assert len(text.strip().splitlines()) == 1 + win.model.rowCount()
    ld = tmp_path / "catalogue.jsonld"
    win.export_to(ld, "jsonld")
    wait_idle(qtbot, win)
    assert "@context" in ld.read_text(encoding="utf-8")
    pages = tmp_path / "annotations"
    pages.mkdir()
    win.export_to(pages, "annotations")
    wait_idle(qtbot, win)
    files = sorted(pages.glob("photo-*.json"))
    assert len(files) == win.model.rowCount()
    import json

    page = json.loads(files[0].read_text(encoding="utf-8"))
    assert page["type"] == "AnnotationPage" and page["items"]
    assert win.act_export_annotations.text().startswith("Export &Web Annotations")


def test_a_vanished_photo_is_explained_not_raised(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    victim = win.model.item(1)
    victim.path.unlink()
    win.grid.setCurrentIndex(win.model.index(1))
    wait_idle(qtbot, win)
    assert win.photo.stack.currentWidget() is win.photo.placeholder
    assert victim.name in win.photo.placeholder.text()
    assert "does not exist" in win.photo.placeholder.text()


def test_switching_collections_from_settings(qtbot, imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.dialogs import SettingsDialog

    win = imported
    dlg = SettingsDialog(win.library.path, 2, win)
    dlg.collection.setText(str(tmp_path / "other.saree"))
    dlg.threads.setValue(1)
    path, threads = dlg.values()
    assert win.open_collection(path, threads)
    wait_idle(qtbot, win)
    assert win.model.rowCount() == 0
    assert win.collection_stack.currentWidget() is win.empty
    assert win.settings.value("collection") == str(tmp_path / "other.saree")


def test_model_card_dialog_shows_the_card(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.dialogs import model_card_dialog

    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# Saree model\n\nTrained on **synthetic** sarees.\n", encoding="utf-8")
    dlg = model_card_dialog(card)
    qtbot.addWidget(dlg)
    assert "Trained on synthetic sarees." in dlg.browser.toPlainText()
    missing = model_card_dialog(tmp_path / "nope.md")
    qtbot.addWidget(missing)
    assert "missing" in missing.browser.toPlainText()


WIDE_CARD = (
    "# Saree model\n\nTrained on **synthetic** sarees only.\n\n"
    "| file | what |\n|---|---|\n"
    + "".join(
        f"| `saree-model-{i}.json` | manifest: labels, attribute ids, preprocessing, outputs, "
        f"`seg_zooms`, sha256, `contract`, class prototypes, `training_look`, `saree_check` "
        f"and the evaluation figures of a model measured on {i} rendered photos |\n"
        for i in range(6)
    )
    + "\n| k | share |\n|---|---|\n| 1 | 13.8% |\n\n"
    "Commands that produced these figures:\n\n```sh\n"
    "saree train --recipe default --data /work/data/final --cache /work/data/aug-cache9 "
    "--out models/ --exclude Gadwal,Ilkal,KotaDoria,Sambalpuri --epochs 20 --seed 0\n```\n\n"
    "The checkpoint: /work/data/aug-cache9-varied/a-very-long-folder-name-without-any-"
    "spaces-in-it/final.pt\n"
)


@pytest.mark.parametrize("card_file", ["wide", "shipped"])
def test_the_model_card_wraps_to_the_window(qtbot, tmp_path: Path, card_file: str) -> None:  # type: ignore[no-untyped-def]
    """The card (wide tables, long command lines) wraps to the window: at a usual dialog size
    and at the dialog's own, there is nothing to scroll sideways to."""
    from PySide6.QtWidgets import QApplication

    from saree_app import paths
    from saree_app.gui.dialogs import model_card_dialog

    if card_file == "wide":
        card = tmp_path / "MODEL_CARD.md"
        card.write_text(WIDE_CARD, encoding="utf-8")
    else:
        card = paths.models_dir() / "MODEL_CARD.md"
        if not card.is_file():
            pytest.skip("no shipped model card in this installation")
    for width, height in ((900, 700), (760, 640), (600, 500)):
        dlg = model_card_dialog(card, preface="Shipped model: close to guessing.")
        qtbot.addWidget(dlg)
        dlg.resize(width, height)
        dlg.show()
        qtbot.waitExposed(dlg)
        browser = dlg.browser
        doc = browser.document()
        doc.size()  # lays the whole page out
        bar = browser.verticalScrollBar()
        bar.setValue(bar.maximum())
        QApplication.processEvents()
        assert doc.idealWidth() <= browser.viewport().width(), (width, doc.idealWidth())
        assert browser.horizontalScrollBar().maximum() == 0, width
        # Wrapped, not cut: the whole command line is still there.
        assert "--epochs 20" in browser.toPlainText() or card_file == "shipped"
        dlg.close()


def test_the_last_photo_is_selected_again_on_restart(qtbot, imported, make_window) -> None:  # type: ignore[no-untyped-def]
    win = imported
    win.grid.setCurrentIndex(win.model.index(4))
    wait_idle(qtbot, win)
    chosen = win.current_item().id
    win.close()
    again = make_window()
    qtbot.waitUntil(lambda: again.current_item() is not None, timeout=10000)
    assert again.current_item().id == chosen


def test_the_last_photo_is_selected_again_when_the_listing_beats_the_model(  # type: ignore[no-untyped-def]
    qtbot, imported, settings, *, tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from saree_app.gui.thumbs import ThumbnailStore
    from saree_app.gui.window import MainWindow

    win = imported
    win.grid.setCurrentIndex(win.model.index(4))
    wait_idle(qtbot, win)
    chosen = win.current_item().id
    win.close()
    # The model is slow to load (a busy machine): the listing arrives first, and the grid,
    # given the focus, would settle on its first photo.
    release = threading.Event()
    load = MainWindow._load

    def slow(self, lib):  # type: ignore[no-untyped-def]
        release.wait(20)
        load(self, lib)

    monkeypatch.setattr(MainWindow, "_load", slow)
    again = MainWindow(
        settings,
        collection=tmp_path / "collection.saree",
        model=tiny_model,
        thumbs=ThumbnailStore(tmp_path / "thumbs"),
    )
    qtbot.addWidget(again)
    try:
        again.show()
        qtbot.waitUntil(lambda: again.model.rowCount() == 9, timeout=10000)
        again.grid.setFocus()
        qtbot.waitUntil(lambda: again.current_item() is not None, timeout=10000)
        assert not again._loaded.is_set()  # the model is still loading
        assert again.current_item().id == chosen
        release.set()
        wait_idle(qtbot, again)
        assert again.current_item().id == chosen
    finally:
        release.set()
        again.shutdown()


def test_each_collection_selects_its_own_last_photo_again(qtbot, imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    win = imported
    a = win.library.path
    win.grid.setCurrentIndex(win.model.index(4))
    wait_idle(qtbot, win)
    a_id, a_name = win.current_item().id, win.current_item().name
    # Another collection, with photos of its own: ids start again at 1.
    b = tmp_path / "b.saree"
    assert win.open_collection(b)
    wait_idle(qtbot, win)
    other = tmp_path / "other"
    other.mkdir()
    write_photos(other, 9, seed=7)
    import_into(qtbot, win, other)
    win.grid.setCurrentIndex(win.model.index(1))
    wait_idle(qtbot, win)
    b_id, b_name = win.current_item().id, win.current_item().name
    assert b_id != a_id
    for path, want in ((a, (a_id, a_name)), (b, (b_id, b_name))):
        assert win.open_collection(path)
        wait_idle(qtbot, win)
        qtbot.waitUntil(lambda: win.current_item() is not None, timeout=10000)
        assert (win.current_item().id, win.current_item().name) == want


def test_classify_again_passes_over_what_the_model_has_seen(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    gone = win.model.item(0).path
    gone.unlink()
    assert win.reclassify()
    wait_idle(qtbot, win)
    report = win.last_report
    assert "8 already in the collection" in report.summary.text()
    assert report.table.rowCount() == 1 and report.table.item(0, 0).text() == gone.name
