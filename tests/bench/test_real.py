"""`saree bench real` on rendered fixtures with hand-made labels (never on shared/realdev)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from saree_app.bench import real
from saree_app.bench.real import scoring, teach
from saree_app.bench.real.inputs import BenchInputError, read_folders, read_parts, read_views
from saree_app.synth import render

GRID = 12


def _labels(rows: list[str]) -> np.ndarray:
    return np.array([[".orp".index(c) if c in ".orp" else -1 for c in r] for r in rows])


def _half(saree_from: int, char: str = "o") -> list[str]:
    return ["." * saree_from + char * (GRID - saree_from)] * GRID


# ---- scoring, by hand ---------------------------------------------------------------------


def test_a_part_map_equal_to_the_labels_scores_one() -> None:
    rows = ["....rrrrpppp"] * 4 + ["oooorrrrpppp"] * 4 + ["????oooo...."] * 4
    labels = _labels(rows)
    predicted = np.where(labels < 0, 0, labels)
    tally = scoring.PartTally.empty()
    tally.add(labels, predicted, np.ones((GRID, GRID)))
    f = tally.figures()
    assert f["miou"] == 1.0
    assert f["iou_saree"] == 1.0
    assert f["background_as_saree"] == 0.0
    assert f["cells"] == GRID * GRID - 16  # the '?' cells are not scored


def test_a_shifted_part_map_scores_what_it_should() -> None:
    labels = _labels(_half(6))  # right half is body
    predicted = _labels(_half(8))  # the app's body starts two columns late
    heat = np.zeros((GRID, GRID))
    heat[:, 4:8] = 1.0  # half on background (cols 4-5), half on the saree (cols 6-7)
    tally = scoring.PartTally.empty()
    tally.add(labels, predicted, heat)
    f = tally.figures()
    assert f["iou_body"] == pytest.approx(4 / 6)
    assert f["iou_background"] == pytest.approx(6 / 8)
    assert f["miou"] == pytest.approx((4 / 6 + 6 / 8) / 2)  # border and pallu absent: no IoU
    assert f["iou_border"] is None
    assert f["background_as_saree"] == 0.0
    assert f["heat_on_saree"] == pytest.approx(0.5)
    # And the other way: painting two background columns as saree.
    over = scoring.PartTally.empty()
    over.add(labels, _labels(_half(4)), None)
    assert over.figures()["background_as_saree"] == pytest.approx(2 / 6)


def test_the_part_map_is_reduced_to_the_grid_by_majority() -> None:
    rows = ["..oorrrpp..."] * 6 + ["pppppp......"] * 6
    labels = _labels(rows)
    mask = np.kron(labels, np.ones((30, 20), dtype=np.int64)).astype(np.uint8)  # 360 x 240
    mask[0:3, 0:3] = 3  # a few stray pixels do not win a cell
    assert (scoring.mask_to_grid(mask) == labels).all()
    heat = np.ones((360, 240))
    grid = scoring.heat_to_grid(heat)
    assert grid.sum() == pytest.approx(360 * 240)
    assert grid[0, 0] == pytest.approx(600)


def test_auroc_and_risk_coverage_by_hand() -> None:
    assert scoring.auroc([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == 1.0
    assert scoring.auroc([0.1, 0.3, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert scoring.auroc([0.5, 0.5], [True, False]) == 0.5
    assert scoring.auroc([0.5], [True]) is None
    curve = scoring.risk_coverage([0.9, 0.2, 0.6, 0.4], [True, False, False, True])
    assert curve == [(0.25, 0.0), (0.5, 0.5), (0.75, 1 / 3), (1.0, 0.5)]


def test_accuracy_counts_fused_visual_and_uncertainty() -> None:
    a = scoring.Answer
    answers = [
        a("A/1", "A", True, "flat", ("A", "B"), ("B", "A"), 0.9, False),
        a("A/2", "A", True, "flat", ("B", "A"), ("B", "A"), 0.4, True),
        a("A/3", "A", True, "worn", ("A",), ("A",), 0.8, False),
        a("C/1", "C", False, "worn", ("B",), ("B",), 0.7, False),
        a("X/1", None, False, "worn", ("A",), ("A",), 0.6, True),
    ]
    f = scoring.accuracy(answers)
    assert f["scored"] == 4
    assert f["fused_top1"] == pytest.approx(2 / 4)
    assert f["fused_top1_balanced"] == pytest.approx((2 / 3 + 0) / 2)
    assert f["visual_top1"] == pytest.approx(1 / 4)
    assert f["fused_top5"] == pytest.approx(3 / 4)
    assert f["flagged"] == pytest.approx(2 / 5)
    assert f["flagged_known_to_model"] == pytest.approx(1 / 3)
    assert f["flagged_not_in_model"] == 0.0
    assert f["flagged_unknown_to_app"] == 1.0
    assert f["unflagged"] == 3
    assert f["unflagged_right"] == pytest.approx(2 / 3)
    assert f["auroc_confidence"] == pytest.approx(1.0)
    # Scored answers state 0.9, 0.4, 0.8, 0.7 for 2 right of 4; bins 0.9 (right), 0.4
    # (wrong), 0.8 (right), 0.7 (wrong): gaps 0.1, 0.4, 0.2, 0.7.
    assert f["stated_probability"] == pytest.approx(0.7) and f["stated_right"] == 0.5
    assert f["calibration_error"] == pytest.approx((0.1 + 0.4 + 0.2 + 0.7) / 4)
    assert f["set_coverage"] is None  # no answer states a set


def test_answer_sets_are_checked_against_the_right_tradition() -> None:
    a = scoring.Answer
    answers = [
        a("A/1", "A", True, "flat", ("B", "A"), ("B",), 0.5, True, (), ("B", "A"), 0.9, True),
        a("A/2", "A", True, "flat", ("B", "C"), ("B",), 0.5, True, (), ("B", "C", "D"), 0.9),
        a("C/1", "C", False, "worn", ("C",), ("C",), 0.5, True, (), ("C",), 0.8),
        a("C/2", "C", False, "worn", ("C",), ("C",), 0.5, True),  # stored without a set
        a("X/1", None, False, "worn", ("A",), ("A",), 0.6, True, (), ("A",), 0.9),  # unscored
    ]
    f = scoring.accuracy(answers)
    # Of the three scored answers with a set, A/1's and C/1's hold the right tradition.
    assert f["set_coverage"] == pytest.approx(2 / 3)
    assert f["set_size"] == pytest.approx((2 + 3 + 1) / 3)
    assert f["set_level"] == 0.9
    assert f["set_unclaimed"] == pytest.approx(1 / 3)  # A/1's is named without a level
    assert f["set_coverage_claimed"] == pytest.approx(1 / 2)  # of A/2's and C/1's, C/1's


def test_flags_are_told_apart_by_their_reason() -> None:
    a = scoring.Answer
    unlike = "looks unlike"
    answers = [
        a("A/1", "A", True, "flat", ("A",), ("A",), 0.9, True, (unlike,)),
        a("A/2", "A", True, "flat", ("A",), ("A",), 0.9, True, (unlike, "weak")),
        a("A/3", "A", True, "flat", ("A",), ("A",), 0.9, True, ("weak",)),
        a("A/4", "A", True, "flat", ("A",), ("A",), 0.9, False),
    ]
    f = scoring.flag_sources(answers, unlike)
    assert f["unlike_training"] == pytest.approx(2 / 4)
    assert f["other_reasons"] == pytest.approx(2 / 4)
    assert scoring.flag_sources([], unlike) == {"unlike_training": None, "other_reasons": None}


# ---- inputs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rendered photos: two traditions the model knows (one folder under another name) and a
    folder the app has never heard of."""
    root = tmp_path_factory.mktemp("real")
    plan = {"Kanjivaram": "Kanchipuram", "Banarasi": "Banarasi", "Mystery": "Gadwal"}
    for folder, tradition in plan.items():
        (root / folder).mkdir()
        for i in range(5):
            img = render(tradition, 9_100_000 + 37 * i + len(folder), size=160)[0]
            img.save(root / folder / f"{tradition.lower()}-{i}.jpg", quality=90)
    (root / "Banarasi" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    return root


def _graph() -> Any:
    from saree_app.knowledge.graph import TextileGraph

    return TextileGraph.load()


def test_folders_are_matched_by_id_or_other_name_and_unknown_ones_named(photos: Path) -> None:
    inputs = read_folders(photos, ["https://x/ns#Kanchipuram", "https://x/ns#Banarasi"], _graph())
    by_name = {f.name: f for f in inputs.folders}
    assert by_name["Kanjivaram"].tradition == "Kanchipuram"
    assert by_name["Kanjivaram"].known_to_model
    assert by_name["Mystery"].tradition is None
    assert any("Mystery" in w and "never heard of" in w for w in inputs.warnings)


def test_bad_label_files_name_the_key_and_the_problem(photos: Path, tmp_path: Path) -> None:
    inputs = read_folders(photos, [], _graph())
    bad = tmp_path / "parts.json"
    key = "Banarasi/banarasi-0.jpg"
    cases = {
        "{not json": "not valid JSON",
        json.dumps([1, 2]): "JSON object",
        json.dumps({key: {"grid": ["." * 12] * 11}}): f'{key!r}: "grid" must be a list of 12',
        json.dumps({key: {"grid": ["." * 12] * 11 + ["." * 11 + "x"]}}): "row 12 has 'x'",
    }
    for text, message in cases.items():
        bad.write_text(text)
        with pytest.raises(BenchInputError, match=message.replace("(", r"\(")):
            read_parts(bad, inputs)
    bad.write_text(
        json.dumps(
            {
                "photos/Banarasi/banarasi-0.jpg": {"grid": ["." * 12] * 12, "view": "Worn"},
                "Banarasi/missing.jpg": {"grid": ["." * 12] * 12},
            }
        )
    )
    read_parts(bad, inputs)
    assert inputs.parts[key].view == "worn"  # a longer path that ends with the photo's matches
    assert any("missing.jpg" in w and "skipped" in w for w in inputs.warnings)
    views = tmp_path / "views.csv"
    views.write_text("name,kind\nx,y\n")
    with pytest.raises(BenchInputError, match="needs the columns file and view"):
        read_views(views, inputs)


def test_bad_inputs_give_a_message_never_a_traceback(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.json").write_text("{")
    runs = {
        "no such folder": ["--photos", str(tmp_path / "nowhere")],
        "no photos found": ["--photos", str(tmp_path / "empty")],
        "not valid JSON": ["--photos", str(photos), "--parts", str(tmp_path / "bad.json")],
        "--draws must be at least 1": ["--photos", str(photos), "--draws", "0"],
    }
    for message, argv in runs.items():
        assert real.main([*argv, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err
    with pytest.raises(SystemExit):
        real.main(["--photos", str(photos), "--shots", "0"])
    assert "at least 1" in capsys.readouterr().err


# ---- the whole benchmark ------------------------------------------------------------------


def _run(photos: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    parts = out.parent / f"{out.name}-parts.json"
    grid = ["......oooo.."] * 12
    parts.write_text(
        json.dumps(
            {
                "Kanjivaram/kanchipuram-1.jpg": {"view": "flat", "grid": grid},
                "Mystery/gadwal-2.jpg": {"view": "worn", "grid": grid},
            }
        )
    )
    views = out.parent / f"{out.name}-views.csv"
    views.write_text(
        "file,view,source_repo\n"
        + "Banarasi/banarasi-0.jpg,worn,shop-a\nBanarasi/banarasi-1.jpg,flat,shop-b\n"
        + "".join(f"Kanjivaram/kanchipuram-{i}.jpg,flat,shop-{'ab'[i % 2]}\n" for i in range(5))
    )
    argv = [
        "--photos",
        str(photos),
        "--parts",
        str(parts),
        "--views",
        str(views),
        "--shots",
        "3",
        "--draws",
        "2",
        "--out",
        str(out),
        "--json",
        "--quiet",
        *extra,
    ]
    assert real.main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["bench"] == "real" and "load_average" in printed["machine"]
    return printed["figures"]


def test_the_report_has_the_documented_keys_and_files(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _run(photos, tmp_path / "out", capsys)
    documented = [
        line.split()[0]
        for line in real.JSON_KEYS.splitlines()[1:]
        if line.startswith("  ") and not line.startswith("   ")
    ]
    for key in documented:
        for name in key.rstrip(",").split(","):
            head, *rest = name.strip().split(".")
            assert head in report, head
            if rest and not rest[0].startswith("<"):
                assert rest[0] in report[head], name
    assert report["photos"] == 16 and report["scored"] == 15
    assert [s[0] for s in report["skipped"]] == ["Banarasi/broken.jpg"]
    assert report["untaught"]["overall"]["flagged_unknown_to_app"] is not None
    # Every import states an answer set: the report checks it on the photos.
    overall = report["untaught"]["overall"]
    assert 0.0 <= overall["set_coverage"] <= 1.0 and overall["set_size"] >= 1.0
    assert overall["set_level"] == pytest.approx(0.9)
    assert set(report["untaught"]["flag_sources"]) == {"unlike_training", "other_reasons"}
    assert set(report["untaught"]["by_view"]) == {"flat", "worn"}
    assert report["parts"]["overall"]["photos"] == 2
    taught = report["taught"]["3"]
    assert taught["draws"] == 2 and taught["traditions"] == 3 and taught["left_out"] == []
    assert taught["tested_photos"] == 15 - 9  # 5 + 5 + 5 read, 3 of each taught
    for name in ("report.md", "report.json", "confusion.png", "risk-coverage.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## 2. Taught" in md and "## 3. Parts" in md
    assert 'Answer sets ("could be: ...", by the model\'s own calibration, stated at 90.0%)' in md
    # 9 confirmed photos calibrate no set (10 are needed): the report says what the app claims.
    assert taught["set_calibrated"] == 0.0
    assert "At k = 3 no set is calibrated on the confirmed photos" in md
    assert "the app claims no level for them" in md
    # Apart by source: only the photos with one (Banarasi 0-1, Kanjivaram 0-4) are counted.
    split = taught["by_source"]["app"]
    counted = split["seen"]["answers"] + split["unseen"]["answers"]
    assert 0 < counted <= 2 * 7  # at most those 7 in each of the 2 draws
    assert set(taught["by_source"]) == {"app", "reference: cloth close-ups"}
    assert "source not seen" in md
    # Similar sarees, by each way the app compares, over the 15 photos read.
    similar = report["similar"]
    assert list(similar) == ["cloth", "whole", "body", "border", "pallu"]
    for f in similar.values():
        assert f["photos"] == 15
        assert 0.0 <= f["nearest"] <= 1.0 and 0.0 <= f["five_nearest"] <= 1.0
        # shop-a and shop-b each show Banarasi and Kanchipuram: 7 photos searched within.
        assert f["within_sources"] == 2 and f["within_source_photos"] == 7
    assert "## 4. Similar sarees" in md


def test_a_second_run_reads_the_answers_from_its_cache(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    first = _run(photos, tmp_path / "out", capsys)
    from saree_app.model import predict

    read_again: list[str] = []
    real_many = predict.Predictor.predict_many

    def spy(self: Any, paths: Any, *args: Any, **kw: Any) -> Any:
        def note() -> Any:
            for p in paths:
                read_again.append(Path(p).name)
                yield p

        return real_many(self, note(), *args, **kw)

    monkeypatch.setattr(predict.Predictor, "predict_many", spy)
    second = _run(photos, tmp_path / "out", capsys)
    assert read_again == ["broken.jpg"]  # only the photo that could not be read is tried again
    assert second["untaught"] == first["untaught"]
    assert second["parts"] == first["parts"]


def test_draws_are_reproducible_from_the_seed(photos: Path) -> None:
    inputs = read_folders(photos, [], _graph())
    present = {f.name: [inputs.key(p) for p in f.photos] for f in inputs.folders}
    a = teach.draw(inputs.folders, present, 3, seed=7, n=0)
    assert a == teach.draw(inputs.folders, present, 3, seed=7, n=0)
    others = [teach.draw(inputs.folders, present, 3, seed=s, n=n) for s in (7, 8) for n in (1, 0)]
    assert any(o != a for o in others)
    assert all(len(v) == 3 for v in a.values())
    # A tradition needs k + 1 photos: only Banarasi's folder holds 6 files.
    assert set(teach.draw(inputs.folders, present, 5, seed=7, n=0)) == {"Banarasi"}


def test_the_taught_path_is_the_apps_own_teaching_step(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    from saree_app.collection import fewshot

    calls: list[int] = []
    changed: list[int] = []
    real_step = fewshot.apply_to_catalog

    def spy(cat: Any, graph: Any, *args: Any, **kw: Any) -> int:
        labels = cat.labels()
        calls.append(sum(1 for lab in labels.values() if lab.certainty == "confirmed"))
        changed.append(real_step(cat, graph, *args, **kw))
        return changed[-1]

    monkeypatch.setattr(fewshot, "apply_to_catalog", spy)
    taught = _run(photos, tmp_path / "a", capsys)["taught"]["3"]
    assert taught["draws"] == 2 and taught["app"]["mean"] is not None
    # Once per draw, after 3 photos of each of 3 traditions confirmed; then the check that
    # an untaught tradition is not made worse teaches every other tradition of each draw
    # again: 2 of 3 in the first draw (6 photos); the second draw's half is one tradition,
    # too few to teach, so it is skipped.
    assert calls == [9, 9, 6]
    watched = taught["untaught_traditions"]
    assert watched["draws"] == 1 and len(watched["change_per_draw"]) == 1
    assert watched["before"] is not None and watched["after"] is not None
    # The watched photos' flags are read back before and after teaching, as shares.
    for flagged in (watched["flagged_before"], watched["flagged_after"]):
        assert flagged is not None and 0.0 <= flagged <= 1.0
    # The step re-ranked stored answers (the figures above are read back from the catalogue).
    assert sum(changed) > 0


def test_part_maps_are_the_photo_views(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """The part figures measure what a curator looks at: the photo view's part map
    (`predict`, every zoom), not the bulk import's single reading; once per labelled photo."""
    from saree_app.model import predict

    viewed: list[str] = []
    real_one = predict.Predictor.predict

    def spy(self: Any, photo: Any, *args: Any, **kw: Any) -> Any:
        viewed.append(Path(photo).name)
        return real_one(self, photo, *args, **kw)

    monkeypatch.setattr(predict.Predictor, "predict", spy)
    report = _run(photos, tmp_path / "out", capsys)
    assert sorted(viewed) == ["gadwal-2.jpg", "kanchipuram-1.jpg"]
    assert report["parts"]["overall"]["photos"] == 2


def test_similar_figures_by_hand() -> None:
    """Four photos, two traditions, two sources: each nearest worked out by hand."""
    from saree_app.bench.real.similar import _one_way

    keys = ["a1", "a2", "b1", "b2"]
    truth = {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}
    sources = {"a1": "s1", "b1": "s1", "a2": "s2", "b2": "s2"}
    sims = np.array(
        [
            [1.0, 0.9, 0.5, 0.1],  # a1: nearest a2 (right); within s1 only b1 (wrong)
            [0.9, 1.0, 0.2, 0.8],  # a2: nearest a1 (right); within s2 only b2 (wrong)
            [0.5, 0.2, 1.0, 0.3],  # b1: nearest a1 (wrong); within s1 a1 (wrong)
            [0.1, 0.8, 0.3, 1.0],  # b2: nearest a2 (wrong); within s2 a2 (wrong)
        ]
    )
    f = _one_way(sims, keys, truth, sources)
    assert f["nearest"] == pytest.approx(0.5)  # A: 2 of 2, B: 0 of 2
    # From other sources: a1's are a2 then b2 (a2 right: 1 of 2), a2's a1 then b1 (1 of 2),
    # b1's a2 then b2 (1 of 2), b2's a1 then b1 (1 of 2).
    assert f["other_sources_five"] == pytest.approx(0.5)
    assert f["within_source_nearest"] == pytest.approx(0.0)
    assert f["within_source_chance"] == pytest.approx(0.0)
    assert f["within_sources"] == 2 and f["within_source_photos"] == 4


def test_taught_answers_are_told_apart_by_whether_their_source_was_taught() -> None:
    from saree_app.bench.real.teach import DrawResult, by_source

    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "b3": "B"}
    sources = {"a1": "shop1", "a2": "shop1", "a3": "shop2", "b1": "shop2", "b2": "shop2"}
    # A taught from shop1, B from shop2; b3 has no source and is left out.
    r = DrawResult(
        taught={"A": ["a1"], "B": ["b1"]},
        answers={"a2": ("A", False, 0.9), "a3": ("B", True, 0.5), "b2": ("B", False, 0.8),
                 "b3": ("A", False, 0.7)},
        reference={},
    )  # fmt: skip
    split = by_source([r], truth, sources, lambda d, key: d.answers[key][0])
    assert split["seen"] == {"answers": 2, "right": 1.0, "balanced": 1.0}  # a2, b2
    assert split["unseen"] == {"answers": 1, "right": 0.0, "balanced": 0.0}  # a3 (shop2 taught B)


def test_taught_answers_ranked_by_their_lead() -> None:
    """Every draw's answers together, the furthest ahead first: the share right among the
    first of them, the lead's AUROC and its risk-coverage curve, worked out by hand."""
    from saree_app.bench.real.teach import (
        REFERENCE_FEATURES,
        DrawResult,
        ranked_by_lead,
        taught_figures,
    )

    truth = {f"p{i}": "A" for i in range(10)}
    # Leads 10, 9, ... 1; right where the lead is 10, 9, 8, 6 and 2.
    right = {10, 9, 8, 6, 2}
    answers = {f"p{i}": ("A" if 10 - i in right else "B", False, 0.9) for i in range(10)}
    leads = {f"p{i}": float(10 - i) for i in range(10)}
    first = {k: answers[k] for k in ("p0", "p1", "p2", "p3", "p4")}
    second = {k: answers[k] for k in ("p5", "p6", "p7", "p8", "p9")}
    none: dict[str, dict[str, str | None]] = {name: {} for name in REFERENCE_FEATURES}
    draws = [
        DrawResult(taught={"A": ["x"]}, answers=first, reference=none, leads=leads),
        DrawResult(taught={"A": ["x"]}, answers=second, reference=none, leads=leads),
    ]
    f = ranked_by_lead([(leads[k], answers[k][0] == "A") for k in sorted(leads)])
    # The first 25% (3 of 10, rounded up): 3 right; 40% (4): 3; 50% (5): 4; 60% (6): 4.
    assert f["lead_right_at"] == {"0.25": 1.0, "0.40": 0.75, "0.50": 0.8, "0.60": 0.6667}
    # 5 right, 5 wrong: pairs where the right one leads: 5+5+5+4+1 of 25.
    assert f["lead_auroc"] == pytest.approx(20 / 25)
    assert f["lead_risk"][-1] == (1.0, 0.5) and len(f["lead_risk"]) == 10
    assert f["lead_risk_area"] == pytest.approx(
        np.mean([0, 0, 0, 1 / 4, 1 / 5, 2 / 6, 3 / 7, 4 / 8, 4 / 9, 5 / 10])
    )
    # Through taught_figures, from the draws (each answer with its own lead).
    g = taught_figures(draws, truth)
    assert g["lead_right_at"] == f["lead_right_at"] and g["lead_auroc"] == f["lead_auroc"]
    assert ranked_by_lead([])["lead_right_at"] is None
    # Every answer stated 90% and half were right.
    assert g["stated_probability"] == pytest.approx(0.9) and g["stated_right"] == 0.5
    assert g["calibration_error"] == pytest.approx(0.4)


def test_calibration_error_is_the_binned_gap() -> None:
    from saree_app.bench.real.scoring import calibration

    # Bin 0.9-1.0: stated 0.95 twice, one right (gap 0.45); bin 0.3-0.4: stated 0.35, right
    # (gap 0.65); weighted by answers: (2 * 0.45 + 0.65) / 3.
    f = calibration([(0.95, True), (0.95, False), (0.35, True)])
    assert f["calibration_error"] == pytest.approx((2 * 0.45 + 0.65) / 3)
    assert f["stated_probability"] == pytest.approx(0.75)
    assert f["stated_right"] == pytest.approx(2 / 3)
    assert calibration([(1.0, True)])["calibration_error"] == 0.0  # 1.0 falls in the last bin
    assert calibration([]) == {
        "stated_probability": None,
        "stated_right": None,
        "calibration_error": None,
    }
