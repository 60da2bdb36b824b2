"""The knowledge browser: tradition cards, a small map of origins, graph neighbourhood."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection.fewshot import CHECKED_FROM, RELIABLE_EXAMPLES
from saree_app.collection.objects import MONTHS
from saree_app.gui.india_map import CREDIT, Frame, paint_states, state_point
from saree_app.gui.qtfix import emit
from saree_app.gui.theme import ACCENT

if TYPE_CHECKING:
    from saree_app.collection.traditions import CuratorTradition

# The list's roles: the tradition (graph id or the curator's name), the text a search matches,
# and whether the curator added it.
TRADITION, SEARCH, ADDED = (Qt.ItemDataRole.UserRole + i for i in range(3))
ADDED_HEADING = "Added by you"


class DotMap(QWidget):
    """India with its state outlines; traditions as dots at their coordinates, the chosen one
    highlighted and its neighbours ringed. The curator's own traditions (`own`) are small
    squares at the middle of their state, the chosen one ringed with a dashed line: only its
    state is known, not where in it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dotMap")
        self._points: dict[str, tuple[float, float, str]] = {}
        self._current: str | None = None
        self._near: set[str] = set()
        self._own: set[str] = set()
        self._drawn: dict[str, QRectF] = {}  # the names drawn at the last paint, by tradition
        self._marks: dict[str, QRectF] = {}  # the chosen tradition's and neighbours' marks
        self.setMinimumSize(220, 240)
        self.setToolTip(CREDIT)

    def set_points(
        self, points: dict[str, tuple[float, float, str]], own: Iterable[str] = ()
    ) -> None:
        self._points = points
        self._own = set(own) & set(points)
        self.update()

    def own(self) -> set[str]:
        """The points that are the curator's traditions, placed by their state."""
        return set(self._own)

    def current(self) -> str | None:
        """The highlighted tradition, if it has a point on the map."""
        return self._current if self._current in self._points else None

    def set_current(self, tradition: str | None, near: Iterable[str] = ()) -> None:
        self._current = tradition
        self._near = set(near)
        self.update()

    def frame(self) -> Frame:
        """Where India sits in the widget (the same projection as the outlines)."""
        return Frame(QRectF(self.rect()).adjusted(12, 12, -12, -12))

    def _xy(self, lat: float, lon: float, frame: Frame) -> QPointF:
        return frame.xy(lat, lon)

    def label_boxes(self) -> dict[str, QRectF]:
        """The names drawn on the map at its last paint, by tradition, and their boxes (a name
        with no free room beside its dot is left out: hovering the dot shows it)."""
        return dict(self._drawn)

    def points(self) -> dict[str, tuple[float, float, str]]:
        """The traditions on the map: (latitude, longitude, name) by id."""
        return dict(self._points)

    def near(self) -> set[str]:
        """The chosen tradition's neighbours, ringed."""
        return set(self._near)

    def mark_boxes(self) -> dict[str, QRectF]:
        """The chosen tradition's and its neighbours' marks at the last paint: no name covers
        them."""
        return dict(self._marks)

    def point_at(self, pos: QPointF, reach: float = 7.0) -> str | None:
        """The tradition whose dot is nearest `pos`, within `reach` pixels (None if none)."""
        frame = self.frame()
        best, best_d = None, reach
        for tid, (lat, lon, _name) in self._points.items():
            pt = self._xy(lat, lon, frame)
            d = ((pt.x() - pos.x()) ** 2 + (pt.y() - pos.y()) ** 2) ** 0.5
            if d <= best_d:
                best, best_d = tid, d
        return best

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tid = self.point_at(QPointF(event.pos()))
            if tid is not None:  # a dot's name, drawn or not
                QToolTip.showText(event.globalPos(), self._points[tid][2], self)
            else:
                QToolTip.showText(event.globalPos(), CREDIT, self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#fbfaf7"))
        frame = self.frame()
        r = frame.rect
        paint_states(p, frame)
        self._drawn = {}
        self._marks = {}
        if not self._points:
            p.setPen(QColor("#8a857c"))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "No coordinates in the graph")
            p.end()
            return
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        p.setFont(font)
        labels: list[tuple[str, QPointF, str]] = []
        for tid, (lat, lon, name) in self._points.items():
            if tid == self._current:
                continue
            pt = self._xy(lat, lon, frame)
            near = tid in self._near
            p.setPen(QPen(QColor(ACCENT), 1.5) if near else Qt.PenStyle.NoPen)
            p.setBrush(QColor("#c9c2b6") if not near else QColor("#ffffff"))
            if tid in self._own:
                p.setPen(QPen(QColor("#8a857c"), 1.2))
                p.setBrush(QColor("#ffffff"))
                p.drawRect(QRectF(pt.x() - 3.5, pt.y() - 3.5, 7, 7))
            else:
                p.drawEllipse(pt, 4.5 if near else 3.5, 4.5 if near else 3.5)
            if near:
                labels.append((tid, pt, name))
                self._marks[tid] = QRectF(pt.x() - 5.5, pt.y() - 5.5, 11, 11)
        current: tuple[str, QPointF, str] | None = None
        if self._current in self._points:
            lat, lon, label = self._points[self._current]
            pt = self._xy(lat, lon, frame)
            current = (self._current, pt, label)
            self._marks[self._current] = QRectF(pt.x() - 7, pt.y() - 7, 14, 14)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(213, 94, 0))
            p.drawEllipse(pt, 6.5, 6.5)
            if self._current in self._own:  # somewhere in this state, not on this spot
                p.setPen(QPen(QColor(213, 94, 0), 1.2, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(pt, 13.0, 13.0)
                self._marks[self._current] = QRectF(pt.x() - 14, pt.y() - 14, 28, 28)
        # No name over a labelled mark, nor over (or touching) another name; all in the widget.
        taken: list[QRectF] = list(self._marks.values())
        room = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        bold = QFont(font)
        bold.setBold(True)
        if current is not None:
            tid, pt, label = current
            gap = 16.0 if tid in self._own else 9.0  # past the dashed ring
            p.setFont(bold)
            mine = self._marks[tid]
            others = [t for t in taken if t is not mine]
            box = self._place(QFontMetrics(bold), pt, label, room, others, gap=gap)
            if box.isNull():  # crowded by its neighbours' marks: it is named all the same
                box = self._place(QFontMetrics(bold), pt, label, room, [], gap=gap)
            if not box.isNull():
                self._draw_label(p, box, label, QColor("#262626"))
                taken.append(box)
                self._drawn[tid] = box
        p.setFont(font)
        fm = QFontMetrics(font)
        for tid, pt, name in labels:  # neighbours' names where they do not collide
            mine = self._marks[tid]
            box = self._place(fm, pt, name, room, [t for t in taken if t is not mine])
            if not box.isNull():
                self._draw_label(p, box, name, QColor("#5b5750"))
                taken.append(box)
                self._drawn[tid] = box
        p.end()

    @staticmethod
    def _draw_label(p: QPainter, box: QRectF, text: str, colour: QColor) -> None:
        """A name on a veil of the map's paper: the grey dots under it do not cross its
        letters."""
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(251, 250, 247, 190))
        p.drawRoundedRect(box.adjusted(-1, 0, 1, 0), 2, 2)
        p.setPen(colour)
        p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    @staticmethod
    def _place(
        fm: QFontMetrics,
        pt: QPointF,
        text: str,
        room: QRectF,
        taken: list[QRectF],
        *,
        gap: float = 9.0,
    ) -> QRectF:
        """Where a name goes beside its dot: right, left, above, below, then the four
        corners, `gap` from its centre, inside `room` and LABEL_SPACE clear of the names and
        of the other marks (`taken`). A null box when there is no room (the dot's tooltip
        names it)."""
        width, height = float(fm.horizontalAdvance(text)), float(fm.height())
        above, below = 3.0 - gap - height, gap - 3.0
        corner = gap * 0.7
        spots = [
            (gap, -height / 2, False),
            (-gap - width, -height / 2, False),
            (-width / 2, above, True),  # above and below: slid sideways to stay in the map
            (-width / 2, below, True),
            (corner, -corner - height + 2, False),
            (corner, corner - 2, False),
            (-corner - width, -corner - height + 2, False),
            (-corner - width, corner - 2, False),
        ]
        for dx, dy, slide in spots:
            box = QRectF(pt.x() + dx, pt.y() + dy, width, height)
            if slide and width <= room.width():
                box.moveLeft(min(max(box.left(), room.left()), room.right() - width))
            clear = box.adjusted(-LABEL_SPACE, -LABEL_SPACE, LABEL_SPACE, LABEL_SPACE)
            if room.contains(box) and not any(clear.intersects(t) for t in taken):
                return box
        return QRectF()


# The least room between two names on the map, or a name and a mark (pixels).
LABEL_SPACE = 2.0


class KnowledgePage(QWidget):
    """Browse the textile knowledge graph and the traditions the curator added;
    `showInCollection` filters the browser."""

    showInCollection = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("knowledgePage")
        self._graph: Any = None
        self._label: Callable[[str], str] = lambda t: t
        self._counts: dict[str, int] = {}
        # Of those, how many the curator confirmed (None: not told; the teaching's count then).
        self._confirmed: dict[str, int] | None = None
        self._teaching: dict[str, tuple[int, bool]] = {}
        self._needed = 3
        self._model_labels: set[str] = set()
        self._problem: str | None = None
        self._graph_ids: set[str] = set()
        # The curator's traditions by name, in the order they were added.
        self._added: dict[str, CuratorTradition] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        lay.addWidget(split)
        left = QWidget(split)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(12, 12, 6, 12)
        self.search = QLineEdit(left)
        self.search.setPlaceholderText("Find a tradition, state, motif…")
        self.search.setClearButtonEnabled(True)
        ll.addWidget(self.search)
        self.list = QListWidget(left)
        self.list.setObjectName("traditionList")
        self.list.setFrameShape(QFrame.Shape.NoFrame)
        # A long name is cut short ("Kasavu (Balarama…"), its whole in the tooltip, never
        # scrolled to sideways (fourth walk, at 1024 x 700).
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        ll.addWidget(self.list, 1)
        split.addWidget(left)
        self.card = QTextBrowser(split)
        self.card.setObjectName("traditionCard")
        self.card.setOpenLinks(False)
        self.card.anchorClicked.connect(self._link)
        self.card.setFrameShape(QFrame.Shape.NoFrame)
        split.addWidget(self.card)
        right = QWidget(split)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 12, 12, 12)
        head = QLabel("Where it is woven", right)
        head.setProperty("role", "section")
        rl.addWidget(head)
        self.map = DotMap(right)
        rl.addWidget(self.map, 1)
        self.map_note = QLabel(_MAP_NOTE, right)
        self.map_note.setWordWrap(True)
        self.map_note.setProperty("role", "hint")
        rl.addWidget(self.map_note)
        split.addWidget(right)
        split.setSizes([240, 620, 300])
        self.list.currentItemChanged.connect(self._chosen)
        self.search.textChanged.connect(self._filter)
        self.set_graph(None, "The knowledge graph is still loading.")

    def set_graph(self, graph: Any, problem: str | None = None, label: Any = None) -> None:
        self._graph = graph
        self._problem = problem
        if label is not None:
            self._label = label
        self._graph_ids = set() if graph is None else {str(t) for t in graph.traditions()}
        self._fill()

    def set_added(self, traditions: Iterable[CuratorTradition]) -> None:
        """The traditions the curator added (Library.added), listed after the graph's."""
        self._added = {t.name: t for t in traditions if t.name}
        self._fill()

    def added(self) -> list[str]:
        """The curator's traditions the list shows, in its order."""
        return [n for n in self._added if n not in self._graph_ids]

    def _fill(self) -> None:
        """The list (graph's traditions, then the curator's under a heading) and the map's
        points; the tradition shown stays shown when it is still listed."""
        keep = self.current()
        graph = self._graph
        self.list.blockSignals(True)
        self.list.clear()
        points: dict[str, tuple[float, float, str]] = {}
        traditions: list[str] = []
        if graph is not None:
            traditions = sorted(graph.traditions(), key=lambda t: self._label(t).casefold())
        for t in traditions:
            wi = QListWidgetItem(self._label(t))
            wi.setToolTip(self._label(t))
            wi.setData(TRADITION, t)
            wi.setData(SEARCH, self._search_text(t))
            self.list.addItem(wi)
            coords = self._coords(t)
            if coords is not None:
                points[t] = (coords[0], coords[1], self._label(t))
        own = self.added()
        if own:
            head = QListWidgetItem(ADDED_HEADING)
            head.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading: not chosen, not searched
            font = QFont(self.list.font())
            font.setBold(True)
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
            head.setFont(font)
            head.setForeground(QBrush(QColor("#6b665d")))
            # Set off from the graph's names above it, close to its own below.
            head.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            head.setSizeHint(QSize(0, QFontMetrics(font).height() + 10))
            self.list.addItem(head)
        italic = QFont(self.list.font())
        italic.setItalic(True)
        for name in own:
            t = self._added[name]
            wi = QListWidgetItem(name)
            wi.setData(TRADITION, name)
            wi.setData(ADDED, True)
            wi.setData(SEARCH, self._added_search_text(t))
            wi.setFont(italic)
            wi.setToolTip(self._added_about(t))
            self.list.addItem(wi)
            where = state_point(t.state)
            if where is not None:
                points[name] = (where[0], where[1], name)
        self.list.blockSignals(False)
        self.map.set_points(points, own)
        self.map_note.setText(_MAP_NOTE_OWN if self.map.own() else _MAP_NOTE)
        self._filter(self.search.text())
        if keep is not None and self.show_tradition(keep):
            return
        if graph is None:
            self.card.setHtml(
                "<div style='color:#5b5750; margin:40px'><h3>No knowledge graph</h3>"
                f"<p>{html.escape(self._problem or '')}</p></div>"
            )
            self.map.set_current(None)
            return
        if not traditions or not self.show_tradition(traditions[0]):
            self.card.clear()

    def set_model_labels(self, labels: Iterable[str]) -> None:
        """The traditions the visual model was trained on."""
        self._model_labels = set(labels)

    def set_teaching(self, teaching: dict[str, tuple[int, bool]], needed: int) -> None:
        """Confirmed examples per tradition (few-shot prototypes) for the card."""
        self._teaching, self._needed = teaching, needed
        cur = self.current()
        if cur:
            self.show_tradition(cur)

    def set_counts(
        self, counts: Mapping[str, int], confirmed: Mapping[str, int] | None = None
    ) -> None:
        """How many photos of the collection each tradition has (for the card's link): the
        photos whose answer is that tradition, the curator's label where they gave one, else
        the model's; `confirmed`, of those, how many the curator confirmed (without it, the
        card takes the confirmed photos the teaching counts)."""
        self._counts = dict(counts)
        self._confirmed = dict(confirmed) if confirmed is not None else None
        cur = self.current()
        if cur:
            self.show_tradition(cur)

    def current(self) -> str | None:
        it = self.list.currentItem()
        return str(it.data(TRADITION)) if it is not None and it.data(TRADITION) else None

    def show_tradition(self, tradition: str) -> bool:
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(TRADITION) == tradition:
                it.setHidden(False)
                if self.list.currentItem() is it:
                    self._render(tradition)
                else:
                    self.list.setCurrentItem(it)
                return True
        return False

    # --- internals
    def _search_text(self, t: str) -> str:
        g = self._graph
        words = [self._label(t)]
        try:
            words += [self._label(r) for r in g.region_chain(t)]
            words += [self._label(a) for a in g.attributes_of(t)]
        except (KeyError, ValueError, AttributeError):
            pass
        return " ".join(words).casefold()

    def _added_search_text(self, t: CuratorTradition) -> str:
        words = [t.name, t.state, t.region, ADDED_HEADING]
        if t.like:
            words.append(self._label(t.like))
        return " ".join(words).casefold()

    def _added_about(self, t: CuratorTradition) -> str:
        """'Added by you · Odisha, East India · resembles Sambalpuri' (the item's tooltip)."""
        return t.about(ADDED_HEADING, self._label)

    def _coords(self, t: str) -> tuple[float, float] | None:
        try:
            card = self._graph.card(t)
        except (KeyError, ValueError, AttributeError):
            return None
        for region in card.region_chain:  # the most local place that has coordinates
            if region.latitude is not None and region.longitude is not None:
                return float(region.latitude), float(region.longitude)
        return None

    def _filter(self, text: str) -> None:
        words = text.casefold().split()
        head: QListWidgetItem | None = None
        own_shown = False
        for i in range(self.list.count()):
            it = self.list.item(i)
            if not it.data(TRADITION):
                head = it
                continue
            hidden = not all(w in str(it.data(SEARCH)) for w in words)
            it.setHidden(hidden)
            own_shown |= bool(it.data(ADDED)) and not hidden
        if head is not None:  # the heading goes with the last of its traditions
            head.setHidden(not own_shown)

    def _chosen(self, cur: QListWidgetItem | None, _prev: object = None) -> None:
        if cur is not None and cur.data(TRADITION):
            self._render(str(cur.data(TRADITION)))

    def _link(self, url: Any) -> None:
        target = url.toString()
        if target.startswith("tradition:"):
            self.show_tradition(unquote(target.split(":", 1)[1]))
        elif target.startswith("collection:"):
            # Quoted when the link was made: a curator's name may hold "%", "#" or spaces.
            emit(self.showInCollection, unquote(target.split(":", 1)[1]))
        elif target.startswith("#"):
            self.card.scrollToAnchor(target[1:])  # a source cited in the card's list
        elif target.startswith(("https://", "http://")):
            self.open_url(target)

    def open_url(self, target: str) -> bool:
        """Open a source or a vocabulary entry in the curator's web browser."""
        return bool(QDesktopServices.openUrl(QUrl(target)))

    def _render(self, t: str) -> None:
        g = self._graph
        if t in self._added and t not in self._graph_ids:
            self._render_added(self._added[t])
            return
        if g is None:
            return
        try:
            card = g.card(t)
        except (KeyError, ValueError) as exc:
            self.card.setHtml(f"<p>{html.escape(str(exc))}</p>")
            return
        grey = "color:#8a857c"
        levels = {"town": "town", "district": "district", "state": "state"}
        levels["cultural_region"] = "cultural region"
        region = (
            " › ".join(
                f"{html.escape(r.label)} <span style='{grey}'>"
                f"({levels.get(r.level, r.level)})</span>"
                for r in card.region_chain
            )
            or f"<span style='{grey}'>not recorded</span>"
        )
        cites = _Citations(g, card.sources)
        rows = [("Region", region + cites.marks(card.record_sources))]
        if card.local_names:
            rows.append(("Also called", html.escape(", ".join(card.local_names))))
        for title, kind in (
            ("Motifs", "motif"),
            ("Weaves and techniques", "weave"),
            ("Border, pallu and structure", "feature"),
        ):
            links = [a for a in card.attributes if a.kind == kind]
            rows.append((title, _attributes_html(links, cites)))
        fibres = ", ".join(html.escape(f.label) for f in card.fibres)
        rows.append(
            (
                "Fibres",
                (fibres + cites.marks(card.record_sources))
                if fibres
                else f"<span style='{grey}'>not recorded</span>",
            )
        )
        gi_text = _gi_html(card.gi)
        if card.gi is not None:
            gi_text += cites.marks(card.gi.sources)
        rows.append(("GI registration", gi_text))
        vocab = _vocabulary_html(g, card)
        if vocab:
            rows.append(("Same entry elsewhere", vocab))
        try:
            near = list(g.similar_traditions(t, 5))
        except (KeyError, ValueError, AttributeError):
            near = []
        near_ids = [str(n[0]) for n in near]
        rows.append(("Neighbours", _neighbours_html(near, self._label)))
        rows.append(("In your collection", self._in_collection(t)))
        rows.append(("Taught by your examples", self._taught(t)))
        table = _table(rows)
        src = cites.list_html() or "<li>none recorded</li>"
        caveat = ""
        if not card.confirmed or card.note:
            caveat = (
                "<div style='background:#fbf1de; padding:6px; margin-top:6px'>"
                + ("Not confirmed by a primary source. " if not card.confirmed else "")
                + html.escape(card.note or "")
                + "</div>"
            )
        self.card.setHtml(
            f"<div style='margin:14px 18px'><h2 style='margin-bottom:2px'>"
            f"{html.escape(card.label)}</h2>{caveat}"
            f"{table}"
            f"<h4 style='margin-bottom:2px'>Sources</h4><ol style='margin-top:2px'>{src}</ol>"
            "</div>"
        )
        self.map.set_current(t, near_ids)

    def _render_added(self, t: CuratorTradition) -> None:
        """A curator's tradition: only what they typed, and that the graph holds nothing."""
        grey = "color:#8a857c"
        absent = f"<span style='{grey}'>not given</span>"
        rows = [
            ("State", html.escape(t.state) if t.state else absent),
            ("Region", html.escape(t.region) if t.region else absent),
        ]
        where = state_point(t.state)
        if where is not None:
            placed = (
                "marked at the middle of the state "
                f"<span style='{grey}'>(you gave its state, not a town)</span>"
            )
        elif t.state:
            placed = (
                "not on the map: state not recognised "
                f"<span style='{grey}'>(“{html.escape(t.state)}” is not one of the map's "
                "states and union territories)</span>"
            )
        else:
            placed = "not on the map: no state given"
        rows.append(("On the map", placed))
        near: list[str] = []
        if t.like and t.like in self._graph_ids:
            like = (
                f"<a href='tradition:{html.escape(quote(t.like, safe=''), quote=True)}'>"
                f"{html.escape(self._label(t.like))}</a>"
            )
            near = [t.like]
        elif t.like:
            like = html.escape(self._label(t.like))
        else:
            like = absent
        rows.append(("Resembles", like))
        rows.append(("In your collection", self._in_collection(t.name)))
        rows.append(("Taught by your examples", self._taught(t.name)))
        self.card.setHtml(
            f"<div style='margin:14px 18px'><h2 style='margin-bottom:2px'>"
            f"{html.escape(t.name)}</h2>"
            f"<div style='color:{ACCENT}; font-weight:bold'>{ADDED_HEADING}</div>"
            f"{_table(rows)}"
            f"<p style='{grey}; margin-top:12px'>The knowledge graph holds no motifs, weaves, "
            f"fibres, GI registration, sources or Wikidata links for {html.escape(t.name)}: "
            "this card shows only what you typed when you added it.</p></div>"
        )
        self.map.set_current(t.name, near)

    def _in_collection(self, t: str) -> str:
        """What the collection holds of a tradition, saying what is counted: "6 photos
        answered as Paithani, 2 of them confirmed by you" (the count links to them)."""
        n = self._counts.get(t, 0)
        name = html.escape(self._label(t) if t in self._graph_ids else t)
        if not n:
            return f"no photos answered as {name} yet"
        if self._confirmed is not None:
            sure = self._confirmed.get(t, 0)
        else:
            sure = self._teaching.get(t, (0, False))[0]
        sure = min(max(int(sure), 0), n)
        link = (
            f"<a href='collection:{html.escape(quote(t, safe=''), quote=True)}'>"
            f"{n:,} photo{'s' if n != 1 else ''}</a>"
        )
        if sure == n:
            by = "confirmed by you" if n == 1 else f"all {n:,} confirmed by you"
            return f"{link} answered as {name}, {by}"
        if not sure:
            return f"{link} answered as {name}, none confirmed by you yet"
        return f"{link} answered as {name}, {sure:,} of them confirmed by you"

    def _taught(self, t: str) -> str:
        """What the confirmed photos of a tradition do for the ranking, in a line."""
        examples, active = self._teaching.get(t, (0, False))
        plural = "s" if examples != 1 else ""
        if active and examples >= RELIABLE_EXAMPLES:
            return f"{examples} confirmed photos: they sharpen the ranking for this tradition"
        if active and examples < CHECKED_FROM:
            # Checked, each held back against the others, from CHECKED_FROM (as the teaching
            # panel says), and well from RELIABLE_EXAMPLES.
            return (
                f"{examples} confirmed photo{plural}: already counted in the ranking; "
                f"{CHECKED_FROM - examples} more and the app can check how reliable they are"
            )
        if active:
            return (
                f"{examples} confirmed photo{plural}: already counted in the ranking; "
                f"{RELIABLE_EXAMPLES - examples} more and the app can check them well"
            )
        if examples:
            more = max(1, self._needed - examples)
            return (
                f"{examples} confirmed photo{plural}; {more} more and "
                "they start to count in the ranking"
            )
        if t in self._model_labels:
            return "none yet (the model knows it; confirmed photos sharpen it)"
        return (
            "none yet: the model was not trained on it; confirm photos of it "
            "and the app learns it from them"
        )


