"""Every `saree bench NAME --json` prints one JSON object on stdout (tiny settings, no timing
claims): figures, the machine's load and CPUs, the settings it ran with."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from saree_app.commands.bench import _names


def _json_of(
    main: Callable[[Sequence[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert status == 0, out
    data = json.loads(out)  # the whole of stdout: one object, no commentary around it
    assert isinstance(data, dict)
    for key in ("bench", "argv", "machine", "settings", "figures", "peer"):
        assert key in data, key
    machine = data["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["load_average"] is None or len(machine["load_average"]) == 3
    assert data["figures"], "no figures"
    return data


def test_every_bench_is_covered_here() -> None:
    tested = {
        "decode",
        "synth",
        "model",
        "similar",
        "import_",
        "classify",
        "fusion",
        "openset",
        "familiar",
        "fewshot",
        "real",
        "rerank",
        "saree_check",
        "pieces",
    }
    assert set(_names()) <= tested, set(_names()) - tested


def test_decode(capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import decode

    data = _json_of(
        decode.main, ["--width", "400", "--height", "300", "--size", "64", "--repeats", "1"], capsys
    )
    f = data["figures"]
    assert f["full_ms"] > 0 and f["draft_ms"] > 0
    assert f["speedup"] == pytest.approx(f["full_ms"] / f["draft_ms"], rel=0.02)
    assert data["settings"]["photo"] == "400x300"


def test_synth(capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import synth

    data = _json_of(synth.main, ["--size", "32", "--repeats", "1", "--per-round", "2"], capsys)
    assert data["figures"]["photos_per_s_cpu"] > 0


def test_model(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import model

    argv = ["--model", str(tiny_model), "--repeats", "2", "--threads", "1"]
    data = _json_of(model.main, [*argv, "--floor-rounds", "1", "--matmul-size", "128"], capsys)
    f = data["figures"]
    assert f["median_ms"] > 0
    assert data["settings"]["threads"] == 1
    assert f["floor"]["matmul_threads"] == 1 and f["floor"]["ratio_to_floor"] > 0


def test_model_refuses_a_missing_manifest_without_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from saree_app.bench import model

    assert model.main(["--model", str(tmp_path / "none.json"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no model manifest" in captured.err


def test_similar(capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import similar

    data = _json_of(
        similar.main,
        ["--n", "300", "--dim", "16", "--queries", "3", "--k", "5", "--no-ann"],
        capsys,
    )
    f = data["figures"]
    assert f["exact"]["n"] == 300
    assert f["catalogue"]["no_filter"]["median_ms"] > 0


def test_import(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import import_

    argv = ["--model", str(tiny_model), "--n", "3", "--size", "80x60", "--batch", "2"]
    data = _json_of(import_.main, [*argv, "--photos", str(tmp_path)], capsys)
    f = data["figures"]
    assert f["photos"] == 3
    assert f["peak_rss_mb"] >= f["peak_rss_mb_before_model"] > 0
    assert f["catalogue_kb_per_photo"] > 0 and f["catalogue_empty_kb"] > 0
    # What the photos added, spread over them: the whole less the empty catalogue (3 photos
    # may fit in the pages an empty catalogue has: the file grows a page at a time).
    assert 0 <= f["catalogue_growth_kb_per_photo"] < f["catalogue_kb_per_photo"]
    assert f["catalogue_page_kb"] == 16
    # What their rows take in those pages: a photo's answer and vectors, a kilobyte or more.
    assert f["catalogue_rows_kb_per_photo"] is None or 0.5 < f["catalogue_rows_kb_per_photo"] < 8
    assert f["catalogue_growth_kb_per_photo"] == pytest.approx(
        f["catalogue_kb_per_photo"] - f["catalogue_empty_kb"] / f["photos"], abs=0.02
    )
    # Fewer photos after a run with more: only those are imported (it stopped on an assert).
    argv[argv.index("--n") + 1] = "2"
    data = _json_of(import_.main, [*argv, "--photos", str(tmp_path)], capsys)
    assert data["figures"]["photos"] == 2


def test_rerank(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The collection is grown to --n photos and every answer is re-ranked in each timed run."""
    from saree_app.bench import rerank

    argv = ["--model", str(tiny_model), "--n", "11", "--distinct", "4", "--confirmed", "1"]
    argv += ["--repeats", "2", "--size", "80x60", "--photos", str(tmp_path)]
    data = _json_of(rerank.main, argv, capsys)
    f = data["figures"]
    assert f["photos"] == 11 and f["answers_reranked"] == 11
    assert len(f["seconds"]) == 2 and f["seconds_median"] > 0
    assert f["photo_page_teaching_ms"] > 0


