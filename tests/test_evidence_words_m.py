"""The photo page's "Why" list, doubts and answer sets in words that agree with the figures.

A reviewer on real photos read "▼ no clear zari brocade (46%); Chettinad cotton is not known for
it anyway" (46% is above zari brocade's base rate, so it weighs against: the words said the
opposite) and "▲ perhaps checks (2%)" (2%, above a very low base rate, weighs for, by a hair).
Every attribute line is worded here from the sign of its contribution and how clearly the
attribute was seen, and checked against the shipped knowledge graph's own fusion.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from saree_app.knowledge.fusion import Evidence, FusionWeights, fuse
from saree_app.knowledge.graph import TextileGraph
from saree_app.knowledge.words import (
    NEGLIGIBLE,
    WIDE_HELP,
    answer_set_words,
    curators_own,
    evidence_line,
    part_lines,
    part_marks,
    plain_reason,
    why_lines,
)

# The twelve traditions the shipped model knows; the shipped model's attribute shift.
MODEL = (
    "Baluchari", "Banarasi", "Bandhani", "Chanderi", "Chettinad", "Jamdani", "Kanchipuram",
    "Kasavu", "Maheshwari", "Paithani", "PatanPatola", "PochampallyIkat",
)  # fmt: skip
SHIPPED = FusionWeights(attribute_shift=2.0)

# Words that say an attribute line speaks for the tradition, and words that say it is against.
FOR = (": usual in ", ": common in ", ": found now and then in ", ", as expected: ", ", as fits ")
AGAINST = (", though it is ", "has less often than most traditions")


@pytest.fixture(scope="module")
def graph() -> TextileGraph:
    return TextileGraph.load()


def _visual(top: str, p: float) -> dict[str, float]:
    rest = (1.0 - p) / (len(MODEL) - 1)
    return {t: (p if t == top else rest) for t in MODEL}


def _says_for(line: str, label: str) -> bool:
    """Which way the words of an attribute line weigh (one way only)."""
    pro = any(w in line for w in FOR)
    con = any(w in line for w in AGAINST) or (line.endswith(f", which {label} is not known for"))
    assert pro != con, line
    return pro


def _attribute_lines(graph: TextileGraph, result: Any) -> list[tuple[float, str, Evidence]]:
    out = []
    for r in result.ranking:
        for ev in r.evidence:
            if ev.kind == "attribute":
                out.append((ev.contribution, evidence_line(ev, r.label, graph.label), ev))
    return out


@pytest.mark.parametrize("weights", [SHIPPED, FusionWeights()])
@pytest.mark.parametrize("p", [0.001, 0.02, 0.1, 0.3, 0.46, 0.7, 0.97])
def test_every_attribute_line_weighs_the_way_its_mark_does(
    graph: TextileGraph, weights: FusionWeights, p: float
) -> None:
    """For every tradition of the graph and every attribute the model scores, seen clearly,
    faintly or not at all: the words say for when the contribution is for (▲), against when
    against (▼), and the strength word fits the percentage shown."""
    attrs = dict.fromkeys(graph.attributes(), p)
    result = fuse(graph, _visual("Chettinad", 0.6), attrs, weights=weights)
    lines = _attribute_lines(graph, result)
    assert len(lines) > 100
    for c, line, ev in lines:
        label = graph.label(ev.path[0])
        assert _says_for(line, label) == (c >= 0), (c, line, ev.text)
        if p >= 0.5:
            assert " seen (" in line, line
        elif p >= 0.2:
            assert "some sign of" in line or "no clear" in line, line
        else:
            assert "a faint trace of" in line or "hardly any" in line, line
        assert "perhaps" not in line and "anyway" not in line, line


def test_the_reviewers_chettinad_lines(graph: TextileGraph) -> None:
    """fe_saree-3: zari brocade at 46% weighs against Chettinad cotton, which is not known for
    it; checks at 2% weighs for it by a hair, too little to be worth a line."""
    attrs = {
        "ZariBrocade": 0.46, "Stripes": 0.56, "Checks": 0.02, "ContrastingBorder": 0.94,
        "StripedPallu": 0.001,
    }  # fmt: skip
    result = fuse(graph, _visual("Chettinad", 0.67), attrs, weights=SHIPPED)
    top = next(r for r in result.ranking if r.tradition == "Chettinad")
    by_term = {e.term: e for e in top.evidence if e.kind == "attribute"}
    zari, checks = by_term["ZariBrocade"], by_term["Checks"]
    assert zari.contribution < 0 and checks.contribution > 0
    assert evidence_line(zari, "Chettinad cotton", graph.label) == (
        "some sign of zari brocade (46%), which Chettinad cotton is not known for"
    )
    assert evidence_line(checks, "Chettinad cotton", graph.label) == (
        "a faint trace of checks (2%): common in Chettinad cotton"
    )
    assert evidence_line(by_term["StripedPallu"], "Chettinad cotton", graph.label) == (
        "hardly any striped pallu (<1%), though it is common in Chettinad cotton"
    )
    why = why_lines(top.evidence, "Chettinad cotton", graph.label)
    said = "\n".join(line for _, line in why)
    assert (-1, "some sign of zari brocade (46%), which Chettinad cotton is not known for") in why
    assert (1, "stripes seen (56%): usual in Chettinad cotton") in why
    assert abs(checks.contribution) < NEGLIGIBLE and "checks" not in said


def test_an_attribute_less_typical_of_a_tradition_than_of_most(graph: TextileGraph) -> None:
    """Baluchari is linked to a contrasting border, but less often than most traditions have
    one: seen, it weighs against Baluchari, and absent, for it; the words say why."""
    seen = fuse(graph, _visual("Baluchari", 0.6), {"ContrastingBorder": 0.94}, weights=SHIPPED)
    gone = fuse(graph, _visual("Baluchari", 0.6), {"ContrastingBorder": 1e-4})
    for result, sign, words in (
        (seen, -1, "contrasting border seen (94%), which Baluchari has less often than most "
                   "traditions"),
        (gone, 1, "hardly any contrasting border (<1%), as fits Baluchari, which has it less "
                  "often than most traditions"),
    ):  # fmt: skip
        b = next(r for r in result.ranking if r.tradition == "Baluchari")
        (ev,) = [e for e in b.evidence if e.term == "ContrastingBorder"]
        assert (ev.contribution >= 0) == (sign > 0)
        assert evidence_line(ev, "Baluchari", graph.label) == words
    # Without the fusion's words (an answer kept without them), a clearly seen one still reads
    # as seen.
    (ev,) = [e for e in next(r for r in seen.ranking if r.tradition == "Baluchari").evidence
             if e.term == "ContrastingBorder"]  # fmt: skip
    bare = Evidence(ev.kind, ev.term, ev.path, ev.typicality, ev.observed, ev.contribution, "")
    assert evidence_line(bare, "Baluchari", graph.label).startswith("contrasting border seen")


def test_what_hardly_moves_the_answer_gets_no_line_of_its_own() -> None:
    def attr(term: str, c: float, p: float = 0.9) -> Evidence:
        return Evidence("attribute", term, ("T", term), 0.02, p, c, "")

    evidence = [
        Evidence("visual", "T", ("model", "T"), None, 0.8, 1.2, ""),
        attr("Stripes", -0.3),
        attr("Ikat", -0.02),
        attr("Flower", -0.02),
        Evidence("other", "T", ("T",), None, None, -0.02, ""),
    ]
    lines = why_lines(evidence, "Tala", str)
    assert lines == [
        (1, "the whole saree looks like Tala's: 80%"),
        (-1, "Stripes seen (90%), which Tala is not known for"),
        (-1, "other details, each too small to name, together"),  # -0.06 together
    ]
    # Read at a spread of 8 (after teaching), 0.3 nats move the odds by under 4%.
    assert why_lines(evidence, "Tala", str, spread=8.0) == [
        (1, "the whole saree looks like Tala's: 80%")
    ]
    # The visual line's words follow its sign too.
    low = Evidence("visual", "T", ("model", "T"), None, 0.01, -2.0, "")
    assert evidence_line(low, "Tala", str) == "the whole saree looks like Tala's: only 1%"


def test_parts_are_marked_for_or_against_the_answer() -> None:
    parts = [
        SimpleNamespace(part="border", area=0.2, ranking=[("Paithani", 0.95), ("Banarasi", 0.03)]),
        SimpleNamespace(part="pallu", area=0.1, ranking=[("Banarasi", 0.6), ("Paithani", 0.1)]),
        SimpleNamespace(part="body", area=0.3, ranking=[("Banarasi", 0.7), ("Kasavu", 0.2)]),
    ]
    assert part_marks(parts, "Paithani", str) == [
        (1, "the border looks like Paithani's: 95%"),
        (-1, "the pallu looks more like Banarasi's (60%) than Paithani's (10%)"),
        (-1, "the body looks like Banarasi's (70%), not like Paithani's"),
    ]
    assert part_lines(parts, "Paithani", str)[0] == "the border looks like Paithani's: 95%"
    # The model was not trained on the answer: its parts cannot be compared with it.
    assert part_marks(parts, "Kotpad", str, known=False) == []


def _with_own(graph: TextileGraph) -> Any:
    """Fusion with a tradition the curator added and taught ("Dhakai Jamdani"), a flower seen."""
    return fuse(
        graph,
        _visual("Chettinad", 0.3),
        {"Flower": 0.78, "ContrastingBorder": 0.22, "Stripes": 0.9},
        fewshot={"Dhakai Jamdani": 0.6, "Sambalpuri": 0.4},
        weights=SHIPPED,
    )


def test_the_curators_own_tradition_is_not_said_to_be_the_graphs(graph: TextileGraph) -> None:
    result = _with_own(graph)
    by = {r.tradition: r for r in result.ranking}
    own = by["Dhakai Jamdani"]
    assert curators_own(own)
    assert not curators_own(by["Sambalpuri"])  # the graph's, taught: not the curator's own
    assert not curators_own(by["Chettinad"])  # the model's
    # Old words: "the model was not trained on X: it is ranked from what the knowledge graph
    # says it looks like"; "flower seen (78%), which Dhakai Jamdani is not known for".
    lines = why_lines(own.evidence, "Dhakai Jamdani", graph.label, own=True)
    said = "\n".join(line for _, line in lines)
    assert "close to the photos you confirmed as Dhakai Jamdani" in said
    assert "is not known for" not in said and "what the knowledge graph says" not in said
    assert "your own tradition" in said
    graphless = [(s, line) for s, line in lines if line.startswith("the knowledge graph has")]
    assert graphless and graphless[0][0] == -1
    assert "nothing on Dhakai Jamdani" in graphless[0][1] and "flower" in graphless[0][1]
    # The graph's own tradition the model does not know keeps its graph line.
    sambalpuri = why_lines(by["Sambalpuri"].evidence, "Sambalpuri bandha", graph.label)
    assert any("knowledge graph says it looks like" in line for _, line in sambalpuri)
    # The fusion says which traditions the graph has: only the curator's is outside it.
    assert [r.tradition for r in result.ranking if not r.in_graph] == ["Dhakai Jamdani"]


def test_doubts_speak_of_the_photo_and_of_the_figure_they_mean() -> None:
    weak = plain_reason(
        "the visual evidence is weak: the best match, Chettinad cotton, has only 67%"
    )
    assert "on the picture alone, the best match, Chettinad cotton, has only 67%" in weak
    assert "the ranking's figures also weigh the knowledge graph" in weak
    unknown = plain_reason(
        "the photo looks unlike every tradition the model was trained on (closest: Kasavu, "
        "similarity 0.43, usual at least 0.55); it may be a tradition the model does not know"
    )
    assert unknown.endswith("this saree may be of a tradition the model was not trained on")
    assert "does not know" not in unknown
    parts = plain_reason(
        "the parts do not back the answer Kanchipuram silk: on their own the body looks like "
        "Chanderi; an unusual combination, perhaps a tradition the model does not know"
    )
    assert parts.endswith("perhaps this saree is of a tradition the model was not trained on")
    untaught = plain_reason(
        "the photo looks less like every tradition you have taught than all but 25% of your "
        "confirmed photos look like their own: it may be a tradition you have not taught yet"
    )
    assert untaught.endswith("this saree may be of a tradition you have not taught yet")
    zero = (
        "the best match, Dhakai Jamdani, is not one of the traditions the model was trained "
        "on: it is ranked from motif, weave and structure evidence in the knowledge graph only"
    )
    assert "knowledge graph only" in plain_reason(zero)  # a tradition of the graph
    mine = plain_reason(zero, {"Dhakai Jamdani"})
    assert "your own tradition" in mine and "knowledge graph only" not in mine


def test_a_set_of_nearly_every_tradition_says_it_does_not_narrow_the_photo_down() -> None:
    names = [f"T{i}" for i in range(27)]
    head, how = answer_set_words(names, 0.9, calibrated_on=12, coverage=0.92, out_of=28)
    assert head == (
        "The app cannot narrow this photo down yet: to be 90% sure, it must still name 27 of "
        "the 28 traditions"
    )
    assert "T0" not in head and "Could be any" not in head
    assert how.startswith("Checked on 12 of your confirmed photos") and "92%" in how
    assert how.endswith(WIDE_HELP) and "Confirming more of your photos" in how
    assert "all 28 traditions" in answer_set_words([*names, "X"], 0.9, out_of=28)[0]
    # Without a level claimed, none is claimed here either.
    head, how = answer_set_words(names[:16], 0.9, unlike_training=True, out_of=28)
    assert head == (
        "The app cannot narrow this photo down yet: 16 of the 28 traditions remain — no level "
        "claimed for this photo"
    )
    assert "90% sure" not in head and how.endswith(WIDE_HELP)
    head, _ = answer_set_words(names[:20], 0.9, taught_from=6, out_of=28)
    assert head.endswith("20 of the 28 traditions remain — from your teaching, not yet checked")
    # A set of half of them or fewer is still listed; so is one whose share is not known.
    assert answer_set_words(names[:14], 0.9, out_of=28)[0].startswith("Could be any of 14")
    assert answer_set_words(names, 0.9)[0].startswith("Could be any of 27")
    assert answer_set_words(["A", "B", "C"], 0.9, out_of=4)[0] == (
        "A, B or C — 90% sure it is one of these"
    )


def _prediction(n_ranked: int, members: list[str]) -> Any:
    ranking = tuple(SimpleNamespace(tradition=f"T{i}") for i in range(n_ranked))
    return SimpleNamespace(
        fused=SimpleNamespace(ranking=ranking),
        answer_set=lambda: members,
        is_taught=lambda: False,
        looks_unlike_training=lambda: False,
    )


def test_the_photo_page_and_the_export_say_it_alike() -> None:
    from saree_app.collection.export import _answer_set_words
    from saree_app.collection.fewshot import set_words

    members = [f"T{i}" for i in range(20)]
    head, how = set_words(_prediction(28, members), str, None)
    assert head.startswith("The app cannot narrow this photo down yet: to be 90% sure")
    assert "20 of the 28 traditions" in head and WIDE_HELP in how
    head, _ = set_words(_prediction(60, members), str, None)
    assert head.startswith("Could be any of 20 traditions")

    graph = SimpleNamespace(label=str)
    found = {"traditions": [f"T{i}" for i in range(26)] + ["Kotpad"], "level": 0.9,
             "calibrated_on": 12}  # fmt: skip
    # The answer ranked 28 traditions (the graph's 27 and the curator's own): the set of 27
    # does not narrow it down. Said so with the graph or without (`saree export` has none).
    cell = _answer_set_words(graph, found, 28)
    assert _answer_set_words(None, found, 28) == cell
    assert cell == (
        "Not narrowed down yet: 27 of the 28 traditions (90%, calibrated on 12 of your "
        "confirmed photos); confirming more of your photos, of more traditions, would narrow it"
    )
    assert "T0" not in cell
    few = {"traditions": ["T1", "T2"], "level": 0.9, "calibrated_on": 12}
    assert _answer_set_words(graph, few, 28) == (
        "T1 or T2 (90%, calibrated on 12 of your confirmed photos)"
    )