_MAP_NOTE = (
    "Dots: traditions in the graph. Ringed: its neighbours. Positions are approximate. "
    "State outlines: MapSVG, CC BY 4.0."
)
_MAP_NOTE_OWN = (
    "Dots: traditions in the graph. Ringed: its neighbours. Squares: traditions you added, "
    "at the middle of their state. Positions are approximate. "
    "State outlines: MapSVG, CC BY 4.0."
)


def _table(rows: list[tuple[str, str]]) -> str:
    """A card's facts: names in grey on the left, what is known on the right."""
    cells = "".join(
        f"<tr><td style='color:#6b665d; padding:5px 16px 5px 0; vertical-align:top;"
        f" white-space:nowrap'>{k}</td><td style='padding:5px 0'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table style='margin-top:10px'>{cells}</table>"


# A web address in a source's words (a note naming the copy it was read at); commas end it, as
# in the quoted rows of a table, and a full stop or bracket after it is the sentence's.
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"',]+")


def _web_link(url: str) -> str:
    """A link to a web address. In double quotes: Qt reads "&amp;" back as "&" only there (in
    single quotes an address with a query would open with "&amp;" in it)."""
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'


def _trimmed(url: str) -> str:
    """An address found in running text, less the punctuation after it: a closing bracket
    only when the address does not open one itself (".../wiki/Patan_(Gujarat)" keeps it,
    "(see https://a.org/x)" loses it)."""
    while url and url[-1] in ".;:,)]":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        if url[-1] == "]" and url.count("[") >= url.count("]"):
            break
        url = url[:-1]
    return url


