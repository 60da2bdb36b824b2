"""ModelManifest: labels, attribute ids, preprocessing, output names and checksum."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saree_app.imaging import Preprocessing
from saree_app.model.zooms import NO_ZOOMS, read_zooms

FORMAT = "saree-model/1"
OUTPUTS: tuple[str, ...] = (
    "logits",
    "part_logits",
    "seg",
    "cam",
    "attributes",
    "embedding",
    "part_embeddings",
)
PARTS: tuple[str, ...] = ("body", "border", "pallu")
SEG_CLASSES: tuple[str, ...] = ("background", "body", "border", "pallu")
_BASE_IRI = "https://saree-provenance.example/ns#"
# The manifest entries that say what the model's numbers mean: change one and the same .onnx
# gives different answers (two labels swapped call a Paithani "Bandhani"). Calibration entries
# (open_set, fusion, evaluation) are rewritten by tools and are not part of it.
MEANING_KEYS: tuple[str, ...] = (
    "labels",
    "attributes",
    "parts",
    "seg_classes",
    "input",
    "outputs",
    "embedding_dim",
)
# Key of the ONNX metadata entry in which export records the meaning the model was trained for.
ONNX_MEANING_KEY = "saree_meaning"
# A model retrained from a catalogue names the confirmed photos its heads were fitted on, in
# its manifest's training.trained_photos, by the first TRAINED_DIGITS hex digits of each photo's
# content sha256: enough to tell a collection's photos apart, a quarter of the whole. Written
# by train/retrain.py, read by collection/models.trained_photos.
TRAINED_DIGITS = 16
_CONTRACT_VERSION = "saree-contract/1"


class ModelError(Exception):
    """A model that cannot be used: which file, and what is wrong with it, in plain words."""

    def __init__(self, file: Path | str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = str(file)
        self.message = message


def _term_id(iri: str) -> str:
    # The manifest stores IRIs; everything inside the app speaks term ids ("Kanchipuram").
    return iri[len(_BASE_IRI) :] if iri.startswith(_BASE_IRI) else iri


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so a large model does not sit in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_description(path: Path, fmt: str, missing: str, kind: str) -> dict[str, Any]:
    """The JSON description of a model beside the main one (cloth features, person models):
    `missing` is said when the file is not there, `kind` names what it should describe."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(path, missing) from exc
    except (OSError, ValueError) as exc:
        raise ModelError(path, f"cannot be read ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("format") != fmt:
        raise ModelError(path, f'not a {kind} description (format "{fmt}")')
    return raw


def verified(onnx_path: Path, want: str, missing: str) -> str:
    """`onnx_path`'s sha256, refused unless the file is there and matches its description."""
    if not onnx_path.is_file():
        raise ModelError(onnx_path, missing)
    sha = sha256_of(onnx_path)
    if sha != want:
        raise ModelError(onnx_path, "the file does not match its description (checksum differs)")
    return sha


def side_session(path: Path, threads: int | None) -> Any:
    """An onnxruntime session for a small model beside the main one, on the CPU.

    No spinning: the decode threads need the cores between runs (as the main model).
    `threads` None leaves onnxruntime its own choice of intra-op threads."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.inter_op_num_threads = 1
    if threads:
        opts.intra_op_num_threads = threads
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    # The memory arena (as the main model's session): without it every run asks the system
    # for its activations afresh. These models' runs are small and of a bounded size.
    opts.enable_cpu_mem_arena = True
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(path, f"onnxruntime cannot load the model ({exc})") from exc


def meaning_of(data: dict[str, Any]) -> dict[str, Any]:
    """The manifest's meaning entries (MEANING_KEYS), defaults filled in as the loader does."""
    defaults: dict[str, Any] = {"parts": list(PARTS), "seg_classes": list(SEG_CLASSES)}
    return {key: data.get(key, defaults.get(key)) for key in MEANING_KEYS}


def meaning_json(data: dict[str, Any]) -> str:
    """meaning_of(data) as canonical JSON: the same meaning always gives the same text."""
    return json.dumps(meaning_of(data), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def contract_of(data: dict[str, Any]) -> str:
    """The fingerprint that binds a manifest's meaning to one .onnx (its "sha256" entry).

    A shipped .onnx cannot be re-exported to carry it (its sha256 is the model's identity in
    every catalogue), so the manifest carries it; any edit to a meaning entry breaks it.
    """
    text = f"{_CONTRACT_VERSION}\n{str(data.get('sha256', '')).lower()}\n{meaning_json(data)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_contract(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with its "contract" entry (re)computed, placed right after "sha256"."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "contract":
            continue
        out[key] = value
        if key == "sha256":
            out["contract"] = contract_of(data)
    if "contract" not in out:
        out["contract"] = contract_of(data)
    return out


def meaning_differences(model: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Plain words for how two meanings differ, e.g. "labels differ (position 3: ...)"."""
    found = []
    for key in MEANING_KEYS:
        a, b = model.get(key), manifest.get(key)
        if a == b:
            continue
        verb = "differ" if key.endswith("s") else "differs"
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            i = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            x = _term_id(a[i]) if isinstance(a[i], str) else a[i]
            y = _term_id(b[i]) if isinstance(b[i], str) else b[i]
            found.append(f"{key} {verb} (position {i + 1}: the model has {x}, the manifest {y})")
        else:
            found.append(f"{key} {verb}")
    return found


@dataclass(frozen=True)
class ModelManifest:
    """The JSON next to the .onnx, read once; the only place preprocessing constants live."""

    path: Path
    name: str
    onnx_path: Path
    sha256: str
    labels: tuple[str, ...]  # tradition term ids, in the order of the logits
    attributes: tuple[str, ...]  # attribute term ids, in the order of the attribute logits
    parts: tuple[str, ...]
    seg_classes: tuple[str, ...]
    input_name: str
    preprocessing: Preprocessing
    outputs: tuple[str, ...]
    embedding_dim: int
    prototypes: tuple[tuple[float, ...], ...] = ()
    fusion: dict[str, Any] = field(default_factory=dict)
    open_set: dict[str, Any] = field(default_factory=dict)
    # Zooms whose part maps are averaged (saree_app.model.zooms); (1.0,): the photo once.
    seg_zooms: tuple[float, ...] = NO_ZOOMS
    seg_zooms_mirrored: bool = False  # the shrunk copies are read mirrored left-right
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label_iris(self) -> tuple[str, ...]:
        """The labels as the manifest spells them (ontology IRIs)."""
        return tuple(self.raw.get("labels", ()))

    @classmethod
    def load(cls, path: Path | str) -> ModelManifest:
        """Read and check a manifest; `path` may also be the .onnx (its .json is used)."""
        path = Path(path)
        if path.suffix.lower() == ".onnx":
            path = path.with_suffix(".json")
        if not path.exists():
            raise ModelError(path, "the model manifest does not exist")
        if path.is_dir():
            raise ModelError(path, "this is a folder; give the model's .json (or .onnx) file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ModelError(path, "not a model manifest (not UTF-8 text)") from exc
        except json.JSONDecodeError as exc:
            raise ModelError(
                path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        except OSError as exc:
            raise ModelError(path, f"cannot be read ({exc.strerror or exc})") from exc
        if not isinstance(data, dict):
            raise ModelError(path, "not a model manifest (expected a JSON object)")
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path) -> ModelManifest:
        """Build from the parsed JSON; every missing or malformed key is named in the error."""

        def need(key: str, kind: type | tuple[type, ...]) -> Any:
            if key not in data:
                raise ModelError(path, f'the manifest has no "{key}" entry')
            value = data[key]
            if not isinstance(value, kind):
                raise ModelError(path, f'"{key}" has the wrong type ({type(value).__name__})')
            return value

        fmt = data.get("format")
        if fmt is None:
            raise ModelError(
                path,
                'not a model manifest of this app: it has no "format" entry (a model\'s '
                f'description says "format": "{FORMAT}"); give the .json written with the '
                "model's .onnx",
            )
        if fmt != FORMAT:
            shown = fmt if isinstance(fmt, str) else json.dumps(fmt)
            raise ModelError(
                path,
                f'not a model manifest of this app: unknown manifest format "{shown}" (this '
                f'app reads "{FORMAT}")',
            )
        onnx_name = need("onnx", str)
        sha = need("sha256", str).lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ModelError(path, '"sha256" is not a 64-digit hex checksum')
        # A manifest written before contracts existed has none: its .onnx checksum still holds.
        if "contract" in data and str(data["contract"]).lower() != contract_of(data):
            raise ModelError(
                path,
                f"the model file and its description ({path.name}) do not belong together: "
                "its labels, attributes, preprocessing or outputs were changed after export "
                "(contract mismatch); restore the description that came with the model",
            )
        labels = need("labels", list)
        attributes = need("attributes", list)
        if not labels:
            raise ModelError(path, '"labels" is empty: the model knows no traditions')
        for key, items in (("labels", labels), ("attributes", attributes)):
            bad = [x for x in items if not isinstance(x, str) or not x.startswith(_BASE_IRI)]
            if bad:
                raise ModelError(
                    path, f'"{key}" holds {bad[0]!r}, which is not an IRI of the saree ontology'
                )
            ids = [_term_id(x) for x in items]
            if len(set(ids)) != len(ids):
                dup = next(x for x in ids if ids.count(x) > 1)
                raise ModelError(path, f'"{key}" lists {dup} twice')
        parts = tuple(data.get("parts", PARTS))
        seg_classes = tuple(data.get("seg_classes", SEG_CLASSES))
        if parts != PARTS:
            raise ModelError(path, f'"parts" is {list(parts)}, expected {list(PARTS)}')
        if seg_classes != SEG_CLASSES:
            raise ModelError(
                path, f'"seg_classes" is {list(seg_classes)}, expected {list(SEG_CLASSES)}'
            )
        inp = need("input", dict)
        try:
            size = int(inp["size"])
            mean = tuple(float(x) for x in inp["mean"])
            std = tuple(float(x) for x in inp["std"])
            fill = tuple(int(x) for x in inp.get("fill", (124, 116, 104)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                path, f'"input" needs size, mean[3], std[3] and fill[3] ({exc})'
            ) from exc
        if len(mean) != 3 or len(std) != 3 or len(fill) != 3 or size < 16 or min(std) <= 0:
            raise ModelError(path, '"input": size >= 16, three means, three positive stds, fill')
        outputs = tuple(need("outputs", list))
        missing = [o for o in OUTPUTS if o not in outputs]
        if missing:
            raise ModelError(path, f'"outputs" lacks {", ".join(missing)}')
        dim = need("embedding_dim", int)
        protos_raw = data.get("prototypes") or []
        try:
            prototypes = tuple(tuple(float(v) for v in row) for row in protos_raw)
        except (TypeError, ValueError) as exc:
            raise ModelError(path, f'"prototypes" must be rows of numbers ({exc})') from exc
        if prototypes and (
            len(prototypes) != len(labels) or any(len(r) != dim for r in prototypes)
        ):
            raise ModelError(
                path,
                f'"prototypes" must be {len(labels)} rows of {dim} numbers (one per label), '
                f"found {len(prototypes)} rows",
            )
        try:
            seg_zooms, seg_zooms_mirrored = read_zooms(data)
        except ValueError as exc:
            raise ModelError(path, str(exc)) from exc
        return cls(
            path=path,
            name=str(data.get("name", path.stem)),
            onnx_path=(path.parent / onnx_name),
            sha256=sha,
            labels=tuple(_term_id(x) for x in labels),
            attributes=tuple(_term_id(x) for x in attributes),
            parts=parts,
            seg_classes=seg_classes,
            input_name=str(inp.get("name", "image")),
            preprocessing=Preprocessing(
                size=size,
                mean=(mean[0], mean[1], mean[2]),
                std=(std[0], std[1], std[2]),
                fill=(fill[0], fill[1], fill[2]),
            ),
            outputs=outputs,
            embedding_dim=dim,
            prototypes=prototypes,
            fusion=dict(data.get("fusion") or {}),
            open_set=dict(data.get("open_set") or {}),
            seg_zooms=seg_zooms,
            seg_zooms_mirrored=seg_zooms_mirrored,
            raw=data,
        )

    def with_open_set(self, open_set: dict[str, Any]) -> dict[str, Any]:
        """The manifest JSON with its "open_set" entry replaced (for calibration tools)."""
        data = dict(self.raw)
        data["open_set"] = open_set
        return data

    def write(self, data: dict[str, Any] | None = None) -> None:
        """Write the JSON back (atomically: a crash leaves the old manifest, never half a file)."""
        out = data if data is not None else self.raw
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.path)
