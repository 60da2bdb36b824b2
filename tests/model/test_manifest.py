"""ModelManifest: reading the JSON, and clear refusals for broken manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny_onnx
from tiny_onnx import ATTRIBUTES, BASE, LABELS, edit_manifest

from saree_app.model.manifest import (
    OUTPUTS,
    ModelError,
    ModelManifest,
    contract_of,
    with_contract,
)


def test_reads_the_tiny_manifest(tiny_manifest: Path) -> None:
    m = ModelManifest.load(tiny_manifest)
    assert m.labels == LABELS
    assert m.attributes == ATTRIBUTES
    assert m.label_iris[0] == BASE + LABELS[0]
    assert m.preprocessing.size == 64
    assert m.preprocessing.mean == pytest.approx((0.485, 0.456, 0.406))
    assert m.onnx_path == tiny_manifest.parent / "tiny.onnx"
    assert len(m.prototypes) == len(LABELS)
    assert m.open_set == {}


def test_the_onnx_path_finds_its_manifest(tiny_manifest: Path) -> None:
    assert ModelManifest.load(tiny_manifest.with_suffix(".onnx")).labels == LABELS


def test_missing_manifest_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        ModelManifest.load(tmp_path / "nope.json")
    assert "nope.json" in str(err.value)
    assert "does not exist" in str(err.value)


def test_invalid_json_says_where(model_copy: Path) -> None:
    model_copy.write_text('{"format": "saree-model/1",\n "labels": [}')
    with pytest.raises(ModelError, match="line 2"):
        ModelManifest.load(model_copy)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"labels": None}, 'no "labels"'),
        ({"format": "other/2"}, "unknown manifest format"),
        ({"sha256": "abc"}, "64-digit"),
        ({"labels": ["Kanchipuram"]}, "not an IRI of the saree ontology"),
        ({"labels": [BASE + "Kanchipuram", BASE + "Kanchipuram"]}, "Kanchipuram twice"),
        ({"outputs": ["logits", "seg"]}, "lacks part_logits"),
        ({"prototypes": [[0.0, 1.0]]}, '"prototypes" must be 5 rows of 16'),
        ({"input": {"size": 64}}, '"input" needs'),
        ({"parts": ["body", "pallu", "border"]}, '"parts"'),
    ],
)
def test_broken_manifests_are_refused(model_copy: Path, changes: dict, expected: str) -> None:
    edit_manifest(model_copy, **changes)
    with pytest.raises(ModelError) as err:
        ModelManifest.load(model_copy)
    assert expected in str(err.value)
    assert str(model_copy) in str(err.value)


def test_open_set_written_back_keeps_everything_else(model_copy: Path) -> None:
    m = ModelManifest.load(model_copy)
    m.write(m.with_open_set({"thresholds": {"margin": 0.2}}))
    again = ModelManifest.load(model_copy)
    assert again.open_set == {"thresholds": {"margin": 0.2}}
    assert again.labels == m.labels
    assert again.sha256 == m.sha256


def _swap_first_two(path: Path) -> None:
    data = json.loads(path.read_text())
    labels = data["labels"]
    edit_manifest(path, labels=[labels[1], labels[0], *labels[2:]])


def test_a_tampered_manifest_is_refused(tmp_path: Path) -> None:
    path = tiny_onnx.build(tmp_path, contract=True)
    assert ModelManifest.load(path).labels == LABELS
    _swap_first_two(path)
    with pytest.raises(ModelError) as err:
        ModelManifest.load(path)
    message = str(err.value)
    assert "do not belong together" in message
    assert "tiny.json" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "changes",
    [
        {"attributes": [BASE + a for a in reversed(ATTRIBUTES)]},
        {"embedding_dim": 17},
        {"outputs": [*OUTPUTS, "extra"]},
    ],
)
def test_every_meaning_entry_is_covered(tmp_path: Path, changes: dict) -> None:
    path = edit_manifest(tiny_onnx.build(tmp_path, contract=True), **changes)
    with pytest.raises(ModelError, match="do not belong together"):
        ModelManifest.load(path)


def test_calibration_entries_may_change_under_a_contract(tmp_path: Path) -> None:
    path = tiny_onnx.build(tmp_path, contract=True)
    m = ModelManifest.load(path)
    m.write(m.with_open_set({"thresholds": {"margin": 0.3}}))
    edit_manifest(path, fusion={"visual": 0.5}, evaluation={"test": {"top1": 0.9}})
    assert ModelManifest.load(path).open_set == {"thresholds": {"margin": 0.3}}


def test_a_manifest_without_a_contract_is_still_read(model_copy: Path) -> None:
    # Written before contracts existed: the .onnx checksum is all it has, and still suffices.
    assert "contract" not in json.loads(model_copy.read_text())
    assert ModelManifest.load(model_copy).labels == LABELS


def test_the_shipped_manifest_carries_a_valid_contract() -> None:
    shipped = Path(__file__).resolve().parents[2] / "models" / "saree-model.json"
    data = json.loads(shipped.read_text(encoding="utf-8"))
    assert data["contract"] == contract_of(data)
    # Every entry but the contract is the one the model was exported and measured with.
    assert list(with_contract(data).items()) == list(data.items())
