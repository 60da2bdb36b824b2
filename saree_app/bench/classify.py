"""End-to-end classification speed: one 12-MP JPEG, a folder, a plain torch baseline, FLOPs."""

from __future__ import annotations

import argparse
import importlib
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

from saree_app.bench import Report, reporting
from saree_app.imaging import load_photo, preprocess
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


def _torch_baseline(manifest: Any) -> tuple[Callable[[np.ndarray], object], str] | str:
    """The same network in torch eager (train extra) -> (forward, note), or why it is skipped."""
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

    def once(batch: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            outs = net(torch.from_numpy(batch))
        return {name: o.numpy() for name, o in zip(OUTPUTS, outs, strict=True)}

    def forward(x: np.ndarray) -> object:
        # The same work as the app: the part map read at the manifest's zooms too.
        return run_with_zooms(
            once, x, manifest.seg_zooms, fill, mirrored=manifest.seg_zooms_mirrored
        )

    if len(manifest.seg_zooms) > 1:
        note += f", the part map read at the same zooms ({len(manifest.seg_zooms)} passes)"
    return forward, note


def _torch_threads(n: int | None = None) -> int:
    """Set (when n is given) and return torch's intra-op thread count, through the train extra."""
    torch: Any = importlib.import_module("saree_app.train.net").torch
    if n is not None:
        torch.set_num_threads(n)
    return int(torch.get_num_threads())


def main(argv: Sequence[str] | None = None) -> int:
    """Print the medians, throughputs, ratios, FLOPs and fraction of peak."""
    ap = argparse.ArgumentParser(prog="saree bench classify")
    ap.add_argument("--model", type=Path, help="manifest (default: the shipped model)")
    ap.add_argument("--repeats", type=int, default=15, help="runs of the single-photo case")
    ap.add_argument("--count", type=int, default=64, help="photos in the folder case")
    ap.add_argument("--side", type=int, default=1600, help="folder photos' side in px")
    ap.add_argument(
        "--batch", type=int, default=1, help="folder batch size (default 1; 8 is shown too)"
    )
    ap.add_argument("--threads", type=int, help="inference threads (default: one per core)")
    ap.add_argument("--data", type=Path, default=CACHE, help=f"bench photos cache ({CACHE})")
    ap.add_argument("--no-baseline", action="store_true", help="skip the torch baseline")
    ap.add_argument(
        "--no-flops", action="store_true", help="skip the FLOP count and the CPU's peak"
    )
    ap.add_argument(
        "--spin", action="store_true", help="let onnxruntime threads spin-wait between runs"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with reporting("classify", argv, args.json) as report:
        report.settings.update(
            {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        )
        status = _main(args, report)
        report.failed = status != 0
    return status


def _main(args: argparse.Namespace, report: Report) -> int:
    from saree_app.model.manifest import ModelError
    from saree_app.model.overlays import draw_overlays, save_overlays
    from saree_app.model.predict import Predictor, cloth_view

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
        k: [] for k in ("decode", "infer", "extra", "fuse", "draw", "save")
    }
    totals: list[float] = []
    totals_saved: list[float] = []

    def end_to_end(record: bool) -> None:
        t = [time.perf_counter()]
        loaded = predictor._load(photo)  # read + draft decode + letterbox
        t.append(time.perf_counter())
        out = predictor.session.run(loaded.array[None])
        t.append(time.perf_counter())
        # The extra models the app runs on every photo: the person models that keep the part
        # map on a worn saree, and the cloth features teaching compares (when installed),
        # timed together; the probabilities, open set and fusion are timed on their own.
        person = predictor.person.find(loaded.photo) if predictor.person is not None else None
        t_person = time.perf_counter()
        pred = predictor._build(loaded, out, 0, None, None, person=person)
        t_built = time.perf_counter()
        if predictor.cloth is not None:
            pred.cloth_embedding = predictor.cloth.describe(cloth_view(loaded.photo, pred))
        t.append(time.perf_counter() - (t_built - t_person))
        t.append(time.perf_counter())
        images = draw_overlays(pred)
        t.append(time.perf_counter())
        save_overlays(images, out_dir, "bench")
        t.append(time.perf_counter())
        if record:
            for k, name in enumerate(stages):
                stages[name].append((t[k + 1] - t[k]) * 1000)
            totals.append((t[5] - t[0]) * 1000)
            totals_saved.append((t[6] - t[0]) * 1000)

    for _ in range(2):
        end_to_end(False)
    for _ in range(args.repeats):
        end_to_end(True)
    med = {k: statistics.median(v) for k, v in stages.items()}
    e2e = statistics.median(totals)
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
        "end_to_end_with_png_ms": round(e2e_saved, 2),
        **{f"{k}_ms": round(v, 2) for k, v in med.items()},
        "extra_models": extras,
    }
    print(f"\none 4000 x 3000 JPEG ({len(data) / 1e6:.1f} MB), median of {args.repeats}:")
    print(f"  end to end (decode, infer, fuse, overlays drawn): {e2e:6.1f} ms   target <= 120 ms")
    print(f"    read + draft JPEG decode + letterbox:          {med['decode']:6.1f} ms")
    print(f"    inference (batch 1):                           {inf1:6.1f} ms")
    print(f"    {' + '.join(extras) or 'no extra models':<47}{med['extra']:6.1f} ms")
    print(f"    probabilities, open set, fusion:               {med['fuse']:6.1f} ms")
    print(f"    part + heatmap overlays drawn:                 {med['draw']:6.1f} ms")
    print(f"  and with both overlays written as PNG files:     {e2e_saved:6.1f} ms")

    # ---- a folder, at the chosen batch size and at 8 (the API's default), alternating
    list(predictor.predict_many(files[:8], batch_size=args.batch))
    sizes = list(dict.fromkeys([args.batch, 8]))
    rates: dict[int, list[float]] = {b: [] for b in sizes}
    for _ in range(2):
        for b in sizes:
            t0 = time.perf_counter()
            n_ok = sum(
                1
                for _, r in predictor.predict_many(files, batch_size=b)
                if not isinstance(r, Exception)
            )
            rates[b].append(n_ok / (time.perf_counter() - t0))
    rate = statistics.median(rates[args.batch])
    report.figures["folder"] = {
        "photos": len(files),
        "side": args.side,
        **{f"batch_{b}_photos_per_s": round(statistics.median(rates[b]), 2) for b in sizes},
    }
    print(f"\nfolder of {len(files)} JPEGs at {args.side} px (parallel decode), median of 2 runs:")
    for b in sizes:
        mark = "   target >= 15" if b == args.batch else ""
        print(f"  batch {b}: {statistics.median(rates[b]):6.1f} photos/s{mark}")

    # ---- baseline: full decode + torch eager, same network, one photo at a time; "plain" at
    # torch's default thread count, and "tuned" at one thread (often faster on a busy machine:
    # two threads wait on each other), so a slow baseline cannot flatter the speed-up
    if args.no_baseline:
        print("\nbaseline skipped (--no-baseline)")
    else:
        made = _torch_baseline(m)
        if isinstance(made, str):
            print(f"\n{made}")
        else:
            forward, note = made
            default_threads = args.threads or _torch_threads()
            variants = {f"plain ({default_threads} threads)": default_threads}
            if default_threads != 1:
                variants["tuned (1 thread)"] = 1
            subset = files[: min(len(files), 32)]
            print(f"\nbaseline: full Pillow decode + {note}, one photo at a time")
            ours = med["decode"] + med["infer"]
            for label, n in variants.items():
                _torch_threads(n)

                def baseline_one(path_or_data: Path | bytes) -> None:
                    img = load_photo(path_or_data)  # full decode, no draft
                    forward(preprocess(img, m.preprocessing)[0][None])

                base1 = _median_ms(lambda: baseline_one(data), 5)
                base_inf = _median_ms(lambda: forward(x1), 5)
                t0 = time.perf_counter()
                for f in subset:
                    baseline_one(f)
                base_rate = len(subset) / (time.perf_counter() - t0)
                print(f"  {label}:")
                print(
                    f"    one 12-MP JPEG {base1:7.1f} ms (inference alone {base_inf:.1f} ms); ",
                    end="",
                )
                print(f"folder ({len(subset)} photos) {base_rate:5.1f} photos/s")
                print(
                    f"    speed-up: one photo, decode + inference ({ours:.1f} ms) "
                    f"{base1 / ours:4.1f} x (target >= 3 x); one photo, our whole end to end "
                    f"{base1 / e2e:4.1f} x; folder {rate / base_rate:4.1f} x"
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
        best, median = min(times), statistics.median(times)
        print(
            f"  inference {label}: best {best:6.1f} ms/photo = {total / best / 1e6:6.1f} GFLOP/s "
            f"= {total / best / 1e6 / peak:5.1%} of peak (median {median:.1f} ms = "
            f"{total / median / 1e6 / peak:5.1%})"
        )
    return 0
