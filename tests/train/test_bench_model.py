"""`saree bench model`: latency of the exported model."""

from __future__ import annotations

from pathlib import Path

import pytest

from saree_app.bench import model as bench_model


def test_bench_reports_medians(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_model.main(["--model", str(tiny_model), "--repeats", "3", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"median_ms"' in out and '"size_mb"' in out


def test_bench_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_model.main(["--model", str(tmp_path / "none.json")]) == 2
    assert "no model manifest" in capsys.readouterr().out
