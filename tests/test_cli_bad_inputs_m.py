"""Bad input on the `saree` command line: a clear message, a non-zero status, nothing lost.

Each case here once ended in a traceback, a message in Python's words, a zero status on a
failure, or a curator's file written over. Catalogues are made in a temporary folder with real
JPEG files (Pillow), so that a photo is found by its content as the commands find it.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from bad_input_helpers import read_only, small_jpeg
from catalogue_helpers import answered_photo
from PIL import Image

from saree_app import cli
from saree_app.cli import main
from saree_app.collection.catalog import Catalog
from saree_app.collection.decisions import decisions_file

TRADITIONS = ("Kanchipuram", "Banarasi", "Paithani")


@pytest.fixture
def cat(tmp_path: Path) -> Path:
    """Three real photos the model answered Kanchipuram, Banarasi and Paithani; none labelled."""
    path = tmp_path / "c.saree"
    with Catalog(path) as c:
        for i, t in enumerate(TRADITIONS):
            answered_photo(c, tmp_path / f"p{i}.jpg", small_jpeg(i), t, size=(40, 30))
    return path


def _state(cat: Path) -> tuple[bytes, dict[int, tuple[str | None, str | None]]]:
    """The catalogue file's bytes and its labels: what a refused command must leave alone."""
    with Catalog(cat) as c:
        labels = {pid: (lab.tradition, lab.certainty) for pid, lab in c.labels().items()}
    return cat.read_bytes(), labels


def _one_plain_line(err: str) -> None:
    assert err.count("\n") == 1, err
    for jargon in ("Traceback", "Errno", "Error:", "BytesIO", "codec", "surrogate"):
        assert jargon not in err, err


