"""Model test fixtures: a hand-built contract model (torch-free) and copies of the shared one.

The shared `tiny_model` (tests/conftest.py: the real architecture, random weights) drives the
prediction, overlay and CLI tests; the hand-built one lets contract tests break a model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import tiny_onnx


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model (64 px input, 5 traditions) built with the onnx helper API; read-only."""
    return tiny_onnx.build(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def model_copy(tiny_manifest: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model whose files a test may change."""
    out = tmp_path / "model"
    shutil.copytree(tiny_manifest.parent, out)
    return out / tiny_manifest.name


@pytest.fixture
def shared_copy(tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the shared tiny model (real architecture) whose files a test may change."""
    out = tmp_path / "shared"
    shutil.copytree(tiny_model.parent, out)
    return out / tiny_model.name
