"""Runs long jobs on one worker thread; progress and results come back as queued signals.

A job is a plain function `job(cancel) -> result` or a generator function whose yields are
progress and whose return value is the result (the collection importer is one). It never
touches a widget. Starting a new job cancels the one still running: only the newest job's
signals reach the window.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from saree_app.gui import qtfix
from saree_app.gui.qtfix import emit

# A progress bar cannot show more than a few updates a second; flooding the event loop with
# one queued signal per photo is what makes a window stutter during a big import.
_PROGRESS_INTERVAL_S = 0.05


class Cancelled(Exception):
    """Raised inside a job (by Cancel.check) to stop it early."""


class Cancel:
    """What a job polls to learn that it should stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def __bool__(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled


class _Relay(QObject):
    # Lives in the GUI thread; emitting from the worker therefore queues the call.
    progress = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, str, str)
    cancelled = Signal(int)


class _Run(QRunnable):
    def __init__(
        self, token: int, job: Callable[[Cancel], Any], cancel: Cancel, relay: _Relay
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._token, self._job, self._cancel, self._relay = token, job, cancel, relay

    def run(self) -> None:
        token, relay, cancel = self._token, self._relay, self._cancel
        try:
            if cancel.is_set():
                raise Cancelled
            out = self._job(cancel)
            if isinstance(out, Generator):
                out = self._drive(out)
            if cancel.is_set():
                emit(relay.cancelled, token)
            else:
                emit(relay.done, token, out)
        except Cancelled:
            emit(relay.cancelled, token)
        except Exception as exc:  # the window shows it as a message, never as a traceback
            emit(relay.failed, token, _message(exc), traceback.format_exc())

    def _drive(self, gen: Generator[Any, None, Any]) -> Any:
        last = 0.0
        pending: Any = None
        have_pending = False
        try:
            while True:
                if self._cancel.is_set():
                    gen.close()
                    raise Cancelled
                item = next(gen)
                now = time.monotonic()
                if now - last >= _PROGRESS_INTERVAL_S:
                    emit(self._relay.progress, self._token, item)
                    last, have_pending = now, False
                else:
                    pending, have_pending = item, True
        except StopIteration as stop:
            if have_pending:
                emit(self._relay.progress, self._token, pending)
            return stop.value


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


class TaskRunner(QObject):
    """One worker; `start` cancels the job before it. Shut it down when the window closes."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)  # message, details
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        qtfix.apply()  # on the GUI thread, before any worker emits
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        # Parented after the pool: on destruction the pool (waiting for the worker) goes first,
        # and the relay is never freed by the worker thread dropping the last reference.
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._relay.cancelled.connect(self._on_cancelled)
        self._token = 0
        self._cancel: Cancel | None = None
        self._busy = False
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None, ...]] = {}

    @property
    def busy(self) -> bool:
        return self._busy

    def start(
        self,
        job: Callable[[Cancel], Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        """Run `job` after cancelling whatever runs now."""
        self.cancel()
        self._callbacks.pop(self._token, None)
        self._token += 1
        self._cancel = Cancel()
        self._callbacks[self._token] = (on_done, on_progress)
        self._set_busy(True)
        self._pool.start(_Run(self._token, job, self._cancel, self._relay))

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the worker; True if it stopped in time."""
        self.cancel()
        self._token += 1  # nothing from the old job reaches the (closing) window
        return bool(self._pool.waitForDone(timeout_ms))

    def wait(self, timeout_ms: int = -1) -> bool:
        return bool(self._pool.waitForDone(timeout_ms))

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            emit(self.busyChanged, busy)

    def _on_progress(self, token: int, item: object) -> None:
        if token != self._token:
            return
        cb = self._callbacks.get(token, (None, None))[1]
        if cb is not None:
            cb(item)
        emit(self.progress, item)

    def _on_done(self, token: int, result: object) -> None:
        if token != self._token:
            return
        cb = self._callbacks.pop(token, (None, None))[0]
        self._set_busy(False)
        if cb is not None:
            try:
                cb(result)
            except Exception as exc:
                emit(self.failed, _message(exc), traceback.format_exc())
                return
        emit(self.finished, result)

    def _on_failed(self, token: int, message: str, details: str) -> None:
        if token != self._token:
            return
        self._callbacks.pop(token, None)
        self._set_busy(False)
        emit(self.failed, message, details)

    def _on_cancelled(self, token: int) -> None:
        if token != self._token:
            return
        self._callbacks.pop(token, None)
        self._set_busy(False)
        emit(self.cancelled)
