"""Open-set signals, rule, calibration and AUROC arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from saree_app.model.openset import (
    OpenSetRule,
    OpenSetSignals,
    auroc,
    calibrate,
    calibrate_combined,
    compute_signals,
    normalised_prototypes,
)


def _signals(p1: float, margin: float, sim: float, area: float) -> OpenSetSignals:
    return OpenSetSignals(p1, margin, sim, "Kanchipuram", area, "Kanchipuram", "Banarasi")


def test_auroc_matches_pairwise_counting() -> None:
    rng = np.random.default_rng(1)
    neg = rng.normal(0, 1, 40).round(1)  # rounding makes ties
    pos = rng.normal(0.7, 1, 30).round(1)
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for n, p in itertools.product(neg, pos)]
    assert auroc(neg, pos) == pytest.approx(np.mean(pairs))
    assert auroc([0, 1], [2, 3]) == 1.0
    assert auroc([2, 3], [0, 1]) == 0.0
    assert auroc([1, 1], [1]) == 0.5


def test_signals_from_outputs() -> None:
    probs = np.array([0.1, 0.6, 0.3])
    protos = normalised_prototypes([[1, 0], [0, 2], [1, 1]])
    s = compute_signals(("A", "B", "C"), probs, np.array([0.0, 3.0]), protos, 0.8)
    assert s.top == "B"
    assert s.runner_up == "C"
    assert s.margin == pytest.approx(0.3)
    assert s.prototype_similarity == pytest.approx(1.0)
    assert s.nearest_prototype == "B"


def test_rule_fires_exactly_when_novelty_is_positive() -> None:
    rule = OpenSetRule(
        thresholds={
            "top_probability": 0.5,
            "margin": 0.1,
            "prototype_similarity": 0.6,
            "saree_area": 0.2,
        },
        scales=dict.fromkeys(
            ("top_probability", "margin", "prototype_similarity", "saree_area"), 0.1
        ),
    )
    confident = _signals(0.9, 0.8, 0.9, 0.7)
    assert rule.reasons(confident) == []
    assert rule.novelty(confident) < 0
    not_saree = _signals(0.9, 0.8, 0.9, 0.05)
    assert any("saree cloth" in r for r in rule.reasons(not_saree))
    assert rule.novelty(not_saree) > 0
    far = _signals(0.9, 0.8, 0.2, 0.7)
    assert any("unlike every tradition" in r for r in rule.reasons(far))
    tied = _signals(0.55, 0.05, 0.9, 0.7)
    assert any("nearly tied" in r for r in rule.reasons(tied))
    weak = _signals(0.3, 0.05, 0.9, 0.7)
    assert any("weak" in r for r in rule.reasons(weak))


def test_calibration_hits_the_false_alarm_rate_and_separates() -> None:
    rng = np.random.default_rng(0)
    known = [
        _signals(
            rng.uniform(0.6, 1), rng.uniform(0.3, 0.9), rng.uniform(0.6, 1), rng.uniform(0.4, 0.9)
        )
        for _ in range(400)
    ]
    unknown = [
        _signals(
            rng.uniform(0.2, 0.7), rng.uniform(0, 0.4), rng.uniform(0.1, 0.7), rng.uniform(0, 0.5)
        )
        for _ in range(200)
    ]
    rule = calibrate(known, false_alarm=0.10)
    flagged = np.mean([rule.novelty(s) > 0 for s in known])
    assert 0.07 <= flagged <= 0.10
    score = auroc([rule.novelty(s) for s in known], [rule.novelty(s) for s in unknown])
    assert score > 0.9
    again = OpenSetRule.from_manifest(
        {"thresholds": dict(rule.thresholds), "scales": dict(rule.scales)}
    )
    assert again.calibrated
    assert again.thresholds == rule.thresholds


def test_uncalibrated_rule_uses_training_quantiles() -> None:
    training = {
        "known_quantiles": {
            "max_prob_quantiles": {"0.01": 0.33, "0.05": 0.5},
            "prototype_cosine_quantiles": {"0.01": 0.61},
        }
    }
    rule = OpenSetRule.from_manifest({}, training)
    assert not rule.calibrated
    assert rule.thresholds["top_probability"] == 0.33
    assert rule.thresholds["prototype_similarity"] == 0.61
    calibrated = OpenSetRule.from_manifest({"thresholds": {"top_probability": 0.2}}, training)
    assert calibrated.thresholds["top_probability"] == 0.2


def test_part_agreement_and_energy() -> None:
    labels = ("A", "B", "C")
    probs = np.array([0.7, 0.2, 0.1])
    agree = np.array([[0.8, 0.1, 0.1], [0.9, 0.05, 0.05], [0.6, 0.2, 0.2]])
    clash = np.array([[0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])
    areas = [0.5, 0.3, 0.0]  # no pallu in view: it gets no say
    a = compute_signals(labels, probs, np.ones(2), None, 0.9, part_probs=agree, part_areas=areas)
    c = compute_signals(labels, probs, np.ones(2), None, 0.9, part_probs=clash, part_areas=areas)
    assert a.part_agreement == pytest.approx((0.5 * 0.8 + 0.3 * 0.9) / 0.8)
    assert c.part_agreement == pytest.approx((0.5 * 0.1 + 0.3 * 0.9) / 0.8)
    assert c.part_tops == (("body", "B"), ("border", "A"))  # no pallu in view
    rule = OpenSetRule(
        thresholds={"part_agreement": 0.6, "energy": 1.0},
        signals=("part_agreement", "energy"),
    )
    assert rule.reasons(a) == []
    assert any("the body looks like B and the border like A" in r for r in rule.reasons(c))
    # No part in view at all: the number weighs the three alike, the words speak of none.
    none = compute_signals(
        labels, probs, np.ones(2), None, 0.9, part_probs=clash, part_areas=[0.0, 0.0, 0.0]
    )
    assert none.part_agreement == pytest.approx((0.1 + 0.9 + 0.1) / 3)
    assert none.part_tops == ()
    assert not any("parts" in r or "on their own" in r for r in rule.reasons(none))
    same = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]])
    s = compute_signals(labels, probs, np.ones(2), None, 0.9, part_probs=same, part_areas=areas)
    assert any("body and border all look like B, not like A" in r for r in rule.reasons(s))
    low = compute_signals(labels, probs, np.ones(2), None, 0.9, logits=np.array([-3.0, -4.0, -5.0]))
    assert low.energy == pytest.approx(np.log(np.exp([-3.0, -4.0, -5.0]).sum()))
    assert any("little evidence" in r for r in rule.reasons(low))


def test_combined_rule_learns_which_signal_matters() -> None:
    rng = np.random.default_rng(3)

    def sig(area: float, noise: float) -> OpenSetSignals:
        # Only saree_area tells known from unknown here; the rest is the same noise for both.
        return _signals(0.5 + 0.3 * noise, 0.3, 0.5 + 0.2 * rng.uniform(), area)

    known = [sig(rng.uniform(0.5, 0.9), rng.uniform()) for _ in range(300)]
    unknown = [sig(rng.uniform(0.0, 0.6), rng.uniform()) for _ in range(300)]
    rule = calibrate_combined(known, unknown, false_alarm=0.1)
    assert rule.weights is not None
    assert rule.weights["saree_area"] > 5 * abs(rule.weights["prototype_similarity"])
    flagged = np.mean([rule.novelty(s) > 0 for s in known])
    assert 0.08 <= flagged <= 0.12
    assert auroc([rule.novelty(s) for s in known], [rule.novelty(s) for s in unknown]) > 0.9
    # Reasons are given exactly when flagged, and the rule survives the manifest round trip.
    for s in known[:50] + unknown[:50]:
        assert bool(rule.reasons(s)) == (rule.novelty(s) > 0)
    again = OpenSetRule.from_manifest(rule.to_dict())
    assert again.novelty(unknown[0]) == pytest.approx(rule.novelty(unknown[0]), abs=1e-4)
