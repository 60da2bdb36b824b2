"""Fusion: weights fitted on rendered validation photos; fused vs visual-only, and zero-shot.

Renders photos of every rendered tradition with seeds that the data-set writer puts in its
"val" and "test" splits (so none was a training photo), runs the model on them, fits the fusion
weights on the validation photos and reports on the test photos:

- traditions the model knows: top-1 / top-3 of the visual ranking and of the fused ranking
  (default weights; weights fitted with the balanced objective, which is what
  `--write-manifest` stores; weights fitted for plain likelihood);
- traditions withheld from the model: fused top-1 / top-3 (A) among all traditions of the graph
  and (B) among the traditions the model does not know; the visual ranking cannot name them.
  To keep these figures honest each withheld tradition is scored with weights fitted without
  its own validation photos.

    saree bench fusion [--model M.json] [--val 40] [--test 30] [--cache preds.json]
                       [--weights-out w.json] [--write-manifest]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saree_app.bench import Report, at_least, run_reported

if TYPE_CHECKING:
    from saree_app.knowledge.fusion import FusionSample, FusionWeights
    from saree_app.knowledge.graph import TextileGraph


@dataclass(frozen=True)
class Photo:
    """One rendered photo's model outputs."""

    tradition: str
    seed: int
    split: str  # val | test
    visual: dict[str, float]
    attributes: dict[str, float]
    novelty: float | None = None  # the model's open-set novelty (> 0: flagged as unfamiliar)
    signals: dict[str, float | None] | None = None


def pick_seeds(tradition: str, split: str, count: int, start: int = 0) -> list[int]:
    """The first `count` render seeds >= start that the data-set writer assigns to `split`."""
    from saree_app.synth.dataset import split_of

    seeds: list[int] = []
    seed = start
    while len(seeds) < count:
        if split_of(tradition, seed, {}, None) == split:
            seeds.append(seed)
        seed += 1
    return seeds


def collect(
    model: Path | None,
    traditions: Sequence[str],
    per_split: dict[str, int],
    size: int,
    *,
    cache: Path | None = None,
    log: Any = print,
) -> tuple[list[Photo], list[str], list[str]]:
    """Render and predict; returns (photos, model labels, model attribute ids)."""
    from saree_app.model.predict import Predictor
    from saree_app.synth import render

    predictor = Predictor(model, load_graph=False)
    labels = list(predictor.manifest.labels)
    attrs = list(predictor.manifest.attributes)
    key = {
        "sha256": predictor.manifest.sha256,
        "size": size,
        "per_split": per_split,
        "traditions": list(traditions),
    }
    if cache is not None and cache.exists():
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if data.get("key") == key:
            log(f"predictions from {cache}")
            return [Photo(**p) for p in data["photos"]], labels, attrs
    photos: list[Photo] = []
    t0 = time.perf_counter()
    for i, t in enumerate(traditions):
        for split, n in per_split.items():
            for seed in pick_seeds(t, split, n):
                img = render(t, seed, size=size)[0]
                pred = predictor.predict(img, name=f"{t}-{seed}")
                sig = getattr(pred, "open_set", None)
                photos.append(
                    Photo(
                        t,
                        seed,
                        split,
                        dict(pred.visual_probs),
                        dict(pred.attribute_probs),
                        novelty=getattr(pred, "novelty", None),
                        signals={
                            k: v
                            for k, v in dataclasses.asdict(sig).items()
                            if isinstance(v, float | int) or v is None
                        }
                        if sig is not None
                        else None,
                    )
                )
        log(f"  {i + 1}/{len(traditions)} {t}: {time.perf_counter() - t0:.0f} s")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        payload = {"key": key, "photos": [p.__dict__ for p in photos]}
        cache.write_text(json.dumps(payload), encoding="utf-8")
    return photos, labels, attrs


def _samples(photos: Sequence[Photo], split: str) -> list[FusionSample]:
    from saree_app.knowledge.fusion import FusionSample

    return [FusionSample(p.tradition, p.visual, p.attributes) for p in photos if p.split == split]


