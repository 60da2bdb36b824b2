"""The collection browser: a thumbnail grid over a list model, and its facets and search."""

from __future__ import annotations

import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection.catalog import CatalogError
from saree_app.collection.fewshot import stored_set_claims_level
from saree_app.gui.items import (
    CONFIRMED,
    UNCERTAIN,
    UNCONFIRMED,
    UNKNOWN_TRADITION,
    Filter,
    Item,
    status_counts,
    tradition_counts,
)
from saree_app.gui.qtfix import emit
from saree_app.gui.theme import ACCENT, OK, WARN
from saree_app.gui.thumbs import THUMB_SIZE, ThumbnailLoader

_ROOT = QModelIndex()
ItemRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
MissingRole = Qt.ItemDataRole.UserRole + 3  # True: the photo's file is not where it was
CELL = QSize(THUMB_SIZE + 22, THUMB_SIZE + 52)
GUESS = "#8a857c"  # an unflagged guess: its ring and its tradition's name

Labeller = Callable[[str], str]
# A photo's stored answer set (its stored answer's "answer_set"), or None: what says whether
# the grid may give the answer's figure as odds (collection.fewshot.stored_set_claims_level).
StoredSets = Callable[[int], Mapping[str, Any] | None]
# A guess whose answer claims no level, in its tooltip (as the object panel says it).
NO_LEVEL_WORDS = "no level claimed"

# The review states as the facets name them, and what each holds, in a curator's words. Every
# photo that is not "Confirmed by you" still waits for the curator: "Unflagged guesses" are
# only the model's answers it did not flag, not the photos left to review.
STATUS_NAMES: dict[str | None, str] = {
    None: "All photos",
    UNCONFIRMED: "Unflagged guesses",
    UNCERTAIN: "Flagged uncertain",
    CONFIRMED: "Confirmed by you",
}
STATUS_TIPS: dict[str | None, str] = {
    None: "Every photo of the collection.",
    UNCONFIRMED: (
        "Photos with the model's answer, not flagged as uncertain and not yet confirmed by "
        "you. Marked ○ with the tradition in grey italics. A guess it does not flag can "
        "still be wrong: check these too."
    ),
    UNCERTAIN: (
        "Photos whose answer the model flags as uncertain, not yet confirmed by you. Marked "
        "■ with a question mark after the tradition."
    ),
    CONFIRMED: (
        "Photos you confirmed or corrected: the tradition is yours, and teaches the app. "
        "Marked with a green ✓ and the tradition in bold."
    ),
}
# What the mark beside a cell's tradition says (its tooltip and the facets' icons).
STATUS_WORDS = {
    CONFIRMED: "confirmed by you",
    UNCONFIRMED: "the model's guess, not yet confirmed",
    UNCERTAIN: "the model's guess, flagged uncertain",
}
MARK = 10  # the side of a review mark, in pixels


def paint_mark(painter: QPainter, box: QRect, status: str) -> None:
    """The review mark in `box` (MARK x MARK): a green disc with a white tick for a photo the
    curator confirmed, an orange square for a flagged answer, a hollow grey ring for an
    unflagged guess. The grid's cells and the facets' icons draw the same marks."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if status == CONFIRMED:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(OK))
        painter.drawEllipse(box)
        pen = QPen(QColor("#ffffff"), max(1.4, box.width() / 6))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        w, h, x, y = box.width(), box.height(), box.left(), box.top()
        painter.drawPolyline(
            [
                QPointF(x + 0.26 * w, y + 0.52 * h),
                QPointF(x + 0.44 * w, y + 0.70 * h),
                QPointF(x + 0.76 * w, y + 0.32 * h),
            ]
        )
    elif status == UNCERTAIN:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(WARN))
        painter.drawRoundedRect(box.adjusted(1, 1, -1, -1), 1, 1)
    else:
        painter.setPen(QPen(QColor(GUESS), 1.3))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QRectF(box).adjusted(1, 1, -1, -1))
    painter.restore()


def mark_icon(status: str) -> QIcon:
    """A review state's mark as an icon (the facets' buttons: the grid's legend)."""
    pm = QPixmap(MARK * 2, MARK * 2)
    pm.setDevicePixelRatio(2.0)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    paint_mark(p, QRect(0, 0, MARK, MARK), status)
    p.end()
    return QIcon(pm)


