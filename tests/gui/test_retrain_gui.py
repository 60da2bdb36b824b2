"""Model > Retrain from confirmed photos: checked first, run as a separate process, offered.

Nothing here trains: the command the window runs is replaced by a small script that prints
progress lines as `saree train` does and leaves a copy of a tiny model where the real one would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest

from saree_app.collection.models import check_model, retrain_target
from tests.gui.conftest import wait_idle

QtWidgets = pytest.importorskip("PySide6.QtWidgets")

SHOTS = os.environ.get("SAREE_SHOTS")  # a folder: the tests also save their screenshots there

FAKE_TRAIN = """
import shutil, signal, sys, time
from pathlib import Path

out, source, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
say = lambda text: print(text, file=sys.stderr, flush=True)
say("saree train: 4 confirmed photos of 2 traditions: 4 to train on, 0 held back for the report")
say("[12:00:02] 3/4 features 2 photos/s, ETA 1s")
if mode in ("slow", "stubborn"):
    time.sleep(120)
time.sleep(1.0)  # the window shows the progress line for a moment
if mode == "fail":
    say("saree train: --base-model models/saree-model.json: not a model manifest")
    sys.exit(2)
out.mkdir(parents=True, exist_ok=True)
for f in source.iterdir():
    shutil.copy(f, out / f.name)
print(f"model: {out / 'saree-model.json'}")
"""


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / name))


@pytest.fixture(autouse=True)
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Message boxes are recorded (title, message, details) instead of blocking the test."""
    shown: list[tuple[str, str, str]] = []

    def record(parent: object, title: str, message: str, details: str = "") -> None:
        shown.append((title, message, details))

    for where in ("retrain", "models", "window"):
        monkeypatch.setattr(f"saree_app.gui.{where}.show_error", record)
    return shown


@pytest.fixture
def new_model(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What a finished run leaves: a second tiny model with its figures, report.json and
    REPORT.md (in a folder of its own; the fake command copies it). The tiny model stands in
    for the shipped one."""
    from saree_app.model import predict
    from saree_app.train.export import export_tiny_model

    monkeypatch.setattr(predict, "default_model_path", lambda: tiny_model)
    source = tmp_path / "finished-run"
    manifest = export_tiny_model(source, seed=3, name="retrained")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["training"] = {"catalogue": "collection.saree", "photos": {"train": 3, "heldout": 1}}
    data["evaluation"] = {"heldout": {"photos": 6, "top1": 5 / 6, "balanced_accuracy": 0.75}}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    photos = {"Banarasi": {"train": 2, "heldout": 1}, "Kasavu": {"train": 2, "heldout": 1}}
    catalogue = {"photos": photos, "part_maps": {"fine_tuned": False, "note": "none corrected"}}
    (source / "report.json").write_text(json.dumps({"catalogue": catalogue}), encoding="utf-8")
    (source / "REPORT.md").write_text("# Retrained from the catalogue\n", encoding="utf-8")
    return manifest


@pytest.fixture
def fake_train(tmp_path: Path, new_model: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set how the stand-in command behaves: 'ok', 'fail', 'slow' (runs until stopped) or
    'stubborn' (slow, and only a kill ends it)."""
    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAIN, encoding="utf-8")
    runs: list[list[str]] = []

    def use(mode: str) -> list[list[str]]:
        def command(catalog: Path, out: Path) -> list[str]:
            argv = [sys.executable, str(script), str(out), str(new_model.parent), mode]
            runs.append(argv)
            return argv

        monkeypatch.setattr("saree_app.gui.retrain.train_command", command)
        return runs

    return use


def _confirm(qtbot, win, rows: tuple[tuple[int, str], ...]) -> None:  # type: ignore[no-untyped-def]
    for row, tradition in rows:
        win.grid.setCurrentIndex(win.model.index(row))
        wait_idle(qtbot, win)
        win.confirm(tradition)
        wait_idle(qtbot, win)


ENOUGH = ((0, "Banarasi"), (1, "Banarasi"), (2, "Kasavu"), (3, "Kasavu"))


