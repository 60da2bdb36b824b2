"""A catalogue's model: the shipped one or one retrained from it; listed, switched, refused.

The "retrained" model here is a second tiny model (other weights, so its own sha256) whose
manifest says what `saree train --catalog` writes (training.catalogue, the photos used, the
held-back figures); training one for real is test_retrain.py's job.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from collection_fakes import write_photo

from saree_app.cli import main as saree
from saree_app.collection import models
from saree_app.collection.catalog import Catalog
from saree_app.collection.models import (
    ModelChoiceError,
    check_model,
    chosen_model,
    find_models,
    model_file,
    remember_model,
)


@pytest.fixture(scope="session")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second tiny model, as `saree train --catalog collection.saree` leaves it."""
    pytest.importorskip("torch")
    from saree_app.train.export import export_tiny_model

    root = tmp_path_factory.mktemp("retrained")
    manifest = export_tiny_model(root / "collection-model", seed=1, name="collection-model")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["training"] = {"catalogue": "collection.saree", "photos": {"train": 36, "heldout": 12}}
    data["evaluation"] = {"heldout": {"photos": 12, "top1": 0.75, "balanced_accuracy": 0.8333}}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    return manifest


def _beside(catalog: Path, manifest: Path) -> Path:
    """The retrained model copied into the catalogue's `-model` folder; its manifest."""
    folder = catalog.with_name(catalog.stem + "-model")
    shutil.copytree(manifest.parent, folder)
    return folder / manifest.name


