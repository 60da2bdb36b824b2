"""`python -m saree_app.gui.bench_open`: the photo page made ready, timed as the window does it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app.gui import bench_open


def test_it_times_the_photo_page_and_prints_one_json_object(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shot = tmp_path / "p.jpg"
    pixels = np.random.default_rng(2).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(shot, quality=90)
    argv = ["--photo", str(shot), "--model", str(tiny_model), "--repeats", "2", "--json"]
    assert bench_open.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    page = out["figures"]["photo_page"]
    assert out["bench"] == "gui.bench_open" and page["repeats"] == 2
    assert 0 < page["best_ms"] <= page["median_ms"]


def test_a_photo_that_is_not_there_or_not_a_photo_is_said(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_open.main(["--photo", str(tmp_path / "none.jpg"), "--json"]) == 2
    assert "is not a file" in capsys.readouterr().err
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a photo at all")
    assert bench_open.main(["--photo", str(bad), "--model", str(tiny_model), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "bad.jpg" in captured.err