def _dated(win) -> list[Path]:  # type: ignore[no-untyped-def]
    path = win.library.path
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(f"{path.stem}-model-"))


def test_the_command_is_the_saree_train_of_this_catalogue(tmp_path: Path) -> None:
    from saree_app.gui.retrain import progress_text, train_command

    argv = train_command(tmp_path / "c.saree", tmp_path / "c-model-2026-12-07")
    assert argv[:3] == [sys.executable, "-m", "saree_app.cli"]  # what `saree` runs
    assert argv[3:] == [
        "train",
        "--catalog",
        str(tmp_path / "c.saree"),
        "--out",
        str(tmp_path / "c-model-2026-12-07"),
    ]
    assert progress_text("[12:01:02] 3/40 features 2 photos/s") == "3/40 features 2 photos/s"
    assert progress_text("saree train: part map: kept") == "part map: kept"


def test_the_commands_steps_are_said_in_a_curators_words() -> None:
    from saree_app.gui.retrain import step_text

    assert step_text("[00:07:46] 32/608 features 95 photos/s, ETA 0m06s") == (
        "Reading the photos: 32 of 608 (about 6 s left)"
    )
    assert step_text("[00:07:54] pooling 128/608 ETA 2m11s") == (
        "Reading each photo's parts: 128 of 608 (about 2 min left)"
    )
    assert step_text("[x] segmentation epoch 2/4 step 100/300 loss 0.2") == (
        "Learning where the border and pallu are: pass 2 of 4"
    )
    assert step_text("[00:08:06] heads epoch 5/300 loss 4.4 train acc 0.59 ETA 1h02m") == (
        "Learning the traditions: pass 5 of 300 (about 1 h 02 min left)"
    )
    assert step_text("[00:09:01] 96/96 evaluating 24 photos/s") == (
        "Checking the new model on the photos held back: 96 of 96"
    )
    # Anything else is shown as the command says it, without its clock.
    said = "saree train: 400 confirmed photos of 16 traditions: 304 to train on"
    assert step_text(said) == "400 confirmed photos of 16 traditions: 304 to train on"


def test_a_finished_folder_gets_a_new_name_an_unfinished_one_is_resumed(tmp_path: Path) -> None:
    catalog = tmp_path / "Saris [2024].saree"
    day = dt.date(2026, 12, 7)
    first = retrain_target(catalog, day)
    assert first.name == "Saris [2024]-model-2026-12-07"
    first.mkdir()
    assert retrain_target(catalog, day) == first  # started, not finished: resumed
    assert retrain_target(catalog, dt.date(2026, 12, 8)) == first  # the next day too
    (first / "saree-model.json").write_text("{}")
    (first / "REPORT.md").write_text("# done")
    assert retrain_target(catalog, day).name == "Saris [2024]-model-2026-12-07-2"
    assert retrain_target(catalog, dt.date(2026, 12, 8)).name == "Saris [2024]-model-2026-12-08"


def _refused(qtbot, win, told) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """Start; the check (in the background) refuses: what it said."""
    n = len(told)
    assert win.retraining.start()  # the check began
    qtbot.waitUntil(lambda: len(told) > n, timeout=30000)
    assert not win.retraining.checking and win.retraining.dialog is None
    return told[-1]


