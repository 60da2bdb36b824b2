"""ONNX export of PartAwareNet: contract names and shapes, torch/onnxruntime parity, manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
F = torch.nn.functional

from saree_app.train.export import export_onnx, sha256_of  # noqa: E402
from saree_app.train.net import OUTPUTS, NetConfig, PartAwareNet  # noqa: E402


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_tiny_model_follows_the_contract(tiny_model: Path) -> None:
    manifest = json.loads(tiny_model.read_text())
    onnx_path = tiny_model.parent / manifest["onnx"]
    assert manifest["format"] == "saree-model/1"
    assert manifest["sha256"] == sha256_of(onnx_path)
    assert manifest["outputs"] == list(OUTPUTS)
    assert all(lab.startswith("https://saree-provenance.example/ns#") for lab in manifest["labels"])
    c, a, d = len(manifest["labels"]), len(manifest["attributes"]), manifest["embedding_dim"]
    assert np.asarray(manifest["prototypes"]).shape == (c, d)
    sess = _session(onnx_path)
    assert [i.name for i in sess.get_inputs()] == ["image"]
    assert [o.name for o in sess.get_outputs()] == list(OUTPUTS)
    size = manifest["input"]["size"]
    for batch in (1, 3):  # dynamic batch
        x = np.random.default_rng(batch).normal(size=(batch, 3, size, size)).astype(np.float32)
        out = dict(zip(OUTPUTS, sess.run(None, {"image": x}), strict=True))
        assert out["logits"].shape == (batch, c)
        assert out["part_logits"].shape == (batch, 3, c)
        assert out["seg"].shape[:2] == (batch, 4)
        assert out["cam"].shape[:2] == (batch, c)
        assert out["attributes"].shape == (batch, a)
        assert out["embedding"].shape == (batch, d)
        assert out["part_embeddings"].shape == (batch, 3, d)
        np.testing.assert_allclose(np.linalg.norm(out["embedding"], axis=1), 1.0, atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(out["part_embeddings"], axis=2), 1.0, atol=1e-4)


def test_export_binds_the_model_and_its_manifest(tiny_model: Path) -> None:
    from saree_app.model.manifest import ONNX_MEANING_KEY, contract_of, meaning_of

    manifest = json.loads(tiny_model.read_text())
    assert manifest["contract"] == contract_of(manifest)
    recorded = _session(tiny_model.with_suffix(".onnx")).get_modelmeta().custom_metadata_map
    assert json.loads(recorded[ONNX_MEANING_KEY]) == meaning_of(manifest)


def test_onnx_matches_torch_with_pretrained_backbone(tmp_path: Path) -> None:
    torch.manual_seed(1)
    cfg = NetConfig(num_classes=5, num_attributes=7, size=96, width=64, embedding_dim=16)
    net = PartAwareNet(cfg, pretrained=True).eval()
    path = export_onnx(net, tmp_path / "m.onnx")
    x = np.random.default_rng(0).normal(size=(2, 3, 96, 96)).astype(np.float32)
    with torch.no_grad():
        expected = [t.numpy() for t in net(torch.from_numpy(x))]
    got = _session(path).run(None, {"image": x})
    assert np.abs(got[0] - expected[0]).max() <= 1e-4  # logits, the contract's parity bound
    for name, g, e in zip(OUTPUTS, got, expected, strict=True):
        assert g.shape == e.shape, name
        np.testing.assert_allclose(g, e, atol=1e-3, rtol=1e-3, err_msg=name)


def _assert_cams_sum_to(net: PartAwareNet, cam: torch.Tensor, logits: torch.Tensor) -> None:
    np.testing.assert_allclose(
        cam.sum(dim=(2, 3)).numpy() + net.heads.cam_bias().detach().numpy(),
        logits.numpy(),
        atol=1e-4,
    )


def _averaging_net(seed: int, *, rotate_average: bool) -> PartAwareNet:
    """A small net that averages the photo and its mirror image (and their quarter turns),
    with heads moved off their start so that the views answer differently."""
    torch.manual_seed(seed)
    cfg = NetConfig(
        num_classes=4,
        num_attributes=3,
        size=64,
        width=32,
        embedding_dim=8,
        flip_average=True,
        rotate_average=rotate_average,
        seg_attention=1,
    )
    net = PartAwareNet(cfg, pretrained=True).eval()
    with torch.no_grad():
        torch.nn.init.normal_(net.heads.attn16[0].out.weight, std=0.1)  # not the identity
        net.heads.mu.uniform_(0.0, 1.0)
        net.heads.sd.uniform_(0.5, 2.0)
    return net


def test_cam_sums_back_to_the_logits() -> None:
    torch.manual_seed(2)
    cfg = NetConfig(num_classes=4, num_attributes=3, size=64, width=32, embedding_dim=8)
    net = PartAwareNet(cfg, pretrained=False).eval()
    with torch.no_grad():  # a non-trivial standardisation must be carried by cam_bias()
        net.heads.mu.uniform_(0.0, 1.0)
        net.heads.sd.uniform_(0.5, 2.0)
        logits, _, _, cam, *_ = net(torch.randn(2, 3, 64, 64))
    _assert_cams_sum_to(net, cam, logits)


def test_input_size_must_fit_the_strides() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        PartAwareNet(NetConfig(num_classes=2, num_attributes=1, size=100), pretrained=False)


def test_white_balance_divides_out_a_colour_cast() -> None:
    from saree_app.train.net import IMAGENET_MEAN, IMAGENET_STD, Backbone

    bb = Backbone(64, pretrained=False, white_balance=True)
    rng = torch.Generator().manual_seed(0)
    rgb = torch.rand(1, 3, 32, 32, generator=rng) * 0.5 + 0.25
    cast = rgb * torch.tensor([1.15, 0.92, 0.62]).reshape(1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
    a = bb.balance((rgb - mean) / std) * std + mean
    b = bb.balance((cast - mean) / std) * std + mean
    # Same picture up to overall brightness, which grey-world keeps.
    torch.testing.assert_close(a / a.mean(), b / b.mean(), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(rgb / rgb.mean(), cast / cast.mean(), atol=1e-2)


def test_flip_average_answers_the_same_for_a_mirrored_photo(tmp_path: Path) -> None:
    net = _averaging_net(3, rotate_average=False)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        a = net(x)
        b = net(x.flip(-1))
        single = net.single(x)
    logits, _, seg, cam, _, emb, _ = a
    torch.testing.assert_close(b[0], logits, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(b[2], seg.flip(-1), atol=1e-4, rtol=1e-4)  # maps mirror back
    assert not torch.allclose(single[0], logits, atol=1e-4)  # the mirror pass did change it
    _assert_cams_sum_to(net, cam, logits)  # averaged CAMs still sum to the averaged logits
    np.testing.assert_allclose(np.linalg.norm(emb.numpy(), axis=1), 1.0, atol=1e-5)
    path = export_onnx(net, tmp_path / "flip.onnx")
    got = _session(path).run(None, {"image": x.numpy()})
    assert np.abs(got[0] - logits.numpy()).max() <= 1e-4


def test_rotate_average_is_the_mean_over_turned_and_mirrored_views(tmp_path: Path) -> None:
    net = _averaging_net(5, rotate_average=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits, _, seg, cam, _, emb, _ = net(x)
        mirrored = net(x.flip(-1))
        # The reference: numpy's quarter turns, each view's maps turned back by hand.
        xs = x.numpy()
        views = [xs, xs[..., ::-1], np.rot90(xs, 1, (2, 3)), np.rot90(xs[..., ::-1], 1, (2, 3))]
        outs = [net.single(torch.from_numpy(np.ascontiguousarray(v))) for v in views]
    seg_back = [
        outs[0][2].numpy(),
        outs[1][2].numpy()[..., ::-1],
        np.rot90(outs[2][2].numpy(), -1, (2, 3)),
        np.rot90(outs[3][2].numpy(), -1, (2, 3))[..., ::-1],
    ]
    np.testing.assert_allclose(seg.numpy(), np.mean(seg_back, axis=0), atol=1e-4)
    mean_logits = np.mean([o[0].numpy() for o in outs], axis=0)
    np.testing.assert_allclose(logits.numpy(), mean_logits, atol=1e-4)
    # A turned view answers differently, so the average is not just the untouched photo.
    assert np.abs(outs[2][0].numpy() - outs[0][0].numpy()).max() > 1e-3
    # Mirroring the photo only reorders the four views: same answer, maps mirrored.
    torch.testing.assert_close(mirrored[0], logits, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(mirrored[2], seg.flip(-1), atol=1e-4, rtol=1e-4)
    _assert_cams_sum_to(net, cam, logits)  # averaged CAMs still sum to the averaged logits
    np.testing.assert_allclose(np.linalg.norm(emb.numpy(), axis=1), 1.0, atol=1e-5)
    path = export_onnx(net, tmp_path / "turned.onnx")
    got = _session(path).run(None, {"image": x.numpy()})
    assert np.abs(got[0] - logits.numpy()).max() <= 1e-4
    np.testing.assert_allclose(got[2], seg.numpy(), atol=1e-4)


def test_soft_dice_is_zero_for_a_perfect_answer_and_ignores_unlabelled_pixels() -> None:
    from saree_app.train.loop import soft_dice_loss

    target = torch.tensor([[[0, 1, 2, 3], [1, 1, 3, -1]]])
    perfect = torch.nn.functional.one_hot(target.clamp(min=0), 4).permute(0, 3, 1, 2) * 50.0
    assert float(soft_dice_loss(perfect.float(), target)) < 1e-3
    unlabelled = perfect.clone().float()
    unlabelled[0, :, 1, 3] = torch.tensor([0.0, 0.0, 50.0, 0.0])  # any answer where no label
    assert float(soft_dice_loss(unlabelled, target)) < 1e-3
    wrong = perfect.roll(1, dims=1)  # every pixel given the next class
    assert float(soft_dice_loss(wrong.float(), target)) > 0.7


def test_tuned_segmentation_blocks_start_as_the_backbone_and_export(tmp_path: Path) -> None:
    torch.manual_seed(5)
    base = {"num_classes": 3, "num_attributes": 2, "size": 64, "width": 32, "embedding_dim": 8}
    tuned = PartAwareNet(NetConfig(**base, seg_tuned_blocks=2), pretrained=True).eval()
    plain = PartAwareNet(NetConfig(**base), pretrained=True).eval()
    state = {k: v for k, v in tuned.heads.state_dict().items() if not k.startswith("seg_blocks")}
    plain.heads.load_state_dict(state)
    assert len(tuned.heads.seg_blocks) == 2
    assert all(p.requires_grad for p in tuned.heads.seg_blocks.parameters())
    assert not any(p.requires_grad for p in tuned.backbone.parameters())
    tuned.train()  # the copy keeps its ImageNet batch-norm statistics in training too
    assert not tuned.heads.seg_blocks.training and tuned.heads.lat16.training
    tuned.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        # An untouched copy of the backbone's blocks answers as the frozen blocks do.
        torch.testing.assert_close(tuned(x)[2], plain(x)[2], atol=1e-5, rtol=1e-5)
        for p in tuned.heads.seg_blocks.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        seg = tuned(x)[2]
        logits = tuned(x)[0]
    assert not torch.allclose(seg, plain(x)[2].detach(), atol=1e-3)
    path = export_onnx(tuned, tmp_path / "tuned.onnx")
    got = _session(path).run(None, {"image": x.numpy()})
    assert np.abs(got[0] - logits.numpy()).max() <= 1e-4
    assert np.abs(got[2] - seg.numpy()).max() <= 1e-3
    with pytest.raises(ValueError, match="0 to 6"):
        PartAwareNet(NetConfig(**base, seg_tuned_blocks=7), pretrained=False)


def _step_photo(edge: int, size: int = 64) -> torch.Tensor:
    """A normalised photo: dark cloth left of column `edge`, light cloth right of it."""
    x = torch.full((1, 3, size, size), -1.0)
    x[..., edge:] = 1.0
    return x


@pytest.mark.parametrize("edge", [18, 26])
def test_part_map_follows_the_photo_edge(edge: int) -> None:
    from saree_app.train.net import follow_edges

    # The decoder's stride-4 map says border on the left, body on the right, and puts the change
    # around photo column 22; the photo's own edge is 4 columns left or right of that.
    seg = torch.zeros(1, 4, 16, 16)
    seg[:, 2, :, :5] = 4.0
    seg[:, 1, :, 5:] = 4.0
    seg[:, 2, :, 5] = seg[:, 1, :, 5] = 2.0
    plain = F.interpolate(seg, size=(32, 32), mode="bilinear", align_corners=False).argmax(1)
    sharp = follow_edges(seg, _step_photo(edge), 4)
    assert sharp.shape == (1, 4, 32, 32)  # stride 2
    assert (plain[0, 16] == 2).sum().item() == 11  # without the filter: stride-2 column 11
    # With it, the border stops at the photo's edge, in every row.
    rows = sharp.argmax(1)[0]
    assert (rows[:, : edge // 2] == 2).all() and (rows[:, edge // 2 :] == 1).all(), rows[16]
    # Probabilities still sum to one once a softmax reads the logits back.
    torch.testing.assert_close(sharp.softmax(1).sum(1), torch.ones(1, 32, 32))


def test_part_map_without_edges_keeps_the_decoders_answer() -> None:
    from saree_app.train.net import follow_edges

    # On a photo without edges the filter has nothing to follow: it only smooths, and the
    # boundary between body (left) and border (right) stays where the decoder put it.
    seg = torch.zeros(1, 4, 16, 16)
    seg[:, 1] = torch.linspace(3, -3, 16)[None, :]
    seg[:, 2] = torch.linspace(-3, 3, 16)[None, :]
    flat = torch.zeros(1, 3, 64, 64)
    plain = F.interpolate(seg, size=(32, 32), mode="bilinear", align_corners=False).argmax(1)
    got = follow_edges(seg, flat, 4).argmax(1)
    assert torch.equal(got, plain)
    assert set(plain.unique().tolist()) == {1, 2}


def test_edge_following_export_matches_torch(tmp_path: Path) -> None:
    torch.manual_seed(4)
    cfg = NetConfig(
        num_classes=4, num_attributes=3, size=64, width=32, embedding_dim=8, seg_edge_radius=3
    )
    net = PartAwareNet(cfg, pretrained=True).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out = net(x)
        plain = net.averaged(x)
    assert out[2].shape == (2, 4, 32, 32)
    for k in (0, 1, 3, 4, 5, 6):  # only the part map changes
        torch.testing.assert_close(out[k], plain[k])
    got = _session(export_onnx(net, tmp_path / "edges.onnx")).run(None, {"image": x.numpy()})
    np.testing.assert_allclose(got[2], out[2].numpy(), atol=1e-3, rtol=1e-3)
    assert np.abs(got[0] - out[0].numpy()).max() <= 1e-4
