"""The cloth-features export: its cloth likeness is the ImageNet classifier's, summed."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")


def test_the_cloth_likeness_is_the_imagenet_classifiers_belief_in_cloth() -> None:
    from efficientnet_lite_pytorch import EfficientNet

    from saree_app.train.cloth import (
        CLOTH_CLASSES,
        IMAGENET_CLASSES,
        LIKENESS_THRESHOLD,
        SIZE,
        _Pooled,
    )
    from saree_app.train.net import weights_path

    assert all(0 <= k < IMAGENET_CLASSES for k in CLOTH_CLASSES)
    assert pytest.approx(len(CLOTH_CLASSES) / IMAGENET_CLASSES) == LIKENESS_THRESHOLD
    net = _Pooled().eval()
    full = EfficientNet.from_name("efficientnet-lite0", image_size=SIZE)
    full.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    full.eval()
    x = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        features, likeness = net(x)
        probs = torch.softmax(full(x), dim=1)
    assert features.shape == (2, 320) and likeness.shape == (2,)
    want = probs[:, sorted(CLOTH_CLASSES)].sum(dim=1)
    assert torch.allclose(likeness, want, atol=1e-5)
    # Not every class: the rest of the 1000 carry the remaining belief.
    assert bool((likeness < probs.sum(dim=1) - 1e-3).all())
