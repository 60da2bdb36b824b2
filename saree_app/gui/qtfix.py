"""Workarounds for bugs in the Qt binding, each checked at run time rather than by version.

PySide6 6.12.0: `SignalInstance.emit()` returns Py_True without taking a reference, so every
emit from Python takes one reference from `True`; after a few thousand emits (a long import,
a morning of review) the interpreter aborts with "bool_dealloc: deallocating True or False".
`emit()` below gives the reference back when, and only when, the running binding needs it.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

_py_incref = ctypes.pythonapi.Py_IncRef
_py_incref.argtypes = [ctypes.py_object]
_py_incref.restype = None
_STATE: dict[str, bool] = {}


def emit_leaks_true() -> bool:
    """Whether this binding's emit() drops a reference to True (measured once)."""
    if "leaks" not in _STATE:
        from PySide6.QtCore import QObject, Signal

        class _Probe(QObject):
            ping = Signal()

        probe = _Probe()
        before = sys.getrefcount(True)
        results = [probe.ping.emit() for _ in range(8)]
        del results
        lost = before - sys.getrefcount(True)
        for _ in range(max(0, lost)):
            _py_incref(True)  # the probe's own losses
        _STATE["leaks"] = lost >= 8
    return _STATE["leaks"]


def emit(signal: Any, *args: Any) -> None:
    """`signal.emit(*args)`, without the reference leak (safe from any thread)."""
    result = signal.emit(*args)
    if result is True and emit_leaks_true():
        _py_incref(True)