def _linked_text(text: str) -> str:
    """`text` as HTML, each web address in it a link a curator can open."""
    out, at = [], 0
    for found in _WEB_ADDRESS.finditer(text):
        url = _trimmed(found.group(0))
        if not re.fullmatch(r"https?://[^/]+\..+", url):
            continue
        out.append(html.escape(text[at : found.start()]))
        out.append(_web_link(url))
        at = found.start() + len(url)
    out.append(html.escape(text[at:]))
    return "".join(out)


class _Citations:
    """Numbers the card's sources and renders [n] marks that jump to their entries in the
    card's list; each entry there opens in the browser where it has a web address."""

    def __init__(self, graph: Any, sources: Iterable[Any]) -> None:
        self._graph = graph
        self._order: list[Any] = list(sources)
        self._number = {s.id: i + 1 for i, s in enumerate(self._order)}

    def marks(self, source_ids: Iterable[str]) -> str:
        out = []
        for sid in sorted(source_ids, key=lambda x: self._number.get(x, 0)):
            n = self._number.get(sid)
            if n is None:
                continue
            src = self._order[n - 1]
            href = f"#src-{sid}"  # the numbered entry, which has the link
            title = html.escape(str(getattr(src, "title", sid)), quote=True)
            out.append(f'<a href="{html.escape(href, quote=True)}" title="{title}">{n}</a>')
        if not out:
            return ""
        return f" <span style='font-size:small'>[{', '.join(out)}]</span>"

    def list_html(self) -> str:
        items = []
        for s in self._order:
            cite = s.citation() if hasattr(s, "citation") else str(s.title)
            url = getattr(s, "url", None)
            text = _linked_text(cite.replace(f" <{url}>", "") if url else cite)
            if url:
                text += f"<br>{_web_link(url)}"
            if getattr(s, "project_note", False):
                text = f"<span style='color:#8a857c'>{text}</span>"
            items.append(f"<li><a name='src-{html.escape(s.id, quote=True)}'></a>{text}</li>")
        return "".join(items)


