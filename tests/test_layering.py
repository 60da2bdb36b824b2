"""The dependency rules of DESIGN.md, checked on every module's imports (including lazy ones)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "saree_app"

# Which first-level parts of saree_app each part may import. Top-level modules (cli, commands,
# bench) are entry points and may import anything except where noted below.
ALLOWED: dict[str, set[str]] = {
    "imaging": set(),
    "knowledge": set(),
    "synth": {"knowledge", "imaging"},
    "model": {"knowledge", "imaging"},
    "collection": {"model", "knowledge", "imaging"},
    "train": {"synth", "knowledge", "imaging", "model"},
    "gui": {"collection", "knowledge", "model", "imaging", "synth"},
}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names if node.module == "saree_app"]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(path)
        rel = path.relative_to(PACKAGE.parent)
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "PySide6" and part != "gui":
                found.append(f"{rel}: imports PySide6 outside saree_app/gui")
            if top == "torch" and part != "train":
                found.append(f"{rel}: imports torch outside saree_app/train")
            if top == "saree_app" and "." in name:
                target = name.split(".")[1]
                if target == "gui" and part not in ("gui", "commands"):
                    found.append(f"{rel}: imports saree_app.gui (nothing imports the GUI)")
                elif (
                    part in ALLOWED
                    and target in ALLOWED
                    and target != part
                    and target not in ALLOWED[part]
                ):
                    found.append(f"{rel}: {part} may not import {target}")
    return found


def test_dependency_rules_hold() -> None:
    assert _violations() == []


def test_checker_catches_a_violation(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "saree_app"
    (fake / "knowledge").mkdir(parents=True)
    (fake / "knowledge" / "bad.py").write_text("import torch\nfrom PySide6 import QtCore\n")
    (fake / "imaging.py").write_text("from saree_app.collection import catalog\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    found = _violations()
    assert any("torch" in f for f in found)
    assert any("PySide6" in f for f in found)
    assert any("imaging may not import collection" in f for f in found)
