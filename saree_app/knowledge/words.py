"""Evidence, answer sets and doubts in a curator's words; the numbers stay for the details.

The fusion writes each piece of evidence for an analyst ("p = 0.93 (1 of 12 traditions it
knows): +1.86"); a curator reads "the whole saree looks like Paithani's: 93%". These functions
turn the one into the other from the evidence's fields, not by rewriting its text.

Each line's words agree with the way it weighs, the sign of its contribution: "▲ stripes seen
(56%): usual in Chettinad cotton", "▼ some sign of zari brocade (46%), which Chettinad cotton is
not known for"; a line for evidence that hardly moves the answer is left out (`why_lines`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
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


# A piece of evidence that moves a tradition's odds by less than this (nats on its score, read
# at the answer's spread: under 5%) gets no line of its own in the "Why" list; such pieces are
# told together, in one line, when together they are not negligible too.
NEGLIGIBLE = 0.05


def _seen(what: str, p: float, more: bool) -> str:
    """How clearly the photo shows an attribute, in words that agree with which way it weighs:
    `more`, the photo shows it more than a saree of the average tradition would (its
    probability above the attribute's base rate); else less."""
    if more:
        if p >= 0.5:
            return f"{what} seen ({pct(p)})"
        if p >= 0.2:
            return f"some sign of {what} ({pct(p)})"
        return f"a faint trace of {what} ({pct(p)})"
    if p >= 0.5:
        return f"{what} not clearly seen ({pct(p)})"
    if p >= 0.2:
        return f"no clear {what} ({pct(p)})"
    return f"hardly any {what} ({pct(p)})"


def _shows_more(ev: Any) -> bool:
    """Whether the photo shows the attribute more than a saree of the average tradition (its
    probability above the attribute's base rate): the fusion's own verdict (`shown_more`).

    Without it (evidence made before the fusion kept it), from the sign: the fusion adds
    w * log(tau p / pi + (1 - tau)(1 - p) / (1 - pi)), whose sign is that of (p - pi)(tau - pi),
    tau being how typical the attribute is of the tradition. One the graph does not link to the
    tradition has the background tau, below any base rate; a linked one is taken to be more
    typical of its tradition than of most (166 of the shipped graph's 172 links to what the
    model scores), unless it was clearly seen."""
    verdict = getattr(ev, "shown_more", None)
    if verdict is not None:
        return bool(verdict)
    if len(ev.path) == 2:
        return float(ev.contribution) < 0
    return float(ev.contribution) >= 0 or float(ev.observed or 0.0) >= 0.5


def _unknown_to_model(ev: Any, label: str, own: bool) -> str:
    """The line for a tradition the model was not trained on: it gets a share of what the model
    is unsure of, which speaks for it when the model is unsure of the traditions it knows."""
    if own:
        head = f"the model was not trained on {label}, your own tradition,"
    else:
        head = (
            f"the model was not trained on {label} (it is ranked from what the knowledge graph "
            "says it looks like)"
        )
    if float(ev.contribution) >= 0:
        return f"{head} and is unsure of the traditions it knows: that leaves room for it"
    return f"{head} and leans to a tradition it knows: that leaves less room for it"


def evidence_line(ev: Any, label: str, label_of: Labeller, *, own: bool = False) -> str:
    """One fusion Evidence for tradition `label`, as a curator would say it, in words that
    agree with which way it weighs (the sign of its contribution: the ▲ or ▼ shown beside it).
    `own`: `label` is a tradition the curator taught that neither the model nor the knowledge
    graph knows."""
    kind, seen = ev.kind, ev.observed
    speaks_for = float(ev.contribution) >= 0
    if kind == "visual":
        if seen is None:
            return _unknown_to_model(ev, label, own)
        if speaks_for:
            return f"the whole saree looks like {label}'s: {pct(float(seen))}"
        # Below an even share among the model's traditions: "only", not a likeness denied.
        return f"the whole saree looks like {label}'s: only {pct(float(seen))}"
    if kind == "attribute":
        if not ev.term:  # an answer kept without words: the graph's attributes summed
            return f"the motifs and weaves the knowledge graph gives {label}, together"
        what = label_of(ev.term)
        p = float(seen) if seen is not None else 0.0
        more = _shows_more(ev)
        shown = _seen(what, p, more)
        if len(ev.path) == 2:  # the graph does not link this tradition to it
            if more:
                return f"{shown}, which {label} is not known for"
            return f"{shown}, as expected: {label} is not known for it"
        if more == speaks_for:  # more typical of the tradition than of most
            usual = _how_usual(ev.typicality)
            if more:
                return f"{shown}: {usual} in {label}"
            return f"{shown}, though it is {usual} in {label}"
        # Linked, but less typical of the tradition than of the average one.
        if more:
            return f"{shown}, which {label} has less often than most traditions"
        return f"{shown}, as fits {label}, which has it less often than most traditions"
    if kind == "fibre":
        if speaks_for:
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
        if speaks_for:
            return f"close to the photos you confirmed as {label}"
        return f"unlike the photos you confirmed as {label}"
    if kind == "other":
        return "other details, each too small to name, together"
    return str(ev.text)


def _sign(x: float) -> int:
    return 1 if x >= 0 else -1


def why_lines(
    evidence: Sequence[Any],
    label: str,
    label_of: Labeller,
    *,
    own: bool = False,
    spread: float = 1.0,
    most: int = 6,
) -> list[tuple[int, str]]:
    """The "Why" list for tradition `label`: (1 speaks for it | -1 against it, line), largest
    first, at most `most` lines and one more for the rest together.

    An attribute that moves the odds negligibly (NEGLIGIBLE) gets no line of its own: with it,
    the pieces past `most` and the fusion's own "other" item are told in one line, if together
    they are not negligible. For the curator's `own` tradition, which the knowledge graph does
    not have, the fusion weighs every attribute as one the tradition is not known for: that is
    said in one line, naming the graph as knowing nothing of it, not as having an opinion."""
    scale = max(float(spread), 1e-9)
    ranked = sorted(evidence, key=lambda e: -abs(float(e.contribution)))
    lines: list[tuple[int, str]] = []
    rest, graphless = 0.0, 0.0
    against: list[str] = []
    for ev in ranked:
        c = float(ev.contribution)
        if own and ev.kind in ("attribute", "other"):
            graphless += c
            if ev.kind == "attribute" and ev.term and c < 0 and abs(c) / scale >= NEGLIGIBLE:
                against.append(label_of(ev.term))
            continue
        small = ev.kind == "attribute" and abs(c) / scale < NEGLIGIBLE
        if ev.kind == "other" or small or len(lines) >= most:
            rest += c
            continue
        lines.append((_sign(c), evidence_line(ev, label, label_of, own=own)))
    if abs(graphless) / scale >= NEGLIGIBLE:
        if graphless < 0:
            seen = f" ({', '.join(against[:3])})" if against else ""
            text = (
                f"the knowledge graph has nothing on {label}, so the motifs and weaves seen"
                f"{seen} count as untypical of it"
            )
        else:
            text = (
                f"the knowledge graph has nothing on {label}; the photo shows little of the "
                "motifs and weaves other traditions are known for"
            )
        lines.append((_sign(graphless), text))
    if abs(rest) / scale >= NEGLIGIBLE:
        lines.append((_sign(rest), "other details, each too small to name, together"))
    return lines


def curators_own(ranked: Any) -> bool:
    """Whether a ranked tradition is the curator's own: one neither the model nor the knowledge
    graph knows (fusion.RankedTradition.in_graph), ranked because confirmed photos teach it."""
    return not ranked.known_to_model and not getattr(ranked, "in_graph", True)


def part_marks(
    parts: Sequence[Any], top: str, label_of: Labeller, *, known: bool = True
) -> list[tuple[int, str]]:
    """What each part found says about the top answer, as (1 for it | -1 against it, line):
    "the border looks like Paithani's: 95%" speaks for Paithani; a part that prefers another
    tradition says so, against it. `known` False: the model was not trained on `top`, so its
    parts cannot be compared with it, and nothing is said."""
    if not known:
        return []
    out = []
    for pe in parts:
        ranking = list(pe.ranking)
        if float(pe.area) < 0.01 or not ranking:
            continue
        probs = {str(t): float(p) for t, p in ranking}
        best, best_p = str(ranking[0][0]), float(ranking[0][1])
        name = {"body": "body", "border": "border", "pallu": "pallu"}.get(pe.part, pe.part)
        if best == top:
            out.append((1, f"the {name} looks like {label_of(top)}'s: {pct(best_p)}"))
            continue
        if top in probs:
            than = f" than {label_of(top)}'s ({pct(probs[top])})"
            line = f"the {name} looks more like {label_of(best)}'s ({pct(best_p)}){than}"
        else:  # not among the part's best few
            seen = f"the {name} looks like {label_of(best)}'s ({pct(best_p)})"
            line = f"{seen}, not like {label_of(top)}'s"
        out.append((-1, line))
    return out


def part_lines(
    parts: Sequence[Any], top: str, label_of: Labeller, *, known: bool = True
) -> list[str]:
    """What each part found says about the top answer (`part_marks`, without the marks)."""
    return [line for _, line in part_marks(parts, top, label_of, known=known)]


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
    out_of: int | None = None,
) -> tuple[str, str]:
    """(headline, how it was reckoned) for an answer set of tradition names.

    calibrated_on 0: the model's own set, learnt on rendered sarees. `taught`: how many
    traditions the confirmed photos it was checked on are of (0: not said). `taught_from`:
    for an answer re-ranked by teaching that nothing has checked yet (calibrated_on 0), how
    many confirmed photos taught it. `checkable`: how many confirmed photos count towards the
    check so far, those with another photo of their tradition confirmed (None: not said).
    `unlike_training`: the model's own set for a photo unlike the photos the model learnt from;
    its calibration, made on rendered sarees, does not hold there, so no level is claimed.
    `out_of`: how many traditions the set could have named (None: not said); a set of more
    than half of them does not narrow the photo down, and is said so, not listed (`wide_of`)."""
    so_far = f" ({checkable} so far)" if checkable is not None else ""
    when = (
        f"once {needed} of your confirmed photos have another photo of their tradition "
        f"confirmed{so_far}"
    )
    wide = wide_of(names, out_of)
    # A calibrated set naming every tradition the curator taught narrows nothing down among
    # them: "Kanchipuram silk, Kota Doria or Paithani — 90% sure it is one of these" read as a
    # finding on a saree of a fourth tradition, which no such set can hold (fourth walk).
    every_taught = bool(calibrated_on and taught >= 2 and len(names) >= taught and not wide)
    if taught_from and not calibrated_on:
        return _unchecked_words(names, taught_from, when, out_of)
    if unlike_training and not calibrated_on:
        return _unlike_words(names, level, when, out_of)
    if wide:
        head = _wide_head(len(names), wide, level)
    elif every_taught:
        listed = names_or(names) if len(names) <= 4 else f"{', '.join(names[:3])} and more"
        head = f"Could be any of the traditions you have taught: {listed}"
    elif not names:
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
    if every_taught:
        how = (
            f"{how} The set names every tradition you have taught, so it does not tell them "
            "apart for this photo; confirming more photos of each helps."
        )
    if wide:
        how = f"{how} {WIDE_HELP}"
    return head, how