def how_often(typicality: float) -> str:
    """How often a tradition's sarees show an attribute (its typicality, in [0, 1]: the share
    of its sarees that show it in a photograph), in words: "in about 4 of 10 of its sarees"."""
    t = min(max(float(typicality), 0.0), 1.0)
    tenths = int(t * 10 + 0.5)  # 0.25 -> 3, 0.45 -> 5: halves up, as a curator would round
    if t >= 0.95:
        return "in nearly all of its sarees"
    if tenths == 5:
        return "in about half of its sarees"
    if tenths == 0:
        return "rarely in its sarees"
    return f"in about {tenths} of 10 of its sarees"


def _attributes_html(links: list[Any], cites: _Citations | None = None) -> str:
    if not links:
        return "<span style='color:#8a857c'>none recorded</span>"
    out = []
    for a in sorted(links, key=lambda a: -a.typicality):
        where = f", on the {'/'.join(a.shown_on)}" if a.shown_on else ""
        unsure = "" if a.confirmed else " (not confirmed)"
        out.append(
            f"{html.escape(a.label)} <span style='color:#8a857c'>"
            f"{how_often(a.typicality)}{where}{unsure}</span>"
            + (cites.marks(a.sources) if cites is not None else "")
            + (
                f"<br><span style='color:#8a857c'>&nbsp;&nbsp;sources disagree: "
                f"{html.escape(a.disagreement)}</span>"
                if a.disagreement
                else ""
            )
        )
    return "<br>".join(out)


