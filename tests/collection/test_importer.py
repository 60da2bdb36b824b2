"""Importing folders: progress, dedupe, bad files, cancel, and resuming after a killed process."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from collection_fakes import FakePredictor, make_folder, write_photo
from PIL import Image

from saree_app.collection.catalog import Catalog
from saree_app.collection.importer import exif_facts, find_photos, import_folder, run_import

HERE = Path(__file__).resolve().parent


def _broken_folder(root: Path) -> dict[str, Path]:
    good = make_folder(root, 6)
    cut = root / "Banarasi" / "cut.jpg"
    cut.write_bytes(good[0].read_bytes()[:300])
    (root / "Banarasi" / "empty.jpg").write_bytes(b"")
    (root / "Paithani" / "empty too.jpg").write_bytes(b"")
    (root / "Paithani" / "report.pdf.jpg").write_bytes(b"%PDF-1.4 not a photo" * 10)
    (root / "notes.txt").write_text("provenance notes")
    (root / "Kanchipuram" / "000.mask.png").write_bytes(b"mask, ignored")
    dup = root / "copies" / "same.jpg"
    dup.parent.mkdir()
    shutil.copy(good[1], dup)
    return {"cut": cut, "dup": dup, "first": good[1]}


def test_find_photos_is_recursive_and_quiet_about_side_files(tmp_path: Path) -> None:
    _broken_folder(tmp_path)
    (tmp_path / ".hidden").mkdir()
    write_photo(tmp_path / ".hidden" / "x.jpg", (1, 2, 3), 0)
    photos, others = find_photos(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in photos}
    assert "copies/same.jpg" in names
    assert "Banarasi/cut.jpg" in names
    assert not any("mask" in n or ".hidden" in n for n in names)
    assert [Path(o.path).name for o in others] == ["notes.txt"]


def test_import_reports_bad_files_and_duplicates_and_never_raises(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    files = _broken_folder(folder)
    steps = []
    with Catalog(tmp_path / "c.saree") as cat:
        for step in import_folder(cat, folder, FakePredictor(), batch_size=3):
            steps.append(step)
        last = steps[-1]
        assert last.finished
        assert last.done == last.total == 12
        assert [s.done for s in steps[:-1]] == list(range(1, 13))  # one step per file
        assert last.added == 6
        assert cat.count() == 6
        reasons = {Path(s.path).name: s.reason for s in last.skipped}
        kinds = {Path(s.path).name: s.kind for s in last.skipped}
        assert kinds == {
            "cut.jpg": "bad",
            "empty.jpg": "bad",
            "empty too.jpg": "bad",
            "report.pdf.jpg": "bad",
            "notes.txt": "other",
            "same.jpg": "duplicate",
        }
        assert "cut short" in reasons["cut.jpg"] or "damaged" in reasons["cut.jpg"]
        assert reasons["empty.jpg"] == reasons["empty too.jpg"] == "the file is empty (0 bytes)"
        assert "PDF" in reasons["report.pdf.jpg"]
        assert "not a photo" in reasons["notes.txt"]
        assert reasons["same.jpg"] == f"same photo as {files['first']}"
        assert cat.integrity_problems() == []


def test_rerun_skips_what_is_in_and_a_new_model_redoes_it(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    make_folder(folder, 6)
    with Catalog(tmp_path / "c.saree") as cat:
        first = FakePredictor()
        run_import(cat, folder, first)
        again = FakePredictor()
        last = run_import(cat, folder, again)
        assert (last.added, last.already) == (0, 6)
        assert again.seen == []  # nothing sent to the model twice
        other = FakePredictor(sha256="b" * 64)
        last = run_import(cat, folder, other)
        assert last.added == 6
        assert cat.count() == 6
        assert cat.latest_model() == "b" * 64


def test_moved_folder_updates_paths(tmp_path: Path) -> None:
    make_folder(tmp_path / "a", 3)
    with Catalog(tmp_path / "c.saree") as cat:
        run_import(cat, tmp_path / "a", FakePredictor())
        (tmp_path / "a").rename(tmp_path / "b")
        last = run_import(cat, tmp_path / "b", FakePredictor())
        assert (last.already, last.skipped) == (3, ())
        assert all(p.path.startswith(str(tmp_path / "b")) for p in cat.photos())


def test_cancel_stops_soon_and_keeps_what_is_done(tmp_path: Path) -> None:
    make_folder(tmp_path / "p", 12)
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with Catalog(tmp_path / "c.saree") as cat:
        steps = list(
            import_folder(cat, tmp_path / "p", FakePredictor(), batch_size=4, cancel=cancel)
        )
        assert steps[-1].cancelled
        assert not steps[-1].finished
        assert 0 < cat.count() < 12
        assert cat.count() == steps[-1].added
        last = run_import(cat, tmp_path / "p", FakePredictor())
        assert last.finished
        assert cat.count() == 12


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.saree") as cat, pytest.raises(FileNotFoundError, match="does not"):
        run_import(cat, tmp_path / "nope", FakePredictor())


def test_exif_date_and_camera(tmp_path: Path) -> None:
    img = Image.new("RGB", (30, 20), (10, 20, 30))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif[0x0112] = 6  # rotated: shown 20 x 30
    exif.get_ifd(0x8769)[0x9003] = "2019:03:04 10:11:12"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    assert exif_facts(buf.getvalue()) == (20, 30, "2019-03-04T10:11:12", "Canon EOS 5D")
    assert exif_facts(b"garbage") == (None, None, None, None)


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with Catalog(path, create=False) as cat:
            return cat.count()
    except Exception:  # the first writer may still be creating the schema
        return 0


def test_killed_import_resumes_intact_without_duplicates(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    make_folder(folder, 24)
    shutil.copy(folder / "Banarasi" / "001.jpg", folder / "dup.jpg")
    path = tmp_path / "c.saree"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "collection_fakes.py"), str(folder), str(path), "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while _count(path) < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    killed_at = _count(path)
    assert 5 <= killed_at < 24
    with Catalog(path) as cat:
        assert cat.integrity_problems() == []
        model = FakePredictor()
        last = run_import(cat, folder, model)
        assert last.finished
        assert last.already == killed_at
        assert last.added == 24 - killed_at
        assert len(model.seen) == 24 - killed_at  # only the rest went to the model
        assert cat.count() == 24
        assert cat.integrity_problems() == []
        # os.walk lists dup.jpg (top level) before Banarasi/001.jpg, so the copy came first.
        assert [(Path(s.path).name, s.reason) for s in last.skipped] == [
            ("001.jpg", f"same photo as {folder / 'dup.jpg'}")
        ]


def test_import_files_uses_the_same_rules(tmp_path: Path) -> None:
    from saree_app.collection.importer import import_files

    photos = make_folder(tmp_path / "p", 3)
    copy = tmp_path / "copy.jpg"
    shutil.copy(photos[0], copy)
    missing = tmp_path / "p" / "gone.jpg"
    with Catalog(tmp_path / "c.saree") as cat:
        steps = list(import_files(cat, [*photos, copy, missing, photos[1]], FakePredictor()))
        last = steps[-1]
        assert last.finished
        assert [s.done for s in steps[:-1]] == [1, 2, 3, 4, 5, 6]
        assert (last.total, last.added, last.already) == (6, 3, 1)  # photos[1] twice: already
        reasons = {Path(s.path).name: s.reason for s in last.skipped}
        assert reasons["copy.jpg"] == f"same photo as {photos[0]}"
        assert reasons["gone.jpg"] == "the file does not exist"


def test_unreadable_subfolder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path, 3)
    real = os.scandir
    locked = str(tmp_path / "Banarasi")

    def scandir(path: object) -> object:
        # chmod does not stop root, so the refusal is simulated where os.walk lists a folder.
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    photos, others = find_photos(tmp_path)
    assert len(photos) == 2
    assert [(o.path, o.kind) for o in others] == [(locked, "bad")]
    assert "Permission denied" in others[0].reason


def test_a_file_name_that_is_not_utf8_is_imported_and_opens_again(tmp_path: Path) -> None:
    """A Latin-1 name (café.jpg written on an old system) used to stop every import for good."""
    from saree_app.collection.export import export
    from saree_app.imaging import load_photo

    folder = tmp_path / "photos"
    make_folder(folder, 3)
    odd = folder / os.fsdecode(b"caf\xe9 \xff.jpg")
    write_photo(odd, (90, 90, 20), seed=77)
    with Catalog(tmp_path / "c.saree") as cat:
        last = run_import(cat, folder, FakePredictor())
        assert (last.added, last.skipped) == (4, ())
        again = run_import(cat, folder, FakePredictor())
        assert (again.added, again.already, again.skipped) == (0, 4, ())
        stored = [p for p in cat.photos() if "caf" in p.path]
        assert [p.path for p in stored] == [str(odd)]
        assert load_photo(stored[0].path).size == (48, 48)  # the stored path still opens
        assert cat.photo_by_path(str(odd)) == stored[0]
        csv_text = export(cat, "csv")
        assert "caf\\xe9 \\xff.jpg" in csv_text  # shown with escapes, never raw bytes
        ld = export(cat, "jsonld")
        assert "file://" in ld and "caf%E9%20%FF.jpg" in ld  # the URI finds the real file
        out = tmp_path / "c.csv"
        export(cat, "csv", out)
        out.read_bytes().decode("utf-8")  # the file is valid UTF-8
        assert cat.integrity_problems() == []
    # A broken copy of such a file is reported by a printable name.
    (folder / os.fsdecode(b"bad\xe9.jpg")).write_bytes(b"")
    with Catalog(tmp_path / "c.saree") as cat:
        last = run_import(cat, folder, FakePredictor())
        assert [(s.path, s.reason) for s in last.skipped] == [
            (str(folder / "bad\\xe9.jpg"), "the file is empty (0 bytes)")
        ]


class _FakeCloth:
    """Cloth features from the photo's mean colour (what matters here is when they are made)."""

    vector_dim = 3

    def __init__(self) -> None:
        self.described = 0

    def describe_many(
        self, photos: list[Image.Image], wholes: list[np.ndarray | None] | None = None
    ) -> np.ndarray:
        # As ClothFeatures: `wholes`, whole pictures read already (none for these photos).
        assert wholes is None or all(w is None for w in wholes)
        self.described += len(photos)
        return np.stack([np.asarray(p, np.float32).mean(axis=(0, 1)) for p in photos])


