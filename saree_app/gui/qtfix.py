"""A safety net for a broken Qt binding, switched on only when measured at run time.

PySide6 6.12.0 (abi3 wheels) returns None, True and False to Python without taking a reference
in many calls: every void method (setText, quit, setValue...) costs None a reference, every
emit() and connect() costs True one. From Python 3.12 on these objects are immortal and nothing
happens; on 3.11 the interpreter aborts ("none_dealloc" / "bool_dealloc") after enough calls,
in a long import or a morning of review. pyproject.toml should exclude that release; when it
is installed anyway, `apply()` makes the three singletons immortal the way 3.12 does, by
giving them a reference count no session can use up.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

_HUGE = 1 << 40
_STATE: dict[str, bool] = {}


def binding_leaks() -> bool:
    """Whether void calls or emit() drop references to None / True (measured once)."""
    if "leaks" not in _STATE:
        from PySide6.QtCore import QObject, Signal

        class _Probe(QObject):
            ping = Signal()

        probe = _Probe()
        none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
        for _ in range(16):
            probe.setObjectName("probe")
            probe.ping.emit()
        lost = max(none0 - sys.getrefcount(None), true0 - sys.getrefcount(True))
        _STATE["leaks"] = lost >= 16
    return _STATE["leaks"]


def apply() -> bool:
    """Make None, True and False immortal if this binding needs it; True when it did."""
    if sys.version_info >= (3, 12) or not binding_leaks():
        return False
    if not _STATE.get("applied"):
        for obj in (None, True, False):
            # ob_refcnt is the first field of every object in a release build of CPython 3.11.
            ctypes.c_ssize_t.from_address(id(obj)).value += _HUGE
        _STATE["applied"] = True
    return True


def emit(signal: Any, *args: Any) -> None:
    """`signal.emit(*args)`; one place to route emits through should the binding need it."""
    signal.emit(*args)
