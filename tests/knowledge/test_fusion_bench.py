"""`saree bench fusion` end to end on the tiny model (meaningless numbers, real plumbing)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from saree_app.bench import fusion as bench
from saree_app.knowledge.graph import TextileGraph
from saree_app.synth.dataset import split_of


def test_seeds_come_from_the_right_split() -> None:
    seeds = bench.pick_seeds("Kanchipuram", "test", 5)
    assert len(seeds) == 5 and len(set(seeds)) == 5
    assert all(split_of("Kanchipuram", s, {}, None) == "test" for s in seeds)
    assert not set(seeds) & set(bench.pick_seeds("Kanchipuram", "val", 5))


@pytest.mark.slow
def test_bench_runs_on_the_tiny_model(tiny_model: Path, tmp_path: Path) -> None:
    cache = tmp_path / "preds.json"
    traditions = ["Kanchipuram", "Banarasi", "PochampallyIkat", "Gadwal"]
    photos, labels, _ = bench.collect(
        tiny_model, traditions, {"val": 3, "test": 2}, 64, cache=cache, log=lambda *_: None
    )
    assert len(photos) == 4 * 5 and cache.exists()
    assert {p.split for p in photos} == {"val", "test"}
    again, _, _ = bench.collect(
        tiny_model, traditions, {"val": 3, "test": 2}, 64, cache=cache, log=lambda *_: None
    )
    assert again == photos
    r = bench.evaluate(photos, labels, TextileGraph.load())
    assert r["withheld"] == ["Gadwal"]
    assert r["n_test_known"] == 6
    for key in ("known_visual", "known_fused", "known_fused_default", "known_fused_likelihood"):
        top1, top3 = r[key]
        assert 0.0 <= top1 <= top3 <= 1.0
    row = r["zero_shot"]["Gadwal"]
    for key in ("all", "unknown_only", "all_likelihood", "all_default"):
        top1, top3 = row[key]
        assert 0.0 <= top1 <= top3 <= 1.0 and not math.isnan(top3)
    assert row["unknown_only"][1] >= row["all"][1]  # fewer rivals, never a worse rank
    assert r["weights"]["rule"].startswith("naive-bayes")
    state, region = row["region"]
    assert 0.0 <= state <= region <= 1.0  # a right state implies a right cultural region