# What narrows a photo down that a set of nearly every tradition leaves open: teaching adds the
# likeness to the curator's confirmed photos, and checking sets on more of them makes them
# smaller at the same level.
WIDE_HELP = (
    "Confirming more of your photos, of more traditions, teaches the app to narrow photos "
    "like this one down."
)


def wide_of(names: Sequence[str], out_of: int | None) -> int:
    """How many traditions a set could have named, when it holds more than half of them (and
    more than four): then the photo is not narrowed down, and a list of nearly every tradition
    says nothing (after teaching a few traditions a checked set held 27 of 28). 0 otherwise."""
    if out_of is None or len(names) <= 4 or len(names) * 2 <= out_of:
        return 0
    return max(int(out_of), len(names))


def how_many_of(n: int, out_of: int) -> str:
    """'27 of the 28', or 'all 28': how much of the traditions a wide set still names (the
    photo page and the exports say it alike)."""
    return f"all {out_of}" if n >= out_of else f"{n} of the {out_of}"


def _wide_head(n: int, out_of: int, level: float | None = None) -> str:
    """'The app cannot narrow this photo down yet: to be 90% sure, it must still name 27 of the
    28 traditions' (no level: '27 of the 28 traditions remain')."""
    of = how_many_of(n, out_of)
    if level is None:
        return f"The app cannot narrow this photo down yet: {of} traditions remain"
    return (
        f"The app cannot narrow this photo down yet: to be {pct(level)} sure, it must still "
        f"name {of} traditions"
    )


