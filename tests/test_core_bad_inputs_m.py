"""Bad input met by the core (collection, knowledge, model, train): a clear message, nothing lost.

Each case here once ended in a Python exception, sqlite's or pickle's or the system's words
("[Errno 111]", "invalid load key", "'utf-8' codec can't decode"), a silent fallback, or a
record that said photos were removed when they were not. Everything is made in a temporary
folder; the only server is one the test starts on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bad_input_helpers import read_only, small_jpeg

from saree_app.cli import main
from saree_app.collection.catalog import Catalog, CatalogError, NewPhoto

JARGON = ("Traceback", "Errno", "codec", "invalid load key", "Ran out of input", "None")


def _plain(text: str) -> None:
    for word in JARGON:
        assert word not in text, text


@pytest.fixture
def cat(tmp_path: Path) -> Path:
    """A catalogue of three real photos (files beside it)."""
    path = tmp_path / "c.saree"
    with Catalog(path) as c:
        for i in range(3):
            content = small_jpeg(i)
            photo = tmp_path / f"p{i}.jpg"
            photo.write_bytes(content)
            c.add_photo(
                NewPhoto(str(photo), hashlib.sha256(content).hexdigest(), len(content), 40, 30)
            )
    return path


# ---- 1. catalogue: ids, empty files, files that are not catalogues, folders not writable ----


def test_an_id_past_sqlites_integers_is_no_photo(cat: Path) -> None:
    with Catalog(cat) as c:
        assert c.photo(2**63) is None  # was OverflowError
        assert c.photo(-(2**63) - 1) is None
        assert c.photo(99999999999999999999) is None
        assert [p.id for p in c.photos_by_id([1, 2**64])] == [1]


def test_an_empty_file_is_refused_not_made_a_catalogue(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"")
    with pytest.raises(CatalogError, match="an empty file, not a catalogue"):
        Catalog(notes, create=False)
    assert notes.read_bytes() == b""  # was made into a catalogue of 16 KB


def test_a_file_that_is_not_a_database_is_said_in_plain_words(tmp_path: Path) -> None:
    junk = tmp_path / "junk.saree"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CatalogError) as refused:
        Catalog(junk, create=False)
    said = str(refused.value)
    assert "not a catalogue file" in said and "file is not a database" not in said
    assert junk.read_bytes() == b"this is not sqlite at all" * 100


def test_a_catalogue_in_a_folder_that_cannot_be_written_says_what_to_do(
    cat: Path, tmp_path: Path
) -> None:
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    kept = shelf / "c.saree"
    kept.write_bytes(cat.read_bytes())
    with read_only(shelf), pytest.raises(CatalogError) as refused:
        Catalog(kept, create=False)
    said = str(refused.value)
    assert "unable to open database file" not in said
    assert "copy the catalogue to a folder you can write to" in said


def test_the_command_line_still_says_how_a_catalogue_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "e.saree"
    empty.write_bytes(b"")
    assert main(["export", "--catalog", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "an empty file, not a catalogue (saree import FOLDER --catalog" in err
    assert err.count("an empty file") == 1
    assert empty.read_bytes() == b""


# ---- 2. labels CSV: an id past sqlite's integers ---------------------------------------------


def test_a_labels_csv_with_an_id_too_large_is_a_bad_row(cat: Path, tmp_path: Path) -> None:
    from saree_app.collection.export import import_labels

    sheet = tmp_path / "labels.csv"
    sheet.write_text("id,tradition\n99999999999999999999,Banarasi\n1,Banarasi\n", encoding="utf-8")
    with Catalog(cat) as c:
        result = import_labels(c, sheet)  # was OverflowError: nothing applied, a traceback
        assert result.applied == 1
        assert result.problems == ((2, "no photo with id 99999999999999999999"),)
        assert c.labels()[1].tradition == "Banarasi"


# ---- 3. removing photos from a read-only catalogue; a damaged list of removals ---------------


def test_a_removal_that_fails_leaves_no_record_to_undo(cat: Path) -> None:
    from saree_app.collection.housekeeping import removals, remove_photos, undo_removal

    with Catalog(cat) as c:
        first = remove_photos(c, [1])
    with read_only(cat), Catalog(cat) as c:
        with pytest.raises(CatalogError, match="read-only"):
            remove_photos(c, [2])
        assert c.photo(2) is not None
        assert removals(c) == [first]  # was [first, the removal that never happened]
    with Catalog(cat) as c:
        back = undo_removal(c)
        assert back.skipped == ()  # was: "p1.jpg is in the collection again", nothing back
        assert {p.id for p in c.photos()} == {1, 2, 3}
        assert removals(c) == []


def test_an_undo_that_cannot_be_written_keeps_the_removal(cat: Path) -> None:
    from saree_app.collection.housekeeping import removals, remove_photos, undo_removal

    with Catalog(cat) as c:
        remove_photos(c, [3])
    with read_only(cat), Catalog(cat) as c, pytest.raises(CatalogError):
        undo_removal(c)
    with Catalog(cat) as c:
        assert len(removals(c)) == 1
        undo_removal(c)
        assert c.count() == 3


def test_a_damaged_list_of_removals_says_move_it_aside(cat: Path) -> None:
    from saree_app.collection.housekeeping import removals, remove_photos, removed_file

    with Catalog(cat) as c:
        side = removed_file(c)
        for damage in (b'{"removals": [', b"\xff\xfe", b'{"removals": 5}', b"[1]"):
            side.write_bytes(damage)
            for action in (lambda: removals(c), lambda: remove_photos(c, [1])):
                with pytest.raises(CatalogError) as refused:
                    action()
                said = str(refused.value)
                assert "c.saree.removed.json is damaged" in said and "Move it aside" in said
                _plain(said)
            assert side.read_bytes() == damage  # not written over
            assert c.count() == 3


# ---- 4. record dates that do not exist -----------------------------------------------------


@pytest.mark.parametrize(
    ("date", "said"),
    [
        ("1987-13-40", "there is no month 13"),
        ("1987-13", "there is no month 13"),
        ("1987-00", "there is no month 00"),
        ("1987-02-30", "February 1987 has no day 30"),
        ("1987-02-29", "February 1987 has no day 29"),
        ("1900-02-29", "February 1900 has no day 29"),
        ("1987-04-31", "April 1987 has no day 31"),
        ("1987-04-00", "April 1987 has no day 00"),
        ("87-04-01", "write a year (1920)"),
    ],
)
def test_a_date_that_does_not_exist_is_refused(date: str, said: str) -> None:
    from saree_app.collection.objects import ObjectError, clean_fields

    with pytest.raises(ObjectError) as refused:
        clean_fields({"made_from": date})
    assert f"{date!r} is not a date: {said}" in str(refused.value)


@pytest.mark.parametrize("date", ["1987", "1987-02", "1987-12", "1988-02-29", "2000-02-29"])
def test_years_months_and_real_days_are_still_dates(date: str) -> None:
    from saree_app.collection.objects import clean_fields

    assert clean_fields({"date_acquired": f" {date} "}) == {"date_acquired": date}


# ---- 5. a damaged choice of model --------------------------------------------------------


@pytest.mark.parametrize("damage", [b'{"model": "/m/x.json"', b"\xff", b"[]", b'{"model": 5}'])
def test_a_damaged_model_choice_is_said_not_passed_over(
    cat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: bytes
) -> None:
    from saree_app.collection.models import ModelChoiceError, chosen_model, model_file

    side = model_file(cat)
    side.write_bytes(damage)
    with pytest.raises(ModelChoiceError) as refused:
        chosen_model(cat, strict=True)
    assert "c.saree.model.json is damaged" in str(refused.value)
    assert "move the file aside" in str(refused.value)
    # The app opens the collection all the same (with the shipped model): no exception.
    assert chosen_model(cat) is None
    before = cat.read_bytes()
    photos = tmp_path / "new"
    photos.mkdir()
    (photos / "n.jpg").write_bytes(small_jpeg(7))
    for argv in (["import", str(photos)], ["fewshot"]):
        assert main([*argv, "--catalog", str(cat)]) == 2  # was 0, the shipped model, unsaid
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "c.saree.model.json is damaged" in err, err
    assert cat.read_bytes() == before
    assert side.read_bytes() == damage


# ---- 6. JSON-LD whose context is elsewhere -------------------------------------------------


class _Counting(http.server.BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).asked.append(self.path)
        body = json.dumps({"@context": {"crm": "http://www.cidoc-crm.org/cidoc-crm/"}})
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Counting.asked = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    "context",
    [
        "{base}/ctx.jsonld",
        "ctx.jsonld",
        ["ctx.jsonld", {"crm": "http://www.cidoc-crm.org/cidoc-crm/"}],
        {"@import": "{base}/ctx.jsonld"},
    ],
)
def test_records_never_fetch_a_context(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch, context: Any
) -> None:
    from saree_app.collection.records import RecordsError, read

    node = {"@id": "urn:x", "@type": "crm:E22_Human-Made_Object"}
    text = json.dumps({"@context": context, "@graph": [node]})
    doc = tmp_path / "records.jsonld"
    doc.write_text(text.replace("{base}", server), encoding="utf-8")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    (elsewhere / "ctx.jsonld").write_text('{"@context": {}}', encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # a relative context was read from where the app started
    with pytest.raises(RecordsError) as refused:
        read(doc)
    said = str(refused.value)
    assert "its @context is not written in the file" in said and "never fetches" in said
    _plain(said)
    assert _Counting.asked == []  # nothing fetched


def test_a_nested_context_elsewhere_is_refused_too(tmp_path: Path, server: str) -> None:
    from saree_app.collection.records import RecordsError, read

    doc = tmp_path / "records.jsonld"
    doc.write_text(
        json.dumps(
            {
                "@context": {"crm": "http://www.cidoc-crm.org/cidoc-crm/"},
                "@graph": [{"@id": "urn:x", "@context": f"{server}/inner.jsonld"}],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(RecordsError, match="not written in the file"):
        read(doc)
    assert _Counting.asked == []


# ---- 7. IIIF servers that cannot be reached --------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_is_said_without_errno() -> None:
    from saree_app.collection.iiif import IIIFError, fetch

    with pytest.raises(IIIFError) as refused:
        fetch(f"http://127.0.0.1:{_closed_port()}/m.json", cap=1000, timeout=5)
    said = str(refused.value)
    assert "the connection was refused" in said
    _plain(said)


def test_a_name_not_found_is_said_without_errno(monkeypatch: pytest.MonkeyPatch) -> None:
    from saree_app.collection.iiif import IIIFError, fetch

    def unknown(*_: Any, **__: Any) -> Any:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    with pytest.raises(IIIFError) as refused:
        fetch("http://museum.invalid/m.json", cap=1000, timeout=5)
    said = str(refused.value)
    assert "its name was not found" in said
    _plain(said)


def test_a_server_that_hangs_up_or_does_not_answer_is_said_plainly() -> None:
    from saree_app.collection.iiif import IIIFError, fetch

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/m.json"

        def hang_up() -> None:
            conn, _ = listener.accept()
            conn.recv(4096)
            conn.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        with pytest.raises(IIIFError) as cut:
            fetch(url, cap=1000, timeout=5)
        thread.join(5)
        assert "the connection was cut off" in str(cut.value)
        _plain(str(cut.value))
        with pytest.raises(IIIFError) as slow:  # accepted by the system, never answered
            fetch(url, cap=1000, timeout=0.3)
        assert "no answer within 0.3 s" in str(slow.value)


# ---- 8. a Turtle file that is not UTF-8 ------------------------------------------------------


def test_a_turtle_file_not_in_utf8_is_named_plainly(tmp_path: Path) -> None:
    from saree_app.knowledge.graph import OntologyError, TextileGraph

    (tmp_path / "zz.ttl").write_bytes(b"@prefix x: <http://x/> .\n# caf\xe9\n")
    with pytest.raises(OntologyError) as refused:
        TextileGraph.load(tmp_path, cache=False)
    said = str(refused.value)
    assert said.startswith(f"{tmp_path / 'zz.ttl'}:2: not text in UTF-8")
    _plain(said)


# ---- 9. checkpoints that are not, and a model written over a file ----------------------------


@pytest.mark.parametrize("content", [b"not a checkpoint", b"\x80\x02", b"\x80\x02 cut short"])
def test_a_damaged_checkpoint_is_said_without_pickle_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    pytest.importorskip("torch")
    from saree_app.train import cli as train_cli

    junk = tmp_path / "final.pt"
    junk.write_bytes(content)
    out = tmp_path / "m"
    assert train_cli.export_main(["--checkpoint", str(junk), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not a checkpoint of saree train, or a damaged one" in err
    _plain(err)
    assert junk.read_bytes() == content and not out.exists()


def test_a_checkpoint_that_holds_no_network_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch = pytest.importorskip("torch")
    from saree_app.train import cli as train_cli

    for name, state, said in (
        ("five.pt", 5, "it does not hold a network"),
        ("part.pt", {"net_config": {}}, "it has no 'labels' entry"),
    ):
        path = tmp_path / name
        torch.save(state, path)
        assert train_cli.export_main(["--checkpoint", str(path), "--out", str(tmp_path / "m")]) == 2
        err = capsys.readouterr().err
        assert said in err and "object is not subscriptable" not in err, err


def test_a_model_is_not_written_over_a_file(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from saree_app.train.export import ModelWriteError, export_tiny_model

    afile = tmp_path / "notes.txt"
    afile.write_text("keep me", encoding="utf-8")
    with pytest.raises(ModelWriteError) as refused:  # was FileExistsError
        export_tiny_model(afile)
    assert "a file, not a folder" in str(refused.value)
    assert afile.read_text(encoding="utf-8") == "keep me"
    with pytest.raises(ModelWriteError, match="cannot be made"):
        export_tiny_model(afile / "model")


# ---- 10. a JSON file that is no model manifest -----------------------------------------------


def test_a_manifest_without_a_format_is_said_to_be_none_of_ours(tmp_path: Path) -> None:
    from saree_app.model.manifest import ModelError, ModelManifest

    other = tmp_path / "labels.json"
    other.write_text('{"labels": ["x"]}', encoding="utf-8")
    with pytest.raises(ModelError) as refused:
        ModelManifest.load(other)
    said = str(refused.value)
    assert "not a model manifest of this app" in said and 'no "format" entry' in said
    _plain(said)
    other.write_text('{"format": 3}', encoding="utf-8")
    with pytest.raises(ModelError, match=r'not a model manifest of this app: .* format "3"'):
        ModelManifest.load(other)
