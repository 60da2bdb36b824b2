"""Evidence, answer sets and doubts in a curator's words."""

from __future__ import annotations

from types import SimpleNamespace

from saree_app.knowledge.fusion import Evidence
from saree_app.knowledge.words import (
    answer_set_words,
    evidence_line,
    names_or,
    part_lines,
    pct,
    plain_reason,
)


def label_of(term: str) -> str:
    return {"TempleBorder": "temple border", "Silk": "silk", "TamilNadu": "Tamil Nadu"}.get(
        term, term
    )


def test_the_models_score_reads_as_a_likeness() -> None:
    raw = "the model's visual score for Paithani: p = 0.95 (1 of 12 ...): +1.86"
    ev = Evidence("visual", "Paithani", ("model", "Paithani"), None, 0.953, 1.86, raw)
    line = evidence_line(ev, "Paithani", label_of)
    assert line == "the whole saree looks like Paithani's: 95%"
    assert "p =" not in line and "+1.86" not in line


def test_attributes_say_seen_or_missing_and_how_usual() -> None:
    seen = Evidence("attribute", "TempleBorder", ("Kanchipuram", "hasAttribute", "TempleBorder"),
                    0.9, 0.97, 1.2, "...")  # fmt: skip
    assert evidence_line(seen, "Kanchipuram", label_of) == (
        "temple border seen (97%): usual in Kanchipuram"
    )
    missing = Evidence("attribute", "TempleBorder", ("Kanchipuram", "hasAttribute", "TempleBorder"),
                       0.9, 0.02, -0.8, "...")  # fmt: skip
    assert evidence_line(missing, "Kanchipuram", label_of) == (
        "hardly any temple border (2%), though it is usual in Kanchipuram"
    )
    stranger = Evidence("attribute", "TempleBorder", ("Jamdani", "TempleBorder"), 0.05, 0.9,
                        -0.5, "...")  # fmt: skip
    assert "Jamdani is not known for" in evidence_line(stranger, "Jamdani", label_of)


def test_the_curators_record_and_teaching_in_words() -> None:
    fibre = Evidence("fibre", "Silk", ("Kanchipuram", "fibre", "Silk"), None, None, 0.0, "...")
    assert "woven from silk, as you recorded" in evidence_line(fibre, "Kanchipuram", label_of)
    far = Evidence("region", "TamilNadu", ("Jamdani", "region"), None, 4.0, -4.0, "...")
    assert evidence_line(far, "Jamdani", label_of) == (
        "acquired in Tamil Nadu, far from where Jamdani is made"
    )
    taught = Evidence("fewshot", "Ilkal", ("curator", "Ilkal"), None, 0.8, 2.0, "...")
    assert evidence_line(taught, "Ilkal", label_of) == "close to the photos you confirmed as Ilkal"


def test_parts_say_what_they_look_like() -> None:
    parts = [
        SimpleNamespace(part="border", area=0.2, ranking=[("Paithani", 0.95), ("Banarasi", 0.03)]),
        SimpleNamespace(part="pallu", area=0.1, ranking=[("Banarasi", 0.6), ("Paithani", 0.1)]),
        SimpleNamespace(part="body", area=0.0, ranking=[("Paithani", 0.9)]),  # not in the photo
    ]
    assert part_lines(parts, "Paithani", label_of) == [
        "the border looks like Paithani's: 95%",
        "the pallu looks more like Banarasi's (60%) than Paithani's (10%)",
    ]


def test_answer_sets_say_how_sure_and_on_what() -> None:
    assert names_or(["Kanchipuram", "Banarasi"]) == "Kanchipuram or Banarasi"
    assert names_or(["A", "B", "C"]) == "A, B or C"
    assert names_or(list("ABCDEFG")) == "one of 7 traditions: A, B, C and 4 more"
    head, how = answer_set_words(["Kanchipuram", "Banarasi"], 0.9, calibrated_on=24, coverage=0.917)
    assert head == "Kanchipuram or Banarasi — 90% sure it is one of these"
    assert how == (
        "Checked on 24 of your confirmed photos: the set held the right tradition 92% of the time."
    )
    _, model_own = answer_set_words(["Kanchipuram", "Banarasi"], 0.9)
    assert "model's own reckoning" in model_own and "rendered sarees" in model_own
    assert answer_set_words([], 0.9, calibrated_on=24, coverage=0.9)[0].startswith("No tradition")
    assert answer_set_words(["Paithani"], 0.9)[0] == "Paithani — at least 90% sure"
    assert answer_set_words(list("ABCDEFG"), 0.9)[0] == (
        "Could be any of 7 traditions (90% sure it is one of them): A, B, C and 4 more"
    )


def test_a_photo_unlike_the_training_photos_gets_no_level_claimed() -> None:
    """The model's calibration was made on rendered sarees; for a photo that looks unlike
    them the set is named without a level, and the curator is told why."""
    head, how = answer_set_words(list("ABCDEFG"), 0.9, unlike_training=True)
    assert (
        head == "Could be any of 7 traditions: A, B, C and 4 more — no level claimed for this photo"
    )
    assert "90% sure" not in head and "would give this set 90%" in how
    assert "looks unlike them" in how
    assert answer_set_words(["A", "B"], 0.9, unlike_training=True)[0].startswith("A or B — no")
    # Checked on the curator's photos, the set's level is theirs and is stated.
    head, _ = answer_set_words(
        ["A", "B"], 0.9, calibrated_on=24, coverage=0.9, unlike_training=True
    )
    assert head == "A or B — 90% sure it is one of these"