# How much two traditions share (the graph's similarity of their attributes, in [0, 1]: the
# weighted share of motifs, weaves and features they have in common), from most to least.
SHARED = ((0.5, "many"), (0.3, "some"), (0.0, "a few"))


def shared_words(similarity: float) -> str:
    """'many', 'some' or 'a few': how much of their features two traditions share."""
    return next(words for floor, words in SHARED if float(similarity) >= floor)


def _neighbours_html(near: list[tuple[str, float]], label: Callable[[str], str]) -> str:
    """The traditions that share most features with this one, grouped by how much they share
    ("shares many features with: Gadwal"), each a link to its card; no raw scores."""
    if not near:
        return "<span style='color:#8a857c'>none</span>"
    groups: dict[str, list[str]] = {}
    for n, sim in near:
        link = (
            f"<a href='tradition:{html.escape(quote(str(n), safe=''))}'>"
            f"{html.escape(label(str(n)))}</a>"
        )
        groups.setdefault(shared_words(sim), []).append(link)
    lines = [
        f"<span style='color:#8a857c'>shares {words} features with</span> "
        + ", ".join(groups[words])
        for _floor, words in SHARED
        if words in groups
    ]
    return "<br>".join(lines)


def _vocabulary_html(graph: Any, card: Any) -> str:
    """Links of the tradition, its places, fibres and attributes to Wikidata and Getty AAT."""
    links_of = getattr(graph, "links_of", None)
    if links_of is None:
        return ""
    named = [(card.label, card.id)]
    named += [(r.label, r.id) for r in card.region_chain]
    named += [(f.label, f.id) for f in card.fibres]
    named += [(a.label, a.term) for a in card.attributes]
    out, seen = [], set()
    for name, term in named:
        if term in seen:
            continue
        seen.add(term)
        links: dict[str, list[str]] = {"exact": [], "close": []}
        for k in links_of(term):
            links["exact" if k.match == "exact" else "close"].append(
                f'<a href="{html.escape(k.url, quote=True)}" '
                f'title="{html.escape(k.label, quote=True)}">'
                f"{html.escape(k.vocabulary)} {html.escape(k.identifier)}</a>"
            )
        # The same entries first, then the close ones under one "close to": a list that mixed
        # them read as if every entry after the first "close match" were close too.
        said = [", ".join(links["exact"])] if links["exact"] else []
        if links["close"]:
            said.append("close to " + ", ".join(links["close"]))
        if said:
            out.append(f"{html.escape(name)}: " + "; ".join(said))
    return "<br>".join(out)


