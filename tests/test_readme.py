"""README's Python snippets run as written, on a rendered saree, with the shipped model."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_a_python_example() -> None:
    assert any("saree_app.model import Predictor" in s for s in python_snippets())


@pytest.mark.parametrize("index", range(len(python_snippets())))
def test_readme_python_snippet_runs(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saree_app.model.predict import default_model_path
    from saree_app.synth import render

    if not default_model_path().is_file():
        pytest.skip("the shipped model is not installed")
    img, _mask, _attrs, _meta = render("Kanchipuram", 4242, 320)
    img.save(tmp_path / "photo.jpg", "JPEG", quality=90)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python_snippets()[index], f"README.md python snippet {index}", "exec"), {})
    printed = out.getvalue()
    # It printed a tradition with the percentage the app shows, and an answer set.
    assert re.search(r"^.+: \d{1,3}%$", printed, re.M), printed
    assert "could be: " in printed


def test_readme_says_what_a_fresh_debian_needs_for_the_window() -> None:
    text = README.read_text(encoding="utf-8")
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"):
        assert package in text
        assert package in (README.parent / ".ci" / "run").read_text(encoding="utf-8")
