"""Objects: the record, photo membership, the fused answer, search, confirmation, export."""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from saree_app.collection import catalog as catalog_mod
from saree_app.collection import objects
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto
from saree_app.collection.objects import ObjectError

SHA = "b" * 64
W = 0.75  # the fusion's visual weight these answers are made with


def answer(
    visual: dict[str, float], parts: dict[str, dict[str, float]] | None = None
) -> dict[str, Any]:
    """A stored answer shaped as Prediction.to_dict(): visual evidence only, scores in the
    fusion's form (w * log(n * p)), probabilities their softmax."""
    n = len(visual)
    scores = {t: W * math.log(n * p) for t, p in visual.items()}
    z = sum(math.exp(s) for s in scores.values())
    probs = {t: math.exp(s) / z for t, s in scores.items()}
    order = sorted(scores, key=lambda t: -probs[t])
    return {
        "tradition": order[0],
        "probability": probs[order[0]],
        "ranking": [
            {
                "tradition": t,
                "label": t,
                "probability": probs[t],
                "score": scores[t],
                "evidence": [{"kind": "visual", "term": t, "contribution": scores[t]}],
            }
            for t in order
        ],
        "visual": [[t, p] for t, p in sorted(visual.items(), key=lambda kv: -kv[1])],
        "parts": [
            {"part": name, "area": 0.3, "ranking": sorted(r.items(), key=lambda kv: -kv[1])}
            for name, r in (parts or {}).items()
        ],
        "uncertain_reasons": [],
    }


def add(cat: Catalog, i: int, result: dict[str, Any], *, uncertain: bool = False) -> int:
    vec = np.zeros(6, np.float32)
    vec[i % 6] = 1
    return cat.record(
        NewPhoto(f"/photos/{i}.jpg", f"{i:064x}", 1000 + i),
        SHA,
        result,
        top_tradition=str(result["tradition"]),
        top_probability=float(result["probability"]),
        uncertain=uncertain,
        embedding=vec,
        part_embeddings=np.stack([vec, vec, vec]),
    )


@pytest.fixture
def cat(tmp_path: Path) -> Any:
    with Catalog(tmp_path / "c.saree") as c:
        yield c


@pytest.fixture(scope="module")
def graph() -> Any:
    from saree_app.knowledge.graph import TextileGraph

    return TextileGraph.load()


PLAIN = {"Kanchipuram": 0.5, "Banarasi": 0.3, "Paithani": 0.2}


def test_version_4_catalogue_gains_objects_and_keeps_its_photos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v4.saree"
    monkeypatch.setattr(catalog_mod, "MIGRATIONS", catalog_mod.MIGRATIONS[:4])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", 4)
    with Catalog(path) as old:
        pid = add(old, 1, answer(PLAIN))
        old.set_label(pid, tradition="Paithani", note="kept")
        with pytest.raises(CatalogError):
            old.run("SELECT * FROM objects")
    monkeypatch.undo()
    with Catalog(path) as new:
        assert new.schema_version == catalog_mod.SCHEMA_VERSION >= 5
        assert new.label(pid).note == "kept"  # type: ignore[union-attr]
        obj = objects.create_object(new, "T.1990.4", {"title": "Red silk"}, [pid], ["border"])
        assert obj.photos[0].role == "border" and obj.title == "Red silk"
        assert new.integrity_problems() == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == catalog_mod.SCHEMA_VERSION
    db.close()


