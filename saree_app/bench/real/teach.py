"""The curator's path, run as the app runs it: import into a catalogue, confirm, teach, re-rank.

The photos go through the model once, by the app's importer, into a catalogue in the output
folder (resumable: a second run reads every answer from it). Each teaching draw works on a copy
of that catalogue: the chosen photos are confirmed with `Catalog.set_label` and the few-shot step
is `collection.fewshot.apply_to_catalog`, exactly what `saree label` + `saree fewshot --apply`
do; the answers for the other photos are then read back from the catalogue.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.bench.real.inputs import Folder, Inputs
from saree_app.bench.real.scoring import (
    area_under_risk,
    auroc,
    balanced,
    calibration,
    risk_coverage,
)
from saree_app.collection import fewshot as fewshot_step
from saree_app.collection.catalog import Catalog
from saree_app.collection.importer import import_files

# Which embeddings the plain nearest-prototype reference is tried on (the app's own choice is
# fewshot.DEFAULT_PARTS); the best of them is the reference the taught answer must beat.
REFERENCE_FEATURES: dict[str, tuple[str, ...]] = {
    "cloth": ("cloth",),
    "cloth close-ups": ("cloth",),
    "whole": ("whole",),
    "border": ("border",),
    "pallu": ("pallu",),
    "whole+border+pallu": ("whole", "border", "pallu"),
}


class _Capture:
    """The app's Predictor as the bench's import sees it: its answers and its manifest only
    (no cloth or person models of its own to reach for, as before)."""

    def __init__(self, predictor: Any) -> None:
        self.manifest = predictor.manifest
        self.predict_many = predictor.predict_many


@dataclass
class Imported:
    """The base catalogue after import: which photo is which, and what could not be read."""

    catalog_path: Path
    model_sha256: str
    photo_id: dict[str, int]  # photo key -> catalogue id
    skipped: list[tuple[str, str]]  # (photo key or path, why)


def import_photos(
    inputs: Inputs,
    catalog_path: Path,
    predictor: Any,
    *,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> Imported:
    """Every photo into the catalogue through the app's importer."""
    files = [p.resolve() for f in inputs.folders for p in f.photos]
    by_path = {p.resolve(): inputs.key(p) for f in inputs.folders for p in f.photos}
    skipped: list[tuple[str, str]] = []
    sha = str(predictor.manifest.sha256)
    with Catalog(catalog_path) as cat:
        last = None
        for last in import_files(cat, files, _Capture(predictor), batch_size=batch_size):
            if progress is not None:
                progress(last.done, last.total)
        if last is not None:
            for s in last.skipped:
                skipped.append((by_path.get(Path(s.path), s.path), s.reason))
        ids: dict[str, int] = {}
        for photo in cat.photos():
            key = by_path.get(Path(photo.path))
            if key is not None and cat.prediction(photo.id, sha) is not None:
                ids[key] = photo.id
    return Imported(catalog_path, sha, ids, skipped)


def copy_catalog(source: Path, target: Path) -> None:
    """A consistent copy of a catalogue file (sqlite's backup: safe with its WAL)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(str(source)) as src, sqlite3.connect(str(target)) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def present_keys(folder: Folder, imported: Imported) -> list[str]:
    """The keys of a folder's photos that made it into the catalogue."""
    prefix = folder.name + "/"
    return sorted(k for k in imported.photo_id if k.startswith(prefix))


def draw(
    folders: Sequence[Folder], present: Mapping[str, Sequence[str]], k: int, seed: int, n: int
) -> dict[str, list[str]]:
    """Draw `n` of a tradition's photos at random: tradition -> chosen keys (reproducible)."""
    rng = np.random.default_rng([seed, k, n])
    out: dict[str, list[str]] = {}
    for folder in folders:
        keys = sorted(present.get(folder.name, ()))
        if len(keys) >= k + 1:
            out[folder.name] = [keys[i] for i in sorted(rng.permutation(len(keys))[:k])]
    return out


