"""The ontology's terms as a DefinedNamespace: a typo raises instead of minting a new IRI.

The ontology (ontology/*.ttl) is the single vocabulary: the renderer's labels, the model's
attribute outputs and the fusion all use these terms. A term's id is its local name
("Kanchipuram", "TempleBorder"); `term_id()` and `term_iri()` convert.
"""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import DefinedNamespace, Namespace

# `.example` is reserved (RFC 2606): an honest placeholder until the project registers a
# persistent identifier for its ontology.
BASE_IRI = "https://saree-provenance.example/ns#"


class SAREE(DefinedNamespace):
    """Classes, properties and individuals of the saree ontology."""

    _NS = Namespace(BASE_IRI)
    _fail = True

    # --- classes
    Tradition: URIRef
    Region: URIRef
    CulturalRegion: URIRef
    State: URIRef
    District: URIRef
    Town: URIRef
    Motif: URIRef
    Weave: URIRef
    Fibre: URIRef
    Feature: URIRef
    GIRegistration: URIRef
    AttributeLink: URIRef  # reified tradition -> attribute link carrying typicality and source
    SareePart: URIRef
    Source: URIRef
    ProjectNote: URIRef  # the project's own working note: facts resting only on it are unconfirmed
    MotifScheme: URIRef
    WeaveScheme: URIRef
    FeatureScheme: URIRef
    FibreScheme: URIRef

    # --- properties
    region: URIRef
    partOf: URIRef
    hasAttribute: URIRef
    attribute: URIRef
    typicality: URIRef
    fibre: URIRef
    giRegistration: URIRef
    giApplication: URIRef  # the registry's application number
    giCertificateNumber: URIRef
    giFilingDate: URIRef
    giRegistrationDate: URIRef
    giProprietor: URIRef
    localName: URIRef
    latitude: URIRef
    longitude: URIRef
    confirmed: URIRef
    shownOn: URIRef  # which part of the saree an attribute is usually seen on: body/border/pallu
    registered: URIRef  # GI registration: whether registration itself is confirmed
    note: URIRef
    sourcesDisagree: URIRef  # where sources disagree: what each says
    page: URIRef  # page or other locator within a printed source

    # --- traditions
    Kanchipuram: URIRef
    Banarasi: URIRef
    Paithani: URIRef
    PochampallyIkat: URIRef
    PatanPatola: URIRef
    Bandhani: URIRef
    Chanderi: URIRef
    Maheshwari: URIRef
    Baluchari: URIRef
    Sambalpuri: URIRef
    Jamdani: URIRef
    Kasavu: URIRef
    Chettinad: URIRef
    KotaDoria: URIRef
    Gadwal: URIRef
    Ilkal: URIRef
    UppadaJamdani: URIRef
    Venkatagiri: URIRef
    Mangalagiri: URIRef
    Dharmavaram: URIRef
    SiddipetGollabhama: URIRef
    Bomkai: URIRef
    MugaSilk: URIRef
    MysoreSilk: URIRef
    Molakalmuru: URIRef
    MaduraiSungudi: URIRef
    KovaiKora: URIRef

    # --- regions: cultural regions, states, towns and districts (ontology/regions.ttl)
    SouthIndia: URIRef
    NorthIndia: URIRef
    CentralIndia: URIRef
    EastIndia: URIRef
    WestIndia: URIRef
    NortheastIndia: URIRef
    TamilNadu: URIRef
    Kerala: URIRef
    Karnataka: URIRef
    AndhraPradesh: URIRef
    Telangana: URIRef
    UttarPradesh: URIRef
    MadhyaPradesh: URIRef
    Rajasthan: URIRef
    Gujarat: URIRef
    Maharashtra: URIRef
    WestBengal: URIRef
    Odisha: URIRef
    Assam: URIRef
    KanchipuramTown: URIRef
    Karaikudi: URIRef
    Madurai: URIRef
    Coimbatore: URIRef
    Balaramapuram: URIRef
    IlkalTown: URIRef
    Mysuru: URIRef
    MolakalmuruTown: URIRef
    Uppada: URIRef
    VenkatagiriTown: URIRef
    MangalagiriTown: URIRef
    DharmavaramTown: URIRef
    BhoodanPochampally: URIRef
    GadwalTown: URIRef
    Siddipet: URIRef
    Varanasi: URIRef
    ChanderiTown: URIRef
    Maheshwar: URIRef
    Kota: URIRef
    Patan: URIRef
    KutchDistrict: URIRef
    Paithan: URIRef
    Bishnupur: URIRef
    NadiaDistrict: URIRef
    Sambalpur: URIRef
    GanjamDistrict: URIRef
    Sualkuchi: URIRef

    # --- saree parts (values of shownOn); order body, border, pallu as everywhere
    Body: URIRef
    Border: URIRef
    Pallu: URIRef

    # --- motif categories (SKOS broader concepts)
    AnimalMotif: URIRef
    PlantMotif: URIRef
    GeometricMotif: URIRef
    FigurativeMotif: URIRef
    SymbolMotif: URIRef
    ArchitecturalMotif: URIRef

    # --- motifs
    Peacock: URIRef
    Parrot: URIRef
    Paisley: URIRef
    TempleBorder: URIRef
    Rudraksha: URIRef
    Buti: URIRef
    CoinButi: URIRef
    IkatDiamond: URIRef
    BandhaniDots: URIRef
    NarrativeFigures: URIRef
    FloralJaal: URIRef
    Vine: URIRef
    Elephant: URIRef
    Swan: URIRef
    Conch: URIRef
    Wheel: URIRef
    Fish: URIRef
    MilkmaidFigure: URIRef
    Checks: URIRef
    Stripes: URIRef
    Flower: URIRef
    Chatai: URIRef
    Eent: URIRef
    Heera: URIRef
    BitterGourd: URIRef

    # --- weaves and techniques
    Ikat: URIRef
    DoubleIkat: URIRef
    SingleIkat: URIRef
    ZariBrocade: URIRef
    ExtraWeft: URIRef
    JamdaniWeave: URIRef
    TieDye: URIRef
    TapestryWeave: URIRef
    PlainWeave: URIRef
    ResistDyeing: URIRef
    Jacquard: URIRef
    ThreeShuttleWeave: URIRef

    # --- structural features
    ContrastingBorder: URIRef
    KorvaiJoin: URIRef
    ReversibleBorder: URIRef
    SeparatePallu: URIRef
    StripedPallu: URIRef
    NarrativePallu: URIRef
    SheerBody: URIRef
    ZariBands: URIRef
    ZariGroundPallu: URIRef
    TopeTeniJoin: URIRef
    KupadamJoin: URIRef
    HeavyZari: URIRef
    PalluJoin: URIRef
    BorderStructure: URIRef
    PalluStructure: URIRef
    BodyStructure: URIRef

    # --- fibres
    Silk: URIRef
    Cotton: URIRef
    SilkCotton: URIRef
    MugaSilkFibre: URIRef
    ArtSilk: URIRef


def term_iri(term_id: str) -> URIRef:
    """'Kanchipuram' -> the term's IRI; raises AttributeError for an unknown term."""
    iri: URIRef = getattr(SAREE, term_id)
    return iri


def term_id(iri: str) -> str:
    """The term's IRI -> its id ('Kanchipuram'); an IRI outside the ontology raises ValueError."""
    if not iri.startswith(BASE_IRI):
        raise ValueError(f"{iri} is not a term of the saree ontology")
    return iri[len(BASE_IRI) :]
