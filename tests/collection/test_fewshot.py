"""Few-shot prototypes from confirmed photos: scores, new traditions, re-ranking stored answers."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from saree_app.collection import fewshot as fewshot_step
from saree_app.collection.catalog import Catalog, NewPhoto
from saree_app.collection.fewshot import (
    DEFAULT_WEIGHT,
    ApplyStopped,
    FewShot,
    apply_to_catalog,
    feature,
    fit_teaching,
    refuse,
)

SHA = "e" * 64
DIM = 16


def _cluster(rng: np.random.Generator, centre: np.ndarray, n: int) -> list[np.ndarray]:
    return [centre + 0.3 * rng.normal(size=DIM) for _ in range(n)]


def test_prototypes_classify_synthetic_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = {t: rng.normal(size=DIM) for t in ("Gadwal", "Ilkal", "KotaDoria", "Sambalpuri")}
    shots = {t: _cluster(rng, c, 5) for t, c in centres.items()}
    fs = FewShot(shots, parts=("whole",))
    assert sorted(fs.prototypes) == sorted(centres)
    right = total = 0
    for t, c in centres.items():
        for v in _cluster(rng, c, 20):
            right += fs.classify(v) == t
            total += 1
    assert right / total >= 0.95
    scores = fs.scores(centres["Ilkal"])
    assert max(scores, key=lambda k: scores[k]) == "Ilkal"
    assert scores["Ilkal"] > 0.9  # cosine similarity, as fusion takes it
    probs = fs.probabilities_of(centres["Ilkal"])
    assert abs(sum(probs.values()) - 1) < 1e-6
    assert probs["Ilkal"] > 0.9


def test_one_confirmed_photo_teaches_a_tradition() -> None:
    v = np.ones(DIM)
    fs = FewShot({"Ilkal": [v], "Kotpad": [-v, -v]}, parts=("whole",))
    assert sorted(fs.prototypes) == ["Ilkal", "Kotpad"]
    assert fs.classify(v) == "Ilkal"
    assert not fs.pending


def test_fewer_than_min_examples_wait_in_pending() -> None:
    v = np.ones(DIM)
    fs = FewShot({"Ilkal": [v, v, v], "Kotpad": [v, v]}, parts=("whole",), min_examples=3)
    assert list(fs.prototypes) == ["Ilkal"]
    assert fs.pending == {"Kotpad": 2}
    assert fs.summary() == [("Ilkal", 3, True), ("Kotpad", 2, False)]
    assert not FewShot({}, parts=("whole",))
    assert FewShot({}, parts=("whole",)).scores(v) == {}


def test_feature_concatenates_unit_parts() -> None:
    whole = np.array([3.0, 0, 0, 0])
    parts = np.array([[0, 1.0, 0, 0], [0, 0, 2.0, 0], [0, 0, 0, 5.0]])
    f = feature(whole, parts, ("whole", "border", "pallu"))
    assert f.shape == (12,)
    np.testing.assert_allclose(np.linalg.norm(f), 1, rtol=1e-6)
    np.testing.assert_allclose(f[[0, 6, 11]], np.full(3, 1 / np.sqrt(3)), rtol=1e-6)


def _catalogue(tmp_path: Path, rng: np.random.Generator) -> tuple[Catalog, dict[str, Any]]:
    """12 photos the model calls Kanchipuram; really 6 Kanchipuram and 6 of a new tradition."""
    cat = Catalog(tmp_path / "c.saree")
    centres = {"Kanchipuram": rng.normal(size=DIM), "Kotpad": rng.normal(size=DIM)}
    truth = {}
    for i in range(12):
        t = "Kanchipuram" if i % 2 == 0 else "Kotpad"
        v = centres[t] + 0.2 * rng.normal(size=DIM)
        pid = cat.record(
            NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
            SHA,
            {
                "tradition": "Kanchipuram",
                "probability": 0.9,
                "visual": [["Kanchipuram", 0.9], ["Banarasi", 0.1]],
                "attributes": [],
            },
            top_tradition="Kanchipuram",
            top_probability=0.9,
            uncertain=False,
            embedding=v.astype(np.float32),
            part_embeddings=np.stack([v, v, v]).astype(np.float32),
        )
        truth[pid] = t
    return cat, truth


def test_from_catalog_uses_confirmed_labels_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cat, truth = _catalogue(tmp_path, rng)
    with cat:
        kotpad = [pid for pid, t in truth.items() if t == "Kotpad"]
        for pid in kotpad[:3]:
            cat.set_label(pid, tradition="Kotpad")
        cat.set_label(kotpad[3], tradition="Kotpad", certainty="possible")  # not an example
        fs = FewShot.from_catalog(cat)
        assert fs.summary() == [("Kotpad", 3, True)]
        fs = FewShot.from_catalog(cat, exclude=[kotpad[0]], min_examples=3)
        assert fs.pending == {"Kotpad": 2}


def test_the_same_teaching_is_not_fitted_twice_while_nothing_is_written(tmp_path: Path) -> None:
    """The photo page fits teaching each time it opens a photo: with nothing written to the
    catalogue since, the fit is kept; any write (a label, from this or another program), or
    other arguments, fits it again."""
    import saree_app.collection.fewshot as fewshot_mod

    rng = np.random.default_rng(1)
    cat, truth = _catalogue(tmp_path, rng)
    fits: list[int] = []
    real = fewshot_mod.FewShot._fitted

    def counted(*args: Any, **kw: Any) -> Any:
        fits.append(1)
        return real(*args, **kw)

    with cat:
        kotpad = [pid for pid, t in truth.items() if t == "Kotpad"]
        for pid in kotpad[:3]:
            cat.set_label(pid, tradition="Kotpad", certainty="confirmed")
        fewshot_mod.FewShot._fitted = counted  # type: ignore[method-assign]
        try:
            first = FewShot.from_catalog(cat)
            assert FewShot.from_catalog(cat) is first and len(fits) == 1
            assert FewShot.from_catalog(cat, exclude=[kotpad[0]]) is not first
            assert len(fits) == 2
            cat.set_label(kotpad[3], tradition="Kotpad", certainty="confirmed")
            again = FewShot.from_catalog(cat)
            assert again is not first and again.summary() == [("Kotpad", 4, True)]
            # Another connection's write is seen too.
            with Catalog(cat.path) as other:
                other.set_label(kotpad[3], tradition=None, certainty=None, keep=False)
            assert FewShot.from_catalog(cat).summary() == [("Kotpad", 3, True)]
            assert len(fits) == 4
        finally:
            fewshot_mod.FewShot._fitted = real  # type: ignore[method-assign]


class _FakePrediction:
    def __init__(self, emb: np.ndarray) -> None:
        self.embedding = emb
        self.part_embeddings = np.stack([emb, emb, emb])
        self.fewshot: dict[str, float] | None = None
        self.places: Any = None

    def refuse(
        self, graph: Any, *, fewshot: dict[str, float], weights: Any, places: Any = None
    ) -> _FakePrediction:
        out = _FakePrediction(self.embedding)
        out.fewshot = fewshot
        out.places = places
        return out


def test_refuse_passes_scores_to_the_prediction(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    centre = rng.normal(size=DIM)
    fs = FewShot(
        {"Ilkal": _cluster(rng, centre, 3), "Kotpad": _cluster(rng, -centre, 3)},
        parts=("whole",),
        places={"Kotpad": ("Odisha", None)},
    )
    pred = _FakePrediction(centre.astype(np.float32))
    out = refuse(pred, None, fs)
    assert out.fewshot is not None
    assert out.fewshot["Ilkal"] > 0.9
    assert out.places == {"Kotpad": ("Odisha", None)}  # where the curator's tradition is from
    assert fs.without({"Kotpad": _cluster(rng, -centre, 3)}).places == fs.places
    assert refuse(pred, None, FewShot({})) is pred


def test_apply_to_catalog_teaches_a_new_tradition(tmp_path: Path, monkeypatch: Any) -> None:
    """With no graph, fusion is visual only; a stand-in fuse shows the scores reach it."""
    from types import SimpleNamespace

    from saree_app.model import predict

    def fake_fuse(graph: Any, visual: Any, attributes: Any, **kw: Any) -> Any:
        fewshot = kw.get("fewshot") or {}
        combined = {t: 0.2 * visual.get(t, 0.0) + fewshot.get(t, 0.0) for t in {*visual, *fewshot}}
        ranked = sorted(combined.items(), key=lambda kv: -kv[1])
        return SimpleNamespace(
            ranking=tuple(
                SimpleNamespace(
                    tradition=t,
                    label=t,
                    probability=p,
                    score=p,
                    known_to_model=t in visual,
                    evidence=(),
                )
                for t, p in ranked
            ),
            states=(),
            cultural_regions=(),
            spread=1.0,
        )

    monkeypatch.setattr(predict, "fuse_visual", fake_fuse)
    rng = np.random.default_rng(3)
    cat, truth = _catalogue(tmp_path, rng)
    with cat:
        for t in ("Kotpad", "Kanchipuram"):
            for pid in [p for p, x in truth.items() if x == t][:3]:
                cat.set_label(pid, tradition=t)
        changed = apply_to_catalog(cat, graph=object())
        preds = cat.predictions(SHA)
        unlabelled = [pid for pid in truth if cat.label(pid) is None]
        right = sum(preds[pid].top_tradition == truth[pid] for pid in unlabelled)
        assert right == len(unlabelled) == 6
        assert changed >= 3
        assert preds[unlabelled[0]].result["fewshot"]


# ---- how much taught evidence weighs, measured on the confirmed photos ------------------


def _graph() -> Any:
    from saree_app.knowledge.graph import TextileGraph

    return TextileGraph.load()


def _confirm(cat: Catalog, truth: dict[int, str], n: int) -> None:
    for t in sorted(set(truth.values())):
        for pid in [p for p, x in truth.items() if x == t][:n]:
            cat.set_label(pid, tradition=t)


def test_teaching_that_agrees_with_itself_outweighs_a_wrong_model(tmp_path: Path) -> None:
    """The model calls every photo Kanchipuram; half are a tradition it never saw."""
    cat, truth = _catalogue(tmp_path, np.random.default_rng(4))
    graph = _graph()
    with cat:
        _confirm(cat, truth, 3)
        fit = fit_teaching(cat, SHA, graph)
        assert fit.fitted
        assert fit.total == 6
        assert fit.untaught_right == 3  # left to itself the model gets the Kanchipuram ones
        assert fit.right == 6
        assert fit.weight >= 8  # strong enough to overrule the model's 0.9
        assert "right on 6 of 6 of your confirmed photos" in fit.text()
        assert [(c.tradition, c.right, c.total) for c in fit.by_tradition] == [
            ("Kanchipuram", 3, 3),
            ("Kotpad", 3, 3),
        ]
        apply_to_catalog(cat, graph)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        assert all(preds[pid].top_tradition == truth[pid] for pid in rest)


def test_a_photo_or_two_more_right_does_not_choose_a_smaller_weight() -> None:
    """40 confirmed photos: 16 vs 15 right is noise; the largest weight within it is kept."""
    tried = [(16, 8.0, 0.3), (15, 256.0, 0.3), (15, 256.0, 0.25), (9, 64.0, 0.3)]
    assert fewshot_step._choose(tried, 40) == (15, 256.0, 0.3)  # the earlier ref of equals


def test_a_clearly_better_smaller_weight_is_chosen() -> None:
    """38 of 40 against 20 of 40 is no noise: the model's scores help, and keep their say."""
    tried = [(38, 4.0, 0.3), (20, 256.0, 0.3), (37, 2.0, 0.3)]
    assert fewshot_step._choose(tried, 40) == (38, 4.0, 0.3)
    # every photo right leaves no spread: only the best counts
    assert fewshot_step._choose([(10, 2.0, 0.3), (9, 256.0, 0.3)], 10) == (10, 2.0, 0.3)


