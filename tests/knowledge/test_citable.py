"""Knowledge a curator can cite (issue 31): corrected GI facts, traceable sources, links to
Wikidata and Getty AAT, and `saree kg validate` refusing what a curator could not follow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kg_helpers import edit

from saree_app.cli import main
from saree_app.knowledge.graph import TextileGraph, parse_vocabulary_iri


@pytest.fixture(scope="module")
def kg() -> TextileGraph:
    return TextileGraph.load()


_POCHAMPALLY = (
    'src:EncPochampally a saree:Source ; dcterms:title "Pochampally sari"@en ;'
    ' dcterms:publisher "Wikipedia" ;\n'
    '    dcterms:identifier "https://en.wikipedia.org/wiki/Pochampally_sari" .'
)


def _validate(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["kg", "--ontology", str(folder), "validate"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- the corrected facts


def test_gi_registrations_found_granted_are_registered(kg: TextileGraph) -> None:
    for tradition, year in (("Paithani", "2010"), ("Kasavu", "2010"), ("Chettinad", "2019")):
        gi = kg.card(tradition).gi
        assert gi is not None and gi.registered and gi.confirmed, tradition
        assert gi.registered_on is not None and gi.registered_on.startswith(year), tradition
        assert all(kg.source(s) and kg.source(s).url for s in gi.sources), tradition  # type: ignore[union-attr]
    chettinad = kg.card("Chettinad").gi
    assert chettinad is not None and chettinad.proprietor and "Rajiv Gandhi" in chettinad.proprietor
    assert chettinad.disagreement  # 29 or 30 August 2019


def test_kutch_bandhani_is_reported_not_confirmed_and_says_sources_disagree(
    kg: TextileGraph,
) -> None:
    gi = kg.card("Bandhani").gi
    assert gi is not None and gi.registered and not gi.confirmed
    assert gi.disagreement and "Jamnagar" in gi.disagreement
    assert gi.registered_on is None  # no source gives a date


def test_unsupported_years_are_gone_and_fields_say_what_they_are(kg: TextileGraph) -> None:
    mysore = kg.card("MysoreSilk").gi
    assert mysore is not None and mysore.application == "11"
    assert mysore.registered_on is None and mysore.disagreement and "2006" in mysore.disagreement
    assert mysore.proprietor and "KSIC" in mysore.proprietor
    maheshwari = kg.card("Maheshwari").gi
    assert maheshwari is not None and maheshwari.application == "197"
    assert maheshwari.registered_on is None and maheshwari.filed is None
    uppada = kg.card("UppadaJamdani").gi
    assert uppada is not None and uppada.application == "122"
    assert "registration number" not in (uppada.note or "").replace("not a registration number", "")
    sambalpuri = kg.card("Sambalpuri").gi
    assert sambalpuri is not None and sambalpuri.filed == "2010-07-13"


def test_venkatagiri_motifs_not_in_its_gi_description_are_removed(kg: TextileGraph) -> None:
    terms = {a.term for a in kg.card("Venkatagiri").attributes}
    assert "Fish" not in terms and "Rudraksha" not in terms
    assert "Paisley" in terms and "JamdaniWeave" in terms


def test_the_old_mixed_year_property_is_gone(ontology_copy: Path) -> None:
    schema = (ontology_copy / "schema.ttl").read_text(encoding="utf-8")
    assert "saree:giYear" not in schema and "saree:giHolder" not in schema
    for name in ("giApplication", "giFilingDate", "giRegistrationDate", "giProprietor"):
        block = schema[schema.index(f"saree:{name} a owl:DatatypeProperty") :].split(" .\n")[0]
        assert "rdfs:comment" in block, name
    for f in ontology_copy.glob("*.ttl"):
        assert "giYear" not in f.read_text(encoding="utf-8"), f.name


def test_an_old_file_using_giyear_is_refused(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "traditions.ttl",
        'saree:giApplication "76" ;',
        'saree:giApplication "76" ; saree:giYear "2007" ;',
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1 and "giYear: unknown property" in out


# --------------------------------------------------------------------------- sources


def test_every_bundled_source_can_be_followed(kg: TextileGraph) -> None:
    sources = kg.sources()
    assert len(sources) > 40
    for s in sources:
        assert s.traceable or s.project_note, s.id
        if s.url:
            assert re.fullmatch(r"https?://\S+", s.url), s.id
    lok_sabha = kg.source("LokSabha1975")
    assert lok_sabha is not None and lok_sabha.date == "2019-11-29"
    assert "Question No. 1975" in lok_sabha.title and lok_sabha.url
    museum = kg.source("MuseumPaithani")
    assert museum is not None and museum.url and "artsandculture.google.com" in museum.url
    # a printed source shows its full details
    zonal = kg.source("ZonalCouncils")
    assert zonal is not None and zonal.url is None and zonal.traceable
    assert "1956" in zonal.citation() and "Part III" in zonal.citation()


def test_every_gi_fact_cites_a_publication(kg: TextileGraph) -> None:
    for t in kg.traditions():
        gi = kg.card(t).gi
        if gi is None or not gi.confirmed:
            continue
        assert any(not kg.source(s).project_note for s in gi.sources), t  # type: ignore[union-attr]


def test_validate_fails_on_a_fact_without_a_source(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ontology_copy / "traditions.ttl"
    line = edit(
        path,
        "saree:shownOn saree:Border , saree:Pallu ; dcterms:source src:GIJournal44 ] ,\n"
        "        [ saree:attribute saree:BitterGourd",
        "saree:shownOn saree:Border , saree:Pallu ] ,\n        [ saree:attribute saree:BitterGourd",
    )
    code, out, err = _validate(ontology_copy, capsys)
    assert code == 1
    want = f"traditions.ttl:{line}: ExtraWeft: link Bomkai -> ExtraWeft has no dcterms:source"
    assert want in out
    assert "1 problem" in err


def test_validate_fails_on_a_gi_registration_without_a_source(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "traditions.ttl",
        "dcterms:source src:GIJournal44 , src:NewsOdishaGIAssembly ]",
        "]",
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1 and "Bomkai: GI registration has no dcterms:source" in out


def test_validate_fails_on_a_source_nobody_can_trace(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "sources.ttl",
        _POCHAMPALLY,
        'src:EncPochampally a saree:Source ; dcterms:title "An encyclopaedia entry"@en .',
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1
    assert "EncPochampally: source cannot be traced: give a web address" in out


def test_a_printed_source_with_full_details_is_traceable(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "sources.ttl",
        _POCHAMPALLY,
        'src:EncPochampally a saree:Source ; dcterms:title "Handwoven ikat of Telangana"@en ;\n'
        '    dcterms:creator "A. Author" ; dcterms:publisher "A Press" ; dcterms:date "2001" ;'
        ' saree:page "12-14" .',
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 0, out
    graph = TextileGraph.load(ontology_copy, cache=False)
    cite = graph.source("EncPochampally").citation()  # type: ignore[union-attr]
    assert cite == "A. Author, \u201cHandwoven ikat of Telangana\u201d, A Press, 2001, p. 12-14"


def test_a_confirmed_fact_resting_only_on_project_notes_is_refused(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "traditions.ttl",
        "[ saree:attribute saree:StripedPallu ; saree:typicality 0.7 ; saree:shownOn saree:Pallu ;"
        " dcterms:source src:CraftKnowledge ; saree:confirmed false ]",
        "[ saree:attribute saree:StripedPallu ; saree:typicality 0.7 ; saree:shownOn saree:Pallu ;"
        " dcterms:source src:CraftKnowledge ]",
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1
    assert "link Kasavu -> StripedPallu rests only on project notes" in out


def test_validate_reports_sources_links_and_project_notes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["kg", "validate"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"sources: \d+ \(\d+ with a web address", out)
    assert re.search(r"links to shared vocabularies: \d+ Getty AAT, \d+ Wikidata", out)
    assert "resting only on project notes" in out


def test_a_tradition_without_a_state_is_refused(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "traditions.ttl",
        "saree:region saree:Kota ;",
        "saree:region saree:NorthIndia ;",
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1 and "KotaDoria: region NorthIndia is not in any state" in out


def test_gi_dates_must_be_dates(ontology_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(
        ontology_copy / "traditions.ttl",
        'saree:giRegistrationDate "2011" ;\n        saree:note "Wikipedia',
        'saree:giRegistrationDate "2006 or 2009" ;\n        saree:note "Wikipedia',
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1 and "Baluchari: GI giRegistrationDate '2006 or 2009' is not a date" in out


# --------------------------------------------------------------------------- shared vocabularies


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        ("http://www.wikidata.org/entity/Q1445", ("Wikidata", "Q1445")),
        ("http://vocab.getty.edu/aat/300243428", ("Getty AAT", "300243428")),
        ("http://vocab.getty.edu/tgn/7001234", ("Getty TGN", "7001234")),
        ("http://www.wikidata.org/entity/Q0123", None),
        ("http://www.wikidata.org/entity/P31", None),
        ("http://vocab.getty.edu/aat/30024342", None),
        ("http://vocab.getty.edu/aat/400243428", None),
        ("http://vocab.getty.edu/tgn/1001234", None),
        ("http://example.org/silk", None),
    ],
)
def test_vocabulary_identifiers_must_be_well_formed(
    iri: str, expected: tuple[str, str] | None
) -> None:
    parsed = parse_vocabulary_iri(iri)
    assert (parsed[:2] if parsed else None) == expected


def test_bundled_links_are_well_formed_labelled_and_sourced(kg: TextileGraph) -> None:
    links = kg.all_links()
    assert {k.identifier for k in kg.links_of("Silk")} == {"Q37681", "300014072"}
    assert [k.identifier for k in kg.links_of("TamilNadu")] == ["Q1445"]
    zari = kg.links_of("ZariBrocade")
    assert [(k.vocabulary, k.identifier, k.match) for k in zari] == [
        ("Wikidata", "Q649022", "close"),
    ]
    for term, term_links in links.items():
        for k in term_links:
            assert parse_vocabulary_iri(k.iri) is not None, term
            assert k.label and k.sources and k.url.startswith(("http://", "https://")), term


def test_validate_refuses_a_malformed_or_unsourced_link(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    regions = ontology_copy / "regions.ttl"
    edit(regions, "skos:exactMatch wd:Q1186 ;", "skos:exactMatch wd:Kerala ;")
    edit(
        regions,
        'wd:Q1185 rdfs:label "Karnataka"@en ; dcterms:source src:CSCStates .',
        'wd:Q1185 rdfs:label "Karnataka"@en .',
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1
    assert "Kerala: skos:exactMatch <http://www.wikidata.org/entity/Kerala> is not a" in out
    assert "Karnataka: link to Wikidata Q1185 has no dcterms:source" in out


def test_validate_refuses_a_link_resting_only_on_a_project_note(
    ontology_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        ontology_copy / "regions.ttl",
        'wd:Q1185 rdfs:label "Karnataka"@en ; dcterms:source src:CSCStates .',
        'wd:Q1185 rdfs:label "Karnataka"@en ; dcterms:source src:Gazetteer .',
    )
    code, out, _ = _validate(ontology_copy, capsys)
    assert code == 1
    assert "Karnataka: link to Wikidata Q1185 rests only on project notes" in out


def test_plain_weave_links_to_the_aat_tabby_entry_with_the_mapping_it_came_from(
    kg: TextileGraph,
) -> None:
    (link,) = [k for k in kg.links_of("PlainWeave") if k.vocabulary == "Getty AAT"]
    assert (link.vocabulary, link.identifier, link.match) == ("Getty AAT", "300312167", "close")
    assert link.label == "tabby (process)"
    assert link.url == "http://vocab.getty.edu/page/aat/300312167"
    (where,) = link.sources
    source = kg.source(where)
    assert source is not None and source.traceable and not source.project_note
    assert source.url is not None and "american-art/ima" in source.url


def test_a_copy_of_a_journal_says_where_the_original_is_published(kg: TextileGraph) -> None:
    journal = kg.source("GIJournal44")
    assert journal is not None and journal.url is not None and "docslib.org" in journal.url
    line = journal.citation()
    assert "A copy." in line and "www.ipindia.nic.in" in line
    # A journal from before the Registry published online says nothing of the kind.
    older = kg.source("GIJournal25")
    assert older is not None and "ipindia" not in older.citation()


# ------------------------------------------------------------ the spot-check of December 2026


@pytest.mark.parametrize(
    ("tradition", "fibre", "source"),
    [
        ("UppadaJamdani", "Silk", "CraftUppadaAPCO"),  # the news reports cite only cotton
        ("KotaDoria", "SilkCotton", "EncKotaDoria"),  # the journal page is a list of names
        ("PatanPatola", "Silk", "NewsPatolaGulf"),  # The Hindu says "double-sided", not silk
    ],
)
def test_fibres_the_spot_check_found_uncited_now_cite_a_source_that_says_so(
    kg: TextileGraph, tradition: str, fibre: str, source: str
) -> None:
    card = kg.card(tradition)
    assert fibre in {f.id for f in card.fibres}
    assert source in card.record_sources
    found = kg.source(source)
    assert found is not None and found.url and not found.project_note


def test_banarasi_heavy_zari_pallu_is_not_confirmed_by_a_report_that_does_not_say_so(
    kg: TextileGraph,
) -> None:
    (zari,) = [a for a in kg.card("Banarasi").attributes if a.term == "HeavyZari"]
    assert not zari.confirmed and "NewsBanarasZee" in zari.sources
    assert "NewsBanarasZee" in kg.card("Banarasi").record_sources  # spells it "Banarasi"


@pytest.mark.parametrize(
    ("tradition", "attribute", "source", "words"),
    [
        ("Kasavu", "ContrastingBorder", "KeralaTourismKasavu", "rich golden borders"),
        ("MysoreSilk", "ContrastingBorder", "MintMysoreSilk", "contrasting border"),
        ("Gadwal", "ZariBrocade", "CraftRevivalGadwal", "brocaded gold borders and pallus"),
        ("Baluchari", "Buti", "MallickDharBaluchari", "butis or sprigs scattered"),
        (
            "Bandhani",
            "ContrastingBorder",
            "CraftBandhejTextilesInDepth",
            "matching and contrasting colours",
        ),
        ("Sambalpuri", "Fish", "BlogSambalpuriEkkiiadja", "Fish, conch shell and flower motifs"),
        ("MugaSilk", "Flower", "NewsMugaNDTV", "phul (flower)"),
    ],
)
def test_craft_knowledge_facts_a_page_states_now_cite_it(
    kg: TextileGraph, tradition: str, attribute: str, source: str, words: str
) -> None:
    """Facts that rested on the project's craft notes, now with the public page that states
    them: confirmed, the note giving the page's words, the page followable."""
    (link,) = [a for a in kg.card(tradition).attributes if a.term == attribute]
    assert link.confirmed and source in link.sources and "CraftKnowledge" not in link.sources
    found = kg.source(source)
    assert found is not None and found.url and not found.project_note
    assert words in (found.note or "")