def _named_without_level(names: Sequence[str], out_of: int | None = None) -> str:
    """A set's traditions named with no level claimed for it."""
    wide = wide_of(names, out_of)
    if wide:
        return _wide_head(len(names), wide)
    if not names:
        return "No tradition stands out"
    if len(names) > 4:
        shown = ", ".join(names[:3])
        return f"Could be any of {len(names)} traditions: {shown} and {len(names) - 3} more"
    return names_or(names)


def _unlike_words(
    names: Sequence[str], level: float, when: str, out_of: int | None = None
) -> tuple[str, str]:
    """The model's own set for a photo unlike the rendered sarees it learnt from: no level is
    claimed. Stated at 90% by its calibration on renders, such sets held the right tradition
    for 55.7% of realdev's real photos (`saree bench real`, untaught answer sets), and 84% of
    those photos look unlike the renders."""
    head = _named_without_level(names, out_of)
    how = (
        f"The model's own reckoning would give this set {pct(level)}, but it learnt on "
        "rendered sarees and this photo looks unlike them, so no level is claimed. The app "
        f"checks its answers on your photos {when}."
    )
    if wide_of(names, out_of):
        how = f"{how} {WIDE_HELP}"
    return f"{head} — no level claimed for this photo", how


def _unchecked_words(
    names: Sequence[str], taught_from: int, when: str, out_of: int | None = None
) -> tuple[str, str]:
    """An answer re-ranked by teaching before the confirmed photos can check it: no level is
    claimed. Its probabilities are the model's and the taught likeness added at a weight
    nothing has measured yet, and on real photos they overstate: one confirmed photo a
    tradition, 64% stated for the first tradition, right 28% of the time; sets drawn by the
    model's own 90% rule held the right one 43% of the time (`saree bench real`)."""
    photos = "photo" if taught_from == 1 else "photos"
    head = _named_without_level(names, out_of)
    how = (
        f"Taught from your {taught_from} confirmed {photos}, not yet checked: how often "
        f"teaching is right is measured on your confirmed photos, each held back in turn, "
        f"{when}. Until then read the answer as a lead: any figures beside it are not odds."
    )
    if wide_of(names, out_of):
        how = f"{how} {WIDE_HELP}"
    return f"{head} — from your teaching, not yet checked", how


