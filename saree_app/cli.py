"""The `saree` command: one entry point, a subcommand per area (see saree_app/commands)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import saree_app
from saree_app import commands


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each module in saree_app.commands adds its own subcommands."""
    parser = argparse.ArgumentParser(
        prog="saree",
        description="Where does this saree come from? Classify, explain, browse and export.",
    )
    parser.add_argument("--version", action="version", version=f"saree {saree_app.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the process exit status."""
    for stream in (sys.stdout, sys.stderr):
        # A file name whose bytes are not UTF-8 must never stop a command half-way, nor make
        # its output invalid UTF-8 (the C.UTF-8 locale would write the raw byte): anything
        # unwritable comes out as a backslash escape.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        status: int = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `saree kg show X | head`: the reader left; that is not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())