@dataclass(frozen=True)
class FacetCounts:
    """The numbers beside the facets, each counted within the other facets' choice (the
    usual faceted search): the review states among the photos of the chosen tradition, the
    traditions among the photos of the chosen review state, both within the search."""

    statuses: Counter[str]  # photos per review state, within the tradition and the search
    status_total: int  # "All photos": the photos of the chosen tradition, within the search
    traditions: Counter[str]  # photos per tradition, within the review state and the search
    tradition_total: int  # "All traditions": the photos of the chosen review state (search)
    listed: Counter[str]  # photos per tradition in the whole collection: the list's rows


def _narrowed(
    found: np.ndarray | None, codes: np.ndarray, names: list[str], value: str | None
) -> np.ndarray | None:
    """`found` (None: every item) narrowed to the items whose code is `value`'s; as it was
    when `value` is None (that facet chooses nothing)."""
    if value is None:
        return found
    mine = codes == names.index(value) if value in names else np.zeros(len(codes), dtype=bool)
    return mine if found is None else found & mine


def _counter(codes: np.ndarray, names: list[str]) -> Counter[str]:
    """Photos per name from their codes (names with none left out)."""
    n = np.bincount(codes, minlength=len(names)) if len(codes) else np.zeros(len(names), int)
    return Counter({name: int(k) for name, k in zip(names, n.tolist(), strict=True) if k})


def facet_counts(items: Sequence[Item], flt: Filter) -> FacetCounts:
    """FacetCounts over a plain list of items (`CollectionModel.facet_counts` is the fast one)."""
    words = flt.text.casefold().split()
    found = [it for it in items if all(w in it.haystack() for w in words)] if words else items
    in_trad = [
        it
        for it in found
        if flt.tradition is None or (it.tradition or UNKNOWN_TRADITION) == flt.tradition
    ]
    statuses = status_counts(in_trad)
    in_status = tradition_counts(found, flt.status)
    return FacetCounts(
        statuses, len(in_trad), in_status, sum(in_status.values()), tradition_counts(items)
    )


