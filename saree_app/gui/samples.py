"""Sample photos for screenshots, self-test and benchmark: bundled, else freshly rendered."""

from __future__ import annotations

import importlib
from pathlib import Path

from saree_app import paths

_EXTS = {".jpg", ".jpeg", ".png"}


def bundled_samples() -> list[Path]:
    """Photos under resources/samples (masks and hidden files left out)."""
    folder = paths.samples_dir()
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in _EXTS and not p.name.endswith(".mask.png") and p.is_file()
    )


def render_samples(out: Path, count: int = 12, size: int = 320) -> list[Path]:
    """Render `count` synthetic sarees into `out` (one folder per tradition); [] if the
    renderer is not available."""
    try:
        synth = importlib.import_module("saree_app.synth")
        render = synth.render
        traditions = tuple(synth.RENDERED_TRADITIONS)
    except (ImportError, AttributeError):
        return []
    written = []
    for i in range(count):
        trad = traditions[i % len(traditions)]
        img, _mask, _attrs, _meta = render(trad, 1000 + i, size)
        folder = out / trad
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"sample_{i:03d}.jpg"
        img.save(path, "JPEG", quality=90)
        written.append(path)
    return written


def sample_folder(scratch: Path, count: int = 12) -> Path | None:
    """A folder of sample photos: resources/samples when it has any, else rendered ones."""
    if bundled_samples():
        return paths.samples_dir()
    folder = scratch / "samples"
    return folder if render_samples(folder, count) else None
