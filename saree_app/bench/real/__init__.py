"""Real photographs: how the app does on a folder of real photos per tradition.

`saree bench real --photos DIR [--parts FILE] [--views FILE] [--shots 1,3,5] [--draws N]
[--seed S] [--out DIR] [--json]`. See `saree bench real --help` for what it reports and the JSON
keys. The photos go through the model once, by the app's own importer, into a catalogue kept in
--out (so a second run reads the answers from it); teaching draws confirm photos through the
app's own few-shot step (teach.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.bench import at_least
from saree_app.bench.real import report as report_mod
from saree_app.bench.real import scoring, teach
from saree_app.bench.real.inputs import (
    BenchInputError,
    Inputs,
    read_folders,
    read_parts,
    read_views,
)
from saree_app.bench.real.similar import figures as similar_figures

# Longer side of the maps reduced to the 12 x 12 grid: enough pixels per cell for a majority.
MAP_SIDE = 384

JSON_KEYS = """\
JSON keys (report.json; with --json, stdout prints one object whose "figures" are these,
beside "bench", "argv", "machine" (CPUs, load average), "settings" and "peer"):
  model                {name, sha256, path}
  photos_dir, photos, scored       the folder; photos found; photos the model read
  traditions           [{folder, tradition (null: never heard of), known_to_model, photos}]
  skipped              [[photo, why]] photos that could not be read
  warnings             [text] folders left out, label rows that name no photo, ...
  untaught.overall     fused_top1, fused_top5, visual_top1, visual_top5 (each also
                       *_balanced: the mean over traditions), flagged, flagged_known_to_model,
                       flagged_not_in_model, flagged_unknown_to_app, unflagged,
                       unflagged_right, auroc_confidence, risk_coverage_area, per_tradition,
                       set_coverage, set_size, set_level, set_unclaimed,
                       set_coverage_claimed: how often the answer set the app states
                       ("could be: ...", by the model's own calibration) holds the right
                       tradition, its mean size, the level it is stated at, the share named
                       without a level (the photo looks unlike the model's training photos),
                       the coverage of the sets that claim it
  untaught.flag_sources  unlike_training: share flagged because the photo looks unlike the
                       model's training photos; other_reasons: share flagged for any other
  untaught.by_view     the same per view (with --views or part labels)
  untaught.risk_coverage   [[coverage, error rate]] most confident answers first
  untaught.confusion   {rows, columns, counts}: folder tradition x fused answer
  taught.<k>           {draws, traditions, left_out, tested_photos, app, reference.<features>,
                       flagged, unflagged_right, set_coverage, set_size, set_calibrated};
                       app and each reference: {per_draw, mean, sd, min, max} of the
                       balanced top-1 on the photos not taught; set_*: the stored answer
                       sets (share holding the right tradition, mean size, share calibrated
                       on the confirmed photos rather than by the model's own calibration)
  taught.<k>.lead_*    every draw's answers ranked by how far their first tradition leads
                       the second: lead_right_at {"0.25", "0.40", "0.50", "0.60"}: share right
                       among that first share; lead_auroc; lead_risk [[coverage, error rate]]
                       (every 2% of the answers) and lead_risk_area
  taught.<k>.by_source   with a source_repo (or source) column in --views: {app, reference:
                       cloth close-ups}, each {seen, unseen}: {answers, right, balanced}, the
                       photos from a source one of whose photos of their tradition was
                       taught, and the others (null without sources)
  parts.overall, parts.by_view     photos, cells, iou_background, iou_body, iou_border,
                       iou_pallu, miou, iou_saree, background_as_saree, heat_on_saree
  similar.<way>        per way the app compares (cloth, whole, body, border, pallu): photos,
                       nearest, five_nearest, other_sources_five, within_source_nearest,
                       within_source_chance, within_source_photos, within_sources: how often
                       the nearest photos are of the query's tradition (balanced), in the
                       whole collection, from other sources, and among the query's own
                       source's photos where it shows two traditions or more (null without
                       sources)
  per_photo            [{photo, tradition, view, fused (top 5), visual (top 5), confidence,
                       uncertain}]
  seconds              {import, taught, total}
"""


def _shots(text: str) -> list[int]:
    try:
        values = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole numbers, e.g. 1,3,5") from exc
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("each number of shots must be at least 1")
    return values


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="saree bench real",
        description=(
            "Measure the app on real photographs: one folder per tradition under --photos "
            "(the model's or the knowledge graph's ids or names; a folder the app does not "
            "know counts as a tradition it has never heard of). Reports untaught accuracy and "
            "uncertainty, accuracy after teaching k confirmed photos per tradition through "
            "the app's own teaching step, and the part map against 12 x 12 part labels."
        ),
        epilog=JSON_KEYS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--photos", type=Path, required=True, metavar="DIR")
    ap.add_argument("--parts", type=Path, metavar="FILE", help="12 x 12 part labels (JSON)")
    ap.add_argument(
        "--views",
        type=Path,
        metavar="FILE",
        help="CSV with columns file,view (and optionally source_repo or source)",
    )
    ap.add_argument(
        "--shots",
        type=_shots,
        default=[1, 3, 5],
        metavar="K,...",
        help="confirmed photos per tradition to teach (default 1,3,5)",
    )
    ap.add_argument(
        "--draws",
        type=int,
        default=5,
        metavar="N",
        help="random draws of the confirmed photos per k (default 5)",
    )
    ap.add_argument("--seed", type=at_least(0), default=0, metavar="S", help="seed of the draws")
    ap.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where report.md, report.json, the plots and the cache go "
        "(default: a temporary folder, removed afterwards)",
    )
    ap.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    ap.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 done, 2 when an input cannot be used at all."""
    args = _parser().parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    if args.draws < 1:
        print("saree bench real: --draws must be at least 1", file=sys.stderr)
        return 2
    if args.out is not None:
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(
                f"saree bench real: {args.out}: cannot be made ({exc.strerror or exc})",
                file=sys.stderr,
            )
            return 2
        return _run(args, args.out)
    with tempfile.TemporaryDirectory(prefix="saree-bench-real-") as tmp:
        return _run(args, Path(tmp))


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def _run(args: argparse.Namespace, out: Path) -> int:
    from saree_app.model.manifest import ModelError
    from saree_app.model.predict import Predictor

    started = time.perf_counter()
    try:
        predictor = Predictor(args.model)
    except ModelError as exc:
        print(f"saree bench real: cannot use the model: {exc}", file=sys.stderr)
        return 2
    try:
        inputs = read_folders(args.photos, predictor.manifest.labels, predictor.graph)
        if args.views is not None:
            read_views(args.views, inputs)
        if args.parts is not None:
            read_parts(args.parts, inputs)
    except BenchInputError as exc:
        print(f"saree bench real: {exc}", file=sys.stderr)
        return 2
    for w in inputs.warnings:
        _say(args, f"note: {w}")
    result = measure(args, inputs, predictor, out, started)
    answers = result.pop("_answers")
    try:
        (out / "report.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
        (out / "report.md").write_text(report_mod.markdown(result), encoding="utf-8")
        rows, cols, counts = scoring.confusion(answers)
        report_mod.confusion_png(out / "confusion.png", rows, cols, counts)
        curves = {"untaught": result["untaught"]["risk_coverage"]}
        for k, t in (result.get("taught") or {}).items():
            if t.get("lead_risk"):
                curves[f"taught {k} a tradition (by lead)"] = t["lead_risk"]
        report_mod.risk_png(out / "risk-coverage.png", curves)
    except OSError as exc:
        print(
            f"saree bench real: {out}: cannot write the report ({exc.strerror or exc})",
            file=sys.stderr,
        )
        return 2
    if args.json:
        from saree_app.bench import Report

        report = Report("real", args.argv, True)
        report.settings.update(
            {
                k: (str(v) if isinstance(v, Path) else v)
                for k, v in vars(args).items()
                if k != "argv"
            }
        )
        report.figures.update(result)
        print(json.dumps(report.as_dict(), indent=1))
    else:
        print(report_mod.markdown(result))
        if args.out is not None:
            print(f"written: {out / 'report.md'}, report.json, confusion.png, risk-coverage.png")
    return 0


def _cache_name(sha: str) -> str:
    return f"catalog-{sha[:16]}.sqlite"


def _cache_key(predictor: Any) -> str:
    """What the cached answers and maps depend on: the model, what its manifest adds after
    training (the open-set rule, the training look, the saree check: they decide the flags),
    and the extra models beside it (cloth features, person models), so a run with other ones
    never reads stale answers."""
    from saree_app.model.manifest import sha256_of

    raw = predictor.manifest.raw
    added = json.dumps(
        {k: raw.get(k) for k in ("open_set", "training_look", "saree_check", "fusion")},
        sort_keys=True,
    )
    parts = [str(predictor.manifest.sha256), hashlib.sha256(added.encode()).hexdigest()]
    for name in ("cloth", "person"):
        model = getattr(predictor, name, None)
        parts.append(f"{name}:{sha256_of(model.path) if model is not None else 'none'}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def measure(
    args: argparse.Namespace, inputs: Inputs, predictor: Any, out: Path, started: float
) -> dict[str, Any]:
    """Everything the report holds (JSON-able, plus the answers under "_answers")."""
    cache = out / "cache"
    cache.mkdir(exist_ok=True)
    sha = str(predictor.manifest.sha256)
    key = _cache_key(predictor)
    # The part maps are the photo view's (`predict`, the part map at every zoom the manifest
    # names): what a curator looks at. The import reads each photo once, the bulk path.
    maps_file = cache / f"maps-view-{key[:16]}.json"
    maps: dict[str, Any] = _read_json(maps_file)

    total = sum(len(f.photos) for f in inputs.folders)
    shown = [0.0]

    def progress(done: int, n: int) -> None:
        now = time.perf_counter()
        if now - shown[0] > 5 or done == n:
            shown[0] = now
            _say(args, f"photos: {done}/{n}")

    t0 = time.perf_counter()
    imported = teach.import_photos(inputs, cache / _cache_name(key), predictor, progress=progress)
    # The labelled photos' part maps, as the photo view draws them (kept for later runs).
    for key in sorted(set(inputs.parts) & set(imported.photo_id) - set(maps)):
        maps[key] = _maps_of(predictor.predict(inputs.root / key))
    maps_file.write_text(json.dumps(maps), encoding="utf-8")
    seconds_import = time.perf_counter() - t0

    answers = _answers(inputs, imported)
    untaught = _untaught(answers)
    t1 = time.perf_counter()
    taught = _taught(args, inputs, imported, predictor.graph, cache)
    seconds_taught = time.perf_counter() - t1
    parts = _parts(inputs, maps, imported) if inputs.parts else None
    truth = {k: f.taught_as for f in inputs.folders for k in teach.present_keys(f, imported)}
    similar = similar_figures(
        imported.catalog_path, imported.model_sha256, imported.photo_id, truth, inputs.sources
    )
    result: dict[str, Any] = {
        "model": {
            "name": predictor.manifest.name,
            "sha256": sha,
            "path": str(predictor.manifest.path),
        },
        "photos_dir": str(inputs.root),
        "photos": total,
        "scored": len(imported.photo_id),
        "traditions": [
            {
                "folder": f.name,
                "tradition": f.tradition,
                "known_to_model": f.known_to_model,
                "photos": len(f.photos),
            }
            for f in inputs.folders
        ],
        "skipped": [list(s) for s in imported.skipped] + [list(s) for s in inputs.not_photos],
        "warnings": inputs.warnings,
        "untaught": untaught,
        "taught": taught,
        "parts": parts,
        "similar": similar,
        "per_photo": [
            {
                "photo": a.key,
                "tradition": a.truth,
                "view": a.view,
                "fused": list(a.fused[:5]),
                "visual": list(a.visual[:5]),
                "confidence": round(a.confidence, 4),
                "uncertain": a.uncertain,
            }
            for a in answers
        ],
        "seconds": {
            "import": seconds_import,
            "taught": seconds_taught,
            "total": time.perf_counter() - started,
        },
        "_answers": answers,
    }
    return result


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _maps_of(prediction: Any) -> dict[str, Any]:
    """The part map and the top tradition's heatmap reduced to the grid (what --parts scores)."""
    w, h = prediction.photo_size
    s = MAP_SIDE / max(w, h)
    size = (max(12, round(w * s)), max(12, round(h * s)))
    grid = scoring.mask_to_grid(prediction.part_mask_at(size))
    # The heatmap the photo page opens with: the best-ranked tradition the model has a map for.
    shown = next(
        (r.tradition for r in prediction.fused.ranking if prediction.has_heatmap(r.tradition)), None
    )
    heat = (
        scoring.heat_to_grid(prediction.heatmap(shown, size=size))
        if shown is not None
        else np.zeros((12, 12))
    )
    return {"grid": grid.tolist(), "heat": np.round(heat, 4).tolist(), "heat_tradition": shown}


def _view(inputs: Inputs, key: str) -> str | None:
    return inputs.views.get(key) or (inputs.parts[key].view if key in inputs.parts else None)


def _answers(inputs: Inputs, imported: teach.Imported) -> list[scoring.Answer]:
    from saree_app.collection.catalog import Catalog

    folder_of = {inputs.key(p): f for f in inputs.folders for p in f.photos}
    out = []
    with Catalog(imported.catalog_path) as cat:
        stored = cat.predictions(imported.model_sha256)
        for key, pid in sorted(imported.photo_id.items()):
            s = stored[pid].result
            folder = folder_of[key]
            out.append(
                scoring.Answer(
                    key=key,
                    truth=folder.tradition,
                    known_to_model=folder.known_to_model,
                    view=_view(inputs, key),
                    fused=tuple(str(r["tradition"]) for r in s.get("ranking", [])),
                    visual=tuple(str(t) for t, _ in s.get("visual", [])),
                    confidence=float(s.get("probability", 0.0)),
                    uncertain=bool(stored[pid].uncertain),
                    reasons=tuple(str(r) for r in s.get("uncertain_reasons") or ()),
                    **_stated_set(s.get("answer_set")),
                )
            )
    return out


def _stated_set(stored: Any) -> dict[str, Any]:
    """The answer set an import stored, as scoring.Answer takes it (nothing without one)."""
    if not isinstance(stored, dict):
        return {}
    level = stored.get("level")
    return {
        "answer_set": tuple(str(t) for t in stored.get("traditions", [])),
        "set_level": float(level) if isinstance(level, (int, float)) else None,
        "set_unclaimed": bool(stored.get("unlike_training")),
    }


def _untaught(answers: list[scoring.Answer]) -> dict[str, Any]:
    views = sorted({a.view for a in answers if a.view})
    scored = [a for a in answers if a.truth is not None]
    rows, cols, counts = scoring.confusion(answers)
    from saree_app.model.familiar import UNLIKE_TRAINING

    return {
        "overall": scoring.accuracy(answers),
        "flag_sources": scoring.flag_sources(answers, UNLIKE_TRAINING),
        "by_view": {v: scoring.accuracy([a for a in answers if a.view == v]) for v in views},
        "risk_coverage": [
            [round(c, 4), round(r, 4)]
            for c, r in scoring.risk_coverage(
                [a.confidence for a in scored], [a.fused[:1] == (a.truth,) for a in scored]
            )
        ],
        "confusion": {"rows": rows, "columns": cols, "counts": counts.tolist()},
    }


def _taught(
    args: argparse.Namespace, inputs: Inputs, imported: teach.Imported, graph: Any, work: Path
) -> dict[str, Any]:
    present = {f.name: teach.present_keys(f, imported) for f in inputs.folders}
    truth = {k: f.taught_as for f in inputs.folders for k in present[f.name]}
    from saree_app.collection.catalog import Catalog

    with Catalog(imported.catalog_path) as cat:
        stored = cat.predictions(imported.model_sha256)
    before = {
        key: stored[pid].top_tradition for key, pid in imported.photo_id.items() if pid in stored
    }
    flagged_before = {
        key: bool(stored[pid].uncertain) for key, pid in imported.photo_id.items() if pid in stored
    }
    out: dict[str, Any] = {}
    for k in args.shots:
        results = []
        for n in range(args.draws):
            chosen = teach.draw(inputs.folders, present, k, args.seed, n)
            if len(chosen) < 2:
                break  # teaching one tradition alone says nothing about telling them apart
            results.append(teach.run_draw(imported, inputs.folders, chosen, graph, work))
            _say(args, f"taught k={k}: draw {n + 1}/{args.draws}")
        left_out = [f.name for f in inputs.folders if len(present[f.name]) < k + 1]
        figures = teach.taught_figures(results, truth, inputs.sources)
        # Is a tradition nobody taught made worse by teaching the others? Each draw again,
        # teaching only every other tradition of it (alternating which half), and the other
        # half's photos read back.
        halves = []
        for n, r in enumerate(results):
            names = sorted(r.taught)
            half = {t: r.taught[t] for i, t in enumerate(names) if i % 2 == n % 2}
            rest = [t for t in names if t not in half]
            if len(half) >= 2 and rest:
                halves.append(
                    teach.run_draw(imported, inputs.folders, half, graph, work, watch=rest)
                )
        out[str(k)] = {
            "draws": len(results),
            "traditions": len(inputs.folders) - len(left_out),
            "left_out": left_out,
            **figures,
            "untaught_traditions": teach.untaught_figures(halves, truth, before, flagged_before),
        }
    return out


def _parts(inputs: Inputs, maps: dict[str, Any], imported: teach.Imported) -> dict[str, Any]:
    overall = scoring.PartTally.empty()
    by_view: dict[str, scoring.PartTally] = {}
    for key, label in sorted(inputs.parts.items()):
        if key not in imported.photo_id or key not in maps:
            continue  # could not be read: named under "skipped"
        labels = np.array(label.codes(), dtype=np.int64)
        predicted = np.array(maps[key]["grid"], dtype=np.int64)
        heat = np.array(maps[key]["heat"], dtype=np.float64)
        overall.add(labels, predicted, heat)
        view = label.view or inputs.views.get(key) or "unknown view"
        by_view.setdefault(view, scoring.PartTally.empty()).add(labels, predicted, heat)
    return {
        "overall": overall.figures(),
        "by_view": {v: t.figures() for v, t in sorted(by_view.items())},
    }
