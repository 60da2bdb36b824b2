"""TextileGraph: load ontology/*.ttl, validate, query, region hierarchy."""

from __future__ import annotations

import json
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saree_app.knowledge.namespace import BASE_IRI

if TYPE_CHECKING:
    import networkx
    import rdflib

SOURCE_IRI = "https://saree-provenance.example/source#"
_DCT = "http://purl.org/dc/terms/"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_OWL = "http://www.w3.org/2002/07/owl#"

#: Region classes, most specific first; the level names used in RegionInfo and RegionScore.
REGION_LEVELS: dict[str, str] = {
    "Town": "town",
    "District": "district",
    "State": "state",
    "CulturalRegion": "cultural_region",
}
#: Attribute classes (what the model can see) and their kind names.
ATTRIBUTE_KINDS: dict[str, str] = {"Motif": "motif", "Weave": "weave", "Feature": "feature"}
#: Saree parts in the order used everywhere (model outputs, masks, cards).
PARTS: dict[str, str] = {"Body": "body", "Border": "border", "Pallu": "pallu"}
#: How a tradition -> attribute link reads, by the attribute's kind.
RELATION_TEXT: dict[str, str] = {
    "motif": "has motif",
    "weave": "woven as",
    "feature": "has feature",
}


class OntologyError(Exception):
    """A problem in the ontology files, located by file, line and term where known."""

    def __init__(
        self,
        file: Path | None,
        line: int | None,
        term: str | None,
        message: str,
        problems: tuple[OntologyError, ...] = (),
    ) -> None:
        self.file = file
        self.line = line
        self.term = term
        self.message = message
        #: Every problem found, this one first (validation does not stop at the first).
        self.problems: tuple[OntologyError, ...] = problems or (self,)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.file) if self.file is not None else "ontology"
        if self.line is not None:
            where += f":{self.line}"
        what = f"{self.term}: " if self.term else ""
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        return f"{where}: {what}{self.message}{tail}"


@dataclass(frozen=True)
class SourceInfo:
    """A cited source: its id (local name in the source namespace), title and where to find it.

    A source a curator can follow has a web address (`url`) or full bibliographic details
    (author or publisher, title, year and page). A project note is the project's own working
    note, not a publication: facts resting only on it are flagged as not confirmed.
    """

    id: str
    title: str
    url: str | None = None
    creator: str | None = None
    publisher: str | None = None
    date: str | None = None
    page: str | None = None
    project_note: bool = False
    note: str | None = None  # e.g. that the address is a copy, and where the original is

    @property
    def traceable(self) -> bool:
        """Whether a curator can find it: a web address or full bibliographic details."""
        if self.url:
            return True
        return bool(self.title and (self.creator or self.publisher) and self.date and self.page)

    def citation(self) -> str:
        """One line a curator can quote: author, title, publisher, year, page, address."""
        parts = [p for p in (self.creator, f"\u201c{self.title}\u201d", self.publisher) if p]
        if self.date:
            parts.append(self.date)
        if self.page:
            parts.append(f"p. {self.page}" if self.page[:1].isdigit() else self.page)
        text = ", ".join(parts)
        if self.project_note:
            text += " (project note, not a publication)"
        text += f" <{self.url}>" if self.url else ""
        if self.note and not self.project_note:
            text += f". {self.note}"
        return text


#: Shared vocabularies a term may link to: (IRI prefix, name, identifier pattern, browse URL).
VOCABULARIES: tuple[tuple[str, str, str, str], ...] = (
    ("http://www.wikidata.org/entity/", "Wikidata", r"Q[1-9]\d*", "https://www.wikidata.org/wiki/"),
    ("http://vocab.getty.edu/aat/", "Getty AAT", r"300\d{6}", "http://vocab.getty.edu/page/aat/"),
    ("http://vocab.getty.edu/tgn/", "Getty TGN", r"7\d{6}", "http://vocab.getty.edu/page/tgn/"),
)


@dataclass(frozen=True)
class VocabularyLink:
    """A skos:exactMatch / skos:closeMatch from a term to an entry of a shared vocabulary."""

    iri: str  # e.g. http://www.wikidata.org/entity/Q1445
    vocabulary: str  # Wikidata | Getty AAT | Getty TGN
    identifier: str  # Q1445, 300243428, 7001234
    match: str  # exact | close
    label: str  # the entry's name in that vocabulary, as recorded when it was looked up
    url: str  # a page a curator can open
    sources: tuple[str, ...] = ()  # where the identifier was found


def parse_vocabulary_iri(iri: str) -> tuple[str, str, str] | None:
    """(vocabulary name, identifier, browse URL) of a well-formed shared-vocabulary IRI, or
    None: an IRI of no known vocabulary or an identifier of the wrong shape."""
    for prefix, name, pattern, browse in VOCABULARIES:
        if iri.startswith(prefix):
            ident = iri[len(prefix) :]
            if re.fullmatch(pattern, ident):
                return name, ident, browse + ident
            return None
    return None


@dataclass(frozen=True)
class RegionInfo:
    """One step of a region chain."""

    id: str
    label: str
    level: str  # town | district | state | cultural_region
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class AttributeInfo:
    """A tradition -> attribute link with its typicality, the part it shows on and its source."""

    term: str
    label: str
    kind: str  # motif | weave | feature
    typicality: float
    shown_on: tuple[str, ...]  # part names: body, border, pallu
    sources: tuple[str, ...]  # source ids
    confirmed: bool = True
    local_names: tuple[str, ...] = ()
    note: str | None = None
    disagreement: str | None = None  # where the sources disagree about this link: what each says


@dataclass(frozen=True)
class FibreInfo:
    """A fibre a tradition is woven from."""

    id: str
    label: str


@dataclass(frozen=True)
class GIInfo:
    """Geographical-indication registration facts, each field saying what it is."""

    registered: bool
    confirmed: bool
    application: str | None  # the registry's application number
    filed: str | None  # when the application was filed (YYYY, YYYY-MM or YYYY-MM-DD)
    registered_on: str | None  # when it was registered (or YYYY/YYYY, a financial year)
    proprietor: str | None  # the registered proprietor
    certificate: str | None  # the registration certificate number
    note: str | None
    sources: tuple[str, ...]
    disagreement: str | None = None  # where the sources disagree: what each says


