"""What the bad-input tests of the command line and of the core share: small real photos, and a
file or folder nobody may write to."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image


def small_jpeg(seed: int) -> bytes:
    """A 40 x 30 JPEG whose colour follows `seed` (each seed another photo)."""
    img = Image.new("RGB", (40, 30), (seed * 70 % 256, 90, 200 - seed * 40))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) cannot be written to, even by root (immutable); skipped
    where that cannot be done."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("cannot make a file read-only for root here (chattr)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