@dataclass
class DrawResult:
    """One teaching draw: the answers for the photos not taught, read back from the catalogue."""

    taught: dict[str, list[str]]  # folder -> keys confirmed
    answers: dict[str, tuple[str | None, bool, float]]  # key -> (top, uncertain, probability)
    reference: dict[str, dict[str, str | None]]  # feature set -> key -> nearest prototype
    # key -> the answer set stored with the taught answer, and whether it was calibrated on
    # the confirmed photos (else the shipped model's own calibration)
    sets: dict[str, tuple[list[str], bool]] = dataclasses.field(default_factory=dict)
    # key -> top answer, for photos of traditions asked to be watched but not taught (is a
    # tradition nobody taught made worse by teaching the others?)
    others: dict[str, str | None] = dataclasses.field(default_factory=dict)
    # key -> whether that watched photo's taught answer is flagged uncertain
    others_flagged: dict[str, bool] = dataclasses.field(default_factory=dict)
    # key -> how far the taught answer's first tradition leads its second (fewshot.lead):
    # what decides its flag once answer sets are calibrated
    leads: dict[str, float] = dataclasses.field(default_factory=dict)


def run_draw(
    imported: Imported,
    folders: Sequence[Folder],
    taught: Mapping[str, Sequence[str]],
    graph: Any,
    work: Path,
    *,
    watch: Sequence[str] = (),
) -> DrawResult:
    """Confirm the chosen photos in a copy of the catalogue, teach, and read the rest back.

    `watch`: folders not taught in this draw whose photos' answers are read back too."""
    path = work / "draw.sqlite"
    copy_catalog(imported.catalog_path, path)
    by_name = {f.name: f for f in folders}
    sha = imported.model_sha256
    with Catalog(path) as cat:
        for name, keys in taught.items():
            for key in keys:
                cat.set_label(
                    imported.photo_id[key], tradition=by_name[name].taught_as, certainty="confirmed"
                )
        # The few-shot step as `saree fewshot --apply` runs it.
        teach = fewshot_step.FewShot.from_catalog(cat, sha, graph=graph)
        fewshot_step.apply_to_catalog(cat, graph, sha, fewshot=teach)
        done = {k for keys in taught.values() for k in keys}
        # Only the taught traditions' other photos are scored (a tradition left out of this k
        # has no example, so its photos say nothing about teaching).
        scored = {k for name in taught for k in present_keys(by_name[name], imported)}
        stored = cat.predictions(sha)
        answers = {}
        leads: dict[str, float] = {}
        sets: dict[str, tuple[list[str], bool]] = {}
        for key, pid in imported.photo_id.items():
            if key in done or key not in scored or pid not in stored:
                continue
            s = stored[pid]
            answers[key] = (s.top_tradition, bool(s.uncertain), float(s.top_probability or 0.0))
            leads[key] = fewshot_step.stored_lead(s.result.get("ranking") or [])
            answer_set = s.result.get("answer_set")
            if isinstance(answer_set, dict):
                members = [str(t) for t in answer_set.get("traditions", [])]
                sets[key] = (members, bool(answer_set.get("calibrated_on")))
        reference = _reference(
            cat, sha=sha, ids=imported.photo_id, by_name=by_name, taught=taught, rest=set(answers)
        )
        watched = [
            key
            for name in watch
            if name not in taught
            for key in present_keys(by_name[name], imported)
            if imported.photo_id[key] in stored
        ]
        others = {key: stored[imported.photo_id[key]].top_tradition for key in watched}
        flagged = {key: bool(stored[imported.photo_id[key]].uncertain) for key in watched}
    path.unlink(missing_ok=True)
    return DrawResult(
        {k: list(v) for k, v in taught.items()}, answers, reference, sets, others, flagged, leads
    )


