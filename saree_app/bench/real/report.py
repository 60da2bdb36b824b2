"""report.md and the plots of `saree bench real` (Pillow only: no plotting library needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    """The report as a curator-readable page, engineering figures in tables."""
    lines: list[str] = []
    add = lines.append
    model = report["model"]
    add("# Real photographs: how the app does")
    add("")
    add(
        f"Model `{model['name']}` (sha256 {model['sha256'][:12]}), {report['photos']} photos in "
        f"{len(report['traditions'])} tradition folders of `{report['photos_dir']}`; "
        f"{report['scored']} read, {len(report['skipped'])} could not be read. "
        f"Took {report['seconds']['total']:.0f} s."
    )
    add("")
    add("| folder | tradition | known to the model | photos |")
    add("|---|---|---|---|")
    for t in report["traditions"]:
        tradition = t["tradition"] or "(never heard of)"
        add(
            f"| {t['folder']} | {tradition} | {'yes' if t['known_to_model'] else 'no'} | "
            f"{t['photos']} |"
        )
    add("")
    u = report["untaught"]
    add("## 1. Untaught (the shipped model as it is)")
    add("")
    add(
        "| set | photos | fused top-1 | balanced | fused top-5 | visual top-1 | balanced | "
        "visual top-5 | flagged | unflagged right | AUROC | risk area |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    sets = [("all", u["overall"])] + [(f"view: {v}", f) for v, f in u["by_view"].items()]
    for name, f in sets:
        add(
            f"| {name} | {f['photos']} | {_pct(f['fused_top1'])} | "
            f"{_pct(f['fused_top1_balanced'])} | {_pct(f['fused_top5'])} | "
            f"{_pct(f['visual_top1'])} | {_pct(f['visual_top1_balanced'])} | "
            f"{_pct(f['visual_top5'])} | {_pct(f['flagged'])} | "
            f"{_pct(f['unflagged_right'])} ({f['unflagged']}) | {_num(f['auroc_confidence'])} | "
            f"{_num(f['risk_coverage_area'])} |"
        )
    o = u["overall"]
    add("")
    add(
        f"Flagged uncertain: {_pct(o['flagged_known_to_model'])} of photos of traditions the model "
        f"knows, {_pct(o['flagged_not_in_model'])} of traditions it was not trained on (ranked "
        f"from the knowledge graph only), {_pct(o['flagged_unknown_to_app'])} of traditions the "
        "app has never heard of. AUROC: how well the answer's probability separates right from "
        "wrong answers (0.5 is chance). Risk area: mean error over the risk-coverage curve "
        "(risk-coverage.png)."
    )
    if o.get("set_coverage") is not None:
        add("")
        add(
            f'Answer sets ("could be: ...", by the model\'s own calibration, stated at '
            f"{_pct(o.get('set_level'))}): hold the right tradition for "
            f"{_pct(o['set_coverage'])} of photos, {_num(o['set_size'], 1)} traditions on average. "
            f"For {_pct(o.get('set_unclaimed'))} of the photos, those that look unlike the "
            "model's training photos, the app names the set without a level; the sets that "
            f"claim it hold the right tradition {_pct(o.get('set_coverage_claimed'))} of the time."
        )
    if o.get("stated_probability") is not None:
        add("")
        add(
            f"How sure the answers read: the probability each states for its first tradition, "
            f"{_pct(o['stated_probability'])} on average, for {_pct(o['stated_right'])} right "
            f"(calibration error {_num(o.get('calibration_error'))}: the mean gap between the "
            "two within ten bins of stated probability). The shipped model's calibration was "
            "measured on rendered sarees; teaching reads taught answers at what the confirmed "
            "photos show (section 2)."
        )
    src = u.get("flag_sources") or {}
    if src.get("unlike_training") is not None:
        add("")
        add(
            f"Flagged because the photo looks unlike the photos the model learnt from: "
            f"{_pct(src['unlike_training'])} of photos; flagged for another reason (the model's "
            f"own open-set signals, a tradition it was not trained on, the cloth check): "
            f"{_pct(src['other_reasons'])}."
        )
    add("")
    add("| tradition | photos | fused top-1 | fused top-5 | visual top-1 | flagged |")
    add("|---|---|---|---|---|---|")
    for t, f in o["per_tradition"].items():
        add(
            f"| {t} | {f['photos']} | {_pct(f['fused_top1'])} | {_pct(f['fused_top5'])} | "
            f"{_pct(f['visual_top1'])} | {_pct(f['flagged'])} |"
        )
    add("")
    taught = report.get("taught") or {}
    if taught:
        add("## 2. Taught (photos confirmed through the app's own teaching step)")
        add("")
        add(
            "Balanced top-1 on the photos not taught, mean ± spread over the draws "
            "(min-max); the reference is a plain nearest-prototype on the app's embeddings, "
            "from the same confirmed photos."
        )
        add("")
        names = list(next(iter(taught.values()))["reference"]) if taught else []
        head = " | ".join(f"reference: {n}" for n in names)
        add(
            f"| k | draws | traditions | photos tested | the app | {head} | flagged | "
            "unflagged right | answer set holds the right one | mean set size | sets calibrated "
            "on the confirmed photos |"
        )
        add("|---|---|---|---|---|" + "---|" * len(names) + "---|---|---|---|---|")
        for k, t in taught.items():
            refs = " | ".join(_spread(t["reference"][n]) for n in names)
            add(
                f"| {k} | {t['draws']} | {t['traditions']} | {t['tested_photos']} | "
                f"{_spread(t['app'])} | {refs} | {_pct(t['flagged'])} | "
                f"{_pct(t['unflagged_right'])} | {_pct(t.get('set_coverage'))} | "
                f"{_num(t.get('set_size'))} | {_pct(t.get('set_calibrated'))} |"
            )
        unchecked = [k for k, t in taught.items() if t.get("set_calibrated") == 0]
        if unchecked:
            # What the app tells the curator where sets are not calibrated (words.py).
            add("")
            add(
                f"At k = {', '.join(unchecked)} no set is calibrated on the confirmed photos (too "
                "few have another photo of their tradition confirmed): the sets above are drawn "
                "by the model's own rule from the taught probabilities, and the app claims no "
                'level for them ("from your teaching, not yet checked").'
            )
        ranked = [(k, t) for k, t in taught.items() if t.get("lead_right_at")]
        if ranked:
            shares = list(ranked[0][1]["lead_right_at"])
            add("")
            add(
                "Every draw's answers together, ranked by how far their first tradition leads "
                "the second (what decides the flag): the share right among the first "
                "answers, the AUROC of that lead for right against wrong answers, and the mean "
                "error over its risk-coverage curve (risk-coverage.png). Leaving 40% of the "
                "answers unflagged at 85% right needs 85% in the 0.40 column."
            )
            add("")
            add(
                "| k | "
                + " | ".join(f"right among the first {float(x):.0%}" for x in shares)
                + " | AUROC | risk area |"
            )
            add("|---|" + "---|" * len(shares) + "---|---|")
            for k, t in ranked:
                shown = " | ".join(_pct(t["lead_right_at"][x]) for x in shares)
                add(
                    f"| {k} | {shown} | {_num(t.get('lead_auroc'))} | "
                    f"{_num(t.get('lead_risk_area'))} |"
                )
        sure = [(k, t) for k, t in taught.items() if t.get("stated_probability") is not None]
        if sure:
            add("")
            add(
                "How sure the taught answers read: the probability each answer states for its "
                "first tradition, on average, against how often that tradition is right, and "
                "the calibration error (the mean gap between the two within ten bins of stated "
                "probability; 0 when a stated 70% is right 70% of the time)."
            )
            add("")
            add("| k | stated probability of the first | right | calibration error |")
            add("|---|---|---|---|")
            for k, t in sure:
                add(
                    f"| {k} | {_pct(t['stated_probability'])} | {_pct(t['stated_right'])} | "
                    f"{_num(t.get('calibration_error'))} |"
                )
        split = [(k, t["by_source"]) for k, t in taught.items() if t.get("by_source")]
        if split:
            add("")
            add(
                "The same photos apart by where they were published: from a source (a shop, a "
                "maker) one of whose photos of the same tradition was taught, or from another. "
                "Top-1 over all draws' answers (balanced, mean over draws); a curator's own "
                "collection is all one source, so the second is the fairer guide."
            )
            add("")
            names_split = list(split[0][1])
            add(
                "| k | "
                + " | ".join(f"{n}: source seen | {n}: source not seen" for n in names_split)
                + " |"
            )
            add("|---|" + "---|---|" * len(names_split))
            for k, by in split:
                cells = []
                for n in names_split:
                    for side in ("seen", "unseen"):
                        f = by[n][side]
                        cells.append(
                            f"{_pct(f['right'])} of {f['answers']} ({_pct(f['balanced'])})"
                        )
                add(f"| {k} | " + " | ".join(cells) + " |")
        watched = [
            (k, t["untaught_traditions"])
            for k, t in taught.items()
            if (t.get("untaught_traditions") or {}).get("draws")
        ]
        if watched:
            add("")
            add(
                "Traditions nobody taught, while the others were (each draw again, teaching "
                "every other tradition only): balanced top-1 on their photos before and after, "
                "and the share of their photos flagged uncertain."
            )
            add("")
            add(
                "| k | draws | before teaching | after teaching the others | change per draw "
                "| flagged before | flagged after |"
            )
            add("|---|---|---|---|---|---|---|")
            for k, u in watched:
                changes = ", ".join(f"{100 * c:+.1f}" for c in u["change_per_draw"])
                add(
                    f"| {k} | {u['draws']} | {_pct(u['before'])} | {_pct(u['after'])} | {changes} "
                    f"| {_pct(u.get('flagged_before'))} | {_pct(u.get('flagged_after'))} |"
                )
        for k, t in taught.items():
            if t["left_out"]:
                add("")
                add(
                    f"k = {k}: left out (fewer than {int(k) + 1} photos): "
                    f"{', '.join(t['left_out'])}."
                )
        add("")
    parts = report.get("parts")
    if parts:
        add("## 3. Parts (the part map on a 12 x 12 grid against the labels)")
        add("")
        add(
            "| set | photos | mIoU | background | body | border | pallu | saree vs background |"
            " background painted as saree | heatmap on the saree |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|")
        for name, f in [("all", parts["overall"]), *parts["by_view"].items()]:
            add(
                f"| {name} | {f['photos']} | {_num(f['miou'])} | {_num(f['iou_background'])} | "
                f"{_num(f['iou_body'])} | {_num(f['iou_border'])} | {_num(f['iou_pallu'])} | "
                f"{_num(f['iou_saree'])} | {_pct(f['background_as_saree'])} | "
                f"{_pct(f['heat_on_saree'])} |"
            )
        add("")
    similar = report.get("similar")
    if similar:
        add("## 4. Similar sarees (how often the nearest photos are of the same tradition)")
        add("")
        add(
            "| compared by | photos | nearest | five nearest | five nearest from other sources |"
            " nearest within one source (chance) |"
        )
        add("|---|---|---|---|---|---|")
        for way, f in similar.items():
            inside = (
                f"{_pct(f['within_source_nearest'])} ({_pct(f['within_source_chance'])}; "
                f"{f['within_source_photos']} photos, {f['within_sources']} sources)"
                if f["within_source_nearest"] is not None
                else "-"
            )
            add(
                f"| {way} | {f['photos']} | {_pct(f['nearest'])} | {_pct(f['five_nearest'])} | "
                f"{_pct(f['other_sources_five'])} | {inside} |"
            )
        add("")
        add(
            "Within one source: among the other photos of the query's own source, for sources "
            "showing two traditions or more, as in a collection photographed by one hand."
        )
        add("")
    add("## 5. Time and unreadable photos")
    add("")
    s = report["seconds"]
    add(
        f"Model and import {s['import']:.1f} s, teaching draws {s['taught']:.1f} s, total "
        f"{s['total']:.1f} s."
    )
    for key, why in report["skipped"]:
        add(f"- not read: {key}: {why}")
    for w in report["warnings"]:
        add(f"- note: {w}")
    add("")
    return "\n".join(lines)


def _spread(s: dict[str, Any]) -> str:
    if s["mean"] is None:
        return "-"
    return (
        f"{100 * s['mean']:.1f}% ± {100 * s['sd']:.1f} ({100 * s['min']:.0f}-{100 * s['max']:.0f})"
    )


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        return ImageFont.load_default()


def confusion_png(path: Path, rows: Sequence[str], cols: Sequence[str], m: np.ndarray) -> None:
    """Rows: true tradition; columns: the fused answer; cell shade by the row's share."""
    cell, left, top = 26, 150, 150
    img = Image.new("RGB", (left + cell * len(cols) + 20, top + cell * len(rows) + 40), "white")
    d = ImageDraw.Draw(img)
    font = _font(12)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    for i, r in enumerate(rows):
        d.text((6, top + i * cell + 7), r[:22], fill="black", font=font)
        for j in range(len(cols)):
            shade = int(255 - 200 * share[i, j])
            x, y = left + j * cell, top + i * cell
            colour = (shade, shade, 255) if r != cols[j] else (shade, 255, shade)
            d.rectangle([x, y, x + cell - 1, y + cell - 1], fill=colour, outline=(220, 220, 220))
            if m[i, j]:
                d.text((x + 5, y + 7), str(int(m[i, j])), fill="black", font=font)
    for j, c in enumerate(cols):
        label = Image.new("RGB", (top - 6, cell), "white")
        ImageDraw.Draw(label).text((2, 7), c[:22], fill="black", font=font)
        img.paste(label.rotate(90, expand=True), (left + j * cell, 2))
    d.text(
        (6, top + cell * len(rows) + 12),
        "rows: the folder's tradition; columns: the app's answer; green: right",
        fill="black",
        font=font,
    )
    img.save(path)


