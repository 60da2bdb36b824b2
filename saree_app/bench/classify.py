"""End-to-end classification speed: one 12-MP JPEG, a folder, a plain torch baseline, FLOPs."""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from saree_app.bench import Report, at_least, run_reported
from saree_app.model.manifest import OUTPUTS
from saree_app.model.zooms import normalised_fill, run_with_zooms

CACHE = Path(os.environ.get("SAREE_BENCH_DATA", "/work/data/bench/classify"))


def _median_ms(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _saree_picture(seed: int, size: int) -> Image.Image:
    """A rendered saree photo when the renderer is there; else a textured stand-in."""
    from saree_app import synth

    render = getattr(synth, "render", None)
    traditions = getattr(synth, "RENDERED_TRADITIONS", ())
    if render is not None and traditions:
        img: Image.Image = render(traditions[seed % len(traditions)], seed, size=size)[0]
        return img
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    base = np.stack([x / size * 200, y / size * 180, (x + y) / (2 * size) * 220], axis=-1)
    base += rng.normal(0, 14, size=base.shape).astype(np.float32)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def _twelve_mp_jpeg(path: Path) -> Path:
    """4000 x 3000 JPEG (quality 90) of a saree, with sensor-like noise so it compresses real."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    small = _saree_picture(7, 1000)
    big = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    arr = np.asarray(big, dtype=np.int16)
    noise = np.random.default_rng(0).integers(-6, 7, size=arr.shape, dtype=np.int16)
    Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=90)
    return path


def _folder(path: Path, count: int, size: int) -> list[Path]:
    """`count` rendered photos at `size` px as JPEGs, cached between runs."""
    path.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        f = path / f"{i:04d}.jpg"
        if not f.exists():
            _saree_picture(1000 + i, size).save(f, "JPEG", quality=90)
        files.append(f)
    return files


_COUNTED = ("Conv", "Gemm", "MatMul", "Einsum")


def onnx_flops(onnx_path: Path, size: int) -> tuple[float, dict[str, float]] | None:
    """2 x multiply-adds of Conv, Gemm, MatMul and Einsum for one photo, from the graph.

    Shapes come from running the graph once on a blank photo with every operand exposed as an
    output: static shape inference loses the spatial sizes behind the exporter's dynamic
    "same" padding. Returns None when the `onnx` package (train extra) is missing.
    """
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        return None
    import onnxruntime as ort

    model = onnx.load(str(onnx_path))
    shapes: dict[str, list[int]] = {i.name: list(i.dims) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    shapes[node.output[0]] = list(a.t.dims)
    wanted = {
        name
        for node in model.graph.node
        if node.op_type in _COUNTED
        for name in (*node.input, *node.output)
        if name and name not in shapes
    }
    present = {o.name for o in model.graph.output}
    for name in sorted(wanted - present):
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    x = np.zeros((1, 3, size, size), dtype=np.float32)
    for name, value in zip(names, sess.run(names, {sess.get_inputs()[0].name: x}), strict=True):
        shapes[name] = list(np.shape(value))
    by_op: dict[str, float] = {}
    for node in model.graph.node:
        flops = 0.0
        if node.op_type == "Conv" and node.output[0] in shapes and node.input[1] in shapes:
            out = shapes[node.output[0]]
            w = shapes[node.input[1]]  # Cout x Cin/groups x kh x kw
            flops = 2.0 * float(np.prod(out)) * float(np.prod(w[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            a, b = shapes.get(node.input[0]), shapes.get(node.input[1])
            res = shapes.get(node.output[0])
            if a and b and res:
                # The contracted length: A's last axis for MatMul; B's row axis for Gemm.
                transposed = node.op_type == "Gemm" and _attr(node, "transB")
                k = b[-1] if transposed else (a[-1] if node.op_type == "MatMul" else b[0])
                flops = 2.0 * float(np.prod(res)) * float(k)
        elif node.op_type == "Einsum":
            flops = _einsum_flops(node, shapes)
        if flops:
            by_op[node.op_type] = by_op.get(node.op_type, 0.0) + flops
    return sum(by_op.values()), by_op


def _attr(node: Any, name: str) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return 0


def _einsum_flops(node: Any, shapes: dict[str, list[int]]) -> float:
    eq = next((a.s.decode() for a in node.attribute if a.name == "equation"), "")
    if "->" not in eq:
        return 0.0
    lhs = eq.split("->")[0].split(",")
    sizes: dict[str, int] = {}
    for term, name in zip(lhs, node.input, strict=False):
        shape = shapes.get(name)
        if not shape or len(shape) != len(term):
            return 0.0
        for ch, n in zip(term, shape, strict=True):
            sizes[ch] = max(sizes.get(ch, 1), n)
    return 2.0 * float(np.prod(list(sizes.values())))


def cpu_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Achievable float32 GFLOP/s of this CPU: best of `repeats` numpy (BLAS) n^3 matmuls."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def per_core_gflops(n: int = 1024, repeats: int = 8) -> float | None:
    """One core's float32 GFLOP/s: the matmul measured in a process limited to one BLAS thread.

    A single thread is less disturbed by other work on a shared machine than all cores are.
    """
    return blas_gflops(1, n, repeats)


def blas_gflops(threads: int, n: int = 1024, repeats: int = 8) -> float | None:
    """float32 matmul GFLOP/s on `threads` BLAS threads, best of `repeats`, measured in a fresh
    process (BLAS reads its thread count once, at start-up); None when it cannot be run."""
    count = str(max(1, threads))
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": count,
        "OMP_NUM_THREADS": count,
        "MKL_NUM_THREADS": count,
    }
    code = (
        "from saree_app.bench.classify import cpu_peak_gflops; "
        f"print(cpu_peak_gflops({n}, {repeats}))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return float(done.stdout.strip()) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _torch_baseline(
    manifest: Any, *, compiled: bool = False
) -> tuple[Callable[[np.ndarray], object], str] | str:
    """The same network in torch (train extra) -> (forward, note), or why it is skipped.

    Eager by default, under inference_mode. compiled: its best compiled form on a CPU,
    torch.compile (inductor) with freezing (weights folded in as constants), channels-last
    memory and inference_mode; compiled on the first call, so warm it up before timing.
    """
    try:
        # torch only through the train package (the layering rule: nothing else imports it).
        # Imported by name: mypy then leaves the train extra (not type-checked) alone.
        train_net: Any = importlib.import_module("saree_app.train.net")
        NetConfig, PartAwareNet = train_net.NetConfig, train_net.PartAwareNet
    except ImportError as exc:
        return f"torch baseline skipped: {exc} (install the train extra)"
    cfg_raw: dict[str, Any] = {}
    for key in ("training", "architecture"):
        section = manifest.raw.get(key)
        if isinstance(section, dict) and isinstance(section.get("config"), dict):
            cfg_raw.update(section["config"])
    known = set(NetConfig.__dataclass_fields__)
    cfg_args = {k: v for k, v in cfg_raw.items() if k in known}
    cfg_args.update(
        num_classes=len(manifest.labels),
        num_attributes=len(manifest.attributes),
        size=manifest.preprocessing.size,
        embedding_dim=manifest.embedding_dim,
    )
    # ImageNet backbone weights where installed: real activations, as in the shipped model
    # (the heads' weights do not change the cost).
    net = None
    for pretrained in (True, False):
        try:
            net = PartAwareNet(NetConfig(**cfg_args), pretrained=pretrained).eval()
            break
        except (TypeError, ValueError, RuntimeError, ImportError, OSError) as exc:
            error = exc
    if net is None:
        return f"torch baseline skipped: the network cannot be built here ({error})"
    note = (
        "PartAwareNet in torch eager, same architecture and input size "
        f"({'ImageNet' if pretrained else 'random'} backbone weights, untrained heads: same cost)"
    )
    checkpoint = manifest.path.with_suffix(".pt")
    if checkpoint.exists():
        try:
            state = train_net.torch.load(checkpoint, map_location="cpu", weights_only=True)
            net.load_state_dict(state.get("model", state), strict=False)
            note = f"PartAwareNet in torch eager with {checkpoint.name}"
        except (RuntimeError, OSError, KeyError, AttributeError):
            pass
    torch = train_net.torch
    prep = manifest.preprocessing
    fill = normalised_fill(prep.fill, prep.mean, prep.std)
    run: Any = net
    layout = torch.contiguous_format
    if compiled:
        try:
            layout = torch.channels_last
            # inductor's options: freezing folds the weights in as constants
            run = torch.compile(net.to(memory_format=layout), options={"freezing": True})
        except (RuntimeError, ImportError, AttributeError) as exc:
            return f"torch.compile is not available here: {exc}"
        note = note.replace("torch eager", "torch.compile (inductor, freezing, channels-last)")

    def once(batch: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            outs = run(torch.from_numpy(batch).contiguous(memory_format=layout))
        return {name: o.numpy() for name, o in zip(OUTPUTS, outs, strict=True)}

    def forward(x: np.ndarray) -> object:
        # The same work as the app: the part map read at the manifest's zooms too.
        return run_with_zooms(
            once, x, manifest.seg_zooms, fill, mirrored=manifest.seg_zooms_mirrored
        )

    if len(manifest.seg_zooms) > 1:
        note += f", the part map read at the same zooms ({len(manifest.seg_zooms)} passes)"
    return forward, note


def _alternating(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median ms of each, run in alternation (after one warm-up each)."""
    first()
    second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        first()
        a.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        second()
        b.append((time.perf_counter() - t0) * 1000)
    return statistics.median(a), statistics.median(b)


def _has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def _torch_threads(n: int | None = None) -> int:
    """Set (when n is given) and return torch's intra-op thread count, through the train extra."""
    torch: Any = importlib.import_module("saree_app.train.net").torch
    if n is not None:
        torch.set_num_threads(n)
    return int(torch.get_num_threads())


def _own_folder(
    predictor: Any,
    args: argparse.Namespace,
    report: Report,
    rate_of: Callable[[Sequence[Path], int, bool], float],
) -> None:
    """The folder case again on the curator's own photos (`--photos`): real photos are not
    rendered ones (the cloth check reads its close-ups only for a photo that does not look
    like cloth whole, a third of the rendered folder and few real photos)."""
    from saree_app.collection.importer import find_photos

    paths = find_photos(args.photos)[0][: args.count]
    if not paths:
        print(f"\nno photos in {args.photos}: the folder case on your photos is skipped")
        return
    sides = []
    for path in paths:
        try:
            with Image.open(path) as im:
                sides.append(max(im.size))
        except OSError:
            continue  # predict_many names it; it is not counted in the rate
    list(predictor.predict_many(paths[:4], batch_size=args.batch))
    answers, imported = [], []
    for _ in range(2):
        imported.append(rate_of(paths, args.batch, True))
        answers.append(rate_of(paths, args.batch, False))
    side = int(statistics.median(sides)) if sides else 0
    report.figures["folder_photos"] = {
        "folder": str(args.photos),
        "photos": len(paths),
        "median_side": side,
        f"batch_{args.batch}_photos_per_s": round(statistics.median(imported), 2),
        f"answers_only_batch_{args.batch}_photos_per_s": round(statistics.median(answers), 2),
    }
    print(
        f"\nyour folder: {len(paths)} photos from {args.photos} (median side {side} px), "
        "median of 2 runs:"
    )
    print(
        f"  as an import reads them: batch {args.batch}: "
        f"{statistics.median(imported):6.1f} photos/s   target >= 30"
    )
    print(
        f"  answers alone, as saree classify reads them: batch {args.batch}: "
        f"{statistics.median(answers):6.1f} photos/s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the medians, throughputs, ratios, FLOPs and fraction of peak."""
    ap = argparse.ArgumentParser(prog="saree bench classify")
    ap.add_argument("--model", type=Path, help="manifest (default: the shipped model)")
    ap.add_argument("--repeats", type=at_least(1), default=15, help="runs of the single-photo case")
    ap.add_argument("--count", type=at_least(1), default=64, help="photos in the folder case")
    ap.add_argument("--side", type=at_least(32), default=1600, help="folder photos' side in px")
    ap.add_argument(
        "--batch", type=at_least(1), default=1, help="folder batch size (default 1; 8 is shown too)"
    )
    ap.add_argument("--threads", type=at_least(1), help="inference threads (default: one per core)")
    ap.add_argument("--data", type=Path, default=CACHE, help=f"bench photos cache ({CACHE})")
    ap.add_argument(
        "--photos",
        type=Path,
        help="a folder of your own photos, timed as the rendered folder is (its first --count "
        "photos by name, as they are)",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the torch baseline")
    ap.add_argument(
        "--no-flops", action="store_true", help="skip the FLOP count and the CPU's peak"
    )
    ap.add_argument(
        "--spin", action="store_true", help="let onnxruntime threads spin-wait between runs"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    return run_reported("classify", argv, args, lambda report: _main(args, report))


def _main(args: argparse.Namespace, report: Report) -> int:
    from saree_app.model.manifest import ModelError
    from saree_app.model.overlays import draw_overlays, save_overlays
    from saree_app.model.predict import Predictor, describe_cloth

    if args.photos is not None and not args.photos.is_dir():
        print(f"saree bench classify: --photos {args.photos} is not a folder", file=sys.stderr)
        return 2
    try:
        predictor = Predictor(args.model, threads=args.threads, spin=args.spin)
    except ModelError as exc:
        print(f"saree bench classify: cannot use the model: {exc}", file=sys.stderr)
        return 2
    m = predictor.manifest
    size = m.preprocessing.size
    print(f"model: {m.name} ({m.onnx_path.name}, input {size} px, {len(m.labels)} traditions)")
    print(
        f"machine: {os.cpu_count()} logical CPUs; onnxruntime threads: {args.threads or 'auto'}"
        f", spin-wait {'on' if args.spin else 'off'}"
    )
    if hasattr(os, "getloadavg"):
        print(f"load average before the run: {os.getloadavg()[0]:.1f} (other work skews timings)")
    if predictor.graph is None:
        print(f"note: no knowledge graph ({predictor.graph_message}); fusion step skipped")

    photo = _twelve_mp_jpeg(args.data / "photo-4000x3000.jpg")
    data = photo.read_bytes()
    files = _folder(args.data / f"folder-{args.side}", args.count, args.side)
    out_dir = Path(tempfile.mkdtemp(prefix="saree-bench-"))

    # ---- one 12-MP JPEG, end to end, each stage timed inside the same run
    stages: dict[str, list[float]] = {
        k: [] for k in ("decode", "infer", "fuse", "draw", "cloth", "save")
    }
    totals: list[float] = []
    totals_cloth: list[float] = []
    totals_saved: list[float] = []

    def end_to_end(record: bool) -> None:
        # The app's own path (Predictor.predict, then the overlays): the cloth features are
        # described when teaching first asks for them, timed after the overlays on their own.
        t = [time.perf_counter()]
        loaded = predictor._load(photo)  # read + draft decode + letterbox
        t.append(time.perf_counter())
        # The model, and beside it the person models that keep the part map on a worn saree
        # and the cloth checks' whole picture (when installed), as Predictor.predict runs them.
        out = predictor._run_beside(loaded)
        person = loaded.side.person if loaded.side is not None else None
        t.append(time.perf_counter())
        pred = predictor._build(loaded, out, 0, None, None, person=person)
        if predictor.cloth is not None:
            pred.describe_cloth_later(
                functools.partial(describe_cloth, predictor.cloth, loaded.photo, pred)
            )
        t.append(time.perf_counter())
        images = draw_overlays(pred)
        t.append(time.perf_counter())
        pred.cloth_embedding  # noqa: B018 - what teaching asks for, timed on its own
        t.append(time.perf_counter())
        save_overlays(images, out_dir, "bench")
        t.append(time.perf_counter())
        if record:
            for k, name in enumerate(stages):
                stages[name].append((t[k + 1] - t[k]) * 1000)
            totals.append((t[4] - t[0]) * 1000)
            totals_cloth.append((t[5] - t[0]) * 1000)
            totals_saved.append((t[6] - t[5] + t[4] - t[0]) * 1000)

    for _ in range(2):
        end_to_end(False)
    for _ in range(args.repeats):
        end_to_end(True)
    med = {k: statistics.median(v) for k, v in stages.items()}
    e2e = statistics.median(totals)
    e2e_cloth = statistics.median(totals_cloth)
    e2e_saved = statistics.median(totals_saved)
    inf1 = med["infer"]
    x1 = predictor._load(photo).array[None]
    extras = [
        name
        for name, there in (
            ("person models", predictor.person),
            ("cloth features", predictor.cloth),
        )
        if there is not None
    ]
    report.figures["one_photo"] = {
        "jpeg_mb": round(len(data) / 1e6, 2),
        "end_to_end_ms": round(e2e, 2),
        "end_to_end_with_cloth_features_ms": round(e2e_cloth, 2),
        "end_to_end_with_png_ms": round(e2e_saved, 2),
        **{f"{k}_ms": round(v, 2) for k, v in med.items()},
        "extra_models": extras,
        "passes": predictor.session.passes(),
        "folder_passes": predictor.session.passes(once=True),
    }
    print(f"\none 4000 x 3000 JPEG ({len(data) / 1e6:.1f} MB), median of {args.repeats}:")
    print(f"  end to end (decode, infer, fuse, overlays drawn): {e2e:6.1f} ms   target <= 60 ms")
    print(f"    read + draft JPEG decode + letterbox:          {med['decode']:6.1f} ms")
    trunk = f"{predictor.session.passes()} passes"
    print(f"    inference (batch 1, {trunk}), and beside it".ljust(51) + f"{inf1:6.1f} ms")
    print("      the person models and the cloth checks' whole picture")
    print(f"    probabilities, open set, fusion:               {med['fuse']:6.1f} ms")
    print(f"    part + heatmap overlays drawn:                 {med['draw']:6.1f} ms")
    print(f"  the cloth features, when teaching asks for them: {med['cloth']:6.1f} ms")
    print(f"  end to end with the cloth features:              {e2e_cloth:6.1f} ms")
    print(f"  and with both overlays written as PNG files:     {e2e_saved:6.1f} ms")

    # ---- a folder, at the chosen batch size and at 8 (the API's default), alternating
    list(predictor.predict_many(files[:8], batch_size=args.batch))
    sizes = list(dict.fromkeys([args.batch, 8]))
    rates: dict[int, list[float]] = {b: [] for b in sizes}
    # Answers alone (`saree classify`): the close-ups teaching compares are not read.
    answers_only: list[float] = []

    def rate_on(paths: Sequence[Path], b: int, cloth_now: bool) -> float:
        t0 = time.perf_counter()
        n_ok = sum(
            1
            for _, r in predictor.predict_many(paths, batch_size=b, cloth_now=cloth_now)
            if not isinstance(r, Exception)
        )
        return n_ok / (time.perf_counter() - t0)

    def rate(b: int, cloth_now: bool) -> float:
        return rate_on(files, b, cloth_now)

    for _ in range(2):
        for b in sizes:
            rates[b].append(rate(b, True))
        answers_only.append(rate(args.batch, False))
    report.figures["folder"] = {
        "photos": len(files),
        "side": args.side,
        **{f"batch_{b}_photos_per_s": round(statistics.median(rates[b]), 2) for b in sizes},
        f"answers_only_batch_{args.batch}_photos_per_s": round(statistics.median(answers_only), 2),
    }
    print(f"\nfolder of {len(files)} JPEGs at {args.side} px (parallel decode), median of 2 runs:")
    print("  as an import reads them (with the close-ups teaching compares):")
    for b in sizes:
        mark = "   target >= 30" if b == args.batch else ""
        print(f"    batch {b}: {statistics.median(rates[b]):6.1f} photos/s{mark}")
    print(
        f"  answers alone, as saree classify reads them: batch {args.batch}: "
        f"{statistics.median(answers_only):6.1f} photos/s"
    )
    if args.photos is not None:
        _own_folder(predictor, args, report, rate_of=rate_on)

    # ---- the peer: torch doing the same work on the same decoded input (the app's own
    # draft decode and letterbox, timed once above), one photo at a time, at the same threads
    # as onnxruntime; eager, and its best compiled form. Ratios are from this one run.
    if args.no_baseline:
        print("\npeer skipped (--no-baseline)")
    else:
        threads = args.threads or _torch_threads()
        _torch_threads(threads)
        report.peer.update(
            framework="torch "
            + str(importlib.import_module("saree_app.train.net").torch.__version__)
            if _has_torch()
            else "torch (not installed)",
            threads=threads,
            input="the app's draft JPEG decode and letterbox (the same array)",
            work="same network and views, part map at the manifest's zooms",
        )
        ours_folder = [predictor._load(f).array[None] for f in files[:8]]
        print(f"\npeer: torch on the same decoded input, {threads} threads, one photo at a time")
        for variant, compiled in (("eager", False), ("compiled", True)):
            t0 = time.perf_counter()
            made = _torch_baseline(m, compiled=compiled)
            if isinstance(made, str):
                print(f"  {variant}: {made}")
                report.peer[variant] = {"skipped": made}
                continue
            forward, note = made
            try:
                forward(x1)  # the compiled form compiles here
            except Exception as exc:  # inductor can fail in many ways (no C compiler, ...)
                why = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                print(f"  {variant}: fails on this machine ({why})")
                report.peer[variant] = {"failed": why}
                continue
            ready = time.perf_counter() - t0
            # The peer at its own best thread count: under other work two torch threads can
            # wait on each other for seconds, so one thread is timed too and the faster kept.
            # Each timing alternates the peer's run with ours, so both see the same machine.
            by_threads: dict[int, tuple[float, float]] = {}
            for n in dict.fromkeys([threads, 1]):
                _torch_threads(n)
                by_threads[n] = _alternating(
                    functools.partial(forward, x1),
                    functools.partial(predictor.session.run, x1),
                    max(3, args.repeats // 3),
                )
            best = min(by_threads, key=lambda n: by_threads[n][0])
            _torch_threads(best)
            peer_inf, ours_inf = by_threads[best]
            few = ours_folder[:8]
            t0 = time.perf_counter()
            for x in few:
                forward(x)
            peer_rate = len(few) / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            for x in few:
                predictor.session.run(x)
            ours_rate = len(few) / (time.perf_counter() - t0)
            peer_one = med["decode"] + peer_inf
            ours_one = med["decode"] + ours_inf
            report.peer[variant] = {
                "note": note,
                "ready_s": round(ready, 1),
                "threads": best,
                "inference_ms_by_threads": {
                    str(n): {"peer": round(p, 2), "ours": round(o, 2)}
                    for n, (p, o) in by_threads.items()
                },
                "inference_ms": round(peer_inf, 2),
                "ours_inference_ms": round(ours_inf, 2),
                "inference_ratio": round(peer_inf / ours_inf, 2),
                "decode_plus_inference_ms": round(peer_one, 2),
                "ours_decode_plus_inference_ms": round(ours_one, 2),
                "decode_plus_inference_ratio": round(peer_one / ours_one, 2),
                "decoded_photos_per_s": round(peer_rate, 2),
                "ours_decoded_photos_per_s": round(ours_rate, 2),
            }
            print(f"  {variant}: {note}; ready in {ready:.1f} s")
            for n, (p, o) in by_threads.items():
                print(f"    {n} torch thread(s): inference {p:7.1f} ms against ours {o:7.1f} ms")
            print(
                f"    best ({best} thread(s)): ours {peer_inf / ours_inf:4.2f} x faster; "
                f"decode + inference {peer_one:6.1f} ms against ours {ours_one:6.1f} ms: "
                f"{peer_one / ours_one:4.2f} x; {len(few)} decoded photos {peer_rate:5.1f} "
                f"photos/s against ours {ours_rate:5.1f}"
            )

    # ---- FLOPs and fraction of peak: peak and inference measured in alternation, so both see
    # the same machine (other work on a shared CPU moves both)
    if args.no_flops:
        print("\nFLOPs: not counted (--no-flops)")
        return 0
    counted = onnx_flops(m.onnx_path, size)
    if counted is None:
        print("\nFLOPs: not counted (the onnx package is missing: install the train extra)")
        return 0
    per_pass, by_op = counted
    # Every zoom of the part map is one more pass of the whole graph over the photo.
    passes = len(m.seg_zooms)
    total = per_pass * passes
    batch = np.repeat(x1, 8, axis=0)
    peaks: list[float] = []
    one: list[float] = []
    many: list[float] = []
    for _ in range(5):
        peaks.append(max(cpu_peak_gflops(n=2048, repeats=2), cpu_peak_gflops(n=1024, repeats=2)))
        one.append(_median_ms(lambda: predictor.session.run(x1), 3, warmup=0))
        many.append(_median_ms(lambda: predictor.session.run(batch), 1, warmup=0) / 8)
    core = per_core_gflops()
    cores = os.cpu_count() or 1
    all_cores = max(peaks)
    peak = max(all_cores, (core or 0.0) * cores)
    floor_ms = total / (peak * 1e9) * 1000
    report.figures["floor"] = {
        "gflop_per_photo": round(total / 1e9, 3),
        "passes": passes,
        "peak_gflops": round(peak, 1),
        "floor_ms": round(floor_ms, 2),
        "batch_1_median_ms": round(statistics.median(one), 2),
        "ratio_to_floor": round(statistics.median(one) / floor_ms, 2),
        "batch_8_median_ms_per_photo": round(statistics.median(many), 2),
    }
    parts = ", ".join(f"{k} {v / 1e9:.2f}" for k, v in sorted(by_op.items()))
    print(
        f"\nmodel: {per_pass / 1e9:.2f} GFLOPs per pass ({parts}), counted from the ONNX graph"
        + (
            f"; {passes} passes per photo (part map at zooms "
            f"{', '.join(f'{z:g}' for z in m.seg_zooms)}): {total / 1e9:.2f} GFLOPs per photo"
            if passes > 1
            else ""
        )
    )
    print(
        f"CPU peak estimate: {peak:.1f} GFLOP/s float32, the larger of (a) the best of 20 numpy "
        f"matrix products on all cores ({all_cores:.1f}), measured between the inference runs "
        f"below, and (b) one core's best in a separate single-threaded process "
        f"({core or float('nan'):.1f}) x {cores} cores: an achievable, not a theoretical, peak"
    )
    for label, times in (("batch 1", one), ("batch 8", many)):
        fastest, median = min(times), statistics.median(times)
        print(
            f"  inference {label}: best {fastest:6.1f} ms/photo = "
            f"{total / fastest / 1e6:6.1f} GFLOP/s "
            f"= {total / fastest / 1e6 / peak:5.1%} of peak (median {median:.1f} ms = "
            f"{total / median / 1e6 / peak:5.1%})"
        )
    return 0