def untaught_figures(
    results: Sequence[DrawResult],
    truth: Mapping[str, str],
    before: Mapping[str, str | None],
    flagged_before: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """Traditions nobody taught, while the others were: balanced top-1 on their photos before
    teaching (the shipped model's answers) and after, per draw, and the mean change; and how
    many of their photos are flagged uncertain before and after (a photo pulled to a taught
    tradition should at least be flagged)."""
    pairs = []
    flags_now: list[bool] = []
    flags_was: list[bool] = []
    for r in results:
        if not r.others:
            continue
        flags_now += [r.others_flagged[k] for k in r.others if k in r.others_flagged]
        if flagged_before is not None:
            flags_was += [flagged_before[k] for k in r.others if k in flagged_before]
        was: dict[str, list[bool]] = {}
        now: dict[str, list[bool]] = {}
        for key, top in r.others.items():
            was.setdefault(truth[key], []).append(before.get(key) == truth[key])
            now.setdefault(truth[key], []).append(top == truth[key])
        b, a = balanced(was), balanced(now)
        if b is not None and a is not None:
            pairs.append((b, a))
    return {
        "draws": len(pairs),
        "before": float(np.mean([b for b, _ in pairs])) if pairs else None,
        "after": float(np.mean([a for _, a in pairs])) if pairs else None,
        "change_per_draw": [round(a - b, 4) for b, a in pairs],
        "flagged_before": float(np.mean(flags_was)) if flags_was else None,
        "flagged_after": float(np.mean(flags_now)) if flags_now else None,
    }


def _reference(
    cat: Catalog,
    *,
    sha: str,
    ids: Mapping[str, int],
    by_name: Mapping[str, Folder],
    taught: Mapping[str, Sequence[str]],
    rest: set[str],
) -> dict[str, dict[str, str | None]]:
    """A plain nearest-prototype on the app's stored embeddings, from the same taught photos."""
    out: dict[str, dict[str, str | None]] = {}
    for name, parts in REFERENCE_FEATURES.items():
        feats = fewshot_step.features_of(cat, sha, parts, sorted(ids.values()))
        examples = {
            by_name[f].taught_as: [feats[ids[k]] for k in keys if ids[k] in feats]
            for f, keys in taught.items()
        }
        # "cloth" is the plain prototype of the cloth features; "cloth close-ups" matches
        # each photo's tiles one by one, as teaching does when every photo has them.
        proto = fewshot_step.FewShot(
            examples, parts=parts, min_examples=1, match_views=name == "cloth close-ups"
        )
        out[name] = {
            key: proto.nearest_of(feats[ids[key]]) if ids[key] in feats else None for key in rest
        }
    return out


def _right_by_tradition(
    r: DrawResult,
    truth: Mapping[str, str],
    pick: Callable[[DrawResult, str], str | None],
    keys: Iterable[str],
) -> dict[str, list[bool]]:
    """Tradition -> whether `pick` answered each of its photos among `keys` right, in a draw."""
    out: dict[str, list[bool]] = {}
    for key in keys:
        out.setdefault(truth[key], []).append(pick(r, key) == truth[key])
    return out


def by_source(
    results: Sequence[DrawResult],
    truth: Mapping[str, str],
    sources: Mapping[str, str],
    pick: Callable[[DrawResult, str], str | None],
) -> dict[str, dict[str, Any]]:
    """Top-1 on the photos not taught, apart for those published by a source (a shop, a
    maker) one of whose photos of the same tradition was taught ("seen") and the others
    ("unseen"): how much of what teaching gets right is the source's way of photographing
    rather than the cloth. Each: answers over all draws, the share right, and the mean over
    draws of the balanced top-1. Photos without a known source are left out."""
    names = ("seen", "unseen")
    per_draw: dict[str, list[float]] = {name: [] for name in names}
    right = dict.fromkeys(names, 0)
    answers = dict.fromkeys(names, 0)
    for r in results:
        # Each draw's taught sources, once for both sides.
        taught_from: dict[str, set[str]] = {}
        for keys in r.taught.values():
            for k in keys:
                if k in sources:
                    taught_from.setdefault(truth[k], set()).add(sources[k])
        for name in names:
            keys = [
                key
                for key in r.answers
                if key in sources
                and (sources[key] in taught_from.get(truth[key], set())) == (name == "seen")
            ]
            groups = _right_by_tradition(r, truth, pick, keys)
            right[name] += sum(sum(v) for v in groups.values())
            answers[name] += len(keys)
            value = balanced(groups)
            if value is not None:
                per_draw[name].append(value)
    return {
        name: {
            "answers": answers[name],
            "right": right[name] / answers[name] if answers[name] else None,
            "balanced": float(np.mean(per_draw[name])) if per_draw[name] else None,
        }
        for name in names
    }


# The shares of the answers, most ahead first, at which the share right is reported.
LEAD_COVERAGES = (0.25, 0.4, 0.5, 0.6)


def ranked_by_lead(leads: Sequence[tuple[float, bool]]) -> dict[str, Any]:
    """Answers ranked by their lead (`DrawResult.leads`, with whether each was right): the share
    right among the first LEAD_COVERAGES of them, the AUROC of the lead for right against
    wrong, and the risk-coverage curve (every 2% of the answers) with its area."""
    if not leads:
        return {"lead_right_at": None, "lead_auroc": None, "lead_risk": [], "lead_risk_area": None}
    values = [x for x, _ in leads]
    right = [ok for _, ok in leads]
    curve = risk_coverage(values, right)
    at = {}
    for share in LEAD_COVERAGES:
        _, err = curve[max(0, int(np.ceil(share * len(curve))) - 1)]
        at[f"{share:.2f}"] = round(1.0 - err, 4)
    step = max(1, len(curve) // 50)
    return {
        "lead_right_at": at,
        "lead_auroc": auroc(values, right),
        "lead_risk": [(round(c, 4), round(r, 4)) for c, r in curve[step - 1 :: step]],
        "lead_risk_area": area_under_risk(curve),
    }


def taught_figures(
    results: Sequence[DrawResult],
    truth: Mapping[str, str],
    sources: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Balanced top-1 on the photos not taught: per draw, mean and spread, and the references;
    with `sources` (photo key -> where it was published), the same split by whether teaching
    saw the photo's source for its tradition (`by_source`)."""

    def per_draw(pick: Callable[[DrawResult, str], str | None]) -> list[float]:
        scores = []
        for r in results:
            value = balanced(_right_by_tradition(r, truth, pick, r.answers))
            if value is not None:
                scores.append(value)
        return scores

    def summary(values: list[float]) -> dict[str, Any]:
        return {
            "per_draw": [round(v, 4) for v in values],
            "mean": float(np.mean(values)) if values else None,
            "sd": float(np.std(values)) if values else None,
            "min": min(values) if values else None,
            "max": max(values) if values else None,
        }

    app = summary(per_draw(lambda r, key: r.answers[key][0]))
    refs = {
        name: summary(per_draw(lambda r, key, name=name: r.reference[name].get(key)))  # type: ignore[misc]
        for name in REFERENCE_FEATURES
    }
    flagged, kept_right = [], []
    for r in results:
        vals = list(r.answers.items())
        flagged.append(sum(v[1] for _, v in vals) / len(vals) if vals else 0.0)
        kept = [(key, v) for key, v in vals if not v[1]]
        if kept:
            kept_right.append(sum(v[0] == truth[key] for key, v in kept) / len(kept))
    leads = [
        (r.leads[key], v[0] == truth[key])
        for r in results
        for key, v in r.answers.items()
        if key in r.leads and np.isfinite(r.leads[key])
    ]
    stated = [(v[2], v[0] == truth[key]) for r in results for key, v in r.answers.items() if v[0]]
    covered, sizes, calibrated = [], [], []
    for r in results:
        for key, (members, cal) in r.sets.items():
            covered.append(truth[key] in members)
            sizes.append(len(members))
            calibrated.append(cal)
    return {
        "app": app,
        "reference": refs,
        "flagged": float(np.mean(flagged)) if flagged else None,
        "unflagged_right": float(np.mean(kept_right)) if kept_right else None,
        # Answer sets of the photos not taught: how often they held the right tradition,
        # their mean size, and the share calibrated on the confirmed photos.
        "set_coverage": float(np.mean(covered)) if covered else None,
        "set_size": float(np.mean(sizes)) if sizes else None,
        "set_calibrated": float(np.mean(calibrated)) if calibrated else None,
        "tested_photos": int(np.mean([len(r.answers) for r in results])) if results else 0,
        # Every draw's answers together, ranked by how far their first tradition leads the
        # second (what the flag reads): how many are right among the first share of them.
        **ranked_by_lead(leads),
        # How sure the answers read against how often they are right (`calibration`).
        **calibration(stated),
        "by_source": (
            {
                "app": by_source(results, truth, sources, lambda r, key: r.answers[key][0]),
                **{
                    f"reference: {name}": by_source(
                        results,
                        truth,
                        sources,
                        lambda r, key, name=name: r.reference[name].get(key),  # type: ignore[misc]
                    )
                    for name in ("cloth close-ups",)
                },
            }
            if sources
            else None
        ),
    }
