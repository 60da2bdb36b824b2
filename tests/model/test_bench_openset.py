"""saree bench openset --non-saree: real photos that are not sarees, flagged by the app."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_onnx
from PIL import Image

from saree_app.bench.openset import folder_files, measure_folder
from saree_app.bench.openset import main as openset_main
from saree_app.model.openset import SIGNALS
from saree_app.model.predict import Predictor
from saree_app.synth import render_distractor

PHOTOS = ["beige.jpg", "red.png", "sub/textile.jpg"]

# Open-set entries that make the app flag every photo, or none (the "any" rule: a photo is
# uncertain when a signal falls below its threshold; saree_area is a share, never above 1).
FLAG_ALL = {"rule": "any", "signals": ["saree_area"], "thresholds": {"saree_area": 2.0}}
FLAG_NONE = {"rule": "any", "signals": list(SIGNALS), "thresholds": dict.fromkeys(SIGNALS, -1e9)}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two plain-colour photos, a rendered non-saree textile, a text file and a hidden file.

    Plain colours, not grey: a photo without colour is flagged whatever the open-set rule
    (tests/model/test_no_colour.py), and these tests are about that rule."""
    out = tmp_path / "nonsaree"
    (out / "sub").mkdir(parents=True)
    Image.new("RGB", (90, 60), (150, 130, 100)).save(out / "beige.jpg")
    Image.new("RGB", (80, 80), (200, 20, 30)).save(out / "red.png")
    # Seed 7000014 draws another textile (no pallu) in a partial view: issue 26's crash.
    render_distractor(7_000_014, 96).save(out / "sub" / "textile.jpg")
    (out / "notes.txt").write_text("not a photo\n")
    Image.new("RGB", (8, 8)).save(out / ".thumb.png")
    return out


def test_folder_files_lists_every_file_but_hidden_ones(folder: Path) -> None:
    names = [p.relative_to(folder).as_posix() for p in folder_files(folder)]
    assert names == ["beige.jpg", "notes.txt", "red.png", "sub/textile.jpg"]


def test_flagged_count_is_what_the_predictions_say(tiny_manifest: Path, folder: Path) -> None:
    predictor = Predictor(tiny_manifest, load_graph=False)
    result = measure_folder(predictor, folder)
    assert [p.name for p in result.photos] == PHOTOS
    assert [name for name, _why in result.unreadable] == ["notes.txt"]
    expected = {name: predictor.predict(folder / name).uncertain for name in PHOTOS}
    assert {p.name: p.uncertain for p in result.photos} == expected
    assert len(result.flagged) == sum(expected.values())
    assert result.share == pytest.approx(sum(expected.values()) / 3)
    assert [p.name for p in result.not_flagged] == [n for n in PHOTOS if not expected[n]]


@pytest.mark.parametrize(("entry", "flagged"), [(FLAG_ALL, 3), (FLAG_NONE, 0)])
def test_flagged_count_follows_the_models_rule(
    model_copy: Path, folder: Path, entry: dict[str, object], flagged: int
) -> None:
    # The same photos give opposite counts under opposite rules: the count is not a constant.
    # Without the cloth-features model: plain colours do not look like cloth, and that flag
    # (tests/model/test_cloth.py) stands whatever the rule.
    tiny_onnx.edit_manifest(model_copy, open_set=entry)
    result = measure_folder(Predictor(model_copy, load_graph=False, cloth=False), folder)
    assert len(result.flagged) == flagged
    assert len(result.not_flagged) == 3 - flagged
    assert all((p.novelty > 0) == p.uncertain for p in result.photos)
    assert not any(p.zero_shot_only for p in result.photos)


def _bench(model: Path, folder: Path, data: Path) -> list[str]:
    return [
        "--model", str(model), "--per-class", "2", "--unknown-per-class", "2",
        "--distractors", "4", "--size", "64", "--data", str(data), "--workers", "1",
        "--no-write", "--non-saree", str(folder),
    ]  # fmt: skip


