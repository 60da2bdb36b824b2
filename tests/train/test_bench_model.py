"""`saree bench model`: latency of the exported model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from saree_app.bench import model as bench_model


def _changed_copy(tiny_model: Path, tmp_path: Path, **changes: Any) -> Path:
    """A private copy of the tiny model whose manifest has `changes` written into it."""
    folder = tmp_path / "m"
    shutil.copytree(tiny_model.parent, folder)
    path = folder / tiny_model.name
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return path


def test_bench_reports_medians(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model", str(tiny_model), "--repeats", "3", "--json", "--no-floor"]
    assert bench_model.main(argv) == 0
    figures = json.loads(capsys.readouterr().out)["figures"]
    assert figures["median_ms"] > 0 and figures["size_mb"] > 0
    assert "floor" not in figures


def test_bench_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_model.main(["--model", str(tmp_path / "none.json")]) == 2
    assert "no model manifest" in capsys.readouterr().err


def test_bench_stores_its_figures_beside_the_manifest_s_others(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluation = {"heldout": {"top1": 0.5}, "latency": {"median_ms": -1.0}}
    path = _changed_copy(tiny_model, tmp_path, evaluation=evaluation)
    argv = ["--model", str(path), "--repeats", "2", "--write-manifest", "--no-floor"]
    assert bench_model.main(argv) == 0
    stored = json.loads(path.read_text())["evaluation"]
    assert stored["heldout"] == {"top1": 0.5}  # other figures kept
    assert stored["latency"]["median_ms"] > 0 and stored["latency"]["repeats"] == 2
    assert "evaluation.latency" in capsys.readouterr().out


def test_bench_times_every_zoom_of_the_part_map(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _changed_copy(tiny_model, tmp_path, seg_zooms=[1, 0.875])
    assert bench_model.main(["--model", str(path), "--repeats", "2", "--json", "--no-floor"]) == 0
    assert json.loads(capsys.readouterr().out)["figures"]["seg_zooms"] == "1,0.875"
    path.write_text(json.dumps({**json.loads(path.read_text()), "seg_zooms": [1, 3]}))
    assert bench_model.main(["--model", str(path), "--repeats", "2"]) == 2
    assert "zoom 3 is outside" in capsys.readouterr().err


def test_the_flop_floor_is_the_graph_s_flops_at_the_matmul_rate(tiny_model: Path) -> None:
    import os
    import time

    from saree_app.bench.classify import onnx_flops

    onnx_path = tiny_model.with_suffix(".onnx")
    counted = onnx_flops(onnx_path, 64)
    assert counted is not None
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    floor = bench_model.flop_floor(
        onnx_path, 64, 3, threads, lambda: time.sleep(0.002), rounds=1, matmul=256
    )
    assert floor is not None
    assert floor["passes"] == 3
    assert floor["gflop_per_photo"] == pytest.approx(3 * counted[0] / 1e9, rel=1e-3)
    expected_ms = 3 * counted[0] / (floor["matmul_gflops"] * 1e9) * 1000
    assert floor["floor_ms"] == pytest.approx(expected_ms, rel=0.01, abs=0.01)
    # The "model" sleeps 2 ms: far above a tiny graph's floor.
    assert floor["model_median_ms"] >= 2.0
    # Printed to two decimals: a tiny model on a busy machine can sit near 0.02.
    assert floor["ratio_to_floor"] == pytest.approx(
        floor["model_median_ms"] / floor["floor_ms"], rel=0.02, abs=0.005
    )


def test_the_torch_baseline_does_the_app_s_work_at_every_zoom(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`saree bench classify` compares against torch eager doing the same work: with two
    zooms in the manifest, two passes and the same averaged part map as the app's."""
    import numpy as np

    from saree_app.bench.classify import _torch_baseline
    from saree_app.model.manifest import ModelManifest
    from saree_app.model.session import ModelSession

    manifest = ModelManifest.load(_changed_copy(tiny_model, tmp_path, seg_zooms=[1, 0.75]))
    made = _torch_baseline(manifest)
    assert not isinstance(made, str), made
    forward, note = made
    assert "the part map read at the same zooms (2 passes)" in note
    size = manifest.preprocessing.size
    x = np.random.default_rng(0).normal(0, 1, (1, 3, size, size)).astype(np.float32)
    seg = forward(x)["seg"]  # type: ignore[index]
    # Its own (random) heads, so not the app's numbers: the same shape, and not the one-pass map.
    once = ModelSession(manifest).run(x)["seg"]
    assert seg.shape == once.shape
    assert np.allclose(np.exp(seg).sum(1), 1.0, atol=1e-4)
