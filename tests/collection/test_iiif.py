"""IIIF manifests in, W3C Web Annotations out, against a IIIF server started on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from collection_fakes import FakePredictor
from web_annotation_model import ModelError, check_page

from saree_app.cli import main
from saree_app.collection import annotations, iiif, objects
from saree_app.collection.catalog import Catalog

TRADITIONS = ("Kanchipuram", "Banarasi", "PochampallyIkat")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass


def _site(root: Path, base: str, n: int = 3) -> None:
    """Static Image API level-0 style files of rendered sarees and two manifests."""
    from saree_app.synth.render import render

    canvases2, canvases3 = [], []
    for i in range(n):
        img, _mask, _attrs, _meta = render(TRADITIONS[i % 3], i, 96)
        service = f"{base}/iiif/saree{i}"
        out = root / "iiif" / f"saree{i}" / "full" / iiif.SIZE / "0"
        out.mkdir(parents=True)
        img.save(out / "default.jpg", "JPEG", quality=90)
        (root / "iiif" / f"saree{i}" / "info.json").write_text(
            json.dumps({"@id": service, "width": 96, "height": 96, "profile": "level0"})
        )
        canvases2.append(
            {
                "@id": f"{base}/m2/canvas/{i}",
                "@type": "sc:Canvas",
                "label": f"Saree {i}",
                "width": 960,
                "height": 960,
                "images": [
                    {
                        "@type": "oa:Annotation",
                        "motivation": "sc:painting",
                        "on": f"{base}/m2/canvas/{i}",
                        "resource": {
                            "@id": f"{base}/original/{i}.tif",  # never fetched: too big
                            "@type": "dctypes:Image",
                            "service": {
                                "@context": "http://iiif.io/api/image/2/context.json",
                                "@id": service,
                                "profile": "http://iiif.io/api/image/2/level0.json",
                            },
                        },
                    }
                ],
            }
        )
        canvases3.append(
            {
                "id": f"{base}/m3/canvas/{i}",
                "type": "Canvas",
                "label": {"en": [f"Saree {i}"]},
                "width": 960,
                "height": 960,
                "items": [
                    {
                        "id": f"{base}/m3/page/{i}",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{base}/m3/anno/{i}",
                                "type": "Annotation",
                                "motivation": "painting",
                                "target": f"{base}/m3/canvas/{i}",
                                "body": {
                                    "id": f"{base}/original/{i}.tif",
                                    "type": "Image",
                                    "service": [
                                        {
                                            "id": service,
                                            "type": "ImageService3",
                                            "profile": "level0",
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
        )
    (root / "m2.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/2/context.json",
                "@id": f"{base}/m2.json",
                "@type": "sc:Manifest",
                "label": "Sarees of the south",
                "metadata": [{"label": "Donor", "value": "A. Collector"}],
                "sequences": [{"@type": "sc:Sequence", "canvases": canvases2}],
            }
        )
    )
    (root / "m3.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": f"{base}/m3.json",
                "type": "Manifest",
                "label": {"en": ["Sarees of the south"]},
                "metadata": [{"label": {"en": ["Donor"]}, "value": {"en": ["A. Collector"]}}],
                "items": canvases3,
            }
        )
    )
    (root / "empty.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": f"{base}/empty.json",
                "type": "Manifest",
                "label": {"en": ["Nothing"]},
                "items": [],
            }
        )
    )
    (root / "other.json").write_text(json.dumps({"name": "a spreadsheet", "rows": []}))
    (root / "big.json").write_bytes(b" " * (2 * 1024 * 1024))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _site(root, base)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run(steps: Iterator[Any]) -> Any:
    last = None
    for step in steps:
        last = step
    return last


@pytest.mark.parametrize("name", ["m2.json", "m3.json"])
def test_manifest_imports_canvases_through_image_service(
    server: tuple[str, Path], tmp_path: Path, name: str
) -> None:
    base, _ = server
    manifest = iiif.load(f"{base}/{name}")
    assert manifest.version == (2 if name == "m2.json" else 3)
    assert manifest.label == "Sarees of the south"
    assert manifest.metadata == [("Donor", "A. Collector")]
    assert [c.image for c in manifest.canvases] == [
        f"{base}/iiif/saree{i}/full/!1600,1600/0/default.jpg" for i in range(3)
    ]
    with Catalog(tmp_path / "c.saree") as cat:
        last = _run(iiif.import_manifest(cat, f"{base}/{name}", FakePredictor()))
        assert last.finished and (last.added, last.skipped) == (3, ())
        photos = cat.photos()
        assert len(photos) == 3
        cache = iiif.cache_folder(cat.path)
        assert all(Path(p.path).is_relative_to(cache) for p in photos)
        sources = [iiif.source_of(cat, p) for p in photos]
        assert sorted(s["canvas"] for s in sources if s) == [
            f"{base}/{name[:2]}/canvas/{i}" for i in range(3)
        ]
        assert all(s and s["manifest"] == f"{base}/{name}" for s in sources)
        assert all(s and s["metadata"] == [["Donor", "A. Collector"]] for s in sources)
        # The manifest is one object: its canvases the photos, its label and metadata the record.
        (obj,) = objects.all_objects(cat)
        assert sorted(obj.photo_ids) == sorted(p.id for p in photos)
        assert obj.title == "Sarees of the south" and obj.get("source") == "A. Collector"
        assert f"{base}/{name}" in (obj.get("notes") or "")
        assert obj.accession.startswith("IIIF-")
        # Again: the cached images, nothing fetched twice, nothing added twice.
        last = _run(iiif.import_manifest(cat, f"{base}/{name}", FakePredictor()))
        assert (last.added, last.already) == (0, 3)
        assert [o.accession for o in objects.all_objects(cat)] == [obj.accession]


def test_manifest_metadata_fills_the_record_and_gives_the_accession_number(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = server
    manifest = json.loads((root / "m3.json").read_text())
    manifest["label"] = {"en": ["Paithani with parrots"]}
    manifest["metadata"] = [
        {"label": {"en": [k]}, "value": {"en": [v]}}
        for k, v in [
            ("Accession number", "T.1952.17"),
            ("Date acquired", "about 1952"),  # not a date the record holds: kept in the notes
            ("Material", "silk, zari"),
            ("Photographer", "N. Rao"),
        ]
    ]
    manifest["items"][1]["label"] = {"en": ["Saree 1, border"]}
    (root / "m4.json").write_text(json.dumps(manifest))
    with Catalog(tmp_path / "c.saree") as cat:
        _run(iiif.import_manifest(cat, f"{base}/m4.json", FakePredictor()))
        obj = objects.get_object(cat, "T.1952.17")
        assert obj is not None and len(obj.photos) == 3
        assert obj.title == "Paithani with parrots" and obj.get("fibre") == "silk, zari"
        assert obj.get("date_acquired") is None
        notes = obj.get("notes") or ""
        assert "Date acquired: about 1952" in notes and "Photographer: N. Rao" in notes
        assert sorted(m.role for m in obj.photos) == ["border", "whole", "whole"]


def test_import_works_again_offline_from_the_cache(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = server
    with Catalog(tmp_path / "c.saree") as cat:
        _run(iiif.import_manifest(cat, f"{base}/m3.json", FakePredictor()))
    for f in (root / "iiif").rglob("default.jpg"):
        f.unlink()  # the server loses its images: the catalogue's photos still open
    with Catalog(tmp_path / "c.saree") as cat:
        assert all(Path(p.path).is_file() for p in cat.photos())
        last = _run(iiif.import_manifest(cat, f"{base}/m3.json", FakePredictor()))
        assert last.already == 3


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("other.json", "not a IIIF manifest"),
        ("empty.json", "has no images"),
        ("missing.json", "404"),
    ],
)
def test_bad_manifests_say_why_and_import_nothing(
    server: tuple[str, Path], tmp_path: Path, source: str, message: str
) -> None:
    base, _ = server
    with Catalog(tmp_path / "c.saree") as cat:
        with pytest.raises(iiif.IIIFError, match=message):
            _run(iiif.import_manifest(cat, f"{base}/{source}", FakePredictor()))
        assert cat.count() == 0


def test_missing_image_and_oversized_image_import_nothing(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = server
    with Catalog(tmp_path / "c.saree") as cat:
        with pytest.raises(iiif.IIIFError, match="larger than"):
            _run(iiif.import_manifest(cat, f"{base}/m2.json", FakePredictor(), image_cap=100))
        assert cat.count() == 0
        (root / "iiif" / "saree2" / "full" / iiif.SIZE / "0" / "default.jpg").unlink()
        with pytest.raises(iiif.IIIFError, match=r"404 .*Saree 2"):
            _run(iiif.import_manifest(cat, f"{base}/m2.json", FakePredictor()))
        assert cat.count() == 0


def test_oversized_manifest_unreachable_server_and_timeout(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    import socket

    base, _ = server
    with pytest.raises(iiif.IIIFError, match="larger than 1 MB"):
        iiif.load(f"{base}/big.json", cap=1024 * 1024)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nobody listens there now
    with pytest.raises(iiif.IIIFError, match="cannot reach the server"):
        iiif.load(f"http://127.0.0.1:{port}/m.json")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts, never answers
    try:
        with pytest.raises(iiif.IIIFError, match="no answer within"):
            iiif.load(f"http://127.0.0.1:{silent.getsockname()[1]}/m.json", timeout=0.5)
    finally:
        silent.close()


def test_local_manifest_file(server: tuple[str, Path], tmp_path: Path) -> None:
    _, root = server
    manifest = iiif.load(str(root / "m2.json"))
    assert len(manifest.canvases) == 3


def test_outlines_trace_a_shape_with_a_hole() -> None:
    mask = np.zeros((6, 6), bool)
    mask[1:5, 1:5] = True
    mask[2:4, 2:4] = False
    loops = annotations.outlines(mask)
    assert sorted(sorted(loop) for loop in loops) == [
        [(1, 1), (1, 5), (5, 1), (5, 5)],
        [(2, 2), (2, 4), (4, 2), (4, 4)],
    ]
    assert annotations.outlines(np.zeros((3, 3), bool)) == []


def _check_page(page: dict[str, Any], width: float = 960, height: float = 960) -> None:
    check_page(page, width=width, height=height)
    assert page["type"] == "AnnotationPage" and page["id"]
    for anno in page["items"]:
        assert anno["type"] == "Annotation" and anno["id"].startswith(page["id"])
        assert anno["motivation"] in ("tagging", "classifying", "commenting")
        assert anno["body"]["type"] == "TextualBody" and anno["body"]["value"]
        target = anno["target"]
        assert target["type"] == "SpecificResource" and target["source"]["id"]
        assert target["selector"]["type"] in ("SvgSelector", "FragmentSelector")


def test_annotations_export_targets_canvases_with_parts_tradition_and_note(
    server: tuple[str, Path], tmp_path: Path, tiny_model: Path
) -> None:
    from saree_app.model.predict import Predictor

    base, _ = server
    cat_path = tmp_path / "c.saree"
    predictor = Predictor(tiny_model)
    with Catalog(cat_path) as cat:
        _run(iiif.import_manifest(cat, f"{base}/m3.json", predictor))
        first = min(p.id for p in cat.photos())
        cat.set_label(first, tradition="Banarasi", certainty="confirmed", note="gift of 1952")
    out = tmp_path / "a.json"
    rc = main(
        [
            "export",
            "--catalog",
            str(cat_path),
            "--format",
            "annotations",
            "--model",
            str(tiny_model),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    pages = json.loads(out.read_text("utf-8"))
    assert len(pages) == 3
    for page in pages:
        _check_page(page)
        sources = {a["target"]["source"]["id"] for a in page["items"]}
        assert len(sources) == 1 and sources.pop().startswith(f"{base}/m3/canvas/")
        classifying = [a for a in page["items"] if a["motivation"] == "classifying"]
        assert len(classifying) == 1
        # The model's probability goes with its own answer, not beside the curator's.
        if classifying[0]["confirmedByCurator"]:
            assert "confidence" not in classifying[0]
        else:
            assert 0.0 <= classifying[0]["confidence"] <= 1.0
        assert classifying[0]["target"]["selector"]["value"] == "xywh=0,0,960,960"
    assert classifying[0]["target"]["selector"]["conformsTo"] == "http://www.w3.org/TR/media-frags/"
    mine = next(p for p in pages if p["id"].endswith(f"photo-{first}"))
    kinds = {a["motivation"]: a for a in mine["items"]}
    # The viewer shows the app's name for the tradition; its IRI goes beside it.
    assert kinds["classifying"]["body"]["value"] == "Banarasi brocade"
    assert kinds["classifying"]["body"]["tradition"].endswith("#Banarasi")
    assert kinds["classifying"]["confirmedByCurator"] is True
    assert "confidence" not in kinds["classifying"]  # the curator's, not the model's figure
    assert kinds["commenting"]["body"]["value"] == "gift of 1952"
    others = [a for p in pages if p is not mine for a in p["items"]]
    assert not any(a.get("confirmedByCurator") for a in others)
    regions = [a for p in pages for a in p["items"] if a["motivation"] == "tagging"]
    assert regions, "the model's part maps give regions"
    for a in regions:
        value = a["target"]["selector"]["value"]
        assert value.startswith("<svg") and "<path" in value
        assert a["body"]["value"] in ("body", "border", "pallu")
        assert a["target"]["source"]["partOf"][0]["id"] == f"{base}/m3.json"


def test_annotations_for_local_photo_target_the_file_and_curator_map(tmp_path: Path) -> None:
    from collection_fakes import make_folder

    from saree_app.collection.importer import run_import

    make_folder(tmp_path / "p", 3)
    with Catalog(tmp_path / "c.saree") as cat:
        run_import(cat, tmp_path / "p", FakePredictor())
        photo = cat.photos()[0]
        grid = np.zeros((64, 64), np.uint8)
        grid[8:56, 8:40] = 1
        grid[8:56, 40:48] = 2
        cat.put_part_map(photo.id, grid)
        text = annotations.to_annotations(cat, part_labels=annotations.part_labels_from(cat, None))
    pages = json.loads(text)
    page = next(p for p in pages if p["id"].endswith(f"photo-{photo.id}"))
    _check_page(page, photo.width, photo.height)
    tags = [a for a in page["items"] if a["motivation"] == "tagging"]
    assert [a["body"]["value"] for a in tags] == ["body", "border"]
    assert page["items"][0]["target"]["source"]["id"] == Path(photo.path).as_uri()
    w = photo.width
    assert f"{8 * w / 64:.1f},{8 * photo.height / 64:.1f}" in tags[0]["target"]["selector"]["value"]


def test_linked_art_export_points_at_the_canvases_and_reads_back(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    from test_records import expected_triples

    from saree_app.collection import records
    from saree_app.collection.export import export

    base, _ = server
    out = tmp_path / "export.jsonld"
    with Catalog(tmp_path / "c.saree") as cat:
        _run(iiif.import_manifest(cat, f"{base}/m3.json", FakePredictor()))
        text = export(cat, "jsonld", out)
    doc = json.loads(text)
    (node,) = doc["@graph"]  # the manifest is one object
    assert node["_label"] == "Sarees of the south"
    digitals = [d for i in node["representation"] for d in i["digitally_shown_by"]]
    assert sorted(d["saree:iiifCanvas"] for d in digitals) == [
        f"{base}/m3/canvas/{i}" for i in range(3)
    ]
    for d in digitals:
        assert d["saree:iiifManifest"] == f"{base}/m3.json"
        file_uri, image = d["access_point"]
        assert file_uri.startswith("file:") and image.startswith(f"{base}/iiif/saree")
    import rdflib

    g = rdflib.Graph()
    g.parse(data=text, format="json-ld")
    assert len(g) == expected_triples(doc)
    with Catalog(tmp_path / "fresh.saree") as cat:
        job = records.import_records(cat, out, FakePredictor())
        last = _run(job.steps())
        assert last.added == 3 and not job.problems and job.objects_made == 1


def test_one_annotation_page_file_per_canvas_for_a_viewer(
    server: tuple[str, Path], tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = server
    cat_path = tmp_path / "c.saree"
    with Catalog(cat_path) as cat:
        _run(iiif.import_manifest(cat, f"{base}/m3.json", FakePredictor()))
        ids = sorted(p.id for p in cat.photos())
        cat.set_label(ids[0], tradition="Banarasi", certainty="confirmed", note="gift of 1952")
    pages = tmp_path / "annotations"
    publish = "https://museum.example/annotations/sarees"
    argv = ["export", "--catalog", str(cat_path), "--format", "annotations"]
    argv += ["--model", str(tiny_model), "--base", publish]
    assert main([*argv, "--out", f"{pages}/"]) == 0
    assert "3 photos" in capsys.readouterr().out
    files = sorted(pages.iterdir())
    assert [f.name for f in files] == [f"photo-{i}.json" for i in ids]
    canvases = set()
    for f in files:
        page = json.loads(f.read_text("utf-8"))
        _check_page(page)
        # The page's id is where the viewer will fetch it from.
        assert page["id"] == f"{publish}/{f.name}"
        assert all(a["id"].startswith(page["id"] + "#") for a in page["items"])
        sources = {a["target"]["source"]["id"] for a in page["items"]}
        assert len(sources) == 1
        canvases |= sources
        assert {a["motivation"] for a in page["items"]} >= {"tagging", "classifying"}
    assert canvases == {f"{base}/m3/canvas/{i}" for i in range(3)}
    first = json.loads((pages / f"photo-{ids[0]}.json").read_text("utf-8"))
    assert [a["body"]["value"] for a in first["items"] if a["motivation"] == "commenting"] == [
        "gift of 1952"
    ]
    # The same pages as the combined file's, one per photo.
    combined = tmp_path / "all.json"
    assert main([*argv, "--out", str(combined)]) == 0
    assert json.loads(combined.read_text("utf-8")) == [
        json.loads(f.read_text("utf-8")) for f in files
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--base", "museum annotations"], "is not a web address"),
        (["--base", "ftp://museum.example/a"], "is not a web address"),
        (["--base", "https://museum.example/a?page=1"], "without ? or #"),
    ],
)
def test_bad_publishing_address_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    from collection_fakes import make_folder

    from saree_app.collection.importer import run_import

    make_folder(tmp_path / "p", 2)
    with Catalog(tmp_path / "c.saree") as cat:
        run_import(cat, tmp_path / "p", FakePredictor())
        for p in cat.photos():
            cat.put_part_map(p.id, np.ones((64, 64), np.uint8))
    out = tmp_path / "pages"
    argv = ["export", "--catalog", str(tmp_path / "c.saree"), "--format", "annotations"]
    assert main([*argv, "--out", f"{out}/", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()
    (tmp_path / "afile").write_text("keep me")
    assert main([*argv, "--out", f"{tmp_path / 'afile'}/"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "keep me"
    assert main(["export", "--catalog", str(tmp_path / "c.saree"), *extra]) == 2
    assert "--base is for --format annotations" in capsys.readouterr().err


def test_the_model_check_catches_what_a_viewer_would_choke_on() -> None:
    good = annotations.svg(np.pad(np.ones((2, 2), np.uint8), 1), 1, 40, 40)
    assert good is not None
    page: dict[str, Any] = {
        "@context": annotations.CONTEXT,
        "id": "urn:saree-app:annotations/photo-1",
        "type": "AnnotationPage",
        "items": [
            {
                "id": "urn:saree-app:annotations/photo-1/1",
                "type": "Annotation",
                "motivation": "tagging",
                "body": {"type": "TextualBody", "purpose": "tagging", "value": "body"},
                "target": {
                    "type": "SpecificResource",
                    "source": {"id": "file:///p.jpg", "type": "Image"},
                    "selector": {"type": "SvgSelector", "value": good},
                },
            }
        ],
    }
    check_page(page, width=40, height=40)
    selector = page["items"][0]["target"]["selector"]
    broken = [
        ("value", good.replace("</svg>", ""), "well-formed"),
        ("value", good.replace("xmlns='http://www.w3.org/2000/svg'", ""), "root must be"),
        ("value", good.replace(" Z", ""), "closed polygons"),
        ("type", "FragmentSelector", "conforms to Media Fragments"),
    ]
    for key, value, rule in broken:
        bad = json.loads(json.dumps(page))
        bad["items"][0]["target"]["selector"][key] = value
        with pytest.raises(ModelError, match=rule):
            check_page(bad, width=40, height=40)
    with pytest.raises(ModelError, match="outside the canvas"):
        check_page(page, width=20, height=20)
    for breakage in ({"id": "photo 1"}, {"@context": "http://schema.org"}):
        with pytest.raises(ModelError):
            check_page({**page, **breakage}, width=40, height=40)
    del page["items"][0]["target"]
    with pytest.raises(ModelError, match="at least one target"):
        check_page(page, width=40, height=40)
    assert selector["type"] == "SvgSelector"


def test_cli_imports_a_manifest_url_and_says_what_fails(
    server: tuple[str, Path], tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = server
    cat = str(tmp_path / "c.saree")
    rc = main(
        ["import", f"{base}/m2.json", "--catalog", cat, "--model", str(tiny_model), "--quiet"]
    )
    assert rc == 0
    assert "3 added" in capsys.readouterr().out
    rc = main(["import", f"{base}/other.json", "--catalog", cat, "--model", str(tiny_model)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a IIIF manifest" in err[0]


def test_window_import_takes_a_manifest_address_beside_folders(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    from collection_fakes import make_folder

    from saree_app.gui.importing import import_paths

    base, _ = server
    make_folder(tmp_path / "p", 3)
    with Catalog(tmp_path / "c.saree") as cat:
        steps = import_paths(
            cat, FakePredictor(), [f"{base}/m3.json", tmp_path / "p"], lambda: False
        )
        last = _run(steps)
        assert last.finished and last.added == 6
        assert sum(iiif.source_of(cat, p) is not None for p in cat.photos()) == 3
