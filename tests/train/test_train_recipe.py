"""The default recipe: its data plan (held-out families never reach train, val or test) and
its two training stages."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from saree_app.train import recipe


def test_training_splits_never_see_a_held_out_family() -> None:
    for split in ("train", "val", "test"):
        for seed in range(200):
            fam = recipe._families(split, "Banarasi", seed)
            for kind, names in recipe.HELDOUT_FAMILIES.items():
                assert fam[kind] not in names, (split, seed, fam)


def test_every_heldout_photo_has_a_held_out_family() -> None:
    seen_kinds = set()
    for seed in range(200):
        fam = recipe._families("heldout", "Kanchipuram", seed)
        held = [k for k, names in recipe.HELDOUT_FAMILIES.items() if fam[k] in names]
        assert held, fam
        seen_kinds.update(held)
    assert seen_kinds == set(recipe.HELDOUT_FAMILIES)


def test_withheld_traditions_are_not_trained_on() -> None:
    names = recipe.traditions()
    assert len(names) == 12
    assert not set(names) & set(recipe.WITHHELD)
    assert recipe._families("train", "Banarasi", 3) == recipe._families("train", "Banarasi", 3)


def test_the_recipe_trains_two_stages_and_resumes_without_redoing_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The orchestration only (the real stages take hours): what each stage is asked to do,
    that the second starts from the first's segmentation, and that a finished first stage is
    not run again when the recipe resumes."""
    import argparse
    import json

    import torch

    from saree_app.train import cli

    calls: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        """Writes what a finished `saree train` leaves: final.pt in its cache, a manifest."""
        calls.append(list(argv))
        cache, out = Path(opt(argv, "--cache")), Path(opt(argv, "--out"))
        cache.mkdir(parents=True, exist_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        final = {"training": {"command": "saree train " + " ".join(argv), "history": [1]}}
        torch.save(final, cache / "final.pt")
        (out / "saree-model.json").write_text(json.dumps({"training": {}}), encoding="utf-8")
        return 0

    def opt(argv: list[str], name: str) -> str:
        return argv[argv.index(name) + 1]

    monkeypatch.setattr(cli, "main", fake_main)
    monkeypatch.setattr(recipe, "render_data", lambda *a, **k: None)
    monkeypatch.setattr(recipe, "_benchmark", lambda manifest: None)
    args = argparse.Namespace(
        data=[tmp_path / "data"], cache=tmp_path / "cache", out=tmp_path / "models",
        name="saree-model", per_class=None, epochs=None, threads=None, device="auto",
        fresh=False, white_balance=False,
        argv=["--recipe", "default", "--out", "my models"],
    )  # fmt: skip
    assert recipe.run(args) == 0
    assert len(calls) == 2
    first, second = calls
    assert opt(first, "--seg-epochs") == str(recipe.SEG_EPOCHS) and "--eval" not in first
    assert "--init-segmentation" not in first and "--surfaces" not in first
    assert opt(second, "--init-segmentation") == str(tmp_path / "cache" / "final.pt")
    assert opt(second, "--surfaces") == "varied" and "--eval" in second
    assert opt(second, "--seg-epochs") == str(recipe.STAGE2_SEG_EPOCHS)
    assert opt(second, "--lr") == str(recipe.STAGE2_LR)
    assert opt(second, "--out") == str(tmp_path / "models")
    assert opt(second, "--cache") != opt(first, "--cache")  # other copies: their own cache
    assert opt(second, "--seg-edges") == str(recipe.SEG_EDGES) and "--seg-edges" not in first
    assert opt(second, "--seg-zooms") == recipe.SEG_ZOOMS and "--seg-zooms" not in first
    assert ("--seg-zooms-mirrored" in second) == recipe.SEG_ZOOMS_MIRRORED
    assert "--seg-zooms-mirrored" not in first
    manifest = json.loads((tmp_path / "models" / "saree-model.json").read_text())
    # Recorded so that it can be pasted into a shell: quoted as `saree train` quotes its own.
    assert manifest["training"]["recipe_command"] == (
        "saree train --recipe default --out 'my models'"
    )
    assert manifest["training"]["first_stage"]["command"] == "saree train " + " ".join(first)

    calls.clear()
    assert recipe.run(args) == 0
    assert calls == [second]  # the finished first stage is not trained again

    # A damaged final.pt (a copy cut short, a stray file) is not a finished first stage: the
    # recipe trains it again instead of stopping with an unpickling traceback.
    (tmp_path / "cache" / "final.pt").write_bytes(b"\x80\x02 cut short")
    calls.clear()
    assert recipe.run(args) == 0
    assert calls == [first, second]

    # One the system will not let us read may still hold the first stage's hours of training:
    # the recipe stops and says so instead of training it again over it.
    import errno

    from saree_app.train import loop

    real_load = torch.load

    def refused(path: Path, *a: object, **kw: object) -> object:
        if Path(path).name == "final.pt":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_load(path, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(loop.torch, "load", refused)
    before = (tmp_path / "cache" / "final.pt").read_bytes()
    calls.clear()
    assert recipe.run(args) == 2
    assert calls == []
    assert "cannot be read (Permission denied)" in capsys.readouterr().err
    assert (tmp_path / "cache" / "final.pt").read_bytes() == before
