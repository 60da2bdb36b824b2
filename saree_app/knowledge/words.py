"""Evidence, answer sets and doubts in a curator's words; the numbers stay for the details.

The fusion writes each piece of evidence for an analyst ("p = 0.93 (1 of 12 traditions it
knows): +1.86"); a curator reads "the whole saree looks like Paithani's: 93%". These functions
turn the one into the other from the evidence's fields, not by rewriting its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

Labeller = Callable[[str], str]


def pct(p: float) -> str:
    """A probability as the app shows it everywhere (GUI, `saree classify`, exports)."""
    return "<1%" if 0 < p < 0.005 else f"{p:.0%}"


def _how_usual(typicality: float | None) -> str:
    if typicality is None:
        return "known"
    if typicality >= 0.7:
        return "usual"
    if typicality >= 0.4:
        return "common"
    return "found now and then"


def evidence_line(ev: Any, label: str, label_of: Labeller) -> str:
    """One fusion Evidence for tradition `label`, as a curator would say it."""
    kind, seen = ev.kind, ev.observed
    if kind == "visual":
        if seen is None:
            return (
                f"the model was not trained on {label}: it is ranked from what the knowledge "
                "graph says it looks like"
            )
        return f"the whole saree looks like {label}'s: {pct(float(seen))}"
    if kind == "attribute":
        what = label_of(ev.term)
        p = float(seen) if seen is not None else 0.0
        if len(ev.path) == 2:  # the graph does not link this tradition to it
            if p >= 0.5:
                return f"{what} seen ({pct(p)}), which {label} is not known for"
            return f"no clear {what} ({pct(p)}); {label} is not known for it anyway"
        usual = _how_usual(ev.typicality)
        if p >= 0.5:
            return f"{what} seen ({pct(p)}): {usual} in {label}"
        if ev.contribution >= 0:
            return f"perhaps {what} ({pct(p)}): {usual} in {label}"
        return f"no {what} seen ({pct(p)}), though it is {usual} in {label}"
    if kind == "fibre":
        if ev.contribution >= 0:
            return f"woven from {label_of(ev.term)}, as you recorded; so is {label}"
        return f"you recorded {label_of(ev.term)}; {label} is usually woven from something else"
    if kind == "region":
        steps = int(seen or 0)
        where = label_of(ev.term)
        if steps == 0:
            return f"acquired in {where}, where {label} is made"
        if steps <= 2:
            return f"acquired in {where}, not far from where {label} is made"
        return f"acquired in {where}, far from where {label} is made"
    if kind == "fewshot":
        if ev.contribution >= 0:
            return f"close to the photos you confirmed as {label}"
        return f"unlike the photos you confirmed as {label}"
    if kind == "other":
        return "other details, each too small to name, together"
    return str(ev.text)


def part_lines(parts: Sequence[Any], top: str, label_of: Labeller) -> list[str]:
    """What each part found says about the top answer: "the border looks like Paithani's:
    95%"; a part that prefers another tradition says so."""
    out = []
    for pe in parts:
        ranking = list(pe.ranking)
        if float(pe.area) < 0.01 or not ranking:
            continue
        probs = {str(t): float(p) for t, p in ranking}
        best, best_p = str(ranking[0][0]), float(ranking[0][1])
        name = {"body": "body", "border": "border", "pallu": "pallu"}.get(pe.part, pe.part)
        if best == top or top not in probs:
            if best == top:
                out.append(f"the {name} looks like {label_of(top)}'s: {pct(best_p)}")
            else:
                out.append(f"the {name} looks like {label_of(best)}'s ({pct(best_p)})")
        else:
            out.append(
                f"the {name} looks more like {label_of(best)}'s ({pct(best_p)}) than "
                f"{label_of(top)}'s ({pct(probs[top])})"
            )
    return out


