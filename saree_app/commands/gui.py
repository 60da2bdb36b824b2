"""`saree gui`: open the desktop application (the same as the `saree-app` command)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `saree gui`."""
    p = sub.add_parser("gui", help="open the desktop application")
    p.add_argument("--collection", type=Path, help="catalogue file to open (created if new)")
    p.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    p.add_argument("--screenshots", type=Path, metavar="DIR", help="render the views to DIR")
    p.add_argument("--self-test", action="store_true", help="check model, graph and answer")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Hand the options to saree_app.gui.app.main (imported here: PySide6 loads only now)."""
    argv: list[str] = []
    for flag in ("collection", "model", "screenshots"):
        value = getattr(args, flag, None)
        if value is not None:
            argv += [f"--{flag}", str(value)]
    if getattr(args, "self_test", False):
        argv.append("--self-test")
    app = importlib.import_module("saree_app.gui.app")
    status: int = app.main(argv)
    return status
