"""Where bundled data lives: ontology, default model, resources, in a checkout or a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def root() -> Path:
    """The folder that holds ontology/, models/ and resources/.

    In a PyInstaller bundle that is the bundle's data folder; otherwise the checkout the package
    was installed from (the README installs in editable mode).
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def ontology_dir() -> Path:
    """The Turtle files of the textile knowledge graph."""
    return root() / "ontology"


def models_dir() -> Path:
    """The default model, its manifest and model card."""
    return root() / "models"


def resources_dir() -> Path:
    """Icons, style sheet, sample photos."""
    return root() / "resources"


def samples_dir() -> Path:
    """The bundled sample photos (rendered by saree_app.synth)."""
    return resources_dir() / "samples"
