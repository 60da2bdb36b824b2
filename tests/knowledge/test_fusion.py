"""Fusion: the arithmetic by hand on a tiny graph, explanations, zero-shot, roll-ups, fitting."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from saree_app.knowledge.fusion import (
    DEFAULT_WEIGHTS,
    CuratorMetadata,
    FusionSample,
    FusionWeights,
    fit_fusion_weights,
    fuse,
    log_likelihood,
)
from saree_app.knowledge.graph import TextileGraph


def exact(**changes: float) -> FusionWeights:
    """Weights for hand computation: no tempering, no recalibration, the doubt share."""
    base = {
        "visual": 1.0, "attribute": 1.0, "background": 0.1, "unknown": 0.5, "doubt": 1.0,
        "attribute_scale": 1.0, "attribute_shift": 0.0,
    }  # fmt: skip
    return FusionWeights(**{**base, **changes})


W = exact()


@pytest.fixture
def tiny(tiny_dir: Path) -> TextileGraph:
    return TextileGraph.load(tiny_dir)


@pytest.fixture(scope="module")
def kg() -> TextileGraph:
    return TextileGraph.load()


def _by_id(result, t):  # type: ignore[no-untyped-def]
    return next(r for r in result.ranking if r.tradition == t)


def test_scores_match_hand_computation(tiny: TextileGraph) -> None:
    res = fuse(tiny, {"Alpha": 0.6, "Beta": 0.4}, {"TempleBorder": 0.9}, weights=W)
    # Typicality of TempleBorder: Alpha 0.8, Beta and Gamma the background 0.1, so its base
    # rate is (0.8 + 0.1 + 0.1) / 3 = 1/3; p = 0.9; two traditions known to the model.
    pi = 1 / 3
    lr_alpha = 0.8 * 0.9 / pi + 0.2 * 0.1 / (1 - pi)  # 2.19
    lr_other = 0.1 * 0.9 / pi + 0.9 * 0.1 / (1 - pi)  # 0.405
    expected = {
        "Alpha": math.log(2 * 0.6) + math.log(lr_alpha),
        "Beta": math.log(2 * 0.4) + math.log(lr_other),
        # Gamma: unknown to the model, gets u = 0.5 of the doubt 1 - 0.6, alone among unknowns
        "Gamma": math.log(2 * 0.5 * 0.4 / 1) + math.log(lr_other),
    }
    for t, score in expected.items():
        assert _by_id(res, t).score == pytest.approx(score, abs=1e-9)
    z = sum(math.exp(s) for s in expected.values())
    for t, score in expected.items():
        assert _by_id(res, t).probability == pytest.approx(math.exp(score) / z, abs=1e-9)
    assert [r.tradition for r in res.ranking] == ["Alpha", "Beta", "Gamma"]
    assert _by_id(res, "Gamma").known_to_model is False
    assert _by_id(res, "Alpha").known_to_model is True


def test_weights_temper_each_term(tiny: TextileGraph) -> None:
    w = exact(visual=0.5, attribute=2.0)
    res = fuse(tiny, {"Alpha": 0.6, "Beta": 0.4}, {"TempleBorder": 0.9}, weights=w)
    lr_alpha = 0.8 * 0.9 * 3 + 0.2 * 0.1 * 1.5
    assert _by_id(res, "Alpha").score == pytest.approx(
        0.5 * math.log(1.2) + 2.0 * math.log(lr_alpha), abs=1e-9
    )


def test_calibration_and_flat_unknown_prior_by_hand(tiny: TextileGraph) -> None:
    w = exact(doubt=0.0, attribute_scale=2.0, attribute_shift=-1.0)
    res = fuse(tiny, {"Alpha": 0.6, "Beta": 0.4}, {"TempleBorder": 0.9}, weights=w)
    p = 1 / (1 + math.exp(-(2.0 * math.log(0.9 / 0.1) - 1.0)))  # recalibrated detector
    pi = 1 / 3
    lr_other = 0.1 * p / pi + 0.9 * (1 - p) / (1 - pi)
    # Gamma: a flat prior u / n_unknown, whatever the model's doubt, times n known.
    expected_gamma = math.log(2 * 0.5 / 1) + math.log(lr_other)
    assert _by_id(res, "Gamma").score == pytest.approx(expected_gamma, abs=1e-9)
    gamma_visual = _by_id(res, "Gamma").evidence[0]
    assert "prior for traditions it was not trained on" in gamma_visual.text
    temple = next(e for e in _by_id(res, "Alpha").evidence if e.term == "TempleBorder")
    assert temple.observed == 0.9 and f"calibrated {p:.2f}" in temple.text


def test_evidence_sums_to_score_and_reads_naturally(tiny: TextileGraph) -> None:
    res = fuse(tiny, {"Alpha": 0.6, "Beta": 0.4}, {"TempleBorder": 0.9, "Peacock": 0.02}, weights=W)
    for r in res.ranking:
        assert sum(e.contribution for e in r.evidence) == pytest.approx(r.score, abs=1e-9)
    alpha = _by_id(res, "Alpha")
    temple = next(e for e in alpha.evidence if e.term == "TempleBorder")
    assert temple.path == ("Alpha", "hasAttribute", "TempleBorder")
    assert temple.typicality == 0.8 and temple.observed == 0.9
    lr = 0.8 * 0.9 * 3 + 0.2 * 0.1 * 1.5
    assert temple.text == (
        f"Alpha -> has motif -> temple border (typicality 0.80); seen with p = 0.90: "
        f"+{math.log(lr):.2f}"
    )
    peacock = next(e for e in alpha.evidence if e.term == "Peacock")
    assert peacock.contribution < 0 and "not seen (p = 0.02)" in peacock.text
    beta = _by_id(res, "Beta")
    unlisted = next(e for e in beta.evidence if e.term == "TempleBorder")
    assert unlisted.contribution < 0
    assert unlisted.text.startswith("Beta is not known for temple border (typicality 0.10")
    visual = alpha.evidence[0]
    assert visual.kind == "visual" and "p = 0.60" in visual.text
    gamma_visual = _by_id(res, "Gamma").evidence[0]
    assert "not known to the model" in gamma_visual.text


def test_hierarchy_paths(tiny: TextileGraph) -> None:
    # Gamma links double ikat; a detector for ikat counts for it with full typicality.
    res = fuse(tiny, {}, {"Ikat": 0.9}, weights=W)
    gamma = next(e for e in _by_id(res, "Gamma").evidence if e.term == "Ikat")
    assert gamma.path == ("Gamma", "hasAttribute", "DoubleIkat", "broader", "Ikat")
    assert gamma.typicality == 0.9
    assert "double ikat, a kind of ikat" in gamma.text
    # Beta links ikat (typicality 0.4); a double-ikat detector counts at half of it.
    res = fuse(tiny, {}, {"DoubleIkat": 0.9}, weights=W)
    beta = next(e for e in _by_id(res, "Beta").evidence if e.term == "DoubleIkat")
    assert beta.path == ("Beta", "hasAttribute", "Ikat", "narrower", "DoubleIkat")
    assert beta.typicality == pytest.approx(0.2)
    assert res.ranking[0].tradition == "Gamma"


def test_narrower_detector_is_not_counted_twice(tiny: TextileGraph) -> None:
    # Gamma links double ikat. When the model scores double ikat itself, the ikat detector
    # adds nothing for Gamma (neutral), however low it is.
    both = fuse(tiny, {}, {"Ikat": 0.01, "DoubleIkat": 0.9}, weights=W)
    only = fuse(tiny, {}, {"DoubleIkat": 0.9}, weights=W)
    assert not any(e.term == "Ikat" for e in _by_id(both, "Gamma").evidence if e.kind != "other")
    assert _by_id(both, "Gamma").score == pytest.approx(_by_id(only, "Gamma").score, abs=1e-9)


def test_no_model_ranks_from_attributes_alone(tiny: TextileGraph) -> None:
    res = fuse(tiny, {}, {"ZariBrocade": 0.95, "Paisley": 0.8, "TempleBorder": 0.05}, weights=W)
    assert res.ranking[0].tradition == "Beta"
    assert not any(r.known_to_model for r in res.ranking)
    assert all(e.kind != "visual" for r in res.ranking for e in r.evidence)


def test_attributes_unknown_to_graph_are_ignored(tiny: TextileGraph) -> None:
    a = fuse(tiny, {"Alpha": 0.5, "Beta": 0.5}, {"TempleBorder": 0.9}, weights=W)
    b = fuse(tiny, {"Alpha": 0.5, "Beta": 0.5}, {"TempleBorder": 0.9, "Glitter": 0.99}, weights=W)
    assert [r.score for r in a.ranking] == [r.score for r in b.ranking]


def test_fibre_metadata(tiny: TextileGraph) -> None:
    w = exact(fibre=1.5)
    visual = {"Alpha": 0.5, "Beta": 0.5}
    base = fuse(tiny, visual, {}, weights=w)
    res = fuse(tiny, visual, {}, metadata=CuratorMetadata(fibre="cotton"), weights=w)
    # Alpha and Beta are silk, Gamma cotton.
    for t, penalty in (("Alpha", -1.5), ("Beta", -1.5), ("Gamma", 0.0)):
        assert _by_id(res, t).score == pytest.approx(_by_id(base, t).score + penalty, abs=1e-9)
    silk = fuse(tiny, visual, {}, metadata=CuratorMetadata(fibre="muga silk"), weights=w)
    assert _by_id(silk, "Alpha").score == pytest.approx(_by_id(base, "Alpha").score)
    near = fuse(tiny, visual, {}, metadata=CuratorMetadata(fibre="SilkCotton"), weights=w)
    assert _by_id(near, "Gamma").score == pytest.approx(_by_id(base, "Gamma").score - 0.75)


def test_region_metadata_steps_through_the_hierarchy(tiny: TextileGraph) -> None:
    w = FusionWeights(region=1.0)
    base = fuse(tiny, {}, {}, weights=w)
    # Alpha: Kanchipuram, Tamil Nadu, South India; Beta: Varanasi, Uttar Pradesh, Central
    # India; Gamma: Patan, Gujarat, West India.
    for region, steps in (
        ("Tamil Nadu", {"Alpha": 0, "Beta": 2, "Gamma": 2}),
        ("KanchipuramTown", {"Alpha": 0, "Beta": 3, "Gamma": 3}),
        ("South India", {"Alpha": 0, "Beta": 1, "Gamma": 1}),
    ):
        res = fuse(tiny, {}, {}, metadata=CuratorMetadata(region=region), weights=w)
        for t, n in steps.items():
            assert _by_id(res, t).score == pytest.approx(_by_id(base, t).score - n), (region, t)
    res = fuse(tiny, {}, {}, metadata=CuratorMetadata(region="Tamil Nadu"), weights=w)
    ev = next(e for e in _by_id(res, "Alpha").evidence if e.kind == "region")
    assert ev.path == ("Alpha", "region", "KanchipuramTown", "partOf", "TamilNadu")
    assert "acquired in Tamil Nadu" in ev.text


def test_bad_metadata_and_scores_raise_clear_errors(tiny: TextileGraph) -> None:
    with pytest.raises(ValueError, match="unknown fibre 'wool'"):
        fuse(tiny, {}, {}, metadata=CuratorMetadata(fibre="wool"))
    with pytest.raises(ValueError, match="unknown region 'Atlantis'"):
        fuse(tiny, {}, {}, metadata=CuratorMetadata(region="Atlantis"))
    with pytest.raises(ValueError, match="not a finite number"):
        fuse(tiny, {"Alpha": float("nan")}, {})


def test_fewshot_and_curator_made_traditions(tiny: TextileGraph) -> None:
    w = FusionWeights(fewshot=4.0, fewshot_ref=0.5)
    base = fuse(tiny, {"Alpha": 0.5, "Beta": 0.5}, {}, weights=w)
    res = fuse(
        tiny, {"Alpha": 0.5, "Beta": 0.5}, {}, fewshot={"Beta": 0.9, "MyWeave": 0.95}, weights=w
    )
    assert _by_id(res, "Beta").score == pytest.approx(_by_id(base, "Beta").score + 4.0 * 0.4)
    mine = _by_id(res, "MyWeave")
    assert mine.label == "MyWeave" and not mine.known_to_model
    assert any(e.kind == "fewshot" and "0.95" in e.text for e in mine.evidence)
    unplaced = [s for s in res.states if s.region == ""]
    assert unplaced and unplaced[0].probability == pytest.approx(mine.probability)


def test_spread_reads_scores_further_apart_and_keeps_their_order(tiny: TextileGraph) -> None:
    """After teaching, probabilities are softmax(score / spread): the ranking, the scores and
    the evidence are the same; only how sure each answer reads changes."""
    visual = {"Alpha": 0.7, "Beta": 0.3}
    sims = {"Beta": 0.9, "MyWeave": 0.2}
    plain = fuse(tiny, visual, {}, fewshot=sims, weights=FusionWeights(fewshot=40.0))
    spread = fuse(tiny, visual, {}, fewshot=sims, weights=FusionWeights(fewshot=40.0, spread=4.0))
    assert [r.tradition for r in spread.ranking] == [r.tradition for r in plain.ranking]
    scores = np.array([r.score for r in plain.ranking])
    assert [r.score for r in spread.ranking] == pytest.approx(list(scores))
    want = np.exp(scores / 4.0 - (scores / 4.0).max())
    assert [r.probability for r in spread.ranking] == pytest.approx(list(want / want.sum()))
    assert plain.ranking[0].probability > spread.ranking[0].probability > 0.5
    assert sum(s.probability for s in spread.states) == pytest.approx(1.0)


def test_rollups_sum_to_one_and_match_traditions(kg: TextileGraph) -> None:
    rng = np.random.default_rng(0)
    known = kg.traditions()[:12]
    p = rng.dirichlet(np.ones(len(known)))
    attrs = {a: float(rng.random()) for a in kg.attributes()[:30]}
    res = fuse(kg, dict(zip(known, p, strict=True)), attrs)
    assert len(res.ranking) == len(kg.traditions())
    assert sum(r.probability for r in res.ranking) == pytest.approx(1.0)
    assert sum(s.probability for s in res.states) == pytest.approx(1.0)
    assert sum(s.probability for s in res.cultural_regions) == pytest.approx(1.0)
    tn = next(s for s in res.states if s.region == "TamilNadu")
    in_tn = [r.probability for r in res.ranking if kg.state_of(r.tradition) == "TamilNadu"]
    assert tn.probability == pytest.approx(sum(in_tn))
    assert {s.level for s in res.states} == {"state"}
    assert {s.level for s in res.cultural_regions} == {"cultural_region"}
    probs = [s.probability for s in res.cultural_regions]
    assert probs == sorted(probs, reverse=True)


def test_zero_shot_tradition_with_matching_attributes_rises_to_the_top(kg: TextileGraph) -> None:
    # A model that knows 12 traditions, not Gadwal, and is unsure; the detectors see Gadwal's
    # kupadam join, temple border and contrasting border.
    known = [
        "Kanchipuram", "Banarasi", "Paithani", "PochampallyIkat", "PatanPatola", "Bandhani",
        "Chanderi", "Maheshwari", "Baluchari", "Sambalpuri", "Jamdani", "Kasavu",
    ]  # fmt: skip
    visual = dict.fromkeys(known, 1 / 12)
    gadwal = kg.attributes_of("Gadwal")
    attrs = {a: (0.9 if gadwal.get(a, 0) >= 0.7 else 0.05) for a in kg.attributes()}
    res = fuse(kg, visual, attrs)
    assert res.ranking[0].tradition == "Gadwal"
    assert res.ranking[0].known_to_model is False
    telangana = next(s for s in res.states if s.region == "Telangana")
    assert telangana.probability >= res.ranking[0].probability  # Gadwal's state holds its mass
    # The same photo without attribute evidence: nothing singles Gadwal out among the
    # traditions the model does not know.
    plain = fuse(kg, visual, {})
    assert plain.probability("Gadwal") == pytest.approx(plain.probability("Bomkai"))
    assert plain.probability("Gadwal") < res.probability("Gadwal") / 2


def test_weights_round_trip_and_reject_bad_values() -> None:
    w = FusionWeights(visual=0.8, attribute=0.3, fitted={"samples": 10})
    d = json.loads(json.dumps(w.to_dict()))
    assert d["rule"].startswith("naive-bayes")
    back = FusionWeights.from_dict(d)
    assert back == w and back.fitted == {"samples": 10}
    assert FusionWeights.from_dict({}) == DEFAULT_WEIGHTS
    for bad in ({"visual": "high"}, {"attribute": -1}, {"background": 1.5}, {"unknown": 0},
                {"visual": float("nan")}, {"fewshot": True}, {"attribute_scale": 0},
                {"doubt": -1}, {"spread": 0}):  # fmt: skip
        with pytest.raises(ValueError):
            FusionWeights.from_dict(bad)
    with pytest.raises(ValueError):
        FusionWeights.from_dict([1, 2])  # type: ignore[arg-type]


def _samples(graph: TextileGraph, n: int, seed: int, informative: bool) -> list[FusionSample]:
    """Fake model outputs: a noisy visual classifier over Alpha/Beta and attribute detectors
    that fire on the true tradition's attributes (or at random)."""
    rng = np.random.default_rng(seed)
    attrs = ["TempleBorder", "Peacock", "ContrastingBorder", "ZariBrocade", "Paisley", "Ikat",
             "DoubleIkat", "Elephant", "Parrot"]  # fmt: skip
    out = []
    for k in range(n):
        t = ["Alpha", "Beta", "Gamma"][k % 3]
        logits = rng.normal(0, 1.0, 2)
        if t != "Gamma":
            logits[["Alpha", "Beta"].index(t)] += 0.7
        p = np.exp(logits) / np.exp(logits).sum()
        typ = graph.attributes_of(t)
        if informative:
            probs = {
                a: float(np.clip((0.85 if rng.random() < typ.get(a, 0.05) else 0.1)
                                 + rng.normal(0, 0.05), 0.01, 0.99))
                for a in attrs
            }  # fmt: skip
        else:
            probs = {a: float(rng.random()) for a in attrs}
        out.append(FusionSample(t, {"Alpha": float(p[0]), "Beta": float(p[1])}, probs))
    return out