class CollectionModel(QAbstractListModel):
    """All items in memory (ids and names only), a filtered view of them, thumbnails on demand."""

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._items: list[Item] = []
        self._hay: list[str] = []
        self._rows: list[int] = []
        self._row_map: dict[int, int] | None = {}
        self._pos_map: dict[int, int] | None = {}
        self._trad_of: list[str] = []  # per item, for vectorised facet filtering
        self._status_of: list[str] = []
        # The same as integer codes (built when counted, dropped when an item changes): facet
        # counts over 100,000 photos are then a bincount, not a loop.
        self._codes: tuple[np.ndarray, list[str], np.ndarray, list[str]] | None = None
        self._found: tuple[str, np.ndarray] | None = None  # the search's words, its mask
        self._filter = Filter()
        self._label: Labeller = lambda t: t
        self._labels: dict[str, str] = {}
        self._stale_search = False
        self._stored_sets: StoredSets | None = None
        loader.ready.connect(self._thumb_ready)
        loader.failed.connect(self._thumb_ready)

    # --- data in
    def set_items(
        self,
        items: Sequence[Item],
        labeller: Labeller | None = None,
        haystacks: Sequence[str] | None = None,
        appended_after: int | None = None,
    ) -> None:
        """Replace the items. `haystacks` (search text, see `search_texts`) may be computed on a
        worker; `appended_after=n` says the first n items are unchanged, so rows are inserted
        instead of resetting the view (the curator keeps their place during an import)."""
        if labeller is not None:
            self._label = labeller
            self._labels = {}
        hay = list(haystacks) if haystacks is not None else self.search_texts(items)
        n_old = len(self._items)
        if (
            appended_after is not None
            and appended_after == n_old
            and n_old
            and labeller is None
            and not self._stale_search
        ):
            new_items = list(items[n_old:])
            self._changed()
            self._items.extend(new_items)
            self._trad_of.extend(it.tradition or UNKNOWN_TRADITION for it in new_items)
            self._status_of.extend(it.status for it in new_items)
            if self._pos_map is not None:
                for k, it in enumerate(new_items, start=n_old):
                    self._pos_map[it.id] = k
            self._hay.extend(hay[n_old:])
            rows = [
                n_old + k
                for k, it in enumerate(new_items)
                if self._filter.matches(it, None, hay[n_old + k])
            ]
            if rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                if self._row_map is not None:
                    for n, r in enumerate(rows, start=first):
                        self._row_map[self._items[r].id] = n
                self.endInsertRows()
            return
        self._changed()
        self._items = list(items)
        self._hay = hay
        self._trad_of = [it.tradition or UNKNOWN_TRADITION for it in self._items]
        self._status_of = [it.status for it in self._items]
        self._pos_map = None
        self._stale_search = False
        self._refilter()

    def set_labeller(self, labeller: Labeller) -> None:
        """How tradition ids read; the caller re-lists the items to re-index the search."""
        self._label = labeller
        self._labels = {}
        self._stale_search = True
        if self._rows:
            emit(self.dataChanged, self.index(0), self.index(len(self._rows) - 1))

    def set_stored_sets(self, lookup: StoredSets | None) -> None:
        """Where a photo's stored answer set is read (by id), to say its answer without a
        figure where it claims no level; None: the parent window's catalogue, if it has one."""
        self._stored_sets = lookup

    def stored_set(self, item_id: int) -> Mapping[str, Any] | None:
        """A photo's stored answer set: by `set_stored_sets`'s lookup, else from the parent
        window's library (its catalogue, the model the grid lists); None when none is known.
        Read one photo at a time, as a tooltip asks (a millisecond each)."""
        if self._stored_sets is not None:
            return self._stored_sets(item_id)
        lib = getattr(self.parent(), "library", None)
        catalog = getattr(lib, "catalog", None)
        if catalog is None:
            return None
        try:
            stored = catalog.prediction(item_id, lib.model_sha() or None)
        except (CatalogError, sqlite3.Error, OSError):  # a closed or moved catalogue
            return None
        found = (stored.result or {}).get("answer_set") if stored is not None else None
        return found if isinstance(found, Mapping) else None

    def claims_level(self, item: Item) -> bool:
        """Whether the photo's stored answer claims a level (stored_set_claims_level): else
        its figure is not given as odds."""
        return stored_set_claims_level(self.stored_set(item.id))

    def search_texts_now(self) -> list[str]:
        """A copy of the current search texts (to extend on a worker)."""
        return list(self._hay)

    def search_texts(self, items: Sequence[Item]) -> list[str]:
        """What the text search looks through, per item (safe to call on a worker)."""
        label = self._label
        cache = dict(self._labels)
        out = []
        for it in items:
            t = it.tradition or ""
            if t and t not in cache:
                cache[t] = label(t).casefold()
            out.append(it.haystack() + " " + cache.get(t, ""))
        self._labels = cache
        return out

    def update_item(self, item: Item) -> None:
        """One item changed (confirmed, noted...): refresh it in place."""
        i = self._position(item.id)
        if i is None:
            return
        self._changed()
        self._items[i] = item
        self._hay[i] = self.search_texts([item])[0]
        self._trad_of[i] = item.tradition or UNKNOWN_TRADITION
        self._status_of[i] = item.status
        row = self._rows_by_id().get(item.id)
        if row is not None:
            idx = self.index(row)
            emit(self.dataChanged, idx, idx)

    def update_items(self, items: Sequence[Item]) -> list[Item]:
        """Refresh those of `items` that differ from what is shown (after a re-rank); returns
        them. Filters are not re-applied: a photo does not vanish under the curator's eyes."""
        changed = []
        for item in items:
            i = self._position(item.id)
            if i is not None and self._items[i] != item:
                self.update_item(item)
                changed.append(item)
        return changed

    def set_filter(self, flt: Filter) -> None:
        if flt != self._filter:
            self._filter = flt
            self._refilter()

    @property
    def filter(self) -> Filter:
        return self._filter

    def all_items(self) -> list[Item]:
        return self._items

    def item(self, row: int) -> Item | None:
        if 0 <= row < len(self._rows):
            return self._items[self._rows[row]]
        return None

    def row_of(self, item_id: int) -> int | None:
        return self._rows_by_id().get(item_id)

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        """(photos per review state, photos per tradition) over all items."""
        return Counter(self._status_of), Counter(self._trad_of)

    def confirmed_counts(self) -> Counter[str]:
        """Photos the curator confirmed, per tradition, over all items."""
        trad, trads, status, statuses = self._coded()
        if CONFIRMED not in statuses:
            return Counter()
        return _counter(trad[status == statuses.index(CONFIRMED)], trads)

    def facet_counts(self, flt: Filter | None = None) -> FacetCounts:
        """The facets' numbers under `flt` (the current filter unless given), each facet
        counted within the other facets' choice and the search (see FacetCounts). Numpy over
        the per-item codes: a few milliseconds for 100,000 photos."""
        flt = self._filter if flt is None else flt
        trad, trads, status, statuses = self._coded()
        found = self._found_mask(flt.text)
        in_trad = _narrowed(found, trad, trads, flt.tradition)
        in_status = _narrowed(found, status, statuses, flt.status)
        by_status = _counter(status if in_trad is None else status[in_trad], statuses)
        by_trad = _counter(trad if in_status is None else trad[in_status], trads)
        return FacetCounts(
            by_status,
            sum(by_status.values()),
            by_trad,
            sum(by_trad.values()),
            _counter(trad, trads),
        )

    def _changed(self) -> None:
        """An item was added or changed: the counts' codes and the search's mask are stale."""
        self._codes = None
        self._found = None

    def _coded(self) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
        """(tradition code per item, the traditions, review-state code per item, the states)."""
        if self._codes is None or len(self._codes[0]) != len(self._trad_of):
            codes: list[np.ndarray] = []
            names: list[list[str]] = []
            for values in (self._trad_of, self._status_of):
                index: dict[str, int] = {}
                codes.append(
                    np.fromiter(
                        (index.setdefault(v, len(index)) for v in values),
                        dtype=np.int32,
                        count=len(values),
                    )
                )
                names.append(list(index))
            self._codes = (codes[0], names[0], codes[1], names[1])
        return self._codes

    def _found_mask(self, text: str) -> np.ndarray | None:
        """Which items the search's words find (None: no words, every item)."""
        words = text.casefold().split()
        if not words:
            return None
        key = " ".join(words)
        if self._found is None or self._found[0] != key:
            hay = self._hay
            mask = np.fromiter(
                (all(w in h for w in words) for h in hay), dtype=bool, count=len(hay)
            )
            self._found = (key, mask)
        return self._found[1]

    def _position(self, item_id: int) -> int | None:
        if self._pos_map is None:
            self._pos_map = {it.id: i for i, it in enumerate(self._items)}
        return self._pos_map.get(item_id)

    def _rows_by_id(self) -> dict[int, int]:
        # Built on first use after a filter change: a 100,000-entry dict costs tens of ms.
        if self._row_map is None:
            self._row_map = {self._items[r].id: n for n, r in enumerate(self._rows)}
        return self._row_map

    def _matching_rows(self) -> list[int]:
        """Indices of the items under the filter: facets with numpy, words over the text."""
        flt = self._filter
        n = len(self._items)
        if flt == Filter():
            return list(range(n))
        mask = np.ones(n, dtype=bool)
        if flt.tradition is not None:
            mask &= np.asarray(self._trad_of, dtype=object) == flt.tradition
        if flt.status is not None:
            mask &= np.asarray(self._status_of, dtype=object) == flt.status
        rows: list[int] = np.flatnonzero(mask).tolist()
        hay = self._hay
        for word in flt.text.casefold().split():
            rows = [r for r in rows if word in hay[r]]
        return rows

    def _refilter(self) -> None:
        self.beginResetModel()
        self._rows = self._matching_rows()
        self._row_map = None
        self.endResetModel()

    # --- Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        # Called once per row while the view lays out: keep it minimal.
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        it = self._items[self._rows[index.row()]]
        if role == Qt.ItemDataRole.DisplayRole:
            return it.name
        if role == ItemRole:
            return it
        if role == Qt.ItemDataRole.DecorationRole:
            pm = self._loader.pixmap(it.id)
            if pm is None and not self._loader.is_broken(it.id, it.path):
                self._loader.request(it.id, it.path)
            return pm
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [it.name]
            if it.tradition:
                who = STATUS_WORDS[it.status]
                if not it.confirmed:
                    # Its figure as odds only where its answer claims a level.
                    level = self.claims_level(it)
                    who += f", {it.probability:.0%}" if level else f", {NO_LEVEL_WORDS}"
                lines.append(f"{self._label(it.tradition)} ({who})")
            if it.uncertain and not it.confirmed:
                lines.append("The model is uncertain about this photo.")
            elif not it.confirmed and it.tradition:
                lines.append("Not flagged, but still only a guess until you confirm it.")
            if it.accession:
                lines.append(f"Shows the saree {it.accession} (with its other photos)")
            if it.tags:
                lines.append("Tags: " + ", ".join(it.tags))
            if self.is_missing(it):
                lines.append(f"File missing: it is no longer at {it.path}")
                lines.append("Edit ▸ Find moved photos… looks for it in another folder.")
            return "\n".join(lines)
        if role == StatusRole:
            return it.status
        if role == MissingRole:
            return self.is_missing(it)
        return None

    def is_missing(self, item: Item) -> bool:
        """True when the photo's file is gone (asked only once its thumbnail failed, so a
        listing of 100,000 photos reads no folder)."""
        if not self._loader.is_broken(item.id, item.path):
            return False
        try:
            return not item.path.is_file()
        except OSError:
            return True

    def label(self, tradition: str) -> str:
        return self._label(tradition)

    def _thumb_ready(self, key: object) -> None:
        if not isinstance(key, int):
            return
        row = self._rows_by_id().get(key)
        if row is not None:
            idx = self.index(row)
            emit(self.dataChanged, idx, idx, [Qt.ItemDataRole.DecorationRole])