def test_a_set_checked_on_confirmed_photos_says_it_speaks_for_their_traditions() -> None:
    """Calibrated on confirmed photos, a set speaks for the traditions taught: the curator is
    told that a saree of another tradition is answered with the nearest taught one."""
    _, how = answer_set_words(["Kanchipuram"], 0.9, calibrated_on=12, coverage=1.0, taught=4)
    assert how.startswith("Checked on 12 of your confirmed photos")
    assert "sarees of the 4 traditions you have confirmed" in how
    assert "another tradition is answered with the nearest of them" in how
    _, one = answer_set_words(["Kanchipuram"], 0.9, calibrated_on=12, coverage=1.0, taught=1)
    assert "sarees of the tradition you have confirmed" in one
    # The model's own set is not about confirmed photos: nothing said of them.
    _, model_own = answer_set_words(["Kanchipuram"], 0.9, taught=4)
    assert "you have confirmed" not in model_own


def test_reasons_lose_the_analysts_figures() -> None:
    raw = (
        "the photo looks unlike every tradition the model was trained on (closest: Kasavu, "
        "similarity 0.43, usual at least 0.55); it may be a tradition the model does not know"
    )
    assert plain_reason(raw) == (
        "The photo looks unlike every tradition the model was trained on; this saree may be of "
        "a tradition the model was not trained on"
    )
    combined = (
        "several signs are weak together: best match Kasavu at 40%, similarity to the nearest "
        "known tradition 0.52, parts backing the answer 33%"
    )
    assert plain_reason(combined) == (
        "Several signs are weak together: on the picture alone, the best match, Kasavu, has only "
        "40% (the ranking's figures also weigh the knowledge graph); the parts back it 33%"
    )
    assert "0." not in plain_reason(combined)


def test_the_pictures_own_figures_are_said_to_be_its_own() -> None:
    # The ranking beside these says 56% for the same tradition: it adds the knowledge graph.
    assert plain_reason("the visual evidence is weak: the best match, Paithani, has only 60%") == (
        "The picture points to no tradition clearly: on the picture alone, the best match, "
        "Paithani, has only 60% (the ranking's figures also weigh the knowledge graph)"
    )
    assert plain_reason("Jamdani (Bengal) and Kasavu are nearly tied (41% vs 38%)") == (
        "On the picture alone, Jamdani (Bengal) and Kasavu are nearly tied (41% vs 38%; the "
        "ranking's figures also weigh the knowledge graph)"
    )


def test_one_way_to_write_a_percentage() -> None:
    assert [pct(p) for p in (0.0, 0.004, 0.006, 0.8596, 0.875, 1.0)] == [
        "0%", "<1%", "1%", "86%", "88%", "100%"
    ]  # fmt: skip


def test_a_taught_answer_nothing_has_checked_claims_no_level() -> None:
    """Re-ranked by teaching before the confirmed photos can check it (one a tradition, say),
    an answer's percentages are not odds: on real photos 64% stated for 28% right, and sets by
    the model's 90% rule held the right one 43% of the time. The words claim no level, say
    what was taught and what checking it takes."""
    head, how = answer_set_words(["Paithani"], 0.9, taught_from=6, checkable=0)
    assert head == "Paithani — from your teaching, not yet checked"
    assert "%" not in head and "sure" not in head
    assert how.startswith("Taught from your 6 confirmed photos, not yet checked")
    assert "once 10 of your confirmed photos have another photo of their tradition confirmed" in how
    assert "(0 so far)" in how and "not odds" in how
    assert "rendered sarees" not in how  # not the model's own reckoning any more
    assert answer_set_words(["A", "B"], 0.9, taught_from=1)[1].startswith(
        "Taught from your 1 confirmed photo,"
    )
    assert answer_set_words(list("ABCDEFG"), 0.9, taught_from=7)[0] == (
        "Could be any of 7 traditions: A, B, C and 4 more — from your teaching, not yet checked"
    )
    # Once checked, the calibrated words speak, whatever taught it.
    checked, _ = answer_set_words(["A"], 0.9, calibrated_on=12, coverage=0.9, taught_from=12)
    assert checked == "A — at least 90% sure"
    # The model's own set says what checking it on the curator's photos takes, accurately
    # (ten confirmed photos of one tradition each do not check anything).
    _, own = answer_set_words(["A"], 0.9, checkable=4)
    assert "have another photo of their tradition confirmed (4 so far)" in own


def test_a_set_of_every_taught_tradition_does_not_claim_to_narrow_anything() -> None:
    """Fourth walk: "Kanchipuram silk, Kota Doria or Paithani — 90% sure it is one of these"
    on a saree of a tradition nobody taught; a calibrated set naming every taught tradition
    says it does not tell them apart."""
    three = ["Kanchipuram silk", "Kota Doria", "Paithani"]
    head, how = answer_set_words(three, 0.9, calibrated_on=12, coverage=0.92, taught=3)
    assert head == "Could be any of the traditions you have taught: " + names_or(three)
    assert "%" not in head and "sure" not in head
    assert "does not tell them apart" in how and "Checked on 12" in how
    # A set narrower than what was taught still claims its level.
    head2, _ = answer_set_words(three[:2], 0.9, calibrated_on=12, coverage=0.92, taught=3)
    assert head2 == "Kanchipuram silk or Kota Doria — 90% sure it is one of these"
    # The model's own set is not about taught traditions.
    head3, _ = answer_set_words(three, 0.9)
    assert head3.endswith("90% sure it is one of these")
