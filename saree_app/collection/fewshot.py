"""Curator-confirmed photos as prototypes that sharpen the ranking without retraining."""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.collection.catalog import PARTS, Catalog, CatalogError
from saree_app.knowledge.words import most_of
from saree_app.model import cloth as cloth_model
from saree_app.model.familiar import UNLIKE_TRAINING

# A tradition is taught from its first confirmed photo: on real photos one confirmed example
# already beats the untaught model (`saree bench real --shots 1`), and how much it counts is
# measured on the curator's own photos (`fit_teaching`), not assumed.
MIN_EXAMPLES = 1
# A tradition's own confirmed photos are checked, each held back against the others, from two
# of them (`TraditionCheck`, once teaching is measured: the teaching panel's "needs N more")...
CHECKED_FROM = 2
# ...and checked well from this many (the panel's "N more to check it well").
RELIABLE_EXAMPLES = 3
# Softmax temperature for `probabilities`: embeddings are L2-normalised, so similarities of
# neighbouring classes differ by a few hundredths; 0.05 turns a 0.1 lead into e^2 odds.
TEMPERATURE = 0.05
# Which embeddings a prototype is made of (concatenated, each L2-normalised). Borders and pallus
# carry most of a tradition's signature; see `saree bench fewshot` for the comparison.
DEFAULT_PARTS: tuple[str, ...] = ("whole", "border", "pallu")
# What teaching compares when every photo has them: the cloth as the ImageNet trunk sees it
# (model/cloth.py). On real photos a plain nearest prototype over these beats the shipped
# model's own embeddings by 10-15 points at 3 and 5 examples (`saree bench real`).
CLOTH_PARTS: tuple[str, ...] = ("cloth",)
# Share of a catalogue's photos that must have cloth features before teaching compares them.
CLOTH_COVERAGE = 0.9


# Weights the curator's confirmed photos choose from (leave-one-out). The features stay
# DEFAULT_PARTS: letting 3-5 photos per tradition also choose among whole, border, pallu and
# their concatenation overfitted on real photos (`saree bench real`, 5 draws: balanced top-1
# 24.5% / 32.3% at 3 / 5 shots against 25.6% / 37.8% with the features fixed).
# Up to weights where taught evidence decides alone (a plain nearest prototype): on real photos
# the model's own scores are often confidently wrong, and the fit must be free to say so.
WEIGHTS = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
# Until the confirmed photos can measure it (fewer than MIN_FIT photos whose tradition has
# another confirmed example), taught evidence weighs this much: the weight the fit chose most
# often on real collections of 3 and 5 confirmed photos per tradition (32-64 in 10 draws of
# `saree bench real`), so one confirmed example outweighs the untaught model's visual score.
DEFAULT_WEIGHT = 64.0
MIN_FIT = 4
# Teaching re-ranks the collection once this many traditions are taught: with one alone there
# is nothing to tell it from, and every photo resembling it at all would be pulled to it (a
# curator who confirmed one object's three photos saw the whole collection turn into it).
MIN_TRADITIONS = 2
ONE_TRADITION = (
    "one tradition is taught so far: confirm photos of a second one, and the rest of the "
    "collection is re-ranked from then on (with one alone the app cannot tell it from the "
    "others, and would pull every photo to it)"
)


def checkable(rows: Iterable[tuple[str, int, bool]]) -> int:
    """How many confirmed photos count towards checking teaching (and calibrating answer
    sets): those with another of their tradition confirmed. `rows`: `FewShot.summary()`."""
    return sum(n for _t, n, _counts in rows if n >= CHECKED_FROM)


def reach(taught: int, measured: bool = True) -> str:
    """What teaching's leave-one-out figure speaks for, in a curator's words (the teaching
    panel, `saree fewshot`): each photo left out is of a taught tradition and photographed as
    the others were. On realdev a saree from another shop was right a third as often (20% to
    60% at 3 confirmed photos a tradition), and a saree of a tradition not taught is answered
    with a taught one (`saree bench real`). Not `measured`: there is no figure to speak for,
    only what teaching does to a tradition nobody taught."""
    if not measured:
        return (
            "A saree of a tradition you have not confirmed is answered with the nearest taught "
            "one until you confirm one of its photos."
        )
    kinds = "the tradition" if taught == 1 else f"the {taught} traditions"
    return (
        f"That is on sarees of {kinds} you have confirmed, photographed as you photographed "
        "them: expect less on sarees photographed differently, and a saree of another "
        "tradition is answered with the nearest taught one until you confirm one of its photos."
    )


# Until two traditions are confirmed, a collection most of whose answers are flagged is told how
# to teach the app (the GUI above its grid, `saree import` after its summary): a model that
# learnt from rendered sarees is mostly guessing on photographs, and says so photo by photo.
TEACH_HINT = (
    "Most answers here are flagged uncertain. The model learnt from rendered sarees, so on "
    "photographs its answers are guesses until you teach it: confirm or correct a few photos "
    "of each tradition (two traditions or more), and the app re-ranks the rest from them."
)
HINT_PHOTOS = 4  # from this many answered photos
HINT_UNCERTAIN = 0.5  # while at least this share of them is flagged and not confirmed


def needs_teaching(photos: int, unsure: int, taught: int) -> bool:
    """Whether to say how to teach: `photos` answered, `unsure` of them flagged uncertain and
    not confirmed, `taught` traditions confirmed (one alone re-ranks nothing)."""
    return photos >= HINT_PHOTOS and taught < 2 and unsure >= HINT_UNCERTAIN * photos


# Answer sets: how often the set must hold the right tradition, and how many confirmed photos
# (of traditions with a second example) they are calibrated on before the app uses them. With
# fewer than (1 / (1 - level)) - 1 photos no threshold can promise the level at all.
SET_LEVEL = 0.9
MIN_CALIBRATION = 10
# An answer is left unflagged only where, on the confirmed photos held back in turn, answers
# that sure were right at least this often (and at least MIN_CONFIDENT of them were).
CONFIDENT_RIGHT = 0.85
MIN_CONFIDENT = 5


# Hub correction when close-ups are matched (cross-domain similarity local scaling, Conneau et
# al. 2018, with its usual 10 neighbours): a confirmed photo that looks like much of the
# collection (a plain ground, a studio backdrop, a common border) wins matches for its
# tradition whatever the photo. Each confirmed photo's matches count less by half its mean
# likeness to its HUB_NEIGHBOURS most alike photos in the collection (the literature's
# settings, not tuned here). On real photos (`saree bench real --draws 20`, paired): taught
# 28.7 / 47.8 / 61.1% -> 30.2 / 50.8 / 62.9% at 1 / 3 / 5 confirmed photos a tradition
# (models/MODEL_CARD.md).
HUB_NEIGHBOURS = 10
HUB_WEIGHT = 0.5
# The collection's photos a hub is measured against: a fixed sample of at most this many
# (every photo's close-ups against every other's would not scale to large collections).
HUB_SAMPLE = 2000
HUB_CACHED = 4  # catalogue and model pairs whose measure is kept (Hubness.from_catalog)


@dataclass(frozen=True)
class AnswerSets:
    """Answer sets calibrated on the curator's confirmed photos (split conformal prediction).

    A photo's set is its `size` most probable traditions; over photos like the confirmed ones
    the set holds the right tradition at least `level` of the time. `coverage` is what that
    came to on the confirmed photos, each held back in turn (its set's size calibrated on the
    others); `single` is how many of those sets named one tradition, and `single_right` how
    many of those were right.

    Why a number of traditions and not a probability to reach: taught answers are sure of
    themselves (the confirmed photos' likeness decides), so a wrong answer leaves the right
    tradition a probability near nought, and a line in probability that still catches it
    lets in every tradition the app knows. On real photos the right tradition was among the
    first 4 for 9 in 10 photos at 5 confirmed photos a tradition, while sets drawn by
    probability held 23 of 27 traditions (`saree bench real`, "mean set size").

    `confident_lead`: how far an answer's first tradition must lead its second (`lead`: the
    log of how many times likelier it is) not to be flagged uncertain, chosen so that held-back
    confirmed photos answered with that lead were right CONFIDENT_RIGHT of the time
    (`confident_photos` of them, `confident_right` right); infinite when no lead does that,
    so every answer stays flagged. The lead, not the top probability: taught answers are so
    sure of themselves that most top probabilities round to 100% and a line drawn in them is
    blunt, while the lead still orders them (`saree bench real`, 3 confirmed photos a
    tradition, 20 draws: right among the unflagged 82.0% -> 87.4%, flagged 74.4% -> 80.1%;
    at 5: 87.7% -> 89.0%, 53.1% -> 54.9%).
    """

    size: int
    level: float
    photos: int
    coverage: float
    single: int
    single_right: int
    confident_lead: float = float("inf")
    confident_photos: int = 0
    confident_right: int = 0
    # The taught likeness (FewShot.scores_of) below which a photo is less like every taught
    # tradition than most confirmed photos are like their own (None: not measured). Such a
    # photo is flagged: perhaps a tradition not yet taught. `unlike_share`: the share of the
    # confirmed photos, each left out, that are less like their own than that (`_unlike_line`).
    unlike: float | None = None
    unlike_share: float = 0.1
    # How far apart taught answers' fused scores are read as probabilities (`FusionWeights
    # .spread`, `_fit_spread`): the ranking and the leads above are in the scores' own units.
    spread: float = 1.0
    # The confirmed photos, each held back in turn and read at `spread`: the mean probability
    # their answers gave the first tradition, and the share of those first traditions right
    # (None: not measured).
    stated: float | None = None
    stated_right: float | None = None

    def sureness(self) -> str:
        """How sure answers read against how often they were right, in a curator's words
        ("" when not measured)."""
        if self.stated is None or self.stated_right is None:
            return ""
        return (
            "answers are read as sure as teaching has been right: with each of your confirmed "
            "photos held back in turn, the app's answers claimed about "
            f"{self.stated:.0%} for their first tradition and were right "
            f"{self.stated_right:.0%} of the time"
        )

    def stored_set(self, ranking: Sequence[str]) -> dict[str, Any]:
        """A ranking's set as an answer stores it (what the exports and the benchmark read)."""
        return {
            "traditions": self.members(ranking),
            "level": self.level,
            "calibrated_on": self.photos,
            "measured_coverage": round(self.coverage, 4),
        }

    def members(self, ranking: Sequence[str]) -> list[str]:
        """The traditions in the set: the first `size` of a ranking, most likely first, as the
        fusion ranked them (by score). Not re-sorted by probability: a taught answer is so sure
        that two dozen traditions round to probability 0 when stored, and sorting those by
        name filled sets with the wrong ones (`saree bench real`: sets held the right
        tradition 78-85% of the time where the ranking's first N held it 90-98%)."""
        return list(ranking)[: self.size]

    def text(self) -> str:
        """In a curator's words."""
        line = (
            "answers whose first tradition is "
            f"{likely_words(self.confident_lead / self.spread, most=False)} the second"
            if self.confident_lead / self.spread <= MILLION
            else "only answers whose first tradition is over a million times as likely as the "
            "second"
        )
        sure = (
            f"{line} are not flagged: right on "
            f"{self.confident_right} of {self.confident_photos} of them"
            if self.confident_photos
            else "no answer is sure enough yet to go unflagged"
        )
        unlike = (
            "; a photo is flagged as perhaps of a tradition you have not taught when "
            f"{1 - self.unlike_share:.0%} of your confirmed photos look more like the others of "
            "their tradition than it looks like any tradition you have taught"
            if self.unlike is not None
            else ""
        )
        named = "the first tradition alone"
        if self.size != 1:
            named = f"the first {self.size} traditions"
        said = self.sureness()
        sureness = f"; {said}" if said else ""
        return (
            f"sets name {named} and hold the right one {self.level:.0%} of the time, calibrated on "
            f"{self.photos} of your confirmed photos (held back in turn: {self.coverage:.0%}); "
            f"{sure}{unlike}{sureness}"
        )


