"""TaskRunner: progress from generators, results, failures, cancel, one job at a time."""

from __future__ import annotations

import threading
import time

import pytest

from saree_app.gui.tasks import Cancel, Cancelled, TaskRunner


def test_generator_progress_and_result(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    seen: list[int] = []
    results: list[object] = []
    gui_thread = threading.current_thread()
    callback_threads: set[threading.Thread] = set()

    def job(cancel: Cancel):  # type: ignore[no-untyped-def]
        for i in range(5):
            time.sleep(0.06)  # longer than the progress throttle: every step arrives
            yield i
        return "done"

    def on_progress(i: int) -> None:
        callback_threads.add(threading.current_thread())
        seen.append(i)

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(job, on_done=results.append, on_progress=on_progress)
    assert seen == [0, 1, 2, 3, 4]
    assert results == ["done"]
    assert callback_threads == {gui_thread}  # queued back to the GUI thread
    assert not runner.busy


def test_fast_progress_is_throttled_but_last_step_arrives(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    seen: list[int] = []

    def job(cancel: Cancel):  # type: ignore[no-untyped-def]
        yield from range(10_000)

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(job, on_progress=seen.append)
    assert seen[-1] == 9_999
    assert len(seen) < 1_000


def test_failure_becomes_a_message(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()

    def job(cancel: Cancel) -> None:
        raise ValueError("the folder is gone")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.start(job)
    message, details = blocker.args
    assert message == "the folder is gone"
    assert "ValueError" in details
    assert not runner.busy


def test_new_job_cancels_the_old_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    stopped = threading.Event()
    done: list[object] = []

    def slow(cancel: Cancel) -> str:
        while not cancel.is_set():
            time.sleep(0.005)
        stopped.set()
        return "slow"

    runner.start(slow, on_done=done.append)
    time.sleep(0.05)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(lambda c: "fast", on_done=done.append)
    assert stopped.is_set()
    assert done == ["fast"]  # the cancelled job's result never reaches the window


def test_cancel_stops_a_generator_between_steps(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    steps: list[int] = []

    def job(cancel: Cancel):  # type: ignore[no-untyped-def]
        for i in range(1000):
            steps.append(i)
            time.sleep(0.002)
            yield i

    runner.start(job)
    time.sleep(0.05)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    assert 0 < len(steps) < 1000
    assert runner.shutdown(1000)


@pytest.mark.parametrize("flag", [True, False])
def test_cancel_object(flag: bool) -> None:
    c = Cancel()
    if flag:
        c.set()
    assert bool(c) is flag
    if flag:
        with pytest.raises(Cancelled):
            c.check()
    else:
        c.check()


def test_long_sessions_do_not_exhaust_none_or_true(qapp) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call and to True
    on every emit(): the app must survive far more calls than a session makes."""
    import sys

    from PySide6.QtCore import QObject, Signal

    from saree_app.gui import qtfix
    from saree_app.gui.qtfix import emit

    qtfix.apply()

    class Source(QObject):
        ping = Signal(int)

    src = Source()
    got: list[int] = []
    src.ping.connect(got.append)
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(3000):
        emit(src.ping, i)
        src.setObjectName("x")
    assert len(got) == 3000
    if not qtfix.binding_leaks():
        assert abs(sys.getrefcount(True) - true0) < 50
        assert abs(sys.getrefcount(None) - none0) < 50
    else:  # immortalised: the counts stay far from zero whatever the losses
        assert sys.getrefcount(None) > 1 << 39 and sys.getrefcount(True) > 1 << 39
