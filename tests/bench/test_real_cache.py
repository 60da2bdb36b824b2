"""saree bench real keys its cache to every model the answers depend on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from saree_app.bench.real import _cache_key


def test_other_extra_models_do_not_read_stale_answers(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("one", encoding="utf-8")
    b.write_text("two", encoding="utf-8")
    manifest = SimpleNamespace(sha256="f" * 64)
    bare = SimpleNamespace(manifest=manifest, cloth=None, person=None)
    with_a = SimpleNamespace(manifest=manifest, cloth=None, person=SimpleNamespace(path=a))
    with_b = SimpleNamespace(manifest=manifest, cloth=None, person=SimpleNamespace(path=b))
    keys = {_cache_key(p) for p in (bare, with_a, with_b)}
    assert len(keys) == 3
    assert _cache_key(with_a) == _cache_key(with_a)
    other_model = SimpleNamespace(
        manifest=SimpleNamespace(sha256="e" * 64), cloth=None, person=None
    )
    assert _cache_key(other_model) != _cache_key(bare)