def test_record_fields_photos_and_roles(cat: Catalog) -> None:
    a, b, c = (add(cat, i, answer(PLAIN)) for i in range(3))
    obj = objects.create_object(
        cat,
        " 2019.12.3 ",
        {"title": "Temple border saree", "made_from": "1920", "made_to": "1940"},
        [a, b],
        ["whole", "Border"],
    )
    assert obj.accession == "2019.12.3"
    assert [(m.photo_id, m.role) for m in obj.photos] == [(a, "whole"), (b, "border")]
    assert obj.made() == "1920 to 1940"
    obj = objects.update_object(cat, "2019.12.3", {"fibre": "silk", "title": ""})
    assert obj.get("fibre") == "silk" and obj.title is None
    assert obj.get("made_from") == "1920"  # not given: kept
    assert objects.object_of_photo(cat, b) == obj
    assert objects.object_of_photo(cat, c) is None
    obj = objects.add_photos(cat, obj.id, [c], ["back"])
    assert obj.role_of(c) == "reverse"
    assert objects.remove_photos(cat, [a, 999]) == 1
    assert objects.need_object(cat, "2019.12.3").photo_ids == [b, c]
    cat.run("PRAGMA foreign_keys")  # membership goes with a photo removed from the catalogue
    with cat.transaction():
        cat.run("DELETE FROM photos WHERE id = ?", (c,))
    assert objects.need_object(cat, "2019.12.3").photo_ids == [b]
    gone = objects.delete_object(cat, "2019.12.3")
    assert objects.get_object(cat, "2019.12.3") is None and cat.photo(b) is not None
    back = objects.restore_object(cat, gone)
    assert back.photo_ids == [b] and back.get("fibre") == "silk"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, p: objects.create_object(c, "", {}), "needs an accession number"),
        (lambda c, p: objects.create_object(c, "A1", {}), "already an object A1"),
        (lambda c, p: objects.create_object(c, "A2", {"colour": "red"}), "no field 'colour'"),
        (lambda c, p: objects.create_object(c, "A2", {"made_from": "c. 1920"}), "not a date"),
        (
            lambda c, p: objects.create_object(c, "A2", {"made_from": "1950", "made_to": "1920"}),
            "runs backwards",
        ),
        (lambda c, p: objects.create_object(c, "A2", {}, [p]), "already shows object A1"),
        (lambda c, p: objects.create_object(c, "A2", {}, [12345]), "no photo with id 12345"),
        (lambda c, p: objects.add_photos(c, "A1", [p], ["sleeve"]), "'sleeve' is not a kind"),
        (lambda c, p: objects.update_object(c, "A9", {"title": "x"}), "no object A9"),
        (lambda c, p: objects.update_object(c, "A1", {"made_to": "1000"}), "runs backwards"),
        (lambda c, p: objects.confirm_object(c, "A1", " "), "say which tradition"),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(
    cat: Catalog, call: Any, message: str
) -> None:
    pid = add(cat, 1, answer(PLAIN))
    objects.create_object(cat, "A1", {"made_from": "1900"}, [pid])
    before = [o.to_dict() for o in objects.all_objects(cat)]
    with pytest.raises(ObjectError, match=message) as info:
        call(cat, pid)
    assert "\n" not in str(info.value)
    assert [o.to_dict() for o in objects.all_objects(cat)] == before


def test_one_photo_object_answers_as_its_photo(cat: Catalog) -> None:
    stored = answer({"Kanchipuram": 0.2, "Banarasi": 0.7, "Paithani": 0.1})
    pid = add(cat, 1, stored, uncertain=True)
    stored_reasons = {**stored, "uncertain_reasons": ["far from everything the model knows"]}
    cat.put_prediction(
        pid, SHA, stored_reasons, top_tradition="Banarasi", top_probability=0.5, uncertain=True
    )
    objects.create_object(cat, "A1", {}, [pid], ["pallu"])  # no pallu found: the whole photo
    ans = objects.fuse_object(cat, "A1")
    assert [r.tradition for r in ans.ranking] == [r["tradition"] for r in stored["ranking"]]
    for r in stored["ranking"]:
        assert ans.probability(r["tradition"]) == pytest.approx(r["probability"], abs=1e-9)
    assert ans.uncertain and ans.reasons == ("far from everything the model knows",)
    assert "no pallu" in ans.photos[0].through


def test_a_taught_photo_object_answers_as_sure_as_its_photo(cat: Catalog) -> None:
    """After teaching, a photo's probabilities are read `spread` apart (fusion.FusionWeights):
    its object's answer reads the same, not the raw scores' near-certainty."""
    stored = answer({"Kanchipuram": 0.02, "Banarasi": 0.97, "Paithani": 0.01})
    scores = {r["tradition"]: r["score"] for r in stored["ranking"]}
    z = sum(math.exp(v / 4.0) for v in scores.values())
    for r in stored["ranking"]:
        r["probability"] = math.exp(scores[r["tradition"]] / 4.0) / z
    stored = {**stored, "spread": 4.0, "probability": stored["ranking"][0]["probability"]}
    pid = add(cat, 1, stored)
    objects.create_object(cat, "A1", {}, [pid], ["whole"])
    ans = objects.fuse_object(cat, "A1")
    for r in stored["ranking"]:
        assert ans.probability(r["tradition"]) == pytest.approx(r["probability"], abs=1e-9)
    assert ans.probability("Banarasi") < 0.9


