"""A photo written to disk and recorded in a catalogue with a model's answer, as many command
and collection tests set their catalogue up (no model run: the answer is given)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from saree_app.collection.catalog import Catalog, NewPhoto

MODEL = "m" * 64  # the model the answers are recorded under


def answered_photo(
    cat: Catalog,
    path: Path,
    content: bytes,
    tradition: str,
    *,
    size: tuple[int, int] = (10, 20),
    probability: float = 0.7,
    uncertain: bool = False,
    embeddings: bool = False,
    model: str = MODEL,
) -> int:
    """Write `content` to `path` (a photo file, found by its content as the app finds it),
    record it with `tradition` as the model's answer and return its id. `embeddings`: give it
    a whole-saree and part embedding too (ones)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    return cat.record(
        NewPhoto(str(path), digest, len(content), *size),
        model,
        {"ranking": [[tradition, probability]]},
        top_tradition=tradition,
        top_probability=probability,
        uncertain=uncertain,
        embedding=np.ones(4, np.float32) if embeddings else None,
        part_embeddings=np.ones((3, 4), np.float32) if embeddings else None,
    )
