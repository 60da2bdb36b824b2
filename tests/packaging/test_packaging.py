"""Packaging files agree with each other and with the package: spec, entry points, desktop entry,
icon, build and install scripts. The bundle build itself is a check run on demand
(`bash packaging/build.sh`), too slow for the test suite."""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "saree-app.spec"
DESKTOP = PACKAGING / "saree-app.desktop"
BUILD_SH = PACKAGING / "build.sh"
INSTALL_SH = PACKAGING / "install.sh"


def _spec_constants() -> dict[str, Any]:
    """The spec's top-level NAME = literal constants (the spec itself runs only in PyInstaller)."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue  # computed values (paths, env lookups) are not constants
    return found


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def _desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # desktop entry keys are case-sensitive
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["Desktop Entry"], f"{path.name}: sections {parser.sections()}"
    return parser["Desktop Entry"]


def _imported_main(entry: Path) -> str:
    """'module:main' for the `from module import main` an entry script runs."""
    tree = ast.parse(entry.read_text(encoding="utf-8"))
    targets = [
        f"{node.module}:{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
        if alias.name == "main"
    ]
    assert len(targets) == 1, f"{entry.name} should import exactly one main(), found {targets}"
    return targets[0]


def test_spec_names_match_the_installed_commands() -> None:
    spec = _spec_constants()
    project = _pyproject()["project"]
    assert project["gui-scripts"][spec["APP_NAME"]] == _imported_main(PACKAGING / spec["GUI_ENTRY"])
    assert project["scripts"][spec["CLI_NAME"]] == _imported_main(PACKAGING / spec["CLI_ENTRY"])
    assert SPEC.name == f"{spec['APP_NAME']}.spec"


def test_spec_excludes_every_train_extra_package() -> None:
    excludes = set(_spec_constants()["EXCLUDES"])
    train = _pyproject()["project"]["optional-dependencies"]["train"]
    for requirement in train:
        distribution = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
        module = distribution.lower().replace("-", "_")
        assert module in excludes, f"train extra {distribution!r} ({module}) not excluded"
    assert "torch" in excludes


def test_spec_bundles_the_folders_the_app_looks_in(monkeypatch: pytest.MonkeyPatch) -> None:
    from saree_app import paths

    spec = _spec_constants()
    monkeypatch.setattr("sys._MEIPASS", "/bundle", raising=False)
    data_root = paths.root()
    wanted = {
        p.relative_to(data_root).parts[0]
        for p in (paths.ontology_dir(), paths.models_dir(), paths.resources_dir())
    }
    assert wanted == set(spec["DATA_DIRS"])
    assert paths.samples_dir().relative_to(data_root).parts[0] in spec["DATA_DIRS"]
    for pattern in spec["REQUIRED_DATA"]:
        assert pattern.split("/", 1)[0] in spec["DATA_DIRS"], pattern


def test_desktop_entry_launches_the_bundled_app() -> None:
    app = _spec_constants()["APP_NAME"]
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"].strip()
    assert entry["Exec"].split()[0] == app
    assert entry["TryExec"] == app
    assert entry["Icon"] == app
    assert entry["StartupWMClass"] == app
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    for suffix in ("png", "svg"):
        assert (PACKAGING / "icons" / f"{app}.{suffix}").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_desktop_entry_passes_desktop_file_validate() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_icons_are_square_and_drawn() -> None:
    icons = PACKAGING / "icons"
    with Image.open(icons / "saree-app.png") as png:
        assert png.size == (256, 256)
        assert png.mode == "RGBA"
        alpha = png.getchannel("A")
        assert alpha.getextrema() == (0, 255), "want opaque art and transparent corners"
        colours = png.convert("RGB").getcolors(maxcolors=256 * 256)
    assert colours is not None
    assert len(colours) > 50, "icon looks blank"
    with Image.open(icons / "saree-app.ico") as ico:
        sizes = set(ico.info["sizes"])
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= sizes


@pytest.mark.parametrize("script", [BUILD_SH, INSTALL_SH], ids=lambda p: p.name)
def test_shell_scripts_are_strict_and_parse(script: Path) -> None:
    assert script.stat().st_mode & stat.S_IXUSR, f"{script.name} is not executable"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_build_script_builds_the_spec_and_runs_the_self_test_cleanly() -> None:
    text = BUILD_SH.read_text(encoding="utf-8")
    app = _spec_constants()["APP_NAME"]
    assert "APP=" + app in text
    assert 'packaging/$APP.spec"' in text
    assert "-m PyInstaller" in text
    assert '".[package]"' in text
    assert "env -i" in text
    assert "--self-test" in text
    assert "--screenshots" in text
    assert "-ipath '*torch*'" in text
    assert "du -sh" in text
    for name in ("desktop", "png", "svg"):
        assert f"$APP.{name}" in text
    assert "packaging/install.sh" in text


def _swallowed_errors(path: Path) -> list[int]:
    """Lines of `except` handlers that do nothing (how packaging failures get hidden)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    quiet = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            body = node.body
            does_nothing = all(
                isinstance(s, ast.Pass)
                or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                for s in body
            )
            if does_nothing or node.type is None:
                quiet.append(node.lineno)
    return quiet