@dataclass(frozen=True)
class TraditionCard:
    """Everything the graph says about one tradition, ready to show."""

    id: str
    label: str
    local_names: tuple[str, ...]
    region_chain: tuple[RegionInfo, ...]  # town/district -> state -> cultural region
    attributes: tuple[AttributeInfo, ...]  # most typical first
    fibres: tuple[FibreInfo, ...]
    gi: GIInfo | None
    sources: tuple[SourceInfo, ...]  # every source cited on this card
    record_sources: tuple[str, ...] = ()  # sources of label, region and fibres
    confirmed: bool = True
    note: str | None = None


@dataclass
class _Link:
    term: str
    typicality: float
    shown_on: tuple[str, ...]
    sources: tuple[str, ...]
    confirmed: bool
    note: str | None
    disagreement: str | None = None


@dataclass
class _Data:
    """Plain-Python content of the ontology, built once from the rdflib graph."""

    labels: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    local_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    term_sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    confirmed: dict[str, bool] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    coords: dict[str, tuple[float, float]] = field(default_factory=dict)
    broader: dict[str, tuple[str, ...]] = field(default_factory=dict)
    traditions: list[str] = field(default_factory=list)
    region_of: dict[str, str] = field(default_factory=dict)
    fibres: dict[str, tuple[str, ...]] = field(default_factory=dict)
    links: dict[str, list[_Link]] = field(default_factory=dict)
    gi: dict[str, GIInfo] = field(default_factory=dict)
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    vocab_links: dict[str, tuple[VocabularyLink, ...]] = field(default_factory=dict)
    disagreements: dict[str, str] = field(default_factory=dict)
    # Facts that rest only on project notes, by kind (tradition facts must be unconfirmed).
    notes_only: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- loading


class _Locator:
    """Finds the line of a term in the ontology files (rdflib keeps no positions)."""

    def __init__(self, texts: dict[Path, list[str]]) -> None:
        self.texts = texts

    @staticmethod
    def _pattern(term: str) -> re.Pattern[str]:
        return re.compile(r"(?:saree:|src:|#)" + re.escape(term) + r"(?![\w-])")

    def find(
        self, term: str, file: Path | None = None, after: str | None = None
    ) -> tuple[Path | None, int | None]:
        """The file and 1-based line where `term` is defined (or first mentioned).

        With `after`, the first mention of `term` after the definition of `after` (a link
        inside a tradition's block).
        """
        files = [file] if file is not None else list(self.texts)
        pat = self._pattern(term)
        for f in files:
            lines = self.texts.get(f, []) if f is not None else []
            start = 0
            if after is not None:
                def_line = self._definition(after, lines)
                if def_line is None:
                    continue
                start = def_line
            if after is None:
                def_line = self._definition(term, lines)
                if def_line is not None:
                    return f, def_line + 1
            for i in range(start, len(lines)):
                if pat.search(_strip_comment(lines[i])):
                    return f, i + 1
        return (file, None) if file is not None else (None, None)

    def _definition(self, term: str, lines: list[str]) -> int | None:
        start = re.compile(r"^(?:saree:|src:|<[^>]*#)" + re.escape(term) + r"(?![\w-])")
        for i, line in enumerate(lines):
            if start.match(line):
                return i
        return None


def _strip_comment(line: str) -> str:
    # Good enough for locating terms: '#' inside IRIs is always followed by a name char.
    return re.sub(r"(^|\s)#.*$", "", line)


def _local(node: Any) -> str | None:
    s = str(node)
    if s.startswith(BASE_IRI):
        return s[len(BASE_IRI) :]
    return None


def _source_id(node: Any) -> str | None:
    s = str(node)
    if s.startswith(SOURCE_IRI):
        return s[len(SOURCE_IRI) :]
    return None


def _ttl_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.ttl") if p.is_file())


_CACHE: dict[tuple[str, tuple[tuple[str, int, int], ...]], TextileGraph] = {}
# Bump when _Data changes shape: a pickled graph of an older layout must not be read back.
_DISK_VERSION = 2


def _cache_dir() -> Path | None:
    """Where validated graphs are pickled (None: no disk cache). Importing rdflib and parsing
    cost a few hundred ms on a busy machine; a validated graph read back costs a few ms."""
    if os.environ.get("SAREE_NO_CACHE"):
        return None
    try:
        import platformdirs
    except ImportError:
        return None
    return Path(platformdirs.user_cache_dir("saree-app", appauthor=False)) / "knowledge"


def _disk_key(key: tuple[str, tuple[tuple[str, int, int], ...]]) -> str:
    import hashlib

    from saree_app import __version__

    raw = json.dumps([_DISK_VERSION, __version__, key[0], key[1]])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _disk_load(key: tuple[str, tuple[tuple[str, int, int], ...]]) -> _Data | None:
    folder = _cache_dir()
    if folder is None:
        return None
    path = folder / f"graph-{_disk_key(key)}.pickle"
    try:
        with path.open("rb") as fh:
            # Our own cache file in the user's cache folder, keyed by the ontology files' names,
            # sizes and modification times and by the code version.
            data = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # a damaged or foreign cache file is only a cache miss
        return None
    return data if isinstance(data, _Data) else None


