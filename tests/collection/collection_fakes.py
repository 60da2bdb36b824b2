"""A stand-in Predictor for collection tests: real photo loading, cheap colour embeddings."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from saree_app.imaging import PhotoError, load_photo

TRADITIONS = ("Kanchipuram", "Banarasi", "Paithani")


@dataclass(frozen=True)
class FakeRanked:
    tradition: str
    probability: float


@dataclass(frozen=True)
class FakeFused:
    ranking: tuple[FakeRanked, ...]


@dataclass
class FakePrediction:
    source: str
    photo_size: tuple[int, int]
    fused: FakeFused
    uncertain: bool
    embedding: np.ndarray
    part_embeddings: np.ndarray
    visual_probs: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "photo_size": list(self.photo_size),
            "ranking": [[r.tradition, r.probability] for r in self.fused.ranking],
        }


@dataclass
class FakeManifest:
    sha256: str = "f" * 64
    name: str = "fake"
    embedding_dim: int = 8
    labels: tuple[str, ...] = TRADITIONS


def colour_embedding(img: Image.Image) -> np.ndarray:
    """8-D: mean RGB of the whole photo and of its four quadrants' red, normalised."""
    arr = np.asarray(img.resize((16, 16)), dtype=np.float32) / 255.0
    vec = np.concatenate(
        [
            arr.mean(axis=(0, 1)),
            arr[:8, :8, 0:1].mean((0, 1)),
            arr[:8, 8:, 1:2].mean((0, 1)),
            arr[8:, :8, 2:3].mean((0, 1)),
            arr[8:, 8:].mean((0, 1))[:2],
        ]
    )
    vec = vec - 0.5
    return (vec / (np.linalg.norm(vec) + 1e-9)).astype(np.float32)


class FakePredictor:
    """predict_many like the real Predictor: (path, Prediction | PhotoError), in order."""

    def __init__(self, delay: float = 0.0, sha256: str = "f" * 64) -> None:
        self.manifest = FakeManifest(sha256=sha256)
        self.delay = delay
        self.seen: list[Path] = []

    def predict(self, photo: Any, **_: Any) -> FakePrediction:
        img = load_photo(photo if not isinstance(photo, Image.Image) else _png(photo), target=64)
        return self._predict(img, str(photo) if isinstance(photo, str | Path) else "<photo>")

    def _predict(self, img: Image.Image, source: str) -> FakePrediction:
        emb = colour_embedding(img)
        r, g, b = np.asarray(img.resize((8, 8)), dtype=np.float32).mean(axis=(0, 1))
        idx = int(np.argmax([r, g, b]))
        probs = np.full(3, 0.1)
        probs[idx] = 0.8
        ranking = tuple(
            FakeRanked(TRADITIONS[i], float(probs[i])) for i in np.argsort(-probs, kind="stable")
        )
        parts = np.stack([emb, np.roll(emb, 1), np.roll(emb, 2)])
        return FakePrediction(source, img.size, FakeFused(ranking), False, emb, parts)

    def predict_many(
        self, paths: Sequence[Path], batch_size: int = 8
    ) -> Iterator[tuple[Path, FakePrediction | PhotoError]]:
        for path in paths:
            self.seen.append(Path(path))
            if self.delay:
                time.sleep(self.delay)
            try:
                img = load_photo(path, target=64)
            except PhotoError as exc:
                yield Path(path), exc
                continue
            yield Path(path), self._predict(img, str(path))


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def write_photo(path: Path, colour: tuple[int, int, int], seed: int, size: int = 48) -> Path:
    """A small JPEG: a solid colour with seeded noise (distinct content per seed)."""
    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(colour, dtype=np.float32) + rng.normal(0, 20, (size, size, 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr.astype(np.uint8)).save(path, "JPEG", quality=90)
    return path


def make_folder(root: Path, n: int = 9) -> list[Path]:
    """n photos in three tradition folders (red, green, blue), plus nothing else."""
    colours = {"Kanchipuram": (200, 40, 40), "Banarasi": (40, 200, 40), "Paithani": (40, 40, 200)}
    out = []
    for i in range(n):
        name = TRADITIONS[i % 3]
        out.append(write_photo(root / name / f"{i:03d}.jpg", colours[name], seed=i))
    return out


if __name__ == "__main__":
    # Used by the kill-and-resume test: import a folder slowly so it can be killed midway.
    import sys

    from saree_app.collection.catalog import Catalog
    from saree_app.collection.importer import import_folder

    folder, catalogue, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with Catalog(catalogue) as cat:
        for step in import_folder(cat, folder, FakePredictor(delay=delay), batch_size=2):
            print(step.done, step.total, flush=True)