@pytest.mark.slow
def test_bench_reports_the_real_non_saree_share(
    model_copy: Path, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = model_copy.read_text()
    assert openset_main(_bench(model_copy, folder, tmp_path / "renders")) == 0
    out = capsys.readouterr().out
    # The bench runs the app's Predictor (knowledge graph loaded): the same count, photo by photo.
    app = Predictor(model_copy)
    uncertain = {name: app.predict(folder / name).uncertain for name in PHOTOS}
    k = sum(uncertain.values())
    assert f"photos that are not sarees ({folder}): 3" in out
    assert f"flagged uncertain by the app (the model's thresholds, knowledge graph): {k}/3" in out
    assert "not a usable photo, not counted: notes.txt" in out
    for name, flagged in uncertain.items():
        assert (f"    {name} " in out) == (not flagged)
    assert "flagged by the model's thresholds now: known" in out
    assert model_copy.read_text() == before  # --no-write: measured only

    tiny_onnx.edit_manifest(model_copy, open_set=FLAG_ALL)
    assert openset_main(_bench(model_copy, folder, tmp_path / "renders")) == 0
    out = capsys.readouterr().out
    assert "knowledge graph): 3/3 = 100.0%" in out
    assert "not flagged" not in out


def test_bench_refuses_a_missing_or_empty_folder_before_rendering(
    tiny_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    for missing in (tmp_path / "nowhere", tmp_path / "empty"):
        data = tmp_path / "renders"
        assert openset_main(_bench(tiny_manifest, missing, data)) == 2
        assert str(missing) in capsys.readouterr().err
        assert not data.exists()


@pytest.fixture
def sample_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two installed 'packages' shipping sample pictures, and one that is not installed."""
    import sys

    from saree_app.bench import openset

    site = tmp_path / "site"
    for module, sub in (("fakeimage", "data"), ("fakeplot", "mpl-data/sample_data")):
        data = site / module / sub
        (data / "nested").mkdir(parents=True)
        (site / module / "__init__.py").write_text("raise ImportError('not importable here')\n")
        Image.new("RGB", (40, 30), (10, 200, 40)).save(data / "leaf.png")
        Image.new("RGB", (30, 40), (200, 200, 40)).save(data / "nested" / "sun.JPG")
        (data / "table.csv").write_text("a,b\n")  # data, not a picture: left
    Image.new("RGB", (8, 8)).save(site / "fakeplot" / "icon.png")  # outside its sample folder
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(
        openset,
        "SAMPLE_PACKAGES",
        (
            ("fake-image", "fakeimage", ("data",)),
            ("fake-plot", "fakeplot", ("mpl-data/sample_data",)),
            ("not-installed", "no_such_package_here", ("data",)),
        ),
    )
    sys.modules.pop("fakeimage", None)
    return site


def test_sample_pictures_are_gathered_from_the_installed_packages(
    sample_packages: Path, tmp_path: Path
) -> None:
    from saree_app.bench.openset import gather_samples

    dest = tmp_path / "samples"
    copies = gather_samples(dest)
    names = sorted(p.relative_to(dest).as_posix() for p in copies)
    # Found without importing the packages (their __init__ raises), pictures only, each
    # under its distribution's name; the package's icon outside its sample folder is not one.
    assert names == [
        "fake-image/data/leaf.png",
        "fake-image/data/nested/sun.JPG",
        "fake-plot/mpl-data/sample_data/leaf.png",
        "fake-plot/mpl-data/sample_data/nested/sun.JPG",
    ]
    note = (dest / "SOURCES.txt").read_text()
    assert "fake-image version unknown: 2 pictures from" in note
    assert "not-installed" not in note
    # The note is not a photo of the folder; a rerun replaces what it gathered.
    assert sorted(folder_files(dest)) == sorted(copies)
    assert sorted(gather_samples(dest)) == sorted(copies)


def test_sample_pictures_refuse_a_busy_folder_or_no_package(
    sample_packages: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.bench import openset

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.jpg").write_bytes(b"x")
    with pytest.raises(openset.SamplesError, match="already holds other files"):
        openset.gather_samples(busy)
    assert [p.name for p in busy.iterdir()] == ["mine.jpg"]  # nothing written, nothing lost
    monkeypatch.setattr(openset, "SAMPLE_PACKAGES", (("gone", "no_such_package_here", ("d",)),))
    with pytest.raises(openset.SamplesError, match="pip install gone"):
        openset.gather_samples(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_bench_refuses_samples_it_cannot_gather_before_rendering(
    tiny_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from saree_app.bench import openset

    monkeypatch.setattr(openset, "SAMPLE_PACKAGES", (("gone", "no_such_package_here", ("d",)),))
    argv = _bench(tiny_manifest, tmp_path / "x", tmp_path / "renders")
    argv[-2:] = ["--non-saree-samples", str(tmp_path / "samples")]
    assert openset_main(argv) == 2
    err = capsys.readouterr().err
    assert "--non-saree-samples: none of gone is installed" in err
    assert not (tmp_path / "renders").exists()
    both = [*argv, "--non-saree", str(tmp_path)]
    assert openset_main(both) == 2
    assert "not both" in capsys.readouterr().err