def _disk_store(key: tuple[str, tuple[tuple[str, int, int], ...]], data: _Data) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("graph-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = folder / f"graph-{_disk_key(key)}.{os.getpid()}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(folder / f"graph-{_disk_key(key)}.pickle")
    except OSError:
        pass  # a read-only or full cache folder only costs speed


def _fingerprint(files: list[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for f in files:
        st = f.stat()
        out.append((f.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


class TextileGraph:
    """The textile knowledge graph: traditions, regions, attributes, fibres and their sources.

    Load with `TextileGraph.load()`; query with term ids (local names such as "Kanchipuram").
    """

    def __init__(self, data: _Data, rdf: rdflib.Graph | None, directory: Path) -> None:
        self._d = data
        self._rdf = rdf  # None when read back from the disk cache; parsed again on demand
        self.directory = directory
        self._nx: networkx.DiGraph | None = None
        self._narrower: dict[str, tuple[str, ...]] | None = None

    # ----------------------------------------------------------------- construction

    @classmethod
    def load(cls, directory: Path | None = None, *, cache: bool = True) -> TextileGraph:
        """Parse and validate every .ttl file of `directory` (default: the bundled ontology).

        Raises OntologyError naming the file, line and term of the first problem; the error's
        `problems` lists all of them. A validated graph is kept in memory and pickled in the
        user cache folder, keyed by the files' names, sizes and times; `cache=False` parses
        and validates afresh.
        """
        if directory is None:
            from saree_app.paths import ontology_dir

            directory = ontology_dir()
        # Absolute: file URIs need it (`saree kg --ontology DIR` takes a relative folder), and
        # the graph re-reads its files later, after the working folder may have changed.
        directory = Path(directory).absolute()
        if not directory.is_dir():
            raise OntologyError(directory, None, None, "ontology folder not found")
        files = _ttl_files(directory)
        if not files:
            raise OntologyError(directory, None, None, "no Turtle (.ttl) files in the folder")
        try:
            key = (str(directory.resolve()), _fingerprint(files))
        except OSError as exc:
            raise OntologyError(directory, None, None, _unreadable(exc)) from exc
        if cache:
            cached = _CACHE.get(key)
            if cached is not None:
                return cached
            data = _disk_load(key)
            if data is not None:
                graph = cls(data, None, directory)
                _CACHE.clear()
                _CACHE[key] = graph
                return graph
        graph = cls._parse_and_validate(directory, files)
        _CACHE.clear()
        _CACHE[key] = graph
        _disk_store(key, graph._d)
        return graph

    @classmethod
    def check(cls, directory: Path | None = None) -> list[OntologyError]:
        """All problems of the ontology in `directory` (empty list: it is valid); never cached."""
        try:
            cls.load(directory, cache=False)
        except OntologyError as exc:
            return list(exc.problems)
        return []

    @classmethod
    def _parse_and_validate(cls, directory: Path, files: list[Path]) -> TextileGraph:
        import rdflib
        from rdflib.plugins.parsers.notation3 import BadSyntax

        texts: dict[Path, list[str]] = {}
        combined = rdflib.Graph()
        subject_file: dict[Any, Path] = {}
        problems: list[OntologyError] = []
        for f in files:
            try:
                raw = f.read_bytes()
            except OSError as exc:
                problems.append(OntologyError(f, None, None, _unreadable(exc)))
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = raw.count(b"\n", 0, exc.start) + 1
                problems.append(
                    OntologyError(
                        f,
                        line,
                        None,
                        "not text in UTF-8 (Turtle files are UTF-8): save the file as UTF-8 "
                        "in a text editor",
                    )
                )
                continue
            texts[f] = text.splitlines()
            g = rdflib.Graph()
            try:
                g.parse(data=text, format="turtle", publicID=f.absolute().as_uri())
            except BadSyntax as exc:
                why = getattr(exc, "_why", str(exc))
                line = int(getattr(exc, "lines", 0)) + 1
                problems.append(OntologyError(f, line, None, f"Turtle syntax error: {why}"))
                continue
            except Exception as exc:  # rdflib raises several unrelated types for bad input
                problems.append(OntologyError(f, None, None, f"cannot parse: {exc}"))
                continue
            for s in g.subjects(unique=True):
                subject_file.setdefault(s, f)
            combined += g
        if problems:
            raise OntologyError(
                problems[0].file,
                problems[0].line,
                problems[0].term,
                problems[0].message,
                tuple(problems),
            )
        for prefix, ns in (
            ("saree", BASE_IRI),
            ("src", SOURCE_IRI),
            ("dcterms", _DCT),
            ("skos", _SKOS),
            ("owl", _OWL),
        ):
            combined.bind(prefix, ns)
        data, problems = _extract(combined, subject_file, _Locator(texts))
        if problems:
            raise OntologyError(
                problems[0].file,
                problems[0].line,
                problems[0].term,
                problems[0].message,
                tuple(problems),
            )
        return cls(data, combined, directory)

    # ----------------------------------------------------------------- queries

    def traditions(self) -> list[str]:
        """Every tradition id, in file order."""
        return list(self._d.traditions)

    def label(self, term_id: str) -> str:
        """The English label of a term (the id itself for an unknown term)."""
        return self._d.labels.get(term_id, term_id)

    def kind(self, term_id: str) -> str | None:
        """tradition | town | district | state | cultural_region | motif | weave | feature |
        fibre | part | None for an unknown term."""
        cls = self._d.types.get(term_id)
        if cls is None:
            return None
        if cls == "Tradition":
            return "tradition"
        if cls in REGION_LEVELS:
            return REGION_LEVELS[cls]
        if cls in ATTRIBUTE_KINDS:
            return ATTRIBUTE_KINDS[cls]
        if cls == "Fibre":
            return "fibre"
        if cls == "SareePart":
            return "part"
        return cls.lower()

    def __contains__(self, term_id: object) -> bool:
        return isinstance(term_id, str) and term_id in self._d.types

    def local_names(self, term_id: str) -> tuple[str, ...]:
        """Local-language names of a term ("mayil" for Peacock)."""
        return self._d.local_names.get(term_id, ())

    def attributes(self) -> list[str]:
        """Every attribute term (motif, weave, structural feature), including categories."""
        return [t for t, c in self._d.types.items() if c in ATTRIBUTE_KINDS]

    def fibres(self) -> list[str]:
        """Every fibre term."""
        return [t for t, c in self._d.types.items() if c == "Fibre"]

    def regions(self, level: str | None = None) -> list[str]:
        """Every region id, or those of one level (town, district, state, cultural_region)."""
        return [
            t
            for t, c in self._d.types.items()
            if c in REGION_LEVELS and (level is None or REGION_LEVELS[c] == level)
        ]

    def attributes_of(self, tradition: str) -> dict[str, float]:
        """Attribute id -> typicality for one tradition."""
        self._need_tradition(tradition)
        return {link.term: link.typicality for link in self._d.links.get(tradition, [])}

    def attribute_links(self, tradition: str) -> tuple[AttributeInfo, ...]:
        """The tradition's attribute links, most typical first."""
        self._need_tradition(tradition)
        links = sorted(self._d.links.get(tradition, []), key=lambda k: (-k.typicality, k.term))
        return tuple(self._attribute_info(k) for k in links)

    def fibres_of(self, tradition: str) -> tuple[str, ...]:
        """Fibre ids of a tradition."""
        self._need_tradition(tradition)
        return self._d.fibres.get(tradition, ())

    def region_chain(self, tradition: str) -> list[str]:
        """Region ids from the most local (town/district) up to the cultural region."""
        self._need_tradition(tradition)
        region = self._d.region_of.get(tradition)
        return self._chain(region) if region else []

    def region_ancestors(self, region: str) -> list[str]:
        """`region` and every region it is part of, most local first."""
        return self._chain(region)

    def state_of(self, tradition: str) -> str | None:
        """The state a tradition comes from."""
        return self._level_in_chain(tradition, "state")

    def cultural_region_of(self, tradition: str) -> str | None:
        """The cultural region a tradition comes from."""
        return self._level_in_chain(tradition, "cultural_region")

    def coordinates(self, region: str) -> tuple[float, float] | None:
        """(latitude, longitude) of a region, if known."""
        return self._d.coords.get(region)

    def broader(self, term: str) -> tuple[str, ...]:
        """Direct skos:broader concepts of an attribute or fibre."""
        return self._d.broader.get(term, ())

    def ancestors(self, term: str) -> list[str]:
        """Broader concepts (attributes, fibres), enclosing regions (regions), or the region
        chain (traditions), nearest first."""
        if self._d.types.get(term) == "Tradition":
            return self.region_chain(term)
        if self._d.types.get(term) in REGION_LEVELS:
            return self._chain(term)[1:]
        return _closure(term, self.broader)

    def narrower(self, term: str) -> tuple[str, ...]:
        """Direct skos:narrower concepts of an attribute or fibre."""
        if self._narrower is None:
            rev: dict[str, list[str]] = {}
            for child, parents in self._d.broader.items():
                for p in parents:
                    rev.setdefault(p, []).append(child)
            self._narrower = {k: tuple(v) for k, v in rev.items()}
        return self._narrower.get(term, ())

    def descendants(self, term: str) -> list[str]:
        """Every narrower concept, transitively."""
        return _closure(term, self.narrower)

    def source(self, source_id: str) -> SourceInfo | None:
        """A cited source by id."""
        return self._d.sources.get(source_id)

    def sources(self) -> list[SourceInfo]:
        """Every source defined in the ontology."""
        return list(self._d.sources.values())

    def links_of(self, term: str) -> tuple[VocabularyLink, ...]:
        """The term's links to shared vocabularies (Wikidata, Getty AAT, Getty TGN)."""
        return self._d.vocab_links.get(term, ())

    def all_links(self) -> dict[str, tuple[VocabularyLink, ...]]:
        """Term id -> its links to shared vocabularies, for every linked term."""
        return dict(self._d.vocab_links)

    def disagreement(self, term: str) -> str | None:
        """What the sources say where they disagree about a term's own facts."""
        return self._d.disagreements.get(term)

    def notes_only_counts(self) -> dict[str, int]:
        """How many facts rest only on project notes, by kind (tradition, region, vocabulary)."""
        return dict(self._d.notes_only)

    def sources_of(self, term: str) -> tuple[str, ...]:
        """Source ids backing a term's own record."""
        return self._d.term_sources.get(term, ())

    def resolve(self, text: str, kinds: Iterable[str] | None = None) -> str | None:
        """A term id from an id, an English label or a local name (case-insensitive).

        `kinds` limits the search (e.g. {"tradition"}); ids win over labels over local names.
        """
        wanted = set(kinds) if kinds is not None else None
        needle = text.strip().casefold()
        if not needle:
            return None

        def ok(t: str) -> bool:
            return wanted is None or self.kind(t) in wanted

        for t in self._d.types:
            if t.casefold() == needle and ok(t):
                return t
        for t, lab in self._d.labels.items():
            if lab.casefold() == needle and ok(t):
                return t
        for t, names in self._d.local_names.items():
            if any(n.casefold() == needle for n in names) and ok(t):
                return t
        return None

    def card(self, tradition: str) -> TraditionCard:
        """Everything about one tradition, with sources."""
        self._need_tradition(tradition)
        d = self._d
        chain = tuple(
            RegionInfo(
                id=r,
                label=self.label(r),
                level=REGION_LEVELS[d.types[r]],
                latitude=d.coords[r][0] if r in d.coords else None,
                longitude=d.coords[r][1] if r in d.coords else None,
            )
            for r in self.region_chain(tradition)
        )
        attrs = self.attribute_links(tradition)
        gi = d.gi.get(tradition)
        cited: list[str] = list(d.term_sources.get(tradition, ()))
        for a in attrs:
            cited += a.sources
        if gi is not None:
            cited += gi.sources
        for r in chain:
            cited += d.term_sources.get(r.id, ())
        unique = list(dict.fromkeys(cited))
        return TraditionCard(
            id=tradition,
            label=self.label(tradition),
            local_names=self.local_names(tradition),
            region_chain=chain,
            attributes=attrs,
            fibres=tuple(FibreInfo(f, self.label(f)) for f in self.fibres_of(tradition)),
            gi=gi,
            sources=tuple(d.sources[s] for s in unique if s in d.sources),
            record_sources=d.term_sources.get(tradition, ()),
            confirmed=d.confirmed.get(tradition, True),
            note=d.notes.get(tradition),
        )

    def similar_traditions(self, tradition: str, k: int = 5) -> list[tuple[str, float]]:
        """The k traditions sharing most attributes with `tradition`: (id, similarity in [0, 1]).

        Similarity is the weighted Jaccard index of typicality vectors, where an attribute also
        counts (at half its typicality) for each broader concept, so double ikat and ikat
        traditions are related.
        """
        self._need_tradition(tradition)
        mine = self._profile(tradition)
        scored = []
        for other in self._d.traditions:
            if other == tradition:
                continue
            theirs = self._profile(other)
            keys = mine.keys() | theirs.keys()
            num = sum(min(mine.get(a, 0.0), theirs.get(a, 0.0)) for a in keys)
            den = sum(max(mine.get(a, 0.0), theirs.get(a, 0.0)) for a in keys)
            scored.append((other, num / den if den else 0.0))
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[: max(0, k)]

    @property
    def nx(self) -> networkx.DiGraph:
        """A networkx view: nodes are term ids (attribute `kind`, `label`), edges carry
        `relation` (region, partOf, hasAttribute with typicality/shown_on/sources, broader,
        fibre)."""
        if self._nx is None:
            self._nx = self._build_nx()
        return self._nx

    def rdf(self) -> rdflib.Graph:
        """The merged rdflib graph (for export); raises OntologyError if the files changed
        into something invalid since the graph was loaded."""
        if self._rdf is None:
            self._rdf = self._parse_and_validate(self.directory, _ttl_files(self.directory))._rdf
        assert self._rdf is not None
        return self._rdf

    def serialize(self, fmt: str) -> str:
        """The whole graph as Turtle ('ttl') or JSON-LD ('jsonld')."""
        if fmt in ("ttl", "turtle"):
            return str(self.rdf().serialize(format="turtle"))
        if fmt in ("jsonld", "json-ld"):
            context = {
                "saree": BASE_IRI,
                "src": SOURCE_IRI,
                "dcterms": _DCT,
                "skos": _SKOS,
                "rdfs": _RDFS,
                "owl": _OWL,
            }
            return str(self.rdf().serialize(format="json-ld", context=context, indent=1))
        raise ValueError(f"unknown format {fmt!r}: use ttl or jsonld")

    # ----------------------------------------------------------------- helpers

    def _need_tradition(self, tradition: str) -> None:
        if self._d.types.get(tradition) != "Tradition":
            raise KeyError(f"{tradition!r} is not a tradition in the knowledge graph")

    def _chain(self, region: str) -> list[str]:
        chain = []
        cur: str | None = region
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = self._d.parent.get(cur)
        return chain

    def _level_in_chain(self, tradition: str, level: str) -> str | None:
        for r in self.region_chain(tradition):
            if REGION_LEVELS.get(self._d.types.get(r, "")) == level:
                return r
        return None

    def _attribute_info(self, link: _Link) -> AttributeInfo:
        return AttributeInfo(
            term=link.term,
            label=self.label(link.term),
            kind=ATTRIBUTE_KINDS.get(self._d.types.get(link.term, ""), "attribute"),
            typicality=link.typicality,
            shown_on=link.shown_on,
            sources=link.sources,
            confirmed=link.confirmed,
            local_names=self.local_names(link.term),
            note=link.note,
            disagreement=link.disagreement,
        )

    def _profile(self, tradition: str) -> dict[str, float]:
        prof: dict[str, float] = {}
        for link in self._d.links.get(tradition, []):
            prof[link.term] = max(prof.get(link.term, 0.0), link.typicality)
            for anc in self.ancestors(link.term):
                prof[anc] = max(prof.get(anc, 0.0), 0.5 * link.typicality)
        return prof

    def _build_nx(self) -> networkx.DiGraph:
        import networkx as nx

        g = nx.DiGraph()
        d = self._d
        for t, cls in d.types.items():
            kind = self.kind(t) or cls
            attrs: dict[str, Any] = {"kind": kind, "label": self.label(t)}
            if t in d.coords:
                attrs["latitude"], attrs["longitude"] = d.coords[t]
            g.add_node(t, **attrs)
        for child, parent in d.parent.items():
            g.add_edge(child, parent, relation="partOf")
        for child, parents in d.broader.items():
            for p in parents:
                g.add_edge(child, p, relation="broader")
        for t in d.traditions:
            if t in d.region_of:
                g.add_edge(t, d.region_of[t], relation="region")
            for f in d.fibres.get(t, ()):
                g.add_edge(t, f, relation="fibre")
            for link in d.links.get(t, []):
                g.add_edge(
                    t,
                    link.term,
                    relation="hasAttribute",
                    typicality=link.typicality,
                    shown_on=link.shown_on,
                    sources=link.sources,
                    confirmed=link.confirmed,
                )
        return g


# --------------------------------------------------------------------------- extraction


def _extract(
    g: rdflib.Graph, subject_file: dict[Any, Path], loc: _Locator
) -> tuple[_Data, list[OntologyError]]:
    """Read the merged graph into plain data and collect every validation problem."""
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

    def s(name: str) -> URIRef:
        return URIRef(BASE_IRI + name)

    d = _Data()
    problems: list[OntologyError] = []

    def problem(
        term: str | None, message: str, file: Path | None = None, after: str | None = None
    ) -> None:
        f, line = (file, None)
        if term is not None:
            f, line = loc.find(term, file=file, after=after)
            if f is None and file is None:
                f, line = loc.find(term)
        problems.append(OntologyError(f, line, term, message))

    def file_of(node: Any) -> Path | None:
        return subject_file.get(node)

    # --- which terms exist: anything typed, in our namespace
    defined: set[str] = set()
    classes_and_props: set[str] = set()
    for subj, typ in g.subject_objects(RDF.type):
        lid = _local(subj)
        if lid is None:
            sid = _source_id(subj)
            if sid is not None and typ == s("Source"):
                d.sources[sid] = _read_source(g, subj, sid, s)
                src_file = file_of(subj)
                if not d.sources[sid].traceable and not d.sources[sid].project_note:
                    problem(
                        sid,
                        "source cannot be traced: give a web address (dcterms:identifier) or "
                        "author or publisher (dcterms:creator / dcterms:publisher), title, year "
                        "(dcterms:date) and page (saree:page); or type it saree:ProjectNote",
                        src_file,
                    )
                ident = g.value(subj, DCTERMS.identifier)
                if ident is not None and not re.fullmatch(r"https?://\S+", str(ident)):
                    problem(
                        sid, f"dcterms:identifier {str(ident)!r} is not a web address", src_file
                    )
            continue
        defined.add(lid)
        if typ in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.TransitiveProperty):
            classes_and_props.add(lid)
            continue
        tid = _local(typ)
        if tid is not None and tid not in ("AttributeLink", "GIRegistration"):
            if lid in d.types and d.types[lid] != tid:
                problem(lid, f"has two types: {d.types[lid]} and {tid}", file_of(subj))
            d.types[lid] = tid

    # --- every referenced term and source exists
    reported: set[str] = set()
    for subj, pred, obj in g:
        pid = _local(pred)
        if pid is not None and pid not in classes_and_props and pid not in reported:
            reported.add(pid)
            problem(pid, "unknown property (not declared in the schema)", file_of(subj))
        for node in (subj, obj):
            if not isinstance(node, URIRef):
                continue
            lid = _local(node)
            if lid is not None and lid and lid not in defined and lid not in reported:
                reported.add(lid)
                problem(lid, "unknown term (referenced but never defined)", None)
            sid = _source_id(node)
            if sid is not None and sid not in d.sources and ("src:" + sid) not in reported:
                reported.add("src:" + sid)
                problem(sid, "unknown source (not defined as a saree:Source)", None)

    # --- labels, local names, notes, sources of records
    for t in d.types:
        node = s(t)
        labels = [o for o in g.objects(node, RDFS.label) if isinstance(o, Literal)]
        english = [o for o in labels if o.language in (None, "en")]
        if english:
            d.labels[t] = str(english[0])
        elif labels:
            d.labels[t] = str(labels[0])
        names = sorted(
            {str(o) for o in g.objects(node, s("localName"))}
            | {str(o) for o in g.objects(node, SKOS.altLabel)}
        )
        if names:
            d.local_names[t] = tuple(names)
        note = g.value(node, s("note"))
        if note is not None:
            d.notes[t] = str(note)
        srcs = tuple(
            sorted(x for x in (_source_id(o) for o in g.objects(node, DCTERMS.source)) if x)
        )
        if srcs:
            d.term_sources[t] = srcs
        conf = g.value(node, s("confirmed"))
        if conf is not None:
            d.confirmed[t] = bool(conf.toPython()) if isinstance(conf, Literal) else True

    # --- labels present and unique within a kind
    def group(cls: str) -> str:
        if cls in REGION_LEVELS:
            return "region"
        if cls in ATTRIBUTE_KINDS:
            return "attribute"
        return cls

    seen: dict[tuple[str, str], str] = {}
    needs_label = {"Tradition", "Fibre", "SareePart", *REGION_LEVELS, *ATTRIBUTE_KINDS}
    for t, cls in d.types.items():
        if cls not in needs_label:
            continue
        lab = d.labels.get(t)
        if lab is None:
            problem(t, "has no rdfs:label", file_of(s(t)))
            continue
        key = (group(cls), lab.casefold())
        if key in seen:
            problem(t, f"duplicate label {lab!r} (also used by {seen[key]})", file_of(s(t)))
        else:
            seen[key] = t

    # --- facts need sources (schema terms and parts excepted)
    needs_source = {"Tradition", "Fibre", *REGION_LEVELS, *ATTRIBUTE_KINDS}
    for t, cls in d.types.items():
        if cls in needs_source and not d.term_sources.get(t):
            problem(t, "has no dcterms:source", file_of(s(t)))

    # --- regions: parent, coordinates, no cycles, chains end at a cultural region
    for t, cls in d.types.items():
        if cls not in REGION_LEVELS:
            continue
        node = s(t)
        parents = [p for p in (_local(o) for o in g.objects(node, s("partOf"))) if p]
        if len(parents) > 1:
            problem(t, "is part of more than one region", file_of(node))
        if parents:
            if d.types.get(parents[0]) not in REGION_LEVELS:
                problem(t, f"partOf {parents[0]}, which is not a region", file_of(node))
            else:
                d.parent[t] = parents[0]
        elif cls != "CulturalRegion":
            problem(t, "is not part of any region (needs saree:partOf)", file_of(node))
        lat, lon = g.value(node, s("latitude")), g.value(node, s("longitude"))
        if (lat is None) != (lon is None):
            problem(t, "has only one of latitude / longitude", file_of(node))
        elif isinstance(lat, Literal) and isinstance(lon, Literal):
            try:
                la, lo = float(lat.toPython()), float(lon.toPython())
            except (TypeError, ValueError):
                problem(t, "coordinates are not numbers", file_of(node))
            else:
                if -90 <= la <= 90 and -180 <= lo <= 180:
                    d.coords[t] = (la, lo)
                else:
                    problem(t, f"coordinates out of range: {la}, {lo}", file_of(node))
    for t in list(d.parent):
        chain, cur = [t], d.parent.get(t)
        while cur is not None:
            if cur in chain:
                problem(t, "region hierarchy has a cycle: " + " -> ".join([*chain, cur]))
                for r in chain:
                    d.parent.pop(r, None)
                break
            chain.append(cur)
            cur = d.parent.get(cur)

    # --- SKOS hierarchies
    for t, cls in d.types.items():
        if cls not in ATTRIBUTE_KINDS and cls != "Fibre":
            continue
        node = s(t)
        ups = tuple(sorted(p for p in (_local(o) for o in g.objects(node, SKOS.broader)) if p))
        for p in ups:
            if d.types.get(p) != cls:
                problem(t, f"skos:broader {p} is not a {cls.lower()}", file_of(node))
        if ups:
            d.broader[t] = tuple(p for p in ups if d.types.get(p) == cls)
    for t in list(d.broader):
        stack, seen_b = list(d.broader[t]), set()
        while stack:
            cur = stack.pop()
            if cur == t:
                problem(t, "skos:broader hierarchy has a cycle")
                d.broader[t] = ()
                break
            if cur not in seen_b:
                seen_b.add(cur)
                stack.extend(d.broader.get(cur, ()))

    # --- traditions
    trad_nodes = [n for n in g.subjects(RDF.type, s("Tradition")) if _local(n)]
    order = {
        n: (str(file_of(n)), loc.find(_local(n) or "", file_of(n))[1] or 0) for n in trad_nodes
    }
    trad_nodes.sort(key=lambda n: order[n])
    for node in trad_nodes:
        t = _local(node) or ""
        f = file_of(node)
        d.traditions.append(t)
        regions = [r for r in (_local(o) for o in g.objects(node, s("region"))) if r]
        if not regions:
            problem(t, "has no region (needs saree:region)", f)
        elif len(regions) > 1:
            problem(t, "has more than one region", f)
        elif d.types.get(regions[0]) not in REGION_LEVELS:
            problem(t, f"region {regions[0]} is not a region", f)
        else:
            d.region_of[t] = regions[0]
            top = regions[0]
            while top in d.parent:
                top = d.parent[top]
            if d.types.get(top) != "CulturalRegion":
                problem(t, f"region chain from {regions[0]} does not reach a cultural region", f)
        fibres = []
        for o in g.objects(node, s("fibre")):
            fid = _local(o)
            if fid is None or d.types.get(fid) != "Fibre":
                problem(t, f"fibre {fid or o} is not a fibre", f)
            else:
                fibres.append(fid)
        if not fibres:
            problem(t, "has no fibre (needs saree:fibre)", f)
        d.fibres[t] = tuple(sorted(fibres))
        links: list[_Link] = []
        for ln in g.objects(node, s("hasAttribute")):
            link = _read_link(g, ln, t=t, f=f, d=d, problem=problem, s=s)
            if link is not None:
                links.append(link)
        dupes = {k.term for k in links if sum(1 for m in links if m.term == k.term) > 1}
        for term in sorted(dupes):
            problem(term, f"linked twice from {t}", f, after=t)
        distinct = len({k.term for k in links})
        if distinct < 3:
            problem(t, f"has {distinct} distinct attribute links; at least 3 are needed", f)
        d.links[t] = links
        gis = list(g.objects(node, s("giRegistration")))
        if len(gis) > 1:
            problem(t, "has more than one GI registration", f)
        if gis:
            gi = gis[0]
            gsrc = tuple(
                sorted(x for x in (_source_id(o) for o in g.objects(gi, DCTERMS.source)) if x)
            )
            if not gsrc:
                problem(t, "GI registration has no dcterms:source", f)
            reg = g.value(gi, s("registered"))
            conf = g.value(gi, s("confirmed"))

            def text(v: Any) -> str | None:
                return str(v) if v is not None else None

            filed = text(g.value(gi, s("giFilingDate")))
            reg_on = text(g.value(gi, s("giRegistrationDate")))
            for name, value, allowed in (
                ("giFilingDate", filed, (_DATE,)),
                ("giRegistrationDate", reg_on, (_DATE, _FINANCIAL_YEAR)),
            ):
                if value is not None and not any(p.fullmatch(value) for p in allowed):
                    problem(
                        t,
                        f"GI {name} {value!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD"
                        + (" (or YYYY/YYYY for a financial year)" if len(allowed) > 1 else ""),
                        f,
                    )
            d.gi[t] = GIInfo(
                registered=bool(reg.toPython()) if isinstance(reg, Literal) else False,
                confirmed=bool(conf.toPython()) if isinstance(conf, Literal) else True,
                application=text(g.value(gi, s("giApplication"))),
                filed=filed,
                registered_on=reg_on,
                proprietor=text(g.value(gi, s("giProprietor"))),
                certificate=text(g.value(gi, s("giCertificateNumber"))),
                note=text(g.value(gi, s("note"))),
                sources=gsrc,
                disagreement=text(g.value(gi, s("sourcesDisagree"))),
            )
            if not isinstance(gi, BNode | URIRef):
                problem(t, "GI registration must be a node", f)
        if t in d.region_of and "State" not in {d.types.get(r) for r in _chain_of(d, t)}:
            where = d.region_of[t]
            problem(t, f"region {where} is not in any state (needs saree:partOf a state)", f)

    _read_vocabulary_links(g, d, problem, file_of, s)
    _check_project_notes(d, problem, file_of, s)
    for t in d.types:
        why = g.value(s(t), s("sourcesDisagree"))
        if why is not None:
            d.disagreements[t] = str(why)
    return d, problems


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_FINANCIAL_YEAR = re.compile(r"\d{4}/\d{4}")


def _chain_of(d: _Data, tradition: str) -> list[str]:
    chain, cur = [], d.region_of.get(tradition)
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = d.parent.get(cur)
    return chain


def _read_source(g: rdflib.Graph, node: Any, sid: str, s: Callable[[str], Any]) -> SourceInfo:
    from rdflib.namespace import DCTERMS, RDF

    def text(v: Any) -> str | None:
        return str(v).strip() or None if v is not None else None

    title = text(g.value(node, DCTERMS.title))
    url = text(g.value(node, DCTERMS.identifier))
    return SourceInfo(
        id=sid,
        title=title or sid,
        url=url if url and re.fullmatch(r"https?://\S+", url) else None,
        creator=text(g.value(node, DCTERMS.creator)),
        publisher=text(g.value(node, DCTERMS.publisher)),
        date=text(g.value(node, DCTERMS.date)),
        page=text(g.value(node, s("page"))),
        project_note=(node, RDF.type, s("ProjectNote")) in g,
        note=text(g.value(node, s("note"))),
    )


def _check_project_notes(d: _Data, problem: Any, file_of: Any, s: Any) -> None:
    """A tradition's fact resting only on project notes must say it is not confirmed; count
    the region and vocabulary facts that do (they are shown, but flagged in `kg validate`)."""

    def notes_only(srcs: Iterable[str]) -> bool:
        known = [d.sources[x] for x in srcs if x in d.sources]
        return bool(known) and all(x.project_note for x in known)

    counts = {"tradition": 0, "region": 0, "vocabulary": 0}
    for t in d.traditions:
        f = file_of(s(t))
        if notes_only(d.term_sources.get(t, ())):
            counts["tradition"] += 1
            if d.confirmed.get(t, True):
                problem(
                    t,
                    "rests only on project notes: cite a publication or add saree:confirmed false",
                    f,
                )
        for link in d.links.get(t, []):
            if notes_only(link.sources):
                counts["tradition"] += 1
                if link.confirmed:
                    problem(
                        link.term,
                        f"link {t} -> {link.term} rests only on project notes: "
                        "cite a publication or add saree:confirmed false",
                        f,
                        after=t,
                    )
        gi = d.gi.get(t)
        if gi is not None and notes_only(gi.sources):
            counts["tradition"] += 1
            if gi.confirmed:
                problem(
                    t,
                    "GI registration rests only on project notes: cite a publication "
                    "or add saree:confirmed false",
                    f,
                )
    for t, links in d.vocab_links.items():
        for vocab in links:
            if notes_only(vocab.sources):
                # A museum copies these identifiers into its own records: one nobody can trace
                # to where it was read is not kept (a link cannot be shown "not confirmed").
                problem(
                    t,
                    f"link to {vocab.vocabulary} {vocab.identifier} rests only on project "
                    "notes: cite where the identifier was read, or remove the link",
                    file_of(s(t)),
                )
    for t, cls in d.types.items():
        if notes_only(d.term_sources.get(t, ())):
            if cls in REGION_LEVELS:
                counts["region"] += 1
            elif cls in ATTRIBUTE_KINDS or cls == "Fibre":
                counts["vocabulary"] += 1
    d.notes_only = counts


def _read_vocabulary_links(g: rdflib.Graph, d: _Data, problem: Any, file_of: Any, s: Any) -> None:
    """skos:exactMatch / skos:closeMatch to Wikidata, Getty AAT and TGN: well-formed
    identifiers, each entry with the label it has there and the source it was found in."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import DCTERMS, RDFS, SKOS

    for t in d.types:
        node = s(t)
        found: list[VocabularyLink] = []
        for match, pred in (("exact", SKOS.exactMatch), ("close", SKOS.closeMatch)):
            for o in g.objects(node, pred):
                if not isinstance(o, URIRef):
                    problem(t, f"skos:{match}Match {o!s} is not an IRI", file_of(node))
                    continue
                parsed = parse_vocabulary_iri(str(o))
                if parsed is None:
                    problem(
                        t,
                        f"skos:{match}Match <{o}> is not a well-formed Wikidata "
                        "(http://www.wikidata.org/entity/Q123), Getty AAT (300 and six digits) "
                        "or TGN (7 and six digits) identifier",
                        file_of(node),
                    )
                    continue
                labels = [x for x in g.objects(o, RDFS.label) if isinstance(x, Literal)]
                srcs = tuple(
                    sorted(x for x in (_source_id(v) for v in g.objects(o, DCTERMS.source)) if x)
                )
                if not srcs:
                    problem(
                        t,
                        f"link to {parsed[0]} {parsed[1]} has no dcterms:source "
                        "(where the identifier was found)",
                        file_of(node),
                    )
                if not labels:
                    problem(
                        t,
                        f"link to {parsed[0]} {parsed[1]} has no rdfs:label (the "
                        "entry's name there)",
                        file_of(node),
                    )
                found.append(
                    VocabularyLink(
                        iri=str(o),
                        vocabulary=parsed[0],
                        identifier=parsed[1],
                        match=match,
                        label=str(labels[0]) if labels else parsed[1],
                        url=parsed[2],
                        sources=srcs,
                    )
                )
        if found:
            found.sort(key=lambda k: (k.vocabulary, k.match, k.identifier))
            d.vocab_links[t] = tuple(found)


def _read_link(
    g: rdflib.Graph, ln: Any, *, t: str, f: Path | None, d: _Data, problem: Any, s: Any
) -> _Link | None:
    from rdflib import Literal
    from rdflib.namespace import DCTERMS

    attrs = [a for a in (_local(o) for o in g.objects(ln, s("attribute"))) if a]
    if len(attrs) != 1:
        problem(t, f"an attribute link has {len(attrs)} saree:attribute values (needs 1)", f)
        return None
    term = attrs[0]
    if d.types.get(term) not in ATTRIBUTE_KINDS:
        if term in d.types:
            problem(term, f"linked from {t} as an attribute but is a {d.types[term]}", f, after=t)
        return None
    typ = list(g.objects(ln, s("typicality")))
    value: float | None = None
    if len(typ) != 1 or not isinstance(typ[0], Literal):
        problem(term, f"link {t} -> {term} needs exactly one typicality", f, after=t)
    else:
        try:
            value = float(typ[0].toPython())
        except (TypeError, ValueError):
            problem(term, f"link {t} -> {term}: typicality {typ[0]} is not a number", f, after=t)
        else:
            if not 0.0 <= value <= 1.0:
                problem(
                    term, f"link {t} -> {term}: typicality {value} is outside [0, 1]", f, after=t
                )
                value = None
    srcs = tuple(sorted(x for x in (_source_id(o) for o in g.objects(ln, DCTERMS.source)) if x))
    if not srcs:
        problem(term, f"link {t} -> {term} has no dcterms:source", f, after=t)
    parts = []
    for o in g.objects(ln, s("shownOn")):
        pid = _local(o)
        if pid not in PARTS:
            problem(term, f"link {t} -> {term}: shownOn {pid or o} is not a saree part", f, after=t)
        else:
            parts.append(pid)
    conf = g.value(ln, s("confirmed"))
    note = g.value(ln, s("note"))
    why = g.value(ln, s("sourcesDisagree"))
    if value is None:
        return None
    order = list(PARTS)
    return _Link(
        term=term,
        typicality=value,
        shown_on=tuple(PARTS[p] for p in sorted(parts, key=order.index)),
        sources=srcs,
        confirmed=bool(conf.toPython()) if isinstance(conf, Literal) else True,
        note=str(note) if note is not None else None,
        disagreement=str(why) if why is not None else None,
    )


def _unreadable(exc: OSError) -> str:
    """An ontology file or folder the system will not let us read, without errno numbers."""
    return f"cannot be read ({exc.strerror or exc})"


def load_graph_or_none(directory: Path | None = None) -> tuple[TextileGraph | None, str | None]:
    """The graph, or None and a message saying why (the app runs on without a graph)."""
    try:
        return TextileGraph.load(directory), None
    except OntologyError as exc:
        return None, f"Knowledge graph not loaded: {exc}"
    except OSError as exc:
        where = exc.filename or "the ontology"
        return None, f"Knowledge graph not loaded: {where}: {_unreadable(exc)}"


def iter_problems(directory: Path | None = None) -> Iterator[OntologyError]:
    """Every problem of an ontology folder, for `saree kg validate`."""
    yield from TextileGraph.check(directory)


def _closure(term: str, step: Callable[[str], Iterable[str]]) -> list[str]:
    """Terms reachable from `term` by repeating `step`, breadth first, nearest first."""
    out: list[str] = []
    frontier = list(step(term))
    while frontier:
        nxt = frontier.pop(0)
        if nxt not in out:
            out.append(nxt)
            frontier.extend(step(nxt))
    return out
