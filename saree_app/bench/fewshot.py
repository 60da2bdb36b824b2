"""Few-shot: 5 confirmed photos per tradition the model never saw; accuracy on the rest."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.bench import Report, at_least, run_reported
from saree_app.collection.fewshot import FewShot, feature

WITHHELD = ("Gadwal", "Ilkal", "KotaDoria", "Sambalpuri")
# Rendering seeds far from the training set's, so no test photo is a training photo.
SEED_BASE = 7_000_000

PART_SETS: dict[str, tuple[str, ...]] = {
    "whole": ("whole",),
    "border": ("border",),
    "pallu": ("pallu",),
    "whole+border+pallu": ("whole", "border", "pallu"),
    "all four": ("whole", "body", "border", "pallu"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Render, embed, then score prototypes from `--shots` examples over `--splits` splits."""
    ap = argparse.ArgumentParser(prog="saree bench fewshot")
    ap.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    ap.add_argument("--traditions", default=",".join(WITHHELD))
    ap.add_argument("--shots", type=at_least(1), default=5)
    ap.add_argument(
        "--per-class", type=at_least(2), default=25, help="photos rendered per tradition"
    )
    ap.add_argument("--size", type=at_least(32), default=320, help="render size")
    ap.add_argument("--splits", type=at_least(1), default=10, help="random choices of the shots")
    ap.add_argument(
        "--known", type=at_least(1), default=4, help="known traditions in the harm check"
    )
    ap.add_argument(
        "--known-photos", type=at_least(1), default=10, help="photos per known tradition"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    return run_reported("fewshot", argv, args, lambda report: _main(args, report, argv))


def _main(args: argparse.Namespace, report: Report, argv: Sequence[str] | None) -> int:
    from saree_app.model.predict import Predictor
    from saree_app.synth import render

    traditions = [t.strip() for t in args.traditions.split(",") if t.strip()]
    predictor = Predictor(args.model)
    known = {t.rsplit("#", 1)[-1] for t in predictor.manifest.labels}
    seen = [t for t in traditions if t in known]
    print(f"model: {predictor.manifest.name} ({predictor.manifest.path})")
    if seen:
        print(f"WARNING: the model was trained on {', '.join(seen)}: not a withheld test")
    t0 = time.perf_counter()
    preds: dict[str, list[Any]] = {t: [] for t in traditions}
    for t in traditions:
        for i in range(args.per_class):
            img = render(t, SEED_BASE + 1000 * traditions.index(t) + i, size=args.size)[0]
            preds[t].append(predictor.predict(img, name=f"{t}-{i}"))
    print(
        f"{args.per_class} renders per tradition x {len(traditions)} embedded in "
        f"{time.perf_counter() - t0:.0f} s; {args.shots} shots each, the rest tested, "
        f"{args.splits} random splits"
    )
    rng = np.random.default_rng(0)
    splits = [{t: rng.permutation(args.per_class) for t in traditions} for _ in range(args.splits)]
    print(f"{len(traditions)}-way nearest-prototype accuracy (chance {1 / len(traditions):.2f}):")
    for name, parts in PART_SETS.items():
        accs = []
        for split in splits:
            feats = {
                t: [feature(p.embedding, p.part_embeddings, parts) for p in preds[t]]
                for t in traditions
            }
            shots = {t: [feats[t][i] for i in split[t][: args.shots]] for t in traditions}
            fs = FewShot(shots, parts=parts)
            right = total = 0
            for t in traditions:
                for i in split[t][args.shots :]:
                    right += fs.nearest_of(feats[t][i]) == t
                    total += 1
            accs.append(right / total)
        sd = statistics.pstdev(accs) if len(accs) > 1 else 0.0
        print(f"  {name:<20} {statistics.mean(accs):.3f} +- {sd:.3f}")
        report.figures.setdefault("nearest_prototype", {})[name] = {
            "mean": round(statistics.mean(accs), 4),
            "sd": round(sd, 4),
        }
    if predictor.graph is None:
        print("no knowledge graph: fusion comparison skipped")
        return 0
    _through_fusion(args, predictor, traditions, preds, splits[0])
    return 0


def _through_fusion(
    args: argparse.Namespace,
    predictor: Any,
    traditions: list[str],
    preds: dict[str, list[Any]],
    split: dict[str, np.ndarray],
) -> None:
    """Fused top-1 over every tradition, for the taught ones and for known ones (harm check),
    with the fusion's few-shot weight and reference at their defaults and on a small grid."""
    import dataclasses

    from saree_app.knowledge.fusion import DEFAULT_WEIGHTS
    from saree_app.synth import render

    parts = ("whole", "border", "pallu")
    shots = {
        t: [
            feature(preds[t][i].embedding, preds[t][i].part_embeddings, parts)
            for i in split[t][: args.shots]
        ]
        for t in traditions
    }
    fs = FewShot(shots, parts=parts)
    labels = [t.rsplit("#", 1)[-1] for t in predictor.manifest.labels]
    known = [t for t in labels if t not in traditions][: args.known]
    known_preds = {
        t: [
            predictor.predict(render(t, SEED_BASE + 500_000 + 1000 * k + i, size=args.size)[0])
            for i in range(args.known_photos)
        ]
        for k, t in enumerate(known)
    }
    taught = [(t, preds[t][i]) for t in traditions for i in split[t][args.shots :]]
    half = args.known_photos // 2
    # Known photos: the first half are the curator's examples in scenario B, the rest tested.
    others = [(t, p) for t, ps in known_preds.items() for p in ps[half:]]
    both = dict(shots)
    both.update(
        {
            t: [feature(p.embedding, p.part_embeddings, parts) for p in ps[:half]]
            for t, ps in known_preds.items()
        }
    )
    scenarios = {
        "A: only the new traditions taught": fs,
        f"B: also {half} confirmed photos of each known one": FewShot(both, parts=parts),
    }
    base = predictor.weights or DEFAULT_WEIGHTS

    def top1(cases: list[tuple[str, Any]], weights: Any, teach: FewShot) -> float:
        right = 0
        for t, p in cases:
            if weights is None:
                right += p.fused.ranking[0].tradition == t
                continue
            scores = teach.scores(p.embedding, p.part_embeddings)
            fused = p.refuse(predictor.graph, fewshot=scores, weights=weights)
            right += fused.fused.ranking[0].tradition == t
        return right / max(len(cases), 1)

    print(
        f"fused top-1 over all traditions; taught: {len(taught)} photos of "
        f"{len(traditions)} new traditions, known: {len(others)} photos of {len(known)} "
        "traditions the model knows (must not get worse)"
    )
    before = (top1(taught, None, fs), top1(others, None, fs))
    print(f"  without few-shot             new {before[0]:.3f}  known {before[1]:.3f}")
    grid = [(base.fewshot, base.fewshot_ref), (8.0, 0.3), (16.0, 0.3), (16.0, 0.5), (32.0, 0.3)]
    for name, teach in scenarios.items():
        print(f"  {name}")
        for wf, ref in grid:
            w = dataclasses.replace(base, fewshot=wf, fewshot_ref=ref)
            tag = " (current)" if (wf, ref) == (base.fewshot, base.fewshot_ref) else ""
            print(
                f"    w_f {wf:4.1f} s_ref {ref:.1f}{tag:<10} new {top1(taught, w, teach):.3f}  "
                f"known {top1(others, w, teach):.3f}"
            )
