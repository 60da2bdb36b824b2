"""One onnxruntime session per model, checksum and output contract verified."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from saree_app.model.manifest import (
    ONNX_MEANING_KEY,
    OUTPUTS,
    ModelError,
    ModelManifest,
    meaning_differences,
    meaning_of,
    sha256_of,
)
from saree_app.model.zooms import NO_ZOOMS, normalised_fill, run_with_zooms

# Rank of every output, and which dimensions must equal what (by position, after the batch).
_RANKS = {
    "logits": 2,
    "part_logits": 3,
    "seg": 4,
    "cam": 4,
    "attributes": 2,
    "embedding": 2,
    "part_embeddings": 3,
}


def _expected_dims(manifest: ModelManifest) -> dict[str, dict[int, tuple[int, str]]]:
    c, a, d = len(manifest.labels), len(manifest.attributes), manifest.embedding_dim
    return {
        "logits": {1: (c, "traditions (labels)")},
        "part_logits": {1: (3, "parts"), 2: (c, "traditions (labels)")},
        "seg": {1: (4, "segmentation classes")},
        "cam": {1: (c, "traditions (labels)")},
        "attributes": {1: (a, "attributes")},
        "embedding": {1: (d, "embedding_dim")},
        "part_embeddings": {1: (3, "parts"), 2: (d, "embedding_dim")},
    }


def _check_shape(
    manifest: ModelManifest, name: str, shape: Sequence[Any], *, batch: int | None
) -> None:
    where = manifest.onnx_path
    want_rank = _RANKS[name]
    if len(shape) != want_rank:
        raise ModelError(
            where,
            f'output "{name}" has {len(shape)} dimensions, the contract says {want_rank} '
            f"(manifest {manifest.path.name})",
        )
    if batch is not None and isinstance(shape[0], int) and shape[0] != batch:
        raise ModelError(where, f'output "{name}" has batch size {shape[0]}, expected {batch}')
    for axis, (value, what) in _expected_dims(manifest)[name].items():
        got = shape[axis]
        if isinstance(got, int) and got >= 0 and got != value:
            raise ModelError(
                where,
                f'output "{name}" has {got} {what}, but the manifest {manifest.path.name} '
                f"lists {value}",
            )


def available_providers() -> list[str]:
    """Execution providers this onnxruntime build offers."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


# Photos per onnxruntime run: a batch of 8 photos (the importer's) peaks at about 900 MB of
# activations; one at a time is as fast per photo on two cores (`saree bench classify`), and
# it bounds what the memory arena below keeps.
RUN_BATCH = 1