def test_fit_improves_likelihood_and_matches_fuse(tiny: TextileGraph) -> None:
    train = _samples(tiny, 90, 1, informative=True)
    test = _samples(tiny, 60, 2, informative=True)
    w = fit_fusion_weights(train, tiny, ["Alpha", "Beta"], objective="likelihood")
    assert w.attribute > 0
    assert w.fitted["samples"] == 90 and w.fitted["samples_unknown_to_model"] == 30
    assert w.fitted["log_likelihood"] >= w.fitted["log_likelihood_start"]
    # The vectorised objective used for fitting equals the one computed through fuse().
    assert log_likelihood(train, tiny, w) == pytest.approx(w.fitted["log_likelihood"], abs=1e-3)
    visual_only = FusionWeights(attribute=0.0)
    assert log_likelihood(test, tiny, w) > log_likelihood(test, tiny, visual_only)


def test_balanced_objective_favours_traditions_unknown_to_the_model(tiny: TextileGraph) -> None:
    train = _samples(tiny, 90, 4, informative=True)
    test = [s for s in _samples(tiny, 90, 5, informative=True) if s.tradition == "Gamma"]
    plain = fit_fusion_weights(train, tiny, ["Alpha", "Beta"], objective="likelihood")
    balanced = fit_fusion_weights(train, tiny, ["Alpha", "Beta"])
    assert balanced.fitted["objective"] == "balanced"
    assert log_likelihood(test, tiny, balanced) >= log_likelihood(test, tiny, plain)
    with pytest.raises(ValueError, match="objective"):
        fit_fusion_weights(train, tiny, ["Alpha"], objective="accuracy")


