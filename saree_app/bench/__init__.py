"""Benchmarks run on demand with `saree bench NAME` (never as timed tests).

Every benchmark takes `--json` and then prints exactly one JSON object on stdout (its running
commentary goes to stderr): {"bench", "argv", "machine", "settings", "figures", "peer"}, where
"machine" holds the load average before and after the run and the CPUs the process may use, so
two runs on a shared machine can be compared honestly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `minimum`, else a one-line error naming
    the option (a count of 0 photos or repeats used to end in a traceback)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def photo_size(text: str) -> tuple[int, int]:
    """An argparse type: "WxH" (each side at least 16 px) -> (width, height), else a one-line
    error (the benches that make their own photos once split it by hand, each its own way)."""
    parts = text.lower().split("x")
    try:
        width, height = (int(v) for v in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 2000x1500") from None
    if min(width, height) < 16:
        raise argparse.ArgumentTypeError(f"each side must be at least 16 px, not {text}")
    return width, height


def machine() -> dict[str, Any]:
    """The machine as a benchmark sees it: CPUs usable, load average, library versions."""
    import numpy as np

    out: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        import onnxruntime

        out["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    out["load_average"] = load_average()
    return out


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages (None where the system has none)."""
    if not hasattr(os, "getloadavg"):
        return None
    return [round(v, 2) for v in os.getloadavg()]


@dataclass
class Report:
    """What one benchmark run measured, printed as one JSON object with --json.

    `say` is the human report: on stdout normally, on stderr under --json so stdout carries
    only the JSON object.
    """

    bench: str
    argv: list[str]
    as_json: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    peer: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=machine)
    failed: bool = False

    def say(self, *parts: object, end: str = "\n") -> None:
        """One line of the human report."""
        print(*parts, end=end, file=sys.stderr if self.as_json else sys.stdout, flush=True)

    def fail(self, message: str) -> int:
        """A run that cannot go on: its one-line reason on stderr, no JSON object; returns 2."""
        print(message, file=sys.stderr, flush=True)
        self.failed = True
        return 2

    def as_dict(self) -> dict[str, Any]:
        """The JSON object: the machine's load measured again at the end."""
        mach = dict(self.machine)
        mach["load_average_after"] = load_average()
        return {
            "bench": self.bench,
            "argv": self.argv,
            "machine": mach,
            "settings": self.settings,
            "figures": self.figures,
            "peer": self.peer,
        }

    def emit(self) -> None:
        """Print the JSON object (under --json; nothing otherwise)."""
        if self.as_json and not self.failed:
            print(json.dumps(self.as_dict(), default=_plain))


def _plain(value: Any) -> Any:
    """numpy scalars and paths as JSON understands them."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


@contextlib.contextmanager
def reporting(bench: str, argv: Sequence[str] | None, as_json: bool) -> Iterator[Report]:
    """A Report for one run; under --json anything printed inside goes to stderr and the JSON
    object is printed when the block ends without an exception."""
    report = Report(bench, list(argv if argv is not None else sys.argv[1:]), as_json)
    if not as_json:
        yield report
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield report
    report.emit()


def run_reported(
    bench: str, argv: Sequence[str] | None, args: Any, main: Callable[[Report], int]
) -> int:
    """`main(report)` inside `reporting`, every command-line argument recorded as a setting
    (paths as text); a non-zero status marks the report failed. Returns the status."""
    with reporting(bench, argv, args.json) as report:
        report.settings.update(
            {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        )
        status = main(report)
        report.failed = status != 0
    return status