def lead(scores: Sequence[float]) -> float:
    """How far an answer's first tradition leads its second: the difference of their fused
    scores (`scores`, best first), which is the log of how many times likelier the first is;
    1e9 where there is no second."""
    return float(scores[0] - scores[1]) if len(scores) > 1 else 1e9


def _lead_of_probabilities(probabilities: Mapping[str, float]) -> float:
    """`lead` from probabilities (held back unrounded: their logs are the scores less one
    constant)."""
    best = sorted(probabilities.values(), reverse=True)[:2]
    return lead([float(np.log(max(v, 1e-300))) for v in best])


def stored_lead(entries: Sequence[Any]) -> float:
    """`lead` of a stored answer's ranking (its entries, best first: their "score", else the
    log of their "probability")."""
    values = []
    for e in list(entries)[:2]:
        if isinstance(e.get("score"), (int, float)):
            values.append(float(e["score"]))
        else:
            values.append(float(np.log(max(float(e.get("probability") or 0.0), 1e-300))))
    return lead(values)


# Above this lead (a million times likelier), the words say "over a million".
MILLION = float(np.log(1e6))


def times(lead_value: float) -> str:
    """A lead in a curator's words: how many times likelier, to two figures."""
    if not np.isfinite(lead_value) or lead_value > MILLION:
        return "over a million"
    odds = float(np.exp(max(lead_value, 0.0)))
    if odds < 10:
        return f"{odds:.1f}".rstrip("0").rstrip(".")
    digits = int(np.floor(np.log10(odds))) - 1
    return f"{round(odds, -digits):,.0f}"


def likely_words(lead_value: float, *, most: bool) -> str:
    """How much likelier a first tradition is than the second, in words that read at any
    lead (`times`): `most` 'no more than 2.5 times as likely as', 'no more than twice as
    likely as', 'no more likely than' (about even); else 'at least 2.5 times as likely as',
    'at least twice as likely as', 'any more likely than'."""
    x = times(lead_value)
    if x == "1":
        return "no more likely than" if most else "any more likely than"
    many = "twice" if x == "2" else f"{x} times"
    return f"{'no more than' if most else 'at least'} {many} as likely as"


def _ranked(probabilities: Mapping[str, float]) -> list[str]:
    """Traditions most probable first (equal ones by name, so a set is the same every time)."""
    return sorted(probabilities, key=lambda t: (-probabilities[t], t))


def conformal_size(true_ranks: Sequence[int], level: float) -> int | None:
    """How many of the most probable traditions a set needs so that sets cover `level` of
    photos like these (split conformal on the right tradition's place in the ranking: the
    ceil((n + 1) * level)-th smallest); None when there are too few photos for that level."""
    n = len(true_ranks)
    rank = int(np.ceil((n + 1) * level))
    if n == 0 or rank > n:
        return None
    return int(np.sort(np.asarray(true_ranks, dtype=np.int64))[rank - 1])


def _no_level_because(prediction: Any, sets: AnswerSets | None, examples: int) -> tuple[int, bool]:
    """Why a live answer claims no level, as `set_words` hands it to
    knowledge.words.answer_set_words: (`taught_from`, how many confirmed photos re-ranked it
    with teaching nothing has checked yet, else 0; `unlike_training`, whether the model's
    own calibration does not hold for its photo). Neither, with `sets` calibrated."""
    if sets is not None:
        return 0, False
    return (examples if prediction.is_taught() else 0), bool(prediction.looks_unlike_training())


def claims_level(prediction: Any, sets: AnswerSets | None, examples: int = 0) -> bool:
    """Whether a live answer (a Prediction) is stated with a level, and so with percentages
    as odds, the way its headline (`set_words`) states it: with answer sets calibrated on the
    confirmed photos (`sets`) it is; without them, not for an answer teaching re-ranked from
    `examples` confirmed photos that nothing has checked yet ("from your teaching, not yet
    checked"), nor for a photo unlike the photos the model learnt from ("no level claimed for
    this photo"). Where none is claimed, no screen gives the answer's percentages as odds."""
    taught_from, unlike = _no_level_because(prediction, sets, examples)
    return not (taught_from or unlike)


def stored_set_claims_level(found: Any) -> bool:
    """`claims_level` for a stored answer: its "answer_set" (`AnswerSets.stored_set`,
    `_models_own_set`, Prediction.to_dict, `saree classify`'s stated set), read as the exports
    state it (collection.export answer_set): calibrated on the confirmed photos
    ("calibrated_on"), it claims its level; by the model's own calibration, none for an answer
    marked "taught" (re-ranked by teaching not yet checked) or "unlike_training". An answer
    stored without a set (before sets were kept) keeps its figures."""
    if not isinstance(found, Mapping) or found.get("calibrated_on"):
        return True
    return not (found.get("taught") or found.get("unlike_training"))


def set_words(
    prediction: Any,
    name: Callable[[str], str],
    sets: AnswerSets | None,
    *,
    taught: int = 0,
    examples: int = 0,
    checkable: int | None = None,
    checks: Sequence[TraditionCheck] = (),
) -> tuple[str, str]:
    """A prediction's answer set in words, as the photo page and `saree classify` state it:
    checked on the confirmed photos when `sets` is calibrated on them, else the model's own
    (no level claimed for an answer teaching re-ranked unchecked, or for a photo unlike the
    model's training photos). A set of more than half the traditions ranked is said not to
    narrow the photo down, not listed. `name` names a tradition; `taught`, `examples`,
    `checkable`: the traditions taught, the confirmed photos teaching, those with another of
    their tradition. `checks`: how each taught tradition's own confirmed photos were answered,
    each held back (Reliability.by_tradition): a taught answer says its first tradition's."""
    from saree_app.knowledge.words import answer_set_words

    if sets is not None:
        members = sets.members([r.tradition for r in prediction.fused.ranking])
        level, on, coverage = float(sets.level), int(sets.photos), float(sets.coverage)
    else:
        members, level, on, coverage = list(prediction.answer_set()), SET_LEVEL, 0, None
    # Re-ranked by teaching that nothing has checked, or unlike the model's training photos:
    # no level is claimed for it (the rule `claims_level` gives every screen).
    taught_from, unlike = _no_level_because(prediction, sets, examples)
    head, how = answer_set_words(
        [name(t) for t in members],
        level,
        calibrated_on=on,
        coverage=coverage,
        needed=MIN_CALIBRATION,
        taught=taught if sets is not None else 0,
        taught_from=taught_from,
        checkable=checkable,
        unlike_training=unlike,
        # A set of nearly every tradition ranked is said not to narrow the photo down.
        out_of=len(prediction.fused.ranking),
    )
    # The teaching panel's own check of the answer's first tradition, said beside it: an
    # answer at 91% whose tradition's confirmed photos came back right 2 times in 6 read as
    # trustworthy on the photo page (fourth walk).
    first = prediction.fused.ranking[0].tradition if prediction.fused.ranking else None
    check = next((c for c in checks if c.tradition == first), None)
    if check is not None and first is not None and prediction.is_taught():
        how = (
            f"{how} Teaching has been right on {check.right} of your {check.total} confirmed "
            f"photos of {name(first)} when each was held back."
        )
    return head, how


def model_answer_set(probabilities: Mapping[str, float], level: float = SET_LEVEL) -> list[str]:
    """Before the curator's photos can calibrate one: the shipped model's own set."""
    from saree_app.model.predict import answer_set

    return answer_set(probabilities, level)


@dataclass(frozen=True)
class Reliability:
    """How teaching did on the curator's own confirmed photos, each left out in turn."""

    right: int
    total: int
    untaught_right: int  # the same photos, answered without teaching
    weight: float
    ref: float
    parts: tuple[str, ...]
    fitted: bool  # False: too few confirmed photos to measure; the defaults are used
    sets: AnswerSets | None = None  # None until enough confirmed photos calibrate them
    # Each tradition with two or more confirmed photos, as its own were answered (fitted only).
    by_tradition: tuple[TraditionCheck, ...] = ()
    # How many confirmed photos `untaught_right` is counted over, when fewer than `total`: a
    # model retrained from the catalogue is not asked about the photos it was trained on.
    untaught_of: int | None = None

    def check_of(self, tradition: str) -> TraditionCheck | None:
        """How teaching did on one tradition's confirmed photos (None: not checked)."""
        return next((c for c in self.by_tradition if c.tradition == tradition), None)

    def text(self) -> str:
        """In a curator's words."""
        if not self.fitted:
            # What `fit_teaching` needs: two traditions taught, and MIN_FIT confirmed photos
            # that have another of their tradition to be held back against.
            return (
                "not measured yet: the app measures it on your confirmed photos that have "
                "another photo of their tradition confirmed, holding each back in turn; it "
                f"needs {MIN_FIT} such photos, so confirm a second photo of some traditions"
            )
        if self.untaught_of == 0:
            alone = "the model was trained on them all"
        elif self.untaught_of is not None and self.untaught_of < self.total:
            alone = (
                f"without teaching: {self.untaught_right} of the {self.untaught_of} the model "
                "was not trained on"
            )
        else:
            alone = f"without teaching: {self.untaught_right}"
        return (
            f"right on {self.right} of {self.total} of your confirmed photos when each is left "
            f"out ({alone})"
        )


