"""Open-set calibration and AUROC: known traditions vs withheld traditions and non-sarees.

Renders photos of the model's traditions (seeds far from any training seed), of traditions
withheld from training (Gadwal, Ilkal, Kota Doria, Sambalpuri unless the model knows them)
and non-saree scenes. Even seeds calibrate, odd seeds evaluate: thresholds are fitted on the
calibration half (known photos only fix the thresholds; the choice of which signals to use
also looks at that half's unknown photos), and every figure printed is on the evaluation half.
The thresholds are written into the manifest's "open_set" entry (the checksum covers only the
.onnx, so the manifest may change).

With --non-saree DIR, every photo in DIR (photos that are not sarees: sample photos of
other packages, other garments and textiles; `saree synth garments` renders garments) also goes
through the app's own Predictor, knowledge
graph included, and the share it flags uncertain is printed with the names of those it does
not flag. Those photos only measure: they never take part in fitting the thresholds.
With --non-saree-samples DIR, DIR is first filled with every sample picture the installed
maintained packages ship as data (SAMPLE_PACKAGES: scikit-image, matplotlib, scikit-learn;
`pip install scikit-image matplotlib scikit-learn` beside the app), then measured the same way:
the same set on any machine, named in DIR/SOURCES.txt with each package's version.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.bench import Report, at_least, run_reported
from saree_app.model.familiar import TrainingLook
from saree_app.model.saree_check import NOT_A_SAREE

WITHHELD = ("Gadwal", "Ilkal", "KotaDoria", "Sambalpuri")
CACHE = Path(os.environ.get("SAREE_BENCH_DATA", "/work/data/bench")) / "openset"
SEED_BASE = 7_000_000  # far above the seeds data sets are rendered with


def _cloth_check(
    files: dict[str, list[tuple[int, Path]]],
    rule: Any,
    groups: dict[str, list[Any]],
    training_look: Any = None,
    not_saree: dict[Path, bool] | None = None,
) -> dict[str, dict[str, float]]:
    """The evaluation half as the app flags it: the model's thresholds, the cloth-features
    model finding that the photo does not look like cloth, the photo looking unlike the
    model's training photos (`look`, model/familiar.py), or the manifest's saree check finding
    it may not be a saree (`not_saree`: photo -> flagged so, model/saree_check.py; the open-set
    rule above is fitted on the model's signals alone). Empty when the cloth-features model is
    not installed."""
    from saree_app.imaging import PhotoError, load_photo
    from saree_app.model.cloth import DECODE_SIDE, ClothFeatures
    from saree_app.model.manifest import ModelError

    try:
        cloth = ClothFeatures.shipped()
    except ModelError:
        return {}
    if cloth is None or cloth.likeness_threshold is None:
        return {}
    look = TrainingLook.from_entry(training_look, cloth.sha256)
    names = {"known": "known", "withheld": "withheld", "distractor": "non-saree"}
    out: dict[str, dict[str, float]] = {}
    for group, rows in files.items():
        flags: list[bool] = []
        off: list[bool] = []
        unlike: list[bool] = []
        no_saree: list[bool] = []
        for (parity, path), (_, signals) in zip(rows, groups[group], strict=True):
            if parity != 1:
                continue
            try:
                photo = load_photo(path, target=DECODE_SIDE)
            except PhotoError:
                continue
            whole, likeness = cloth.whole(photo)
            gone = cloth.not_cloth(photo, likeness)
            off.append(gone)
            unlike.append(look is not None and look.unlike(whole))
            no_saree.append(bool((not_saree or {}).get(path)))
            flags.append(gone or unlike[-1] or no_saree[-1] or rule.novelty(signals) > 0)
        if flags:
            out[names[group]] = {
                "flagged": round(float(np.mean(flags)), 4),
                "not_cloth": round(float(np.mean(off)), 4),
                "unlike_training": round(float(np.mean(unlike)), 4),
                "not_a_saree": round(float(np.mean(no_saree)), 4),
            }
    return out


def add_fit_arguments(ap: argparse.ArgumentParser, name: str, false_alarm: float) -> None:
    """The arguments shared by the benches that fit a manifest entry on renders and write it
    (`saree bench familiar`, `saree bench saree_check`): the false-alarm share, the rendering
    processes, the render cache (named `name`), photos to measure, --no-write and --json."""
    ap.add_argument(
        "--false-alarm",
        type=float,
        default=false_alarm,
        help=f"share of held-back rendered sarees flagged (default {false_alarm})",
    )
    ap.add_argument("--workers", type=at_least(1), default=2, help="rendering processes")
    ap.add_argument("--data", type=Path, default=CACHE.parent / name, help="render cache")
    ap.add_argument("--photos", type=Path, metavar="DIR", help="also measure the photos under DIR")
    ap.add_argument("--no-write", action="store_true", help="print only; leave the manifest")
    ap.add_argument("--json", action="store_true", help="print one JSON object")


def render_for_fit(
    jobs: Sequence[tuple[str, str, int, int, str]], args: argparse.Namespace, report: Any
) -> None:
    """Render what a fitting bench needs (`add_fit_arguments`' --workers), saying how long."""
    t0 = time.perf_counter()
    root = args.data / str(args.size)
    render_missing(
        jobs,
        args.workers,
        lambda n: report.say(f"rendering {n} photos at {args.size} px into {root} ..."),
    )
    report.say(f"photos ready in {time.perf_counter() - t0:.0f} s; reading them ...")


def write_entry(
    manifest: Any, key: str, entry: dict[str, Any], args: argparse.Namespace, report: Any
) -> int:
    """Write a fitted entry into the manifest under `key`, unless --no-write; say which."""
    if args.no_write:
        report.say("manifest not changed (--no-write)")
        return 0
    data = dict(manifest.raw)
    data[key] = entry
    manifest.write(data)
    report.say(f'written to {manifest.path} ("{key}")')
    return 0


def _render_one(job: tuple[str, str, int, int, str]) -> str:
    kind, tradition, seed, size, out = job
    path = Path(out)
    if path.exists():
        return out
    from saree_app import synth

    # getattr: the renderer is optional for everything but this benchmark.
    if kind == "distractor":
        img = getattr(synth, "render_distractor")(seed, size)  # noqa: B009
    elif kind == "garment":
        from saree_app.synth.garments import render_garment

        img = render_garment(seed, size)
    else:
        img = getattr(synth, "render")(tradition, seed, size=size)[0]  # noqa: B009
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.jpg")
    img.convert("RGB").save(tmp, "JPEG", quality=92)
    tmp.replace(path)
    return out


def render_missing(
    jobs: Sequence[tuple[str, str, int, int, str]], workers: int, say: Callable[[int], None]
) -> None:
    """Render the jobs (`_render_one`'s) whose photo is not on disk yet, in `workers`
    processes; `say(n)` first when there are n to render."""
    missing = [j for j in jobs if not Path(j[4]).exists()]
    if not missing:
        return
    say(len(missing))
    # Spawned, not forked: the model's onnxruntime threads already run in this process, and a
    # forked child can inherit one of their locks held (a hang seen in the tests).
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max(1, workers), mp_context=spawn) as pool:
        list(pool.map(_render_one, missing, chunksize=8))


def _jobs(
    known: Sequence[str], withheld: Sequence[str], args: argparse.Namespace
) -> list[tuple[str, str, int, int, str]]:
    root = args.data / str(args.size)
    jobs = []
    for group, traditions, n in (
        ("known", known, args.per_class),
        ("withheld", withheld, args.unknown_per_class),
    ):
        for t in traditions:
            for i in range(n):
                seed = SEED_BASE + i
                jobs.append((group, t, seed, args.size, str(root / t / f"{seed}.jpg")))
    for i in range(args.distractors):
        seed = SEED_BASE + i
        jobs.append(("distractor", "", seed, args.size, str(root / "_distractors" / f"{seed}.jpg")))
    return jobs


@dataclass
class FolderPhoto:
    """One photo of a --non-saree folder as the app saw it."""

    name: str  # path inside the folder
    uncertain: bool  # Prediction.uncertain: what the app shows
    zero_shot_only: bool  # flagged only because the top answer is a tradition never trained on
    top: str  # the fused ranking's top tradition (label)
    top_probability: float
    novelty: float  # > 0 exactly when the model's open-set rule fires
    signals: Any  # OpenSetSignals, to score the photo with a freshly fitted rule too


@dataclass
class FolderResult:
    """Every photo of a --non-saree folder: predictions, and the files that are not photos."""

    folder: Path
    photos: list[FolderPhoto] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    @property
    def flagged(self) -> list[FolderPhoto]:
        return [p for p in self.photos if p.uncertain]

    @property
    def not_flagged(self) -> list[FolderPhoto]:
        return [p for p in self.photos if not p.uncertain]

    @property
    def share(self) -> float:
        return len(self.flagged) / len(self.photos) if self.photos else float("nan")


# Maintained packages that ship sample pictures as data: (distribution, import name, folders
# inside the package). Real photographs and scans of many kinds, none of a saree.
SAMPLE_PACKAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("scikit-image", "skimage", ("data",)),
    ("matplotlib", "matplotlib", ("mpl-data/sample_data",)),
    ("scikit-learn", "sklearn", ("datasets/images",)),
)
PICTURE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp"})
SAMPLES_NOTE = "SOURCES.txt"


