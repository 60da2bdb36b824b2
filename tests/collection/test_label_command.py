"""`saree label` as a curator uses it: several photos at once, a new tradition described, undo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue_helpers import answered_photo

from saree_app.cli import main
from saree_app.collection.catalog import Catalog
from saree_app.collection.decisions import decisions_file
from saree_app.collection.traditions import CuratorTradition, load_traditions, traditions_file


@pytest.fixture
def cat(tmp_path: Path) -> str:
    """Three photos the model answered Kanchipuram, Banarasi and Paithani; none labelled."""
    path = tmp_path / "c.saree"
    with Catalog(path) as c:
        for i, t in enumerate(("Kanchipuram", "Banarasi", "Paithani")):
            answered_photo(c, tmp_path / f"p{i}.jpg", f"photo {i}".encode(), t)
    return str(path)


def _labels(cat: str) -> dict[int, tuple[str | None, str | None]]:
    with Catalog(Path(cat)) as c:
        return {pid: (lab.tradition, lab.certainty) for pid, lab in c.labels().items()}


def _nothing_written(cat: str) -> None:
    assert _labels(cat) == {}
    assert not traditions_file(Path(cat)).exists()
    assert not decisions_file(Catalog(Path(cat))).exists()


def test_new_tradition_with_state_region_and_likeness_is_stored_and_read_back(
    cat: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["label", "1", "3", "--catalog", cat, "--tradition", " Kotpad ", "--new"]
    args += ["--state", "Odisha", "--region", "East India", "--like", "sambalpuri bandha"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Kotpad added to your traditions (Odisha, East India; resembles Sambalpuri" in out
    assert out.count("tradition: Kotpad (confirmed)") == 2
    assert load_traditions(Path(cat)) == [
        CuratorTradition("Kotpad", "Odisha", "East India", "Sambalpuri")
    ]
    assert _labels(cat) == {1: ("Kotpad", "confirmed"), 3: ("Kotpad", "confirmed")}
    # Once added it is a tradition like any other: no --new needed, any case, its spelling kept.
    assert main(["label", "2", "--catalog", cat, "--tradition", "KOTPAD"]) == 0
    assert _labels(cat)[2] == ("Kotpad", "confirmed")
    # Named again with --new and only a region: the state and likeness it had are kept.
    again = ["label", "2", "--catalog", cat, "--tradition", "kotpad", "--new"]
    assert main([*again, "--region", "Eastern India"]) == 0
    assert load_traditions(Path(cat)) == [
        CuratorTradition("Kotpad", "Odisha", "Eastern India", "Sambalpuri")
    ]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--tradition", "Kotpad", "--new", "--like", "Atlantis"], "--like Atlantis: not a "),
        (["--tradition", "banarasi brocade", "--new"], "Banarasi brocade is a tradition the app"),
        (["--tradition", "Kotpad", "--state", "Odisha"], "--state describes a new tradition"),
        (["--tradition", "Atlantis"], "unknown tradition 'Atlantis'"),
    ],
)
def test_a_bad_tradition_is_one_line_and_writes_nothing(
    cat: str, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    assert main(["label", "1", "2", "--catalog", cat, *extra]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"saree label: {said}") and err.count("\n") == 1, err
    _nothing_written(cat)


def test_several_photos_confirmed_at_once_each_as_its_own_answer(
    cat: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # By id and by file; the same photo named twice is labelled once.
    photos = ["1", str(tmp_path / "p1.jpg"), "3", "1"]
    assert main(["label", *photos, "--catalog", cat, "--confirm", "--tag", "wedding"]) == 0
    out = capsys.readouterr().out
    assert out.count("#1 ") == 1 and "#2 " in out and "#3 " in out
    assert _labels(cat) == {
        1: ("Kanchipuram", "confirmed"),
        2: ("Banarasi", "confirmed"),
        3: ("Paithani", "confirmed"),
    }
    with Catalog(Path(cat)) as c:
        assert c.all_tags() == {1: ["wedding"], 2: ["wedding"], 3: ["wedding"]}


@pytest.mark.parametrize("bad", ["9", "nope.jpg"])
def test_one_bad_photo_means_nothing_is_written_and_it_is_named(
    cat: str, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    args = ["label", "1", bad, "3", "--catalog", cat, "--tradition", "Kotpad", "--new"]
    assert main([*args, "--state", "Odisha"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("nothing was labelled\n")
    assert bad in err
    _nothing_written(cat)


def test_undo_gives_the_photos_their_previous_labels_back_and_says_so(
    cat: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["label", "1", "--catalog", cat, "--tradition", "Banarasi", "--note", "donor"]) == 0
    assert main(["label", "1", "2", "--catalog", cat, "--tradition", "Kotpad", "--new"]) == 0
    assert "--undo" in capsys.readouterr().out  # how to take it back is said
    assert main(["label", "--undo", "--catalog", cat]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "undone: labelling 2 photos as Kotpad",
        "  #1 p0.jpg: back to Banarasi brocade (confirmed)",
        "  #2 p1.jpg: back to no tradition",
        "  Kotpad taken out of your traditions",
    ]
    assert _labels(cat) == {1: ("Banarasi", "confirmed"), 2: (None, None)}
    with Catalog(Path(cat)) as c:
        label = c.label(1)
        assert label is not None and label.note == "donor"
    assert load_traditions(Path(cat)) == []
    # The one before, then nothing left.
    assert main(["label", "--undo", "--catalog", cat]) == 0
    assert capsys.readouterr().out.startswith("undone: labelling p0.jpg as Banarasi brocade\n")
    assert _labels(cat)[1] == (None, None)
    assert main(["label", "--undo", "--catalog", cat]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("saree label: nothing to undo: no labelling made with `saree label`")


def test_undo_with_nothing_to_undo_says_so(cat: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label", "--undo", "--catalog", cat]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saree label: nothing to undo") and err.count("\n") == 1
    _nothing_written(cat)


def test_undo_leaves_a_photo_labelled_again_since_and_names_it(
    cat: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["label", "1", "2", "--catalog", cat, "--confirm"]) == 0
    with Catalog(Path(cat)) as c:
        c.set_label(2, tradition="Paithani")  # in the app, afterwards
    capsys.readouterr()
    assert main(["label", "--undo", "--catalog", cat]) == 0
    out, err = capsys.readouterr()
    assert "#1 p0.jpg: back to no tradition" in out
    assert err == "not undone: #2 p1.jpg: changed again since; left as it is\n"
    assert _labels(cat) == {1: (None, None), 2: ("Paithani", "confirmed")}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--undo", "1"], "--undo takes back the last labelling: give it no photos"),
        (["--undo", "--confirm"], "--undo takes back the last labelling"),
        (["--confirm"], "which photos?"),
        (["1", "--new"], "--new needs the tradition's name"),
    ],
)
def test_options_that_do_not_go_together_are_refused(
    cat: str, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    assert main(["label", *args, "--catalog", cat]) == 2
    assert capsys.readouterr().err.startswith(f"saree label: {said}")
    _nothing_written(cat)


def test_the_undo_file_is_json_a_person_can_read(cat: str) -> None:
    assert main(["label", "1", "--catalog", cat, "--tradition", "Kanchipuram"]) == 0
    with Catalog(Path(cat)) as c:
        data = json.loads(decisions_file(c).read_text(encoding="utf-8"))
    (only,) = data["decisions"]
    assert only["text"] == "labelling p0.jpg as Kanchipuram silk"
    assert only["photos"][0]["after"]["tradition"] == "Kanchipuram"