def test_rerank_grows_a_catalogue_with_its_answers_and_features(tmp_path: Path) -> None:
    import numpy as np

    from saree_app.bench.rerank import grow
    from saree_app.collection.catalog import Catalog, NewPhoto

    path = tmp_path / "c.saree"
    with Catalog(path) as cat:
        for i in range(3):
            photo = NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10, 4, 3, None, None)
            vec = np.eye(4, dtype=np.float32)[i]
            cat.record(
                photo,
                "m",
                {"i": i},
                top_tradition="Kasavu",
                top_probability=0.5,
                uncertain=False,
                embedding=vec,
                part_embeddings=np.stack([vec] * 3),
            )
    assert grow(path, 8) == 8
    with Catalog(path) as cat:
        answers = cat.predictions("m")
        assert len(answers) == 8 == cat.count()
        assert sorted(a.result["i"] for a in answers.values()) == [0, 0, 0, 1, 1, 1, 2, 2]
        ids, vectors = cat.embeddings("m", "whole")
        assert len(ids) == 8 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_classify(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import classify

    argv = ["--model", str(tiny_model), "--repeats", "1", "--count", "2", "--side", "96"]
    data = _json_of(
        classify.main, [*argv, "--data", str(tmp_path), "--no-baseline", "--no-flops"], capsys
    )
    f = data["figures"]
    assert f["one_photo"]["end_to_end_ms"] > 0
    assert f["folder"]["photos"] == 2
    assert f["folder"]["answers_only_batch_1_photos_per_s"] > 0


def test_classify_on_own_photos(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--photos DIR` times the folder case on the curator's photos too: the first --count by
    name, a file that is not a photo left out of the rate."""
    from PIL import Image

    from saree_app.bench import classify

    own = tmp_path / "own"
    own.mkdir()
    for i, side in enumerate((120, 90, 150)):
        Image.new("RGB", (side, side * 2 // 3), (180, 40 + 50 * i, 60)).save(own / f"p{i}.jpg")
    (own / "broken.jpg").write_bytes(b"not a photo")
    argv = ["--model", str(tiny_model), "--repeats", "1", "--count", "3", "--side", "96"]
    argv += ["--data", str(tmp_path / "cache"), "--no-baseline", "--no-flops"]
    data = _json_of(classify.main, [*argv, "--photos", str(own)], capsys)
    mine = data["figures"]["folder_photos"]
    # broken.jpg sorts first: three files by name, two of them photos.
    assert mine["photos"] == 3
    assert mine["median_side"] == 105  # of 120 and 90: the broken file has no side
    assert mine["answers_only_batch_1_photos_per_s"] > 0
    assert mine["batch_1_photos_per_s"] > 0

    assert classify.main([*argv, "--photos", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_fusion(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import fusion

    argv = ["--model", str(tiny_model), "--val", "1", "--test", "1", "--size", "64"]
    data = _json_of(fusion.main, argv, capsys)
    assert "known_visual" in data["figures"]


def test_fewshot(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import fewshot

    argv = ["--model", str(tiny_model), "--traditions", "Gadwal,Ilkal", "--shots", "1"]
    argv += ["--per-class", "2", "--size", "64", "--splits", "1", "--known", "1"]
    data = _json_of(fewshot.main, [*argv, "--known-photos", "2"], capsys)
    assert data["figures"]["nearest_prototype"]


def test_openset(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.bench import openset

    argv = ["--model", str(tiny_model), "--per-class", "4", "--unknown-per-class", "2"]
    argv += ["--distractors", "4", "--size", "64", "--workers", "1", "--no-write"]
    data = _json_of(openset.main, [*argv, "--data", str(tmp_path)], capsys)
    assert "auroc" in data["figures"]


def _fit_bench_setup(tiny_model: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A private copy of the tiny model, and the arguments a bench that writes its manifest
    runs with on it (tiny renders, one worker)."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model.parent, model)
    manifest = model / tiny_model.name
    argv = ["--model", str(manifest), "--size", "64", "--workers", "1"]
    return manifest, [*argv, "--data", str(tmp_path / "renders")]


def test_saree_check(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The saree check is fitted on renders, written to the manifest, and read by the app."""
    from saree_app.bench import saree_check
    from saree_app.model.predict import Predictor

    manifest, argv = _fit_bench_setup(tiny_model, tmp_path)
    # Too few renders asked for: said, nothing written (too few to fit: tests/model).
    assert saree_check.main([*argv, "--per-class", "2", "--others", "40"]) == 2
    assert "at least" in capsys.readouterr().err
    assert "saree_check" not in json.loads(manifest.read_text(encoding="utf-8"))
    data = _json_of(saree_check.main, [*argv, "--per-class", "6", "--others", "80"], capsys)
    f = data["figures"]
    assert f["fitted"]["others"] + f["held_back"]["others"] <= 80
    assert 0.0 <= f["held_back"]["sarees_flagged"] <= 0.1  # the share asked for (3%)
    entry = json.loads(manifest.read_text(encoding="utf-8"))["saree_check"]
    assert entry["threshold"] == pytest.approx(f["threshold"], abs=1e-3)
    assert entry["held_back"] == f["held_back"]
    # The installed cloth features' whole picture is read too, and the rule is tied to them.
    predictor = Predictor(manifest, threads=1, load_graph=False)
    assert predictor.cloth is not None and predictor.saree_check is not None
    assert entry["format"] == "saree-check/2"
    assert entry["cloth_features_sha256"] == predictor.cloth.sha256
    assert len(entry["weights"]) == len(entry["mean"]) > predictor.cloth.dim
    assert data["settings"]["cloth_features"] is True
    # --no-cloth: the model's outputs alone, cloth.dim fewer inputs.
    assert saree_check.main([*argv, "--ridge", "0", "--per-class", "6", "--others", "80"]) == 2
    assert "--ridge must be above 0" in capsys.readouterr().err
    _json_of(saree_check.main, [*argv, "--no-cloth", "--per-class", "6", "--others", "80"], capsys)
    alone = json.loads(manifest.read_text(encoding="utf-8"))["saree_check"]
    assert alone["format"] == "saree-check/1" and "cloth_features_sha256" not in alone
    assert len(alone["weights"]) == len(entry["weights"]) - predictor.cloth.dim
    assert Predictor(manifest, threads=1, load_graph=False, cloth=False).saree_check is not None
    # Other garments among the photos that are not sarees: fitted on the even seeds, measured on
    # the odd; none by default (as the shipped check was fitted).
    assert f["held_back"]["garments"] == 0 and f["fitted"]["garments"] == 0
    with_garments = _json_of(
        saree_check.main, [*argv, "--per-class", "6", "--others", "80", "--garments", "8"], capsys
    )["figures"]
    assert with_garments["fitted"]["garments"] + with_garments["held_back"]["garments"] <= 8
    assert with_garments["held_back"]["garments"] >= 1
    assert 0.0 <= with_garments["held_back"]["garments_flagged"] <= 1.0
    assert saree_check.main([*argv, "--garments", "-1"]) == 2
    assert "--garments not negative" in capsys.readouterr().err


def test_familiar(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The training look is fitted on renders, written to the manifest, and read by the app."""
    from saree_app.bench import familiar
    from saree_app.model.predict import Predictor

    manifest, argv = _fit_bench_setup(tiny_model, tmp_path)
    # Too few renders for the fit: said, nothing written.
    assert familiar.main([*argv, "--per-class", "10"]) == 2
    assert "too few" in capsys.readouterr().err
    assert "training_look" not in json.loads(manifest.read_text(encoding="utf-8"))
    data = _json_of(familiar.main, [*argv, "--per-class", "50"], capsys)
    f = data["figures"]
    assert f["reference"] == 75 and f["held_back"] == 75
    assert 0.0 < f["held_back_flagged"] <= 0.05  # the share asked for (2%), of 75 photos
    entry = json.loads(manifest.read_text(encoding="utf-8"))["training_look"]
    assert entry["photos"]["reference"] == 75 and entry["threshold"] == pytest.approx(
        f["threshold"], abs=1e-3
    )
    assert Predictor(manifest, threads=1, load_graph=False).look is not None


def test_pieces(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rendered laid-out sarees read in pieces and whole: fitted whole, every one is too thin."""
    from saree_app.bench import pieces

    argv = ["--model", str(tiny_model), "--per-class", "1", "--size", "320"]
    data = _json_of(pieces.main, [*argv, "--data", str(tmp_path / "renders")], capsys)
    split, whole = data["figures"]["in_pieces"], data["figures"]["whole"]
    n = len(data["settings"]["traditions"])
    assert n > 0 and split["photos"] == whole["photos"] == n
    assert whole["flagged_too_thin"] == 1.0 and whole["pieces_median"] == 1
    assert split["flagged_too_thin"] == 0.0 and split["pieces_median"] > 1
    for figures in (split, whole):
        assert 0.0 <= figures["part_miou"] <= 1.0
        assert set(figures["part_iou"]) == {"background", "body", "border", "pallu"}
    # The renders are kept for the next run.
    assert len(list((tmp_path / "renders").rglob("*.jpg"))) == n