@dataclass(frozen=True)
class TraditionCheck:
    """One tradition's confirmed photos, each left out in turn and answered from the rest:
    how many came back as their own tradition, and what the others were taken for (most
    often first). A curator reads from it which traditions want more photos confirmed."""

    tradition: str
    right: int
    total: int
    taken_for: tuple[tuple[str, int], ...] = ()

    def text(self, label: Callable[[str], str] = str) -> str:
        """In a curator's words; `label` names a tradition."""
        out = f"{self.right} of {self.total} right when each is left out"
        if self.taken_for:
            shown = [f"{n} taken for {label(t)}" for t, n in self.taken_for[:2]]
            rest = sum(n for _t, n in self.taken_for[2:])
            if rest:
                shown.append(f"{rest} for others")
            out += f" ({', '.join(shown)})"
        return out


def check_words(
    examples: int, check: TraditionCheck | None, label: Callable[[str], str] = str
) -> str:
    """How far one tradition's confirmed photos have checked it, in a curator's words: the
    teaching panel and `saree fewshot` both say it so. `check`: how its photos were answered,
    each left out (None until teaching as a whole has been measured)."""
    if check is not None:
        text = check.text(label)
        more = RELIABLE_EXAMPLES - examples
        return f"{text}; {more} more to check it well" if more > 0 else text
    if examples >= CHECKED_FROM:
        # Enough of its own; teaching as a whole is not measured yet.
        return "Checked once teaching is measured"
    return f"Needs {CHECKED_FROM - examples} more to check it"


def _tradition_checks(
    probs: Sequence[Mapping[str, float]], truth: Sequence[str]
) -> tuple[TraditionCheck, ...]:
    """Per tradition, its photos' held-out answers (the top of each `probs`) against `truth`."""
    answered: dict[str, list[str]] = {}
    for p, t in zip(probs, truth, strict=True):
        answered.setdefault(t, []).append(max(p, key=lambda k: p[k]) if p else "")
    out = []
    for t in sorted(answered):
        wrong: dict[str, int] = {}
        for a in answered[t]:
            if a != t:
                wrong[a] = wrong.get(a, 0) + 1
        taken = tuple(sorted(wrong.items(), key=lambda x: (-x[1], x[0])))
        out.append(
            TraditionCheck(t, len(answered[t]) - sum(wrong.values()), len(answered[t]), taken)
        )
    return tuple(out)


@dataclass(frozen=True)
class Prototype:
    """One tradition taught by example: the mean of its examples' (normalised) embeddings."""

    tradition: str
    count: int
    vector: np.ndarray = field(repr=False)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def feature(
    embedding: np.ndarray,
    part_embeddings: np.ndarray | None,
    parts: Sequence[str],
    cloth: np.ndarray | None = None,
) -> np.ndarray:
    """The vector prototypes compare: the chosen embeddings, each unit length, concatenated."""
    pieces = []
    for part in parts:
        if part == "cloth":
            if cloth is None:
                raise CatalogError("the photo's cloth features are needed for teaching")
            pieces.append(_unit(cloth))
        elif part == "whole":
            pieces.append(_unit(embedding))
        else:
            if part_embeddings is None:
                raise CatalogError(f"the {part} embedding is needed for few-shot but missing")
            pieces.append(_unit(np.asarray(part_embeddings)[PARTS.index(part) - 1]))
    return _unit(np.concatenate(pieces))


class Hubness:
    """How much a photo's close-ups look like the collection at large: its mean likeness to
    its HUB_NEIGHBOURS most alike photos among a sample of the collection, likeness being the
    close-up match FewShot makes, taken both ways and averaged; the photo itself, if
    sampled, is left out."""

    def __init__(self, sample: np.ndarray) -> None:
        # (photos, views, dim) unit rows: each sampled photo's whole picture and tiles
        self._sample = np.asarray(sample, dtype=np.float32)
        self._flat = self._sample.reshape(-1, self._sample.shape[-1])
        self._known: dict[bytes, float] = {}

    @classmethod
    def from_catalog(cls, catalog: Catalog, model_sha256: str) -> Hubness | None:
        """From the catalogue's photos with close-ups (None: too few to have neighbours).

        Kept until the catalogue's embeddings change: the photo page teaches again for every
        photo it shows, and measuring a 2,000-photo sample each time took 0.3 s of it."""
        key = (str(Path(catalog.path).resolve()), model_sha256)
        ids, _ = catalog.embeddings(model_sha256, "cloth_tiles")  # cached by the catalogue
        # Which photos too: another catalogue made since at the same path may have reached
        # the same generation.
        state = (catalog.generations().get("embeddings", -1), ids.shape[0], int(ids.sum()))
        with _HUBS_LOCK:
            hit = _HUBS.get(key)
        if hit is not None and state[0] >= 0 and hit[0] == state:
            return hit[1]
        made = cls._measured(catalog, model_sha256)
        with _HUBS_LOCK:
            _HUBS.pop(key, None)
            _HUBS[key] = (state, made)
            while len(_HUBS) > HUB_CACHED:  # the oldest catalogues go first
                _HUBS.pop(next(iter(_HUBS)))
        return made

    @classmethod
    def _measured(cls, catalog: Catalog, model_sha256: str) -> Hubness | None:
        ids, _ = catalog.embeddings(model_sha256, "cloth_tiles")
        if ids.shape[0] <= HUB_NEIGHBOURS:
            return None
        if ids.shape[0] > HUB_SAMPLE:  # the same sample every time for the same photos
            rng = np.random.default_rng(int(ids.shape[0]))
            ids = np.sort(rng.choice(ids, HUB_SAMPLE, replace=False))
        found = features_of(catalog, model_sha256, CLOTH_PARTS, ids.tolist())
        rows = [cloth_model.views(v) for v in found.values()]
        views = [r for r in rows if r is not None]
        if len(views) <= HUB_NEIGHBOURS:
            return None
        return cls(np.stack(views))

    def of(self, views: np.ndarray) -> float:
        """One photo's hubness from its (views, dim) unit rows."""
        v = np.asarray(views, dtype=np.float32)
        key = v.tobytes()
        if key not in self._known:
            n, per = self._sample.shape[:2]
            cos = (v @ self._flat.T).reshape(v.shape[0], n, per)
            both = (cos.max(axis=2).mean(axis=0) + cos.max(axis=0).mean(axis=1)) / 2
            both = both[both < 0.9999]  # the photo itself, when it is in the sample
            near = np.sort(both)[-HUB_NEIGHBOURS:]
            self._known[key] = float(near.mean()) if near.size else 0.0
        return self._known[key]


# Catalogue connection -> {(model, stamp, graph, arguments): the teaching FewShot.from_catalog
# fitted}; held weakly, so a closed catalogue's fits go with it.
_FITTED: weakref.WeakKeyDictionary[Catalog, dict[tuple[Any, ...], tuple[Any, FewShot]]] = (
    weakref.WeakKeyDictionary()
)
_FITTED_LOCK = threading.Lock()
FITS_KEPT = 4  # fits kept per catalogue connection (FewShot.from_catalog)

# (catalogue, model) -> ((its embeddings generation, photos with close-ups, their ids' sum),
# its hub measure)
_HUBS: dict[tuple[str, str], tuple[tuple[int, int, int], Hubness | None]] = {}
_HUBS_LOCK = threading.Lock()