def test_teaching_that_disagrees_with_itself_weighs_little(tmp_path: Path) -> None:
    """Confirmed photos whose embeddings say nothing: the model, right here, keeps its say."""
    cat = Catalog(tmp_path / "c.saree")
    rng = np.random.default_rng(5)
    truth = {}
    for i in range(12):
        t = ("Kanchipuram", "Banarasi")[i % 2]
        other = ("Banarasi", "Kanchipuram")[i % 2]
        v = rng.normal(size=DIM)  # no relation to the tradition
        pid = cat.record(
            NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
            SHA,
            {"visual": [[t, 0.7], [other, 0.3]], "attributes": []},
            top_tradition=t,
            top_probability=0.7,
            uncertain=False,
            embedding=v.astype(np.float32),
            part_embeddings=np.stack([v, v, v]).astype(np.float32),
        )
        truth[pid] = t
    with cat:
        _confirm(cat, truth, 5)
        fit = fit_teaching(cat, SHA, _graph())
        assert fit.fitted
        assert fit.untaught_right == 10
        assert fit.right >= fit.untaught_right
        assert fit.weight <= 4


def test_each_tradition_is_checked_on_its_own_confirmed_photos(tmp_path: Path) -> None:
    """Per tradition, its confirmed photos as they were answered, each left out: the same
    answers the overall figure counts, split by tradition, with what the wrong ones became."""
    cat = Catalog(tmp_path / "c.saree")
    rng = np.random.default_rng(5)
    truth = {}
    for i in range(15):
        # Cloth features that say nothing of the tradition: teaching gets some wrong.
        pid = _unsure_photo(cat, i, rng.normal(size=DIM), rng.normal(size=DIM))
        truth[pid] = ("Kanchipuram", "Banarasi", "Kotpad")[i % 3]
    with cat:
        _confirm(cat, truth, 5)
        lone = _unsure_photo(cat, 99, rng.normal(size=DIM), rng.normal(size=DIM))
        cat.set_label(lone, tradition="Paithani")  # one photo: nothing to check it against
        fit = fit_teaching(cat, SHA, _graph())
    assert fit.fitted and fit.total == 16
    checks = {c.tradition: c for c in fit.by_tradition}
    assert sorted(checks) == ["Banarasi", "Kanchipuram", "Kotpad"]
    assert fit.check_of("Paithani") is None
    assert all(c.total == 5 for c in checks.values())
    # The lone Paithani photo, left out, leaves no Paithani to answer: it counts as wrong.
    assert sum(c.right for c in checks.values()) == fit.right
    assert fit.right < fit.total  # some were wrong, and each wrong one is accounted for
    for c in checks.values():
        assert sum(n for _t, n in c.taken_for) == c.total - c.right
        assert all(t != c.tradition for t, _n in c.taken_for)


def test_a_tradition_check_in_words() -> None:
    from saree_app.collection.fewshot import TraditionCheck

    assert TraditionCheck("Kotpad", 3, 3).text() == "3 of 3 right when each is left out"
    check = TraditionCheck("Kotpad", 1, 6, (("Gadwal", 3), ("Ilkal", 1), ("Kasavu", 1)))
    assert check.text(str.upper) == (
        "1 of 6 right when each is left out (3 taken for GADWAL, 1 taken for ILKAL, 1 for others)"
    )


def test_how_far_a_tradition_is_checked_in_words() -> None:
    """The teaching panel and `saree fewshot` say it with the same words: one photo cannot be
    checked, two can once teaching is measured, and a third checks it well."""
    from saree_app.collection.fewshot import (
        CHECKED_FROM,
        RELIABLE_EXAMPLES,
        TraditionCheck,
        check_words,
    )

    assert check_words(0, None) == f"Needs {CHECKED_FROM} more to check it"
    assert check_words(CHECKED_FROM - 1, None) == "Needs 1 more to check it"
    assert check_words(CHECKED_FROM, None) == "Checked once teaching is measured"
    two = TraditionCheck("Kotpad", 1, 2, (("Gadwal", 1),))
    assert check_words(2, two, str.upper) == (
        "1 of 2 right when each is left out (1 taken for GADWAL); "
        f"{RELIABLE_EXAMPLES - 2} more to check it well"
    )
    three = TraditionCheck("Kotpad", 3, RELIABLE_EXAMPLES)
    assert check_words(RELIABLE_EXAMPLES, three) == three.text()


def test_too_few_confirmed_photos_use_the_default_and_say_so(tmp_path: Path) -> None:
    cat, truth = _catalogue(tmp_path, np.random.default_rng(6))
    with cat:
        _confirm(cat, truth, 1)
        fit = fit_teaching(cat, SHA, _graph())
        assert not fit.fitted
        assert fit.weight == DEFAULT_WEIGHT
        assert "not measured yet" in fit.text()
        fs = FewShot.from_catalog(cat, SHA, graph=_graph())
        assert fs.weight == DEFAULT_WEIGHT
        assert fs.reliability is not None and not fs.reliability.fitted


# ---- cloth features: what teaching compares when every photo has them --------------------


def _cloth_catalogue(tmp_path: Path, rng: np.random.Generator, *, cloth: bool = True) -> Any:
    """12 photos: the model's embeddings say nothing, the cloth features tell the two apart."""
    cat = Catalog(tmp_path / "c.saree")
    centres = {"Kanchipuram": rng.normal(size=DIM), "Kotpad": rng.normal(size=DIM)}
    truth = {}
    for i in range(12):
        t = "Kanchipuram" if i % 2 == 0 else "Kotpad"
        noise = rng.normal(size=DIM)
        pid = cat.record(
            NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
            SHA,
            {"visual": [["Kanchipuram", 0.9], ["Banarasi", 0.1]], "attributes": []},
            top_tradition="Kanchipuram",
            top_probability=0.9,
            uncertain=False,
            embedding=noise.astype(np.float32),
            part_embeddings=np.stack([noise, noise, noise]).astype(np.float32),
            cloth_embedding=(centres[t] + 0.2 * rng.normal(size=DIM)).astype(np.float32)
            if cloth
            else None,
        )
        truth[pid] = t
    return cat, truth


def test_teaching_compares_cloth_features_when_every_photo_has_them(tmp_path: Path) -> None:
    from saree_app.collection.fewshot import CLOTH_PARTS, DEFAULT_PARTS, teaching_parts

    cat, truth = _cloth_catalogue(tmp_path, np.random.default_rng(7))
    graph = _graph()
    with cat:
        assert teaching_parts(cat, SHA) == CLOTH_PARTS
        _confirm(cat, truth, 3)
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.parts == CLOTH_PARTS
        assert fs.reliability is not None and fs.reliability.right == 6
        apply_to_catalog(cat, graph)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        assert all(preds[pid].top_tradition == truth[pid] for pid in rest)
    # The same photos without cloth features teach from the (uninformative) embeddings.
    other = tmp_path / "other"
    other.mkdir()
    cat, truth = _cloth_catalogue(other, np.random.default_rng(7), cloth=False)
    with cat:
        assert teaching_parts(cat, SHA) == DEFAULT_PARTS
        _confirm(cat, truth, 3)
        apply_to_catalog(cat, graph)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        assert sum(preds[pid].top_tradition == truth[pid] for pid in rest) < len(rest)