def risk_png(path: Path, curves: dict[str, list[tuple[float, float]]]) -> None:
    """Error rate of the answers kept against the share kept, most confident first."""
    w, h, pad = 640, 420, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    font = _font(12)
    d.rectangle([pad, 20, w - 20, h - pad], outline="black")
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = pad + t * (w - 20 - pad)
        y = h - pad - t * (h - pad - 20)
        d.text((x - 10, h - pad + 6), f"{t:.2f}", fill="black", font=font)
        d.text((8, y - 6), f"{t:.2f}", fill="black", font=font)
    d.text((w // 2 - 80, h - 22), "coverage (share of answers kept)", fill="black", font=font)
    d.text((pad + 6, 24), "error rate among kept answers", fill="black", font=font)
    colours = [(200, 40, 40), (40, 90, 200), (30, 150, 60), (160, 90, 0)]
    for n, curve in enumerate(curves.values()):
        pts = [(pad + c * (w - 20 - pad), h - pad - r * (h - pad - 20)) for c, r in curve]
        if len(pts) > 1:
            d.line(pts, fill=colours[n % len(colours)], width=2)
    # The names last, on white, so no curve runs through them.
    for n, name in enumerate(curves):
        x, y = w - 250, 40 + 16 * n
        left, top, right, bottom = d.textbbox((x, y), name, font=font)
        d.rectangle([left - 3, top - 2, right + 3, bottom + 2], fill="white")
        d.text((x, y), name, fill=colours[n % len(colours)], font=font)
    img.save(path)
