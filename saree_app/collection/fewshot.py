"""Curator-confirmed photos as prototypes that sharpen the ranking without retraining."""
