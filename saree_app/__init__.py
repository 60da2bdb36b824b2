"""Saree provenance: where a saree comes from, with the evidence for it."""

__version__ = "0.1.0"