class FewShot:
    """Traditions taught by a curator's confirmed examples; scores a photo against each.

    `examples`: tradition -> feature vectors (see `feature`, made of `parts`).

    Traditions with fewer than `min_examples` examples are kept in `pending` (so the app can say
    how many more are needed) and do not score.
    """

    def __init__(
        self,
        examples: Mapping[str, Sequence[np.ndarray]],
        *,
        parts: Sequence[str] = DEFAULT_PARTS,
        min_examples: int = MIN_EXAMPLES,
        temperature: float = TEMPERATURE,
        weight: float = DEFAULT_WEIGHT,
        ref: float = 0.3,
        reliability: Reliability | None = None,
        match_views: bool = True,
        hubness: Hubness | None = None,
        places: Mapping[str, tuple[str | None, str | None]] | None = None,
    ) -> None:
        self.parts = tuple(parts)
        # Where the traditions the curator added are from (state, cultural region), by the
        # name their photos are confirmed with: the answers' likely state counts them.
        self.places = dict(places or {})
        self.match_views = match_views
        self.hubness = hubness
        self.temperature = temperature
        self.min_examples = min_examples
        # How the similarities enter the fusion: weight * (similarity - ref) per tradition.
        self.weight = weight
        self.ref = ref
        self.reliability = reliability
        self.prototypes: dict[str, Prototype] = {}
        self.pending: dict[str, int] = {}
        # Tradition -> every close-up (cloth views) of its examples, when teaching matches them,
        # and what each close-up's matches lose for its photo's hubness (`Hubness`).
        self._banks: dict[str, np.ndarray] = {}
        self._offsets: dict[str, np.ndarray] = {}
        for tradition, vectors in sorted(examples.items()):
            if len(vectors) < min_examples:
                self.pending[tradition] = len(vectors)
                continue
            mean = np.mean([self._proto_part(v) for v in vectors], axis=0)
            self.prototypes[tradition] = Prototype(tradition, len(vectors), _unit(mean))
            if match_views and self.parts == CLOTH_PARTS:
                found = [cloth_model.views(v) for v in vectors]
                if all(f is not None for f in found):
                    kept = [f for f in found if f is not None]
                    self._banks[tradition] = np.concatenate(kept)
                    self._offsets[tradition] = np.concatenate(
                        [np.full(f.shape[0], self._hub_offset(f), np.float32) for f in kept]
                    )
        if len(self._banks) != len(self.prototypes):
            self._banks = {}  # some example lacks its close-ups: prototypes for every tradition
        self._names = list(self.prototypes)
        self._matrix = (
            np.stack([p.vector for p in self.prototypes.values()])
            if self.prototypes
            else np.zeros((0, 0), np.float32)
        )

    def __bool__(self) -> bool:
        return bool(self.prototypes)

    def _hub_offset(self, views: np.ndarray) -> float:
        """What a confirmed photo's close-up matches lose (0 without a hubness measure)."""
        return HUB_WEIGHT * self.hubness.of(views) if self.hubness is not None else 0.0

    @property
    def ranks(self) -> bool:
        """Whether this teaching re-ranks photos: MIN_TRADITIONS traditions or more taught."""
        return len(self.prototypes) >= MIN_TRADITIONS

    def _proto_part(self, vector: np.ndarray) -> np.ndarray:
        """What a prototype averages: for the cloth, its summary (whole | mean of tiles)."""
        if self.parts == CLOTH_PARTS:
            return cloth_model.summary(vector)
        return _unit(vector)

    @property
    def matches_views(self) -> bool:
        """Whether photos are scored by matching their close-ups (else by prototypes)."""
        return bool(self._banks)

    def fusion_weights(self, base: Any = None) -> Any:
        """`base` fusion weights (default: the defaults) with this teaching's few-shot weight
        and reference, and the spread its probabilities are read at once the confirmed photos
        calibrate them."""
        from saree_app.knowledge.fusion import FusionWeights

        sets = self.reliability.sets if self.reliability is not None else None
        return dataclasses.replace(
            base or FusionWeights(),
            fewshot=self.weight,
            fewshot_ref=self.ref,
            spread=sets.spread if sets is not None else 1.0,
        )

    def without(self, examples: Mapping[str, Sequence[np.ndarray]]) -> FewShot:
        """Other examples, taught the same way (features, weight, reference)."""
        return FewShot(
            examples,
            parts=self.parts,
            min_examples=self.min_examples,
            temperature=self.temperature,
            weight=self.weight,
            ref=self.ref,
            reliability=self.reliability,
            match_views=self.match_views,
            hubness=self.hubness,
            places=self.places,
        )

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        model_sha256: str | None = None,
        *,
        parts: Sequence[str] | None = None,
        min_examples: int = MIN_EXAMPLES,
        temperature: float = TEMPERATURE,
        exclude: Iterable[int] = (),
        graph: Any = None,
        fit: bool = True,
    ) -> FewShot:
        """Prototypes from every photo the curator confirmed (with its tradition).

        With `fit`, the features, weight and reference are chosen on the confirmed photos
        themselves (`fit_teaching`; `graph` is the knowledge graph the answers are fused
        with); `parts` given fixes the features. exclude: photo ids left out (a photo is never
        scored against itself as an example).
        """
        skip = set(exclude)
        sha = model_sha256 or catalog.latest_model()
        # Nothing written to the catalogue since the same fit (this connection's stamp): the
        # same teaching. The photo page fits it each time it opens a photo.
        # The graph by identity, kept beside the fit so that its id is not another graph's.
        key = (
            sha, catalog.stamp(), id(graph), tuple(parts) if parts else None, min_examples,
            temperature, frozenset(skip), fit, _places_stamp(catalog),
        )  # fmt: skip
        with _FITTED_LOCK:
            known = _FITTED.get(catalog, {}).get(key)
        if known is not None:
            return known[1]
        made = cls._fitted(
            catalog,
            sha,
            parts=parts,
            min_examples=min_examples,
            temperature=temperature,
            skip=skip,
            graph=graph,
            fit=fit,
        )
        with _FITTED_LOCK:
            per = _FITTED.setdefault(catalog, {})
            per[key] = (graph, made)
            while len(per) > FITS_KEPT:  # the oldest go first
                per.pop(next(iter(per)))
        return made

    @classmethod
    def _fitted(
        cls,
        catalog: Catalog,
        sha: str | None,
        *,
        parts: Sequence[str] | None,
        min_examples: int,
        temperature: float,
        skip: set[int],
        graph: Any,
        fit: bool,
    ) -> FewShot:
        """`from_catalog`'s work, done afresh."""
        reliability = None
        chosen = tuple(parts) if parts else (teaching_parts(catalog, sha) if sha else DEFAULT_PARTS)
        hubness = Hubness.from_catalog(catalog, sha) if sha and chosen == CLOTH_PARTS else None
        if fit and sha is not None:
            # The features chosen above, not looked up again (it reads every stored answer).
            reliability = fit_teaching(
                catalog, sha, graph, parts=chosen, exclude=skip, hubness=hubness
            )
        found = confirmed_examples(catalog, sha, chosen)
        examples = {t: [vec for pid, vec in rows if pid not in skip] for t, rows in found.items()}
        return cls(
            examples,
            parts=chosen,
            min_examples=min_examples,
            temperature=temperature,
            weight=reliability.weight if reliability else DEFAULT_WEIGHT,
            ref=reliability.ref if reliability else 0.3,
            reliability=reliability,
            hubness=hubness,
            places=curator_places(catalog, examples),
        )

    def similarities_of(self, vector: np.ndarray) -> dict[str, float]:
        """How like each taught tradition a feature vector (see `feature`) is.

        Matching close-ups: the mean, over the photo's whole picture and each of its tiles,
        of the best cosine among the tradition's examples' (`match_views`). Otherwise the
        cosine to each prototype.
        """
        if not self.prototypes:
            return {}
        own = cloth_model.views(vector) if self._banks else None
        if own is not None:
            return {
                t: float((own @ self._banks[t].T - self._offsets[t]).max(axis=1).mean())
                for t in self._names
            }
        sims = self._matrix @ self._proto_part(vector)
        return {t: float(s) for t, s in zip(self._names, sims, strict=True)}

    def similarities(
        self,
        embedding: np.ndarray,
        part_embeddings: np.ndarray | None = None,
        cloth: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Cosine similarity of a photo to each prototype."""
        return self.similarities_of(feature(embedding, part_embeddings, self.parts, cloth))

    def probabilities_of(self, vector: np.ndarray) -> dict[str, float]:
        """A probability per taught tradition (softmax of similarities / temperature)."""
        sims = self.similarities_of(vector)
        if not sims:
            return {}
        arr = np.array(list(sims.values()), dtype=np.float64) / self.temperature
        arr = np.exp(arr - arr.max())
        arr /= arr.sum()
        return {t: float(p) for t, p in zip(sims, arr, strict=True)}

    def scores_of(self, vector: np.ndarray) -> dict[str, float]:
        """What fusion takes as `fewshot`: cosine similarity to each prototype."""
        return self.similarities_of(vector)

    def scores(
        self,
        embedding: np.ndarray,
        part_embeddings: np.ndarray | None = None,
        cloth: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Few-shot scores for fusion: `Prediction.refuse(graph, fewshot=scores)`.

        Cosine similarities (knowledge.fusion adds w_f * (s - s_ref) per tradition).
        """
        return self.similarities(embedding, part_embeddings, cloth)

    def can_score(self, prediction: Any) -> bool:
        """Whether a prediction carries the features this teaching compares."""
        return "cloth" not in self.parts or getattr(prediction, "cloth_embedding", None) is not None

    def nearest_of(self, vector: np.ndarray) -> str | None:
        """The tradition of the prototype nearest a feature vector (None when none is taught)."""
        sims = self.similarities_of(vector)
        return max(sims, key=lambda t: sims[t]) if sims else None

    def classify(
        self,
        embedding: np.ndarray,
        part_embeddings: np.ndarray | None = None,
        cloth: np.ndarray | None = None,
    ) -> str | None:
        """The nearest prototype's tradition (None when nothing is taught yet)."""
        return self.nearest_of(feature(embedding, part_embeddings, self.parts, cloth))

    def summary(self) -> list[tuple[str, int, bool]]:
        """(tradition, examples, active) for every tradition a curator has confirmed."""
        rows = [(t, p.count, True) for t, p in self.prototypes.items()]
        rows += [(t, n, False) for t, n in self.pending.items()]
        return sorted(rows)


def features_of(
    catalog: Catalog, model_sha256: str, parts: Sequence[str], photo_ids: Sequence[int]
) -> dict[int, np.ndarray]:
    """Photo id -> feature vector (see `feature`) for those photos that have every part."""
    out: dict[int, np.ndarray] = {}
    if not photo_ids:
        return out
    if tuple(parts) == CLOTH_PARTS:
        return _cloth_features_of(catalog, model_sha256, photo_ids)
    want = np.asarray(photo_ids, dtype=np.int64)
    pieces: list[np.ndarray] = []
    ok = np.ones(want.shape[0], dtype=bool)
    for part in parts:
        ids, matrix = catalog.embeddings(model_sha256, part)  # ids sorted by photo id
        if ids.shape[0] == 0:
            return out
        found, at = _rows_of(ids, want)
        ok &= found
        rows = matrix[at]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        pieces.append(np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0))
    joined = np.concatenate(pieces, axis=1)
    for i in np.flatnonzero(ok).tolist():
        out[int(want[i])] = _unit(joined[i])
    return out


def _rows_of(ids: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, row) of each wanted photo id among a catalogue matrix's ids (sorted)."""
    at = np.clip(np.searchsorted(ids, want), 0, ids.shape[0] - 1)
    return ids[at] == want, at


def _cloth_features_of(
    catalog: Catalog, model_sha256: str, photo_ids: Sequence[int]
) -> dict[int, np.ndarray]:
    """Photo id -> cloth features with their tiles where stored (model/cloth.py's layout;
    photos from before the tiles were kept get the whole and the mean of tiles only)."""
    ids, heads = catalog.embeddings(model_sha256, "cloth")
    if ids.shape[0] == 0:
        return {}
    want = np.asarray(photo_ids, dtype=np.int64)
    have, at = _rows_of(ids, want)
    tile_ids, tiles = catalog.embeddings(model_sha256, "cloth_tiles")
    if tile_ids.shape[0]:
        tiled, tile_at = _rows_of(tile_ids, want)
    else:
        tiled, tile_at = np.zeros_like(have), at
    out: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(have).tolist():
        own = tiles[tile_at[i]] if tiled[i] else None
        out[int(want[i])] = cloth_model.joined(heads[at[i]], own)
    return out


