"""Objects in the window: group photos by hand, fill the record, see the fused answer, search
by place, confirm all at once, ungroup and undo, export."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from saree_app.collection import objects
from tests.gui.conftest import wait_idle

QtCore = pytest.importorskip("PySide6.QtCore")
QItemSelectionModel = pytest.importorskip("PySide6.QtCore").QItemSelectionModel

SHOTS = os.environ.get("SAREE_SHOTS")  # a folder: the test also saves its screenshots there


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / name))


def _select_rows(qtbot, win, rows: list[int]) -> None:  # type: ignore[no-untyped-def]
    sel = win.grid.selectionModel()
    win.grid.setCurrentIndex(win.model.index(rows[0]))
    for r in rows[1:]:
        sel.select(win.model.index(r), QItemSelectionModel.SelectionFlag.Select)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.photo.analysis is not None, timeout=10000)


def test_group_fill_record_search_confirm_ungroup(qtbot, imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    win = imported
    desk = win.object_desk
    _select_rows(qtbot, win, [0, 1, 2])
    qtbot.waitUntil(lambda: "not part of an object" in desk.panel.title.text(), timeout=3000)
    ids = sorted(it.id for it in win.selected_items())
    assert len(ids) == 3

    dlg = desk.group_selected()
    assert dlg is not None and dlg.windowTitle() == "New object"
    assert dlg.photos.rowCount() == 3
    dlg.accession.setText("T.1990.4")
    dlg.edits["title"].setText("Temple-border silk")
    dlg.edits["source"].setText("Gift of Mrs Rao")
    dlg.edits["place_acquired"].setText("Patan")
    dlg.edits["made_from"].setText("1950")
    dlg.edits["made_to"].setText("1920")  # backwards: refused in one line, nothing lost
    dlg.fibre.setCurrentText("Silk")
    dlg.photos.cellWidget(1, 1).setCurrentIndex(objects.ROLES.index("border"))
    assert not dlg.store()
    assert "runs backwards" in dlg.error.text() and dlg.error.isVisibleTo(dlg)
    assert dlg.edits["title"].text() == "Temple-border silk"
    cat = win.library.catalog
    assert objects.get_object(cat, "T.1990.4") is None
    dlg.edits["made_to"].setText("1960")
    assert dlg.store()
    obj = objects.need_object(cat, "T.1990.4")
    assert sorted(obj.photo_ids) == ids and obj.get("source") == "Gift of Mrs Rao"
    assert "border" in [m.role for m in obj.photos]
    assert "%" in dlg.answer.text() and "Patan" in dlg.answer.text()
    assert "Most like it:" in dlg.answer.text() and "alike" in dlg.answer.text()
    dlg.resize(900, 560)
    _shot(dlg, "object-record.png")

    # The panel on the photo page shows the object and its fused answer.
    desk.refresh()
    assert "T.1990.4 · Temple-border silk" in desk.panel.title.text()
    assert "The object's answer:" in desk.panel.answer.text()
    win.tabs.setCurrentIndex(1)
    _shot(win, "object-window.png")
    win.tabs.setCurrentIndex(0)

    # Search by a state finds the sarees acquired there.
    wait_idle(qtbot, win)
    win.facets.search.setText("gujarat")
    qtbot.waitUntil(lambda: win.model.rowCount() == 3, timeout=5000)
    assert sorted(win.model.item(r).id for r in range(3)) == ids
    win.facets.search.setText("")
    qtbot.waitUntil(lambda: win.model.rowCount() == 9, timeout=5000)
    # The grid tags each photo of the object with its accession number.
    marked = {it.id for it in win.model.all_items() if it.accession == "T.1990.4"}
    assert marked == set(ids)
    tip = win.model.data(
        win.model.index(win.model.row_of(ids[0])), QtCore.Qt.ItemDataRole.ToolTipRole
    )
    assert "Shows the saree T.1990.4" in tip
    _shot(win, "object-grid.png")

    # Confirm for all its photos at once.
    dlg.confirm.click()
    top = objects.fuse_object(cat, "T.1990.4", graph=win.library.graph).top.tradition
    assert {cat.label(p).tradition for p in ids} == {top}
    dlg.close()

    # Ungroup, then undo.
    win.select_item(ids[0])
    wait_idle(qtbot, win)
    assert desk.ungroup_current()
    assert objects.get_object(cat, "T.1990.4") is None
    assert all(cat.photo(p) is not None for p in ids)
    assert "ungrouping object T.1990.4" in win.act_undo.text()
    assert win.undo()
    back = objects.need_object(cat, "T.1990.4")
    assert sorted(back.photo_ids) == ids and back.title == "Temple-border silk"

    out = desk.export("csv", tmp_path / "objects.csv")
    assert out is not None
    with out.open(newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["accession"] == "T.1990.4" and row["place_acquired"] == "Patan"


def _make_object(qtbot, win, rows: list[int], accession: str) -> list[int]:  # type: ignore[no-untyped-def]
    _select_rows(qtbot, win, rows)
    ids = sorted(it.id for it in win.selected_items())
    dlg = win.object_desk.group_selected()
    dlg.accession.setText(accession)
    assert dlg.store(), dlg.error.text()
    dlg.close()
    wait_idle(qtbot, win)
    return ids


def test_similar_sarees_are_searched_per_object(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    strip = win.photo.similar
    own = _make_object(qtbot, win, [0, 1, 2], "T.1.1")
    other = _make_object(qtbot, win, [3, 4], "T.1.2")
    win.select_item(own[0])
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: strip.title.text() == "Sarees like object T.1.1", timeout=10000)
    shown = strip.result_ids()
    assert not set(shown) & set(own), "the object's own photos are not sarees like it"
    assert len(set(shown) & set(other)) <= 1, "another object counts once"
    # Searched together: the strip holds what the object's photos found, one per saree.
    lib = win.library
    assert strip.mode() == "cloth"  # the way that finds the same tradition most often
    found = lib.similar_sarees(own[0], strip.mode(), 12)
    assert found.accession == "T.1.1" and found.photos == 3
    assert [it.id for it, s in found.results if s >= 0.05] == shown
    # Confirmed only: none yet; then the one confirmed photo outside the object, alone.
    assert lib.similar_sarees(own[0], strip.mode(), 12, confirmed_only=True).results == []
    outside = next(it.id for it, _s in found.results if it.id not in other)
    lib.catalog.set_label(outside, tradition="Banarasi", certainty="confirmed")
    kept = lib.similar_sarees(own[0], strip.mode(), 12, confirmed_only=True)
    assert [it.id for it, _s in kept.results] == [outside] and kept.accession == "T.1.1"
    # A photo on its own still searches for itself alone.
    alone = next(it.id for it in win.model.all_items() if it.id not in own + other)
    win.select_item(alone)
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: strip.title.text() == "Similar sarees", timeout=10000)


def test_confirm_an_object_from_the_photo_page_then_undo(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    desk = win.object_desk
    ids = _make_object(qtbot, win, [0, 1, 2], "T.2.1")
    cat = win.library.catalog
    win.select_item(ids[1])
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: desk.panel.confirm.isVisibleTo(desk.panel), timeout=5000)
    top = objects.fuse_object(cat, "T.2.1", graph=win.library.graph).top
    assert desk.panel.confirm.text() == f"Confirm {top.label} for all 3 photos"
    desk.panel.confirm.click()
    assert {cat.label(p).tradition for p in ids} == {top.tradition}
    assert {cat.label(p).certainty for p in ids} == {"confirmed"}
    # One decision: Undo names it, and the rest of the collection is re-ranked.
    assert "labelling object T.2.1 as" in win.act_undo.text()
    qtbot.waitUntil(lambda: win.reranker.busy or win.teach_label.isVisible(), timeout=5000)
    wait_idle(qtbot, win)
    assert not desk.panel.confirm.isVisibleTo(desk.panel), "nothing left to confirm"
    assert desk.panel.answer.text() == f"✔ All 3 photos are confirmed as {top.label}."
    assert win.undo()
    assert all(cat.label(p) is None or cat.label(p).certainty != "confirmed" for p in ids)
    assert desk.panel.confirm.isVisibleTo(desk.panel)


def test_confirm_in_the_record_editor_is_one_undoable_decision(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    ids = _make_object(qtbot, win, [0, 1, 2], "T.3.1")
    cat = win.library.catalog
    dlg = win.object_desk.open_record()
    assert dlg is not None and dlg.confirm.isEnabled()
    dlg.confirm.click()
    assert {cat.label(p).certainty for p in ids} == {"confirmed"}
    assert "labelling object T.3.1 as" in win.act_undo.text()
    assert win.undo()
    assert all(cat.label(p) is None or cat.label(p).certainty != "confirmed" for p in ids)
    dlg.close()


def test_group_imported_photos_by_folder_and_by_file_name(qtbot, imported, photos: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.gui.conftest import TRADITIONS

    win = imported
    cat = win.library.catalog
    dlg = win.object_desk.group_by_folder()
    assert dlg is not None
    # Bad choices: one line each, nothing grouped, the dialog keeps what was typed.
    dlg.folder.setText(str(photos / "no such folder"))
    assert not dlg.run() and "Choose the folder" in dlg.error.text()
    dlg.folder.setText(str(photos))
    dlg.by_pattern.setChecked(True)
    dlg.pattern.setText("saree_(")
    assert not dlg.run() and "not a regular expression" in dlg.error.text()
    dlg.pattern.setText(r"(?P<number>\d+)")
    assert not dlg.run() and "group named accession" in dlg.error.text()
    assert dlg.pattern.text() == r"(?P<number>\d+)" and objects.all_objects(cat) == []
    _shot(dlg, "group-dialog.png")

    # One object per sub-folder, named after it.
    dlg.by_folder.setChecked(True)
    assert dlg.run() and not dlg.isVisible()
    wait_idle(qtbot, win)
    groups = {o.accession: len(o.photos) for o in objects.all_objects(cat)}
    assert groups == dict.fromkeys(TRADITIONS, 3)
    assert win.statusBar().currentMessage() == "9 photos grouped into 3 objects."

    # Again: they are in objects already; by file name finds nothing new to group.
    again = win.object_desk.group_by_folder()
    assert not again.run() and "already in its object" in again.error.text()
    again.by_prefix.setChecked(True)
    for o in objects.all_objects(cat):
        objects.delete_object(cat, o.id)
    assert again.run()  # saree_0_000.jpg: all start with "saree"
    assert {o.accession: len(o.photos) for o in objects.all_objects(cat)} == {"saree": 9}


def test_catalogue_an_object_from_three_photos_fill_its_record_and_export_it(  # type: ignore[no-untyped-def]
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's "done when", through the window: import a folder holding one saree's three
    photos, group them by folder, fill the record, confirm, export the object."""
    import json

    from PySide6.QtWidgets import QFileDialog

    from tests.gui.conftest import write_photos

    win = window
    incoming = tmp_path / "incoming"
    made = write_photos(tmp_path / "raw", 3, seed=7)
    saree = incoming / "2001.7"
    saree.mkdir(parents=True)
    for src, role_name in zip(made, ("whole", "border", "pallu"), strict=True):
        src.rename(saree / f"{role_name}.jpg")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(incoming))
    win.choose_import_folder()
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.model.rowCount() == 3, timeout=20000)
    # Photos from sub-folders and no object yet: the window says how to make them objects.
    assert "Objects ▸ Group photos by folder" in win.statusBar().currentMessage()

    grouping = win.object_desk.group_by_folder()
    assert grouping.folder.text() == str(incoming)
    assert grouping.run()
    wait_idle(qtbot, win)
    assert win.statusBar().currentMessage() == "3 photos grouped into 1 object."

    win.select_item(win.model.all_items()[0].id)
    wait_idle(qtbot, win)
    dlg = win.object_desk.open_record()
    assert dlg is not None and dlg.windowTitle() == "Object 2001.7"
    roles = {
        dlg.photos.item(i, 0).text(): dlg.photos.cellWidget(i, 1).currentData() for i in range(3)
    }
    assert roles == {"whole.jpg": "whole", "border.jpg": "border", "pallu.jpg": "pallu"}
    qtbot.waitUntil(  # each photo is shown, not only named
        lambda: all(not dlg.photos.item(i, 0).icon().isNull() for i in range(3)), timeout=10000
    )
    assert dlg.export_button.isEnabled()
    dlg.edits["title"].setText("Silk saree, temple border")
    dlg.edits["source"].setText("Gift of the Rao family")
    dlg.edits["date_acquired"].setText("2001-03")
    dlg.edits["place_acquired"].setText("Kanchipuram")
    dlg.edits["made_from"].setText("1960")
    dlg.edits["made_to"].setText("1970")
    dlg.fibre.setCurrentText("Silk")
    dlg.edits["condition"].setText("good; small stain on the pallu")
    dlg.notes.setPlainText("Worn at the donor's wedding.")
    assert dlg.store(), dlg.error.text()
    dlg.confirm.click()
    assert "labelling object 2001.7 as" in win.act_undo.text()

    unwritable = tmp_path / "no such folder" / "x.jsonld"
    assert dlg.export_to(unwritable) is None
    assert dlg.error.text().startswith("Not exported:") and "\n" not in dlg.error.text()
    out = dlg.export_to(tmp_path / "2001.7.jsonld")
    assert out is not None and dlg.error.isHidden()
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@context"] and doc["dcterms:identifier"] == "2001.7"
    assert doc["dcterms:title"] == "Silk saree, temple border"
    text = json.dumps(doc)
    for expected in ("Gift of the Rao family", "Kanchipuram", "small stain", "wedding", "1960"):
        assert expected in text, expected
    shown = [im["digitally_shown_by"][0] for im in doc["representation"]]
    assert sorted(d["saree:role"] for d in shown) == ["border", "pallu", "whole"]
    assert {d["saree:curatorCertainty"] for d in shown} == {"confirmed"}
    assert doc["produced_by"], "the confirmed tradition is exported"
    dlg.close()


