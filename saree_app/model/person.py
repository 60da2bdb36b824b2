"""Where the saree can be in a photo of someone wearing it: the person, less the head.

The shipped part map learned from rendered sarees with nobody in them, and on real photos of a
saree being worn it paints walls, curtains, faces and hair as border or pallu (`saree bench
real`). Two small models from the mediapipe wheel (Apache-2.0) keep it on the cloth: a person
segmenter (a worn saree is part of the person it is worn by, so whatever is outside the person
is not the saree) and a face detector (the face and hair are not the saree either). A photo with
no person in it (a saree laid flat, folded, a close-up of the weave) is left to the part map
alone.

The models are converted to ONNX by `saree export-person-models` (saree_app/train/person.py);
this side needs only onnxruntime. Without them the part map is the model's own, as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from saree_app.model.manifest import ModelError, read_description, side_session, verified

FORMAT = "person-models/1"
MANIFEST_NAME = "person-models.json"
# A person counts as in the photo when the segmenter is sure of at least this share of it:
# below that, stray specks on a saree laid flat would cut pieces out of it (chosen on rendered
# flat photos and checked on real ones, where worn photos show 15-80% person).
MIN_PERSON_SHARE = 0.08
# ... and when that person covers at least this share of what the part map calls saree: the
# segmenter also takes some sarees held up or draped on a stand for a person, and a close-up of
# the weave must not lose the four fifths of its cloth the segmenter did not claim.
MIN_CLOTH_COVERED = 0.2
MIN_FACE_SCORE = 0.5
# A face is at most this share of the person's width (shoulders and arms are wider), and its
# centre within this share of the person's height from their top (a person cut off at the
# waist still has the face in the upper half).
MAX_FACE_WIDTH = 0.5
MAX_FACE_DEPTH = 0.45
# The head around a detected face, in face widths / heights: hair above, ears beside, the chin
# and neck below (the saree starts at the shoulder).
HEAD_SIDES = 0.25
HEAD_ABOVE = 0.6
HEAD_BELOW = 0.35


def default_path() -> Path:
    """models/person-models.json, beside the shipped model."""
    from saree_app.paths import models_dir

    return models_dir() / MANIFEST_NAME


@dataclass(frozen=True)
class PersonFound:
    """What the person models saw in one photo (all in photo proportions, 0..1)."""

    person: np.ndarray  # S x S float32, the segmenter's probability of person over the photo
    faces: tuple[tuple[float, float, float, float], ...]  # (left, top, right, bottom)

    @property
    def share(self) -> float:
        """Share of the photo the segmenter is sure is a person."""
        return float((self.person > 0.5).mean())

    @property
    def present(self) -> bool:
        return self.share >= MIN_PERSON_SHARE

    def region(self, size: tuple[int, int], cloth: np.ndarray | None = None) -> np.ndarray | None:
        """H x W bool at `size` (w, h): where the saree can be (the person, less the head).

        None when nobody is in the photo, or when `cloth` (H x W bool, where the part map sees
        saree) is given and the person covers too little of it: the part map alone decides.
        """
        if not self.present:
            return None
        w, h = size
        person = np.asarray(
            Image.fromarray(self.person.astype(np.float32), "F").resize(
                (w, h), Image.Resampling.BILINEAR
            )
        )
        keep = person > 0.5
        if (
            cloth is not None
            and cloth.any()
            and float((keep & cloth).sum() / cloth.sum()) < MIN_CLOTH_COVERED
        ):
            return None
        for left, top, right, bottom in self.faces:
            fw, fh = right - left, bottom - top
            x0 = int(max(0.0, left - HEAD_SIDES * fw) * w)
            x1 = int(np.ceil(min(1.0, right + HEAD_SIDES * fw) * w))
            y0 = int(max(0.0, top - HEAD_ABOVE * fh) * h)
            y1 = int(np.ceil(min(1.0, bottom + HEAD_BELOW * fh) * h))
            keep[y0:y1, x0:x1] = False
        return keep


def _anchors(size: int, layers: list[list[int]]) -> np.ndarray:
    """Anchor centres of mediapipe's short-range face detector (SSD, fixed anchor size)."""
    out: list[tuple[float, float]] = []
    for stride, per_cell in layers:
        cells = size // stride
        for y in range(cells):
            for x in range(cells):
                out.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
    return np.asarray(out, np.float32)