def test_bengal_jamdani_is_not_registered_on_the_reports_that_say_so(kg: TextileGraph) -> None:
    gi = kg.card("Jamdani").gi
    assert gi is not None and not gi.registered and gi.confirmed
    assert set(gi.sources) == {"NewsBengalSareesGI", "NewsBengalGI2024"}
    report = kg.source("NewsBengalSareesGI")
    assert report is not None and report.url and "Bengali Jamdani" in (report.note or "")


def test_no_link_to_a_shared_vocabulary_rests_on_a_project_note(kg: TextileGraph) -> None:
    """A Wikidata or Getty identifier a curator cannot trace to a source is not kept (the fifth
    spot-check found four resting on a project note)."""
    for term, links in kg.all_links().items():
        for link in links:
            assert link.sources, (term, link.identifier)
            for name in link.sources:
                found = kg.source(name)
                assert found is not None and found.url and not found.project_note, (term, name)


def test_fifth_spot_check_mends(kg: TextileGraph) -> None:
    (border,) = [a for a in kg.card("KovaiKora").attributes if a.term == "ContrastingBorder"]
    assert not border.confirmed  # "bright colored border designs" is not a contrast
    muga = kg.card("MugaSilk").gi
    assert muga is not None and muga.filed == "2006-07-20"
    assert muga.disagreement and "Assam Tribune" in muga.disagreement
    paithani = kg.card("Paithani").gi
    assert paithani is not None and paithani.registered_on == "2010"


def test_a_link_the_sources_disagree_on_says_so_where_a_curator_reads_it(
    kg: TextileGraph, capsys: pytest.CaptureFixture[str]
) -> None:
    ikat = next(a for a in kg.card("Bomkai").attributes if a.term == "Ikat")
    assert ikat.disagreement and "no ikat work" in ikat.disagreement
    # A link nobody disputes carries none.
    assert all(a.disagreement is None for a in kg.card("Paithani").attributes)
    assert main(["kg", "show", "Bomkai"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if "ikat (bandha)" in line)
    assert lines[at + 1].strip().startswith("sources disagree:")
    assert "no ikat work" in lines[at + 1]


def test_bengal_jamdanis_record_now_cites_what_states_it(kg: TextileGraph) -> None:
    card = kg.card("Jamdani")
    assert card.confirmed
    assert card.record_sources and all(
        kg.source(s) and kg.source(s).url  # type: ignore[union-attr]
        for s in card.record_sources
    )
    assert kg.disagreement("Jamdani") and "silk warp" in str(kg.disagreement("Jamdani"))