def test_fusing_close_ups_finds_what_the_whole_photo_misses(cat: Catalog) -> None:
    # A Paithani: the whole photo leans to Kanchipuram; the close-ups' own parts say Paithani,
    # though each close-up's whole-photo reading is muddled.
    whole = answer({"Kanchipuram": 0.45, "Paithani": 0.40, "Banarasi": 0.15})
    border = answer(
        {"Kanchipuram": 0.5, "Paithani": 0.3, "Banarasi": 0.2},
        {"border": {"Paithani": 0.8, "Kanchipuram": 0.1, "Banarasi": 0.1}},
    )
    pallu = answer(
        {"Banarasi": 0.45, "Paithani": 0.35, "Kanchipuram": 0.2},
        {"pallu": {"Paithani": 0.7, "Banarasi": 0.2, "Kanchipuram": 0.1}},
    )
    ids = [add(cat, i, r) for i, r in enumerate((whole, border, pallu))]
    assert all(cat.prediction(p).top_tradition != "Paithani" for p in ids)  # type: ignore[union-attr]
    objects.create_object(cat, "P1", {}, ids, ["whole", "border", "pallu"])
    ans = objects.fuse_object(cat, "P1", weights=None)
    assert ans.top.tradition == "Paithani"
    best_alone = max(float(cat.prediction(p).result["ranking"][0]["probability"]) for p in ids)  # type: ignore[union-attr]
    assert ans.top.probability > 0.4 and ans.probability("Paithani") > best_alone - 0.1
    assert [v.through for v in ans.photos] == ["the whole photo", "its border", "its pallu"]
    assert sum(v.weight for v in ans.photos) == pytest.approx(1.0)
    assert any("disagree" in r for r in ans.reasons)
    # The same photos heard as whole photos do not find it: the roles are what helped.
    objects.update_object(cat, "P1", {})
    objects.add_photos(cat, "P1", ids, ["whole"] * 3)
    assert objects.fuse_object(cat, "P1").top.tradition != "Paithani"


def test_record_fibre_and_place_are_the_fusions_priors(cat: Catalog, graph: Any) -> None:
    visual = {"PatanPatola": 0.3, "Kanchipuram": 0.4, "Banarasi": 0.3}
    pid = add(cat, 1, answer(visual))
    objects.create_object(cat, "G1", {}, [pid])
    plain = objects.fuse_object(cat, "G1", graph=graph)
    assert plain.top.tradition == "Kanchipuram" and plain.record == ()
    objects.update_object(cat, "G1", {"place_acquired": "Patan, Gujarat", "fibre": "Silk"})
    ans = objects.fuse_object(cat, "G1", graph=graph)
    assert ans.top.tradition == "PatanPatola"
    assert ans.states[0][0] == "Gujarat"
    assert any("acquired in Patan, Gujarat" in line for line in ans.record)
    objects.update_object(cat, "G1", {"place_acquired": "Atlantis", "fibre": "kevlar"})
    odd = objects.fuse_object(cat, "G1", graph=graph)
    assert odd.top.tradition == "Kanchipuram"
    assert any("'Atlantis' is not in the knowledge graph" in x for x in odd.record)
    assert any("'kevlar' is not one" in x for x in odd.record)


def test_object_without_answers_says_so(cat: Catalog) -> None:
    objects.create_object(cat, "E1")
    with pytest.raises(ObjectError, match="has no photos yet"):
        objects.fuse_object(cat, "E1")


