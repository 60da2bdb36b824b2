"""`saree object ...` and `saree import --objects`, with the real Predictor and the tiny model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from collection_fakes import write_photo

from saree_app.cli import main
from saree_app.collection import objects
from saree_app.collection.catalog import Catalog


def _shoot(root: Path, names: list[str]) -> None:
    rng = np.random.default_rng(7)
    for i, name in enumerate(names):
        write_photo(root / name, tuple(rng.integers(0, 255, 3)), i, 96)


def test_catalogue_an_object_from_three_photos_fill_its_record_and_export_it(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shoot(
        tmp_path / "shoot",
        [
            "T.1990.4/whole.jpg",
            "T.1990.4/border.jpg",
            "T.1990.4/pallu.jpg",
            "T.2001.1/a.jpg",
            "loose.jpg",
        ],
    )
    cat = str(tmp_path / "c.saree")
    base = ["--catalog", cat]
    imp = ["import", str(tmp_path / "shoot"), *base, "--model", str(tiny_model), "--quiet"]
    assert main([*imp, "--objects", "folder"]) == 0
    out = capsys.readouterr().out
    assert "4 photos grouped into 2 objects; 1 named no object" in out
    assert main([*imp, "--objects", "folder"]) == 0  # again: nothing changes
    assert "0 photos grouped into 0 objects" in capsys.readouterr().out

    edit = ["object", "edit", "T.1990.4", *base, "--title", "Temple-border silk"]
    edit += ["--source", "Gift of Mrs Rao", "--acquired", "1990-03", "--made-from", "1920"]
    edit += ["--made-to", "1940", "--place-acquired", "Patan, Gujarat", "--fibre", "silk"]
    assert main([*edit, "--condition", "good", "--notes", "zari worn at the fold"]) == 0
    out = capsys.readouterr().out
    assert "T.1990.4  Temple-border silk" in out and "1920 to 1940" in out
    assert "border close-up" in out and "pallu close-up" in out

    assert main(["object", "classify", "T.1990.4", *base, "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("T.1990.4: ") and "%" in out
    assert "the record says it was acquired in Patan, Gujarat, West India" in out
    assert out.count("photo #") == 3

    # One photo alone: the object's answer is its photo's answer.
    assert main(["object", "classify", "T.2001.1", *base, "--json", "--top", "50"]) == 0
    single = json.loads(capsys.readouterr().out)
    with Catalog(cat) as c:
        (pid,) = objects.need_object(c, "T.2001.1").photo_ids
        stored = c.prediction(pid)
    assert stored is not None
    assert [r["tradition"] for r in single["ranking"]] == [
        r["tradition"] for r in stored.result["ranking"]
    ]
    for mine, theirs in zip(single["ranking"], stored.result["ranking"], strict=True):
        assert mine["probability"] == pytest.approx(theirs["probability"], abs=1e-5)

    assert main(["object", "list", *base, "--search", "gujarat"]) == 0
    out = capsys.readouterr().out
    assert "T.1990.4" in out and "T.2001.1" not in out

    assert main(["object", "confirm", "T.1990.4", *base, "--tradition", "banarasi"]) == 0
    assert "3 photos labelled" in capsys.readouterr().out
    with Catalog(cat) as c:
        obj = objects.need_object(c, "T.1990.4")
        assert objects.object_label(c, obj) == ("Banarasi", "confirmed")

    assert main(["object", "similar", "T.1990.4", *base, "--top", "2"]) == 0
    out, err = capsys.readouterr()
    assert " 1. " in out and "T.1990.4" not in out
    assert "whole saree" not in err  # by the cloth, which its photos have
    assert main(["object", "similar", "T.1990.4", *base, "--top", "2", "--part", "cloth"]) == 0
    assert capsys.readouterr().out == out
    # None of its photos' cloth read: by the whole saree, said on stderr.
    with Catalog(cat) as c:
        own = objects.need_object(c, "T.1990.4").photo_ids
        for pid in own:
            c.run("DELETE FROM vectors WHERE photo_id = ? AND part = 'cloth'", (pid,))
    assert main(["object", "similar", "T.1990.4", *base, "--top", "2"]) == 0
    out, err = capsys.readouterr()
    assert " 1. " in out and "compared by the whole saree" in err
    assert main(["object", "similar", "T.1990.4", *base, "--top", "2", "--part", "whole"]) == 0
    assert capsys.readouterr().out == out

    target = tmp_path / "objects.csv"
    assert main(["object", "export", *base, "--out", str(target)]) == 0
    assert "2 objects written" in capsys.readouterr().out
    with target.open(newline="", encoding="utf-8") as fh:
        rows = {r["accession"]: r for r in csv.DictReader(fh)}
    row = rows["T.1990.4"]
    assert row["source"] == "Gift of Mrs Rao" and row["date_acquired"] == "1990-03"
    assert row["made_from"] == "1920" and row["made_to"] == "1940"
    assert row["roles"] == "border pallu whole"  # imported in name order
    assert row["curator_tradition"] == "Banarasi" and row["certainty"] == "confirmed"
    assert row["curator_tradition_name"] == "Banarasi brocade"
    assert row["answer"] and row["confidence"].endswith("%")


def test_object_commands_on_hand_and_their_bad_inputs(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _shoot(tmp_path / "shoot", ["AB12_whole.jpg", "AB12_back.jpg", "CD3_pallu.jpg", "x.jpg"])
    cat = str(tmp_path / "c.saree")
    base = ["--catalog", cat]
    imp = ["import", str(tmp_path / "shoot"), *base, "--model", str(tiny_model), "--quiet"]
    assert main([*imp, "--objects", "pattern"]) == 2
    assert "--objects pattern needs --pattern" in capsys.readouterr().err
    assert main([*imp, "--objects", "pattern", "--pattern", "[A-Z]+"]) == 2
    assert "needs a group named accession" in capsys.readouterr().err
    assert not Path(cat).exists()  # refused before anything was imported
    rx = r"(?P<accession>[A-Z]+\d+)_(?P<role>\w+)"
    assert main([*imp, "--objects", "pattern", "--pattern", rx]) == 0
    assert "3 photos grouped into 2 objects" in capsys.readouterr().out

    assert main(["object", "show", "AB12", *base, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert sorted(p["role"] for p in shown["photos"]) == ["reverse", "whole"]

    assert main(["object", "create", "NEW1", *base, "--photo", "4", "--title", "Ikat"]) == 0
    assert "NEW1  Ikat" in capsys.readouterr().out
    for argv, message in [
        (["object", "create", "NEW1", *base], "already an object NEW1"),
        (["object", "create", "N2", *base, "--photo", "4"], "already shows object NEW1"),
        (["object", "create", "N2", *base, "--photo", "77"], "no photo with id 77"),
        (["object", "edit", "NEW1", *base, "--made-from", "c. 1920"], "not a date"),
        (["object", "edit", "NEW1", *base], "nothing to change"),
        (["object", "add", "NEW1", "1", *base, "--role", "sleeve"], "'sleeve' is not a kind"),
        (["object", "remove", "NEW1", "1", *base], "photo 1 is not one of NEW1's photos"),
        (["object", "classify", "NOPE", *base], "no object NOPE"),
        (["object", "confirm", "NEW1", *base, "--tradition", "atlantean"], "unknown tradition"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)

    assert main(["object", "add", "NEW1", "1", *base, "--move", "--role", "border"]) == 0
    assert "#1     border close-up" in capsys.readouterr().out
    assert main(["object", "remove", "NEW1", "1", *base]) == 0
    capsys.readouterr()
    assert main(["object", "delete", "NEW1", *base]) == 0
    assert "its photo stays in the catalogue" in capsys.readouterr().out
    assert main(["object", "list", *base]) == 0
    out = capsys.readouterr().out
    assert "AB12" in out and "CD3" in out and "NEW1" not in out
    assert main(["object", *base[:0]]) == 2  # no action: the help