def test_fit_turns_noise_attributes_down(tiny: TextileGraph) -> None:
    noisy = fit_fusion_weights(_samples(tiny, 90, 3, informative=False), tiny, ["Alpha", "Beta"])
    useful = fit_fusion_weights(_samples(tiny, 90, 3, informative=True), tiny, ["Alpha", "Beta"])
    assert noisy.attribute < useful.attribute
    for w in (noisy, useful):
        # Never bought with a loss of top-1 on traditions the model knows.
        assert w.fitted["top1_known"] >= w.fitted["top1_known_visual_only"]
    assert 0.3 < noisy.fitted["top1_known_visual_only"] < 1.0


def test_fit_needs_samples(tiny: TextileGraph) -> None:
    with pytest.raises(ValueError, match="no samples"):
        fit_fusion_weights([], tiny, ["Alpha"])


def _by_kind(evidence) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    for e in evidence:
        out[e.kind] = out.get(e.kind, 0.0) + e.contribution
    return out


def test_unexplained_fusion_keeps_every_figure_and_each_kinds_sum(kg: TextileGraph) -> None:
    """Re-ranking a collection fuses without words: the same ranking, scores and the evidence
    summed by kind (what the catalogue keeps), with no text made."""
    rng = np.random.default_rng(3)
    attrs = sorted(kg.attributes())[:30]
    traditions = sorted(kg.traditions())[:8]
    for _ in range(5):
        visual = dict(zip(traditions, rng.dirichlet(np.ones(len(traditions))), strict=True))
        attributes = {
            a: float(p) for a, p in zip(attrs, rng.uniform(0, 1, len(attrs)), strict=True)
        }
        fewshot = {traditions[0]: 0.7, "MyWeave": 0.55}
        meta = CuratorMetadata(fibre="Silk")
        full = fuse(kg, visual, attributes, fewshot=fewshot, metadata=meta)
        bare = fuse(kg, visual, attributes, fewshot=fewshot, metadata=meta, explain=False)
        assert [r.tradition for r in bare.ranking] == [r.tradition for r in full.ranking]
        for a, b in zip(full.ranking, bare.ranking, strict=True):
            assert b.score == pytest.approx(a.score, abs=1e-9)
            assert b.probability == pytest.approx(a.probability, abs=1e-12)
            kinds_a, kinds_b = _by_kind(a.evidence), _by_kind(b.evidence)
            assert list(kinds_b) == list(kinds_a)  # the same kinds, in the same order
            for kind, total in kinds_a.items():
                assert kinds_b[kind] == pytest.approx(total, abs=1e-9)
            assert all(
                e.text == "" for e in b.evidence if e.kind in ("attribute", "other", "fewshot")
            )
        assert [s.region for s in bare.states] == [s.region for s in full.states]
        assert any("attribute" in _by_kind(r.evidence) for r in bare.ranking)


