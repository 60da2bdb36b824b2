"""`saree classify`: human, JSON and CSV output, overlays, bad files, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tiny_onnx import edit_manifest, jpeg_bytes, photo

from saree_app.cli import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "photos"
    (d / "Kanchipuram").mkdir(parents=True)
    (d / "Kanchipuram" / "one.jpg").write_bytes(jpeg_bytes(photo(160, 120, seed=1)))
    (d / "two.png").parent.mkdir(exist_ok=True)
    photo(90, 140, seed=2).save(d / "two.png")
    (d / "Kanchipuram" / "one.mask.png").write_bytes(b"masks are not photos: skipped")
    (d / "notes.txt").write_text("not a photo and not named like one: ignored")
    return d


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_human_output_all_fine(tiny_model: Path, folder: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, err = _run(capsys, "classify", str(folder), "--model", str(tiny_model))
    assert status == 0, err
    assert "one.jpg  (160 x 120)" in out
    assert "two.png  (90 x 140)" in out
    assert "visual only:" in out
    assert "  1. " in out and "  3. " in out and "  4. " not in out
    assert "error" not in err
    # Why, as the photo page says it: marked lines in a curator's words, not the fusion's
    # figures ("p = 0.84 (1 of 12 traditions it knows): +1.73", "typicality 0.60").
    why = [line.strip() for line in out.splitlines() if line.strip()[:1] in ("▲", "▼")]
    assert why and all(
        any(
            w in line
            for w in (
                " seen",
                "looks like",
                "sign of",
                "trace of",
                "hardly any",
                "no clear",
                "not clearly",
                "other details",
                "trained on",
                "confirmed",
                "acquired",
                "woven",
                "recorded",
                "knowledge graph",
            )
        )
        for line in why
    ), why
    assert "(▲ speaks for it, ▼ against it)" in out
    assert "p = " not in out and "typicality" not in out and "nats" not in out


def test_a_long_photo_says_it_was_read_in_pieces(  # type: ignore[no-untyped-def]
    tiny_model: Path, tmp_path: Path, capsys
) -> None:
    photo(400, 80, seed=3).save(tmp_path / "laid.png")  # 5 times longer than wide
    photo(160, 120, seed=1).save(tmp_path / "plain.png")
    status, out, err = _run(capsys, "classify", str(tmp_path), "--model", str(tiny_model))
    assert status == 0, err
    laid, plain = out.split("plain.png")[0], out.split("plain.png")[1]
    assert "laid.png  (400 x 80)" in laid
    assert "Read in 7 overlapping pieces along its length: the photo is 5.0 times longer" in laid
    assert "overlapping pieces" not in plain
    status, out, _ = _run(capsys, "classify", str(tmp_path), "--model", str(tiny_model), "--json")
    rows = {Path(r["source"]).name: r for r in json.loads(out)}
    assert rows["laid.png"]["read_in_pieces"] == 7 and "read_in_pieces" not in rows["plain.png"]


def test_bad_files_are_reported_and_skipped(  # type: ignore[no-untyped-def]
    tiny_model: Path, folder: Path, capsys
) -> None:
    (folder / "broken.jpg").write_bytes(b"%PDF-1.7 scanned document")
    cut = folder / "cut.jpg"
    cut.write_bytes(jpeg_bytes(photo(300, 300))[:400])
    status, out, err = _run(capsys, "classify", str(folder), "--model", str(tiny_model), "--json")
    assert status == 1
    assert "broken.jpg" in err and "PDF" in err
    assert "cut.jpg" in err
    rows = json.loads(out)
    assert sorted(Path(r["source"]).name for r in rows) == ["one.jpg", "two.png"]


def test_json_output_parses(tiny_model: Path, folder: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = _run(
        capsys,
        "classify",
        str(folder / "two.png"),
        "--model",
        str(tiny_model),
        "--json",
        "--top",
        "2",
    )
    assert status == 0
    rows = json.loads(out)
    assert len(rows) == 1
    row = rows[0]
    assert row["photo_size"] == [90, 140]
    assert len(row["ranking"]) == 2
    assert row["tradition"] == row["ranking"][0]["tradition"]
    assert len(row["visual"]) == 2
    assert {t for t, _ in row["visual"]} <= {"Kanchipuram", "Banarasi", "PochampallyIkat"}
    assert isinstance(row["uncertain"], bool)


def test_csv_output_parses(tiny_model: Path, folder: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = _run(capsys, "classify", str(folder), "--model", str(tiny_model), "--csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2
    assert all(0.0 <= float(r["probability"]) <= 1.0 for r in rows)
    assert all(r["uncertain"] in ("yes", "no") for r in rows)


def test_overlays_written(tiny_model: Path, folder: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out_dir = tmp_path / "overlays"
    status, out, _ = _run(
        capsys, "classify", str(folder), "--model", str(tiny_model), "--overlays", str(out_dir)
    )
    assert status == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["one.heatmap.png", "one.parts.png", "two.heatmap.png", "two.parts.png"]
    assert "overlays:" in out


def test_missing_path_fails_with_1(tiny_model: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, _, err = _run(
        capsys, "classify", str(tmp_path / "nowhere.jpg"), "--model", str(tiny_model)
    )
    assert status == 1
    assert "no such file or folder" in err


def test_model_problems_exit_2(shared_copy: Path, folder: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, _, err = _run(
        capsys, "classify", str(folder), "--model", str(shared_copy.parent / "missing.json")
    )
    assert status == 2
    assert "missing.json" in err and "does not exist" in err
    onnx_path = shared_copy.with_suffix(".onnx")
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    status, _, err = _run(capsys, "classify", str(folder), "--model", str(shared_copy))
    assert status == 2
    assert "checksum mismatch" in err
    edit_manifest(shared_copy, sha256="f" * 64)  # the description edited: it no longer belongs
    status, _, err = _run(capsys, "classify", str(folder), "--model", str(shared_copy))
    assert status == 2
    assert "do not belong together" in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(tiny_model: Path, folder: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, _, err = _run(capsys, "classify", str(folder), "--model", str(tiny_model), "--top", "0")
    assert status == 2
    assert "--top" in err
    with pytest.raises(SystemExit) as exc:
        main(["classify", str(folder), "--json", "--csv"])
    assert exc.value.code == 2


def test_overlays_of_same_named_photos_do_not_collide(  # type: ignore[no-untyped-def]
    tiny_model: Path, tmp_path: Path, capsys
) -> None:
    for folder in ("a", "b"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        photo(seed=len(folder)).save(tmp_path / "in" / folder / "IMG_0001.png")
    out_dir = tmp_path / "ov"
    status, _, _ = _run(
        capsys, "classify", str(tmp_path / "in"), "--model", str(tiny_model),
        "--overlays", str(out_dir), "--json",
    )  # fmt: skip
    assert status == 0
    assert len(list(out_dir.glob("*.parts.png"))) == 2
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    status, _, err = _run(
        capsys, "classify", str(tmp_path / "in"), "--model", str(tiny_model),
        "--overlays", str(blocker),
    )  # fmt: skip
    assert status == 2
    assert "cannot make this folder" in err


def test_csv_output_never_starts_a_formula(  # type: ignore[no-untyped-def]
    tiny_model: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    names = ["=HYPERLINK(1).jpg", "+SUM(1,1).jpg", "@x.jpg", "-2+3.jpg", "\t=1.jpg", "a\r=1.jpg"]
    for seed, name in enumerate(names):
        (d / name).write_bytes(jpeg_bytes(photo(64, 64, seed=seed)))
    status, out, err = _run(capsys, "classify", *(str(d / n) for n in names), "--model",
                            str(tiny_model), "--csv")  # fmt: skip
    assert status == 0, err
    assert all(line.startswith('"') for line in out.split("\n") if line)
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(rows) == len(names)
    for row in rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "@", "\t", "\r")
            assert not (value[:1] == "-" and not value[1:2].isdigit())
    # Named from inside their folder, the file column starts with the file's own name.
    monkeypatch.chdir(d)
    rel = [f"./{n}" for n in names]  # ./ so that -2+3.jpg is not taken for an option
    status, out, err = _run(capsys, "classify", *rel, "--model", str(tiny_model), "--csv")
    assert status == 0, err
    files = [r["file"] for r in csv.DictReader(io.StringIO(out, newline=""))]
    assert files == ["'" + n for n in names[:5]] + ["a\r=1.jpg"]


@pytest.mark.parametrize(
    ("env", "flag"),
    [
        ({"PYTHONIOENCODING": "utf-8:strict"}, None),
        ({"PYTHONIOENCODING": "utf-8:strict"}, "--csv"),
        ({"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}, "--json"),
        ({"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}, None),
    ],
)
def test_names_that_are_not_utf8_never_break_the_output(
    tiny_model: Path, tmp_path: Path, env: dict[str, str], flag: str | None
) -> None:
    import os
    import subprocess
    import sys

    d = tmp_path / "in"
    d.mkdir()
    (d / os.fsdecode(b"caf\xe9.jpg")).write_bytes(jpeg_bytes(photo(64, 64, seed=1)))
    (d / os.fsdecode(b"bro\xffken.jpg")).write_bytes(b"")
    cmd = [sys.executable, "-m", "saree_app.cli", "classify", str(d), "--model", str(tiny_model)]
    done = subprocess.run(
        cmd + ([flag] if flag else []),
        capture_output=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    err = done.stderr.decode("utf-8")  # valid UTF-8, or this raises
    out = done.stdout.decode("utf-8")
    assert done.returncode == 1, err  # the empty file is reported, not a crash
    assert "Traceback" not in err
    assert "bro\\xffken.jpg: the file is empty" in err
    if flag == "--json":
        assert Path(json.loads(out)[0]["source"]).name == "caf\\xe9.jpg"
    else:
        assert "caf\\xe9.jpg" in out


def _doubts(out: str) -> list[str]:
    """The lines under "uncertain because:" in the human output."""
    block = out.split("  uncertain because:\n", 1)[1]
    return [line for line in block.splitlines() if line.startswith("    - ")]


def test_doubts_and_answer_set_in_a_curators_words(  # type: ignore[no-untyped-def]
    shared_copy: Path, tmp_path: Path, capsys
) -> None:
    # Thresholds no photo meets: the photo is flagged for its weak picture evidence and its
    # distance from every tradition, the two doubts the model words with analyst's figures.
    edit_manifest(
        shared_copy,
        open_set={"thresholds": {"top_probability": 0.999, "prototype_similarity": 0.999}},
    )
    photo(160, 120, seed=1).save(tmp_path / "one.png")
    status, out, err = _run(capsys, "classify", str(tmp_path / "one.png"), "--model",
                            str(shared_copy))  # fmt: skip
    assert status == 0, err
    doubts = _doubts(out)
    said = "\n".join(doubts)
    assert any(d.startswith("    - The photo looks unlike every tradition") for d in doubts), said
    # The picture's own figure is said to be the picture's, not the ranking's.
    assert "on the picture alone, the best match," in said
    assert "similarity 0." not in said and "usual at least" not in said and "p = " not in said
    could_be = next(line for line in out.splitlines() if line.startswith("  could be: "))
    assert "sure" in could_be and "Could be" not in could_be
    assert "By the model's own reckoning, learnt on rendered sarees" in out

    status, out, err = _run(capsys, "classify", str(tmp_path / "one.png"), "--model",
                            str(shared_copy), "--csv")  # fmt: skip
    assert status == 0, err
    (row,) = csv.DictReader(io.StringIO(out, newline=""))
    assert "on the picture alone, the best match," in row["reasons"]
    assert "similarity 0." not in row["reasons"]
    status, out, _ = _run(capsys, "classify", str(tmp_path / "one.png"), "--model",
                          str(shared_copy), "--json", "--top", "99")  # fmt: skip
    (found,) = json.loads(out)
    names = {r["tradition"]: r["label"] for r in found["ranking"]}
    members = [names[t] for t in found["answer_set"]["traditions"]]
    assert members and len(members) < len(names)  # a set, not the whole ranking
    if len(members) > 4 and len(members) * 2 > len(names):
        # Most of the traditions: not listed, said not to narrow the photo down.
        assert row["answer_set"] == (
            f"Not narrowed down yet: {len(members)} of the {len(names)} traditions (90%, by the "
            "model's own calibration); confirming more of your photos, of more traditions, "
            "would narrow it"
        )
    else:
        assert row["answer_set"].endswith(" (90%, by the model's own calibration)")
        listed = row["answer_set"].removesuffix(" (90%, by the model's own calibration)")
        assert listed.replace(" or ", ", ").split(", ") == members


def test_a_pale_photo_is_not_called_black_and_white(  # type: ignore[no-untyped-def]
    tiny_model: Path, tmp_path: Path, capsys
) -> None:
    from PIL import Image

    Image.new("RGB", (160, 120), (235, 232, 228)).save(tmp_path / "wall.jpg")  # off-white
    status, out, err = _run(capsys, "classify", str(tmp_path / "wall.jpg"), "--model",
                            str(tiny_model))  # fmt: skip
    assert status == 0, err
    said = "\n".join(_doubts(out))
    assert "The photo has almost no colour (black and white, or a white, grey or black " in said
    assert "has no colour (black and white)" not in said
