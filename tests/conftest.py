"""Shared test settings: Qt offscreen, no network, no stray output."""

from __future__ import annotations

import os

# Must be set before any Qt import anywhere in the test session.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Manifest path of a tiny model: the real architecture, random weights, 64 px input.

    Labels Kanchipuram, Banarasi, PochampallyIkat; attributes TempleBorder, Peacock, Ikat,
    ZariBrocade; embedding_dim 32. Outputs are meaningless but follow the model contract.
    """
    pytest.importorskip("torch")
    from saree_app.train.export import export_tiny_model

    return export_tiny_model(tmp_path_factory.mktemp("tiny_model"))
