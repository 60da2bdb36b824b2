"""How much likelier a first tradition is than the second reads sensibly at any lead:
"no more likely than" rather than "no more than 1 times as likely as"."""

from __future__ import annotations

import math

from saree_app.collection.fewshot import AnswerSets, _taught_flag, likely_words


def test_small_multiples_are_said_in_words() -> None:
    assert likely_words(0.0, most=True) == "no more likely than"
    assert likely_words(0.01, most=False) == "any more likely than"
    assert likely_words(math.log(2), most=True) == "no more than twice as likely as"
    assert likely_words(math.log(2), most=False) == "at least twice as likely as"
    assert likely_words(math.log(2.5), most=True) == "no more than 2.5 times as likely as"
    assert likely_words(math.log(40), most=False) == "at least 40 times as likely as"


def test_a_flag_on_an_even_answer_does_not_say_1_times() -> None:
    sets = AnswerSets(
        size=2,
        level=0.9,
        photos=20,
        coverage=0.9,
        single=10,
        single_right=9,
        confident_lead=math.log(50),
        confident_photos=10,
        confident_right=9,
    )
    flagged, why = _taught_flag(0.0, sets, ())
    assert flagged
    assert "answers whose first tradition was no more likely than the second, as here" in why[-1]
    assert "1 times" not in " ".join(why)
    even = AnswerSets(20, 0.9, 20, 0.9, 10, 9, confident_lead=0.0, confident_photos=10)
    assert "answers whose first tradition is any more likely than the second" in even.text()
    assert "1 times" not in even.text()
