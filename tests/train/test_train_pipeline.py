"""Train one tiny epoch end to end through main(argv); evaluate; export; resume; bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

pytest.importorskip("torch")

from saree_app.train import cli
from tests.train.fakes import write_fake_dataset

# A network small enough to train in seconds on one core, shared by every run in this file.
TINY = [
    "--seg-epochs", "1", "--batch-size", "4", "--size", "64", "--width", "32",
    "--embedding-dim", "16", "--no-pretrained", "--threads", "1",
]  # fmt: skip
# Changed copies and pieces in the cache, a mirror-averaging export and a tuned copy of a
# stride-16 block in the segmentation decoder, as the shipped model is trained.
AUGMENT = [
    "--augment-copies", "1", "--piece-copies", "1", "--flip-average", "--seg-tuned-blocks", "1",
    "--seg-zooms", "1,0.75", "--seg-zooms-mirrored",
]  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_dataset(tmp_path_factory.mktemp("fake_data"))


@pytest.fixture(scope="module")
def trained(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("model")
    cache = tmp_path_factory.mktemp("cache")
    status = cli.main(
        [
            "--data",
            str(dataset),
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--epochs",
            "1",
            *TINY,
            "--eval",
            *AUGMENT,
        ]
    )
    assert status == 0
    return out, cache


@pytest.mark.slow
def test_augmented_copies_are_cached_with_their_moved_masks(trained: tuple[Path, Path]) -> None:
    from saree_app.train.cache import FeatureCache

    _, cache_dir = trained
    cache = FeatureCache(cache_dir)
    originals = {
        str(it.image): i
        for i, it in enumerate(cache.items)
        if it.split == "train" and not it.augment
    }
    for piece in (False, True):
        copies = [(i, it) for i, it in enumerate(cache.items) if it.augment and it.piece == piece]
        assert originals and len(copies) == len(originals)  # every fake photo has a mask
        assert {str(it.image) for _, it in copies} == set(originals)
        assert all(it.split == "train" for _, it in copies)
        changed = sum(
            not np.array_equal(cache.masks[i], cache.masks[originals[str(it.image)]])
            for i, it in copies
        )
        assert changed == len(copies)  # every copy was moved, and its mask with it

    # Every fake photo shows body, border and pallu; a piece is cut from the cloth, so many
    # pieces show fewer parts, which a copy that is only changed seldom does.
    def missing_a_part(piece: bool) -> float:
        rows = [i for i, it in enumerate(cache.items) if it.augment and it.piece == piece]
        return float(np.mean([len({1, 2, 3} - set(np.unique(cache.masks[i]))) > 0 for i in rows]))

    assert missing_a_part(True) > missing_a_part(False) + 0.2


@pytest.mark.slow
def test_train_exports_a_model_with_report(trained: tuple[Path, Path]) -> None:
    out, cache = trained
    manifest = json.loads((out / "saree-model.json").read_text())
    assert [lab.rsplit("#", 1)[1] for lab in manifest["labels"]] == [
        "Banarasi",
        "Kanchipuram",
        "PochampallyIkat",
    ]
    assert np.asarray(manifest["prototypes"]).shape == (3, 16)
    stages = [(h["stage"], h["epoch"]) for h in manifest["training"]["history"]]
    assert stages == [("seg", 1), ("heads", 1)]
    assert set(manifest["evaluation"]) == {"test", "heldout"}
    report = json.loads((out / "report.json").read_text())
    assert 0.0 <= report["heldout"]["top1"] <= 1.0
    assert "part_mIoU" in report["heldout"]["seg"]
    assert (out / "REPORT.md").read_text().startswith("# Evaluation")
    assert (
        "Part map read at zooms 1, 0.75 (the shrunk copies mirrored) (the manifest's seg_zooms"
        in (out / "REPORT.md").read_text()
    )
    assert (out / "confusion.png").is_file()
    assert (cache / "checkpoint.pt").is_file() and (cache / "final.pt").is_file()
    # The app's own loader accepts what training wrote (checksum, labels, prototypes).
    from saree_app.model.manifest import ModelManifest

    loaded = ModelManifest.load(out / "saree-model.json")
    assert loaded.labels == ("Banarasi", "Kanchipuram", "PochampallyIkat")
    assert len(loaded.prototypes) == 3
    # --seg-zooms: the app and the evaluation read the part map at both zooms.
    assert loaded.seg_zooms == (1.0, 0.75) and manifest["training"]["seg_zooms"] == [1.0, 0.75]
    assert loaded.seg_zooms_mirrored and manifest["training"]["seg_zooms_mirrored"] is True


@pytest.mark.slow
def test_segmentation_tunes_its_copy_of_a_block_and_not_the_backbone(
    trained: tuple[Path, Path],
) -> None:
    import torch

    from saree_app.train.loop import seed_everything
    from saree_app.train.net import NetConfig, PartAwareNet

    _, cache = trained
    state = torch.load(cache / "final.pt", map_location="cpu", weights_only=False)
    assert state["net_config"]["seg_tuned_blocks"] == 1
    seed_everything(state["training"]["seed"])  # the network as training built it, untrained
    start = PartAwareNet(NetConfig(**state["net_config"]), pretrained=False)
    copied = start.heads.seg_blocks[0].state_dict()
    for name, value in start.backbone.blocks[10].state_dict().items():
        torch.testing.assert_close(copied[name], value)  # the copy starts as the backbone
    learnt = {k[len("seg_blocks.0.") :]: v for k, v in state["heads"].items() if "seg_blocks" in k}
    moved = [n for n, v in copied.items() if not torch.equal(learnt[n], v)]
    assert any("weight" in n for n in moved)  # training changed the copy ...
    frozen_stats = [n for n in copied if "running" in n]
    assert frozen_stats and not set(frozen_stats) & set(moved)  # ... but not its BN statistics


@pytest.mark.slow
def test_training_resumes_from_its_checkpoint(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, cache = trained
    status = cli.main(
        [
            "--data",
            str(dataset),
            "--out",
            str(tmp_path),
            "--cache",
            str(cache),
            "--epochs",
            "2",
            *TINY,
            *AUGMENT,
            "--rotate-average",  # export-time choices: the checkpoint still resumes
            "--seg-edges",
            "2",
        ]
    )
    assert status == 0
    assert "resumed from" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "saree-model.json").read_text())
    history = manifest["training"]["history"]
    assert [(h["stage"], h["epoch"]) for h in history] == [("seg", 1), ("heads", 1), ("heads", 2)]
    assert manifest["architecture"]["config"]["rotate_average"] is True
    assert manifest["architecture"]["config"]["seg_edge_radius"] == 2


@pytest.mark.slow
def test_a_damaged_checkpoint_is_trained_afresh_with_a_plain_message(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    cache = tmp_path / "cache"  # a copy: the other tests resume the shared checkpoint
    shutil.copytree(trained[1], cache)
    (cache / "checkpoint.pt").write_bytes(b"\x80\x02 cut short")
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out"), "--cache", str(cache)]
    assert cli.main([*argv, "--epochs", "1", *TINY, *AUGMENT]) == 0
    err = capsys.readouterr().err
    assert "not a checkpoint of saree train" in err and "training afresh" in err
    after = torch.load(cache / "checkpoint.pt", weights_only=False)
    assert [(h["stage"], h["epoch"]) for h in after["history"]] == [("seg", 1), ("heads", 1)]
    # export-model says the same of a damaged final.pt instead of a traceback.
    (cache / "final.pt").write_bytes(b"\x80\x02 cut short")
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(tmp_path / "export")]
    assert cli.export_main(argv) == 2
    assert "not a checkpoint of saree train" in capsys.readouterr().err
    assert not (tmp_path / "export").exists()


@pytest.mark.slow
def test_a_checkpoint_that_cannot_be_read_is_left_alone(
    trained: tuple[Path, Path],
    dataset: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unlike a damaged checkpoint, one the system refuses to read (permissions, a failing disk)
    may hold hours of training: saree train stops instead of training afresh over it."""
    import errno

    from saree_app.train import loop

    cache = tmp_path / "cache"
    shutil.copytree(trained[1], cache)
    real_load = loop.torch.load

    def refused(path: Path, *a: object, **kw: object) -> object:
        if Path(path).suffix == ".pt":
            raise OSError(errno.EIO, "Input/output error", str(path))
        return real_load(path, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(loop.torch, "load", refused)
    before = (cache / "checkpoint.pt").read_bytes()
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out"), "--cache", str(cache)]
    assert cli.main([*argv, "--epochs", "1", *TINY, *AUGMENT]) == 2
    err = capsys.readouterr().err
    assert "cannot be read (Input/output error)" in err and "not training afresh" in err
    assert (cache / "checkpoint.pt").read_bytes() == before
    assert not (tmp_path / "out").exists()
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(tmp_path / "export")]
    assert cli.export_main(argv) == 2
    assert "cannot be read (Input/output error)" in capsys.readouterr().err
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out2"), "--cache", str(tmp_path / "c")]
    argv += ["--init-segmentation", str(cache / "final.pt")]
    assert cli.main([*argv, "--epochs", "1", *TINY]) == 2
    assert "--init-segmentation" in capsys.readouterr().err


