"""saree bench real keys its cache to every model the answers depend on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from saree_app.bench.real import _cache_key


def test_other_extra_models_do_not_read_stale_answers(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("one", encoding="utf-8")
    b.write_text("two", encoding="utf-8")
    manifest = SimpleNamespace(sha256="f" * 64, raw={"saree_check": {"threshold": 1.0}})
    bare = SimpleNamespace(manifest=manifest, cloth=None, person=None)
    with_a = SimpleNamespace(manifest=manifest, cloth=None, person=SimpleNamespace(path=a))
    with_b = SimpleNamespace(manifest=manifest, cloth=None, person=SimpleNamespace(path=b))
    keys = {_cache_key(p) for p in (bare, with_a, with_b)}
    assert len(keys) == 3
    assert _cache_key(with_a) == _cache_key(with_a)
    other_model = SimpleNamespace(
        manifest=SimpleNamespace(sha256="e" * 64, raw=manifest.raw), cloth=None, person=None
    )
    assert _cache_key(other_model) != _cache_key(bare)
    # The same model with another entry written after training (they decide the flags).
    refitted = SimpleNamespace(sha256="f" * 64, raw={"saree_check": {"threshold": 2.0}})
    assert _cache_key(SimpleNamespace(manifest=refitted, cloth=None, person=None)) != _cache_key(
        bare
    )
    unrelated = SimpleNamespace(sha256="f" * 64, raw={**manifest.raw, "latency": {"ms": 3}})
    assert _cache_key(SimpleNamespace(manifest=unrelated, cloth=None, person=None)) == _cache_key(
        bare
    )