def names_or(names: Sequence[str], most: int = 4) -> str:
    """'Kanchipuram or Banarasi'; 'A, B or C'; 'one of 7: A, B, C and 4 more'."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) <= most:
        return ", ".join(names[:-1]) + " or " + names[-1]
    return f"one of {len(names)} traditions: {', '.join(names[:3])} and {len(names) - 3} more"


def answer_set_words(
    names: Sequence[str],
    level: float,
    *,
    calibrated_on: int = 0,
    coverage: float | None = None,
    needed: int = 10,
    taught: int = 0,
    taught_from: int = 0,
    checkable: int | None = None,
    unlike_training: bool = False,
) -> tuple[str, str]:
    """(headline, how it was reckoned) for an answer set of tradition names.

    calibrated_on 0: the model's own set, learnt on rendered sarees. `taught`: how many
    traditions the confirmed photos it was checked on are of (0: not said). `taught_from`:
    for an answer re-ranked by teaching that nothing has checked yet (calibrated_on 0), how
    many confirmed photos taught it. `checkable`: how many confirmed photos count towards the
    check so far, those with another photo of their tradition confirmed (None: not said).
    `unlike_training`: the model's own set for a photo unlike the photos the model learnt from;
    its calibration, made on rendered sarees, does not hold there, so no level is claimed."""
    so_far = f" ({checkable} so far)" if checkable is not None else ""
    when = (
        f"once {needed} of your confirmed photos have another photo of their tradition "
        f"confirmed{so_far}"
    )
    if taught_from and not calibrated_on:
        return _unchecked_words(names, taught_from, when)
    if unlike_training and not calibrated_on:
        return _unlike_words(names, level, when)
    if not names:
        head = f"No tradition is likely enough to name {pct(level)} surely"
    elif len(names) == 1:
        # "at least": the set's level, not the tradition's own figure shown beside it (a
        # 99% answer is a one-name set at 90%, and "90% sure" beside "99%" read as two answers).
        head = f"{names[0]} — at least {pct(level)} sure"
    elif len(names) > 4:
        # A long set is itself the answer: the photo does not narrow the tradition down.
        head = (
            f"Could be any of {len(names)} traditions ({pct(level)} sure it is one of them): "
            f"{', '.join(names[:3])} and {len(names) - 3} more"
        )
    else:
        head = f"{names_or(names)} — {pct(level)} sure it is one of these"
    if calibrated_on:
        held = f"{pct(coverage)} of the time" if coverage is not None else "as promised"
        how = (
            f"Checked on {calibrated_on} of your confirmed photos: the set held the right "
            f"tradition {held}."
        )
        if taught:
            # The check is made on confirmed photos, so on sarees of the taught traditions
            # only; on real photos a saree of another tradition is pulled to the nearest
            # taught one, and a quarter of them or more pass unflagged (`saree bench real`).
            kinds = "tradition" if taught == 1 else f"{taught} traditions"
            how += (
                f" That holds for sarees of the {kinds} you have confirmed: a saree of "
                "another tradition is answered with the nearest of them."
            )
    else:
        how = (
            "By the model's own reckoning, learnt on rendered sarees; on real photos it is "
            f"right less often. The app checks it on your photos {when}."
        )
    return head, how


def _named_without_level(names: Sequence[str]) -> str:
    """A set's traditions named with no level claimed for it."""
    if not names:
        return "No tradition stands out"
    if len(names) > 4:
        shown = ", ".join(names[:3])
        return f"Could be any of {len(names)} traditions: {shown} and {len(names) - 3} more"
    return names_or(names)


def _unlike_words(names: Sequence[str], level: float, when: str) -> tuple[str, str]:
    """The model's own set for a photo unlike the rendered sarees it learnt from: no level is
    claimed. Stated at 90% by its calibration on renders, such sets held the right tradition
    for 55.7% of realdev's real photos (`saree bench real`, untaught answer sets), and 84% of
    those photos look unlike the renders."""
    head = _named_without_level(names)
    how = (
        f"The model's own reckoning would give this set {pct(level)}, but it learnt on "
        "rendered sarees and this photo looks unlike them, so no level is claimed. The app "
        f"checks its answers on your photos {when}."
    )
    return f"{head} — no level claimed for this photo", how


def _unchecked_words(names: Sequence[str], taught_from: int, when: str) -> tuple[str, str]:
    """An answer re-ranked by teaching before the confirmed photos can check it: no level is
    claimed. Its probabilities are the model's and the taught likeness added at a weight
    nothing has measured yet, and on real photos they overstate: one confirmed photo a
    tradition, 64% stated for the first tradition, right 28% of the time; sets drawn by the
    model's own 90% rule held the right one 43% of the time (`saree bench real`)."""
    photos = "photo" if taught_from == 1 else "photos"
    head = _named_without_level(names)
    how = (
        f"Taught from your {taught_from} confirmed {photos}, not yet checked: how often "
        f"teaching is right is measured on your confirmed photos, each held back in turn, "
        f"{when}. Until then the percentages are not odds; read the answer as a lead."
    )
    return f"{head} — from your teaching, not yet checked", how


# The percentages in these reasons are the picture's alone, and differ from the ranking's, which
# adds the knowledge graph: said so, "only 60%" beside a headline "56%" read as two answers.
_ALONE = "on the picture alone (before the knowledge graph)"
_NUMBERS = (
    # "(closest: Kasavu, similarity 0.43, usual at least 0.55)" -> "(closest: Kasavu)"
    (re.compile(r",? similarity \d\.\d+(, usual at least \d\.\d+)?"), ""),
    (re.compile(r",? similarity to the nearest known tradition \d\.\d+"), ""),
    (
        re.compile(r"weak together: best match (.+?) at (\d+%)"),
        rf"weak together: {_ALONE}, the best match, \1, has only \2",
    ),
    (re.compile(r", parts backing the answer (\d+%)"), r"; the parts back it \1"),
    (
        re.compile(r"the visual evidence is weak: the best match, (.+?), has only (\d+%)"),
        rf"the picture points to no tradition clearly: {_ALONE}, the best match, \1, has only \2",
    ),
    (
        re.compile(r"^(.+) are nearly tied \((\d+%) vs (\d+%)\)$"),
        rf"{_ALONE}, \1 are nearly tied (\2 vs \3)",
    ),
)


def plain_reason(reason: str) -> str:
    """An uncertainty reason without the analyst's figures (those stay in the details),
    starting with a capital."""
    text = reason
    for pattern, repl in _NUMBERS:
        text = pattern.sub(repl, text)
    return text[:1].upper() + text[1:]