def _started(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    """Start; wait for the check to let the training start and for its progress line."""
    assert win.retraining.start()
    qtbot.waitUntil(lambda: win.retraining.running, timeout=30000)
    dlg = win.retraining.dialog
    qtbot.waitUntil(lambda: dlg.line.text() == "Reading the photos: 3 of 4", timeout=30000)


def test_too_few_confirmed_photos_are_refused_before_anything_starts(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train
) -> None:
    win = imported
    runs = fake_train("ok")
    _refused(qtbot, win, told)
    _confirm(qtbot, win, ((0, "Banarasi"), (1, "Banarasi")))
    _refused(qtbot, win, told)
    _confirm(qtbot, win, ((2, "Kasavu"),))
    _refused(qtbot, win, told)
    titles = {t for t, _m, _d in told}
    assert titles == {"Not enough to learn from yet"}
    said = [m for _t, m, _d in told]
    assert said[0].startswith("No photo in this collection is confirmed with a tradition yet.")
    assert said[1].startswith("All 2 confirmed photos are Banarasi, and a model learns")
    assert said[2].startswith("Too few confirmed photos to learn from: Banarasi 2, Kasavu 1.")
    for text in said:
        assert "at least 2 confirmed photos of each of at least 2 traditions" in text
        assert "saree " not in text and str(win.library.path) not in text  # no command talk
    assert runs == [] and not win.retraining.running and win.retraining.dialog is None
    assert _dated(win) == []


def test_a_collection_that_cannot_be_read_is_not_called_too_small(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train
) -> None:
    win = imported
    runs = fake_train("ok")
    _confirm(qtbot, win, ENOUGH)
    path = win.library.path
    moved = path.with_name("moved.saree")
    path.rename(moved)  # moved away behind the open window
    try:
        title, message, _details = _refused(qtbot, win, told)
    finally:
        moved.rename(path)
    assert title == "The collection cannot be read"
    assert "no such catalogue" in message and "Confirm more photos" not in message
    assert runs == [] and _dated(win) == []


def test_the_check_runs_in_the_background_and_can_be_cancelled(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from saree_app.collection import training
    from saree_app.gui.retrain import CHECKING

    win = imported
    _confirm(qtbot, win, ENOUGH)
    runs = fake_train("slow")
    gate = threading.Event()
    read = training.read_confirmed

    def slow_read(catalog: Path) -> training.Confirmed:  # a big collection on a network drive
        assert threading.current_thread() is not threading.main_thread()
        assert gate.wait(30)
        return read(catalog)

    monkeypatch.setattr(training, "read_confirmed", slow_read)
    assert win.retraining.start()  # returns while the photos are still being read
    dlg = win.retraining.dialog
    assert dlg is not None and dlg.isVisible() and dlg.head.text() == CHECKING
    assert dlg.stop_button.text() == "Cancel" and not dlg.line.isVisible()
    assert win.retraining.checking and not win.retraining.running
    assert not win.retraining.start()  # a second start only shows the check going on
    _shot(dlg, "retrain-checking.png")
    dlg.stop_button.click()
    assert not dlg.isVisible() and not win.retraining.checking
    gate.set()
    qtbot.waitUntil(lambda: not win.retraining.checker.busy, timeout=30000)
    qtbot.wait(200)
    assert runs == [] and told == [] and _dated(win) == [] and win.retraining.dialog is None
    # Started again, it checks and trains.
    _started(qtbot, win)
    assert "Learning from 4 confirmed photos" in win.retraining.dialog.intro.text()
    assert win.retraining.dialog.stop_button.text() == "Stop"
    assert len(runs) == 1
    win.retraining.stop()
    qtbot.waitUntil(lambda: not win.retraining.running, timeout=30000)
    assert told == []


def test_without_the_training_part_it_says_how_to_install_it(  # type: ignore[no-untyped-def]
    window, told, fake_train, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.util import find_spec

    runs = fake_train("ok")
    gone = {"torch", "efficientnet_lite_pytorch"}
    monkeypatch.setattr(
        "saree_app.gui.retrain.find_spec", lambda name: None if name in gone else find_spec(name)
    )
    assert not window.retraining.start()
    ((title, message, _details),) = told
    assert title == "Retraining is not installed"
    assert "pip install -e '.[train]'" in message
    assert "(missing: torch, efficientnet-lite-pytorch)" in message
    assert runs == [] and window.retraining.dialog is None and _dated(window) == []


def test_every_package_of_the_train_extra_is_checked() -> None:
    import re
    import tomllib

    from saree_app.gui.retrain import TRAIN_PACKAGES

    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    extra = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]["train"]
    assert {re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0] for req in extra} == set(
        TRAIN_PACKAGES.values()
    )


def test_a_packaged_build_points_to_the_python_installation(  # type: ignore[no-untyped-def]
    imported, told, fake_train, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = imported
    runs = fake_train("ok")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert not win.retraining.start()
    ((title, message, _details),) = told
    assert title == "Retraining needs the Python installation"
    assert f'saree train --catalog "{win.library.path}" --out "' in message
    assert "pip" not in message
    assert runs == [] and win.retraining.dialog is None and _dated(win) == []


def test_a_program_that_cannot_start_leaves_nothing_behind(  # type: ignore[no-untyped-def]
    qtbot, imported, told, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    win = imported
    _confirm(qtbot, win, ENOUGH)
    monkeypatch.setattr(
        "saree_app.gui.retrain.train_command",
        lambda catalog, out: [str(tmp_path / "no-such-python"), "-m", "saree_app.cli"],
    )
    title, message, details = _refused(qtbot, win, told)
    assert title == "Retraining cannot start"
    assert "could not be started" in message and "keeps the model it has" in message
    assert "no-such-python" in details
    assert not win.retraining.running and win.retraining.process is None
    assert _dated(win) == []  # the folder made for the run is gone again
    assert len(win.library.models()) == 1


def test_a_finished_run_shows_its_result_and_switches_to_the_new_model(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train, new_model: Path
) -> None:
    win = imported
    lib = win.library
    _confirm(qtbot, win, ENOUGH)
    before = lib.model_sha()
    runs = fake_train("ok")
    assert win.retraining.start()
    dlg = win.retraining.dialog
    assert dlg is not None and dlg.isVisible() and not dlg.isModal()
    qtbot.waitUntil(lambda: dlg.line.text() == "Reading the photos: 3 of 4", timeout=30000)
    assert "Learning from 4 confirmed photos of 2 traditions" in dlg.intro.text()
    assert dlg.elapsed.text().startswith("Running for ")
    assert win.isEnabled()  # the window stays usable meanwhile
    _shot(dlg, "retrain-progress.png")
    qtbot.waitUntil(dlg.use_button.isVisible, timeout=30000)
    _shot(dlg, "retrain-finished.png")
    out = Path(runs[0][2])
    assert out.parent == lib.path.parent and out.name.startswith("collection-model-")
    text = dlg.result.text()
    # Six photos held back: said as a count, and as too small a check to trust.
    assert "right tradition for 5 of the 6 confirmed photos held back" in text
    assert "too small to trust" in text
    assert dlg.keep_button.isDefault() and not dlg.use_button.isDefault()
    # The traditions by the names the app shows, not their ids.
    named = f"{lib.label('Banarasi')} 2, {lib.label('Kasavu')} 2"
    assert lib.label("Banarasi") != "Banarasi"
    assert f"learnt from 4 confirmed photos of 2 traditions: {named}" in text
    assert dlg.keep_button.isVisible() and not dlg.stop_button.isVisible()
    assert told == []
    # The new model is one Choose model… lists.
    listed = [c.path.absolute() for c in lib.models()]
    assert (out / "saree-model.json").absolute() in listed
    assert lib.model_sha() == before  # nothing switched yet

    sw = win.model_switching
    with qtbot.waitSignal(sw.runner.finished, timeout=60000):
        dlg.use_button.click()
    wait_idle(qtbot, win)
    assert lib.model_sha() == check_model(out / "saree-model.json").sha256 != before
    assert not dlg.isVisible()
    assert told == []


def test_a_failed_run_shows_its_last_messages_and_changes_nothing(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train
) -> None:
    win = imported
    lib = win.library
    _confirm(qtbot, win, ENOUGH)
    before = lib.model_sha()
    fake_train("fail")
    assert win.retraining.start()
    qtbot.waitUntil(lambda: bool(told), timeout=30000)
    ((title, message, details),) = told
    assert title == "Retraining did not finish"
    assert message.startswith("The training stopped with a problem.\n")
    assert "not a model manifest" not in message  # the command's own words: details only
    assert "keeps the model it has" in message
    assert "3/4 features" in details
    assert "--base-model models/saree-model.json: not a model manifest" in details
    assert not win.retraining.running and not win.retraining.dialog.isVisible()
    assert lib.model_sha() == before
    assert len(lib.models()) == 1  # no new model listed


def test_stop_ends_the_training_and_a_new_start_resumes_its_folder(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train
) -> None:
    win = imported
    _confirm(qtbot, win, ENOUGH)
    runs = fake_train("slow")
    _started(qtbot, win)
    dlg = win.retraining.dialog
    pid = win.retraining.process.processId()
    dlg.stop_button.click()
    qtbot.waitUntil(lambda: not win.retraining.running, timeout=30000)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the command is gone, not left running behind the window
    assert dlg.head.text() == "Retraining stopped"
    assert "carry on where it stopped" in dlg.line.text()
    assert dlg.close_button.isVisible() and not dlg.use_button.isVisible()
    _shot(dlg, "retrain-stopped.png")
    assert told == []
    # Started again, the same folder: the command resumes from what it kept for it.
    _started(qtbot, win)
    assert runs[1][2] == runs[0][2]
    win.retraining.stop()
    qtbot.waitUntil(lambda: not win.retraining.running, timeout=30000)


def test_a_run_started_again_right_after_stop_is_not_ended_by_that_stop(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = imported
    _confirm(qtbot, win, ENOUGH)
    monkeypatch.setattr("saree_app.gui.retrain.STOP_GRACE_MS", 300)
    fake_train("slow")
    _started(qtbot, win)
    win.retraining.stop()
    qtbot.waitUntil(lambda: not win.retraining.running, timeout=30000)
    _started(qtbot, win)  # at once, well within the first stop's grace period
    pid = win.retraining.process.processId()
    qtbot.wait(1200)  # past that grace period
    assert win.retraining.running and win.retraining.process.processId() == pid
    os.kill(pid, 0)  # still there
    assert win.retraining.dialog.running and told == []
    win.retraining.stop()
    qtbot.waitUntil(lambda: not win.retraining.running, timeout=30000)


def test_stop_returns_at_once_and_a_run_that_ignores_it_is_ended(  # type: ignore[no-untyped-def]
    qtbot, imported, told, fake_train, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    win = imported
    _confirm(qtbot, win, ENOUGH)
    monkeypatch.setattr("saree_app.gui.retrain.STOP_GRACE_MS", 1000)
    fake_train("stubborn")
    _started(qtbot, win)
    pid = win.retraining.process.processId()
    began = time.monotonic()
    win.retraining.dialog.stop_button.click()
    assert time.monotonic() - began < 0.5  # the window never waits for the process
    assert win.retraining.running and win.retraining.dialog.line.text() == "Stopping…"
    qtbot.waitUntil(lambda: not win.retraining.running, timeout=30000)
    assert time.monotonic() - began >= 0.9  # ended by the kill after the grace period
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert win.retraining.dialog.head.text() == "Retraining stopped" and told == []


def test_an_unchecked_model_is_offered_as_a_trial_not_recommended(
    qtbot, tmp_path: Path, new_model: Path
) -> None:  # type: ignore[no-untyped-def]
    from saree_app.collection.models import retrain_checked, retrain_result
    from saree_app.gui.retrain import RetrainDialog

    assert retrain_checked(new_model)
    data = json.loads(new_model.read_text(encoding="utf-8"))
    data["evaluation"] = {}
    new_model.write_text(json.dumps(data), encoding="utf-8")
    assert not retrain_checked(new_model)
    dlg = RetrainDialog()
    qtbot.addWidget(dlg)
    dlg.show_finished(retrain_result(new_model), new_model.parent, 30, checked=False)
    assert "could not be checked" in dlg.result.text()
    assert dlg.keep_button.isDefault() and not dlg.use_button.isDefault()
    assert dlg.use_button.text() == "Try the new model anyway"
    dlg.show_finished(retrain_result(new_model), new_model.parent, 30, checked=True)
    assert dlg.use_button.isDefault() and dlg.use_button.text() == "Use the new model"
