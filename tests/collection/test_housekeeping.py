"""Removing photos from a catalogue and putting them back; missing files; moved folders."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from saree_app.collection import housekeeping as hk
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto


def _file(folder: Path, name: str, content: bytes) -> NewPhoto:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return NewPhoto(str(path), hashlib.sha256(content).hexdigest(), len(content), 10, 20)


def _full(cat: Catalog, photo: NewPhoto, seed: int) -> int:
    """A photo with every kind of row: answer, embeddings, label + history, tags, part map."""
    rng = np.random.default_rng(seed)
    pid = cat.record(
        photo,
        "m" * 64,
        {"ranking": [["Kanchipuram", 0.7]]},
        top_tradition="Kanchipuram",
        top_probability=0.7,
        uncertain=False,
        embedding=rng.normal(size=4).astype(np.float32),
        part_embeddings=rng.normal(size=(3, 4)).astype(np.float32),
        cloth_embedding=rng.normal(size=6).astype(np.float32),
    )
    cat.set_label(pid, tradition="Banarasi", certainty="probable", note="from the donor")
    cat.set_label(pid, certainty="confirmed")
    cat.add_tags(pid, ["gift", "1950s"])
    labels = np.zeros((32, 32), dtype=np.uint8)
    labels[4:28, 4:28] = 1
    labels[4:8, 4:28] = 2
    cat.put_part_map(pid, labels, by="asha")
    return pid


def _everything(cat: Catalog, pid: int) -> tuple[object, ...]:
    emb = [cat.embedding(pid, "m" * 64, part) for part in ("whole", "body", "border", "cloth")]
    pm = cat.part_map(pid)
    return (
        cat.photo(pid),
        cat.label(pid),
        [(h.tradition, h.certainty, h.note) for h in cat.label_history(pid)],
        cat.tags(pid),
        cat.prediction(pid, "m" * 64),
        [None if e is None else e.tolist() for e in emb],
        None if pm is None else (pm.labels.tolist(), pm.corrected_by, pm.updated),
    )


def test_remove_and_undo_brings_back_every_row(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        keep = _full(cat, _file(tmp_path / "photos", "a.jpg", b"aaaa"), 1)
        gone = _full(cat, _file(tmp_path / "photos", "b.jpg", b"bbbbb"), 2)
        before = _everything(cat, gone)
        kept_before = _everything(cat, keep)
        ids_before, _ = cat.embeddings("m" * 64)

        removal = hk.remove_photos(cat, [gone])
        assert removal.describe() == "photo b.jpg"
        assert cat.photo(gone) is None and cat.label(gone) is None and cat.tags(gone) == []
        assert cat.part_map(gone) is None and cat.prediction(gone, "m" * 64) is None
        assert cat.embeddings("m" * 64)[0].tolist() == [keep]
        assert (tmp_path / "photos" / "b.jpg").exists(), "the file on disk is never touched"
        assert _everything(cat, keep) == kept_before

        restored = hk.undo_removal(cat)
        assert restored.photo_ids == (gone,) and restored.skipped == ()
        assert _everything(cat, gone) == before
        assert cat.embeddings("m" * 64)[0].tolist() == ids_before.tolist()
        assert cat.integrity_problems() == []
        assert hk.removals(cat) == []
        with pytest.raises(CatalogError, match="no removed photos"):
            hk.undo_removal(cat)


def test_undo_survives_closing_the_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with Catalog(path) as cat:
        a = _full(cat, _file(tmp_path, "a.jpg", b"a1"), 1)
        b = _full(cat, _file(tmp_path, "b.jpg", b"b22"), 2)
        before = [_everything(cat, a), _everything(cat, b)]
        assert hk.remove_photos(cat, [a, b]).describe() == "2 photos"
        assert cat.count() == 0
    with Catalog(path) as cat:
        assert [r.photo_ids for r in hk.removals(cat)] == [(a, b)]
        hk.undo_removal(cat)
        assert [_everything(cat, a), _everything(cat, b)] == before


def test_unknown_id_removes_nothing(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        a = _full(cat, _file(tmp_path, "a.jpg", b"a1"), 1)
        with pytest.raises(CatalogError, match=r"no photo with id 99.*nothing was removed"):
            hk.remove_photos(cat, [a, 99])
        assert cat.photo(a) is not None
        assert hk.removals(cat) == []


def test_side_file_that_cannot_be_written_removes_nothing(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        a = _full(cat, _file(tmp_path, "a.jpg", b"a1"), 1)
        hk.removed_file(cat).mkdir()  # a folder where the file should go
        with pytest.raises(CatalogError, match="nothing was removed"):
            hk.remove_photos(cat, [a])
        assert cat.photo(a) is not None and cat.tags(a) == ["1950s", "gift"]


def test_photo_imported_again_is_not_doubled(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        photo = _file(tmp_path, "a.jpg", b"a1")
        a = _full(cat, photo, 1)
        other = _full(cat, _file(tmp_path, "b.jpg", b"b22"), 2)
        hk.remove_photos(cat, [a, other])
        again = cat.add_photo(photo)  # the curator imported it again meanwhile
        restored = hk.undo_removal(cat)
        assert restored.photo_ids == (other,)
        assert restored.skipped == (
            "a.jpg is in the collection again (imported since); left as it is",
        )
        assert cat.count() == 2 and cat.label(again) is None


def test_reused_id_gets_a_new_one(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        a = _full(cat, _file(tmp_path, "a.jpg", b"a1"), 1)
        before = _everything(cat, a)
        hk.remove_photos(cat, [a])
        newcomer = cat.add_photo(_file(tmp_path, "n.jpg", b"new"))
        assert newcomer == a  # sqlite hands the freed id out again
        (back,) = hk.undo_removal(cat).photo_ids
        assert back != a
        got = _everything(cat, back)
        assert got[1:] != () and cat.label(back) is not None
        assert cat.label(back).tradition == "Banarasi"  # type: ignore[union-attr]
        assert got[3] == before[3] and got[5] == before[5]
        assert cat.label(newcomer) is None and cat.tags(newcomer) == []


def test_missing_and_relocated(tmp_path: Path) -> None:
    old = tmp_path / "old"
    with Catalog(tmp_path / "c.sqlite") as cat:
        a = _full(cat, _file(old, "a.jpg", b"alpha"), 1)
        b = _full(cat, _file(old / "sub", "b.jpg", b"bravo!"), 2)
        c = _full(cat, _file(tmp_path / "elsewhere", "c.jpg", b"charlie"), 3)
        assert hk.missing_photos(cat) == []
        new = tmp_path / "moved"
        shutil.move(str(old), str(new))
        (new / "sub" / "b.jpg").rename(new / "renamed.jpg")  # renamed too: found by content
        (new / "decoy.jpg").write_bytes(b"ALPHA")  # same size as a.jpg, other content
        assert {p.id for p in hk.missing_photos(cat)} == {a, b}

        steps = hk.relocate(cat, new)
        progress = []
        while True:
            try:
                progress.append(next(steps))
            except StopIteration as stop:
                result = stop.value
                break
        assert progress[0] == (0, 3) and progress[-1][0] <= 3
        assert result.moved == {
            a: str((new / "a.jpg").resolve()),
            b: str((new / "renamed.jpg").resolve()),
        }
        assert result.still_missing == ()
        assert result.summary() == "found 2 missing photos in the new folder"
        assert cat.photo(a).path == str((new / "a.jpg").resolve())  # type: ignore[union-attr]
        assert hk.missing_photos(cat) == []
        assert cat.photo(c).path == str(tmp_path / "elsewhere" / "c.jpg")  # type: ignore[union-attr]


def test_relocate_says_what_is_still_missing(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        a = _full(cat, _file(tmp_path / "old", "a.jpg", b"alpha"), 1)
        (tmp_path / "old" / "a.jpg").unlink()
        (tmp_path / "empty").mkdir()
        result = hk.run_relocate(cat, tmp_path / "empty")
        assert [p.id for p in result.still_missing] == [a] and result.moved == {}
        assert result.summary() == "found 0 missing photos in the new folder; 1 still missing"
        with pytest.raises(CatalogError, match="no such folder"):
            hk.run_relocate(cat, tmp_path / "nowhere")


# -- the commands ------------------------------------------------------------------------------


def test_saree_remove_and_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.cli import main

    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        a = _full(cat, _file(tmp_path, "a.jpg", b"a1"), 1)
        b = _full(cat, _file(tmp_path, "b.jpg", b"b22"), 2)
        before = _everything(cat, b)
    assert main(["remove", str(a), str(tmp_path / "b.jpg"), "--catalog", str(db)]) == 0
    out = capsys.readouterr().out
    assert "removed 2 photos from c.sqlite (the files stay on disk)" in out
    with Catalog(db) as cat:
        assert cat.count() == 0

    assert main(["remove", "7", "--catalog", str(db)]) == 2
    assert capsys.readouterr().err.strip() == (
        "saree remove: no photo with id 7 in c.sqlite; nothing was removed"
    )
    assert main(["remove", "--catalog", str(db)]) == 2
    assert "which photos?" in capsys.readouterr().err

    assert main(["remove", "--undo", "--catalog", str(db)]) == 0
    assert "put back 2 photos (2 in the collection again)" in capsys.readouterr().out
    with Catalog(db) as cat:
        assert _everything(cat, b) == before
    assert main(["remove", "--undo", "--catalog", str(db)]) == 2
    assert "no removed photos to put back" in capsys.readouterr().err


def test_saree_relocate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from saree_app.cli import main

    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        a = _full(cat, _file(tmp_path / "old", "a.jpg", b"alpha"), 1)
    assert main(["relocate", "--catalog", str(db)]) == 0
    assert "0 photos missing" in capsys.readouterr().err
    shutil.move(str(tmp_path / "old"), str(tmp_path / "new"))
    assert main(["relocate", "--catalog", str(db)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{a}\t{tmp_path / 'old' / 'a.jpg'}")
    assert "1 photo missing; give the folder they moved to" in captured.err
    assert main(["relocate", str(tmp_path / "nowhere"), "--catalog", str(db)]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["relocate", str(tmp_path / "new"), "--catalog", str(db)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{a}\t{(tmp_path / 'new' / 'a.jpg').resolve()}\n"
    assert "found 1 missing photo in the new folder" in captured.err
    assert main(["relocate", str(tmp_path / "new"), "--catalog", str(db)]) == 0
    assert "no photo is missing" in capsys.readouterr().out


def test_a_photo_of_an_object_comes_back_into_it(tmp_path: Path) -> None:
    from saree_app.collection import objects

    with Catalog(tmp_path / "c.sqlite") as cat:
        a = _full(cat, _file(tmp_path, "whole.jpg", b"a1"), 1)
        b = _full(cat, _file(tmp_path, "border.jpg", b"b22"), 2)
        objects.create_object(cat, "T.1990.4", {"title": "Gift"}, [a, b], ["whole", "border"])
        hk.remove_photos(cat, [b])
        assert list(objects.need_object(cat, "T.1990.4").photo_ids) == [a]
        restored = hk.undo_removal(cat)
        assert restored.skipped == ()
        assert sorted(objects.need_object(cat, "T.1990.4").photo_ids) == [a, b]

        hk.remove_photos(cat, [b])
        objects.delete_object(cat, "T.1990.4")  # the object went meanwhile
        restored = hk.undo_removal(cat)
        assert restored.photo_ids == (b,)
        assert restored.skipped == ("border.jpg: its object no longer exists; not linked again",)
        assert cat.tags(b) == ["1950s", "gift"] and objects.object_of_photo(cat, b) is None


def test_a_removal_made_before_the_upgrade_brings_the_vectors_back(tmp_path: Path) -> None:
    """Catalogues before schema 11 kept vectors in an `embeddings` table; now that is a view
    over `vectors`. A removal remembered then names `embeddings` rows: undo puts them back."""
    with Catalog(tmp_path / "c.sqlite") as cat:
        gone = _full(cat, _file(tmp_path / "photos", "b.jpg", b"bbbbb"), 2)
        before = _everything(cat, gone)
        removal = hk.remove_photos(cat, [gone])
        assert "vectors" in removal.rows and "embeddings" not in removal.rows
        # What an older catalogue would have remembered: the same vectors as embeddings rows.
        old = {
            **{k: v for k, v in removal.rows.items() if k != "vectors"},
            "embeddings": [
                {
                    "photo_id": gone,
                    "model_sha256": "m" * 64,
                    "part": r["part"],
                    "vector": r["vector"],
                }
                for r in removal.rows["vectors"]
            ],
        }
        hk._write(cat, [hk.Removal(removal.photo_ids, removal.names, old, removal.at)])
        restored = hk.undo_removal(cat)
        assert restored.photo_ids == (gone,) and restored.skipped == ()
        assert _everything(cat, gone) == before
        assert cat.integrity_problems() == []