class ThumbDelegate(QStyledItemDelegate):
    """Paints one cell: thumbnail, name, tradition and a status mark."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cells: OrderedDict[tuple[object, ...], QPixmap] = OrderedDict()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return CELL

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = index.data(ItemRole)
        if not isinstance(item, Item):
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        model = index.model()
        label = ""
        if item.tradition and isinstance(model, CollectionModel):
            label = model.label(item.tradition)
        missing = bool(index.data(MissingRole))
        # Each cell is drawn once into a pixmap and then only copied: scrolling through a big
        # collection repaints dozens of cells per frame.
        has_pm = pm is not None and not pm.isNull()
        key = (item, selected, has_pm, label, option.rect.size(), missing)
        cached = self._cells.get(key)
        if cached is None:
            dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
            size = option.rect.size()
            cached = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
            cached.setDevicePixelRatio(dpr)
            cached.fill(Qt.GlobalColor.transparent)
            cell = QPainter(cached)
            opt = QStyleOptionViewItem(option)
            opt.rect = QRect(QPoint(0, 0), size)
            self._paint_cell(
                cell, opt, item, selected=selected, pm=pm, label=label, missing=missing
            )
            cell.end()
            self._cells[key] = cached
            while len(self._cells) > 300:  # about 45 MB of cells: a few screens back
                self._cells.popitem(last=False)
        else:
            self._cells.move_to_end(key)
        painter.drawPixmap(option.rect.topLeft(), cached)

    def _paint_cell(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        item: Item,
        *,
        selected: bool,
        pm: QPixmap | None,
        label: str,
        missing: bool = False,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r: QRect = option.rect.adjusted(4, 4, -4, -4)
        if selected:
            painter.setPen(QPen(QColor(ACCENT), 2))
            painter.setBrush(QColor("#e3efee"))
        else:
            painter.setPen(QPen(QColor("#e2ddd4"), 1))
            painter.setBrush(QColor("#ffffff"))
        painter.drawRoundedRect(r, 6, 6)
        thumb_rect = QRect(r.left() + 7, r.top() + 7, r.width() - 14, THUMB_SIZE)
        if pm is not None and not pm.isNull():
            scaled = pm.size().scaled(thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = thumb_rect.left() + (thumb_rect.width() - scaled.width()) // 2
            y = thumb_rect.top() + (thumb_rect.height() - scaled.height()) // 2
            painter.drawPixmap(QRect(x, y, scaled.width(), scaled.height()), pm)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#efebe4"))
            painter.drawRoundedRect(thumb_rect, 4, 4)
        if missing:
            _paint_missing(painter, thumb_rect, option.font)
        if item.accession:
            _paint_accession(painter, thumb_rect, option.font, item.accession)
        # Text lines.
        painter.setPen(QColor("#262626"))
        font = QFont(option.font)
        font.setPointSizeF(max(7.5, font.pointSizeF() - 0.5))
        painter.setFont(font)
        fm = painter.fontMetrics()
        text_top = thumb_rect.bottom() + 4
        name_rect = QRect(r.left() + 8, text_top, r.width() - 16, fm.height())
        painter.drawText(
            name_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(item.name, Qt.TextElideMode.ElideMiddle, name_rect.width()),
        )
        label = label or item.tradition or ""
        status = item.status
        line2 = QRect(r.left() + 22, text_top + fm.height(), r.width() - 30, fm.height())
        shown = label or "not classified"
        # The curator's own answer reads bold and dark; the model's, grey (an unflagged guess
        # in italics, a flagged one with a question mark): a guess never looks confirmed.
        if status == CONFIRMED:
            font.setBold(True)
            painter.setPen(QColor("#1f3d24"))
        elif status == UNCERTAIN:
            shown = f"{shown}?"
            painter.setPen(QColor("#5b5750"))
        else:
            font.setItalic(True)
            painter.setPen(QColor(GUESS))
        painter.setFont(font)
        fm = painter.fontMetrics()
        painter.drawText(
            line2,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(shown, Qt.TextElideMode.ElideRight, line2.width()),
        )
        mark = QRect(r.left() + 8, line2.center().y() - MARK // 2 + 1, MARK, MARK)
        paint_mark(painter, mark, status)
        painter.restore()


def _paint_accession(painter: QPainter, rect: QRect, font: QFont, accession: str) -> None:
    """The object's accession number on a small tag at the thumbnail's top left: which photos
    show the same saree is seen in the grid, before any is opened."""
    painter.save()
    small = QFont(font)
    small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
    painter.setFont(small)
    fm = painter.fontMetrics()
    text = fm.elidedText(accession, Qt.TextElideMode.ElideMiddle, rect.width() - 12)
    tag = QRect(rect.left() + 3, rect.top() + 3, fm.horizontalAdvance(text) + 10, fm.height() + 2)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(ACCENT))
    painter.drawRoundedRect(tag, 3, 3)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


def _paint_missing(painter: QPainter, rect: QRect, font: QFont) -> None:
    """The placeholder of a photo whose file is gone: a dashed frame and a 'File missing' badge."""
    painter.save()
    painter.setPen(QPen(QColor(WARN), 1.5, Qt.PenStyle.DashLine))
    painter.setBrush(QColor("#f6efe6"))
    painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
    bold = QFont(font)
    bold.setBold(True)
    painter.setFont(bold)
    fm = painter.fontMetrics()
    text = "File missing"
    badge = QRect(0, 0, fm.horizontalAdvance(text) + 16, fm.height() + 8)
    badge.moveCenter(rect.center())
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(WARN))
    painter.drawRoundedRect(badge, badge.height() // 2, badge.height() // 2)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


class CollectionView(QListView):
    """A wrapping grid of uniform cells: Qt lays out only what is visible, so 100,000 rows scroll
    as smoothly as 100."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("collectionView")
        self.setViewMode(QListView.ViewMode.ListMode)  # ListMode + wrapping = the fast layout
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        # Lay out in slices between events: resetting 100,000 rows never freezes the window.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setGridSize(CELL)
        self.setMovement(QListView.Movement.Static)
        # Shift- and Ctrl-click select several photos, to confirm them together.
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setItemDelegate(ThumbDelegate(self))
        self.setSpacing(0)
        self.setFrameShape(QFrame.Shape.NoFrame)