# The percentages in these reasons are the picture's alone, and differ from the ranking's, which
# adds the knowledge graph (and teaching): said so, "only 67%" beside a ranking's "21%" for the
# same tradition read as two answers.
_ALONE = "on the picture alone"
_RANKED = "the ranking's figures also weigh the knowledge graph"
# So is the tradition they name: the picture's own best match, which need not be the answer the
# ranking puts first ("the parts do not back the answer Maheshwari" under a Chettinad cotton
# answer read as if the app had answered Maheshwari). The model's reasons (model.openset) say
# so since; reasons stored before did not, and are read so here too.
_NAMED = "the ranking also weighs the knowledge graph"
# (Written before model.openset said "on the picture alone": it is optional in each pattern.)
_SAID = rf"(?:{_ALONE}, )?"


def most_of(share: float) -> str:
    """How many of a group a share is, in words: "nearly all" (85% or more), "most" (65% or
    more), "more than half", "about half" (45% or more), else "fewer than half"."""
    if share >= 0.85:
        return "nearly all"
    if share >= 0.65:
        return "most"
    if share > 0.505:
        return "more than half"
    if share >= 0.45:
        return "about half"
    return "fewer than half"


# The reason a taught answer's photo gets when it looks less like every taught tradition than
# most confirmed photos look like their own (collection.fewshot.unlike_taught). Stored before
# as "the photo looks less like every tradition you have taught than all but 25% of your
# confirmed photos look like their own", which left the curator to work out "all but 25%".
_UNLIKE_TAUGHT_OLD = re.compile(
    r"the photo looks less like every tradition you have taught than all but (\d+)% of your "
    r"confirmed photos look like their own:"
)


