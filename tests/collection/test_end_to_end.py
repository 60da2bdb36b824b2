"""The collection with the real Predictor and the tiny model, through the `saree` command."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from collection_fakes import write_photo

from saree_app.cli import main
from saree_app.collection.catalog import Catalog
from saree_app.collection.importer import run_import


def _folder(root: Path, n: int, size: int = 96) -> list[Path]:
    rng = np.random.default_rng(5)
    return [
        write_photo(root / f"T{i % 3}" / f"{i:04d}.jpg", tuple(rng.integers(0, 255, 3)), i, size)
        for i in range(n)
    ]


def test_real_predictor_import_stores_answers_and_embeddings(
    tiny_model: Path, tmp_path: Path
) -> None:
    from saree_app.model.predict import Predictor

    _folder(tmp_path / "p", 6)
    (tmp_path / "p" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    predictor = Predictor(tiny_model)
    with Catalog(tmp_path / "c.saree") as cat:
        last = run_import(cat, tmp_path / "p", predictor, batch_size=4)
        assert (last.added, len(last.skipped)) == (6, 1)
        assert "broken.jpg" in last.skipped[0].path
        sha = predictor.manifest.sha256
        assert cat.latest_model() == sha
        ids, m = cat.embeddings(sha, "border")
        assert m.shape == (6, predictor.manifest.embedding_dim)
        pred = cat.prediction(int(ids[0]), sha)
        assert pred is not None
        assert pred.top_tradition == pred.result["tradition"]
        assert pred.result["ranking"][0]["tradition"] == pred.top_tradition
        assert cat.integrity_problems() == []


def _count(path: Path) -> int:
    try:
        with Catalog(path, create=False) as cat:
            return cat.count()
    except Exception:  # not created yet, or the schema is being written
        return 0


@pytest.mark.slow
def test_cli_import_killed_then_resumed(tiny_model: Path, tmp_path: Path) -> None:
    n = 150
    _folder(tmp_path / "p", n, size=480)
    cat_path = tmp_path / "c.saree"
    cmd = [sys.executable, "-m", "saree_app.cli", "import", str(tmp_path / "p")]
    cmd += [
        "--catalog",
        str(cat_path),
        "--model",
        str(tiny_model),
        "--batch",
        "2",
        "--threads",
        "1",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}
    )
    deadline = time.monotonic() + 120
    while _count(cat_path) < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    killed_at = _count(cat_path)
    assert 5 <= killed_at < n, "the import finished before it could be killed"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{n - killed_at} added, {killed_at} already there, 0 skipped" in done.stdout
    with Catalog(cat_path) as cat:
        assert cat.count() == n
        assert cat.integrity_problems() == []


def test_cli_similar_label_fewshot_export_round(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = _folder(tmp_path / "p", 8)
    (tmp_path / "p" / "notes.txt").write_text("x")
    cat = str(tmp_path / "p" / "c.saree")  # the catalogue inside the photo folder
    command = ["import", str(tmp_path / "p"), "--catalog", cat, "--model", str(tiny_model)]
    assert main([*command, "--quiet"]) == 0  # notes.txt is reported, but is no failure
    out, err = capsys.readouterr()
    assert "8 added" in out
    assert "notes.txt: not a photo" in err
    assert "c.saree" not in err  # its own files are not "other files"
    (tmp_path / "p" / "T0" / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut")
    assert main([*command, "--quiet"]) == 1  # an unusable photo fails the run
    out, err = capsys.readouterr()
    assert "0 added, 8 already there, 2 skipped" in out
    assert "damaged.jpg" in err

    assert main(["similar", "1", "--catalog", cat, "--part", "border", "--top", "3", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found) == 3
    assert 1 not in [m["photo_id"] for m in found]
    assert found[0]["score"] >= found[1]["score"] >= found[2]["score"]
    # A photo file works as the query too (found in the catalogue by content).
    assert main(["similar", str(photos[0]), "--catalog", cat, "--top", "2"]) == 0
    assert "#" in capsys.readouterr().out
    # A photo that is not in the catalogue is classified with the catalogue's model first.
    new = write_photo(tmp_path / "new.jpg", (10, 200, 30), 999, 96)
    query = ["similar", str(new), "--catalog", cat, "--part", "pallu", "--top", "3", "--json"]
    assert main([*query, "--model", str(tiny_model)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(query) == 2  # the shipped model (or none yet) did not build this catalogue
    err = capsys.readouterr().err
    assert "another model" in err or "cannot use the model" in err

    assert main(["label", "2", "--catalog", cat, "--confirm", "--tag", "wedding"]) == 0
    assert "(confirmed)" in capsys.readouterr().out
    assert main(["fewshot", "--catalog", cat]) == 0
    out = capsys.readouterr().out
    assert "1 confirmed  taught; needs 1 more to check it" in out
    # One tradition alone re-ranks nothing, and the command says why.
    assert "teaching: one tradition is taught so far" in out
    # A photo file names the photo too; a tradition may be given by its label.
    # (Imported in sorted order, T2/0005.jpg = photos[5] is the last, id 8.)
    assert main(["label", str(photos[5]), "--catalog", cat, "--tradition", "kanchipuram silk"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#8 ")
    assert "tradition: Kanchipuram silk (confirmed)" in out  # the name a curator reads
    # Two of one tradition: enough for its own check, which waits for teaching to be measured.
    assert main(["fewshot", "--catalog", cat]) == 0
    assert "2 confirmed  taught; checked once teaching is measured" in capsys.readouterr().out
    assert main(["similar", "1", "--catalog", cat, "--tradition", "Kanchipuram", "--json"]) == 0
    assert 8 in [m["photo_id"] for m in json.loads(capsys.readouterr().out)]
    assert main(["label", "3", "--catalog", cat, "--tradition", "Atlantis"]) == 2
    assert "--new" in capsys.readouterr().err
    for pid in ("3", "4", "5"):
        assert main(["label", pid, "--catalog", cat, "--tradition", "Kotpad", "--new"]) == 0
    capsys.readouterr()
    assert main(["fewshot", "--catalog", cat, "--apply"]) == 0
    out = capsys.readouterr().out
    # Each tradition checked on its own confirmed photos, each left out in turn.
    # Two photos of a tradition are checked, and the line says a third checks it well.
    assert re.search(
        r"Kanchipuram +2 confirmed  taught; [0-2] of 2 right when each is left out.*"
        r"; 1 more to check it well",
        out,
    )
    assert re.search(r"Kotpad +3 confirmed  taught; [0-3] of 3 right when each is left out", out)
    assert "teaching: right on" in out and "of your confirmed photos when each is left out" in out
    # What that figure speaks for: the traditions taught (Kanchipuram and Kotpad), as photographed.
    assert "That is on sarees of the 2 traditions you have confirmed" in out
    # Five confirmed photos are too few to calibrate answer sets on: said, with what it takes.
    assert "answer sets: not calibrated on your photos yet (needs 10 confirmed" in out
    # How far along it is, and what the taught answers are worth until then.
    assert re.search(r"traditions with two or more; [3-5] so far\)", out)
    assert "taught answers are not checked: their percentages are not odds" in out
    assert "re-ranked" in out

    csv_out = tmp_path / "cat.csv"
    assert main(["export", "--catalog", cat, "--format", "csv", "--out", str(csv_out)]) == 0
    rows = list(csv.DictReader(csv_out.open()))
    assert len(rows) == 8
    assert [r["curator_tradition"] for r in rows[2:5]] == ["Kotpad"] * 3
    # An unconfirmed photo's answer is taught now, and nothing has checked teaching: no level.
    # (Most of the traditions: not listed, said not to narrow the photo down.)
    assert "(from your teaching, not yet checked on your confirmed photos)" in rows[0]["answer_set"]
    assert rows[0]["answer_set"].startswith("Not narrowed down yet: ")
    assert "90%" not in rows[0]["answer_set"]
    capsys.readouterr()
    assert main(["export", "--catalog", cat]) == 0  # CSV on stdout
    assert capsys.readouterr().out.count("\n") == 9
    assert rows[1]["tags"] == "wedding"
    jl = tmp_path / "cat.jsonld"
    assert main(["export", "--catalog", cat, "--format", "jsonld", "--out", str(jl)]) == 0
    assert len(json.loads(jl.read_text())["@graph"]) == 8
    capsys.readouterr()

    sheet = tmp_path / "labels.csv"
    sheet.write_text("id,tradition,note\n6,Kotpad,from the sheet\n77,Kotpad,\n")
    assert main(["import-labels", str(sheet), "--catalog", cat]) == 1
    out, err = capsys.readouterr()
    assert "1 rows applied, 1 bad" in out
    assert "labels.csv:3: no photo with id 77" in err

    assert main(["similar", "1", "--catalog", cat, "--confirmed", "--json"]) == 0
    confirmed = json.loads(capsys.readouterr().out)
    assert {m["photo_id"] for m in confirmed} == {2, 3, 4, 5, 6, 8}
    assert main(["similar", "1", "--catalog", str(tmp_path / "none.saree")]) == 2
    assert "no such catalogue" in capsys.readouterr().err


def test_cli_similar_compares_the_cloth_unless_told(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _folder(tmp_path / "p", 6)
    cat = str(tmp_path / "c.saree")
    assert main(["import", str(tmp_path / "p"), "--catalog", cat, "--model", str(tiny_model)]) == 0
    capsys.readouterr()
    query = ["similar", "1", "--catalog", cat, "--top", "3", "--json"]

    def found(*extra: str) -> tuple[list[tuple[int, float]], str]:
        assert main([*query, *extra]) == 0
        out, err = capsys.readouterr()
        return [(m["photo_id"], round(m["score"], 5)) for m in json.loads(out)], err

    by_default, err = found()
    assert len(by_default) == 3 and "whole saree" not in err
    assert found("--part", "cloth")[0] == by_default  # the cloth, unless told
    by_whole, _ = found("--part", "whole")
    assert by_whole != by_default  # another way of comparing, other scores
    # A photo of which the cloth was never read: the whole saree, and a line saying so.
    with Catalog(Path(cat)) as c:
        c.run("DELETE FROM vectors WHERE photo_id = 1 AND part IN ('cloth', 'cloth_tiles')")
    fallen, err = found()
    assert fallen == by_whole
    assert "compared by the whole saree: this photo's cloth has not been read" in err
    # Asked for by name, the cloth it lacks is a plain error.
    assert main([*query, "--part", "cloth"]) == 2
    assert "cloth has not been read" in capsys.readouterr().err


def test_cli_classify_answers_as_the_collection_teaches(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _folder(tmp_path / "p", 8)
    cat = str(tmp_path / "c.saree")
    assert main(["import", str(tmp_path / "p"), "--catalog", cat, "--model", str(tiny_model),
                 "--quiet"]) == 0  # fmt: skip
    for pid, tradition in (("1", "Kanchipuram"), ("2", "Kanchipuram"), ("3", "Banarasi"),
                           ("4", "Banarasi")):  # fmt: skip
        assert main(["label", pid, "--catalog", cat, "--tradition", tradition]) == 0
    capsys.readouterr()
    new = write_photo(tmp_path / "new.jpg", (10, 200, 30), 999, 96)
    plain = ["classify", str(new), "--model", str(tiny_model), "--json"]
    assert main(plain) == 0
    (own,) = json.loads(capsys.readouterr().out)
    assert main([*plain, "--catalog", cat]) == 0
    (taught,) = json.loads(capsys.readouterr().out)
    # Re-ranked by the confirmed photos, as the collection's browser answers it: taught
    # evidence in the ranking, and a set that claims no level until teaching is checked.
    kinds = {e["kind"] for r in taught["ranking"] for e in r.get("evidence", [])}
    assert "fewshot" in kinds
    assert "fewshot" not in {e["kind"] for r in own["ranking"] for e in r.get("evidence", [])}
    assert taught["answer_set"]["taught"] is True and "taught" not in own["answer_set"]
    assert main(["classify", str(new), "--model", str(tiny_model), "--catalog", cat]) == 0
    out = capsys.readouterr().out
    assert "from your teaching, not yet checked" in out
    assert main(["classify", str(new), "--model", str(tiny_model), "--catalog", cat, "--csv"]) == 0
    row = next(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    # (A set of most of the traditions is not listed, and says what would narrow it.)
    assert "(from your teaching, not yet checked on your confirmed photos)" in row["answer_set"]
    # A catalogue that is not there, or not a catalogue: one line, nothing read.
    missing = ["classify", str(new), "--model", str(tiny_model), "--catalog"]
    assert main([*missing, str(tmp_path / "none.saree")]) == 2
    assert "--catalog" in capsys.readouterr().err and not (tmp_path / "none.saree").exists()
    assert main([*missing, str(tmp_path)]) == 2
    assert "a folder, not a catalogue" in capsys.readouterr().err
    (tmp_path / "empty.saree").touch()
    assert main([*missing, str(tmp_path / "empty.saree")]) == 2
    assert "an empty file, not a catalogue" in capsys.readouterr().err
    assert (tmp_path / "empty.saree").stat().st_size == 0  # not made into a catalogue
    (tmp_path / "notes.saree").write_text("not a catalogue\n" * 50)
    assert main([*missing, str(tmp_path / "notes.saree")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_re_rank_says_how_far_it_got_on_a_terminal_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.commands.collection import _reranking

    assert _reranking() is None  # stderr is captured: a file, not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    say = _reranking()
    assert say is not None
    say(0, 3)
    say(3, 3)
    err = capsys.readouterr().err
    assert err == "\rre-ranking: 0 of 3 answers\rre-ranking: 3 of 3 answers\n"
