"""What a reviewer's walk on real photos found in the words (second walk): doubts that name
the picture's own best match say so (beside a ranking that puts another first), old stored
reasons read the same; plain words for a photo perhaps of a tradition nobody taught and for
how sure taught answers read; `saree export --format csv` names and places traditions as the
app's export does."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from saree_app.collection.catalog import Catalog, NewPhoto
from saree_app.collection.export import export
from saree_app.collection.fewshot import AnswerSets, unlike_taught
from saree_app.knowledge.words import most_of, plain_reason
from saree_app.model.openset import OpenSetRule, OpenSetSignals

LABELS = {
    "Maheshwari": "Maheshwari",
    "Chettinad": "Chettinad cotton",
    "PochampallyIkat": "Pochampally ikat",
    "Kasavu": "Kasavu",
}
NAMED = "(the ranking also weighs the knowledge graph)"
HEAD = "The parts do not back Maheshwari, the best match on the picture alone"


def _signals(**kw: object) -> OpenSetSignals:
    values: dict[str, object] = {
        "top_probability": 0.9,
        "margin": 0.8,
        "prototype_similarity": 0.9,
        "nearest_prototype": "Maheshwari",
        "saree_area": 0.7,
        "top": "Maheshwari",
        "runner_up": "Chettinad",
        "part_agreement": 0.05,
        "part_tops": (("body", "Chettinad"), ("border", "Chettinad"), ("pallu", "PochampallyIkat")),
    }
    values.update(kw)
    return OpenSetSignals(**values)  # type: ignore[arg-type]


RULE = OpenSetRule(
    thresholds={
        "top_probability": 0.5,
        "margin": 0.1,
        "prototype_similarity": 0.3,
        "saree_area": 0.1,
        "part_agreement": 0.3,
    },
    signals=("top_probability", "margin", "prototype_similarity", "saree_area", "part_agreement"),
)


# ------------------------------------------------------------ C. the picture's own best match
def test_the_parts_reason_names_the_pictures_own_best_match_not_the_answer() -> None:
    (reason,) = RULE.reasons(_signals(), LABELS)
    # Under a Chettinad cotton answer, "do not back the answer Maheshwari" read as if the app
    # had answered Maheshwari.
    assert "the answer Maheshwari" not in reason
    assert reason.startswith(
        "the parts do not back Maheshwari, the best match on the picture alone: on their own "
        "the body looks like Chettinad cotton"
    )
    said = plain_reason(reason)
    assert said.startswith(f"{HEAD} {NAMED}: on their own")
    assert said.endswith("perhaps this saree is of a tradition the model was not trained on")


def test_every_reason_naming_a_tradition_says_it_is_the_pictures() -> None:
    same = _signals(part_tops=(("body", "Chettinad"), ("border", "Chettinad")))
    (parts,) = RULE.reasons(same, LABELS)
    assert parts.endswith("not like Maheshwari, the whole saree's best match on the picture alone")
    weak = RULE.reasons(_signals(top_probability=0.3, part_agreement=0.9), LABELS)
    assert weak == ["the visual evidence is weak: on the picture alone, the best match, "
                    "Maheshwari, has only 30%"]  # fmt: skip
    tied = RULE.reasons(_signals(top_probability=0.55, margin=0.05, part_agreement=0.9), LABELS)
    assert tied == ["on the picture alone, Maheshwari and Chettinad cotton are nearly tied "
                    "(55% vs 50%)"]  # fmt: skip
    combined = OpenSetRule(
        thresholds={"top_probability": 0.0}, signals=("top_probability",),
        weights={"top_probability": 1.0}, centres={"top_probability": 0.9}, cut=1.0,
    )  # fmt: skip
    (together,) = combined.reasons(_signals(top_probability=0.4), LABELS)
    assert together.startswith("several signs are weak together: on the picture alone, best match")
    assert "backing the answer" not in together and "parts backing it 5%" in together
    # The closest prototype is said to be the closest, not the answer: as it was.
    far = RULE.reasons(_signals(prototype_similarity=0.1, part_agreement=0.9), LABELS)
    assert far and "(closest: Maheshwari, similarity 0.10" in far[0]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "the parts do not back the answer Chanderi: on their own the body looks like "
            "Chanderi, the border like Kasavu and the pallu like Jamdani (Bengal); an unusual "
            "combination, perhaps a tradition the model does not know",
            "the parts do not back Chanderi, the best match on the picture alone: on their own "
            "the body looks like Chanderi, the border like Kasavu and the pallu like Jamdani "
            "(Bengal); an unusual combination, perhaps a tradition the model does not know",
        ),
        (
            "on their own, the body and border all look like Kasavu, not like Chanderi, the "
            "whole saree's best match",
            "on their own, the body and border all look like Kasavu, not like Chanderi, the "
            "whole saree's best match on the picture alone",
        ),
        (
            "the visual evidence is weak: the best match, Paithani, has only 30%",
            "the visual evidence is weak: on the picture alone, the best match, Paithani, has "
            "only 30%",
        ),
        (
            "Jamdani (Bengal) and Kasavu are nearly tied (41% vs 38%)",
            "on the picture alone, Jamdani (Bengal) and Kasavu are nearly tied (41% vs 38%)",
        ),
        (
            "several signs are weak together: best match Kasavu at 40%, similarity to the "
            "nearest known tradition 0.52, parts backing the answer 33%",
            "several signs are weak together: on the picture alone, best match Kasavu at 40%, "
            "similarity to the nearest known tradition 0.52, parts backing it 33%",
        ),
    ],
)
def test_reasons_stored_before_read_as_the_new_ones_do(old: str, new: str) -> None:
    """Catalogues keep the reasons as they were stored: the curator reads both alike."""
    assert plain_reason(old) == plain_reason(new)
    said = plain_reason(old)
    assert "on the picture alone" in said.lower()
    assert "the answer" not in said and "the picture alone, on the picture alone" not in said


def test_the_banner_names_which_best_match_it_means() -> None:
    said = plain_reason(
        "the parts do not back the answer Maheshwari: on their own the body looks like "
        "Chettinad cotton; an unusual combination, perhaps a tradition the model does not know"
    )
    assert said.startswith(f"{HEAD} {NAMED}: on their own the body looks like Chettinad")


# ------------------------------------------------ K. a photo perhaps of an untaught tradition
OLD_UNLIKE = (
    "the photo looks less like every tradition you have taught than all but {}% of your "
    "confirmed photos look like their own: it may be a tradition you have not taught yet"
)


@pytest.mark.parametrize(
    ("share", "words"), [(0.1, "nearly all"), (0.25, "most"), (0.45, "more than half"),
                         (0.5, "about half")],
)  # fmt: skip
def test_unlike_every_taught_tradition_said_plainly(share: float, words: str) -> None:
    stored = unlike_taught(share)
    assert stored.startswith(f"{words} of your confirmed photos ({1 - share:.0%}) look more")
    said = plain_reason(stored)
    assert said == (
        f"{words[:1].upper()}{words[1:]} of your confirmed photos look more like the others of "
        "their tradition than this photo looks like any tradition you have taught: this saree "
        "may be of a tradition you have not taught yet"
    )
    # The reason as stored before reads the same.
    assert plain_reason(OLD_UNLIKE.format(round(share * 100))) == said
    assert "all but" not in said and "%" not in said


def test_most_of_in_words() -> None:
    assert [most_of(s) for s in (1.0, 0.9, 0.7, 0.55, 0.5, 0.3)] == [
        "nearly all", "nearly all", "most", "more than half", "about half", "fewer than half"
    ]  # fmt: skip


def test_how_sure_taught_answers_read_said_plainly() -> None:
    sets = AnswerSets(
        size=2, level=0.9, photos=12, coverage=0.92, single=0, single_right=0,
        spread=8.0, stated=0.4, stated_right=0.25, unlike=0.5, unlike_share=0.1,
    )  # fmt: skip
    said = sets.sureness()
    assert "claimed about 40% for their first tradition and were right 25% of the time" in said
    assert "on average" not in said and "of those" not in said
    text = sets.text()
    assert "less like every tradition" not in text
    assert (
        "flagged as perhaps of a tradition you have not taught when 90% of your confirmed "
        "photos look more like the others of their tradition than it looks like any" in text
    )


# ------------------------------------------------------------- D. the command line's CSV
def test_the_command_lines_csv_is_the_apps(tmp_path: Path) -> None:
    from saree_app.cli import main
    from saree_app.knowledge.graph import TextileGraph

    path, sha = tmp_path / "c.saree", "a" * 64
    with Catalog(path) as cat:
        for i, (top, label) in enumerate((("Banarasi", "Kanchipuram"), ("Paithani", None))):
            pid = cat.add_photo(NewPhoto(str(tmp_path / f"{i}.jpg"), f"{i:064x}", 10))
            result = {
                "tradition": top,
                "probability": 0.4,
                "uncertain": False,
                "uncertain_reasons": [],
                "ranking": [{"tradition": top, "probability": 0.4}],
            }
            cat.put_prediction(
                pid, sha, result, top_tradition=top, top_probability=0.4, uncertain=False
            )
            if label:
                cat.set_label(pid, tradition=label, certainty="confirmed")
        apps = export(cat, "csv", graph=TextileGraph.load(), model_sha256=sha)
    out = tmp_path / "cli.csv"
    assert main(["export", "--catalog", str(path), "--format", "csv", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == apps
    first = next(csv.DictReader(io.StringIO(apps)))
    assert first["model_answer"] == "Banarasi brocade"  # a name, not the id "Banarasi"
    assert first["tradition_name"] == "Kanchipuram silk"
    assert (first["tradition_state"], first["tradition_region"]) == ("Tamil Nadu", "South India")
