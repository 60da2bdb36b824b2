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

    # --- properties
    region: URIRef
    partOf: URIRef
    hasAttribute: URIRef
    attribute: URIRef
    typicality: URIRef
    fibre: URIRef
    giRegistration: URIRef
    giApplication: URIRef
    giYear: URIRef
    localName: URIRef
    latitude: URIRef
    longitude: URIRef
    confirmed: URIRef
    shownOn: URIRef  # which part of the saree an attribute is usually seen on: body/border/pallu

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