def test_a_confirmed_photo_without_cloth_features_keeps_the_model_embeddings(
    tmp_path: Path,
) -> None:
    from saree_app.collection.fewshot import CLOTH_PARTS, DEFAULT_PARTS, teaching_parts

    cat, _ = _cloth_catalogue(tmp_path, np.random.default_rng(8))
    with cat:
        v = np.ones(DIM, np.float32)
        late = cat.record(
            NewPhoto("/p/late.jpg", "f" * 64, 10),
            SHA,
            {"visual": [["Kanchipuram", 0.9]], "attributes": []},
            top_tradition="Kanchipuram",
            top_probability=0.9,
            uncertain=False,
            embedding=v,
            part_embeddings=np.stack([v, v, v]),
        )
        # One photo in thirteen without them (its file gone, say) holds nothing back...
        assert teaching_parts(cat, SHA) == CLOTH_PARTS
        # ...but a confirmed one must be compared like with like.
        cat.set_label(late, tradition="Kanchipuram")
        assert teaching_parts(cat, SHA) == DEFAULT_PARTS


def test_a_prediction_without_cloth_features_keeps_its_answer() -> None:
    from types import SimpleNamespace

    fs = FewShot({"Ilkal": [np.ones(DIM)]}, parts=("cloth",))
    pred = SimpleNamespace(embedding=np.ones(DIM), part_embeddings=None, cloth_embedding=None)
    assert not fs.can_score(pred)
    assert refuse(pred, graph=None, fewshot=fs) is pred
    assert fs.similarities(np.zeros(DIM), None, np.ones(DIM))["Ilkal"] > 0.99


# ---- answer sets and the uncertain flag, calibrated on the confirmed photos ---------------


def test_the_flag_line_says_how_far_ahead_an_answer_must_be() -> None:
    """Taught answers are nearly all "100%": the line is how many times likelier the first
    tradition must be than the second, in words."""
    from saree_app.collection.fewshot import AnswerSets, times

    def sets(confident_lead: float, photos: int, right: int) -> AnswerSets:
        return AnswerSets(
            size=3, level=0.9, photos=40, coverage=0.9, single=0, single_right=0,
            confident_lead=confident_lead, confident_photos=photos, confident_right=right,
        )  # fmt: skip

    sure = sets(np.log(48.7), 24, 21)
    assert (
        "answers whose first tradition is at least 49 times as likely as the second are not "
        "flagged: right on 21 of 24" in sure.text()
    )
    assert "sets name the first 3 traditions" in sure.text()
    one = dataclasses.replace(sure, size=1)
    assert "sets name the first tradition alone and hold the right one 90%" in one.text()
    assert "no answer is sure enough yet" in sets(float("inf"), 0, 0).text()
    assert times(np.log(4.48)) == "4.5" and times(0.0) == "1" and times(np.log(3)) == "3"
    assert times(np.log(1234.0)) == "1,200" and times(np.log(2e7)) == "over a million"
    assert times(float("inf")) == "over a million" and times(-2.0) == "1"
    assert "only answers whose first tradition is over a million times as likely as the " \
        "second are not flagged" in sets(np.log(3e6), 5, 5).text()  # fmt: skip


def test_conformal_size_covers_the_level() -> None:
    from saree_app.collection.fewshot import conformal_size

    rng = np.random.default_rng(9)
    ranks = rng.integers(1, 12, 200).tolist()
    size = conformal_size(ranks, 0.9)
    assert size is not None
    # At least 90% of these photos have their tradition among the first `size`...
    assert np.mean(np.asarray(ranks) <= size) >= 0.9
    # ...and one fewer would not do: it is the smallest such set.
    assert np.mean(np.asarray(ranks) <= size - 1) < 0.9
    assert conformal_size([1] * 30 + [5] * 2, 0.9) == 1  # right first almost always: one
    assert conformal_size(ranks[:8], 0.9) is None  # too few to promise 90%
    assert conformal_size([], 0.9) is None


def test_sets_take_the_first_traditions_even_when_the_answer_is_sure() -> None:
    """A taught answer is sure of itself; the set still holds the calibrated number."""
    from saree_app.collection.fewshot import _calibrate_sets

    names = [f"t{i}" for i in range(10)]
    probs, truth = [], []
    for i in range(40):
        p = dict.fromkeys(names, 1e-09)
        p[names[i % 10]] = 1.0  # sure of its answer
        probs.append(p)
        # right 3 times in 4; else the right one is a near-nought runner-up
        truth.append(names[i % 10] if i % 4 else names[(i + 1) % 10])
    sets = _calibrate_sets(probs, truth)
    assert sets is not None
    assert 2 <= sets.size < len(names)  # by probability alone every tradition would be in
    assert sets.coverage >= 0.85
    # The ranking's order, not the probabilities': stored answers round most to 0.
    members = sets.members(["d", "c", "b", "a"])
    assert members == ["d", "c", "b", "a"][: sets.size]


def test_before_calibration_the_set_is_the_models_own() -> None:
    from saree_app.collection.fewshot import model_answer_set

    probs = {"A": 0.5, "B": 0.3, "C": 0.15, "D": 0.05}
    assert model_answer_set(probs, 0.9) == ["A", "B", "C"]
    assert model_answer_set(probs, 0.5) == ["A"]


def test_confident_line_is_where_held_back_answers_were_right() -> None:
    from saree_app.collection.fewshot import _confident_from

    # Ten sure answers, nine right; then ten unsure ones, two right.
    probs = [{"A": 0.9 - i * 0.01, "B": 0.1} for i in range(10)]
    probs += [{"A": 0.4 - i * 0.01, "B": 0.35} for i in range(10)]
    truth = ["A"] * 9 + ["B"] + ["B"] * 8 + ["A"] * 2
    line, n, right = _confident_from(probs, truth)
    assert n == 10 and right == 9
    # The line is the tenth answer's lead: log(0.81 / 0.1), how far ahead its first is.
    assert line == pytest.approx(np.log(0.81 / 0.1))
    # Nothing is ever right often enough: no line, every answer stays flagged.
    line, n, _ = _confident_from(probs, ["B"] * 20)
    assert n == 0 and line == float("inf")


def test_the_line_follows_the_lead_not_the_top_probability() -> None:
    """Two answers equally sure at the top (99.9%) but one far ahead of its runner-up, the
    other with a runner-up close behind (a third tradition takes the rest)."""
    from saree_app.collection.fewshot import _confident_from, lead, stored_lead

    far = {"A": 0.999, "B": 0.000001, "C": 0.000999}
    near = {"A": 0.9989, "B": 0.0010, "C": 0.0001}
    probs = [far] * 10 + [near] * 10
    truth = ["A"] * 10 + ["B"] * 10  # the far-ahead answers right, the close ones wrong
    line, n, right = _confident_from(probs, truth)
    assert n == 10 and right == 10 and line == pytest.approx(np.log(0.999 / 0.000999))
    assert lead([5.0, 2.0, 1.0]) == 3.0 and lead([5.0]) > 1e8
    # A stored ranking: by its scores; without them, by its probabilities.
    assert stored_lead([{"score": 7.0}, {"score": 4.5}]) == pytest.approx(2.5)
    assert stored_lead([{"probability": 0.8}, {"probability": 0.2}]) == pytest.approx(np.log(4.0))


def _unsure_photo(
    cat: Catalog, i: int, cloth: np.ndarray, noise: np.ndarray, reasons: tuple[str, ...] = ()
) -> int:
    """A photo the model knows nothing about (an even guess between two traditions it knows,
    flagged for `reasons`), with the given cloth features."""
    answer = {"visual": [["Kanchipuram", 0.5], ["Banarasi", 0.5]], "attributes": []}
    return cat.record(
        NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
        SHA,
        {**answer, "uncertain_reasons": list(reasons)},
        top_tradition="Kanchipuram",
        top_probability=0.5,
        uncertain=True,
        embedding=noise.astype(np.float32),
        part_embeddings=np.stack([noise, noise, noise]).astype(np.float32),
        cloth_embedding=np.asarray(cloth, np.float32),
    )


def _three_traditions(
    tmp_path: Path, *, seed: int, photos: int, cloth_spread: float, confirmed: int
) -> tuple[Catalog, dict[int, str]]:
    """A catalogue of photos of three traditions the model knows nothing about
    (`_unsure_photo`), their cloth features scattered `cloth_spread` about each tradition's
    centre, the first `confirmed` of each confirmed; and photo id -> tradition."""
    cat = Catalog(tmp_path / "c.saree")
    rng = np.random.default_rng(seed)
    names = ("Kotpad", "Ilkal", "Gadwal")
    centres = {t: rng.normal(size=DIM) for t in names}
    truth = {}
    for i in range(photos):
        t = names[i % 3]
        noise = rng.normal(size=DIM)
        cloth = centres[t] + cloth_spread * rng.normal(size=DIM)
        truth[_unsure_photo(cat, i, cloth, noise)] = t
    _confirm(cat, truth, confirmed)
    return cat, truth


def test_taught_answers_get_sets_and_a_recomputed_flag(tmp_path: Path) -> None:
    """Thirty photos, cloth features that tell three traditions apart; the model knows none.

    Every answer was imported flagged; once the confirmed photos show that teaching is right,
    the taught answers lose the flag and carry an answer set calibrated on those photos.
    """
    cat, truth = _three_traditions(tmp_path, seed=11, photos=30, cloth_spread=0.15, confirmed=5)
    graph = _graph()
    with cat:
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.reliability is not None and fs.reliability.sets is not None
        sets = fs.reliability.sets
        assert sets.photos == 15 and sets.coverage >= 0.9
        assert sets.confident_photos >= 5 and sets.confident_right >= 0.85 * sets.confident_photos
        assert "calibrated on 15 of your confirmed photos" in sets.text()
        named = f"first {sets.size} traditions" if sets.size > 1 else "first tradition alone"
        assert f"sets name the {named}" in sets.text()
        apply_to_catalog(cat, graph, fewshot=fs)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        assert all(preds[pid].top_tradition == truth[pid] for pid in rest)
        assert sum(preds[pid].uncertain for pid in rest) <= 2  # was all 15
        for pid in rest:
            answer_set = preds[pid].result["answer_set"]
            assert answer_set["calibrated_on"] == 15
            assert truth[pid] in answer_set["traditions"]
            # The first traditions of the ranking, in its order, even where the stored
            # probabilities of the runners-up round to the same value.
            ranking = preds[pid].result["ranking"]
            assert answer_set["traditions"] == [r["tradition"] for r in ranking][: sets.size]
            # Read at the spread the confirmed photos gave (1 here: all of them were right).
            assert preds[pid].result.get("spread", 1.0) == sets.spread == 1.0


