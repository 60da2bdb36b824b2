"""Procedural saree renderer: labelled photos, part masks, attributes. numpy + pillow only."""
