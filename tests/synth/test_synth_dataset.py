"""Data set writing: layout, labels, held-out families, determinism; sheet and samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from saree_app.cli import main
from saree_app.synth import SynthError
from saree_app.synth.dataset import contact_sheet, parse_heldout, write_dataset, write_samples

KEYS = {"image", "mask", "tradition", "attributes", "split", "families", "seed"}


def _rows(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / "labels.jsonl").read_text().splitlines()]


def test_layout_labels_and_heldout(tmp_path: Path) -> None:
    held = {"view": ["draped", "closeup"], "background": ["wood"]}
    root = write_dataset(tmp_path / "ds", 12, 64, ["Kasavu", "Bandhani"], held, workers=1)
    rows = _rows(root)
    assert len(rows) == 24
    splits = set()
    for r in rows:
        assert set(r) == KEYS
        fams = r["families"]
        assert isinstance(fams, dict)
        assert set(fams) >= {"view", "background", "lighting"}
        is_held = fams["view"] in held["view"] or fams["background"] in held["background"]
        assert (r["split"] == "heldout") == is_held
        splits.add(r["split"])
        img = Image.open(root / str(r["image"]))
        mask = Image.open(root / str(r["mask"]))
        assert mask.mode == "L" and mask.size == img.size
        assert set(np.unique(np.asarray(mask))) <= {0, 1, 2, 3}
        assert str(r["image"]).startswith(f"{r['tradition']}/")
        assert str(r["image"]).endswith(".jpg") and str(r["mask"]).endswith(".mask.png")
    assert "heldout" in splits and "train" in splits


@pytest.mark.slow
def test_two_workers_write_the_same_labels_as_one(tmp_path: Path) -> None:
    a = write_dataset(tmp_path / "a", 6, 48, ["Ilkal", "Jamdani"], {"view": ["hung"]}, workers=1)
    b = write_dataset(tmp_path / "b", 6, 48, ["Ilkal", "Jamdani"], {"view": ["hung"]}, workers=2)
    assert (a / "labels.jsonl").read_bytes() == (b / "labels.jsonl").read_bytes()
    first = _rows(a)[0]["image"]
    assert (a / str(first)).read_bytes() == (b / str(first)).read_bytes()


def test_dataset_seed_gives_other_photos(tmp_path: Path) -> None:
    a = write_dataset(tmp_path / "a", 2, 48, ["Chettinad"], workers=1, seed=0)
    b = write_dataset(tmp_path / "b", 2, 48, ["Chettinad"], workers=1, seed=1)
    ra, rb = _rows(a), _rows(b)
    assert [r["seed"] for r in ra] != [r["seed"] for r in rb]
    assert (a / str(ra[0]["image"])).read_bytes() != (b / str(rb[0]["image"])).read_bytes()


def test_camera_family_can_be_held_out(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 10, 48, ["Ilkal"], {"camera": ["low_light"]}, workers=1)
    for r in _rows(root):
        fams = r["families"]
        assert isinstance(fams, dict)
        assert (r["split"] == "heldout") == (fams["camera"] == "low_light")


def test_parse_heldout() -> None:
    assert parse_heldout(["view=draped,background=wood", "view=hung"]) == {
        "view": ["draped", "hung"],
        "background": ["wood"],
    }
    with pytest.raises(SynthError, match="KIND=NAME"):
        parse_heldout(["draped"])
    with pytest.raises(SynthError, match="unknown family kind 'colour'"):
        parse_heldout(["colour=red"])
    with pytest.raises(SynthError, match="unknown view 'upside'"):
        parse_heldout(["view=upside"])


def test_write_dataset_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="no design grammar"):
        write_dataset(tmp_path, 1, 64, ["Nowhere"])
    with pytest.raises(SynthError, match="at least 1"):
        write_dataset(tmp_path, 0, 64)
    with pytest.raises(SynthError, match="every view"):
        write_dataset(
            tmp_path,
            1,
            64,
            heldout={"view": ["flat", "partial", "folded", "hung", "draped", "closeup"]},
        )
    assert not (tmp_path / "labels.jsonl").exists()


def test_cli_dataset_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    rc = main(
        [
            "synth",
            "dataset",
            "--out",
            str(out),
            "--per-class",
            "2",
            "--size",
            "48",
            "--traditions",
            "Gadwal",
            "--heldout",
            "view=draped",
            "--workers",
            "1",
        ]
    )
    assert rc == 0
    assert len(_rows(out)) == 2
    rc = main(["synth", "dataset", "--out", str(out), "--heldout", "view=nope"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "unknown view 'nope'" in err and "Traceback" not in err


def test_sheet_and_samples(tmp_path: Path) -> None:
    sheet = contact_sheet(["Kasavu", "Ilkal"], ["flat", "draped"], cell=64, labels=False)
    assert sheet.size == (128, 128)
    paths = write_samples(tmp_path / "s", count=2, size=96)
    assert len(paths) == 2
    for p in paths:
        assert Image.open(p).format == "JPEG"
        assert max(Image.open(p).size) == 96
    assert len({p.name.split("-")[0] for p in paths}) == 2  # two different traditions
    with pytest.raises(SynthError, match="at least 1"):
        write_samples(tmp_path / "s", count=0)


def test_a_share_of_photos_is_shown_worn(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "w", 20, 48, ["Kasavu", "Ilkal"], workers=1, worn=0.5)
    rows = _rows(root)
    worn = [r for r in rows if r["families"]["view"] == "worn"]  # type: ignore[index]
    assert 10 <= len(worn) <= 30
    plain = _rows(write_dataset(tmp_path / "p", 20, 48, ["Kasavu", "Ilkal"], workers=1))
    # The others are the photos the seeds draw without it, to the byte.
    kept = {r["image"] for r in rows} - {r["image"] for r in worn}
    for r in plain:
        if r["image"] in kept:
            same = (tmp_path / "p" / str(r["image"])).read_bytes()
            assert (root / str(r["image"])).read_bytes() == same
    assert all(r["families"]["view"] != "worn" for r in plain)  # type: ignore[index]
    with pytest.raises(SynthError, match="worn share must be from 0 to 1"):
        write_dataset(tmp_path / "x", 2, 48, ["Kasavu"], workers=1, worn=1.5)


def test_cli_dataset_worn_share(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    argv = ["synth", "dataset", "--out", str(out), "--per-class", "4", "--size", "48"]
    assert main([*argv, "--traditions", "Kasavu", "--workers", "1", "--worn", "1"]) == 0
    assert {r["families"]["view"] for r in _rows(out)} == {"worn"}  # type: ignore[index]
    assert main([*argv, "--worn", "-0.1"]) != 0
    assert "worn share must be from 0 to 1" in capsys.readouterr().err
