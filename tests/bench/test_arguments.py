"""`saree bench NAME` refuses a count, size or seed it cannot use with a one-line message
(exit 2) before it renders, loads or times anything: a count of 0 once ended in a traceback."""

from __future__ import annotations

import argparse
import importlib

import pytest

from saree_app.bench import at_least, photo_size

# bench module -> (option, the smallest value it takes)
LIMITS = {
    "classify": [
        ("--repeats", 1),
        ("--count", 1),
        ("--side", 32),
        ("--batch", 1),
        ("--threads", 1),
    ],
    "decode": [("--size", 16), ("--repeats", 1), ("--width", 1), ("--height", 1)],
    "familiar": [("--size", 32)],
    "fewshot": [
        ("--shots", 1),
        ("--per-class", 2),
        ("--size", 32),
        ("--splits", 1),
        ("--known", 1),
    ],
    "fusion": [("--val", 1), ("--test", 1), ("--size", 32)],
    "import_": [("--n", 1), ("--batch", 1), ("--threads", 1)],
    "model": [("--repeats", 1), ("--threads", 1), ("--floor-rounds", 1), ("--matmul-size", 16)],
    "openset": [("--per-class", 2), ("--distractors", 2), ("--size", 32), ("--workers", 1)],
    "real": [("--seed", 0)],
    "rerank": [("--n", 1), ("--distinct", 1), ("--confirmed", 1), ("--repeats", 1)],
    "synth": [("--size", 32), ("--repeats", 1), ("--per-round", 1)],
    "similar": [("--n", 1), ("--dim", 1), ("--k", 1), ("--queries", 1), ("--ann-k", 1)],
}


@pytest.mark.parametrize(
    ("bench", "option", "least"),
    [(b, o, m) for b, opts in LIMITS.items() for o, m in opts],
)
def test_a_value_below_the_least_is_refused_in_one_line(
    bench: str, option: str, least: int, capsys: pytest.CaptureFixture[str]
) -> None:
    main = importlib.import_module(f"saree_app.bench.{bench}").main
    # Should the value ever be taken, a bench that writes the shipped manifest must not.
    safe = ["--no-write"] if bench in ("openset", "familiar") else []
    with pytest.raises(SystemExit) as stop:
        main([*safe, option, str(least - 1)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert option in err and f"must be at least {least}, not {least - 1}" in err
    assert "Traceback" not in err


def test_at_least_reads_whole_numbers_only() -> None:
    parse = at_least(1)
    assert parse("3") == 3 and parse(" 7 ") == 7
    for bad, said in (("0", "must be at least 1, not 0"), ("2.5", "not a whole number")):
        with pytest.raises(argparse.ArgumentTypeError, match=said):
            parse(bad)


@pytest.mark.parametrize("bench", ["import_", "rerank"])
def test_a_photo_size_that_is_not_w_by_h_is_refused_in_one_line(
    bench: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main = importlib.import_module(f"saree_app.bench.{bench}").main
    for bad, said in (("big", "is not a size like 2000x1500"), ("800x8", "at least 16 px")):
        with pytest.raises(SystemExit) as stop:
            main(["--size", bad])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert "--size" in err and said in err and "Traceback" not in err


def test_photo_size_reads_width_by_height() -> None:
    assert photo_size("2000x1500") == (2000, 1500) and photo_size("800X600") == (800, 600)
    for bad in ("800", "800x600x3", "x600", "0x600"):
        with pytest.raises(argparse.ArgumentTypeError):
            photo_size(bad)