def test_too_few_confirmed_photos_keep_the_models_flag_and_set(tmp_path: Path) -> None:
    cat, truth = _cloth_catalogue(tmp_path, np.random.default_rng(12))
    graph = _graph()
    with cat:
        _confirm(cat, truth, 2)  # four confirmed photos: too few to calibrate on
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.reliability is not None and fs.reliability.sets is None
        apply_to_catalog(cat, graph, fewshot=fs)
        for stored in cat.predictions(SHA).values():
            assert stored.uncertain is False  # as imported
            assert stored.result["answer_set"]["calibrated_on"] == 0
            assert stored.result["answer_set"]["traditions"]


# ---- progress and stopping -----------------------------------------------------------------


def test_apply_reports_progress_in_batches(tmp_path: Path) -> None:
    cat, truth = _catalogue(tmp_path, np.random.default_rng(21))
    graph = _graph()
    heard: list[tuple[int, int]] = []
    with cat:
        _confirm(cat, truth, 3)
        apply_to_catalog(cat, graph, progress=lambda d, t: heard.append((d, t)), batch=5)
    assert heard == [(0, 12), (5, 12), (10, 12), (12, 12)]


def test_a_stopped_apply_keeps_whole_batches_and_the_rest_as_they_were(tmp_path: Path) -> None:
    """Stopped after two batches: 10 answers re-ranked, 2 untouched; every photo has one
    answer, either the old or the new, and a second run finishes the job."""
    cat, truth = _catalogue(tmp_path, np.random.default_rng(22))
    graph = _graph()
    with cat:
        _confirm(cat, truth, 3)
        old = {pid: p.result for pid, p in cat.predictions(SHA).items()}
        written = [0]

        def cancel() -> bool:
            return written[0] >= 10  # asked to stop once two batches are in

        def progress(done: int, total: int) -> None:
            written[0] = done

        with pytest.raises(ApplyStopped) as stop:
            apply_to_catalog(cat, graph, cancel=cancel, progress=progress, batch=5)
        assert (stop.value.done, stop.value.total) == (10, 12)
        now = cat.predictions(SHA)
        assert sorted(now) == sorted(old)
        fresh = [pid for pid in now if now[pid].result != old[pid]]
        assert len(fresh) == 10 and all("fewshot" in now[pid].result for pid in fresh)
        kept = [pid for pid in now if now[pid].result == old[pid]]
        assert len(kept) == 2
        assert cat.integrity_problems() == []
        apply_to_catalog(cat, graph, batch=5)
        assert all("fewshot" in p.result for p in cat.predictions(SHA).values())


def test_a_stop_before_any_write_changes_nothing(tmp_path: Path) -> None:
    cat, truth = _catalogue(tmp_path, np.random.default_rng(23))
    graph = _graph()
    with cat:
        _confirm(cat, truth, 3)
        old = {pid: p.result for pid, p in cat.predictions(SHA).items()}
        with pytest.raises(ApplyStopped) as stop:
            apply_to_catalog(cat, graph, cancel=lambda: True)
        assert stop.value.done == 0
        assert {pid: p.result for pid, p in cat.predictions(SHA).items()} == old


# ---- matching close-ups: cloth features with each tile kept ---------------------------------


def _layout(whole: np.ndarray, tiles: list[np.ndarray]) -> np.ndarray:
    """A cloth description in the stored layout: [whole | mean of tiles | each tile], unit."""

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.linalg.norm(v)

    blocks = [unit(whole), unit(np.mean([unit(t) for t in tiles], axis=0))]
    return np.concatenate(blocks + [unit(t) for t in tiles]).astype(np.float32)


def _motif_photo(rng: np.random.Generator, motif: np.ndarray, where: int) -> np.ndarray:
    """Nine tiles of unrelated cloth, one of them (at `where`) showing the motif."""
    dim = motif.shape[0]
    tiles = [rng.normal(size=dim) for _ in range(9)]
    tiles[where] = motif + 0.1 * rng.normal(size=dim)
    return _layout(rng.normal(size=dim), tiles)


def test_close_ups_are_matched_one_by_one() -> None:
    """A tradition's motif, seen in one tile, is found wherever it sits in another photo."""
    from saree_app.collection.fewshot import CLOTH_PARTS
    from saree_app.model.cloth import views

    rng = np.random.default_rng(11)
    motifs = {"Paithani": rng.normal(size=DIM), "Kotpad": rng.normal(size=DIM)}
    examples = {t: [_motif_photo(rng, m, where=i) for i in range(3)] for t, m in motifs.items()}
    fs = FewShot(examples, parts=CLOTH_PARTS)
    assert fs.matches_views
    right = 0
    for t, m in motifs.items():
        for where in (4, 8):  # corners none of the examples had it in
            query = _motif_photo(rng, m, where)
            sims = fs.similarities_of(query)
            right += max(sims, key=lambda x: sims[x]) == t
            own = views(query)
            assert own is not None
            bank = np.concatenate([v for v in map(views, examples[t]) if v is not None])
            expect = float((own @ bank.T).max(axis=1).mean())
            assert sims[t] == pytest.approx(expect, abs=1e-5)
    assert right == 4
    # The plain prototype of the same examples compares summaries with their mean.
    from saree_app.model.cloth import summary

    plain = FewShot(examples, parts=CLOTH_PARTS, match_views=False)
    assert not plain.matches_views
    query = _motif_photo(rng, motifs["Kotpad"], 6)
    proto = np.mean([summary(v) for v in examples["Kotpad"]], axis=0)
    expect = float(summary(query) @ (proto / np.linalg.norm(proto)))
    assert plain.similarities_of(query)["Kotpad"] == pytest.approx(expect, abs=1e-5)


def test_an_example_without_close_ups_makes_every_tradition_a_prototype() -> None:
    from saree_app.collection.fewshot import CLOTH_PARTS

    rng = np.random.default_rng(12)
    m = rng.normal(size=DIM)
    full = [_motif_photo(rng, m, i) for i in range(2)]
    old = full[0][: 2 * DIM]  # a description from before the tiles were kept
    fs = FewShot({"Paithani": full, "Kotpad": [old]}, parts=CLOTH_PARTS)
    assert not fs.matches_views
    sims = fs.similarities_of(_motif_photo(rng, m, 5))
    assert set(sims) == {"Paithani", "Kotpad"}
    assert all(-1.0 <= s <= 1.0 for s in sims.values())


def test_teaching_fits_on_close_ups_held_out(tmp_path: Path) -> None:
    """Confirmed photos share a motif in different tiles; the model says nothing useful."""
    from saree_app.collection.fewshot import CLOTH_PARTS

    rng = np.random.default_rng(13)
    # Wider than DIM: unrelated tiles then rarely look alike by chance.
    motifs = {"Paithani": rng.normal(size=64), "Kotpad": rng.normal(size=64)}
    cat = Catalog(tmp_path / "c.saree")
    truth = {}
    for i in range(12):
        t = ("Paithani", "Kotpad")[i % 2]
        noise = rng.normal(size=DIM).astype(np.float32)
        pid = cat.record(
            NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 10),
            SHA,
            {"visual": [["Kanchipuram", 0.9], ["Banarasi", 0.1]], "attributes": []},
            top_tradition="Kanchipuram",
            top_probability=0.9,
            uncertain=False,
            embedding=noise,
            part_embeddings=np.stack([noise, noise, noise]),
            cloth_embedding=_motif_photo(rng, motifs[t], where=i % 9),
        )
        truth[pid] = t
    graph = _graph()
    with cat:
        _confirm(cat, truth, 4)
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.parts == CLOTH_PARTS and fs.matches_views
        assert fs.reliability is not None and fs.reliability.fitted
        assert fs.reliability.right == fs.reliability.total == 8
        apply_to_catalog(cat, graph)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        assert all(preds[pid].top_tradition == truth[pid] for pid in rest)


def test_a_photo_that_is_not_cloth_stays_flagged_after_teaching() -> None:
    """Calibrated on the curator's photos, a sure answer goes unflagged, unless the photo was
    found not to look like cloth at all: teaching re-ranks traditions, it does not make a
    photo of something else a saree."""
    from types import SimpleNamespace

    from saree_app.collection.fewshot import AnswerSets, _judge
    from saree_app.model.predict import NOT_CLOTH

    sets = AnswerSets(
        size=1, level=0.9, photos=20, coverage=0.9, single=5, single_right=5,
        confident_lead=0.6,
    )  # fmt: skip
    stored = SimpleNamespace(uncertain=True)
    sure = {
        "probability": 0.9,
        "ranking": [
            {"tradition": "a", "probability": 0.9, "score": 3.0},
            {"tradition": "b", "probability": 0.1, "score": 0.8},
        ],
    }
    assert _judge(dict(sure), stored, sets) is False
    close = {**sure, "ranking": [{**sure["ranking"][0], "score": 1.0}, sure["ranking"][1]]}
    assert _judge(dict(close), stored, sets) is True  # ahead by 0.2, less than 0.6
    assert _judge({**sure, "uncertain_reasons": [NOT_CLOTH]}, stored, sets) is True
    assert _judge({**sure, "uncertain_reasons": ["something else"]}, stored, sets) is False
    # Nor a photo the saree check found may not be a saree (model/saree_check.py).
    from saree_app.model.saree_check import NOT_A_SAREE

    kept = {**sure, "uncertain_reasons": [NOT_A_SAREE, "something else"]}
    assert _judge(kept, stored, sets) is True
    assert kept["uncertain_reasons"] == [NOT_A_SAREE]