def topk(
    graph: TextileGraph,
    samples: Sequence[FusionSample],
    weights: FusionWeights | None,
    among: set[str] | None = None,
) -> tuple[float, float]:
    """(top-1, top-3) of the fused ranking, or of the visual ranking when weights is None;
    with `among`, of the ranking restricted to those traditions."""
    from saree_app.knowledge.fusion import fuse

    if not samples:
        return float("nan"), float("nan")
    hits1 = hits3 = 0
    for s in samples:
        if weights is None:
            order = [t for t, _ in sorted(s.visual.items(), key=lambda kv: -kv[1])]
        else:
            res = fuse(graph, s.visual, s.attributes, weights=weights)
            order = [r.tradition for r in res.ranking]
        if among is not None:
            order = [t for t in order if t in among]
        rank = order.index(s.tradition) if s.tradition in order else len(order)
        hits1 += rank < 1
        hits3 += rank < 3
    return hits1 / len(samples), hits3 / len(samples)


def region_top1(
    graph: TextileGraph, samples: Sequence[FusionSample], weights: FusionWeights
) -> tuple[float, float]:
    """(state top-1, cultural-region top-1) of the fused roll-ups."""
    from saree_app.knowledge.fusion import fuse

    if not samples:
        return float("nan"), float("nan")
    state = region = 0
    for s in samples:
        res = fuse(graph, s.visual, s.attributes, weights=weights)
        state += res.states[0].region == graph.state_of(s.tradition)
        region += res.cultural_regions[0].region == graph.cultural_region_of(s.tradition)
    return state / len(samples), region / len(samples)


def evaluate(photos: Sequence[Photo], labels: Sequence[str], graph: TextileGraph) -> dict[str, Any]:
    """Fit on val photos, report on test photos (see the module docstring)."""
    from saree_app.knowledge.fusion import DEFAULT_WEIGHTS, fit_fusion_weights

    known = set(labels)
    unknown = {t for t in graph.traditions() if t not in known}
    val, test = _samples(photos, "val"), _samples(photos, "test")
    withheld = sorted({s.tradition for s in test} - known)
    fitted = fit_fusion_weights(val, graph, labels)
    fitted_lik = fit_fusion_weights(val, graph, labels, objective="likelihood")
    test_known = [s for s in test if s.tradition in known]
    out: dict[str, Any] = {
        "known": sorted(known),
        "withheld": withheld,
        "n_val": len(val),
        "n_test_known": len(test_known),
        "n_unknown": len(unknown),
        "weights": fitted.to_dict(),
        "weights_likelihood": fitted_lik.to_dict(),
        "known_visual": topk(graph, test_known, None),
        "known_fused_default": topk(graph, test_known, DEFAULT_WEIGHTS),
        "known_fused": topk(graph, test_known, fitted),
        "known_fused_likelihood": topk(graph, test_known, fitted_lik),
        "known_region": region_top1(graph, test_known, fitted),
        "n_traditions": len(graph.traditions()),
    }
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    for w in withheld:
        # Weights fitted without any photo of w: its zero-shot figures are out of sample.
        rest = [s for s in val if s.tradition != w]
        w_bal = fit_fusion_weights(rest, graph, labels)
        w_lik = fit_fusion_weights(rest, graph, labels, objective="likelihood")
        tests = [s for s in test if s.tradition == w]
        rows[w] = {
            "all": topk(graph, tests, w_bal),
            "unknown_only": topk(graph, tests, w_bal, among=unknown),
            "all_likelihood": topk(graph, tests, w_lik),
            "all_default": topk(graph, tests, DEFAULT_WEIGHTS),
            "region": region_top1(graph, tests, w_bal),
        }
    out["zero_shot"] = rows
    return out


