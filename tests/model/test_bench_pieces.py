"""`saree bench pieces`: rendered laid-out sarees read in pieces and whole, on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saree_app.bench.pieces import main


def test_bench_reads_laid_out_sarees_both_ways(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--model", str(tiny_model), "--per-class", "1", "--size", "320"]
    argv += ["--data", str(tmp_path / "renders"), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    pieces, whole = report["figures"]["in_pieces"], report["figures"]["whole"]
    n = len(report["settings"]["traditions"])
    assert n > 0 and pieces["photos"] == whole["photos"] == n
    # Fitted whole, every laid-out saree is flagged as too thin; in pieces, none is.
    assert whole["flagged_too_thin"] == 1.0 and whole["pieces_median"] == 1
    assert pieces["flagged_too_thin"] == 0.0 and pieces["pieces_median"] > 1
    for figures in (pieces, whole):
        assert 0.0 <= figures["part_miou"] <= 1.0
        assert set(figures["part_iou"]) == {"background", "body", "border", "pallu"}
    assert "in pieces: right first" in captured.err
    # The renders are kept: a second run reads them again.
    assert len(list((tmp_path / "renders").rglob("*.jpg"))) == n