def _gi_html(gi: Any) -> str:
    if gi is None:
        return "<span style='color:#8a857c'>not recorded</span>"
    facts = []
    if gi.registered and gi.registered_on:
        facts.append(f"registered in {html.escape(_date_text(gi.registered_on))}")
    else:
        facts.append("registered" if gi.registered else "not registered")
    if gi.application:
        facts.append(f"application no. {html.escape(str(gi.application))}")
    if gi.filed:
        facts.append(f"filed in {html.escape(_date_text(gi.filed))}")
    if gi.certificate:
        facts.append(f"certificate no. {html.escape(str(gi.certificate))}")
    if gi.proprietor:
        facts.append(f"registered proprietor: {html.escape(str(gi.proprietor))}")
    text = ", ".join(facts)
    if not gi.confirmed:
        text += " <span style='color:#a86a12'>(not confirmed)</span>"
    if gi.note:
        text += f"<br><span style='color:#8a857c'>{html.escape(gi.note)}</span>"
    if getattr(gi, "disagreement", None):
        text += (
            "<br><span style='color:#a86a12'>Sources disagree: "
            f"{html.escape(gi.disagreement)}</span>"
        )
    return text


def _date_text(value: str) -> str:
    """'2019-08-30' -> '30 August 2019'; '2010-05' -> 'May 2010'; '2005/2006' -> '2005-06'."""
    parts = str(value).split("-")
    if "/" in value:
        a, b = value.split("/", 1)
        return f"{a}-{b[-2:]}"
    if len(parts) == 3 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return str(value)
