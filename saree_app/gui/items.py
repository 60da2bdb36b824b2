"""What the window knows about one photo of the collection, and how the browser filters them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CONFIRMED = "confirmed"
UNCONFIRMED = "unconfirmed"
UNCERTAIN = "uncertain"
STATUSES = (CONFIRMED, UNCONFIRMED, UNCERTAIN)
UNKNOWN_TRADITION = ""  # facet key for photos with neither a label nor a prediction


@dataclass(frozen=True)
class Item:
    """One catalogued photo as the browser shows it (no pixels, no arrays)."""

    id: int
    name: str
    path: Path
    predicted: str | None = None  # the model's top tradition id
    probability: float = 0.0
    confirmed: str | None = None  # the curator's label, when confirmed or corrected
    uncertain: bool = False
    note: str = ""
    tags: tuple[str, ...] = ()
    # The record of the object (saree) the photo shows, with its places' states and regions
    # (collection/objects.py `search_texts`): searching "Gujarat" finds sarees from there.
    record: str = ""
    # The accession number of that object ("" when the photo shows none), shown on its cell.
    accession: str = ""

    @property
    def tradition(self) -> str | None:
        """The curator's label if there is one, else the model's answer."""
        return self.confirmed or self.predicted

    @property
    def status(self) -> str:
        if self.confirmed:
            return CONFIRMED
        return UNCERTAIN if self.uncertain else UNCONFIRMED

    def haystack(self) -> str:
        return " ".join(
            [self.name, self.note, " ".join(self.tags), self.tradition or "", self.record]
        ).casefold()


@dataclass(frozen=True)
class Filter:
    """The browser's facets: tradition (None = all), status (None = all) and free text."""

    tradition: str | None = None
    status: str | None = None
    text: str = ""

    def matches(self, item: Item, labels: dict[str, str] | None = None, hay: str = "") -> bool:
        if self.tradition is not None and (item.tradition or UNKNOWN_TRADITION) != self.tradition:
            return False
        if self.status is not None and item.status != self.status:
            return False
        if self.text:
            hay = hay or item.haystack()
            if labels and item.tradition:
                hay += " " + labels.get(item.tradition, "").casefold()
            return all(word in hay for word in self.text.casefold().split())
        return True


def apply_filter(
    items: Sequence[Item],
    flt: Filter,
    labels: dict[str, str] | None = None,
    haystacks: Sequence[str] | None = None,
) -> list[int]:
    """Indices of the items that pass the filter, in order."""
    if flt == Filter():
        return list(range(len(items)))
    if haystacks is None:
        return [i for i, it in enumerate(items) if flt.matches(it, labels)]
    return [i for i, it in enumerate(items) if flt.matches(it, labels, haystacks[i])]


def tradition_counts(items: Iterable[Item], status: str | None = None) -> Counter[str]:
    """How many photos per tradition (UNKNOWN_TRADITION for none), optionally of one status."""
    return Counter(
        (it.tradition or UNKNOWN_TRADITION) for it in items if status is None or it.status == status
    )


def status_counts(items: Iterable[Item]) -> Counter[str]:
    return Counter(it.status for it in items)