def test_search_finds_sarees_acquired_or_made_in_a_state(cat: Catalog, graph: Any) -> None:
    a, b, c, d = (add(cat, i, answer(PLAIN)) for i in range(4))
    objects.create_object(cat, "G-1", {"place_acquired": "Patan"}, [a])
    objects.create_object(cat, "G-2", {"title": "Wedding saree"}, [b])
    cat.set_label(b, tradition="Bandhani")  # confirmed: Kutch, Gujarat
    objects.create_object(cat, "T-1", {"place_acquired": "Madurai", "source": "Mrs Rao"}, [c])
    found = {o.accession for o in objects.find_objects(cat, "gujarat", graph)}
    assert found == {"G-1", "G-2"}
    assert {o.accession for o in objects.find_objects(cat, "Tamil Nadu", graph)} == {"T-1"}
    assert {o.accession for o in objects.find_objects(cat, "rao", graph)} == {"T-1"}
    texts = objects.search_texts(cat, graph)
    assert "gujarat" in texts[a] and d not in texts


def test_confirm_labels_every_photo_of_the_object(cat: Catalog) -> None:
    ids = [add(cat, i, answer(PLAIN)) for i in range(3)]
    objects.create_object(cat, "C1", {}, ids[:2])
    assert objects.confirm_object(cat, "C1", "Paithani", note="donor's word") == ids[:2]
    assert [cat.label(p).tradition for p in ids[:2]] == ["Paithani"] * 2  # type: ignore[union-attr]
    assert cat.label(ids[2]) is None
    obj = objects.need_object(cat, "C1")
    assert objects.object_label(cat, obj) == ("Paithani", "confirmed")
    cat.set_label(ids[1], tradition="Banarasi")
    assert objects.object_label(cat, obj) == ("", None)


def test_similar_objects_count_once_and_leave_out_their_own(cat: Catalog) -> None:
    ids = [add(cat, i, answer(PLAIN)) for i in range(12)]  # embeddings: one-hot at i % 6
    objects.create_object(cat, "Q", {}, [ids[0], ids[1]])
    objects.create_object(cat, "M", {"title": "twin"}, [ids[6], ids[7]])  # same as 0 and 1
    found = objects.similar_objects(cat, "Q", k=5)
    assert found[0].accession == "M" and found[0].score == pytest.approx(1.0)
    assert found[0].title == "twin"
    assert [m.accession for m in found].count("M") == 1
    assert not {m.photo_id for m in found} & {ids[0], ids[1]}
    assert len(found) == 5


def test_export_has_a_row_per_object_with_its_record(cat: Catalog, graph: Any) -> None:
    ids = [add(cat, i, answer(PLAIN)) for i in range(3)]
    objects.create_object(
        cat,
        "X1",
        {"title": 'Blue, "fine" silk', "source": "=HYPERLINK(1)", "made_from": "1901"},
        ids[:2],
        ["whole", "border"],
    )
    objects.create_object(cat, "X2")
    rows = list(csv.DictReader(io.StringIO(objects.to_csv(cat, graph))))
    assert [r["accession"] for r in rows] == ["X1", "X2"]
    assert rows[0]["title"] == 'Blue, "fine" silk' and rows[0]["made_from"] == "1901"
    assert not rows[0]["source"].startswith("=")  # no formula reaches a spreadsheet
    assert rows[0]["roles"] == "whole border" and rows[0]["photos"] == "2"
    assert rows[0]["answer"] == "Kanchipuram silk" and rows[0]["confidence"].endswith("%")
    assert rows[1]["answer"] == "" and rows[1]["photos"] == "0"
    data = json.loads(objects.to_json(cat, graph))
    assert data[0]["photo_ids"] == ids[:2] and data[0]["likely_state"] == "Tamil Nadu"


def _photos_under(cat: Catalog, root: Path, names: list[str]) -> dict[str, int]:
    out = {}
    for i, name in enumerate(names):
        out[name] = cat.record(
            NewPhoto(str(root / name), f"{i + 100:064x}", 10),
            SHA,
            answer(PLAIN),
            top_tradition="Kanchipuram",
            top_probability=0.5,
            uncertain=False,
            embedding=None,
            part_embeddings=None,
        )
    return out


