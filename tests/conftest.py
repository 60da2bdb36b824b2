"""Shared test settings: Qt offscreen, no network, no stray output."""

from __future__ import annotations

import os

# Must be set before any Qt import anywhere in the test session.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
