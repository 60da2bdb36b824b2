"""Fusion: weights fitted on rendered validation photos; fused vs visual-only, and zero-shot.

Renders photos of every rendered tradition with seeds that the data-set writer puts in its
"val" and "test" splits (so none was a training photo), runs the model on them, fits the fusion
weights on the validation photos and reports on the test photos:

- traditions the model knows: top-1 / top-3 of the visual ranking and of the fused ranking;
- traditions withheld from the model: fused top-1 / top-3 over all traditions of the graph
  (zero-shot: the visual ranking cannot name them). To keep the zero-shot figure honest each
  withheld tradition is scored with weights fitted without its own validation photos.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
                photos.append(
                    Photo(t, seed, split, dict(pred.visual_probs), dict(pred.attribute_probs))
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
    graph: TextileGraph, samples: Sequence[FusionSample], weights: FusionWeights | None
) -> tuple[float, float]:
    """(top-1, top-3) of the fused ranking, or of the visual ranking when weights is None."""
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
    val, test = _samples(photos, "val"), _samples(photos, "test")
    withheld = sorted({s.tradition for s in test} - known)
    fitted = fit_fusion_weights(val, graph, labels)
    test_known = [s for s in test if s.tradition in known]
    out: dict[str, Any] = {
        "known": sorted(known),
        "withheld": withheld,
        "n_val": len(val),
        "n_test_known": len(test_known),
        "weights": fitted.to_dict(),
        "known_visual": topk(graph, test_known, None),
        "known_fused_default": topk(graph, test_known, DEFAULT_WEIGHTS),
        "known_fused": topk(graph, test_known, fitted),
    }
    zero: dict[str, tuple[float, float]] = {}
    zero_default: dict[str, tuple[float, float]] = {}
    zero_region: dict[str, tuple[float, float]] = {}
    for w in withheld:
        # Weights fitted without any photo of w: its zero-shot score is out of sample.
        weights_w = fit_fusion_weights([s for s in val if s.tradition != w], graph, labels)
        tests = [s for s in test if s.tradition == w]
        zero[w] = topk(graph, tests, weights_w)
        zero_default[w] = topk(graph, tests, DEFAULT_WEIGHTS)
        zero_region[w] = region_top1(graph, tests, weights_w)
    out["zero_shot"] = zero
    out["zero_shot_default"] = zero_default
    out["zero_shot_region"] = zero_region
    out["known_region"] = region_top1(graph, test_known, fitted)
    out["n_traditions"] = len(graph.traditions())
    return out


def _fmt(pair: tuple[float, float]) -> str:
    return f"top-1 {pair[0]:.3f}  top-3 {pair[1]:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print fused vs visual-only accuracy and zero-shot top-3; optionally save the weights."""
    ap = argparse.ArgumentParser(prog="saree bench fusion")
    ap.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    ap.add_argument("--val", type=int, default=20, help="validation photos per tradition")
    ap.add_argument("--test", type=int, default=30, help="test photos per tradition")
    ap.add_argument(
        "--size", type=int, default=256, help="render size (the default recipe trains on 256)"
    )
    ap.add_argument("--cache", type=Path, help="JSON file to keep predictions between runs")
    ap.add_argument("--weights-out", type=Path, help="write the fitted weights (JSON) here")
    args = ap.parse_args(argv)
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
    w = r["weights"]
    print(f"model knows {len(r['known'])} traditions; withheld: {', '.join(r['withheld'])}")
    print(
        f"fitted on {r['n_val']} validation photos: visual {w['visual']}, attribute "
        f"{w['attribute']}, background {w['background']}, unknown {w['unknown']} "
        f"(val log-lik {w['fitted']['log_likelihood_start']} -> {w['fitted']['log_likelihood']})"
    )
    print(f"known traditions, {r['n_test_known']} test photos:")
    print(f"  visual only          {_fmt(r['known_visual'])}")
    print(f"  fused, default w     {_fmt(r['known_fused_default'])}")
    print(f"  fused, fitted w      {_fmt(r['known_fused'])}")
    st, cr = r["known_region"]
    print(f"  fused roll-ups       state top-1 {st:.3f}  cultural region top-1 {cr:.3f}")
    n = r["n_traditions"]
    print(
        f"zero-shot (withheld from the model; ranked among all {n} graph traditions, "
        f"chance top-3 {3 / n:.3f}):"
    )
    for t, pair in r["zero_shot"].items():
        st, cr = r["zero_shot_region"][t]
        print(
            f"  {t:<16} fitted w {_fmt(pair)}   default w {_fmt(r['zero_shot_default'][t])}"
            f"   state top-1 {st:.3f}  region top-1 {cr:.3f}"
        )
    if r["zero_shot"]:
        mean3 = sum(p[1] for p in r["zero_shot"].values()) / len(r["zero_shot"])
        mean1 = sum(p[0] for p in r["zero_shot"].values()) / len(r["zero_shot"])
        print(f"  mean             top-1 {mean1:.3f}  top-3 {mean3:.3f}")
    if args.weights_out is not None:
        args.weights_out.write_text(json.dumps(w, indent=1), encoding="utf-8")
        print(f'weights written to {args.weights_out} (the manifest\'s "fusion" entry)')
    return 0