class SamplesError(Exception):
    """Why the sample pictures could not be gathered, in one line."""


def _package_dir(module: str) -> Path | None:
    """Where an installed package lies, found without importing it (its own imports may need
    what this environment lacks; only its data files are wanted)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    places = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(places[0]) if places else None


def gather_samples(dest: Path) -> list[Path]:
    """Copy every sample picture of the installed SAMPLE_PACKAGES into dest/<distribution>/,
    and name them with each package's version in dest/SOURCES.txt; returns the copies.
    SamplesError when none of the packages is installed or `dest` holds other files."""
    import importlib.metadata
    import shutil

    if dest.exists() and not dest.is_dir():
        raise SamplesError(f"{dest} is a file, not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / SAMPLES_NOTE).is_file():
        # Never mix the samples with photos already there: the figure would be of both.
        raise SamplesError(f"{dest} already holds other files; give a new or empty folder")
    found: list[tuple[str, str, Path, list[Path]]] = []
    for dist, module, folders in SAMPLE_PACKAGES:
        root = _package_dir(module)
        if root is None:
            continue
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "version unknown"
        pictures = [
            f
            for sub in folders
            if (root / sub).is_dir()
            for f in sorted((root / sub).rglob("*"))
            if f.is_file() and f.suffix.lower() in PICTURE_SUFFIXES
        ]
        found.append((dist, version, root, pictures))
    if not found:
        names = " ".join(d for d, _, _ in SAMPLE_PACKAGES)
        raise SamplesError(
            f"none of {', '.join(d for d, _, _ in SAMPLE_PACKAGES)} is installed: they ship the "
            f"sample pictures (pip install {names})"
        )
    copies: list[Path] = []
    lines = ["Sample pictures shipped as data by these packages (copied by saree bench openset):"]
    for dist, version, root, pictures in found:
        lines.append(f"{dist} {version}: {len(pictures)} pictures from {root}")
        target = dest / dist
        if target.is_dir():
            shutil.rmtree(target)  # a rerun: the package's pictures as installed now
        for f in pictures:
            out = target / f.relative_to(root)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, out)
            copies.append(out)
            lines.append(f"  {out.relative_to(dest).as_posix()}")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / SAMPLES_NOTE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return copies


def folder_files(folder: Path) -> list[Path]:
    """Every file under `folder` (sub-folders too), sorted; hidden names are skipped.

    No filtering by extension: a file the app cannot open is reported, not silently dropped.
    The folder's own SOURCES.txt (where its photos came from, as --non-saree-samples writes
    it) is not a photo and is not listed.
    """
    note = folder / SAMPLES_NOTE
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p != note
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def measure_folder(predictor: Any, folder: Path, batch_size: int = 16) -> FolderResult:
    """Run every photo in `folder` through `predictor` and keep what it says about each."""
    from saree_app.model.predict import PhotoError

    result = FolderResult(folder)
    # The flags alone: the close-ups teaching compares are not read.
    found = predictor.predict_many(folder_files(folder), batch_size=batch_size, cloth_now=False)
    for path, pred in found:
        name = path.relative_to(folder).as_posix()
        if isinstance(pred, PhotoError):
            result.unreadable.append((name, str(pred)))
            continue
        best = pred.fused.ranking[0]
        result.photos.append(
            FolderPhoto(
                name=name,
                uncertain=pred.uncertain,
                zero_shot_only=pred.uncertain and pred.novelty <= 0,
                top=best.label,
                top_probability=float(best.probability),
                novelty=float(pred.novelty),
                signals=pred.open_set,
            )
        )
    return result


def _print_folder(result: FolderResult, fitted: Any) -> None:
    n = len(result.photos)
    print(f"\nphotos that are not sarees ({result.folder}): {n}")
    for name, why in result.unreadable:
        print(f"  not a usable photo, not counted: {name}: {why}")
    if not n:
        return
    k = len(result.flagged)
    zs = sum(p.zero_shot_only for p in result.flagged)
    print(
        f"  flagged uncertain by the app (the model's thresholds, knowledge graph): "
        f"{k}/{n} = {result.share:.1%}"
    )
    if zs:
        # The graph's zero-shot answer makes a photo uncertain whatever the photo shows.
        print(f"    of which {zs} only because the top answer is a tradition never trained on")
    refit = sum(fitted.novelty(p.signals) > 0 for p in result.photos if p.signals is not None)
    print(
        f"  flagged by the rule fitted above (open-set signals only): {refit}/{n} = {refit / n:.1%}"
    )
    if result.not_flagged:
        print(f"  not flagged ({len(result.not_flagged)}): name, top answer, novelty")
        for p in result.not_flagged:
            print(f"    {p.name:<40} {p.top} {p.top_probability:.0%}   {p.novelty:+.2f}")


def _auc_table(rule: Any, known: list[Any], unknown: dict[str, list[Any]]) -> dict[str, float]:
    from saree_app.model.openset import auroc

    k = [rule.novelty(s) for s in known]
    out = {}
    for name, items in unknown.items():
        out[name] = auroc(k, [rule.novelty(s) for s in items])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Calibrate the open-set thresholds of a model, print AUROC, write them to the manifest."""
    ap = argparse.ArgumentParser(prog="saree bench openset", description=__doc__)
    ap.add_argument("--model", type=Path, help="manifest (default: the shipped model)")
    ap.add_argument("--per-class", type=at_least(2), default=24, help="photos per known tradition")
    ap.add_argument(
        "--unknown-per-class", type=at_least(2), default=40, help="per withheld tradition"
    )
    ap.add_argument("--distractors", type=at_least(2), default=120, help="non-saree scenes")
    ap.add_argument("--size", type=at_least(32), default=320, help="rendered photo side (px)")
    ap.add_argument("--false-alarm", type=float, default=0.10, help="share of known flagged")
    ap.add_argument("--workers", type=at_least(1), default=2, help="rendering processes")
    ap.add_argument("--data", type=Path, default=CACHE, help=f"rendered photos cache ({CACHE})")
    ap.add_argument("--no-write", action="store_true", help="print only; leave the manifest")
    ap.add_argument(
        "--non-saree",
        type=Path,
        metavar="DIR",
        help="also measure real photos that are not sarees: share of DIR's photos the app flags",
    )
    ap.add_argument(
        "--non-saree-samples",
        type=Path,
        metavar="DIR",
        help="fill DIR with every sample picture that scikit-image, matplotlib and scikit-learn "
        "ship (those installed), then measure it as --non-saree does",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    return run_reported("openset", argv, args, lambda report: _main(args, report, argv))


def _main(args: argparse.Namespace, report: Report, argv: Sequence[str] | None) -> int:
    if not 0.0 < args.false_alarm < 0.5:
        print("saree bench openset: --false-alarm must be between 0 and 0.5", file=sys.stderr)
        return 2
    if args.non_saree_samples is not None:
        if args.non_saree is not None:
            print(
                "saree bench openset: give --non-saree or --non-saree-samples, not both",
                file=sys.stderr,
            )
            return 2
        try:
            copies = gather_samples(args.non_saree_samples)
        except (SamplesError, OSError) as exc:
            print(f"saree bench openset: --non-saree-samples: {exc}", file=sys.stderr)
            return 2
        print(
            f"sample pictures gathered: {len(copies)} in {args.non_saree_samples} "
            f"(named in {SAMPLES_NOTE})",
            file=sys.stderr,
        )
        args.non_saree = args.non_saree_samples
    if args.non_saree is not None:
        # Checked before minutes of rendering, not after.
        if not args.non_saree.is_dir():
            print(f"saree bench openset: {args.non_saree} is not a folder", file=sys.stderr)
            return 2
        if not folder_files(args.non_saree):
            print(f"saree bench openset: {args.non_saree} holds no files", file=sys.stderr)
            return 2

    from saree_app import synth
    from saree_app.model.manifest import ModelError
    from saree_app.model.openset import SIGNALS, auroc, calibrate, calibrate_combined
    from saree_app.model.predict import Predictor

    rendered = set(getattr(synth, "RENDERED_TRADITIONS", ()))
    if not rendered or not hasattr(synth, "render_distractor"):
        print(
            "saree bench openset: the renderer (saree_app.synth) is not available", file=sys.stderr
        )
        return 2
    try:
        # With the cloth features, as the app reads a photo: the open-set figures do not use
        # them, but the manifest's saree check may (model/saree_check.FORMAT_CLOTH).
        predictor = Predictor(args.model, load_graph=False)
    except ModelError as exc:
        print(f"saree bench openset: cannot use the model: {exc}", file=sys.stderr)
        return 2
    m = predictor.manifest
    known = [t for t in m.labels if t in rendered]
    withheld = [t for t in WITHHELD if t in rendered and t not in m.labels]
    for t in WITHHELD:
        if t in m.labels:
            print(f"note: {t} is one of the model's traditions; not used as an unknown")
    if not known:
        print(
            "saree bench openset: none of the model's traditions can be rendered", file=sys.stderr
        )
        return 2
    print(f"model: {m.name} ({len(m.labels)} traditions); known rendered: {len(known)}")
    print(f"withheld traditions: {', '.join(withheld) or 'none'}; distractors: {args.distractors}")

    jobs = _jobs(known, withheld, args)
    t0 = time.perf_counter()
    render_missing(
        jobs,
        args.workers,
        lambda n: print(f"rendering {n} photos at {args.size} px into {args.data} ...", flush=True),
    )
    print(f"photos ready in {time.perf_counter() - t0:.0f} s; predicting ...", flush=True)

    groups: dict[str, list[Any]] = {"known": [], "withheld": [], "distractor": []}
    files: dict[str, list[tuple[int, Path]]] = {k: [] for k in groups}
    correct = []
    # Photo -> whether the manifest's saree check flags it (model/saree_check.py).
    not_saree: dict[Path, bool] = {}
    paths = [Path(j[4]) for j in jobs]
    by_path = {Path(j[4]): j for j in jobs}
    for path, result in predictor.predict_many(paths, batch_size=16, cloth_now=False):
        if isinstance(result, Exception):
            print(f"error: {result}", file=sys.stderr)
            continue
        group, tradition, seed, _, _ = by_path[path]
        assert result.open_set is not None
        groups[group].append((seed % 2, result.open_set))
        files[group].append((seed % 2, path))
        not_saree[path] = NOT_A_SAREE in result.uncertain_reasons
        if group == "known":
            correct.append((seed % 2, result.visual[0][0] == tradition))

    def half(name: str, h: int) -> list[Any]:
        return [s for parity, s in groups[name] if parity == h]

    known_cal, known_eval = half("known", 0), half("known", 1)
    unk_cal = {"withheld": half("withheld", 0), "non-saree": half("distractor", 0)}
    unk_eval = {"withheld": half("withheld", 1), "non-saree": half("distractor", 1)}
    unk_cal["all unknown"] = unk_cal["withheld"] + unk_cal["non-saree"]
    unk_eval["all unknown"] = unk_eval["withheld"] + unk_eval["non-saree"]

    # Two candidate rules, both fitted on the calibration half only: "any" over the subset of
    # signals that separates best, and the combined (logistic) rule over all signals. The one
    # that separates better there is kept; the figures below are on the evaluation half.
    best: tuple[float, Any] | None = None
    for r in range(1, len(SIGNALS) + 1):
        for subset in itertools.combinations(SIGNALS, r):
            try:
                candidate = calibrate(known_cal, args.false_alarm, subset)
            except ValueError:
                continue
            score = _auc_table(candidate, known_cal, {"u": unk_cal["all unknown"]})["u"]
            if best is None or score > best[0]:
                best = (score, candidate)
    assert best is not None
    rules = {"any": best[1]}
    cal_scores = {"any": best[0]}
    try:
        combined = calibrate_combined(known_cal, unk_cal["all unknown"], args.false_alarm)
    except ValueError as exc:
        print(f"note: combined rule not fitted ({exc})")
    else:
        rules["combined"] = combined
        cal_scores["combined"] = _auc_table(combined, known_cal, {"u": unk_cal["all unknown"]})["u"]
    chosen = max(cal_scores, key=lambda k: cal_scores[k])
    rule = rules[chosen]

    acc = np.mean([ok for parity, ok in correct if parity == 1]) if correct else float("nan")
    print(f"\nknown traditions, visual top-1 on the evaluation half: {acc:.1%}")
    print(
        f"rule kept: {chosen} (calibration-half AUROC: "
        + ", ".join(f"{k} {v:.3f}" for k, v in cal_scores.items())
        + ")"
    )
    print(f"signals: {', '.join(rule.signals)}")
    for name in rule.signals:
        weight = f"   weight {rule.weights[name]:+.2f}" if rule.weights else ""
        print(f"  {name:<22} alone uncertain below {rule.thresholds[name]:.3f}{weight}")
    tables = {k: _auc_table(r, known_eval, unk_eval) for k, r in rules.items()}
    table = tables[chosen]
    n_eval = {k: len(v) for k, v in unk_eval.items()}
    print(f"\nAUROC on the evaluation half ({len(known_eval)} known photos):")
    for name, value in table.items():
        others = ", ".join(f"{k} {t[name]:.3f}" for k, t in tables.items() if k != chosen)
        print(
            f"  known vs {name:<12} ({n_eval[name]:>3}): {value:.3f}"
            + (f"   (other rule: {others})" if others else "")
        )
    print("  single signals, known vs all unknown:")
    k_all = unk_eval["all unknown"]
    single = {}
    for name in SIGNALS:
        ks = [s.value(name) for s in known_eval]
        us = [s.value(name) for s in k_all]
        if all(v is not None for v in ks + us):
            single[name] = auroc([-v for v in ks], [-v for v in us])
            print(f"    {name:<22} {single[name]:.3f}")
    fpr = float(np.mean([rule.novelty(s) > 0 for s in known_eval]))
    tpr = {
        k: float(np.mean([rule.novelty(s) > 0 for s in v])) if v else float("nan")
        for k, v in unk_eval.items()
    }
    print(
        f"\nflagged uncertain: known {fpr:.1%} (target {args.false_alarm:.0%}), "
        + ", ".join(f"{k} {v:.1%}" for k, v in tpr.items())
    )
    # The rule above is fitted afresh; the app flags with the one in the manifest until it
    # is written, so both are shown on the same photos.
    now = predictor.open_set_rule
    shares = {"known": known_eval, **unk_eval}
    print(
        "flagged by the model's thresholds now: "
        + ", ".join(
            f"{k} {np.mean([now.novelty(s) > 0 for s in v]):.1%}" for k, v in shares.items() if v
        )
    )
    with_cloth = _cloth_check(files, now, groups, m.raw.get("training_look"), not_saree)
    if with_cloth:
        print(
            "flagged by the app (those thresholds, the photo does not look like cloth, looks "
            "unlike the training photos, or may not be a saree): "
            + ", ".join(f"{k} {v['flagged']:.1%}" for k, v in with_cloth.items())
        )
        print(
            "  may not be a saree alone (the manifest's saree check): "
            + ", ".join(f"{k} {v['not_a_saree']:.1%}" for k, v in with_cloth.items())
        )
        print(
            "  not looking like cloth alone: "
            + ", ".join(f"{k} {v['not_cloth']:.1%}" for k, v in with_cloth.items())
        )
        print(
            "  unlike the training photos alone: "
            + ", ".join(f"{k} {v['unlike_training']:.1%}" for k, v in with_cloth.items())
        )
        report.figures["flagged_by_app"] = with_cloth
    if args.non_saree is not None:
        # The app's own path: the knowledge graph loaded, as `saree classify` runs it.
        app = Predictor(args.model)
        if app.graph_message:
            print(f"note: {app.graph_message}")
        measured = measure_folder(app, args.non_saree)
        _print_folder(measured, rule)
        report.figures["non_saree_folder"] = {
            "folder": str(args.non_saree),
            "photos": len(measured.photos),
            "flagged": round(measured.share, 4) if measured.photos else None,
            "not_flagged": [p.name for p in measured.not_flagged],
            "unreadable": [name for name, _ in measured.unreadable],
        }

    report.figures.update(
        auroc={k: round(v, 4) for k, v in table.items()},
        auroc_single_signals={k: round(v, 4) for k, v in single.items()},
        flagged={"known": round(fpr, 4), **{k: round(v, 4) for k, v in tpr.items()}},
        known_top1=round(float(acc), 4),
        rule=chosen,
    )
    if args.no_write:
        print("\nmanifest not changed (--no-write)")
        return 0
    entry = {
        **rule.to_dict(),
        "false_alarm_target": args.false_alarm,
        "evaluation": {
            "auroc": {k: round(v, 4) for k, v in table.items()},
            "auroc_single_signals": {k: round(v, 4) for k, v in single.items()},
            "flagged": {"known": round(fpr, 4), **{k: round(v, 4) for k, v in tpr.items()}},
            "known_top1": round(float(acc), 4),
            "known_traditions": known,
            "withheld_traditions": withheld,
            "photos": {
                "known": len(groups["known"]),
                "withheld": len(groups["withheld"]),
                "non-saree": len(groups["distractor"]),
            },
            "size": args.size,
            "split": "even seeds calibrate, odd seeds evaluate",
            "command": "saree bench openset " + " ".join(argv or []),
        },
    }
    m.write(m.with_open_set(entry))
    print(f'\nthresholds written to {m.path} ("open_set")')
    return 0