def _fmt(pair: tuple[float, float]) -> str:
    return f"top-1 {pair[0]:.3f}  top-3 {pair[1]:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print fused vs visual-only accuracy and zero-shot top-3; optionally save the weights."""
    ap = argparse.ArgumentParser(prog="saree bench fusion")
    ap.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    ap.add_argument("--val", type=at_least(1), default=40, help="validation photos per tradition")
    ap.add_argument("--test", type=at_least(1), default=30, help="test photos per tradition")
    ap.add_argument(
        "--size",
        type=at_least(32),
        default=256,
        help="render size (the default recipe trains on 256)",
    )
    ap.add_argument("--cache", type=Path, help="JSON file to keep predictions between runs")
    ap.add_argument("--weights-out", type=Path, help="write the fitted weights (JSON) here")
    ap.add_argument(
        "--objective",
        choices=("balanced", "likelihood"),
        default="balanced",
        help="which fitted weights --write-manifest / --weights-out store (default balanced; "
        "compare both rows first: on a model whose attribute detectors are weak the balanced "
        "fit can switch attribute evidence off)",
    )
    ap.add_argument(
        "--write-manifest",
        action="store_true",
        help='store the fitted weights as the model manifest\'s "fusion" entry (the .onnx and '
        "its checksum are untouched)",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    return run_reported("fusion", argv, args, lambda report: _main(args, report, argv))


def _main(args: argparse.Namespace, report: Report, argv: Sequence[str] | None) -> int:
    from saree_app.knowledge.graph import load_graph_or_none
    from saree_app.model.manifest import ModelError
    from saree_app.synth import RENDERED_TRADITIONS

    graph, message = load_graph_or_none()
    if graph is None:
        print(message, file=sys.stderr)
        return 1
    try:
        photos, labels, _ = collect(
            args.model,
            RENDERED_TRADITIONS,
            {"val": args.val, "test": args.test},
            args.size,
            cache=args.cache,
        )
    except ModelError as exc:
        print(f"saree bench fusion: {exc}", file=sys.stderr)
        return 1
    r = evaluate(photos, labels, graph)
    report.figures.update({k: v for k, v in r.items() if not k.startswith("_")})
    w = r["weights"]
    f = w["fitted"]
    print(f"model knows {len(r['known'])} traditions; withheld: {', '.join(r['withheld'])}")
    print(
        f"fitted on {r['n_val']} validation photos ({f['samples_unknown_to_model']} of withheld "
        f"traditions), balanced objective: "
        + ", ".join(
            f"{k} {w[k]}"
            for k in (
                "visual",
                "attribute",
                "background",
                "unknown",
                "doubt",
                "attribute_scale",
                "attribute_shift",
            )
        )
    )
    print(f"known traditions, {r['n_test_known']} test photos:")
    print(f"  visual only                {_fmt(r['known_visual'])}")
    print(f"  fused, default weights     {_fmt(r['known_fused_default'])}")
    print(f"  fused, fitted (balanced)   {_fmt(r['known_fused'])}")
    print(f"  fused, fitted (likelihood) {_fmt(r['known_fused_likelihood'])}")
    st, cr = r["known_region"]
    print(f"  fused roll-ups             state top-1 {st:.3f}  cultural region top-1 {cr:.3f}")
    n, nu = r["n_traditions"], r["n_unknown"]
    print(
        f"zero-shot, withheld traditions (weights fitted without the tradition's photos):\n"
        f"  A: ranked among all {n} graph traditions (chance top-3 {3 / n:.3f})\n"
        f"  B: ranked among the {nu} the model does not know (chance top-3 {3 / nu:.3f})"
    )
    rows = r["zero_shot"]
    for t, row in rows.items():
        st, cr = row["region"]
        print(
            f"  {t:<12} A {_fmt(row['all'])}   B {_fmt(row['unknown_only'])}   "
            f"state {st:.2f} region {cr:.2f}   (A top-3 with likelihood-fit weights "
            f"{row['all_likelihood'][1]:.3f}, default {row['all_default'][1]:.3f})"
        )
    if rows:

        def mean(key: str, k: int) -> float:
            return sum(row[key][k] for row in rows.values()) / len(rows)

        print(
            f"  {'mean':<12} A top-1 {mean('all', 0):.3f}  top-3 {mean('all', 1):.3f}   "
            f"B top-1 {mean('unknown_only', 0):.3f}  top-3 {mean('unknown_only', 1):.3f}"
        )
    if args.objective == "likelihood":
        w = r["weights_likelihood"]
        print("storing the weights fitted for plain likelihood (--objective likelihood)")
    if args.write_manifest:
        from saree_app.model.manifest import ModelManifest
        from saree_app.model.predict import default_model_path

        manifest = ModelManifest.load(args.model or default_model_path())
        data = dict(manifest.raw)
        data["fusion"] = w
        try:
            manifest.write(data)
        except OSError as exc:
            print(f"saree bench fusion: cannot write {manifest.path}: {exc}", file=sys.stderr)
            return 1
        print(f'weights stored in {manifest.path} ("fusion")')
    if args.weights_out is not None:
        args.weights_out.write_text(json.dumps(w, indent=1), encoding="utf-8")
        print(f'weights written to {args.weights_out} (the manifest\'s "fusion" entry)')
    return 0
