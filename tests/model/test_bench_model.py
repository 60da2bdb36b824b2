"""The classify and open-set benchmarks' arithmetic: FLOPs from the graph, calibration run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saree_app.bench.classify import cpu_peak_gflops, onnx_flops
from saree_app.bench.openset import main as openset_main


def test_flops_counted_from_the_graph(tiny_manifest: Path) -> None:
    counted = onnx_flops(tiny_manifest.with_suffix(".onnx"), 64)
    assert counted is not None
    total, by_op = counted
    # By hand: a 4x4 stride-4 conv 3->8 onto 16x16, then 1x1 convs 8->(4+5+15+6+16+48).
    cells = 16 * 16
    expected = 2 * 8 * cells * 3 * 4 * 4 + 2 * cells * 8 * (4 + 5 + 15 + 6 + 16 + 48)
    assert by_op == {"Conv": pytest.approx(expected)}
    assert total == pytest.approx(expected)


def test_cpu_peak_is_a_positive_rate() -> None:
    assert 0.0 < cpu_peak_gflops(n=128, repeats=2) < 1e6


@pytest.mark.slow
def test_openset_bench_writes_thresholds(model_copy: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    argv = [
        "--model", str(model_copy), "--per-class", "4", "--unknown-per-class", "2",
        "--distractors", "6", "--size", "96", "--data", str(tmp_path / "renders"),
        "--workers", "1",
    ]  # fmt: skip
    assert openset_main(argv) == 0
    out = capsys.readouterr().out
    assert "AUROC on the evaluation half" in out
    # As the app flags them: the thresholds, or the cloth-features model's cloth check.
    app_line = next(line for line in out.splitlines() if line.startswith("flagged by the app"))
    assert "known" in app_line and "non-saree" in app_line
    assert "not looking like cloth alone" in out
    entry = json.loads(model_copy.read_text())["open_set"]
    assert set(entry["thresholds"]) == set(entry["signals"])
    assert 0.0 <= entry["evaluation"]["auroc"]["all unknown"] <= 1.0
    assert entry["evaluation"]["withheld_traditions"] == [
        "Gadwal",
        "Ilkal",
        "KotaDoria",
        "Sambalpuri",
    ]
