"""Procedural saree renderer: labelled photos, part masks, attributes. numpy + pillow only."""

from saree_app.synth.dataset import contact_sheet, write_dataset, write_samples
from saree_app.synth.designs import ATTRIBUTES
from saree_app.synth.render import (
    FAMILIES,
    RENDERED_TRADITIONS,
    SynthError,
    render,
    render_distractor,
)
from saree_app.synth.scene import BACKGROUNDS, CAMERAS, LIGHTINGS
from saree_app.synth.views import NAMED_VIEWS, VIEWS

__all__ = [
    "ATTRIBUTES",
    "BACKGROUNDS",
    "CAMERAS",
    "FAMILIES",
    "LIGHTINGS",
    "NAMED_VIEWS",
    "RENDERED_TRADITIONS",
    "VIEWS",
    "SynthError",
    "contact_sheet",
    "render",
    "render_distractor",
    "write_dataset",
    "write_samples",
]
