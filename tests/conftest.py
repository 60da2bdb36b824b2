"""Shared test settings: Qt offscreen, no network, no stray output."""

from __future__ import annotations

import os

# Must be set before any Qt import anywhere in the test session.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[1] / "models"


def _shipped_files() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(SHIPPED.iterdir())
        if p.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def shipped_models_untouched() -> Iterator[None]:
    """No test may change what ships in models/: a bench run by mistake once rewrote the
    shipped manifest's open-set rule (its --workers 0 was not refused then)."""
    before = _shipped_files()
    yield
    after = _shipped_files()
    changed = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
    assert not changed, f"the test session changed shipped files in models/: {changed}"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Manifest path of a tiny model: the real architecture, random weights, 64 px input.

    Labels Kanchipuram, Banarasi, PochampallyIkat; attributes TempleBorder, Peacock, Ikat,
    ZariBrocade; embedding_dim 32. Outputs are meaningless but follow the model contract.
    """
    pytest.importorskip("torch")
    from saree_app.train.export import export_tiny_model

    return export_tiny_model(tmp_path_factory.mktemp("tiny_model"))