def test_the_photo_page_keeps_the_not_cloth_flag_after_teaching(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The photo page re-answers a photo as the catalogue does: a sure taught answer loses
    its flag, but not the finding that the photo does not look like cloth."""
    import dataclasses
    from types import SimpleNamespace

    from saree_app.collection import fewshot as fewshot_mod
    from saree_app.collection.fewshot import AnswerSets, refuse_photo
    from saree_app.model.predict import NOT_CLOTH

    @dataclasses.dataclass(frozen=True)
    class Answer:
        fused: Any
        uncertain: bool
        uncertain_reasons: tuple[str, ...]

    sure = SimpleNamespace(
        ranking=[
            SimpleNamespace(probability=0.95, score=4.0),
            SimpleNamespace(probability=0.05, score=1.0),
        ]
    )
    sets = AnswerSets(
        size=1, level=0.9, photos=20, coverage=0.9, single=5, single_right=5,
        confident_lead=0.6,
    )  # fmt: skip
    teach = SimpleNamespace(reliability=SimpleNamespace(sets=sets))
    for reasons, flagged in (((NOT_CLOTH, "low"), True), (("low",), False)):
        answer = Answer(sure, True, reasons)
        monkeypatch.setattr(fewshot_mod, "refuse", lambda p, g, m, s=None, a=answer: a)
        new = refuse_photo(object(), None, teach, None, None)  # type: ignore[arg-type]
        assert new.uncertain is flagged
        assert (NOT_CLOTH in new.uncertain_reasons) is flagged
        assert "low" not in new.uncertain_reasons


def test_the_fit_breaks_ties_towards_the_confirmed_photos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the confirmed photos cannot tell two weights apart (as right as often), the fit
    takes the one that weighs them more."""
    from saree_app.collection import fewshot as fewshot_mod
    from saree_app.collection.fewshot import WEIGHTS, fit_teaching

    cat, truth = _cloth_catalogue(tmp_path, np.random.default_rng(12))
    graph = _graph()
    with cat:
        _confirm(cat, truth, 5)
        # Every choice right on 3 photos.
        monkeypatch.setattr(fewshot_mod, "_score_choice", lambda *a, w, ref: 3)
        assert fit_teaching(cat, SHA, graph).weight == max(WEIGHTS)
        # Right more often at a small weight: that one, as before.
        monkeypatch.setattr(fewshot_mod, "_score_choice", lambda *a, w, ref: 9 if w == 2.0 else 3)
        assert fit_teaching(cat, SHA, graph).weight == 2.0


def test_one_tradition_alone_re_ranks_nothing(tmp_path: Path) -> None:
    """Confirming photos of a single tradition (one object's three photos, say) must not pull
    the collection to it: with nothing to tell it from, teaching waits for a second one."""
    from saree_app.collection.fewshot import ONE_TRADITION

    cat, truth = _cloth_catalogue(tmp_path, np.random.default_rng(12))
    graph = _graph()
    with cat:
        before = {pid: p.top_tradition for pid, p in cat.predictions(SHA).items()}
        first = sorted(set(truth.values()))[0]
        _confirm(cat, {p: t for p, t in truth.items() if t == first}, 3)
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs and not fs.ranks
        assert apply_to_catalog(cat, graph, fewshot=fs) == 0
        assert {pid: p.top_tradition for pid, p in cat.predictions(SHA).items()} == before
        assert "second one" in ONE_TRADITION
        # A second tradition taught: the collection is re-ranked.
        second = sorted(set(truth.values()))[1]
        _confirm(cat, {p: t for p, t in truth.items() if t == second}, 3)
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.ranks
        assert apply_to_catalog(cat, graph, fewshot=fs) > 0


def test_photos_of_one_saree_are_left_out_together() -> None:
    """Left out in turn, a confirmed photo takes the other photos of its saree (its object)
    with it: the saree's own border close-up must not vouch for its whole view."""
    from saree_app.collection.fewshot import _leave_one_out, _leave_one_out_views

    rng = np.random.default_rng(3)
    saree = rng.normal(size=8)
    other = rng.normal(size=8)
    # Three photos of one saree (A), one of another saree of A, one of tradition B.
    rows = np.stack([saree, saree + 0.01, saree - 0.01, other, -saree])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    truth = ["A", "A", "A", "A", "B"]
    groups = ["object:T1", "object:T1", "object:T1", "photo:4", "photo:5"]
    alone = _leave_one_out(rows, truth, ["A", "B"])
    together = _leave_one_out(rows, truth, ["A", "B"], groups)
    # Only the other saree of A is compared; with its siblings it looked far more like A.
    assert together[0, 0] == pytest.approx(float(rows[0] @ rows[3]))
    assert alone[0, 0] > together[0, 0] + 0.3
    # A single photo (its own saree) is left out as before.
    assert together[4, 0] == pytest.approx(alone[4, 0])
    assert together[3, 0] == pytest.approx(alone[3, 0])
    # The close-up match leaves them out the same way.
    pairs = (rows @ rows.T)[:, :, None]  # one view a photo
    seen = _leave_one_out_views(pairs, truth, ["A", "B"], groups)
    assert seen[0, 0] == pytest.approx(float(rows[0] @ rows[3]))
    assert _leave_one_out_views(pairs, truth, ["A", "B"])[0, 0] > 0.99  # its sibling
    # A saree whose photos are its tradition's only examples has nothing to compare with.
    lone = _leave_one_out(rows[:3], truth[:3], ["A"], groups[:3])
    assert np.isnan(lone).all()


def test_a_confirmed_objects_photos_do_not_vouch_for_each_other(tmp_path: Path) -> None:
    """Re-ranking a confirmed photo leaves out the other photos of its saree too: grouped into
    one object, three confirmed photos of a tradition score against that tradition's other
    sarees only."""
    from saree_app.collection import objects

    def taught_scores(group: bool) -> dict[int, float]:
        folder = tmp_path / ("grouped" if group else "single")
        folder.mkdir()
        cat, truth = _cloth_catalogue(folder, np.random.default_rng(7))
        graph = _graph()
        with cat:
            _confirm(cat, truth, 4)
            first = [p for p, t in truth.items() if t == "Kanchipuram"][:3]
            if group:
                objects.create_object(cat, "T.1", photo_ids=first)
            apply_to_catalog(cat, graph)
            preds = cat.predictions(SHA)
            return {p: float(preds[p].result["fewshot"]["Kanchipuram"]) for p in first}

    single, grouped = taught_scores(False), taught_scores(True)
    assert single.keys() == grouped.keys()
    # With its siblings left out, only the fourth confirmed Kanchipuram photo is compared.
    assert all(grouped[p] < single[p] for p in single)


def test_a_set_takes_the_ranking_order_where_stored_probabilities_tie() -> None:
    """A taught answer is so sure that its runners-up are stored at probability 0: the set is
    the ranking's first traditions (by score), not the tied ones sorted by name."""
    from saree_app.collection.fewshot import AnswerSets, _judge

    sets = AnswerSets(size=2, level=0.9, photos=20, coverage=0.9, single=0, single_right=0)
    new: dict[str, Any] = {
        "probability": 1.0,
        "ranking": [
            {"tradition": "Zari", "probability": 1.0, "score": 9.0},
            {"tradition": "Yeola", "probability": 0.0, "score": -30.0},
            {"tradition": "Arni", "probability": 0.0, "score": -60.0},
        ],
    }
    _judge(new, SimpleNamespace(uncertain=True), sets)
    assert new["answer_set"]["traditions"] == ["Zari", "Yeola"]


def _tiled(u: np.ndarray) -> np.ndarray:
    """A cloth description (model/cloth.py's layout) whose whole picture and every tile are u."""
    from saree_app.model.cloth import BLOCKS

    u = np.asarray(u, np.float32) / np.linalg.norm(u)
    return np.tile(u, BLOCKS)


def test_a_confirmed_photo_like_the_whole_collection_wins_fewer_matches() -> None:
    """Hub correction: example A looks like most of the collection, example B like little of
    it; a photo a shade closer to A than to B goes to B once hubness is taken into account."""
    from saree_app.collection.fewshot import CLOTH_PARTS, FewShot, Hubness
    from saree_app.model.cloth import views

    rng = np.random.default_rng(5)
    hub, rare = np.eye(DIM)[0], np.eye(DIM)[1]
    crowd = [_tiled(hub + 0.2 * rng.normal(size=DIM)) for _ in range(30)]
    sample = Hubness(np.stack([v for v in (views(c) for c in crowd) if v is not None]))
    a, b = _tiled(hub), _tiled(rare)
    near_a, near_b = views(a), views(b)
    assert near_a is not None and near_b is not None
    assert sample.of(near_a) > 0.8
    assert sample.of(near_b) < 0.5
    # The photo itself, when sampled, is not its own neighbour.
    with_self = Hubness(np.concatenate([np.stack([near_b]), sample._sample]))
    assert with_self.of(near_b) == pytest.approx(sample.of(near_b))
    photo = _tiled(0.62 * hub + 0.58 * rare)
    examples = {"A": [a], "B": [b]}
    assert FewShot(examples, parts=CLOTH_PARTS).nearest_of(photo) == "A"
    assert FewShot(examples, parts=CLOTH_PARTS, hubness=sample).nearest_of(photo) == "B"
    # Leaving an example out keeps the measure.
    taught = FewShot(examples, parts=CLOTH_PARTS, hubness=sample)
    assert taught.without({"B": [b]}).hubness is sample


def test_hubness_is_measured_on_a_sample_of_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.collection import fewshot as fewshot_mod
    from saree_app.collection.fewshot import Hubness

    rng = np.random.default_rng(6)
    with Catalog(tmp_path / "c.saree") as cat:
        ids = []
        for i in range(14):
            pid = cat.add_photo(NewPhoto(f"/p/{i}.jpg", f"{i:064x}", 1))
            cat.put_embeddings(pid, SHA, None, cloth=_tiled(rng.normal(size=DIM)))
            ids.append(pid)
            if i == 9:  # ten photos: too few to have ten neighbours
                assert Hubness.from_catalog(cat, SHA) is None
        whole = Hubness.from_catalog(cat, SHA)
        assert whole is not None and whole._sample.shape == (14, 10, DIM)
        # Kept while the embeddings stay as they are; measured again once they change.
        assert Hubness.from_catalog(cat, SHA) is whole
        cat.put_embeddings(ids[0], SHA, None, cloth=_tiled(rng.normal(size=DIM)))
        again = Hubness.from_catalog(cat, SHA)
        assert again is not None and again is not whole
        monkeypatch.setattr(fewshot_mod, "HUB_SAMPLE", 12)
        one, two = Hubness._measured(cat, SHA), Hubness._measured(cat, SHA)
        assert one is not None and two is not None and one._sample.shape[0] == 12
        assert np.array_equal(one._sample, two._sample)  # the same sample every time


def _tiled_photos(
    cat: Catalog, rng: np.random.Generator, centres: dict[str, np.ndarray], n: int, spread: float
) -> dict[int, str]:
    """n unsure photos (`_unsure_photo`), the traditions of `centres` in turn, each with tiled
    cloth features about its tradition's centre; photo id -> tradition."""
    names = list(centres)
    truth = {}
    for i in range(n):
        t = names[i % len(names)]
        cloth = _tiled(centres[t] + spread * rng.normal(size=DIM))
        truth[_unsure_photo(cat, i, cloth, rng.normal(size=DIM))] = t
    return truth


def test_one_confirmed_photo_a_tradition_ranks_with_the_hub_correction(tmp_path: Path) -> None:
    """Too few confirmed photos to fit the weight: the reference the defaults compare with is
    taken on the same hub-corrected likeness as the photos' own (it was not, once, and every
    taught tradition fell below the model's untaught ones)."""
    from saree_app.collection.fewshot import Hubness

    rng = np.random.default_rng(13)
    names = ("Kotpad", "Ilkal")
    shared = rng.normal(size=DIM)
    centres = {t: shared + 0.8 * rng.normal(size=DIM) for t in names}
    with Catalog(tmp_path / "c.saree") as cat:
        truth = _tiled_photos(cat, rng, centres, 24, 0.3)
        assert Hubness.from_catalog(cat, SHA) is not None
        _confirm(cat, truth, 1)
        graph = _graph()
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.hubness is not None and fs.ranks
        apply_to_catalog(cat, graph, fewshot=fs)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        right = sum(preds[pid].top_tradition == truth[pid] for pid in rest)
        assert right >= 0.9 * len(rest)


def test_calibrated_teaching_gives_its_own_reasons_and_undoing_it_the_models(
    tmp_path: Path,
) -> None:
    """Once sets are calibrated on the confirmed photos, a taught answer is flagged (or not)
    for teaching's reason alone; the model's reasons were about its own answer. Undoing the
    teaching gives the model's flag, reasons and answer set back."""
    from saree_app.model.predict import NOT_CLOTH

    rng = np.random.default_rng(11)
    names = ("Kotpad", "Ilkal", "Gadwal")
    centres = {t: rng.normal(size=DIM) for t in names}
    truth, own = {}, ("the parts do not back the answer Kanchipuram",)
    with Catalog(tmp_path / "c.saree") as cat:
        for i in range(30):
            t = names[i % 3]
            cloth = centres[t] + 0.15 * rng.normal(size=DIM)
            reasons = (*own, NOT_CLOTH) if i == 29 else own
            truth[_unsure_photo(cat, i, cloth, rng.normal(size=DIM), reasons)] = t
        graph = _graph()
        _confirm(cat, truth, 5)
        apply_to_catalog(cat, graph, fewshot=FewShot.from_catalog(cat, SHA, graph=graph))
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        assert sum(preds[pid].uncertain for pid in rest) < len(rest)  # some are sure now
        for pid in rest:
            stored = preds[pid]
            reasons = stored.result["uncertain_reasons"]
            assert own[0] not in reasons
            assert stored.result["model_flag"] == {"uncertain": True, "reasons": list(own)} or (
                NOT_CLOTH in stored.result["model_flag"]["reasons"]
            )
            if stored.uncertain and NOT_CLOTH not in reasons:
                assert reasons and all("your confirmed photos" in r for r in reasons)
            if not stored.uncertain:
                assert reasons == []
        last = max(truth)
        assert preds[last].uncertain and NOT_CLOTH in preds[last].result["uncertain_reasons"]
        # Confirmations undone down to one a tradition: teaching still re-ranks, but nothing can
        # check it, so the sets are gone. The model's flag and reasons come back (not reasons
        # about sets that no longer exist), and the answer set says it is taught, unchecked.
        for t in names:
            for pid in [p for p, x in truth.items() if x == t and cat.label(p) is not None][1:]:
                cat.set_label(pid, tradition=None, certainty=None, keep=False)
        teach = FewShot.from_catalog(cat, SHA, graph=graph)
        assert teach.ranks and teach.reliability is not None and teach.reliability.sets is None
        apply_to_catalog(cat, graph, fewshot=teach)
        partly = cat.predictions(SHA)
        for pid in [p for p in truth if not getattr(cat.label(p), "tradition", None)]:
            answer = partly[pid].result
            assert answer.get("fewshot") and "model_flag" not in answer
            assert answer["answer_set"]["calibrated_on"] == 0 and answer["answer_set"]["taught"]
            want = [*own, NOT_CLOTH] if pid == last else list(own)
            assert partly[pid].uncertain and answer["uncertain_reasons"] == want
        for pid in [p for p in truth if getattr(cat.label(p), "tradition", None)]:
            cat.set_label(pid, tradition=None, certainty=None, keep=False)
        assert not FewShot.from_catalog(cat, SHA, graph=graph).ranks
        apply_to_catalog(cat, graph)
        back = cat.predictions(SHA)
        for pid in truth:
            answer = back[pid].result
            assert back[pid].uncertain
            assert "model_flag" not in answer and answer["answer_set"]["calibrated_on"] == 0
            want = [*own, NOT_CLOTH] if pid == last else list(own)
            assert answer["uncertain_reasons"] == want


def test_a_photo_unlike_every_taught_tradition_is_flagged_so() -> None:
    """Teaching pulls a photo of a tradition nobody taught to the nearest taught one; a photo
    less like every taught tradition than 9 in 10 confirmed photos are like their own is
    flagged, however sure its answer."""
    from saree_app.collection.fewshot import _calibrate_sets, _taught_flag, unlike_taught

    names = [f"t{i}" for i in range(4)]
    probs = [{n: (0.97 if n == names[i % 4] else 0.01) for n in names} for i in range(20)]
    truth = [names[i % 4] for i in range(20)]
    likeness = [0.5 + 0.02 * i for i in range(20)]
    sets = _calibrate_sets(probs, truth, likeness=likeness)
    assert sets is not None and sets.unlike == pytest.approx(np.quantile(likeness, 0.1))
    assert "flagged as perhaps of a tradition you have not taught" in sets.text()
    assert _calibrate_sets(probs, truth).unlike is None  # type: ignore[union-attr]
    reason = unlike_taught(0.1)
    assert reason.startswith("nearly all of your confirmed photos (90%) look more like the")
    sure = sets.confident_lead + 0.001
    assert _taught_flag(sure, sets, (), likeness=0.51) == (True, (reason,))
    assert _taught_flag(sure, sets, (), likeness=0.60) == (False, ())
    assert _taught_flag(sure, sets, ()) == (False, ())  # nothing to compare with
    # Behind the line: said in how many times likelier the first tradition was.
    strict = dataclasses.replace(sets, confident_lead=float(np.log(1000.0)))
    flagged, why = _taught_flag(float(np.log(40.0)), strict, ())
    assert flagged and "no more than 40 times as likely as the second" in why[0]
    far = dataclasses.replace(sets, confident_lead=float(np.log(1e8)))
    flagged, why = _taught_flag(float(np.log(2e6)), far, ())
    assert flagged and "further ahead than this one (already over a million" in why[0]
    # Teaching does not make a thumbnail show its weave: that reason stays, the model's go.
    from saree_app.model.predict import too_small

    small = too_small((40, 30), 256)
    assert small is not None
    model_said = (small, "the model sees little evidence for any of its traditions")
    assert _taught_flag(sure, sets, model_said, likeness=0.60) == (True, (small,))


def test_photos_of_a_tradition_nobody_taught_say_so_after_teaching(tmp_path: Path) -> None:
    from saree_app.collection.fewshot import unlike_taught

    rng = np.random.default_rng(21)
    names = ("Kotpad", "Ilkal", "Gadwal", "Untaught")
    centres = {t: rng.normal(size=DIM) for t in names}
    with Catalog(tmp_path / "c.saree") as cat:
        truth = _tiled_photos(cat, rng, centres, 40, 0.15)
        for t in names[:3]:  # the fourth is never confirmed
            for pid in [p for p, x in truth.items() if x == t][:5]:
                cat.set_label(pid, tradition=t)
        graph = _graph()
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        assert fs.reliability is not None and fs.reliability.sets is not None
        assert fs.reliability.sets.unlike is not None
        apply_to_catalog(cat, graph, fewshot=fs)
        preds = cat.predictions(SHA)
        reason = unlike_taught(1.0 - fs.reliability.sets.level)

        def said(t: str) -> float:
            rest = [p for p, x in truth.items() if x == t and cat.label(p) is None]
            return float(np.mean([reason in preds[p].result["uncertain_reasons"] for p in rest]))

        assert said("Untaught") == 1.0
        assert max(said(t) for t in names[:3]) <= 0.2


def test_the_line_for_an_untaught_tradition_follows_how_alike_the_traditions_look() -> None:
    """The confirmed photos show what a photo of a taught tradition scores (their likeness to
    their own, each left out) and what it would score untaught (to the others): the line
    catches 80% of the second, between the 10% and 50% quantiles of the first."""
    from saree_app.collection.fewshot import _calibrate_sets, _unlike_line, unlike_taught

    own = [0.6 + 0.01 * i for i in range(20)]  # 0.60 .. 0.79
    # Traditions far apart: the others score far below; the line stays at the 10% quantile.
    line, share = _unlike_line(own, [0.2 + 0.005 * i for i in range(20)])  # type: ignore[misc]
    assert line == pytest.approx(np.quantile(own, 0.1)) and share == 0.1
    # Traditions that look alike: what an untaught photo scores reaches into the taught; the
    # line rises no further than the median.
    line, share = _unlike_line(own, [0.65 + 0.01 * i for i in range(20)])  # type: ignore[misc]
    assert line == pytest.approx(np.quantile(own, 0.5)) and share == pytest.approx(0.5)
    # Between: 80% of the untaught scores fall below it.
    elsewhere = [0.55 + 0.007 * i for i in range(20)]
    line, share = _unlike_line(own, elsewhere)  # type: ignore[misc]
    assert line == pytest.approx(np.quantile(elsewhere, 0.8))
    assert np.quantile(own, 0.1) < line < np.quantile(own, 0.5)
    assert share == pytest.approx(np.mean(np.array(own) < line))
    assert _unlike_line(own[:3], elsewhere) is None  # too few to measure
    assert _unlike_line(own, [])[0] == pytest.approx(np.quantile(own, 0.1))  # type: ignore[index]

    names = [f"t{i}" for i in range(4)]
    probs = [{n: (0.97 if n == names[i % 4] else 0.01) for n in names} for i in range(20)]
    truth = [names[i % 4] for i in range(20)]
    sets = _calibrate_sets(probs, truth, likeness=own, likeness_elsewhere=elsewhere)
    assert sets is not None and sets.unlike == pytest.approx(line, abs=1e-6)
    said = f"when {1 - sets.unlike_share:.0%} of your confirmed photos look more like the others"
    assert said in sets.text()
    assert f"({1 - sets.unlike_share:.0%})" in unlike_taught(sets.unlike_share)


def test_taught_answers_read_as_sure_as_they_are_right() -> None:
    """Taught evidence is weighed to rank well, so answers right half the time read 100%. The
    spread fitted on the confirmed photos (held back in turn) reads them as sure as they
    were right; a collection whose answers were all right keeps them as they are."""
    from saree_app.collection.fewshot import (
        SPREADS,
        AnswerSets,
        FewShot,
        Reliability,
        _calibrate_sets,
        _fit_spread,
        _taught_flag,
    )
    from saree_app.knowledge.fusion import FusionWeights

    names = [f"t{i}" for i in range(4)]
    truth = [names[i % 4] for i in range(40)]
    # Each answer's first tradition at e^12 times the rest; right on every other photo (the
    # wrong ones put the right tradition second).
    probs = []
    for i, t in enumerate(truth):
        first = t if i % 2 == 0 else names[(i + 1) % 4]
        second = names[(i + 1) % 4] if i % 2 == 0 else t
        logp = dict.fromkeys(names, 0.0) | {first: 12.0, second: 6.0}
        z = np.exp(np.array(list(logp.values())) - 12.0)
        probs.append(dict(zip(logp, z / z.sum(), strict=True)))
    assert np.mean([max(p.values()) for p in probs]) > 0.99
    spread = _fit_spread(probs, truth)
    assert spread in SPREADS and spread > 4
    read = []
    for p in probs:
        z = np.log(np.array(list(p.values()))) / spread
        read.append(float(np.exp(z.max() - np.log(np.exp(z).sum()))))
    # Right on half of them: read near that (the most likely spread, on a grid of steps of
    # the square root of 2), where they read over 99% before.
    assert 0.5 <= np.mean(read) < 0.7
    # All right: as sure as they are.
    sure = [{n: (0.97 if n == t else 0.01) for n in names} for t in truth]
    assert _fit_spread(sure, truth) == 1.0
    assert _fit_spread([], []) == 1.0

    sets = _calibrate_sets(probs, truth)
    assert sets is not None and sets.spread == spread
    # What the curator is told: how sure the held-back answers read, and how many were right.
    assert sets.stated is not None and 0.5 <= sets.stated < 0.7 and sets.stated_right == 0.5
    assert f"claimed about {sets.stated:.0%} for their first tradition and were right 50% " \
        "of the time" in sets.text()  # fmt: skip
    assert dataclasses.replace(sets, stated=None).sureness() == ""
    # The flag's words are in the probabilities the curator reads, not the raw scores.
    strict = dataclasses.replace(
        sets, confident_lead=float(np.log(1e5)), confident_photos=10, confident_right=9, spread=2.0
    )
    flagged, why = _taught_flag(float(np.log(1600.0)), strict, ())
    assert flagged and "no more than 40 times as likely as the second" in why[0]
    line = AnswerSets(
        size=2, level=0.9, photos=40, coverage=0.9, single=0, single_right=0,
        confident_lead=float(np.log(2500.0)), confident_photos=10, confident_right=9, spread=2.0,
    )  # fmt: skip
    assert "at least 50 times as likely as the second" in line.text()
    # Teaching hands the spread to the fusion once the sets are calibrated; before, none.
    fit = Reliability(20, 40, 5, 32.0, 0.3, ("whole",), True, sets=sets)
    examples = {n: [np.eye(4)[k]] for k, n in enumerate(names)}
    taught = FewShot(examples, parts=("whole",), reliability=fit, weight=32.0)
    assert taught.fusion_weights(FusionWeights()).spread == spread
    unfit = FewShot(examples, parts=("whole",), reliability=dataclasses.replace(fit, sets=None))
    assert unfit.fusion_weights().spread == 1.0


def test_a_collection_where_teaching_errs_reads_its_answers_less_sure(tmp_path: Path) -> None:
    """Three traditions whose cloth overlaps: teaching is right on about two in three of the
    confirmed photos, so the stored answers are read at a spread above 1, kept with them, and
    their first traditions read less sure than the raw scores say."""
    cat, truth = _three_traditions(tmp_path, seed=5, photos=60, cloth_spread=1.8, confirmed=10)
    with cat:
        graph = _graph()
        fs = FewShot.from_catalog(cat, SHA, graph=graph)
        fit = fs.reliability
        assert fit is not None and fit.sets is not None and fit.right < fit.total
        assert fit.sets.spread > 1.0
        apply_to_catalog(cat, graph, fewshot=fs)
        preds = cat.predictions(SHA)
        rest = [pid for pid in truth if cat.label(pid) is None]
        raw_tops, read_tops = [], []
        for pid in rest:
            result = preds[pid].result
            assert result["spread"] == fit.sets.spread
            scores = np.array([r["score"] for r in result["ranking"]])
            raw = np.exp(scores - scores.max())
            raw_tops.append(float(raw.max() / raw.sum()))
            read_tops.append(result["ranking"][0]["probability"])
            assert preds[pid].top_probability == pytest.approx(read_tops[-1], abs=1e-6)
        assert np.mean(read_tops) < np.mean(raw_tops) - 0.05
        right = np.mean([preds[pid].top_tradition == truth[pid] for pid in rest])
        # Read as sure as teaching was right, give or take.
        assert abs(np.mean(read_tops) - right) < 0.25


def test_teaching_undone_gives_back_the_models_own_answer_set(tmp_path: Path) -> None:
    """One confirmed photo a tradition re-ranks answers without checking them: their set is
    marked taught, unchecked. Undoing every confirmation must give the model's own set back,
    not leave it marked taught (the export would say "from your teaching" of an untaught
    answer)."""
    rng = np.random.default_rng(5)
    names = ("Kotpad", "Ilkal", "Gadwal")
    centres = {t: rng.normal(size=DIM) for t in names}
    truth = {}
    with Catalog(tmp_path / "c.saree") as cat:
        for i in range(9):
            t = names[i % 3]
            cloth = centres[t] + 0.15 * rng.normal(size=DIM)
            truth[_unsure_photo(cat, i, cloth, rng.normal(size=DIM))] = t
        graph = _graph()
        _confirm(cat, truth, 1)
        teach = FewShot.from_catalog(cat, SHA, graph=graph)
        assert teach.ranks and teach.reliability is not None and teach.reliability.sets is None
        apply_to_catalog(cat, graph, fewshot=teach)
        rest = [p for p in truth if cat.label(p) is None]
        assert all(cat.predictions(SHA)[p].result["answer_set"].get("taught") for p in rest)
        for pid in [p for p in truth if getattr(cat.label(p), "tradition", None)]:
            cat.set_label(pid, tradition=None, certainty=None, keep=False)
        apply_to_catalog(cat, graph)
        for pid, stored in cat.predictions(SHA).items():
            assert not stored.result.get("fewshot"), pid
            assert "taught" not in stored.result["answer_set"], pid


def test_the_models_own_set_says_when_its_calibration_does_not_hold(tmp_path: Path) -> None:
    """A photo the model flags as unlike its training photos keeps that in its stored set,
    through teaching and its undoing, so the export claims no level for it."""
    from saree_app.collection.export import _answer_set_words
    from saree_app.model.familiar import UNLIKE_TRAINING

    rng = np.random.default_rng(5)
    names = ("Kotpad", "Ilkal", "Gadwal")
    centres = {t: rng.normal(size=DIM) for t in names}
    truth, unlike = {}, set()
    with Catalog(tmp_path / "c.saree") as cat:
        for i in range(9):
            t = names[i % 3]
            cloth = centres[t] + 0.15 * rng.normal(size=DIM)
            reasons = (UNLIKE_TRAINING,) if i % 2 else ()
            pid = _unsure_photo(cat, i, cloth, rng.normal(size=DIM), reasons)
            truth[pid] = t
            if reasons:
                unlike.add(pid)
        graph = _graph()
        _confirm(cat, truth, 1)
        apply_to_catalog(cat, graph, fewshot=FewShot.from_catalog(cat, SHA, graph=graph))
        for pid in [p for p in truth if getattr(cat.label(p), "tradition", None)]:
            cat.set_label(pid, tradition=None, certainty=None, keep=False)
        apply_to_catalog(cat, graph)
        for pid, stored in cat.predictions(SHA).items():
            found = stored.result["answer_set"]
            assert bool(found.get("unlike_training")) == (pid in unlike), pid
            words = _answer_set_words(graph, found)
            assert words is not None
            assert ("no level claimed" in words) == (pid in unlike)
            assert ("90%" in words) == (pid not in unlike)


def test_a_taught_tradition_the_curator_added_is_placed_where_they_said(tmp_path: Path) -> None:
    """With the real graph: the answers' likely state counts a curator's tradition in the state
    they typed for it, in the stored answers (the exports read them) and on the photo page."""
    from saree_app.collection.export import export
    from saree_app.collection.traditions import CuratorTradition, add_tradition

    rng = np.random.default_rng(3)
    cat, truth = _catalogue(tmp_path, rng)
    graph = _graph()
    with cat:
        add_tradition(cat.path, CuratorTradition("Kotpad", "Odisha", "East India", None))
        _confirm(cat, truth, 3)
        apply_to_catalog(cat, graph=graph)
        unlabelled = [pid for pid in truth if cat.label(pid) is None]
        kotpad = [pid for pid in unlabelled if truth[pid] == "Kotpad"]
        preds = cat.predictions(SHA)
        states = {s["label"]: s["probability"] for s in preds[kotpad[0]].result["states"]}
        assert preds[kotpad[0]].top_tradition == "Kotpad"
        assert max(states, key=lambda k: states[k]) == "Odisha"
        table = list(csv.DictReader(io.StringIO(export(cat, "csv", graph=graph))))
        row = next(r for r in table if int(r["id"]) == kotpad[0])
        assert row["likely_state"] == "Odisha"
        teach = FewShot.from_catalog(cat, SHA, graph=graph)
        assert teach.places == {"Kotpad": ("Odisha", "East India")}
        # A place typed anew reaches the teaching though nothing was written to the catalogue.
        add_tradition(cat.path, CuratorTradition("Kotpad", "Chhattisgarh", "Central India", None))
        assert FewShot.from_catalog(cat, SHA, graph=graph).places["Kotpad"][0] == "Chhattisgarh"


def test_a_model_is_not_asked_about_the_photos_it_was_trained_on(tmp_path: Path) -> None:
    """A model retrained from the catalogue is right on its own training photos: the fit must
    not weigh teaching against that (it gave teaching too small a weight on real photos), nor
    count them as the model's own right answers."""
    import hashlib
    import json

    from saree_app.collection.models import remember_model
    from saree_app.model.manifest import TRAINED_DIGITS

    path = tmp_path / "c.saree"
    cat = Catalog(path)
    rng = np.random.default_rng(5)
    truth, shas = {}, {}
    for i in range(12):
        t = ("Kanchipuram", "Banarasi")[i % 2]
        other = ("Banarasi", "Kanchipuram")[i % 2]
        v = rng.normal(size=DIM)  # no relation to the tradition
        sha = hashlib.sha256(f"photo {i}".encode()).hexdigest()
        pid = cat.record(
            NewPhoto(f"/p/{i}.jpg", sha, 10),
            SHA,
            {"visual": [[t, 0.7], [other, 0.3]], "attributes": []},
            top_tradition=t,
            top_probability=0.7,
            uncertain=False,
            embedding=v.astype(np.float32),
            part_embeddings=np.stack([v, v, v]).astype(np.float32),
        )
        truth[pid], shas[pid] = t, sha
    graph = _graph()
    with cat:
        _confirm(cat, truth, 5)
        confirmed = sorted(pid for pid in truth if cat.label(pid) is not None)
        as_shipped = fit_teaching(cat, SHA, graph)
        assert as_shipped.untaught_right == 10 and as_shipped.weight <= 4
        # The same model, retrained on 8 of the 10 confirmed photos, as its manifest says.
        trained = confirmed[:8]
        manifest = tmp_path / "model" / "saree-model.json"
        manifest.parent.mkdir()
        manifest.write_text(
            json.dumps(
                {
                    "sha256": SHA,
                    "labels": ["Banarasi", "Kanchipuram"],
                    "onnx": "saree-model.onnx",
                    "training": {"trained_photos": [shas[p][:TRAINED_DIGITS] for p in trained]},
                }
            ),
            encoding="utf-8",
        )
        remember_model(path, manifest)
        fit = fit_teaching(cat, SHA, graph)
        # What the model says of its training photos does not count: told the opposite of
        # each, the fit is the same.
        for pid in trained:
            t = truth[pid]
            other = "Banarasi" if t == "Kanchipuram" else "Kanchipuram"
            cat.put_prediction(
                pid,
                SHA,
                {"visual": [[other, 0.9], [t, 0.1]], "attributes": []},
                top_tradition=other,
                top_probability=0.9,
                uncertain=False,
            )
        swapped = fit_teaching(cat, SHA, graph)
    assert fit.fitted and fit.total == 10
    assert (swapped.right, swapped.weight, swapped.ref, swapped.untaught_right) == (
        fit.right,
        fit.weight,
        fit.ref,
        fit.untaught_right,
    )
    # The model is asked only about the two it was not trained on.
    assert fit.untaught_of == 2 and fit.untaught_right == 2
    assert "without teaching: 2 of the 2 the model was not trained on" in fit.text()
    # Its right answers on the photos it learnt no longer buy it a say: the weight is larger
    # than the one the same model got when nothing said it was trained on them.
    assert fit.weight > as_shipped.weight
    # Nor does a tradition nobody taught win a confirmed photo the model was trained on: the
    # model, trained on the taught ones alone, keeps them out of reach.
    taken = {t for c in fit.by_tradition for t, _ in c.taken_for}
    assert taken and taken <= {"Kanchipuram", "Banarasi"}


def test_one_rule_says_whether_an_answer_claims_a_level() -> None:
    """`claims_level` (a live answer) agrees with the headline `set_words` writes, and
    `stored_set_claims_level` (a stored answer set) with the sets stored for it."""
    from saree_app.collection.fewshot import (
        AnswerSets,
        _models_own_set,
        claims_level,
        set_words,
        stored_set_claims_level,
    )
    from saree_app.model.familiar import UNLIKE_TRAINING

    sets = AnswerSets(size=2, level=0.9, photos=24, coverage=0.917, single=10, single_right=9)
    ranking = [SimpleNamespace(tradition=t) for t in ("Banarasi", "Kanchipuram", "Paithani")]
    for taught in (False, True):
        for unlike in (False, True):
            pred = SimpleNamespace(
                fused=SimpleNamespace(ranking=ranking),
                answer_set=lambda: ["Banarasi"],
                is_taught=lambda taught=taught: taught,
                looks_unlike_training=lambda unlike=unlike: unlike,
            )
            for s in (None, sets):
                for examples in (0, 3):
                    head, _how = set_words(pred, str, s, examples=examples)
                    none = "no level claimed" in head or "not yet checked" in head
                    assert claims_level(pred, s, examples) is not none, (taught, unlike, s)
    # Stored: calibrated on confirmed photos, it claims its level; by the model's own
    # calibration, not when taught or unlike the model's training photos.
    assert stored_set_claims_level(sets.stored_set(["Banarasi", "Kanchipuram"]))
    ranked = [
        {"tradition": "Banarasi", "probability": 0.7},
        {"tradition": "Paithani", "probability": 0.3},
    ]
    assert stored_set_claims_level(_models_own_set({"ranking": ranked}))
    assert not stored_set_claims_level(
        _models_own_set({"ranking": ranked, "fewshot": {"Banarasi": 0.4}})
    )
    unlike_set = _models_own_set({"ranking": ranked, "uncertain_reasons": [UNLIKE_TRAINING]})
    assert not stored_set_claims_level(unlike_set)
    assert stored_set_claims_level(None) and stored_set_claims_level({})


def test_a_taught_answer_says_how_its_tradition_fared_on_the_confirmed_photos() -> None:
    """Fourth walk: a taught Kanchipuram answer showed at 91% while the teaching panel said its
    confirmed photos came back right 2 times in 6; the answer's words now say so."""
    from types import SimpleNamespace

    from saree_app.collection.fewshot import TraditionCheck, set_words

    ranked = [SimpleNamespace(tradition="Kanchipuram"), SimpleNamespace(tradition="Paithani")]
    pred = SimpleNamespace(
        fused=SimpleNamespace(ranking=ranked),
        answer_set=lambda: ["Kanchipuram", "Paithani"],
        is_taught=lambda: True,
        looks_unlike_training=lambda: False,
    )
    checks = (
        TraditionCheck("Kanchipuram", 2, 6, (("Paithani", 4),)),
        TraditionCheck("Paithani", 5, 5),
    )
    _, how = set_words(pred, str.upper, None, taught=2, examples=11, checks=checks)
    assert "right on 2 of your 6 confirmed photos of KANCHIPURAM when each was held back" in how
    _, without = set_words(pred, str.upper, None, taught=2, examples=11)
    assert "2 of your 6" not in without
    # An answer teaching did not make (the model's own) says nothing of teaching's check.
    pred.is_taught = lambda: False
    _, own = set_words(pred, str.upper, None, taught=2, examples=11, checks=checks)
    assert "2 of your 6" not in own
