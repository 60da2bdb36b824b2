"""ModelManifest: reading the JSON, and clear refusals for broken manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_onnx import ATTRIBUTES, BASE, LABELS, edit_manifest

from saree_app.model.manifest import ModelError, ModelManifest


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
