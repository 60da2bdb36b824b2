"""Where training runs: photos read by worker processes, and segmentation on a CUDA GPU."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from saree_app.train import cli
from tests.train.fakes import write_fake_dataset

HAS_CUDA = torch.cuda.is_available()


def _items(tmp_path: Path) -> list:
    from saree_app.train.data import load_dataset

    items = load_dataset(write_fake_dataset(tmp_path / "data"))
    (tmp_path / "data" / "Banarasi" / "000001.jpg").write_bytes(b"not a photo at all")
    # Changed copies too: the reading processes must change them exactly as one process does.
    return items + [dataclasses.replace(it, rotate=90, augment=7 + i) for i, it in enumerate(items)]


def test_photos_read_by_worker_processes_give_the_same_cache(tmp_path: Path) -> None:
    from saree_app.train.cache import KEYS, build_cache
    from saree_app.train.export import default_preprocessing

    items = _items(tmp_path)
    prep = default_preprocessing(64)
    # batch_size 4: windows of 32 photos, so the 36 photos take two windows, the second short.
    caches = []
    for workers in (1, 2):
        torch.manual_seed(0)  # the same random backbone for both
        folder = tmp_path / f"workers{workers}"
        caches.append(
            build_cache(items, folder, prep, pretrained=False, workers=workers, batch_size=4)
        )
    one, two = caches
    assert len(one) == len(two) == 36
    bad = [i for i, it in enumerate(items) if it.image.parts[-2:] == ("Banarasi", "000001.jpg")]
    assert len(bad) == 2  # the photo and its changed copy
    assert not one.ok[bad].any() and not two.ok[bad].any()
    assert one.ok.sum() == two.ok.sum() == 34
    np.testing.assert_array_equal(one.masks, two.masks)
    for k in KEYS:
        np.testing.assert_array_equal(one.arrays[k], two.arrays[k])
    assert float(np.abs(np.asarray(two.arrays["s8"][one.ok], dtype=np.float32)).sum()) > 0


def test_resolve_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert [cli.resolve_device(c) for c in ("auto", "cpu", "cuda")] == ["cpu", "cpu", None]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert [cli.resolve_device(c) for c in ("auto", "cpu", "cuda")] == ["cuda", "cpu", "cuda"]


def test_cuda_asked_for_without_a_gpu_is_refused_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = write_fake_dataset(tmp_path / "data", per_class=2)
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = ["--data", str(data), "--out", str(out), "--cache", str(cache), "--device", "cuda"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--device cuda" in err and "no CUDA GPU" in err
    assert not out.exists() and not cache.exists()  # refused before anything is written


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU (run on the device machine)")
def test_segmentation_on_cuda_trains_as_on_the_cpu(tmp_path: Path) -> None:
    from saree_app.train.cache import build_cache
    from saree_app.train.data import load_dataset
    from saree_app.train.export import default_preprocessing
    from saree_app.train.loop import TrainConfig, Trainer

    items = load_dataset(write_fake_dataset(tmp_path / "data", per_class=12))
    cache = build_cache(items, tmp_path / "cache", default_preprocessing(64), pretrained=False)
    labels = sorted({it.tradition for it in items})
    attributes = sorted({a for it in items for a in it.attributes})
    cfg = TrainConfig(width=32, embedding_dim=16, seg_tuned_blocks=1, seg_epochs=2, batch_size=8)
    rows = np.flatnonzero(np.array([it.split == "train" for it in cache.items]))
    runs = {}
    for device in ("cpu", "cuda"):
        trainer = Trainer(cache, labels, attributes, cfg, pretrained=False, device=device)
        trainer.train_seg(rows, tmp_path / f"{device}.pt", None)
        assert next(trainer.net.heads.parameters()).device.type == device
        trainer.pool_all()
        # Pooling hands the net back to the CPU, where the heads, export and checkpoint read it.
        assert next(trainer.net.parameters()).device.type == "cpu"
        assert trainer.pooled is not None and trainer.pooled.device.type == "cpu"
        runs[device] = trainer
    cpu, gpu = runs["cpu"], runs["cuda"]
    losses = [[h["loss_seg"] for h in t.history] for t in (cpu, gpu)]
    np.testing.assert_allclose(losses[1], losses[0], rtol=0.02)
    a, b = cpu.pooled.numpy().ravel(), gpu.pooled.numpy().ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.99
    # A checkpoint written while the net was on the GPU resumes on a machine without one.
    state = torch.load(tmp_path / "cuda.pt", map_location="cpu", weights_only=False)
    assert state["stage"] == "heads" and state["seg_epoch"] == 2
    again = Trainer(cache, labels, attributes, cfg, pretrained=False, device="cpu")
    again.load(tmp_path / "cuda.pt")
    assert again.stage == "heads"
    json.dumps(gpu.history)  # plain numbers, as the manifest stores them


def test_a_cache_stopped_before_its_first_progress_save_starts_afresh(tmp_path: Path) -> None:
    from saree_app.train.cache import build_cache
    from saree_app.train.export import default_preprocessing

    items = _items(tmp_path)[:6]  # Kanchipuram's six, all readable
    prep = default_preprocessing(64)
    folder = tmp_path / "cache"
    first = build_cache(items, folder, prep, pretrained=False, workers=1)
    assert first.ok.sum() == 6
    # As a run killed while exporting the backbone leaves it: meta.json, no done.npy.
    (folder / "done.npy").unlink()
    (folder / "ok.npy").unlink()
    again = build_cache(items, folder, prep, pretrained=False, workers=1)
    assert again.ok.sum() == 6
    assert (folder / "done.npy").is_file()
