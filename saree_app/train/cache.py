"""Feature cache: frozen-backbone maps of every photo, computed once, float16 memmaps on disk.

The backbone is frozen, so its stride 4/8/16/32 maps are the same every epoch; caching them
turns a day of CPU training into minutes. Extraction runs the backbone through onnxruntime
(several times faster than torch on a CPU), resumes where it stopped, and reports an ETA.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from saree_app.imaging import PhotoError, Preprocessing, load_photo, preprocess
from saree_app.train.data import Item, cut_to_crop, letterbox_mask

Progress = Callable[[int, int, str], None]
KEYS = ("s4", "s8", "s16", "s32")
CHANNELS = {"s4": 24, "s8": 40, "s16": 112, "s32": 320}
STRIDES = {"s4": 4, "s8": 8, "s16": 16, "s32": 32}
NO_MASK = 255
FORMAT = "saree-feature-cache/1"


def _mask_size(size: int) -> int:
    return size // 2


def cache_key(items: Sequence[Item], prep: Preprocessing, backbone_id: str) -> str:
    """Changes whenever the photos, their order, preprocessing or backbone change."""
    h = hashlib.sha256()
    h.update(json.dumps([prep.size, list(prep.mean), list(prep.std), list(prep.fill)]).encode())
    h.update(backbone_id.encode())
    for it in items:
        h.update(str(it.image).encode())
        h.update(f"@{it.rotate}\0".encode())
        if it.augment:  # only when set, so caches built before augmentation keep their key
            h.update(f"~{it.augment}\0".encode())
        if it.piece:
            h.update(b"#piece\0")
        if it.augment and it.surfaces != "basic":
            h.update(f"%{it.surfaces}\0".encode())
        if it.crop is not None:
            h.update(f"[{','.join(map(str, it.crop))}]\0".encode())
    return h.hexdigest()[:16]


class FeatureCache:
    """Read side of a finished cache: memmapped arrays plus the item list."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        self.meta: dict[str, Any] = meta
        self.items = [Item.from_dict(d) for d in meta["items"]]
        self.size = int(meta["size"])
        self.arrays = {k: np.load(self.folder / f"{k}.npy", mmap_mode="r") for k in KEYS}
        self.masks = np.load(self.folder / "mask.npy", mmap_mode="r")
        self.ok = np.load(self.folder / "ok.npy")

    def __len__(self) -> int:
        return len(self.items)

    def batch(self, idx: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Float32 feature maps and uint8 masks of the given rows (sorted for locality)."""
        order = np.sort(idx)
        feats = [np.asarray(self.arrays[k][order], dtype=np.float32) for k in KEYS]
        masks = np.asarray(self.masks[order])
        # Back to the caller's order.
        inv = np.argsort(np.argsort(idx))
        return [f[inv] for f in feats], masks[inv]


def export_backbone(
    path: Path, size: int, *, pretrained: bool = True, white_balance: bool = False
) -> Path:
    """The frozen backbone alone as ONNX, for fast extraction with onnxruntime."""
    import warnings

    import torch

    from saree_app.train.net import Backbone

    bb = Backbone(size, pretrained=pretrained, white_balance=white_balance).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            bb,
            (torch.zeros(1, 3, size, size),),
            str(path),
            input_names=["image"],
            output_names=list(KEYS),
            dynamic_axes={"image": {0: "n"}} | {k: {0: "n"} for k in KEYS},
            opset_version=17,
            dynamo=False,
        )
    return path


def _load(item: Item, prep: Preprocessing) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        img = load_photo(item.image, target=prep.size)
    except PhotoError:
        return None
    from PIL import Image

    mask_img = None
    if item.mask is not None and item.mask.is_file():
        with Image.open(item.mask) as m:
            mask_img = m.convert("L")
    # A piece of a long photo (read as the app reads it) before anything else is done to it.
    img, mask_img = cut_to_crop(item, img, mask_img)
    if item.rotate:
        img = img.rotate(item.rotate, expand=True)
        if mask_img is not None:
            mask_img = mask_img.rotate(item.rotate, expand=True)
    if item.augment:
        from saree_app.train.augment import augment

        img, mask_img = augment(
            img, mask_img, item.augment, piece=item.piece, surfaces=item.surfaces
        )
    x, box = preprocess(img, prep)
    ms = _mask_size(prep.size)
    if mask_img is not None:
        mask = letterbox_mask(mask_img, box, ms)
    else:
        mask = np.full((ms, ms), NO_MASK, dtype=np.uint8)
    return x, mask


# Below this many photos to read, worker processes cost more to start than they save.
PARALLEL_FROM = 512
# On a few cores the backbone already keeps them busy: on this project's 2-core machine, 640
# recipe photos read by 2 processes were extracted at 30-34 photos/s, by one at 35-36.
PARALLEL_CORES = 5


def _loaded(
    items: Sequence[Item], rows: np.ndarray, prep: Preprocessing, workers: int, window: int
) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray] | None]]:
    """(row, decoded photo and mask) in `rows` order, read by `workers` processes.

    Decoding, turning and changing a photo is Python and PIL work on one core (6 ms a photo on
    average for the recipe's mix of plain and changed copies), while the backbone runs on all
    cores, so on a large machine one reading process would hold extraction near 160 photos/s
    whatever the backbone's speed. The next window is read while the caller runs the backbone on
    this one, and no further: photos read far ahead would fill the memory (0.75 MB each).
    """
    if workers <= 1:
        for r in rows:
            yield int(r), _load(items[r], prep)
        return
    import multiprocessing

    chunks = [rows[i : i + window] for i in range(0, len(rows), window)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:

        def submit(chunk: np.ndarray) -> Any:
            return pool.starmap_async(_load, [(items[r], prep) for r in chunk], chunksize=8)

        pending = submit(chunks[0])
        for k, chunk in enumerate(chunks):
            loaded = pending.get()
            if k + 1 < len(chunks):
                pending = submit(chunks[k + 1])
            yield from zip((int(r) for r in chunk), loaded, strict=True)


def build_cache(
    items: Sequence[Item],
    folder: Path,
    prep: Preprocessing,
    *,
    pretrained: bool = True,
    white_balance: bool = False,
    batch_size: int = 32,
    threads: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FeatureCache:
    """Compute (or resume) the cache of `items` in `folder`; returns it ready to read.

    A photo that cannot be read is marked not-ok and skipped by training, never fatal.
    `workers` processes read the photos (default: one per core on 5 cores or more, for 512
    photos or more; else the calling process reads them). They are spawned, so a script that
    calls this needs the usual `if __name__ == "__main__":` guard (the `saree` command has it)
    or workers=1.
    """
    import onnxruntime as ort

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    size = prep.size
    backbone_id = f"efficientnet-lite0:{'imagenet' if pretrained else 'random'}:{size}"
    if white_balance:
        backbone_id += ":grey-world"
    key = cache_key(items, prep, backbone_id)
    meta_path = folder / "meta.json"
    n = len(items)
    done_path, ok_path = folder / "done.npy", folder / "ok.npy"
    fresh = True
    if meta_path.is_file() and done_path.is_file() and ok_path.is_file():
        # A run stopped between writing meta.json and its first progress save left no record
        # of which photos are done: that cache starts afresh rather than failing every resume.
        old = json.loads(meta_path.read_text(encoding="utf-8"))
        fresh = old.get("key") != key
    ms = _mask_size(size)
    mode = "w+" if fresh else "r+"
    arrays = {
        k: np.lib.format.open_memmap(
            folder / f"{k}.npy",
            mode=mode,
            dtype=np.float16,
            shape=(n, CHANNELS[k], size // STRIDES[k], size // STRIDES[k]),
        )
        for k in KEYS
    }
    masks = np.lib.format.open_memmap(
        folder / "mask.npy", mode=mode, dtype=np.uint8, shape=(n, ms, ms)
    )
    done = np.zeros(n, dtype=bool) if fresh else np.load(done_path)
    ok = np.zeros(n, dtype=bool) if fresh else np.load(ok_path)
    if fresh:
        meta = {
            "format": FORMAT,
            "key": key,
            "size": size,
            "backbone": backbone_id,
            "preprocessing": {"mean": prep.mean, "std": prep.std, "fill": prep.fill},
            "items": [it.to_dict() for it in items],
        }
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    todo = np.flatnonzero(~done)
    if len(todo):
        onnx_path = export_backbone(
            folder / "backbone.onnx", size, pretrained=pretrained, white_balance=white_balance
        )
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        if workers is None:
            cores = os.cpu_count() or 1
            workers = cores if len(todo) >= PARALLEL_FROM and cores >= PARALLEL_CORES else 1
        photos = _loaded(items, todo, prep, workers, window=batch_size * 8)
        t0 = time.monotonic()
        processed = 0
        for start in range(0, len(todo), batch_size):
            if should_stop is not None and should_stop():
                break
            rows = todo[start : start + batch_size]
            xs, good = [], []
            for r, loaded in itertools.islice(photos, len(rows)):
                if loaded is None:
                    ok[r] = False
                    continue
                xs.append(loaded[0])
                masks[r] = loaded[1]
                good.append(r)
            if xs:
                outs = sess.run(None, {"image": np.stack(xs)})
                for k, out in zip(KEYS, outs, strict=True):
                    arrays[k][good] = out.astype(np.float16)
                ok[good] = True
            done[rows] = True
            processed += len(rows)
            if (start // batch_size) % 10 == 0 or processed == len(todo):
                for a in (*arrays.values(), masks):
                    a.flush()
                np.save(done_path, done)
                np.save(ok_path, ok)
                if progress is not None:
                    rate = processed / max(time.monotonic() - t0, 1e-6)
                    eta = (len(todo) - processed) / max(rate, 1e-6)
                    progress(int(done.sum()), n, f"features {rate:.0f} photos/s, ETA {_fmt(eta)}")
        photos.close()  # ends the reading processes, also when stopped early
    for a in (*arrays.values(), masks):
        a.flush()
    np.save(done_path, done)
    np.save(ok_path, ok)
    del arrays, masks
    return FeatureCache(folder)


def _fmt(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