@pytest.mark.slow
def test_a_changed_attribute_weight_retrains_only_the_heads(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from saree_app.train.loop import is_segmentation

    _, shared = trained
    cache = tmp_path / "cache"  # a copy: the other tests resume the shared checkpoint
    shutil.copytree(shared, cache)
    before = torch.load(cache / "checkpoint.pt", weights_only=False)
    assert before["stage"] == "done"
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out"), "--cache", str(cache)]
    argv += ["--epochs", "1", *TINY, *AUGMENT, "--attr-weight", "4", "--metric-weight", "2"]
    assert cli.main(argv) == 0
    assert "w_attr 1.0 -> 4.0, w_metric 0.5 -> 2.0" in capsys.readouterr().err
    after = torch.load(cache / "checkpoint.pt", weights_only=False)
    assert (after["config"]["w_attr"], after["config"]["w_metric"]) == (4.0, 2.0)
    assert [(h["stage"], h["epoch"]) for h in after["history"]] == [("seg", 1), ("heads", 1)]
    seg = [k for k in before["heads"] if is_segmentation(k)]
    heads = [k for k in before["heads"] if k.startswith(("cls.", "attr.", "trunk."))]
    assert seg and heads
    assert all(torch.equal(before["heads"][k], after["heads"][k]) for k in seg)
    assert not any(torch.equal(before["heads"][k], after["heads"][k]) for k in heads)


@pytest.mark.slow
def test_more_segmentation_epochs_train_the_segmentation_afresh(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finished checkpoint is not passed off as a run with more segmentation epochs: its
    cosine schedule spanned its own epochs, so the segmentation trains again from the start."""
    import torch

    _, shared = trained
    cache = tmp_path / "cache"  # a copy: the other tests resume the shared checkpoint
    shutil.copytree(shared, cache)
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out"), "--cache", str(cache)]
    argv += ["--epochs", "1", *TINY, *AUGMENT, "--seg-epochs", "2"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "seg_epochs 1 -> 2" in err and "training afresh" in err and "resumed from" not in err
    after = torch.load(cache / "checkpoint.pt", weights_only=False)
    assert after["config"]["seg_epochs"] == 2
    stages = [(h["stage"], h["epoch"]) for h in after["history"]]
    assert stages == [("seg", 1), ("seg", 2), ("heads", 1)]


def test_restarted_heads_start_where_a_fresh_run_starts(tmp_path: Path) -> None:
    import torch

    from saree_app.train.cache import build_cache
    from saree_app.train.data import load_dataset
    from saree_app.train.export import default_preprocessing
    from saree_app.train.loop import TrainConfig, Trainer, is_segmentation

    items = load_dataset(write_fake_dataset(tmp_path / "data"))
    cache = build_cache(items, tmp_path / "cache", default_preprocessing(64), pretrained=False)
    labels = sorted({it.tradition for it in items})
    attributes = sorted({a for it in items for a in it.attributes})
    cfg = TrainConfig(width=32, embedding_dim=16, seg_tuned_blocks=1)
    fresh = Trainer(cache, labels, attributes, cfg, pretrained=False)
    start = {k: v.clone() for k, v in fresh.net.heads.state_dict().items()}
    proxies = fresh.proxies.detach().clone()
    with torch.no_grad():
        for p in fresh.net.heads.parameters():
            p.add_(1.0)  # as if both stages had trained
        fresh.proxies.add_(1.0)
    trained = {k: v.clone() for k, v in fresh.net.heads.state_dict().items()}
    fresh.stage, fresh.epoch = "done", 5
    fresh.history = [{"stage": "seg", "epoch": 1}, {"stage": "heads", "epoch": 5}]
    fresh.restart_heads()
    now = fresh.net.heads.state_dict()
    for k, v in now.items():
        if is_segmentation(k):
            assert torch.equal(v, trained[k]), k  # the trained segmentation is kept
        else:
            assert torch.equal(v, start[k]), k  # back to the fresh values
    assert torch.equal(fresh.proxies.detach(), proxies)
    assert (fresh.stage, fresh.epoch, fresh.history) == ("heads", 0, [{"stage": "seg", "epoch": 1}])


@pytest.mark.slow
def test_export_model_from_final_checkpoint(trained: tuple[Path, Path], tmp_path: Path) -> None:
    _, cache = trained
    assert cli.export_main(["--checkpoint", str(cache / "final.pt"), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "saree-model.onnx").is_file()
    manifest = json.loads((tmp_path / "saree-model.json").read_text())
    assert manifest["architecture"]["config"]["flip_average"] is True
    single = tmp_path / "single"
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(single), "--flip-average", "no"]
    argv += ["--rotate-average", "no"]
    assert cli.export_main(argv) == 0
    manifest = json.loads((single / "saree-model.json").read_text())
    assert manifest["architecture"]["config"]["flip_average"] is False
    assert manifest["architecture"]["averaged_views"] == ["photo"]
    turned = tmp_path / "turned"
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(turned)]
    argv += ["--rotate-average", "yes"]
    assert cli.export_main(argv) == 0
    manifest = json.loads((turned / "saree-model.json").read_text())
    assert manifest["training"]["config"]["rotate_average"] is True  # records what was written
    assert manifest["training"]["export_command"].endswith("--rotate-average yes")
    assert manifest["architecture"]["averaged_views"] == [
        "photo",
        "mirror image",
        "photo turned a quarter",
        "mirror image turned a quarter",
    ]
    sharp = tmp_path / "edges"
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(sharp), "--seg-edges", "3"]
    assert cli.export_main(argv) == 0
    manifest = json.loads((sharp / "saree-model.json").read_text())
    assert manifest["architecture"]["config"]["seg_edge_radius"] == 3
    assert manifest["training"]["config"]["seg_edge_radius"] == 3
    heads = manifest["architecture"]["heads"]
    assert "along the photo's colour edges (guided filter, radius 3)" in heads
    size = manifest["input"]["size"]
    sess = ort.InferenceSession(str(sharp / "saree-model.onnx"), providers=["CPUExecutionProvider"])
    seg = sess.run(["seg"], {"image": np.zeros((1, 3, size, size), np.float32)})[0]
    assert seg.shape == (1, 4, size // 2, size // 2)  # stride 2 instead of the decoder's 4
    # The zooms default to what training chose, and may be overridden like the views.
    exported = json.loads((tmp_path / "saree-model.json").read_text())
    assert exported["seg_zooms"] == [1.0, 0.75] and exported["seg_zooms_mirrored"] is True
    once = tmp_path / "once"
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(once), "--seg-zooms", "1"]
    assert cli.export_main(argv) == 0
    manifest = json.loads((once / "saree-model.json").read_text())
    assert manifest["seg_zooms"] == [1.0] and manifest["training"]["seg_zooms"] == [1.0]
    assert manifest["seg_zooms_mirrored"] is True  # not overridden: training's choice
    assert manifest["training"]["export_command"].endswith("--seg-zooms 1")
    with pytest.raises(SystemExit):
        cli.export_main([*argv[:-1], "0.875,1"])  # the photo as it is must come first
    argv = ["--checkpoint", str(cache / "final.pt"), "--out", str(once), "--seg-zooms-mirrored"]
    assert cli.export_main([*argv, "no"]) == 0
    manifest = json.loads((once / "saree-model.json").read_text())
    assert manifest["seg_zooms"] == [1.0, 0.75] and manifest["seg_zooms_mirrored"] is False
    assert manifest["training"]["seg_zooms_mirrored"] is False


@pytest.mark.slow
def test_eval_stores_its_figures_beside_the_manifest_s_others(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path
) -> None:
    out, _ = trained
    for f in ("saree-model.json", "saree-model.onnx"):
        (tmp_path / f).write_bytes((out / f).read_bytes())
    path = tmp_path / "saree-model.json"
    manifest = json.loads(path.read_text())
    manifest["evaluation"] = {"latency": {"median_ms": 1.0}, "heldout": {"top1": -1.0}}
    path.write_text(json.dumps(manifest))
    argv = ["--model", str(path), "--data", str(dataset), "--out", str(tmp_path / "report")]
    assert cli.eval_main([*argv, "--update-manifest"]) == 0
    figures = json.loads(path.read_text())["evaluation"]
    assert figures["latency"] == {"median_ms": 1.0}  # kept
    assert 0.0 <= figures["heldout"]["top1"] <= 1.0  # replaced
    assert "top1" in figures["test"]


def test_unknown_tradition_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Kanchipram").mkdir()
    (tmp_path / "Kanchipram" / "a.jpg").write_bytes(b"not used")
    status = cli.main(["--data", str(tmp_path), "--out", str(tmp_path / "m")])
    assert status == 2
    err = capsys.readouterr().err
    assert "'Kanchipram' is not a tradition" in err and "Kanchipuram" in err


def test_too_many_tuned_blocks_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--data", str(tmp_path), "--out", str(tmp_path / "m"), "--seg-tuned-blocks", "7"])
    assert stop.value.code == 2
    assert "--seg-tuned-blocks: invalid choice: 7" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_a_second_stage_starts_from_the_first_stage_s_segmentation(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from saree_app.train.cache import FeatureCache
    from saree_app.train.loop import is_segmentation

    _, first = trained
    cache = tmp_path / "cache"
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out"), "--cache", str(cache)]
    argv += ["--epochs", "1", *TINY, *AUGMENT, "--surfaces", "varied"]
    # A learning rate of 0: whatever the segmentation ends with, it started with.
    argv += ["--init-segmentation", str(first / "final.pt"), "--lr", "0"]
    assert cli.main(argv) == 0
    assert "segmentation starts from" in capsys.readouterr().err
    before = torch.load(first / "final.pt", weights_only=False)["heads"]
    after = torch.load(cache / "final.pt", weights_only=False)["heads"]
    # Batch-norm statistics follow the new batches whatever the rate; the weights must not.
    learnt = [k for k in before if is_segmentation(k) and "running" not in k and "batches" not in k]
    assert any(k.startswith("seg_blocks.") for k in learnt) and any("seg8" in k for k in learnt)
    assert all(torch.equal(before[k], after[k]) for k in learnt)
    # The second stage's own copies got the varied surfaces; the photos as they are did not.
    items = FeatureCache(cache).items
    assert {it.surfaces for it in items if it.augment} == {"varied"}
    assert {it.surfaces for it in items if not it.augment} == {"basic"}


def test_a_second_stage_refuses_a_segmentation_of_another_shape(
    trained: tuple[Path, Path], dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first = trained
    argv = ["--data", str(dataset), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c")]
    argv += ["--epochs", "1", *TINY, "--seg-tuned-blocks", "2"]  # the first stage tuned 1
    assert cli.main([*argv, "--init-segmentation", str(first / "final.pt")]) == 2
    assert "seg_tuned_blocks 1 there, 2 here" in capsys.readouterr().err
    assert cli.main([*argv, "--init-segmentation", str(tmp_path / "none.pt")]) == 2
    assert "none.pt: no such checkpoint" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert cli.main([*argv, "--init-segmentation", str(tmp_path / "junk.pt")]) == 2
    assert "junk.pt: not a checkpoint of saree train" in capsys.readouterr().err
    # Refused before any photo was cached or a model written.
    assert not (tmp_path / "out").exists() and not (tmp_path / "c").exists()
