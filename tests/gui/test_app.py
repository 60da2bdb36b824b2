"""Entry points: `saree-app --self-test`, `saree gui` argument passing."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_self_test_passes_with_a_working_model(
    tiny_model: Path, capsys, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.gui.conftest import write_photos

    photo = write_photos(tmp_path, 1)[0]
    monkeypatch.setattr("saree_app.gui.samples.bundled_samples", lambda: [photo])
    from saree_app.gui.selftest import run_self_test

    assert run_self_test(tiny_model) == 0
    assert "self-test passed" in capsys.readouterr().out


def test_self_test_says_what_failed(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui.selftest import run_self_test

    assert run_self_test(tmp_path / "no-such-model.json") == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "model" in out


def test_self_test_catches_a_malformed_answer() -> None:
    from types import SimpleNamespace

    import numpy as np

    from saree_app.gui.selftest import _check_prediction

    bad = SimpleNamespace(
        fused=SimpleNamespace(
            ranking=[
                SimpleNamespace(tradition="A", probability=0.2),
                SimpleNamespace(tradition="B", probability=0.7),
            ]
        ),
        parts=[SimpleNamespace(part="body")],
        photo_size=(10, 10),
        part_mask_at=lambda size: np.zeros((size[1], size[0]), np.uint8),
        has_heatmap=lambda t: False,
        embedding=np.ones(4, np.float32),
        part_embeddings=np.ones((3, 4)),
        uncertain=True,
        uncertain_reasons=(),
    )
    problems: list[str] = []
    _check_prediction(bad, problems)
    joined = " ".join(problems)
    assert "not sorted" in joined
    assert "body/border/pallu" in joined
    assert "L2" in joined
    assert "uncertain without a reason" in joined


def test_saree_gui_passes_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from saree_app import cli

    seen: list[list[str]] = []
    monkeypatch.setattr("saree_app.gui.app.main", lambda argv=None: seen.append(list(argv)) or 0)
    assert cli.main(["gui", "--collection", "c.saree", "--self-test"]) == 0
    assert seen == [["--collection", "c.saree", "--self-test"]]


def test_no_display_is_a_message_not_an_abort(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui import app

    monkeypatch.setattr(app.sys, "platform", "linux")
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert app.main([]) == 2
    assert "no display" in capsys.readouterr().err


def test_stall_benchmark_browse_mode_runs(qapp, capsys) -> None:  # type: ignore[no-untyped-def]
    from saree_app.gui import bench_stall

    assert bench_stall.main(["--browse", "300"]) == 0
    out = capsys.readouterr().out
    assert "300 items" in out and "scroll frame" in out