def test_attribute_order_does_not_change_the_answer_or_remake_the_table(tiny: TextileGraph) -> None:
    """Stored answers list attributes by probability, each in its own order: the graph's
    table for them is made once (it was made again for every photo) and the answer is the
    same whatever the order."""
    from saree_app.knowledge import fusion

    fusion._TABLES.pop(tiny, None)
    attributes = {"TempleBorder": 0.9, "Peacock": 0.02, "ZariBrocade": 0.4}
    first = fuse(tiny, {"Alpha": 0.6, "Beta": 0.4}, attributes, weights=W)
    again = fuse(tiny, {"Alpha": 0.6, "Beta": 0.4}, dict(reversed(attributes.items())), weights=W)
    assert len(fusion._TABLES[tiny]) == 1
    for a, b in zip(first.ranking, again.ranking, strict=True):
        assert (a.tradition, a.score) == (b.tradition, pytest.approx(b.score, abs=1e-12))
        assert sorted(e.text for e in a.evidence) == sorted(e.text for e in b.evidence)


def test_a_curators_tradition_counts_towards_the_place_they_typed(kg: TextileGraph) -> None:
    known = kg.traditions()[:12]
    visual = dict.fromkeys(known, 1.0 / len(known))
    taught = {"Kotpad": 0.9, "Dhakai": 0.9, "Nameless": 0.9, known[0]: 0.2}
    places = {
        "Kotpad": ("odisha", "East India"),  # the graph's Odisha, typed in another case
        "Dhakai": ("Dhaka Division", "Bangladesh"),  # a place the graph does not have
        "Nameless": (None, None),
    }
    weights = FusionWeights(fewshot=8.0)
    res = fuse(kg, visual, {}, fewshot=taught, weights=weights, places=places)
    plain = fuse(kg, visual, {}, fewshot=taught, weights=weights)
    prob = {r.tradition: r.probability for r in res.ranking}
    by_label = {s.label: s for s in res.states}
    in_odisha = sum(p for t, p in prob.items() if t in kg and kg.state_of(t) == "Odisha")
    assert by_label["Odisha"].region == "Odisha"
    assert by_label["Odisha"].probability == pytest.approx(in_odisha + prob["Kotpad"])
    assert by_label["Dhaka Division"].probability == pytest.approx(prob["Dhakai"])
    assert by_label["Dhaka Division"].region.startswith("typed:")
    assert by_label["not in the knowledge graph"].probability == pytest.approx(prob["Nameless"])
    regions = {s.label: s.probability for s in res.cultural_regions}
    assert regions["Bangladesh"] == pytest.approx(prob["Dhakai"])
    assert sum(s.probability for s in res.states) == pytest.approx(1.0)
    # Without the places, all three count as not in the graph, as before; the ranking is the same.
    unplaced = next(s for s in plain.states if s.region == "")
    assert unplaced.probability == pytest.approx(prob["Kotpad"] + prob["Dhakai"] + prob["Nameless"])
    assert [r.tradition for r in plain.ranking] == [r.tradition for r in res.ranking]