def _unlike_taught_words(m: re.Match[str]) -> str:
    return (
        f"{most_of(1 - int(m.group(1)) / 100)} of your confirmed photos look more like the "
        "others of their tradition than this photo looks like any tradition you have taught:"
    )


# A reason that the saree may be of a tradition nobody taught speaks of the photo: "it may be a
# tradition the model does not know", shown beside a Kanchipuram answer, read as if the model
# did not know Kanchipuram.
_NUMBERS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # "(closest: Kasavu, similarity 0.43, usual at least 0.55)" -> "": the closest is the
    # nearest in the model's own embedding, which need not be the best match another doubt
    # names beside it ("closest: Pochampally ikat" above "the best match, Kanchipuram silk"
    # read as two answers); what the doubt says is that the photo is unlike them all.
    (re.compile(r" \(closest: [^)]*\)"), ""),
    (re.compile(r",? similarity \d\.\d+(, usual at least \d\.\d+)?"), ""),
    (re.compile(r",? similarity to the nearest known tradition \d\.\d+"), ""),
    (
        re.compile(rf"weak together: {_SAID}best match (.+?) at (\d+%)"),
        rf"weak together: {_ALONE}, the best match, \1, has only \2 ({_RANKED})",
    ),
    (re.compile(r", parts backing (?:the answer|it) (\d+%)"), r"; the parts back it \1"),
    (
        re.compile(rf"the visual evidence is weak: {_SAID}the best match, (.+?), has only (\d+%)"),
        rf"the picture points to no tradition clearly: {_ALONE}, the best match, \1, has only "
        rf"\2 ({_RANKED})",
    ),
    (
        re.compile(rf"^{_SAID}(.+) are nearly tied \((\d+%) vs (\d+%)\)$"),
        rf"{_ALONE}, \1 are nearly tied (\2 vs \3; {_RANKED})",
    ),
    (
        re.compile(
            rf"^the parts do not back (?:the answer (.+?)|(.+?), the best match {_ALONE}): "
            r"on their own "
        ),
        lambda m: (
            f"the parts do not back {m.group(1) or m.group(2)}, the best match {_ALONE} "
            f"({_NAMED}): on their own "
        ),
    ),
    (
        re.compile(rf"^(on their own, .+), the whole saree's best match(?: {_ALONE})?$"),
        rf"\1, the whole saree's best match {_ALONE} ({_NAMED})",
    ),
    (_UNLIKE_TAUGHT_OLD, _unlike_taught_words),
    # "most of your confirmed photos (75%) look more like" -> "... photos look more like"
    (
        re.compile(r"^([a-z ]+ of your confirmed photos) \(\d+%\) (look more like the others)"),
        r"\1 \2",
    ),
    (
        re.compile(r"\bit may be a tradition the model does not know"),
        "this saree may be of a tradition the model was not trained on",
    ),
    (
        re.compile(r"\bperhaps a tradition the model does not know"),
        "perhaps this saree is of a tradition the model was not trained on",
    ),
    (
        re.compile(r"\bit may be a tradition you have not taught yet"),
        "this saree may be of a tradition you have not taught yet",
    ),
)
# predict._zero_shot_reason, for a best match the model was not trained on; said of the graph's
# traditions, it is wrong for one the curator added, which the graph does not have either.
_ZERO_SHOT = re.compile(
    r"^the best match, (.+), is not one of the traditions the model was trained on: it is "
    r"ranked from motif, weave and structure evidence in the knowledge graph only$"
)


def plain_reason(reason: str, own: Collection[str] = ()) -> str:
    """An uncertainty reason without the analyst's figures (those stay in the details),
    starting with a capital. `own`: the names of the curator's own traditions (neither the
    model nor the knowledge graph knows them) among those the reason may name."""
    text = reason
    zero = _ZERO_SHOT.match(text)
    if zero and zero.group(1) in own:
        name = zero.group(1)
        text = (
            f"the best match, {name}, is your own tradition: neither the model nor the knowledge "
            f"graph knows it, so it is ranked on how close the photo is to those you confirmed "
            f"as {name}"
        )
    for pattern, repl in _NUMBERS:
        text = pattern.sub(repl, text)
    return text[:1].upper() + text[1:]