def to_confirm_text(photos: int, confirmed: int, within: str = "") -> str:
    """Under the review states: how many photos still wait for the curator's confirmation,
    the flagged and the unflagged ones together; `within` names what the photos are when a
    tradition or a search narrows them ("Paithani photos", "photos found")."""
    left = max(0, photos - confirmed)
    if photos == 0:
        return ""
    if left == 0:
        return "Every photo is confirmed by you." if not within else f"All {within} confirmed."
    if left == photos:
        if photos == 1:
            return "Not confirmed yet: its answer is the model's guess."
        return (
            f"None confirmed yet: all {photos:,} answers are the model's guesses, flagged or not."
            if not within
            else f"None of the {photos:,} {within} confirmed yet."
        )
    return (
        f"Still to confirm: {left:,} of {photos:,} {within or 'photos'} (the flagged ones and "
        "the unflagged guesses)."
    )


# What a tradition's count counts, under each review state (its tooltip in the list).
COUNTED = {
    None: "photos answered as {t} (yours where you confirmed one, else the model's)",
    CONFIRMED: "photos you confirmed as {t}",
    UNCONFIRMED: "unflagged guesses of {t}: the model's answer, not yet confirmed",
    UNCERTAIN: "photos the model answered {t} and flagged uncertain",
}
TRADITION_TIP = (
    "Each tradition's number: how many photos are answered or confirmed as that tradition, "
    "within the review state chosen above and the search."
)
NAME_ROLE = Qt.ItemDataRole.UserRole + 10  # the tradition's name as the list shows it
COUNT_ROLE = Qt.ItemDataRole.UserRole + 11  # its number, as text: kept whole when elided
# The left panel grows to fit its review states' names and numbers, up to this.
PANEL_MAX = 260


