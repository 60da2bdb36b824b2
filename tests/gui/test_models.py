"""The Model menu: switch a collection to a retrained model in the background, and back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from saree_app.collection.models import check_model, chosen_model
from tests.gui.conftest import wait_idle

QtWidgets = pytest.importorskip("PySide6.QtWidgets")


@pytest.fixture(autouse=True)
def no_modal_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []

    def record(parent: object, title: str, message: str, details: str = "") -> None:
        shown.append((title, message))

    monkeypatch.setattr("saree_app.gui.window.show_error", record)
    monkeypatch.setattr("saree_app.gui.models.show_error", record)
    return shown


@pytest.fixture
def retrained(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A second tiny model in the collection's `-model` folder, as `saree train --catalog`
    leaves it; the tiny model stands in for the shipped one."""
    from saree_app.model import predict
    from saree_app.train.export import export_tiny_model

    monkeypatch.setattr(predict, "default_model_path", lambda: tiny_model)
    manifest = export_tiny_model(tmp_path / "collection-model", seed=2, name="collection-model")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["training"] = {"catalogue": "collection.saree", "photos": {"train": 30, "heldout": 10}}
    data["evaluation"] = {"heldout": {"photos": 10, "top1": 0.7, "balanced_accuracy": 0.7}}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    return manifest


def _switch(qtbot, win, path: Path):  # type: ignore[no-untyped-def]
    sw = win.model_switching
    with qtbot.waitSignal(sw.runner.finished, timeout=60000) as done:
        assert sw.switch(path)
        assert sw.label.isVisible()  # the status bar shows the switch while it runs
    wait_idle(qtbot, win)
    return done.args[0]


def test_switch_to_a_retrained_model_and_back(  # type: ignore[no-untyped-def]
    qtbot, imported, retrained: Path, tiny_model: Path, no_modal_boxes
) -> None:
    win = imported
    lib = win.library
    shipped_sha = lib.model_sha()
    new_sha = check_model(retrained).sha256
    # The Model dialog lists the shipped model (in use) and the retrained one with its report.
    dlg = win.model_switching.choose()
    assert dlg is not None
    texts = [dlg.list.item(i).text() for i in range(dlg.list.count())]
    assert texts[0].startswith("Shipped model  (in use)")
    assert texts[1].startswith(
        "Retrained model (collection-model)\n    right on 7 of 10 of your confirmed photos"
    )
    assert "learnt from 30 confirmed photos" in texts[1]
    dlg.reject()

    # Confirmed photos teach whichever model is in use (two traditions: one alone re-ranks
    # nothing).
    for row, tradition in ((0, "Banarasi"), (1, "Banarasi"), (2, "Kasavu"), (3, "Kasavu")):
        win.grid.setCurrentIndex(win.model.index(row))
        wait_idle(qtbot, win)
        win.confirm(tradition)
        wait_idle(qtbot, win)
    seen: list[object] = []
    said: list[str] = []
    win.model_switching.runner.progress.connect(seen.append)
    win.statusBar().messageChanged.connect(said.append)
    result = _switch(qtbot, win, retrained)
    qtbot.waitUntil(lambda: any("re-ranked" in m for m in said), timeout=30000)
    assert result.classified == 9 and result.photos == 9
    assert seen and max(p.done for p in seen) == 9
    assert lib.model_sha() == new_sha
    assert len(lib.catalog.predictions(new_sha)) == 9
    assert len(lib.catalog.predictions(shipped_sha)) == 9  # the old answers stay
    assert chosen_model(lib.path) == retrained
    assert "collection-model" in win.model_label.text()
    assert any(
        m.startswith("Now using the retrained model collection-model: 9 photos") for m in said
    )
    taught = lib.catalog.predictions(new_sha)
    # Every photo, the confirmed ones too (each scored without itself).
    assert all("fewshot" in p.result for p in taught.values())
    assert not win.model_switching.label.isVisible()
    assert no_modal_boxes == []

    # Opened again without a model named, the collection comes back with its own.
    from saree_app.gui.library import Library

    again = Library(lib.path, import_in_child=False)
    try:
        again.load()
        assert again.model_sha() == new_sha and again.model_note is None
    finally:
        again.close()
    # Back to the shipped model: its answers are there, nothing to classify again.
    result = _switch(qtbot, win, tiny_model)
    assert result.classified == 0
    assert lib.model_sha() == shipped_sha
    assert chosen_model(lib.path) is None


def test_a_chosen_model_that_went_missing_falls_back_to_the_shipped_one(  # type: ignore[no-untyped-def]
    tmp_path: Path, retrained: Path, tiny_model: Path
) -> None:
    from saree_app.collection.models import remember_model
    from saree_app.gui.library import Library

    path = tmp_path / "c.saree"
    remember_model(path, retrained)
    retrained.with_suffix(".onnx").unlink()
    lib = Library(path, import_in_child=False)
    try:
        lib.load()
        assert lib.model_sha() == check_model(tiny_model).sha256
        assert lib.model_note is not None
        assert lib.model_note.startswith("The model chosen for this collection cannot be used")
        assert "\n" not in lib.model_note
    finally:
        lib.close()


def test_a_broken_model_gives_one_message_and_keeps_the_current(  # type: ignore[no-untyped-def]
    qtbot, imported, retrained: Path, tmp_path: Path, no_modal_boxes
) -> None:
    win = imported
    lib = win.library
    before = lib.model_sha()
    bad = tmp_path / "bad"
    shutil.copytree(retrained.parent, bad)
    with (bad / "saree-model.onnx").open("ab") as fh:
        fh.write(b"\0")
    assert not win.model_switching.switch(bad / retrained.name)
    assert len(no_modal_boxes) == 1
    title, message = no_modal_boxes[0]
    assert title == "This model cannot be used"
    assert "checksum mismatch" in message and "keeps the model it has" in message
    assert lib.model_sha() == before
    assert chosen_model(lib.path) is None
    assert not win.model_switching.busy


def test_a_stopped_switch_keeps_the_model(  # type: ignore[no-untyped-def]
    qtbot, imported, retrained: Path
) -> None:
    win = imported
    lib = win.library
    before = lib.model_sha()
    sw = win.model_switching
    with qtbot.waitSignal(sw.runner.cancelled, timeout=60000):
        assert sw.switch(retrained)
        sw.runner.cancel()
    wait_idle(qtbot, win)
    assert lib.model_sha() == before
    assert chosen_model(lib.path) is None
    assert "Switching stopped" in win.statusBar().currentMessage()
    assert not sw.label.isVisible()
