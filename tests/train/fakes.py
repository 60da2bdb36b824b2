"""Hand-made labelled photos with part masks, for training tests that must not wait on synth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

# Three traditions told apart by body colour; border and pallu colours are shared.
STYLES = {
    "Kanchipuram": ((150, 20, 40), ["TempleBorder", "ContrastingBorder"]),
    "Banarasi": ((30, 40, 140), ["ZariBrocade", "Paisley"]),
    "PochampallyIkat": ((20, 120, 60), ["IkatDiamond", "DoubleIkat"]),
}


def fake_photo(tradition: str, seed: int, size: int = 96) -> tuple[Image.Image, np.ndarray]:
    """A flat 'saree': body, a border strip along the bottom, a pallu at the right end."""
    rng = np.random.default_rng(seed)
    body, _ = STYLES[tradition]
    h, w = size, size + size // 4  # not square: exercises the letterbox
    img = np.empty((h, w, 3), np.float32)
    img[:] = rng.integers(150, 230, size=3)  # background
    mask = np.zeros((h, w), np.uint8)
    top, bottom, left, right = h // 6, h - h // 6, w // 10, w - w // 10
    mask[top:bottom, left:right] = 1
    mask[bottom - h // 8 : bottom, left:right] = 2
    mask[top:bottom, right - w // 5 : right] = 3
    img[mask == 1] = body
    img[mask == 2] = (200, 160, 40)
    img[mask == 3] = (120, 30, 120)
    img += rng.normal(0, 8, size=img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), mask


def write_fake_dataset(root: Path, per_class: int = 6, size: int = 96) -> Path:
    """DIR/labels.jsonl with train/val/test/heldout splits, as synth.write_dataset writes it."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    splits = ["train"] * 3 + ["val", "test", "heldout"]
    for tradition, (_, attrs) in STYLES.items():
        (root / tradition).mkdir(exist_ok=True)
        for i in range(per_class):
            img, mask = fake_photo(tradition, seed=hash((tradition, i)) % 10_000, size=size)
            stem = f"{i:06d}"
            img.save(root / tradition / f"{stem}.jpg", quality=92)
            Image.fromarray(mask, "L").save(root / tradition / f"{stem}.mask.png")
            rec = {
                "image": f"{tradition}/{stem}.jpg",
                "mask": f"{tradition}/{stem}.mask.png",
                "tradition": tradition,
                "attributes": attrs,
                "split": splits[i % len(splits)],
                "families": {"view": "flat", "background": "plain", "lighting": "even"},
                "seed": i,
            }
            lines.append(json.dumps(rec))
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