class FacetItemDelegate(QStyledItemDelegate):
    """A tradition's row in the list: its name elided to the panel's width, its count always
    whole (the list never scrolls sideways; the row's tooltip has the name in full)."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        view = self.parent()
        if isinstance(view, QAbstractItemView):
            hint.setWidth(min(hint.width(), max(1, view.viewport().width())))
        return hint

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        name, count = index.data(NAME_ROLE), index.data(COUNT_ROLE)
        width = option.rect.width()
        if not isinstance(name, str) or not isinstance(count, str) or width <= 0:
            return
        fm = option.fontMetrics
        tail = f"  ({count})"
        room = text_room(option) - fm.horizontalAdvance(tail) - 1
        option.text = fm.elidedText(name, Qt.TextElideMode.ElideRight, max(0, room)) + tail


def text_room(option: QStyleOptionViewItem) -> int:
    """How wide a row's text may be before the style elides it: its text rect (the style
    sheet's padding taken off) less the margins the style keeps each side of the text."""
    widget = option.widget
    style = widget.style() if widget is not None else QApplication.style()
    rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, widget)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, option, widget) + 1
    return rect.width() - 2 * margin


class FacetPanel(QWidget):
    """Search box, status buttons and the tradition list with counts."""

    filterChanged = Signal(object)  # Filter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("facetPanel")
        self._label: Labeller = lambda t: t
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 8, 12)
        lay.setSpacing(8)
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search names, notes, tags, records, places…")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)

        head = QLabel("Review state", self)
        head.setProperty("role", "section")
        lay.addWidget(head)
        self._status_group = QButtonGroup(self)
        self._status_group.setExclusive(True)
        self.status_buttons: dict[str | None, QPushButton] = {}
        for key in (None, UNCONFIRMED, UNCERTAIN, CONFIRMED):
            b = QPushButton(STATUS_NAMES[key], self)
            b.setCheckable(True)
            b.setProperty("role", "facet")
            b.setFlat(True)
            b.setToolTip(STATUS_TIPS[key])
            if key is not None:
                b.setIcon(mark_icon(key))  # the grid's mark: the facets are its legend
            self._status_group.addButton(b)
            self.status_buttons[key] = b
            lay.addWidget(b)
        self.status_buttons[None].setChecked(True)
        # The one number a curator looks for: how many photos still wait for them.
        self.to_confirm = QLabel("", self)
        self.to_confirm.setObjectName("toConfirm")
        self.to_confirm.setProperty("role", "hint")
        self.to_confirm.setWordWrap(True)
        lay.addWidget(self.to_confirm)

        head2 = QLabel("Tradition", self)
        head2.setProperty("role", "section")
        head2.setToolTip(TRADITION_TIP)
        lay.addWidget(head2)
        self.traditions = QListWidget(self)
        self.traditions.setObjectName("traditionFacet")
        self.traditions.setFrameShape(QFrame.Shape.NoFrame)
        self.traditions.setToolTip(TRADITION_TIP)
        # Long names are elided (their count kept), never scrolled to sideways.
        self.traditions.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.traditions.setResizeMode(QListView.ResizeMode.Adjust)
        self.traditions.setItemDelegate(FacetItemDelegate(self.traditions))
        lay.addWidget(self.traditions, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)  # type-ahead: filter once the curator pauses
        self._timer.timeout.connect(self._emit)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self._status_group.buttonClicked.connect(lambda _b: self._emit())
        self.traditions.currentItemChanged.connect(lambda *_: self._emit())
        self._updating = False

    def set_labeller(self, labeller: Labeller) -> None:
        self._label = labeller

    def current_filter(self) -> Filter:
        status = next((k for k, b in self.status_buttons.items() if b.isChecked()), None)
        it = self.traditions.currentItem()
        trad = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        return Filter(tradition=trad, status=status, text=self.search.text().strip())

    def update_counts(
        self,
        items: Sequence[Item],
        statuses: Counter[str] | None = None,
        traditions: Counter[str] | None = None,
        *,
        facets: FacetCounts | None = None,
    ) -> None:
        """Refresh the numbers beside each facet; keeps the current choice. `facets` (from
        CollectionModel.facet_counts) counts each facet within the others' choice; without it
        they are counted here from `items`, the same way, unless `statuses` and `traditions`
        give the whole collection's numbers."""
        self._updating = True
        try:
            flt = self.current_filter()
            if facets is None:
                if statuses is not None and traditions is not None:
                    facets = FacetCounts(statuses, len(items), traditions, len(items), traditions)
                else:
                    facets = facet_counts(items, flt)
            sc = facets.statuses
            for key, b in self.status_buttons.items():
                n = facets.status_total if key is None else sc.get(key, 0)
                b.setText(f"{STATUS_NAMES[key]}  ·  {n:,}")
            self.to_confirm.setText(
                to_confirm_text(facets.status_total, sc.get(CONFIRMED, 0), self._within(flt))
            )
            self._fill_traditions(facets, flt)
            self._fit_width()
        finally:
            self._updating = False
        # The tradition chosen is gone from the list (another collection opened, its last photo
        # removed): the list fell back to all traditions, and the grid must follow, or it keeps
        # a filter nothing on screen shows (fifth walk).
        if flt.tradition is not None and self.current_filter().tradition != flt.tradition:
            self._emit()

    def _within(self, flt: Filter) -> str:
        """What the photos under the review states are, when a tradition or search narrows
        them ("" when they are the whole collection)."""
        if flt.tradition is None:
            return "photos found" if flt.text else ""
        name = self._label(flt.tradition) if flt.tradition else "unclassified"
        return f"{name} photos" + (" found" if flt.text else "")

    def _fill_traditions(self, facets: FacetCounts, flt: Filter) -> None:
        """One row per tradition of the collection (in its order of size, so the list does not
        reshuffle as the review state changes), each with its count under the filter."""
        lw = self.traditions
        ordered = [
            t
            for t, _n in sorted(
                facets.listed.items(), key=lambda kv: (kv[0] == UNKNOWN_TRADITION, -kv[1], kv[0])
            )
        ]
        keys = [None, *ordered]
        same = lw.count() == len(keys) and all(
            lw.item(i).data(Qt.ItemDataRole.UserRole) == k for i, k in enumerate(keys)
        )
        lw.blockSignals(True)
        try:
            if not same:
                current = flt.tradition
                lw.clear()
                chosen = None
                for k in keys:
                    wi = QListWidgetItem()
                    wi.setData(Qt.ItemDataRole.UserRole, k)
                    lw.addItem(wi)
                    if k == current:
                        chosen = wi
                lw.setCurrentItem(chosen or lw.item(0))
            how = COUNTED.get(flt.status, COUNTED[None])
            found = " that the search finds" if flt.text else ""
            for i, k in enumerate(keys):
                wi = lw.item(i)
                if k is None:
                    name, n = "All traditions", facets.tradition_total
                    what = (
                        f"{STATUS_NAMES[flt.status].lower()}{found}"
                        if flt.status is not None
                        else f"photos{found}"
                    )
                    tip = f"All traditions: {n:,} {what}."
                else:
                    name = self._label(k) if k else "Not classified"
                    n = facets.traditions.get(k, 0)
                    counted = how.format(t=name) if k else "photos not classified"
                    tip = f"{name}: {n:,} {counted}{found}."
                    if flt.status is not None:
                        tip += f"\n{facets.listed.get(k, 0):,} in the whole collection."
                wi.setText(f"{name}  ({n:,})")
                wi.setData(NAME_ROLE, name)
                wi.setData(COUNT_ROLE, f"{n:,}")
                wi.setToolTip(tip)
        finally:
            lw.blockSignals(False)

    def _fit_width(self) -> None:
        """Wide enough for the review states' names and numbers (within PANEL_MAX): those are
        never cut; the traditions' names are elided instead."""
        lay = self.layout()
        sides = 0 if lay is None else lay.contentsMargins().left() + lay.contentsMargins().right()
        need = max(b.sizeHint().width() for b in self.status_buttons.values())
        self.setMinimumWidth(min(PANEL_MAX, max(170, need + sides)))

    def _emit(self) -> None:
        if not self._updating:
            emit(self.filterChanged, self.current_filter())