def test_ctrl_z_takes_back_grouping_by_hand_in_order(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    """Take out and ungroup go on the one Undo list: Ctrl+Z undoes the last thing done, not
    an older labelling decision."""
    win = imported
    desk = win.object_desk
    ids = _make_object(qtbot, win, [0, 1, 2], "T.4.1")
    cat = win.library.catalog
    win.select_item(ids[0])
    wait_idle(qtbot, win)
    desk.panel.confirm.click()  # a labelling decision first
    wait_idle(qtbot, win)
    role = objects.need_object(cat, "T.4.1").role_of(ids[1])
    win.select_item(ids[1])
    wait_idle(qtbot, win)
    assert desk.take_out_current() == 1
    assert objects.object_of_photo(cat, ids[1]) is None
    assert "taking 1 photo out of its object" in win.act_undo.text()
    win.select_item(ids[0])
    wait_idle(qtbot, win)
    assert desk.ungroup_current()
    assert objects.get_object(cat, "T.4.1") is None

    win.act_undo.trigger()  # Ctrl+Z: the ungrouping
    back = objects.need_object(cat, "T.4.1")
    assert sorted(back.photo_ids) == sorted([ids[0], ids[2]])
    win.act_undo.trigger()  # then the take-out
    back = objects.need_object(cat, "T.4.1")
    assert sorted(back.photo_ids) == ids and back.role_of(ids[1]) == role
    assert {cat.label(p).certainty for p in ids} == {"confirmed"}, "labels untouched so far"
    assert "labelling object T.4.1" in win.act_undo.text()


def test_adding_a_photo_to_a_catalogued_object_keeps_its_record(qtbot, imported) -> None:  # type: ignore[no-untyped-def]
    win = imported
    cat = win.library.catalog
    _select_rows(qtbot, win, [0, 1])
    dlg = win.object_desk.group_selected()
    dlg.accession.setText("T.5.1")
    dlg.edits["title"].setText("Paithani with parrots")
    dlg.edits["source"].setText("Bought in Yeola")
    assert dlg.store()
    dlg.close()
    wait_idle(qtbot, win)

    # Later: the reverse of the same saree, photographed separately.
    win.grid.clearSelection()
    _select_rows(qtbot, win, [5])
    extra = win.current_item().id
    dlg = win.object_desk.group_selected()
    assert dlg.exists_hint.isHidden()
    dlg.accession.setText("T.5.1")
    assert not dlg.exists_hint.isHidden() and "keeps its record" in dlg.exists_hint.text()
    from PySide6.QtWidgets import QApplication

    from tests.gui.fit_check import clipped

    QApplication.processEvents()
    assert clipped(dlg) == []
    dlg.edits["condition"].setText("faded")
    assert dlg.store(), dlg.error.text()
    obj = objects.need_object(cat, "T.5.1")
    assert extra in obj.photo_ids and len(obj.photos) == 3
    assert obj.title == "Paithani with parrots" and obj.get("source") == "Bought in Yeola"
    assert obj.get("condition") == "faded"
    assert dlg.photos.rowCount() == 3 and dlg.edits["title"].text() == "Paithani with parrots"
    dlg.close()
