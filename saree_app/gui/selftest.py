"""`saree-app --self-test`: model, graph, one classified sample and its answer, checked.

Used by packaging: runs offscreen and exits 0, or prints what failed and exits 1.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def _check_prediction(pred: Any, problems: list[str]) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    ranking = list(pred.fused.ranking)
    need(bool(ranking), "the fused ranking is empty")
    probs = [float(r.probability) for r in ranking]
    need(all(0.0 <= p <= 1.0 for p in probs), "a ranked probability is outside [0, 1]")
    need(probs == sorted(probs, reverse=True), "the ranking is not sorted by probability")
    need(sum(probs) <= 1.0 + 1e-3, f"ranked probabilities sum to {sum(probs):.3f} > 1")
    need(
        [p.part for p in pred.parts] == ["body", "border", "pallu"],
        "parts are not body/border/pallu",
    )
    w, h = pred.photo_size
    mask = np.asarray(pred.part_mask_at((64, 48)))
    need(mask.shape == (48, 64), f"part mask at 64 x 48 has shape {mask.shape}")
    need(int(mask.max(initial=0)) <= 3, "the part mask has classes beyond pallu")
    top = ranking[0].tradition if ranking else None
    if top is not None and pred.has_heatmap(top):
        heat = np.asarray(pred.heatmap(top, size=(64, 48)))
        need(heat.shape == (48, 64), "heatmap has the wrong shape")
        need(float(heat.min()) >= 0.0 and float(heat.max()) <= 1.0, "heatmap outside [0, 1]")
    emb = np.asarray(pred.embedding, dtype=np.float32)
    need(
        emb.ndim == 1 and math.isclose(float(np.linalg.norm(emb)), 1.0, abs_tol=1e-2),
        "the embedding is not L2-normalised",
    )
    need(np.asarray(pred.part_embeddings).shape[0] == 3, "part embeddings are not 3 x D")
    need(isinstance(pred.uncertain, bool), "uncertain is not a bool")
    if pred.uncertain:
        need(bool(pred.uncertain_reasons), "uncertain without a reason")
    need(w > 0 and h > 0, "photo size is empty")


def run_self_test(model: Path | None = None) -> int:
    """0 when model, graph, prediction and answer panel all work; else prints what failed."""
    problems: list[str] = []
    try:
        from saree_app.knowledge.graph import load_graph_or_none

        graph, message = load_graph_or_none()
        if graph is None:
            problems.append(f"knowledge graph: {message}")
        elif len(graph.traditions()) < 5:
            problems.append(f"knowledge graph has only {len(graph.traditions())} traditions")
    except Exception as exc:
        graph = None
        problems.append(f"knowledge graph: {exc}")
    try:
        from saree_app.model.predict import Predictor

        predictor = Predictor(model, graph=graph, load_graph=False)
    except Exception as exc:
        print(f"self-test FAILED\n  model: {exc}")
        return 1
    from saree_app.gui.samples import bundled_samples, render_samples

    with tempfile.TemporaryDirectory() as tmp:
        photos = bundled_samples() or render_samples(Path(tmp), 1)
        if not photos:
            problems.append("no sample photo (resources/samples is empty, no renderer)")
            pred = None
        else:
            try:
                pred = predictor.predict(photos[0])
            except Exception as exc:
                problems.append(f"classifying {photos[0].name}: {exc}")
                pred = None
    if pred is not None:
        _check_prediction(pred, problems)
        try:
            from saree_app.gui.answer import AnswerPanel
            from saree_app.gui.app import make_app

            make_app()
            panel = AnswerPanel()
            panel.show_prediction("self-test", pred)
            if len(panel.rank_rows) != min(5, len(pred.fused.ranking)):
                problems.append("the answer panel does not list the top traditions")
            panel.deleteLater()
        except Exception as exc:
            problems.append(f"answer panel: {exc}")
    if problems:
        print("self-test FAILED")
        for p in problems:
            print(f"  {p}")
        return 1
    top = pred.fused.ranking[0] if pred is not None else None
    label = f"{top.label} {top.probability:.0%}" if top is not None else "?"
    print(f"self-test passed: model {predictor.manifest.sha256[:12]}, answer {label}")
    return 0