def test_importing_again_gives_older_photos_their_cloth_features(tmp_path: Path) -> None:
    from saree_app.collection.fewshot import DEFAULT_PARTS, teaching_parts

    make_folder(tmp_path / "p", 6)
    fake = FakePredictor()
    with Catalog(tmp_path / "c.saree") as cat:
        run_import(cat, tmp_path / "p", fake)  # made before cloth features existed
        sha = fake.manifest.sha256
        assert cat.embeddings(sha, "cloth")[0].size == 0
        assert teaching_parts(cat, sha) == DEFAULT_PARTS
        fake.cloth = _FakeCloth()  # type: ignore[attr-defined]
        (tmp_path / "p" / "Banarasi" / "001.jpg").unlink()  # gone since: keeps its answer
        last = run_import(cat, tmp_path / "p", fake)
        assert last.already == 5 and last.added == 0
        # Nothing added, but what teaching compares changed for five photos: said, so the app
        # re-ranks after it.
        assert last.updated == 5
        ids, vectors = cat.embeddings(sha, "cloth")
        assert len(ids) == 5 and fake.cloth.described == 5  # type: ignore[attr-defined]
        assert vectors.shape == (5, 3)
        assert cat.count() == 6
        again = run_import(cat, tmp_path / "p", fake)
        assert fake.cloth.described == 5  # type: ignore[attr-defined]  # nothing twice
        assert again.updated == 0
        assert teaching_parts(cat, sha) == DEFAULT_PARTS  # one photo still lacks them


