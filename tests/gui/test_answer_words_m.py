"""The photo page's answer for a tradition the curator added: theirs, not the graph's; the Why
list's marks agree with its words, the parts' lines included; a set of nearly every tradition
is not listed."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace
from typing import Any

import pytest

from saree_app.knowledge.fusion import FusionWeights, fuse
from saree_app.knowledge.graph import TextileGraph

MODEL = (
    "Baluchari", "Banarasi", "Bandhani", "Chanderi", "Chettinad", "Jamdani", "Kanchipuram",
    "Kasavu", "Maheshwari", "Paithani", "PatanPatola", "PochampallyIkat",
)  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> TextileGraph:
    return TextileGraph.load()


def _prediction(graph: TextileGraph, top: str, p: float, **kw: Any) -> Any:
    rest = (1.0 - p) / (len(MODEL) - 1)
    visual = {t: (p if t == top else rest) for t in MODEL}
    fused = fuse(graph, visual, kw.pop("attributes"), weights=FusionWeights(attribute_shift=2.0),
                 **kw)  # fmt: skip
    ranked = [r.tradition for r in fused.ranking]
    return SimpleNamespace(
        fused=fused,
        pieces=1,
        photo_size=(400, 300),
        uncertain=True,
        uncertain_reasons=(
            f"the best match, {fused.ranking[0].label}, is not one of the traditions the model "
            "was trained on: it is ranked from motif, weave and structure evidence in the "
            "knowledge graph only",
            "the photo looks unlike every tradition the model was trained on (closest: "
            "Chettinad cotton, similarity 0.43, usual at least 0.55); it may be a tradition "
            "the model does not know",
        ),
        parts=(
            SimpleNamespace(part="body", area=0.5, ranking=[("Chettinad", 0.72), ("Kasavu", 0.1)]),
            SimpleNamespace(part="border", area=0.2, ranking=[("Bandhani", 0.3), ("Kasavu", 0.2)]),
        ),
        attributes=(),
        visual=tuple(sorted(visual.items(), key=lambda kv: -kv[1])),
        answer_set=lambda: ranked[:20],
        is_taught=lambda: False,
        looks_unlike_training=lambda: False,
    )


def _plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_the_curators_own_tradition_is_theirs_on_the_photo_page(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.set_labeller(graph.label, lambda t: [("A source", None)] if t in graph else [])
    pred = _prediction(
        graph, "Chettinad", 0.3,
        attributes={"Flower": 0.78, "ContrastingBorder": 0.22},
        fewshot={"Dhakai Jamdani": 0.7, "Sambalpuri": 0.2},
    )  # fmt: skip
    assert pred.fused.ranking[0].tradition == "Dhakai Jamdani"
    panel.show_prediction("dhakai.jpg", pred)
    rows = {_plain(name.text()).split(" (")[0]: name for name, _bar, _pct in panel.rank_rows}
    own = rows["Dhakai Jamdani"]
    assert "(taught by you)" in own.text() and "(graph)" not in own.text()
    assert "Your own tradition" in own.toolTip()
    zero_shot = [n for n in rows.values() if "(graph)" in n.text()]
    assert zero_shot, "the graph's traditions the model does not know keep their tag"
    why = _plain(panel.explanation.text())
    # Old: "the model was not trained on Dhakai Jamdani: it is ranked from what the knowledge
    # graph says it looks like" and "▼ flower seen (78%), which Dhakai Jamdani is not known for".
    # Said as far as the likeness goes (it is relative): the most alike of the taught, not "close".
    assert "most like your confirmed photos of Dhakai Jamdani" in why
    assert "close to" not in why
    assert "what the knowledge graph says" not in why and "is not known for" not in why
    assert "■" not in why
    # Nothing of the parts: the model was not trained on the answer, so cannot compare them.
    assert "looks more like" not in why and "the body looks" not in why
    banner = _plain(panel.banner.text())
    assert "Dhakai Jamdani, is your own tradition" in banner
    assert "knowledge graph only" not in banner
    assert "this saree may be of a tradition the model was not trained on" in banner
    # A set of 20 of the traditions ranked: not listed, said not to narrow the photo down.
    head = _plain(panel.answer_set.text())
    assert head.startswith("The app cannot narrow this photo down yet: to be 90% sure")
    assert "Dhakai Jamdani" not in head
    assert "Confirming more of your photos" in panel.answer_set_how.text()


def test_every_line_of_the_why_list_has_a_mark_its_words_agree_with(qtbot, graph) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.set_labeller(graph.label)
    pred = _prediction(
        graph, "Chettinad", 0.67,
        attributes={"ZariBrocade": 0.46, "Stripes": 0.56, "Checks": 0.02,
                    "ContrastingBorder": 0.94, "StripedPallu": 0.001},
    )  # fmt: skip
    assert pred.fused.ranking[0].tradition == "Chettinad"
    panel.show_prediction("fe_saree-3.jpg", pred)
    text = panel.explanation.text().replace("<br>", "\n").replace("</div>", "\n")
    lines = _plain(text).split("\n")
    listed = [line for line in lines if line[:1] in "▲▼"]
    assert len(listed) >= 5
    assert all(line[:1] in "▲▼" for line in lines[1:] if line and not line.startswith("Sources"))
    assert "▲ the body looks like Chettinad cotton's: 72%" in listed
    assert "▼ the border looks like Bandhani's (30%), not like Chettinad cotton's" in listed
    assert "▼ some sign of zari brocade (46%), which Chettinad cotton is not known for" in listed
    assert "▲ stripes seen (56%): usual in Chettinad cotton" in listed
    assert not any("checks" in line for line in listed)  # 2%: moves the answer by a hair


def test_a_taught_answer_perhaps_of_an_untaught_tradition_says_what_its_figures_are(
    qtbot, graph
) -> None:  # type: ignore[no-untyped-def]
    from saree_app.collection.fewshot import unlike_taught
    from saree_app.gui.answer import AnswerPanel

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    panel.set_labeller(graph.label)
    pred = _prediction(
        graph, "Chettinad", 0.3, attributes={}, fewshot={"Paithani": 0.9, "Banarasi": 0.1}
    )
    pred.is_taught = lambda: True
    pred.uncertain_reasons = (unlike_taught(0.25),)
    panel.show_prediction("ilkal.jpg", pred)
    note = _plain(panel.rank_note.text())
    assert not panel.rank_note.isHidden()
    assert "share the answer among the traditions you have taught" in note
    # Confirmed by the curator, the photo's tradition is theirs: no such note.
    panel.set_confirmed("Ilkal")
    assert panel.rank_note.isHidden()
    panel.set_confirmed(None)
    assert not panel.rank_note.isHidden()
    # Not flagged so (or not taught): no such note.
    pred.uncertain_reasons = ("the model sees little evidence for any of its traditions",)
    panel.show_prediction("ilkal.jpg", pred)
    assert panel.rank_note.isHidden()
    panel.clear("No photo selected.")
    assert panel.rank_note.isHidden()