# ---- photo ids and names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["label", "{id}", "--confirm"],
        ["remove", "{id}"],
        ["similar", "{id}"],
        ["parts", "{id}"],
        ["object", "create", "A1", "--photo", "{id}"],
    ],
)
@pytest.mark.parametrize("bad", ["99999999999999999999", "²"])
def test_an_id_past_any_photo_or_not_a_number_is_no_photo(
    cat: Path, capsys: pytest.CaptureFixture[str], args: list[str], bad: str
) -> None:
    before = _state(cat)
    argv = [a.replace("{id}", bad) for a in args]
    assert main([*argv, "--catalog", str(cat)]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert f"no photo with id {bad}" in err or "not a catalogue id" in err
    assert _state(cat) == before


def test_a_folder_given_as_a_photo_is_called_a_folder(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shelf").mkdir()
    assert main(["label", str(tmp_path / "shelf"), "--confirm", "--catalog", str(cat)]) == 2
    err = capsys.readouterr().err
    assert "shelf: a folder, not a photo" in err
    assert _state(cat)[1] == {}
    # A folder that happens to be named like an id does not hide the photo of that id.
    (tmp_path / "1").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["label", "1", "--confirm", "--catalog", str(cat)]) == 0
    assert _state(cat)[1] == {1: ("Kanchipuram", "confirmed")}


# ---- words that are not text -------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["label", "1", "--note", "sari\udcff"],
        ["label", "1", "--tag", "\udcffwedding"],
        ["label", "1", "--tradition", "Kot\udcffpad", "--new"],
        ["object", "create", "A\udcff1"],
        ["object", "create", "A1", "--title", "\udcff"],
    ],
)
def test_words_with_bytes_that_are_not_utf8_are_refused_before_anything(
    cat: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = _state(cat)
    assert main([*argv, "--catalog", str(cat)]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "not text" in err and "Nothing was changed" in err
    assert _state(cat) == before
    assert not decisions_file(Catalog(cat)).exists()
    from saree_app.collection.objects import all_objects

    with Catalog(cat) as c:
        assert all_objects(c) == []


def test_a_blank_tag_is_refused_and_remembers_no_labelling(
    cat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["label", "1", "--tag", " ", "--catalog", str(cat)]) == 2
    assert "a tag needs a word" in capsys.readouterr().err
    assert not decisions_file(Catalog(cat)).exists()


# ---- traditions by their other names -----------------------------------------------------


def test_a_local_name_is_the_tradition_it_names(
    cat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["label", "1", "--tradition", "kanjivaram", "--catalog", str(cat)]) == 0
    assert _state(cat)[1] == {1: ("Kanchipuram", "confirmed")}
    capsys.readouterr()
    # Not a new tradition beside Kanchipuram silk: the curator's photos would be split in two.
    assert main(["label", "2", "--tradition", "Kanjeevaram", "--new", "--catalog", str(cat)]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "Kanjeevaram is another name of Kanchipuram silk" in err
    assert _state(cat)[1] == {1: ("Kanchipuram", "confirmed")}


def test_similar_refuses_a_tradition_nobody_knows(
    cat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["similar", "1", "--tradition", "Atlantis", "--catalog", str(cat)]
    assert main(argv) == 2  # was 0, "no photo matches the filters"
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "--tradition Atlantis: not a tradition" in err


def test_a_damaged_traditions_file_is_said_in_one_sentence(
    cat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cat.parent / f"{cat.name}.traditions.json").mkdir()
    argv = ["label", "1", "--tradition", "Kotpad", "--new", "--catalog", str(cat)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.rstrip().endswith("; nothing was labelled"), err
    assert _state(cat)[1] == {}


# ---- outputs that would cost the curator a file --------------------------------------------


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["export", "--out", "{cat}"], 2),
        (["export", "--format", "jsonld", "--out", "{photo}"], 2),
        (["export", "--out", "{side}"], 2),
        (["object", "export", "--out", "{cat}"], 2),
        (["kg", "export", "-o", "{cat}"], 1),
        (["kg", "export", "-o", "{photo}"], 1),
        (["parts", "1", "--to", "{png}"], 2),
    ],
)
def test_an_output_never_replaces_the_catalogue_or_a_photo(
    cat: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
) -> None:
    # A PNG photo of the catalogue: what `parts --to` (a PNG) could otherwise replace.
    png = tmp_path / "p9.png"
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(buf, "PNG")
    with Catalog(cat) as c:
        answered_photo(c, png, buf.getvalue(), "Kanchipuram", size=(20, 20))
    side = cat.parent / f"{cat.name}.decisions.json"
    side.write_text('{"decisions": []}', encoding="utf-8")
    photo = tmp_path / "p0.jpg"
    files = {p: p.read_bytes() for p in (cat, photo, png, side)}
    names = {"{cat}": str(cat), "{photo}": str(photo), "{side}": str(side), "{png}": str(png)}
    argv = [names.get(a, a) for a in argv]
    if argv[0] != "kg":
        argv += ["--catalog", str(cat)]
    assert main(argv) == status
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "give another file name" in err
    assert {p: p.read_bytes() for p in files} == files


def test_a_mistyped_parts_to_changes_nothing(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mask = tmp_path / "mask.png"
    Image.new("L", (4, 4), 1).save(mask)
    for to, said in (
        (tmp_path / "no" / "map.png", "the folder"),
        (tmp_path / "map.jpg", "give a name ending in .png"),
    ):
        argv = ["parts", "1", "--from-mask", str(mask), "--to", str(to), "--catalog", str(cat)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        _one_plain_line(err)
        assert said in err
        with Catalog(cat) as c:
            assert c.part_maps() == {}  # the correction waits for a --to that can be written


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: None, "the file does not exist"),
        (lambda p: p.mkdir(), "this is a folder"),
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(os.urandom(300)), "not a picture format"),
    ],
)
def test_a_mask_that_is_no_picture_is_said_plainly(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, said: str
) -> None:
    mask = tmp_path / "mask.png"
    make(mask)  # type: ignore[operator]
    argv = ["parts", "1", "--from-mask", str(mask), "--catalog", str(cat)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert said in err


def test_an_explicit_model_that_cannot_be_used_fails_the_export(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.json"
    model.write_bytes(b"\xff\xfe not a model")
    out = tmp_path / "ann.json"
    argv = ["export", "--format", "annotations", "--model", str(model), "--out", str(out)]
    assert main([*argv, "--catalog", str(cat)]) == 2  # was 0, the part regions left out
    assert "cannot use the model" in capsys.readouterr().err
    assert not out.exists()


# ---- catalogues that are not catalogues ----------------------------------------------------


def test_an_empty_file_is_not_made_into_a_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"")
    assert main(["export", "--catalog", str(notes)]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "an empty file, not a catalogue" in err
    assert notes.read_bytes() == b""


def test_a_catalogue_in_a_folder_that_cannot_be_written_says_what_to_do(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    kept = shelf / "c.saree"
    kept.write_bytes(cat.read_bytes())
    with read_only(shelf):
        assert main(["export", "--catalog", str(kept)]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "unable to open database file" not in err
    assert "copy the catalogue to a folder you can write to" in err


def test_relocate_into_a_file_is_refused(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "p0.jpg"
    assert main(["relocate", str(afile), "--catalog", str(cat)]) == 2
    assert "a file, not a folder" in capsys.readouterr().err


# ---- the command line itself ---------------------------------------------------------------


def test_a_number_that_is_not_one_is_said_without_python_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["classify", "x.jpg", "--top", "nan"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "'nan' is not a whole number" in err and "invalid int" not in err


def test_ctrl_c_while_the_commands_load_is_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    try:
        status = main(["kg", "list"])
    except KeyboardInterrupt:  # caught here, or pytest would take it for its own Ctrl+C
        pytest.fail("Ctrl+C while loading reached the caller: a traceback for the curator")
    assert status == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_a_failure_nobody_foresaw_is_one_line_and_a_report_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    from saree_app.commands import kg

    def broken(_args: object) -> int:
        raise RuntimeError("something deep")

    monkeypatch.setattr(kg, "_list", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["kg", "list"]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert err.startswith("saree kg list: stopped by a problem")
    assert "RuntimeError" not in err  # the kind of failure goes in the report, not the line
    (report,) = tmp_path.glob("saree-problem-*.txt")
    text = report.read_text(encoding="utf-8")
    assert text.startswith("saree kg list") and "RuntimeError: something deep" in text


# ---- knowledge graph, renderer, training ---------------------------------------------------


def test_kg_export_writes_what_the_file_name_says(tmp_path: Path) -> None:
    out = tmp_path / "graph.jsonld"
    assert main(["kg", "export", "-o", str(out)]) == 0
    json.loads(out.read_text(encoding="utf-8"))  # was Turtle under a .jsonld name


def test_kg_ontology_that_is_a_file_is_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "a.ttl"
    afile.write_text("@prefix x: <http://x/> .", encoding="utf-8")
    assert main(["kg", "--ontology", str(afile), "list"]) == 1
    assert "is a file; give the folder" in capsys.readouterr().err


def test_synth_garments_refuses_a_size_the_memory_cannot_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g"
    assert main(["synth", "garments", "--out", str(out), "--size", "4097", "--count", "1"]) == 2
    assert "at most 4096" in capsys.readouterr().err
    assert not list(out.glob("*.jpg")) if out.exists() else True


def test_synth_one_into_a_folder_or_past_a_file_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shelf").mkdir()
    assert main(["synth", "one", "Kanchipuram", "--out", str(tmp_path / "shelf")]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "this is a folder" in err
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    out = tmp_path / "afile" / "x.jpg"
    assert main(["synth", "one", "Kanchipuram", "--size", "32", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "a file is in the way" in err


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--lr", "nan"], "--lr must be a number"),
        (["--size", "33"], "--size must be a multiple of 32"),
        (["--out", "{file}"], "a file, not a folder"),
    ],
)
def test_train_refuses_bad_numbers_and_places_before_any_work(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    pytest.importorskip("torch")
    afile = tmp_path / "p0.jpg"
    extra = [str(afile) if a == "{file}" else a for a in extra]
    argv = ["train", "--catalog", str(cat), "--cache", str(tmp_path / "cache"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert said in err
    assert not (tmp_path / "cache").exists()


def test_export_model_names_a_folder_or_an_empty_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    empty = tmp_path / "final.pt"
    empty.write_bytes(b"")
    for checkpoint, said in ((tmp_path, "a folder"), (empty, "the file is empty")):
        argv = ["export-model", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "m")]
        assert main(argv) == 2
        err = capsys.readouterr().err
        _one_plain_line(err)
        assert said in err


# ---- with the shipped model --------------------------------------------------------------


def test_importing_a_folder_without_photos_is_not_a_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    argv = ["import", str(tmp_path / "empty"), "--catalog", str(tmp_path / "c.saree"), "--quiet"]
    assert main(argv) == 2  # was 0: "0 added"
    assert "no photos in this folder" in capsys.readouterr().err


def test_overlays_into_a_folder_that_cannot_be_written_stop_before_any_photo(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shelf = tmp_path / "overlays"
    shelf.mkdir()
    with read_only(shelf):
        argv = ["classify", str(tmp_path / "p0.jpg"), "--overlays", str(shelf)]
        assert main(argv) == 2
    err = capsys.readouterr().err
    _one_plain_line(err)
    assert "cannot be written to" in err


def test_an_export_named_after_the_catalogue_is_still_written(
    cat: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only the catalogue's own side files are refused, not FILE.csv beside it.
    out = cat.parent / f"{cat.name}.csv"
    assert main(["export", "--out", str(out), "--catalog", str(cat)]) == 0
    assert out.read_text(encoding="utf-8").startswith('"id"')
    assert "3 photos exported" in capsys.readouterr().out