def test_pipes_and_looping_links_are_reported_not_read(tmp_path: Path) -> None:
    """A pipe named .jpg hung the import for ever; a looping link was called "no such file"."""
    folder = tmp_path / "p"
    make_folder(folder, 3)
    os.mkfifo(folder / "Banarasi" / "pipe.jpg")
    loop = folder / "Banarasi" / "loop.jpg"
    loop.symlink_to(loop)
    with Catalog(tmp_path / "c.saree") as cat:
        last = run_import(cat, folder, FakePredictor())
        reasons = {Path(s.path).name: s.reason for s in last.skipped}
        assert last.added == 3
        assert reasons["pipe.jpg"].startswith("not a regular file (a named pipe)")
        assert reasons["loop.jpg"] == "a link that points to itself (a symbolic link loop)"


def test_relative_paths_are_stored_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder imported as "p" showed blank tiles when the app was started elsewhere."""
    from saree_app.collection.importer import import_files

    make_folder(tmp_path / "p", 3)
    (tmp_path / "single").mkdir()
    write_photo(tmp_path / "single" / "one.jpg", (90, 90, 20), seed=99)
    monkeypatch.chdir(tmp_path)
    with Catalog(tmp_path / "c.saree") as cat:
        assert run_import(cat, "p", FakePredictor()).added == 3
        assert list(import_files(cat, ["single/../single/one.jpg"], FakePredictor()))[-1].added == 1
        stored = sorted(p.path for p in cat.photos())
    assert all(Path(p).is_absolute() and ".." not in Path(p).parts for p in stored)
    monkeypatch.chdir("/")
    assert all(Path(p).is_file() for p in stored)


def test_a_second_import_of_the_same_folder_waits_and_adds_nothing_twice(tmp_path: Path) -> None:
    """Two imports at once each classified all 300 photos and each reported "300 added"."""
    make_folder(tmp_path / "p", 6)
    with Catalog(tmp_path / "c.saree") as one, Catalog(tmp_path / "c.saree") as two:
        first_model, second_model = FakePredictor(), FakePredictor()
        first = import_folder(one, tmp_path / "p", first_model)
        second = import_folder(two, tmp_path / "p", second_model)
        assert next(first).done == 1  # the first holds the catalogue's import lock
        assert next(second).waiting
        *_, last_first = first
        *_, last_second = second
        assert (last_first.added, last_second.added, last_second.already) == (6, 0, 6)
        assert len(second_model.seen) == 0  # nothing classified twice
        assert one.count() == 6


def test_waiting_for_another_import_can_be_cancelled(tmp_path: Path) -> None:
    make_folder(tmp_path / "p", 3)
    stop = [False]
    with Catalog(tmp_path / "c.saree") as one, Catalog(tmp_path / "c.saree") as two:
        first = import_folder(one, tmp_path / "p", FakePredictor())
        next(first)
        second = import_folder(two, tmp_path / "p", FakePredictor(), cancel=lambda: stop[0])
        assert next(second).waiting
        stop[0] = True
        assert next(second).cancelled
        first.close()  # an abandoned import lets the lock go, keeping the photo it stored
        last = run_import(two, tmp_path / "p", FakePredictor())
        assert (last.already, last.added) == (1, 2)


def test_an_import_runs_where_its_lock_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_folder(tmp_path / "p", 3)
    real_open = Path.open

    def refuse_lock(self: Path, *args: object, **kw: object) -> object:
        if self.name.endswith(".import-lock"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse_lock)
    with Catalog(tmp_path / "c.saree") as cat:
        assert run_import(cat, tmp_path / "p", FakePredictor()).added == 3


class _TiledCloth(_FakeCloth):
    """Cloth features in the layout that keeps each tile (model/cloth.py): 11 unit blocks."""

    tiles = 3
    vector_dim = 11 * 3

    def describe_many(
        self, photos: list[Image.Image], wholes: list[np.ndarray | None] | None = None
    ) -> np.ndarray:
        assert wholes is None or all(w is None for w in wholes)
        self.described += len(photos)
        out = []
        for p in photos:
            mean = np.asarray(p, np.float32).mean(axis=(0, 1)) + 1.0
            out.append(np.tile(mean / np.linalg.norm(mean), 11))
        return np.stack(out)


def test_importing_again_keeps_the_tiles_of_older_cloth_features(tmp_path: Path) -> None:
    from saree_app.collection.fewshot import CLOTH_PARTS, features_of
    from saree_app.model.cloth import views

    make_folder(tmp_path / "p", 4)
    fake = FakePredictor()
    with Catalog(tmp_path / "c.saree") as cat:
        fake.cloth = _FakeCloth()  # type: ignore[attr-defined]
        run_import(cat, tmp_path / "p", fake)
        sha = fake.manifest.sha256
        assert cat.embeddings(sha, "cloth_tiles")[0].size == 0
        fake.cloth = _TiledCloth()  # type: ignore[attr-defined]
        run_import(cat, tmp_path / "p", fake)
        ids, tiles = cat.embeddings(sha, "cloth_tiles")
        assert len(ids) == cat.count() and tiles.shape[1] == 9 * 3
        assert cat.embeddings(sha, "cloth")[1].shape[1] == 2 * 3  # one size for every photo
        feats = features_of(cat, sha, CLOTH_PARTS, ids.tolist())
        assert all(views(v) is not None for v in feats.values())
        run_import(cat, tmp_path / "p", fake)
        assert fake.cloth.described == cat.count()  # type: ignore[attr-defined]  # not twice


class _SizedCloth(_TiledCloth):
    """Tiled cloth features that say the side they read tiles at (model/cloth.py tile_size)."""

    def __init__(self, tile_size: int) -> None:
        super().__init__()
        self.tile_size = tile_size


def test_importing_again_reads_again_photos_whose_tiles_were_read_at_another_side(
    tmp_path: Path,
) -> None:
    make_folder(tmp_path / "p", 4)
    fake = FakePredictor()
    with Catalog(tmp_path / "c.saree") as cat:
        run_import(cat, tmp_path / "p", fake)
        fake.cloth = _SizedCloth(224)  # type: ignore[attr-defined]
        run_import(cat, tmp_path / "p", fake)
        sha = fake.manifest.sha256
        assert set(cat.cloth_tile_sizes(sha).values()) == {224}
        assert fake.cloth.described == cat.count()  # type: ignore[attr-defined]
        fake.cloth = _SizedCloth(160)  # type: ignore[attr-defined]
        (tmp_path / "p" / "Banarasi" / "001.jpg").unlink()  # gone since: keeps what it had
        run_import(cat, tmp_path / "p", fake)
        sizes = cat.cloth_tile_sizes(sha)
        assert sorted(sizes.values()) == [160] * (cat.count() - 1) + [224]
        assert fake.cloth.described == cat.count() - 1  # type: ignore[attr-defined]
        run_import(cat, tmp_path / "p", fake)
        assert fake.cloth.described == cat.count() - 1  # type: ignore[attr-defined]  # once
