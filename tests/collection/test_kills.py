"""kill -9 in the middle of `saree fewshot --apply` and of a real `saree export`: nothing lost.

Each test runs the real command in a child process, kills it at several points while it works,
and after every kill checks that the catalogue opens whole, no photo or answer is lost, and
that what the command writes is either as it was or whole and new. (The kills during
`saree import` are in test_end_to_end.py.)
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from saree_app.collection.catalog import Catalog, NewPhoto, unpack_result
from saree_app.collection.fewshot import APPLY_BATCH

SHA = "f" * 64
DIM = 16
TRADITIONS = ("Kanchipuram", "Banarasi", "Paithani")


def _catalogue(path: Path, n: int, *, note: str = "") -> None:
    """n photos the model calls Kanchipuram; really a third of each tradition, 3 of each
    confirmed so that teaching has something to say."""
    rng = np.random.default_rng(7)
    centres = {t: rng.normal(size=DIM) for t in TRADITIONS}
    with Catalog(path) as cat, cat.transaction():
        cat.register_model(SHA, name="stand-in", embedding_dim=DIM, labels=TRADITIONS)
        for i in range(n):
            t = TRADITIONS[i % 3]
            v = (centres[t] + 0.3 * rng.normal(size=DIM)).astype(np.float32)
            pid = cat.record(
                NewPhoto(f"/photos/{i:05d} {note}.jpg", f"{i:064x}", 1000 + i),
                SHA,
                {
                    "tradition": "Kanchipuram",
                    "probability": 0.6,
                    "visual": [["Kanchipuram", 0.6], ["Banarasi", 0.3], ["Paithani", 0.1]],
                    "attributes": [],
                },
                top_tradition="Kanchipuram",
                top_probability=0.6,
                uncertain=True,
                embedding=v,
                part_embeddings=np.stack([v, v, v]),
            )
            if i < 9:
                cat.set_label(pid, tradition=t)
            elif note:
                cat.set_label(pid, note=f"{note} {i}", certainty="possible")
                cat.add_tags(pid, [f"box {i % 7}", note])


def _saree(*args: str) -> list[str]:
    return [sys.executable, "-m", "saree_app.cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}


def _answers(path: Path) -> tuple[int, int, int]:
    """(photos, answers re-ranked with teaching, answers as imported), read-only."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        photos = db.execute("SELECT count(*) FROM photos").fetchone()[0]
        stored = db.execute(
            "SELECT result FROM predictions WHERE model_sha256 = ?", (SHA,)
        ).fetchall()
    finally:
        db.close()
    # Answers are stored compressed (catalog.pack_result): unpacked to be read.
    taught = sum("fewshot" in unpack_result(r[0]) for r in stored)
    return int(photos), taught, len(stored) - taught


def _check_catalogue(path: Path, n: int) -> tuple[int, int]:
    """The catalogue opens whole with every photo and one answer each; (new, old) answers."""
    with Catalog(path, create=False) as cat:
        assert cat.integrity_problems() == []
        assert cat.count() == n
        assert len(cat.labels()) >= 9
        preds = cat.predictions(SHA)
        assert sorted(preds) == sorted(p.id for p in cat.photos())
        new = sum("fewshot" in p.result for p in preds.values())
    return new, n - new


@pytest.mark.slow
def test_fewshot_apply_killed_mid_way_loses_nothing(tmp_path: Path) -> None:
    n = 3000
    path = tmp_path / "c.saree"
    _catalogue(path, n)
    cmd = _saree("fewshot", "--catalog", str(path), "--apply")
    kills = mid_way = 0
    seen_new: set[int] = set()
    # Killed while it fits, while it writes its first batches, and later on.
    for wait_new in (0, 1, APPLY_BATCH * 5, APPLY_BATCH * 20, APPLY_BATCH * 40):
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=tmp_path
        )
        deadline = time.monotonic() + 120
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if _answers(path)[1] >= wait_new:
                    break
                time.sleep(0.005)
        finally:
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
        if proc.returncode != -signal.SIGKILL:
            continue  # it finished first: nothing to learn from this one
        kills += 1
        new, _old = _check_catalogue(path, n)
        # Answers are written a batch per transaction: a kill keeps whole batches only.
        assert new % APPLY_BATCH == 0 or new == n, (new, err.decode())
        mid_way += 0 < new < n
        seen_new.add(new)
        if new == n:
            # Everything was written; later kills start again over a taught catalogue.
            break
    assert kills >= 3, "the command finished before it could be killed"
    assert mid_way >= 2, f"no kill landed while answers were being written: {sorted(seen_new)}"
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert _check_catalogue(path, n) == (n, 0)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _export_checks(out: Path, fmt: str, n: int, old: str | None) -> str:
    """The file at `out` is the old one or a whole new export of n photos."""
    if not out.exists():
        assert old is None
        return "none"
    text = out.read_text(encoding="utf-8")
    if old is not None and text == old:
        return "old"
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert len(rows) == n
        assert rows[-1]["id"] == str(n)
    else:
        items = json.loads(text)["@graph"]
        assert [x["type"] for x in items] == ["HumanMadeObject"] * n
        assert items[-1]["identified_by"][0]["content"] == str(n)
    return "new"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "jsonld"])
def test_export_killed_mid_way_leaves_the_old_file_or_the_new_whole(
    tmp_path: Path, fmt: str
) -> None:
    n = 4000
    path = tmp_path / "c.saree"
    _catalogue(path, n, note="gift, 1962 ‘Ilkal’ =SUM(1)")
    out = tmp_path / f"collection.{fmt}"
    before = _answers(path)
    cmd = _saree("export", "--catalog", str(path), "--format", fmt, "--out", str(out))
    old: str | None = None
    kills = while_writing = 0
    outcomes: list[str] = []
    for i in range(8):
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=tmp_path
        )
        deadline = time.monotonic() + 120
        try:
            if i % 2 == 0:
                # Caught while its temporary file is being written.
                while proc.poll() is None and time.monotonic() < deadline:
                    if any(tmp_path.glob(f".{out.name}.*.tmp")):
                        break
                    time.sleep(0.0005)
            else:
                time.sleep(0.1 * i)  # while it reads the catalogue and builds the text
        finally:
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
        if proc.returncode != -signal.SIGKILL:
            assert proc.returncode == 0, err.decode()
            outcomes.append(_export_checks(out, fmt, n, None))
            old = out.read_text(encoding="utf-8")
            continue
        kills += 1
        left = list(tmp_path.glob(f".{out.name}.*.tmp"))
        while_writing += bool(left)
        assert len(left) <= 1
        outcomes.append(_export_checks(out, fmt, n, old))
        # The catalogue is only read: every photo and answer is still there, unchanged.
        assert _answers(path) == before
        with Catalog(path, create=False) as cat:
            assert cat.integrity_problems() == []
    assert kills >= 4, outcomes
    assert while_writing >= 1, "no kill landed while the file was being written"
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert _export_checks(out, fmt, n, None) == "new"
    # What killed exports left behind is gone once an export runs to the end.
    assert not list(tmp_path.glob(f".{out.name}.*"))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