class ModelSession:
    """The model's one inference session: verified once, reused for every photo.

    `providers`: onnxruntime execution providers in order of preference (default: CPU).
    `threads`: intra-op threads (default: onnxruntime's choice, one per physical core).
    `verify`: compare the .onnx's sha256 with the manifest (always on in the app).
    """

    def __init__(
        self,
        manifest: ModelManifest,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
        *,
        verify: bool = True,
        spin: bool = True,
    ) -> None:
        import onnxruntime as ort

        self.manifest = manifest
        onnx_path = manifest.onnx_path
        if not onnx_path.exists():
            raise ModelError(
                onnx_path, f"the model file named in {manifest.path.name} does not exist"
            )
        if verify:
            actual = sha256_of(onnx_path)
            if actual != manifest.sha256:
                raise ModelError(
                    onnx_path,
                    f"checksum mismatch: the file's sha256 is {actual[:12]}..., the manifest "
                    f"{manifest.path.name} expects {manifest.sha256[:12]}... (the model was "
                    "changed or replaced; re-export it together with its manifest)",
                )
        offered = available_providers()
        chosen = list(providers) if providers else ["CPUExecutionProvider"]
        unknown = [p for p in chosen if p not in offered]
        if unknown:
            raise ModelError(
                onnx_path,
                f"execution provider {', '.join(unknown)} is not available "
                f"(this onnxruntime offers {', '.join(offered)})",
            )
        if threads is not None and threads < 1:
            raise ModelError(onnx_path, f"threads must be at least 1, not {threads}")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.inter_op_num_threads = 1
        if threads:
            opts.intra_op_num_threads = threads
        if not spin:
            # Spinning worker threads steal the cores that parallel JPEG decode needs.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        # The memory arena keeps the largest run's activations for the session's life: with
        # runs of RUN_BATCH photos that is tens of MB, and without it every run asks the system
        # for its activations afresh (page faults on every fresh page): 15 ms a photo with it,
        # 17-23 without, on two cores. Without RUN_BATCH it held 1-2 GB after an import's
        # first batches of 8.
        opts.enable_cpu_mem_arena = True
        try:
            self._session = ort.InferenceSession(str(onnx_path), opts, providers=chosen)
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad graphs
            raise ModelError(onnx_path, f"onnxruntime cannot load the model ({exc})") from exc
        self.providers = tuple(self._session.get_providers())
        self.threads = threads
        self._lock = threading.Lock()
        prep = manifest.preprocessing
        self._fill = normalised_fill(prep.fill, prep.mean, prep.std)
        self._check_contract()

    def _check_contract(self) -> None:
        m = self.manifest
        self._check_meaning()
        inputs = {i.name: i for i in self._session.get_inputs()}
        if m.input_name not in inputs:
            raise ModelError(
                m.onnx_path,
                f'the model has no input "{m.input_name}" (it has {", ".join(inputs)}); '
                f"the manifest {m.path.name} and the model disagree",
            )
        shape = list(inputs[m.input_name].shape)
        size = m.preprocessing.size
        if len(shape) != 4:
            raise ModelError(m.onnx_path, f'input "{m.input_name}" has {len(shape)} dims, not 4')
        for axis, want in ((1, 3), (2, size), (3, size)):
            got = shape[axis]
            if isinstance(got, int) and got != want:
                raise ModelError(
                    m.onnx_path,
                    f'input "{m.input_name}" has shape {shape}, the manifest {m.path.name} '
                    f"says N x 3 x {size} x {size}",
                )
        names = [o.name for o in self._session.get_outputs()]
        missing = [o for o in OUTPUTS if o not in names]
        if missing:
            raise ModelError(
                m.onnx_path,
                f"the model lacks output {', '.join(missing)} required by the contract "
                f"(it has {', '.join(names)})",
            )
        for out in self._session.get_outputs():
            if out.name in _RANKS:
                _check_shape(m, out.name, list(out.shape), batch=None)
        # Symbolic dimensions cannot be checked statically: one probe run checks real shapes
        # (and warms the session up, so the first photo is not the slow one).
        probe = np.zeros((1, 3, size, size), dtype=np.float32)
        try:
            result = self.run(probe)
        except Exception as exc:  # a graph that loads but cannot run is a broken model
            raise ModelError(m.onnx_path, f"the model fails on a test input ({exc})") from exc
        for name in OUTPUTS:
            _check_shape(m, name, list(result[name].shape), batch=1)

    def _check_meaning(self) -> None:
        # Models exported since contracts existed record what they were trained for; older
        # ones (the shipped model among them) rely on the manifest's own "contract" entry.
        m = self.manifest
        recorded = self._session.get_modelmeta().custom_metadata_map.get(ONNX_MEANING_KEY)
        if recorded is None:
            return
        try:
            model_meaning = json.loads(recorded)
        except json.JSONDecodeError as exc:
            raise ModelError(
                m.onnx_path, f"the model's recorded {ONNX_MEANING_KEY} is not valid JSON"
            ) from exc
        if not isinstance(model_meaning, dict):
            raise ModelError(m.onnx_path, f"the model's recorded {ONNX_MEANING_KEY} is not a map")
        differences = meaning_differences(model_meaning, meaning_of(m.raw))
        if differences:
            raise ModelError(
                m.onnx_path,
                f"the model file and its description ({m.path.name}) do not belong together: "
                + "; ".join(differences),
            )

    @property
    def output_names(self) -> tuple[str, ...]:
        """The contract's outputs, in the order the session returns them."""
        return OUTPUTS

    def run(self, batch: np.ndarray, *, once: bool = False) -> dict[str, np.ndarray]:
        """Run N x 3 x S x S float32 through the model; returns every contract output (the part
        map averaged over the manifest's seg_zooms).

        once: read each photo at one zoom only, the photo as it is: half the passes, for bulk
        import, where the second zoom's part map did not earn its cost on real photos (`saree
        bench real`: part mIoU 0.368 with it, 0.361 without; every answer the same). The
        tradition, attribute and embedding outputs are the same either way."""
        arr = np.ascontiguousarray(batch, dtype=np.float32)
        m = self.manifest
        zooms = NO_ZOOMS if once else m.seg_zooms
        # Runs of RUN_BATCH photos' worth of rows at every zoom: for one photo, the photo and
        # its shrunk copy in one run, which took 33 ms where two runs of one row took 36 on two
        # cores (the graph's small layers keep the cores busier with more rows), for one more
        # row's activations in the memory arena. The rows are laid out all photos first, then
        # all shrunk copies (`run_with_zooms`), so with several photos a run holds two photos
        # at one zoom; the outputs are the same either way.
        rows = RUN_BATCH * max(1, len(zooms))
        return run_with_zooms(
            functools.partial(self._run_once, rows=rows),
            arr,
            zooms,
            self._fill,
            mirrored=m.seg_zooms_mirrored,
        )

    def passes(self, *, once: bool = False) -> int:
        """Passes of the network's trunk over each photo: one per zoom of the part map (one
        with `once`), times the views the exported graph averages (mirrored, quarter-turned)."""
        config: dict[str, Any] = {}
        for key in ("training", "architecture"):
            section = self.manifest.raw.get(key)
            if isinstance(section, dict) and isinstance(section.get("config"), dict):
                config.update(section["config"])
        views = 2 if config.get("flip_average") else 1
        views *= 2 if config.get("rotate_average") else 1
        return (1 if once else len(self.manifest.seg_zooms)) * views

    def _run_once(self, arr: np.ndarray, rows: int | None = None) -> dict[str, np.ndarray]:
        # onnxruntime sessions are thread-safe, but serialising keeps batches from fighting
        # over the same cores (one batch at full speed beats two at half).
        rows = rows or RUN_BATCH
        parts: list[list[np.ndarray]] = []
        with self._lock:
            for start in range(0, max(arr.shape[0], 1), rows):
                chunk = arr[start : start + rows]
                parts.append(self._session.run(list(OUTPUTS), {self.manifest.input_name: chunk}))
        if len(parts) == 1:
            return {name: np.asarray(v) for name, v in zip(OUTPUTS, parts[0], strict=True)}
        return {
            name: np.concatenate([np.asarray(p[k]) for p in parts])
            for k, name in enumerate(OUTPUTS)
        }