def teaching_parts(catalog: Catalog, model_sha256: str) -> tuple[str, ...]:
    """CLOTH_PARTS when the photos have their cloth features, else DEFAULT_PARTS.

    Prototypes compare like with like: a catalogue made before the cloth features (or without
    their model) keeps teaching from the model's own embeddings until its photos are imported
    again. Every confirmed photo must have them, and nearly every other (a photo whose file
    has gone since keeps its untaught answer rather than holding the whole catalogue back).
    """
    answered = catalog.predicted_ids(model_sha256)
    if not answered:
        return DEFAULT_PARTS
    ids, _ = catalog.embeddings(model_sha256, "cloth")
    have = set(ids.tolist())
    confirmed = [pid for pid in catalog.confirmed_traditions() if pid in answered]
    covered = sum(pid in have for pid in answered) / len(answered)
    if all(pid in have for pid in confirmed) and covered >= CLOTH_COVERAGE:
        return CLOTH_PARTS
    return DEFAULT_PARTS


def confirmed_examples(
    catalog: Catalog, model_sha256: str | None, parts: Sequence[str]
) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Tradition -> (photo id, feature) of every photo the curator confirmed with a tradition."""
    sha = model_sha256 or catalog.latest_model()
    if sha is None:
        return {}
    labels = catalog.confirmed_traditions()
    feats = features_of(catalog, sha, parts, sorted(labels))
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for pid, vec in feats.items():
        out.setdefault(str(labels[pid]), []).append((pid, vec))
    return out


def curator_places(
    catalog: Catalog, taught: Iterable[str]
) -> dict[str, tuple[str | None, str | None]]:
    """Where each of the `taught` traditions the curator added is from, as they typed it
    (state, cultural region), by the name its photos are confirmed with (any case). A
    damaged traditions file gives none: the answers stand, only without those places (the
    library's panel says the file is damaged)."""
    from saree_app.collection.traditions import TraditionsError, load_traditions

    try:
        added = {t.name.casefold(): t for t in load_traditions(catalog.path)}
    except TraditionsError:
        return {}
    out: dict[str, tuple[str | None, str | None]] = {}
    for name in taught:
        found = added.get(str(name).casefold())
        if found is not None and (found.state or found.region):
            out[str(name)] = (found.state or None, found.region or None)
    return out


def _places_stamp(catalog: Catalog) -> int | None:
    """When the curator's traditions file last changed (None: there is none): a place typed
    anew must reach the answers though nothing was written to the catalogue."""
    from saree_app.collection.traditions import traditions_file

    try:
        return traditions_file(catalog.path).stat().st_mtime_ns
    except OSError:
        return None


def refuse(prediction: Any, graph: Any, fewshot: FewShot, stored: np.ndarray | None = None) -> Any:
    """A Prediction fused again with few-shot scores (unchanged when nothing is taught);
    `stored`: the photo's features as the catalogue keeps them (`features_of`), compared
    instead of the prediction's own."""
    if stored is None and (not fewshot or not fewshot.can_score(prediction)):
        # Without the cloth features (the cloth model is not installed) the photo cannot be
        # compared with what was taught; its untaught answer stands.
        return prediction
    if not fewshot or not fewshot.ranks:
        return prediction
    if stored is not None:
        scores = fewshot.scores_of(stored)
    else:
        scores = fewshot.scores(
            prediction.embedding,
            prediction.part_embeddings,
            getattr(prediction, "cloth_embedding", None),
        )
    base = model_fusion_weights(str(getattr(prediction, "model_sha256", "")))
    return prediction.refuse(
        graph, fewshot=scores, weights=fewshot.fusion_weights(base), places=fewshot.places
    )


def refuse_photo(
    prediction: Any,
    graph: Any,
    fewshot: FewShot,
    catalog: Catalog,
    photo_id: int | None,
    *,
    examples: Mapping[str, Sequence[tuple[int, np.ndarray]]] | None = None,
) -> Any:
    """A fresh Prediction answered exactly as `apply_to_catalog` answers the stored one, so
    the photo page, the browser and the export show the same percentage and flag.

    The teaching is the one fitted on every confirmed photo (not fitted again without this
    photo: that changed the weight, and a confirmed photo read 88% on its page and 86% in
    the export); a confirmed photo is scored against prototypes built without it; with
    answer sets calibrated on the confirmed photos, the uncertain flag is theirs. A photo of
    the catalogue is compared by its features as the catalogue keeps them (the cloth at 4 bits
    a value, schema 13), as the re-rank compares it: read afresh, a photo read 18% on its page
    and 17% in the export. `examples`: `confirmed_examples` of the catalogue, when the caller
    answers many photos (read once, not once a photo).
    """
    model = fewshot
    stored = None
    if photo_id is not None and fewshot:
        sha = str(getattr(prediction, "model_sha256", "")) or None
        found = (
            examples if examples is not None else confirmed_examples(catalog, sha, fewshot.parts)
        )
        if any(pid == photo_id for rows in found.values() for pid, _ in rows):
            model = fewshot.without(_without_saree(found, saree_of(catalog), photo_id))
        if sha is not None:
            stored = features_of(catalog, sha, fewshot.parts, [photo_id]).get(photo_id)
    new = refuse(prediction, graph, model, stored)
    sets = fewshot.reliability.sets if fewshot.reliability is not None else None
    if sets is None or new is prediction:
        return new
    ahead = lead([float(r.score) for r in new.fused.ranking[:2]])
    # The taught likeness each tradition was fused with (its few-shot evidence).
    taught = [
        float(e.observed)
        for r in new.fused.ranking
        for e in getattr(r, "evidence", ())
        if e.kind == "fewshot" and e.observed is not None
    ]
    best = max(taught) if taught else None
    uncertain, reasons = _taught_flag(ahead, sets, new.uncertain_reasons, best)
    return dataclasses.replace(new, uncertain=uncertain, uncertain_reasons=reasons)


def _taught_flag(
    ahead: float, sets: AnswerSets, reasons: Sequence[str], likeness: float | None = None
) -> tuple[bool, tuple[str, ...]]:
    """Whether a taught answer whose first tradition leads the second by `ahead` (`lead`) is
    uncertain, and why, once answer sets are calibrated on the curator's confirmed photos:
    they decide it. The model's own reasons were about its untaught answer (a photo unlike its
    training photos, parts that do not back that answer, weak evidence for it) and go with it;
    a photo that does not look like cloth, or like a saree, stays flagged so, as does one too
    small to read: teaching re-ranks traditions, it does not make a photo of something else a
    saree."""
    from saree_app.model.predict import NOT_CLOTH, TOO_SMALL_START
    from saree_app.model.saree_check import NOT_A_SAREE

    # Nor does teaching make a thumbnail show its weave.
    kept = tuple(
        r for r in reasons if r in (NOT_CLOTH, NOT_A_SAREE) or r.startswith(TOO_SMALL_START)
    )
    if sets.unlike is not None and likeness is not None and likeness < sets.unlike:
        # `likeness`: the photo's best taught likeness (FewShot.scores_of)
        kept += (unlike_taught(sets.unlike_share),)
    if ahead < sets.confident_lead:
        # In the probabilities the curator reads (`AnswerSets.spread`), not the raw scores.
        odds = ahead / sets.spread
        kept += (
            (
                "on your confirmed photos, answers whose first tradition was "
                f"{likely_words(odds, most=True)} the second, as here, were right less "
                f"often than {CONFIDENT_RIGHT:.0%} of the time"
                if odds <= MILLION
                else "on your confirmed photos, only answers whose first tradition was further "
                "ahead than this one (already over a million times as likely as the second) "
                f"were right {CONFIDENT_RIGHT:.0%} of the time"
            )
            if sets.confident_photos
            else "none of your confirmed photos' answers has yet been sure enough to trust alone",
        )
    return bool(kept), kept


def _stored_evidence(result: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """A stored answer's visual tradition and attribute probabilities, as fusion takes them."""
    visual = {str(t): float(p) for t, p in result.get("visual", [])}
    attributes = {str(a["term"]): float(a["probability"]) for a in result.get("attributes", [])}
    return visual, attributes


def refuse_stored(
    result: Mapping[str, Any],
    graph: Any,
    scores: Mapping[str, float],
    weights: Any = None,
    places: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> dict[str, Any]:
    """A stored Prediction.to_dict() ranking fused again with few-shot scores.

    Uses the stored visual ranking and attribute probabilities, so no photo is read again.
    Returns the dict with "ranking", "tradition", "label", "probability", "states" and
    "cultural_regions" replaced.
    """
    from saree_app.model.predict import fuse_visual

    visual, attributes = _stored_evidence(result)
    # Without words: the catalogue keeps each tradition's evidence summed by kind
    # (catalog.compact_answer); the photo page words its answer afresh (`refuse_photo`).
    fused = fuse_visual(
        graph,
        visual,
        attributes,
        fewshot=dict(scores),
        weights=weights,
        explain=False,
        places=places,
    )
    out = dict(result)
    best = fused.ranking[0]
    out.update(
        tradition=best.tradition,
        label=best.label,
        probability=round(float(best.probability), 6),
        ranking=[
            {
                "tradition": r.tradition,
                "label": r.label,
                "probability": round(float(r.probability), 6),
                "score": round(float(r.score), 6),
                "known_to_model": bool(r.known_to_model),
                "evidence": [
                    {"kind": e.kind, "term": e.term, "text": e.text, "contribution": e.contribution}
                    for e in r.evidence
                ],
            }
            for r in fused.ranking
        ],
        states=[
            {"region": s.region, "label": s.label, "probability": round(s.probability, 6)}
            for s in fused.states
        ],
        cultural_regions=[
            {"region": s.region, "label": s.label, "probability": round(s.probability, 6)}
            for s in fused.cultural_regions
        ],
        fewshot={t: round(float(p), 6) for t, p in scores.items()},
    )
    # How far apart its scores are read (FusionWeights.spread): kept with the answer, so the
    # catalogue (`catalog._probabilities_of`) and an object's answer read them the same way.
    out.pop("spread", None)
    if fused.spread != 1.0:
        out["spread"] = fused.spread
    return out


class ApplyStopped(Exception):
    """`apply_to_catalog` stopped when asked: answers written so far are kept (each in a
    committed batch), the rest are as they were."""

    def __init__(self, done: int, total: int, changed: int) -> None:
        super().__init__(f"stopped after re-ranking {done} of {total} answers")
        self.done, self.total, self.changed = done, total, changed


# Answers written back per transaction: a killed or stopped re-rank leaves every photo with
# either its old answer or its new one, and a batch is short enough that a curator's own
# decision (another connection) does not wait long behind it.
APPLY_BATCH = 50


def apply_to_catalog(
    catalog: Catalog,
    graph: Any,
    model_sha256: str | None = None,
    *,
    fewshot: FewShot | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    batch: int = APPLY_BATCH,
) -> int:
    """Re-rank every stored prediction of a model with the catalogue's few-shot prototypes.

    Each confirmed photo is scored against prototypes built without it. Returns how many
    predictions changed their top answer or their uncertain flag.

    `progress(done, total)` hears how many answers have been written back (after each batch,
    and once with 0 before the first); `cancel()` is asked before each batch, and when it says
    True the re-rank stops with ApplyStopped. Answers are written `batch` at a time, each batch
    in one transaction, so a stop or a kill leaves every photo with its old answer or its new
    one, never half of one.
    """
    sha = model_sha256 or catalog.latest_model()
    if sha is None:
        return 0
    teach = fewshot or FewShot.from_catalog(catalog, sha, graph=graph)
    base = model_fusion_weights(sha)
    preds = catalog.predictions(sha)
    if not teach.ranks:
        # Nothing taught any more (the last confirmation undone), or one tradition alone:
        # answers fused with taught evidence go back to the model's own ranking, and to the
        # model's own flag where calibrated teaching had replaced it (else as stored).
        todo: list[tuple[int, Any, dict[str, Any], bool]] = []
        for pid, stored in preds.items():
            if stored.result.get("fewshot"):
                plain = refuse_stored(stored.result, graph, {}, base)
                todo.append((pid, stored, plain, _untaught(plain, stored.uncertain)))
        return _write_back(
            catalog, sha, todo, progress=progress, cancel=cancel, batch=batch, flags=False
        )
    sets = teach.reliability.sets if teach.reliability is not None else None
    found = confirmed_examples(catalog, sha, teach.parts)
    example_of = {pid: t for t, rows in found.items() for pid, _ in rows}
    saree = saree_of(catalog)
    feats = features_of(catalog, sha, teach.parts, sorted(preds))
    todo = []
    for n, (pid, stored) in enumerate(preds.items()):
        if cancel is not None and n % max(1, int(batch)) == 0 and cancel():
            raise ApplyStopped(0, len(preds), 0)  # nothing written yet
        vec = feats.get(pid)
        if vec is None:
            continue
        model = teach
        if pid in example_of:
            # A confirmed photo is scored against prototypes built without it (and without
            # the other photos of its saree).
            model = teach.without(_without_saree(found, saree, pid))
        if not model.ranks:
            # Left out, its tradition leaves one taught tradition or none: nothing to tell
            # apart. An answer fused with earlier teaching goes back to the model's own.
            if stored.result.get("fewshot"):
                plain = refuse_stored(stored.result, graph, {}, base)
                todo.append((pid, stored, plain, _untaught(plain, stored.uncertain)))
            continue
        scores = model.scores_of(vec)
        if not scores:
            continue
        new = refuse_stored(stored.result, graph, scores, model.fusion_weights(base), model.places)
        todo.append((pid, stored, new, _judge(new, stored, sets)))
    return _write_back(
        catalog, sha, todo, progress=progress, cancel=cancel, batch=batch, flags=True
    )


def _write_back(
    catalog: Catalog,
    sha: str,
    todo: Sequence[tuple[int, Any, dict[str, Any], bool]],
    *,
    progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None,
    batch: int,
    flags: bool,
) -> int:
    """Write re-ranked answers back, `batch` per transaction; how many changed (their top
    tradition, or with `flags` also their uncertain flag)."""
    total = len(todo)
    changed = done = 0
    if progress is not None:
        progress(0, total)
    step = max(1, int(batch))
    for start in range(0, total, step):
        if cancel is not None and cancel():
            raise ApplyStopped(done, total, changed)
        chunk = todo[start : start + step]
        moved = 0
        with catalog.transaction():
            for pid, stored, new, uncertain in chunk:
                top = str(new["tradition"])
                moved += top != stored.top_tradition or (flags and uncertain != stored.uncertain)
                catalog.put_prediction(
                    pid,
                    sha,
                    new,
                    top_tradition=top,
                    top_probability=float(new["probability"]),
                    uncertain=uncertain,
                )
        changed += moved
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    return changed


def _judge(new: dict[str, Any], stored: Any, sets: AnswerSets | None) -> bool:
    """Set the answer set on a re-ranked answer and say whether it is uncertain.

    Calibrated on the curator's photos: uncertain below the top probability at which held-back
    confirmed photos were right CONFIDENT_RIGHT of the time, with that as its reason
    (`_taught_flag`). Before that, the set is the shipped model's (by its own calibration) and
    the flag the model gave when the photo was imported stands.
    """
    if sets is not None:
        new["answer_set"] = sets.stored_set([str(r["tradition"]) for r in new.get("ranking", [])])
        if MODEL_FLAG not in new:  # the model's own, for when teaching is undone
            own = [str(r) for r in new.get("uncertain_reasons") or ()]
            new[MODEL_FLAG] = {"uncertain": bool(stored.uncertain), "reasons": own}
        ahead = stored_lead(new.get("ranking") or [])
        taught = [float(v) for v in (new.get("fewshot") or {}).values()]
        best = max(taught) if taught else None
        uncertain, reasons = _taught_flag(ahead, sets, new.get("uncertain_reasons") or (), best)
        new["uncertain_reasons"] = list(reasons)
        return uncertain
    # Not calibrated (any more: confirmations undone below what calibrates sets): the model's
    # own set, flag and reasons, given back where calibrated teaching had replaced them, not
    # reasons about sets that are gone.
    return _untaught(new, bool(stored.uncertain))


def _models_own_set(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A stored answer's set by the shipped model's own calibration (none on the curator's
    photos yet). An answer re-ranked by teaching is marked "taught": its probabilities carry
    taught evidence nothing has checked yet, so no level is claimed for it in words (one
    confirmed photo a tradition on real photos: sets by the 90% rule held the right one 43% of
    the time, `saree bench real`)."""
    probs = {str(r["tradition"]): float(r["probability"]) for r in answer.get("ranking", [])}
    found: dict[str, Any] = {
        "traditions": model_answer_set(probs),
        "level": SET_LEVEL,
        "calibrated_on": 0,
    }
    if answer.get("fewshot"):
        found["taught"] = True
    elif UNLIKE_TRAINING in (answer.get("uncertain_reasons") or ()):
        found["unlike_training"] = True  # the model's calibration does not hold for it
    return found


# A taught answer's photo less like every taught tradition than most confirmed photos are
# like their own (AnswerSets.unlike): teaching pulls a photo of a tradition nobody taught to
# the nearest taught one, and this says so.
# Where the line for a photo perhaps of a tradition nobody taught may sit (`_unlike_line`):
# between these quantiles of the confirmed photos' likeness to their own tradition, at the
# point that catches UNTAUGHT_CAUGHT of them as they would score had their tradition not been
# taught (issue 26 asks for 80% of photos of traditions the model does not know flagged).
UNLIKE_SHARES = (0.1, 0.5)
UNTAUGHT_CAUGHT = 0.8


# How that reason ends: the photo page reads it to say what such an answer's figures are.
NOT_TAUGHT_YET = "it may be a tradition you have not taught yet"


def unlike_taught(share: float) -> str:
    """The reason for a photo less like every taught tradition than all but `share` of the
    confirmed photos (each left out) are like their own (AnswerSets.unlike_share), said of the
    photos that are: "most of your confirmed photos (75%) look more like the others of their
    tradition than this photo looks like any tradition you have taught". The figure stays for
    the details; knowledge.words.plain_reason leaves it out, and words reasons stored before
    ("than all but 25% of your confirmed photos look like their own") alike."""
    kept = 1.0 - float(share)
    return (
        f"{most_of(kept)} of your confirmed photos ({kept:.0%}) look more like the others of "
        f"their tradition than this photo looks like any tradition you have taught: "
        f"{NOT_TAUGHT_YET}"
    )


# Where a stored answer keeps the model's own flag and reasons while calibrated teaching
# decides them (`_judge`), so that undoing the teaching gives them back (`_untaught`).
MODEL_FLAG = "model_flag"


def _untaught(answer: dict[str, Any], uncertain: bool) -> bool:
    """A stored answer fused again without calibrated teaching: its set by the model's own
    rule (marked taught while taught evidence is in it, `_models_own_set`), and the model's
    own flag and reasons given back where calibrated teaching had replaced them; returns its
    flag (`uncertain`, as stored, where teaching had not). The set is made afresh either way:
    one kept from uncalibrated teaching still said "taught" after the teaching was undone."""
    kept = answer.pop(MODEL_FLAG, None)
    if isinstance(kept, dict):
        answer["uncertain_reasons"] = [str(r) for r in kept.get("reasons") or ()]
    # Made from the model's own reasons, given back first: they say whether its calibration
    # holds for the photo.
    answer["answer_set"] = _models_own_set(answer)
    return bool(kept.get("uncertain")) if isinstance(kept, dict) else uncertain


def model_fusion_weights(model_sha256: str) -> Any:
    """The fusion weights the model's answers were made with, when that model is at hand.

    The catalogue stores answers, not the manifest; re-fusing them with other attribute
    settings would change answers that teaching never touched. The shipped model is the one
    looked up; for another, the defaults (as before).
    """
    from saree_app.knowledge.fusion import FusionWeights
    from saree_app.model.manifest import ModelError, ModelManifest
    from saree_app.model.predict import default_model_path

    try:
        manifest = ModelManifest.load(default_model_path())
        if manifest.sha256 == model_sha256 and manifest.fusion:
            return FusionWeights.from_dict(manifest.fusion)
    except (ModelError, OSError, ValueError):
        pass
    return FusionWeights()


def _base_scores(
    result: Mapping[str, Any], graph: Any, taught: Sequence[str], weights: Any
) -> dict[str, float]:
    """Each tradition's fused score for a stored answer before few-shot evidence is added."""

    from saree_app.model.predict import fuse_visual

    visual, attributes = _stored_evidence(result)
    # Zero weight: taught traditions the graph does not know are ranked, with nothing added.
    silent = dataclasses.replace(weights, fewshot=0.0)
    fused = fuse_visual(
        graph,
        visual,
        attributes,
        fewshot=dict.fromkeys(taught, 0.0),
        weights=silent,
        explain=False,  # the scores alone: this runs for every confirmed photo at each fit
    )
    return {str(r.tradition): float(r.score) for r in fused.ranking}


def fit_teaching(
    catalog: Catalog,
    model_sha256: str,
    graph: Any,
    *,
    parts: Sequence[str] | None = None,
    exclude: Iterable[int] = (),
    hubness: Hubness | None = None,
) -> Reliability:
    """Weight and reference of taught evidence, chosen on the confirmed photos (their
    close-ups matched as FewShot matches them, with `hubness` when given).

    Each confirmed photo is answered from its stored visual and attribute scores plus
    weight * (similarity - ref) to prototypes built without it; among the choices right
    about as often as the best (`_choose`), the one that weighs the confirmed photos most
    (on real photos the untaught model is close to guessing: `saree bench real`, 5 confirmed
    photos a tradition, 60.4% -> 61.4% and 58.3% -> 54.9% flagged, against breaking ties by
    the likelihood of the curator's answer). A photo whose tradition has
    no other example counts too: teaching must not pull it to a taught tradition. `ref`
    candidates are quantiles of similarities between photos of different traditions, so only
    a photo closer than those usually are gains. With too few photos to measure, the defaults.
    """
    skip = set(exclude)
    weights = model_fusion_weights(model_sha256)
    labels = {pid: t for pid, t in catalog.confirmed_traditions().items() if pid not in skip}
    preds = catalog.predictions(model_sha256, labels)
    ids = sorted(pid for pid in labels if pid in preds)
    default_parts = tuple(parts) if parts else teaching_parts(catalog, model_sha256)
    counts: dict[str, int] = {}
    for pid in ids:
        counts[labels[pid]] = counts.get(labels[pid], 0) + 1
    informative = sum(1 for pid in ids if counts[labels[pid]] >= 2)
    taught = sorted(counts)
    feats = features_of(catalog, model_sha256, default_parts, ids)
    if len(taught) < 2 or informative < MIN_FIT:
        have = [p for p in ids if p in feats]
        ref = _negative_ref(
            _between(*_compared(np.stack([feats[p] for p in have]), default_parts, hubness))
            if have
            else np.zeros((0, 0)),
            [labels[p] for p in have],
        )
        return Reliability(0, len(ids), 0, DEFAULT_WEIGHT, ref, default_parts, False)
    base = {pid: _base_scores(preds[pid].result, graph, taught, weights) for pid in ids}
    # A model retrained from this catalogue knows its training photos' traditions: its answer
    # on them says nothing of a new photo, and weighed as if it did, the fit trusted it over
    # teaching (`saree bench real`'s draws, retrained then taught: 45.6% against 49.1% for the
    # shipped model taught the same 3 photos a tradition; the fit gave teaching a weight of 16
    # where the shipped model got 256). On those photos the model has no say among the taught
    # traditions (level, in name order, so no weight wins by the model's ranking), and the
    # traditions nobody taught stay out of reach, as the model, trained on the taught ones
    # alone, would keep them: left level with the taught ones, a taught tradition whose
    # likeness fell below the reference lost to the first of them by name.
    trained = _trained_on(catalog, model_sha256, ids)
    for pid in trained:
        base[pid] = {t: (0.0 if t in taught else _OUT_OF_REACH) for t in sorted(base[pid])}
    rows = [pid for pid in ids if pid in feats]
    if len(rows) < 2:
        return Reliability(0, len(ids), 0, DEFAULT_WEIGHT, 0.3, default_parts, False)
    matrix = np.stack([feats[pid] for pid in rows]).astype(np.float64)
    truth = [labels[pid] for pid in rows]
    # rows x taught, nan: no example left once the photo itself is left out
    pairs, matrix = _compared(matrix, default_parts, hubness)
    saree = saree_of(catalog)
    groups = [saree(pid) for pid in rows]
    if pairs is not None:
        sims = _leave_one_out_views(pairs, truth, taught, groups)
    else:
        sims = _leave_one_out(matrix, truth, taught, groups)
    between = _between(pairs, matrix)
    untaught_right = 0
    for pid in rows:
        b = base[pid]
        if pid not in trained:
            untaught_right += max(b, key=lambda t: b[t]) == labels[pid]
    tried = [
        (_score_choice(rows, truth, base, taught, sims, w=w, ref=ref), w, ref)
        for ref in sorted(set(_negative_quantiles(between, truth)))
        for w in WEIGHTS
    ]
    right, w, ref = _choose(tried, len(rows))
    fit = Reliability(
        right,
        len(rows),
        untaught_right,
        w,
        ref,
        default_parts,
        True,
        untaught_of=len([pid for pid in rows if pid not in trained]) if trained else None,
    )
    probs = _loo_probabilities(rows, base, taught, sims, w=fit.weight, ref=fit.ref)
    informative_rows = [i for i, pid in enumerate(rows) if counts[labels[pid]] >= 2]
    own = [float(sims[i, taught.index(truth[i])]) for i in informative_rows]
    # Each confirmed photo as if its tradition had not been taught: its likeness to the others.
    away = [_best_elsewhere(sims[i], taught.index(truth[i])) for i in informative_rows]
    sets = _calibrate_sets(
        [probs[i] for i in informative_rows],
        [truth[i] for i in informative_rows],
        likeness=own,
        likeness_elsewhere=away,
    )
    checks = _tradition_checks(
        [probs[i] for i in informative_rows], [truth[i] for i in informative_rows]
    )
    return dataclasses.replace(fit, sets=sets, by_tradition=checks)


# A score no taught evidence can make up (w at most 256 times a likeness under 1).
_OUT_OF_REACH = -1e4


def _trained_on(catalog: Catalog, model_sha256: str, photo_ids: Sequence[int]) -> set[int]:
    """Which of `photo_ids` the model `model_sha256` was trained on (a model retrained from
    this catalogue names them in its manifest: collection.models.trained_photos), by content."""
    from saree_app.collection.models import trained_photos
    from saree_app.model.manifest import TRAINED_DIGITS

    known = trained_photos(Path(catalog.path), model_sha256)
    if not known:
        return set()
    out = set()
    for pid in photo_ids:
        photo = catalog.photo(pid)
        if photo is not None and photo.sha256[:TRAINED_DIGITS] in known:
            out.add(pid)
    return out


def _choose(tried: Sequence[tuple[int, float, float]], n: int) -> tuple[int, float, float]:
    """(right, weight, ref): among the choices within one standard error of the best (a
    binomial one, sqrt(n p (1 - p)) photos), the one weighing the confirmed photos most.

    A few dozen confirmed photos tell weights apart by a photo or two, which is noise: on real
    photos the largest weight was as good or better in every draw where the fit picked a smaller
    one for one or two more photos right (`saree bench real`, 3 confirmed photos a tradition,
    5 draws: 41.1% with the plain best against 46.0% this way). A smaller weight still wins
    where the shipped model's own scores help clearly, as on rendered sarees. Between equals
    the earlier ref (the lower quantile) is kept, as before."""
    best = max(right for right, _, _ in tried)
    p = best / n if n else 0.0
    near = [t for t in tried if t[0] >= best - np.sqrt(n * p * (1.0 - p))]
    return max(near, key=lambda t: (t[1], t[0], -tried.index(t)))


def _taught_scores(
    base: Mapping[str, float], taught: Sequence[str], sims: np.ndarray, *, w: float, ref: float
) -> dict[str, float]:
    """One photo's fused scores plus w * (similarity - ref) for each taught tradition that
    has a prototype without it (nan: none)."""
    scores = dict(base)
    for j, t in enumerate(taught):
        if not np.isnan(sims[j]):
            scores[t] = scores.get(t, 0.0) + w * (float(sims[j]) - ref)
    return scores


def _loo_probabilities(
    rows: Sequence[int],
    base: Mapping[int, Mapping[str, float]],
    taught: Sequence[str],
    sims: np.ndarray,
    *,
    w: float,
    ref: float,
) -> list[dict[str, float]]:
    """Each confirmed photo's fused probabilities with prototypes built without it."""
    out = []
    for i, pid in enumerate(rows):
        scores = _taught_scores(base[pid], taught, sims[i], w=w, ref=ref)
        names = list(scores)
        arr = np.array([scores[t] for t in names], dtype=np.float64)
        arr = np.exp(arr - arr.max())
        arr /= arr.sum()
        out.append({t: float(p) for t, p in zip(names, arr, strict=True)})
    return out


def _best_elsewhere(row: np.ndarray, own: int) -> float:
    """A photo's best likeness to the taught traditions other than its own (nan: none)."""
    others = np.delete(np.asarray(row, dtype=np.float64), own)
    others = others[np.isfinite(others)]
    return float(others.max()) if others.size else float("nan")


def _unlike_line(own: Sequence[float], elsewhere: Sequence[float]) -> tuple[float, float] | None:
    """(line, share): the taught likeness below which a photo is flagged as perhaps of a
    tradition nobody taught, and the share of the confirmed photos' own likeness below it.

    The confirmed photos show both sides. Each one's likeness to its own tradition, left out,
    is what a photo of a taught tradition scores (`own`); its likeness to the other traditions
    is what it would score had its tradition not been taught (`elsewhere`). The line catches
    UNTAUGHT_CAUGHT of the second, kept between the UNLIKE_SHARES of the first: where teaching
    tells traditions apart well it sits low and flags few right answers (the lower bound, the
    line used before 2026-12-07 f); where traditions look alike it rises, and flags more of
    both. None: too few photos to measure."""
    seen = np.array([x for x in own if np.isfinite(x)], dtype=np.float64)
    if seen.size < MIN_CALIBRATION:
        return None
    low, high = (float(np.quantile(seen, q)) for q in UNLIKE_SHARES)
    apart = np.array([x for x in elsewhere if np.isfinite(x)], dtype=np.float64)
    wanted = float(np.quantile(apart, UNTAUGHT_CAUGHT)) if apart.size else low
    line = min(max(wanted, low), high)
    share = float(np.mean(seen < line)) if line > low else UNLIKE_SHARES[0]
    return line, share


def _calibrate_sets(
    probs: Sequence[Mapping[str, float]],
    truth: Sequence[str],
    level: float = SET_LEVEL,
    likeness: Sequence[float] = (),
    likeness_elsewhere: Sequence[float] = (),
) -> AnswerSets | None:
    """Answer sets from confirmed photos' held-out probabilities (None: too few photos);
    `likeness`: each one's taught likeness to its own tradition, held out, and
    `likeness_elsewhere` to the other traditions (`AnswerSets.unlike`, `_unlike_line`)."""
    if len(probs) < MIN_CALIBRATION:
        return None
    # The right tradition's place in each ranking (1: first); past the end where it is missing.
    places = []
    for p, t in zip(probs, truth, strict=True):
        order = _ranked(p)
        places.append(order.index(t) + 1 if t in order else len(order) + 1)
    size = conformal_size(places, level)
    if size is None:
        return None
    covered = single = single_right = 0
    for i, (p, t) in enumerate(zip(probs, truth, strict=True)):
        # The photo held back: its set's size calibrated on the others.
        own = conformal_size(places[:i] + places[i + 1 :], level)
        members = _ranked(p) if own is None else _ranked(p)[:own]
        covered += t in members
        if len(members) == 1:
            single += 1
            single_right += members[0] == t
    confident_lead, n_sure, n_right = _confident_from(probs, truth)
    found = _unlike_line(likeness, likeness_elsewhere)
    spread = _fit_spread(probs, truth)
    tops = []
    for p, t in zip(probs, truth, strict=True):
        read = _read_at(p, spread)
        best = max(read, key=lambda x: read[x])
        tops.append((read[best], best == t))
    return AnswerSets(
        size=size,
        level=level,
        photos=len(probs),
        coverage=covered / len(probs),
        single=single,
        single_right=single_right,
        confident_lead=round(confident_lead, 6),
        confident_photos=n_sure,
        confident_right=n_right,
        unlike=None if found is None else round(found[0], 6),
        unlike_share=UNLIKE_SHARES[0] if found is None else round(found[1], 4),
        spread=spread,
        stated=round(float(np.mean([x for x, _ in tops])), 4),
        stated_right=round(float(np.mean([ok for _, ok in tops])), 4),
    )


def _logs_of(probabilities: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """The traditions of probabilities fused at spread 1, and their logs (the scores less one
    constant)."""
    names = list(probabilities)
    values = np.array([probabilities[n] for n in names], dtype=np.float64)
    return names, np.log(np.maximum(values, 1e-300))


def _log_read_at(logs: np.ndarray, spread: float) -> np.ndarray:
    """The log-probabilities those logs (`_logs_of`) give when read at `spread`."""
    z = logs / spread
    z = z - z.max()
    out: np.ndarray = z - np.log(np.exp(z).sum())
    return out


def _read_at(probabilities: Mapping[str, float], spread: float) -> dict[str, float]:
    """Probabilities fused at spread 1, as they read at `spread` (FusionWeights.spread)."""
    names, logs = _logs_of(probabilities)
    read = np.exp(_log_read_at(logs, spread))
    return {n: float(v) for n, v in zip(names, read, strict=True)}


# Spreads tried by `_fit_spread`: from the fused scores as they are to 256 times closer.
SPREADS = tuple(float(2.0 ** (k / 2)) for k in range(17))


def _fit_spread(probs: Sequence[Mapping[str, float]], truth: Sequence[str]) -> float:
    """The spread (`FusionWeights.spread`) under which the confirmed photos' held-back answers
    (`probs`, as fused with spread 1) give their curator's traditions the most likelihood:
    temperature scaling, fitted on the collection itself. Taught evidence is weighed to rank
    well (`fit_teaching`), which leaves its answers so sure that first traditions right half
    the time read 100%; read at this spread, a stated 60% is right about 60% of the time on
    photos like the confirmed ones. Only how sure answers read changes: not their order, nor
    the flags, nor the sets."""
    rows = []
    for p, t in zip(probs, truth, strict=True):
        if t in p:
            names, logs = _logs_of(p)
            rows.append((logs, names.index(t)))
    if not rows:
        return 1.0

    def likelihood(spread: float) -> float:
        return sum(float(_log_read_at(logs, spread)[k]) for logs, k in rows)

    return max(SPREADS, key=lambda s: (likelihood(s), -s))


def _confident_from(
    probs: Sequence[Mapping[str, float]], truth: Sequence[str]
) -> tuple[float, int, int]:
    """The lowest `lead` from which held-back answers were right CONFIDENT_RIGHT of the time:
    (threshold, answers at or above it, right among them); (inf, 0, 0) when none."""
    tops = []
    for p, t in zip(probs, truth, strict=True):
        best = max(p, key=lambda x: p[x])
        tops.append((_lead_of_probabilities(p), best == t))
    tops.sort(key=lambda x: -x[0])
    chosen = (float("inf"), 0, 0)
    right = 0
    for n, (ahead, ok) in enumerate(tops, start=1):
        right += ok
        # Only where the next answer leads by less can the line be drawn.
        if n < len(tops) and tops[n][0] == ahead:
            continue
        if n >= MIN_CONFIDENT and right >= CONFIDENT_RIGHT * n:
            chosen = (ahead, n, right)
    return chosen


def saree_of(catalog: Catalog) -> Callable[[int], str]:
    """Photo id -> which saree it shows: its object's accession number, else the photo itself.

    A photo left out of teaching takes the other photos of its saree with it: the border
    close-up of a confirmed saree would otherwise vouch for its own whole view, and teaching
    would look more reliable than it is."""
    from saree_app.collection.objects import object_ids_by_photo

    accession = object_ids_by_photo(catalog)
    return lambda pid: f"object:{accession[pid]}" if pid in accession else f"photo:{pid}"


def _without_saree(
    found: Mapping[str, Sequence[tuple[int, np.ndarray]]], saree: Callable[[int], str], pid: int
) -> dict[str, list[np.ndarray]]:
    """Each tradition's confirmed examples but those of the saree photo `pid` shows."""
    own = saree(pid)
    return {t: [v for p, v in rows if saree(p) != own] for t, rows in found.items()}


def _apart(groups: Sequence[str] | None, n: int) -> np.ndarray:
    """n x n: True where two rows show different sarees (rows of one saree left out together)."""
    if groups is None:
        return ~np.eye(n, dtype=bool)
    g = np.asarray(groups, dtype=object)
    return g[:, None] != g[None, :]


def _leave_one_out(
    matrix: np.ndarray,
    truth: Sequence[str],
    taught: Sequence[str],
    groups: Sequence[str] | None = None,
) -> np.ndarray:
    """Cosine similarity of each row to each tradition's prototype built without that row (and
    without the other photos of its saree, `groups`)."""
    out = np.full((len(truth), len(taught)), np.nan)
    apart = _apart(groups, len(truth))
    for j, t in enumerate(taught):
        members = np.array([x == t for x in truth])
        for i in range(len(truth)):
            others = members & apart[i]
            if not others.any():
                continue  # its only examples are the photo itself or its own saree
            proto = matrix[others].sum(axis=0)
            n = float(np.linalg.norm(proto))
            if n > 0:
                out[i, j] = float(matrix[i] @ proto) / n
    return out


def _view_pairs(matrix: np.ndarray) -> np.ndarray | None:
    """(photos, photos, views): for each view of photo i, its best cosine among photo j's
    views; None when some photo has no close-ups stored (teaching then uses prototypes)."""
    found = [cloth_model.views(v) for v in matrix]
    if any(f is None for f in found):
        return None
    stack = np.stack([f for f in found if f is not None]).astype(np.float64)  # n x V x d
    n, v, _ = stack.shape
    flat = stack.reshape(n * v, -1)
    cos = (flat @ flat.T).reshape(n, v, n, v)
    return cos.max(axis=3).transpose(0, 2, 1)  # n x n x V


def _leave_one_out_views(
    pairs: np.ndarray,
    truth: Sequence[str],
    taught: Sequence[str],
    groups: Sequence[str] | None = None,
) -> np.ndarray:
    """Each photo's close-up match (see FewShot.similarities_of) to each tradition's other
    examples (other sarees than its own, `groups`); nan where there are none."""
    n = len(truth)
    out = np.full((n, len(taught)), np.nan)
    apart = _apart(groups, n)
    for j, t in enumerate(taught):
        members = np.array([x == t for x in truth])
        for i in range(n):
            others = members & apart[i]
            if others.any():
                out[i, j] = float(pairs[i][others].max(axis=0).mean())
    return out


def _compared(
    matrix: np.ndarray, parts: Sequence[str], hubness: Hubness | None = None
) -> tuple[np.ndarray | None, np.ndarray]:
    """What teaching compares feature rows by, as FewShot does: (close-up pairs, see
    `_view_pairs`, less what each row loses as an example for its `hubness`, or None; the
    rows prototypes are made of, the cloth's summaries when its close-ups are not all
    there)."""
    if tuple(parts) != CLOTH_PARTS:
        return None, matrix
    pairs = _view_pairs(matrix)
    if pairs is not None:
        if hubness is not None:
            found = [cloth_model.views(v) for v in matrix]
            hub = np.asarray([hubness.of(v) for v in found if v is not None])
            pairs = pairs - HUB_WEIGHT * hub[None, :, None]
        return pairs, matrix
    return None, np.stack([cloth_model.summary(v) for v in matrix]).astype(np.float64)


def _between(pairs: np.ndarray | None, matrix: np.ndarray) -> np.ndarray:
    """Photo-by-photo similarity from what `_compared` gave."""
    return pairs.mean(axis=2) if pairs is not None else matrix @ matrix.T


def _negative_quantiles(sims: np.ndarray, truth: Sequence[str]) -> list[float]:
    """Similarities between photos of different traditions (`sims`: photo by photo): median,
    upper quartile, 90th."""
    other = np.array([[a != b for b in truth] for a in truth])
    values = sims[other]
    if values.size == 0:
        return [0.3]
    return [round(float(np.quantile(values, q)), 4) for q in (0.5, 0.75, 0.9)]


def _negative_ref(sims: np.ndarray, truth: Sequence[str]) -> float:
    """The reference used before it can be fitted: the upper quartile of different-tradition
    similarities (0.3 when there are none to compare)."""
    if sims.shape[0] < 2:
        return 0.3
    return _negative_quantiles(sims, truth)[1] if len(set(truth)) > 1 else 0.3


def _score_choice(
    rows: Sequence[int],
    truth: Sequence[str],
    base: Mapping[int, Mapping[str, float]],
    taught: Sequence[str],
    sims: np.ndarray,
    *,
    w: float,
    ref: float,
) -> int:
    """How many confirmed photos a weight and reference answer right, each left out."""
    right = 0
    for i, pid in enumerate(rows):
        scores = _taught_scores(base[pid], taught, sims[i], w=w, ref=ref)
        right += max(scores, key=lambda t: scores[t]) == truth[i]
    return right