class PersonModels:
    """The person segmenter and face detector, checksums verified against their description."""

    def __init__(self, manifest_path: Path | str | None = None, threads: int | None = None):
        path = Path(manifest_path) if manifest_path is not None else default_path()
        raw = read_description(path, FORMAT, "the person models are missing", "person-models")
        try:
            seg, face = raw["segmenter"], raw["face_detector"]
            seg_path, face_path = (
                path.with_name(str(seg["onnx"])),
                path.with_name(str(face["onnx"])),
            )
            self.seg_size = int(seg["size"])
            self.face_size = int(face["size"])
            layers = [[int(s), int(n)] for s, n in face["anchor_layers"]]
            self.face_scale = float(face["box_scale"])
            want = {seg_path: str(seg["sha256"]), face_path: str(face["sha256"])}
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(path, f"the description is incomplete ({exc})") from exc
        for onnx_path, sha in want.items():
            verified(onnx_path, sha, "a person model file is missing")
        # One thread each unless told: they are small, and the main model needs the cores.
        self._seg = side_session(seg_path, threads or 1)
        self._face = side_session(face_path, threads or 1)
        self._anchors = _anchors(self.face_size, layers)
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def shipped(cls) -> PersonModels | None:
        """The models in models/, or None when they are not installed."""
        path = default_path()
        return cls(path) if path.is_file() else None

    def _run(self, session: object, array: np.ndarray) -> list[np.ndarray]:
        sess = session  # onnxruntime's session, typed loosely to keep the import lazy
        name = sess.get_inputs()[0].name  # type: ignore[attr-defined]
        with self._lock:
            return list(sess.run(None, {name: array}))  # type: ignore[attr-defined]

    def find(self, photo: Image.Image) -> PersonFound:
        """Run both models on one photo (any size; RGB)."""
        img = photo if photo.mode == "RGB" else photo.convert("RGB")
        # The segmenter takes the whole photo squeezed to its square, values 0..1.
        small = img.resize((self.seg_size, self.seg_size), Image.Resampling.BILINEAR)
        x = (np.asarray(small, np.float32) / 255.0).transpose(2, 0, 1)[None]
        person = np.clip(self._run(self._seg, x)[0][0, 0].astype(np.float32), 0.0, 1.0)
        found = PersonFound(person, ())
        if not found.present:
            return found  # nobody to keep the saree inside: the faces would not be used
        boxes = self._faces(img, (0.0, 0.0, 1.0, 1.0))
        # The short-range detector misses the small face of someone photographed head to toe:
        # look again at the top of the person, a square as wide as they are.
        ys, xs = np.nonzero(person > 0.5)
        left, right = xs.min() / person.shape[1], (xs.max() + 1) / person.shape[1]
        top = ys.min() / person.shape[0]
        w, h = img.size
        width = (right - left) * 1.2
        height = width * w / h  # square in pixels
        cx = (left + right) / 2
        crop = (
            max(0.0, cx - width / 2),
            max(0.0, top - 0.05 * height),
            min(1.0, cx + width / 2),
            min(1.0, top + 0.95 * height),
        )
        if crop[3] - crop[1] < 0.9:  # the top of the person is not the whole photo already
            boxes += self._faces(img, crop)
        kept: list[tuple[float, float, float, float]] = []
        person_w = right - left
        person_h = (ys.max() + 1) / person.shape[0] - top
        for box in boxes:
            # A face belongs at the top of the person and is narrower than them: a "face"
            # found on the pattern of the cloth (it happens on printed and woven figures)
            # would cut a hole in the saree.
            wide = (box[2] - box[0]) > MAX_FACE_WIDTH * person_w
            low = (box[1] + box[3]) / 2 > top + MAX_FACE_DEPTH * person_h
            if wide or low:
                continue
            if all(_overlap(box, other) <= 0.3 for other in kept):
                kept.append(box)
        return PersonFound(person, tuple(kept))

    def _faces(
        self, img: Image.Image, crop: tuple[float, float, float, float]
    ) -> list[tuple[float, float, float, float]]:
        """Faces inside `crop` (photo proportions), boxes in photo proportions, best first."""
        w, h = img.size
        px = (
            round(crop[0] * w),
            round(crop[1] * h),
            max(round(crop[2] * w), round(crop[0] * w) + 1),
            max(round(crop[3] * h), round(crop[1] * h) + 1),
        )
        part = img.crop(px)
        cw, ch = part.size
        # The detector takes the picture letterboxed into its square, values -1..1.
        side = max(cw, ch)
        square = Image.new("RGB", (side, side))
        ox, oy = (side - cw) // 2, (side - ch) // 2
        square.paste(part, (ox, oy))
        small = square.resize((self.face_size, self.face_size), Image.Resampling.BILINEAR)
        x = (np.asarray(small, np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        outs = self._run(self._face, x)
        boxes_raw, scores_raw = sorted(outs, key=lambda a: -a.shape[-1])
        scores = 1.0 / (1.0 + np.exp(-np.clip(scores_raw[0, :, 0].astype(np.float64), -80, 80)))
        reg = boxes_raw[0]
        found: list[tuple[float, float, float, float]] = []
        for i in np.argsort(-scores):
            if scores[i] < MIN_FACE_SCORE:
                break
            cx = self._anchors[i, 0] + reg[i, 0] / self.face_scale
            cy = self._anchors[i, 1] + reg[i, 1] / self.face_scale
            bw, bh = reg[i, 2] / self.face_scale, reg[i, 3] / self.face_scale
            # Square coordinates -> crop pixels -> photo proportions.
            box = (
                float(((cx - bw / 2) * side - ox + px[0]) / w),
                float(((cy - bh / 2) * side - oy + px[1]) / h),
                float(((cx + bw / 2) * side - ox + px[0]) / w),
                float(((cy + bh / 2) * side - oy + px[1]) / h),
            )
            if all(_overlap(box, other) <= 0.3 for other in found):
                found.append(box)
        return found


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two boxes (left, top, right, bottom)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0