@pytest.fixture
def shipped(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny model stands in for the shipped one."""
    from saree_app.model import predict

    monkeypatch.setattr(predict, "default_model_path", lambda: tiny_model)
    return tiny_model


def test_the_shipped_and_retrained_models_are_listed_with_their_report(
    tmp_path: Path, shipped: Path, retrained: Path
) -> None:
    catalog = tmp_path / "collection.saree"
    Catalog(catalog).close()
    mine = _beside(catalog, retrained)
    (mine.parent / "report.json").write_text("{}")  # not a model: not listed
    found = find_models(catalog)
    assert [c.shipped for c in found] == [True, False]
    assert found[0].path == shipped and found[0].title == "Shipped model"
    assert found[1].path == mine
    assert found[1].sha256 == check_model(mine).sha256 != found[0].sha256
    assert found[1].summary.startswith(
        "right on 9 of 12 of your confirmed photos held back · learnt from 36 confirmed photos · "
    )
    assert found[1].problem is None


def test_the_choice_is_remembered_per_catalogue_and_the_shipped_one_is_none(
    tmp_path: Path, shipped: Path, retrained: Path
) -> None:
    a, b = tmp_path / "a.saree", tmp_path / "b.saree"
    assert chosen_model(a) is None
    remember_model(a, retrained.with_suffix(".onnx"))
    assert chosen_model(a) == retrained
    assert chosen_model(b) is None
    remember_model(a, shipped)
    assert chosen_model(a) is None
    # Chosen once, listed for good (even from another folder).
    assert retrained in [c.path for c in find_models(a)]
    model_file(a).write_text("{ not json")
    assert chosen_model(a) is None  # a damaged side file forgets, never blocks


@pytest.mark.parametrize("damage", ["manifest", "onnx", "missing", "labels"])
def test_a_broken_or_mismatched_model_is_refused_in_one_line(
    tmp_path: Path, retrained: Path, damage: str
) -> None:
    folder = tmp_path / "m"
    shutil.copytree(retrained.parent, folder)
    manifest = folder / retrained.name
    onnx = manifest.with_suffix(".onnx")
    if damage == "manifest":
        manifest.write_text("{ half a file")
    elif damage == "onnx":
        with onnx.open("ab") as fh:
            fh.write(b"\0")
    elif damage == "missing":
        onnx.unlink()
    else:
        data = json.loads(manifest.read_text())
        data["labels"] = list(reversed(data["labels"]))  # swapped: the contract no longer holds
        manifest.write_text(json.dumps(data))
    with pytest.raises(ModelChoiceError) as err:
        check_model(manifest)
    text = str(err.value)
    assert "\n" not in text and str(folder) in text
    listed = models.choice_for(manifest)
    assert listed.problem == text and not listed.sha256


# ---- the commands ---------------------------------------------------------------------------


def _imported(tmp_path: Path, model: Path, n: int = 6) -> Path:
    catalog = tmp_path / "collection.saree"
    for i in range(n):
        write_photo(tmp_path / "photos" / f"{i}.jpg", (40 * i % 255, 90, 140), i, 96)
    argv = ["import", str(tmp_path / "photos"), "--catalog", str(catalog), "--model", str(model)]
    assert saree([*argv, "--quiet"]) == 0
    return catalog


def test_saree_model_lists_switches_and_import_and_fewshot_follow(
    tmp_path: Path, shipped: Path, retrained: Path, capsys: Any
) -> None:
    catalog = _imported(tmp_path, shipped)
    mine = _beside(catalog, retrained)
    capsys.readouterr()
    assert saree(["model", "--catalog", str(catalog)]) == 0
    out = capsys.readouterr().out
    assert f"* Shipped model: {shipped}" in out
    assert f"  Retrained model (collection-model): {mine}" in out
    assert "6 of 6 photos answered" in out and "0 of 6 photos answered" in out

    assert saree(["model", "--catalog", str(catalog), "--use", str(mine)]) == 0
    assert "0 of 6 photos have its answers" in capsys.readouterr().out
    assert chosen_model(catalog) == mine
    # fewshot follows the catalogue's model, and says what to do when it has no answers yet.
    assert saree(["fewshot", "--catalog", str(catalog)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no photo in" in err and "\n" not in err
    # import classifies with the catalogue's model when none is given.
    photos = str(tmp_path / "photos")
    assert saree(["import", photos, "--catalog", str(catalog), "--quiet"]) == 0
    assert "6 added" in capsys.readouterr().out
    sha = check_model(mine).sha256
    with Catalog(catalog) as cat:
        assert len(cat.predictions(sha)) == 6
        cat.set_label(1, tradition="Banarasi")
        cat.set_label(2, tradition="Kanchipuram")
    assert saree(["fewshot", "--catalog", str(catalog), "--apply"]) == 0
    with Catalog(catalog) as cat:
        assert all("fewshot" in p.result for pid, p in cat.predictions(sha).items() if pid > 2)
        assert not any(
            "fewshot" in p.result for p in cat.predictions(check_model(shipped).sha256).values()
        )
    # --model names another model's answers; back to the shipped model.
    assert saree(["fewshot", "--catalog", str(catalog), "--apply", "--model", str(shipped)]) == 0
    assert saree(["model", "--catalog", str(catalog), "--shipped"]) == 0
    assert chosen_model(catalog) is None
    capsys.readouterr()
    assert saree(["model", "--catalog", str(catalog)]) == 0
    assert f"* Shipped model: {shipped}" in capsys.readouterr().out


def test_saree_model_refuses_a_broken_model_and_keeps_the_choice(
    tmp_path: Path, shipped: Path, retrained: Path, capsys: Any
) -> None:
    catalog = _imported(tmp_path, shipped, n=2)
    mine = _beside(catalog, retrained)
    assert saree(["model", "--catalog", str(catalog), "--use", str(mine)]) == 0
    bad = tmp_path / "bad"
    shutil.copytree(retrained.parent, bad)
    (bad / retrained.name).write_text('{"format": "saree-model/1"}')
    capsys.readouterr()
    assert saree(["model", "--catalog", str(catalog), "--use", str(bad / retrained.name)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("saree model: cannot switch: ") and "\n" not in err
    assert "keeps its model" in err
    assert chosen_model(catalog) == mine
    assert saree(["fewshot", "--catalog", str(catalog), "--model", str(bad / retrained.name)]) == 2
    assert "cannot use the model" in capsys.readouterr().err
