"""The `saree` command: one entry point, a subcommand per area (see saree_app/commands)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from typing import NoReturn

import saree_app
from saree_app import commands


class _Parser(argparse.ArgumentParser):
    """argparse, its complaints about a number worded for a curator ("'nan' is not a whole
    number", not "invalid int value: 'nan'"); its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"invalid int value: (.+)$", r"\1 is not a whole number", message)
        message = re.sub(r"invalid float value: (.+)$", r"\1 is not a number", message)
        super().error(message)


# Options (by dest) whose value is words the app stores or looks up, never a file name: a byte
# that is not UTF-8 in them (a terminal in another encoding) is refused before anything runs.
# A file name may hold such bytes, and is passed on as it is.
_TEXT_OPTIONS = {
    "tradition": "--tradition",
    "state": "--state",
    "region": "--region",
    "like": "--like",
    "note": "--note",
    "tag": "--tag",
    "untag": "--untag",
    "certainty": "--certainty",
    "accession": "the accession number",
    "new_accession": "--accession",
    "title": "--title",
    "source": "--source",
    "acquired": "--acquired",
    "made_from": "--made-from",
    "made_to": "--made-to",
    "place_acquired": "--place-acquired",
    "place_made": "--place-made",
    "fibre": "--fibre",
    "condition": "--condition",
    "notes": "--notes",
    "role": "--role",
    "search": "--search",
    "base": "--base",
    "by": "--by",
    "pattern": "--pattern",
}


def _command_name(args: argparse.Namespace) -> str:
    """The command as its own messages name it: "label", "object create", "kg show"."""
    words = [str(getattr(args, "command", "") or "")]
    for dest in ("object_command", "kg_command", "synth_command"):
        if getattr(args, dest, None):
            words.append(str(getattr(args, dest)))
    return " ".join(w for w in words if w)


def _not_text(args: argparse.Namespace) -> str | None:
    """The option whose value holds bytes that are not UTF-8 text, or None."""
    for dest, option in _TEXT_OPTIONS.items():
        value = getattr(args, dest, None)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    positional = dest == "tradition" and args.command in ("kg", "synth")
                    return "the tradition's name" if positional else option
    return None


def _unexpected(command: str, exc: Exception, words: Sequence[str]) -> int:
    """A failure no command words: one plain line, the details in a file for a report."""
    details = ""
    with contextlib.suppress(OSError):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        fd, name = tempfile.mkstemp(prefix=f"saree-problem-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(f"saree {' '.join(words)}\n\n")
            fh.write("".join(traceback.format_exception(exc)))
        details = f"; the details for a report are in {name}"
    print(
        f"saree {command}: stopped by a problem the app does not know how to explain. Check "
        f"that what it was doing is as you expect before going on, and please report "
        f"it{details}",
        file=sys.stderr,
    )
    return 2


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each module in saree_app.commands adds its own subcommands."""
    parser = _Parser(
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
    try:
        # Inside the try: Ctrl+C while the commands load (numpy, Pillow...) is no traceback.
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    command = _command_name(args)
    option = _not_text(args)
    if option is not None:
        print(
            f"saree {command}: {option}: the words given hold characters that are not text "
            "(UTF-8; the terminal may use another encoding): type them again. Nothing was "
            "changed.",
            file=sys.stderr,
        )
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
    except Exception as exc:  # the last line of defence: no traceback reaches a curator
        return _unexpected(command, exc, sys.argv[1:] if argv is None else argv)
    return status


if __name__ == "__main__":
    sys.exit(main())