def test_import_groups_by_folder(cat: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    ids = _photos_under(cat, root, ["T1/front.jpg", "T1/border.jpg", "T2/x_pallu.jpg", "loose.jpg"])
    done = objects.group_photos(cat, root, "folder")
    assert set(done.objects) == {"T1", "T2"} and done.unmatched == ["loose.jpg"]
    t1 = objects.need_object(cat, "T1")
    assert {(m.photo_id, m.role) for m in t1.photos} == {
        (ids["T1/front.jpg"], "whole"),
        (ids["T1/border.jpg"], "border"),
    }
    assert objects.need_object(cat, "T2").photos[0].role == "pallu"
    again = objects.group_photos(cat, root, "folder")  # running it twice changes nothing
    assert again.objects == {} and len(objects.all_objects(cat)) == 2


def test_import_groups_by_pattern(cat: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    ids = _photos_under(cat, root, ["AB12_whole.jpg", "AB12_back.jpg", "AB13_border.jpg", "x.jpg"])
    done = objects.group_photos(cat, root, "pattern", r"(?P<accession>[A-Z]+\d+)_(?P<role>\w+)")
    assert sorted(done.objects) == ["AB12", "AB13"] and done.unmatched == ["x.jpg"]
    assert objects.need_object(cat, "AB12").role_of(ids["AB12_back.jpg"]) == "reverse"
    assert "3 photos grouped into 2 objects" in done.summary()
    with pytest.raises(ObjectError, match="needs a group named accession"):
        objects.group_photos(cat, root, "pattern", r"[A-Z]+\d+")
    with pytest.raises(ObjectError, match="not a regular expression"):
        objects.group_photos(cat, root, "pattern", r"(?P<accession>[A-Z")


def test_group_by_hand_moves_photos_and_numbers_new_objects(cat: Catalog) -> None:
    ids = [add(cat, i, answer(PLAIN)) for i in range(3)]
    first = objects.group(cat, ids[:2])
    assert first.accession == "OBJ-0001" and first.photo_ids == ids[:2]
    second = objects.group(cat, [ids[1], ids[2]], "2020.1")
    assert second.photo_ids == [ids[1], ids[2]]
    assert objects.need_object(cat, "OBJ-0001").photo_ids == [ids[0]]
    with pytest.raises(ObjectError, match="choose the photos"):
        objects.group(cat, [])


def test_a_file_name_naming_a_part_and_a_close_up_is_that_part() -> None:
    assert objects.guess_role("border close-up.jpg") == "border"
    assert objects.guess_role("T1_pallu_closeup.jpg") == "pallu"
    assert objects.guess_role("closeup border back.jpg") == "reverse"
    assert objects.guess_role("ACC1_closeup.jpg") == "detail"
    assert objects.guess_role("IMG_2031.jpg") == "whole"


def test_grouping_summary_counts_in_words() -> None:
    one = objects.Grouping(objects={"T1": [1]})
    assert one.summary() == "1 photo grouped into 1 object"
    two = objects.Grouping(objects={"T1": [1, 2], "T2": [3]})
    assert two.summary() == "3 photos grouped into 2 objects"


def test_the_photo_csv_names_each_photos_object(cat: Catalog, tmp_path: Path) -> None:
    from saree_app.collection.export import to_csv

    root = tmp_path / "shoot"
    ids = _photos_under(cat, root, ["AB12_whole.jpg", "AB12_border.jpg", "x.jpg"])
    objects.group_photos(cat, root, "pattern", r"(?P<accession>[A-Z]+\d+)_(?P<role>\w+)")
    table = list(csv.DictReader(io.StringIO(to_csv(cat))))
    by_id = {int(r["id"]): r["accession"] for r in table}
    assert by_id[ids["AB12_whole.jpg"]] == by_id[ids["AB12_border.jpg"]] == "AB12"
    assert by_id[ids["x.jpg"]] == ""


def test_an_object_of_a_curators_tradition_is_placed_where_they_said(
    cat: Catalog, graph: Any
) -> None:
    from saree_app.collection.traditions import CuratorTradition, add_tradition

    pid = add(cat, 1, answer({"Kotpad": 0.7, "Kanchipuram": 0.2, "Banarasi": 0.1}))
    objects.create_object(cat, "K1", {}, [pid])
    before = objects.fuse_object(cat, "K1", graph=graph)
    assert before.states[0][0] == "not in the knowledge graph"
    add_tradition(cat.path, CuratorTradition("Kotpad", "odisha", "East India", None))
    ans = objects.fuse_object(cat, "K1", graph=graph)
    assert ans.top.tradition == "Kotpad"
    assert ans.states[0][0] == "Odisha"  # the graph's name for the state typed
    assert dict(ans.states)["Odisha"] == pytest.approx(ans.top.probability)
