"""Other garments, rendered: not sarees, to measure the app's flags on (issue 26)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saree_app.cli import main
from saree_app.synth import SynthError
from saree_app.synth.garments import GARMENTS, render_garment


def test_a_garment_is_the_same_from_the_same_seed_and_differs_by_seed() -> None:
    a = np.asarray(render_garment(9_500_003, 128))
    b = np.asarray(render_garment(9_500_003, 128))
    c = np.asarray(render_garment(9_500_004, 128))
    assert a.shape[2] == 3 and max(a.shape[:2]) == 128
    assert np.array_equal(a, b)
    assert a.shape != c.shape or np.abs(a.astype(int) - c.astype(int)).mean() > 5


def test_every_kind_of_garment_is_drawn_and_stands_out_from_its_background() -> None:
    kinds = set()
    for seed in range(60):
        rng = np.random.default_rng([seed, 8_888_888])
        kinds.add(sorted(GARMENTS)[int(rng.integers(len(GARMENTS)))])
        img = np.asarray(render_garment(seed, 96), np.float32)
        # Not a blank frame: the garment and the background differ somewhere.
        assert img.std() > 3.0
    assert kinds == set(GARMENTS)


@pytest.mark.parametrize("seed", [-1, True, 1.5])
def test_a_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(SynthError, match="seed"):
        render_garment(seed, 96)  # type: ignore[arg-type]


def test_the_command_writes_the_photos_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "garments"
    assert main(["synth", "garments", "--out", str(out), "--count", "3", "--size", "96"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "garment-9500000.jpg", "garment-9500001.jpg", "garment-9500002.jpg",
    ]  # fmt: skip
    assert "wrote 3 photos of other garments" in capsys.readouterr().out
    assert main(["synth", "garments", "--out", str(out), "--count", "0"]) == 2
    assert "--count must be at least 1" in capsys.readouterr().err
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    assert main(["synth", "garments", "--out", str(afile), "--count", "1"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["synth", "garments", "--out", str(out), "--size", "8"]) == 2
    assert "at least 32 pixels" in capsys.readouterr().err
