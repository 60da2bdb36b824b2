"""Export the person models: mediapipe's selfie segmenter and short-range face detector, as ONNX.

Nothing is trained here. Both models ship inside the mediapipe wheel under the Apache-2.0
licence; this takes them out of a wheel file (mediapipe 0.10.x still carries them; pip can
fetch one with `pip download --no-deps mediapipe==0.10.14`), converts them with
saree_app/train/tflite_onnx.py, checks the ONNX output against nothing but itself (the
conversion is exact in float; see models/MODEL_CARD.md for how it was compared with TFLite),
and writes person-models.json with their checksums and where they came from. The runtime side
is saree_app/model/person.py.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from saree_app.model.manifest import sha256_of
from saree_app.model.person import FORMAT, MANIFEST_NAME
from saree_app.train.tflite_onnx import convert

SEGMENTER = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
FACE_DETECTOR = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
LICENSE_NAME = "person-models-LICENSE.txt"


class WheelError(ValueError):
    """The file is not a mediapipe wheel that carries the models."""


def _member(wheel: zipfile.ZipFile, name: str, what: str) -> bytes:
    try:
        return wheel.read(name)
    except KeyError as exc:
        raise WheelError(
            f"the wheel has no {what} ({name}); mediapipe 0.10.x wheels carry it"
        ) from exc


def export_person_models(wheel_path: Path, out_dir: Path) -> Path:
    """Write person-segmenter.onnx, face-detector.onnx, their description and the licence."""
    try:
        wheel = zipfile.ZipFile(wheel_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WheelError(f"{wheel_path} is not a wheel file ({exc})") from exc
    with wheel:
        seg = _member(wheel, SEGMENTER, "person segmenter")
        face = _member(wheel, FACE_DETECTOR, "face detector")
        licence_name = next((n for n in wheel.namelist() if n.endswith(".dist-info/LICENSE")), None)
        if licence_name is None:
            raise WheelError("the wheel carries no LICENSE file")
        licence = wheel.read(licence_name)
        version = licence_name.split("/")[0].removesuffix(".dist-info")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        seg_tfl, face_tfl = Path(tmp, "seg.tflite"), Path(tmp, "face.tflite")
        seg_tfl.write_bytes(seg)
        face_tfl.write_bytes(face)
        seg_onnx = convert(seg_tfl, out_dir / "person-segmenter.onnx")
        face_onnx = convert(face_tfl, out_dir / "face-detector.onnx")
    (out_dir / LICENSE_NAME).write_bytes(licence)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "source": {
            "package": version,
            "wheel": wheel_path.name,
            "licence": "Apache-2.0 (" + LICENSE_NAME + ")",
            "segmenter": {"path": SEGMENTER, "sha256": hashlib.sha256(seg).hexdigest()},
            "face_detector": {"path": FACE_DETECTOR, "sha256": hashlib.sha256(face).hexdigest()},
            "made_by": "saree export-person-models --wheel WHEEL (saree_app/train/person.py)",
        },
        "segmenter": {
            "onnx": seg_onnx.name,
            "sha256": sha256_of(seg_onnx),
            "size": 256,
            "input": "RGB 0..1, the whole photo squeezed to the square",
            "output": "probability of person, 256 x 256",
        },
        "face_detector": {
            "onnx": face_onnx.name,
            "sha256": sha256_of(face_onnx),
            "size": 128,
            "input": "RGB -1..1, the photo letterboxed into the square",
            # SSD anchors of mediapipe's short-range face detector: (stride, anchors per cell).
            "anchor_layers": [[8, 2], [16, 6]],
            "box_scale": 128.0,
        },
    }
    path = out_dir / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path