def test_packaging_code_hides_no_errors() -> None:
    files = [SPEC, *sorted(PACKAGING.rglob("*.py"))]
    assert len(files) >= 4
    hidden = {f.name: lines for f in files if (lines := _swallowed_errors(f))}
    assert not hidden, f"except blocks that swallow errors: {hidden}"


def test_swallowed_error_detector_finds_one(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("try:\n    f()\nexcept Exception:\n    pass\n", encoding="utf-8")
    assert _swallowed_errors(sample) == [3]


def _fake_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "unpacked" / "saree-app"
    bundle.mkdir(parents=True)
    for name in ("saree-app", "saree"):
        exe = bundle / name
        exe.write_text(f"#!/bin/sh\necho {name}\n", encoding="utf-8")
        exe.chmod(0o755)
    shutil.copy(DESKTOP, bundle / "saree-app.desktop")
    shutil.copy(PACKAGING / "icons" / "saree-app.png", bundle)
    shutil.copy(PACKAGING / "icons" / "saree-app.svg", bundle)
    shutil.copy(INSTALL_SH, bundle / "install.sh")
    return bundle


def _run_install(bundle: Path, prefix: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(prefix.parent)}
    env["PREFIX"] = str(prefix)
    return subprocess.run(
        ["bash", str(bundle / "install.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_install_script_installs_and_uninstalls_for_the_user(tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path)
    prefix = tmp_path / "home with space" / ".local"
    result = _run_install(bundle, prefix)
    assert result.returncode == 0, result.stdout + result.stderr

    dest = prefix / "opt" / "saree-app"
    assert (dest / "saree-app").is_file()
    for name in ("saree-app", "saree"):
        link = prefix / "bin" / name
        assert link.resolve() == (dest / name).resolve()
        run = subprocess.run([str(link)], capture_output=True, text=True, check=True)
        assert run.stdout.strip() == name
    menu_file = prefix / "share" / "applications" / "saree-app.desktop"
    menu = _desktop_entry(menu_file)
    assert menu["Exec"] == f'"{dest}/saree-app"'
    assert menu["TryExec"] == f"{dest}/saree-app"
    assert menu["Icon"] == "saree-app"
    icon = prefix / "share" / "icons" / "hicolor" / "256x256" / "apps" / "saree-app.png"
    assert icon.read_bytes() == (PACKAGING / "icons" / "saree-app.png").read_bytes()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(menu_file)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr

    result = _run_install(dest, prefix, "--uninstall")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not dest.exists()
    assert not (prefix / "bin" / "saree-app").exists()
    assert not (prefix / "share" / "applications" / "saree-app.desktop").exists()
    assert not icon.exists()


def test_install_script_refuses_outside_a_bundle(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(INSTALL_SH, lonely / "install.sh")
    result = _run_install(lonely, tmp_path / "prefix")
    assert result.returncode == 1
    assert "run me from the unpacked saree-app bundle" in result.stderr
    assert not (tmp_path / "prefix").exists()
