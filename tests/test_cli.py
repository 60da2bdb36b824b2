"""The `saree` command as a user meets it: help, unknown commands, a closed pipe."""

from __future__ import annotations

import subprocess
import sys

from saree_app.cli import build_parser, main


def test_every_area_registers_its_commands() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = set(sub.choices)  # type: ignore[arg-type]
    expected = {"classify", "import", "similar", "label", "export", "kg", "synth", "train"}
    assert expected <= names, expected - names
    assert {"eval", "export-model", "bench", "gui"} <= names


def test_no_command_prints_help_and_fails(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([]) == 2
    assert "classify" in capsys.readouterr().out


def test_closed_pipe_is_not_a_traceback() -> None:
    # `saree kg export --format ttl | head -1`: the reader leaves before the end.
    proc = subprocess.Popen(
        [sys.executable, "-m", "saree_app.cli", "kg", "export", "--format", "ttl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # gone before the command writes its first line
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode()
    assert b"BrokenPipeError" not in err, err.decode()
    assert proc.returncode == 141
