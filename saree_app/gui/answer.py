"""The answer panel: ranking with confidence bars, regions, parts, attributes, explanation."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection.fewshot import NOT_TAUGHT_YET, claims_level
from saree_app.gui.analysis import pretty
from saree_app.gui.india_map import RegionMap
from saree_app.gui.qtfix import emit
from saree_app.gui.theme import ACCENT, PART_COLOURS, PART_LABELS
from saree_app.knowledge.words import (
    curators_own,
    evidence_line,
    part_marks,
    pct,
    plain_reason,
    why_lines,
)
from saree_app.model.pieces import read_words

Labeller = Callable[[str], str]
Sourcer = Callable[[str], Sequence[tuple[str, str | None]]]


class ConfidenceBar(QWidget):
    """A thin horizontal bar, filled to the probability."""

    def __init__(self, value: float = 0.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = value
        self._colour = QColor(ACCENT)
        self.setMinimumWidth(60)
        self.setFixedHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def value(self) -> float:
        return self._value

    def set_value(self, value: float, colour: str | None = None) -> None:
        self._value = max(0.0, min(1.0, float(value)))
        if colour:
            self._colour = QColor(colour)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(120, 10)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 1.5, -0.5, -1.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#e8e3da"))
        p.drawRoundedRect(r, 3.5, 3.5)
        if self._value > 0:
            fill = QRectF(r.left(), r.top(), max(r.height(), r.width() * self._value), r.height())
            p.setBrush(self._colour)
            p.drawRoundedRect(fill, 3.5, 3.5)
        p.end()


class ElidedTitle(QLabel):
    """Plain text wrapped at its spaces, each word too wide for the label cut in its middle
    ("sambalpurihaat_10019…49.jpg"), the whole text then its tooltip: a long file name widened
    the side panel past the window, cutting off everything beside it."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = str(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:
        # Never wider than "…" and a few letters: the words are cut to fit any width.
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("MMM…MMM"), fm.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        fm = self.fontMetrics()
        words = self._full.split(" ")
        if width > 0:
            words = [
                fm.elidedText(w, Qt.TextElideMode.ElideMiddle, width)
                if fm.horizontalAdvance(w) > width
                else w
                for w in words
            ]
        shown = " ".join(words)
        if shown != super().text():
            super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")


def _section(text: str, parent: QWidget) -> QLabel:
    lab = QLabel(text, parent)
    lab.setProperty("role", "section")
    lab.setWordWrap(True)
    return lab


def _empty(grid: QGridLayout) -> None:
    """Take every row out of `grid` and hide it at once: deleted later only, the old rows
    stayed on screen under the new ones until the event loop came round."""
    while grid.count():
        w = grid.takeAt(0).widget()
        if w is not None:
            w.hide()
            w.deleteLater()


def _hpct(p: float) -> str:
    """_pct for rich text ("<1%" would open a tag)."""
    return html.escape(_pct(p))


def _pct(p: float) -> str:
    return pct(p)


def _grey(text: str) -> str:
    return f"<span style='color:#7a746a'>{text}</span>"


# A taught answer flagged as perhaps of a tradition nobody taught (fewshot.unlike_taught ends
# so; reasons stored before end alike): its percentages are shares among the taught traditions.
UNTAUGHT_WORDS = NOT_TAUGHT_YET
UNTAUGHT_NOTE = (
    "These percentages share the answer among the traditions you have taught: this photo "
    "looks unlike them, and may be of a tradition you have not taught yet, which the "
    "ranking cannot name."
)

# Where the answer claims no level (collection.fewshot.claims_level, the one rule every screen
# reads a live answer by), the ranking shows no percentage: the first row says it leads, each
# bar is its score against the leader's, and this says so under them.
LEADING = "leading"
# What it covers is said: the traditions, their places and what each part (or the whole
# saree) looks like lose their figures, in the ranking, the regions, the parts and the Why list;
# the attributes found keep the model's figure for each feature, and the doubts what the
# picture alone shows, which are no share of the answer.
NO_LEVEL_NOTE = (
    "No level is claimed for this answer, so no percentages are shown for its traditions, "
    "places or parts: the list is the order the app ranks the traditions in, and each bar is "
    "measured against the leading one. They are not odds. The figures left are not the "
    "answer's odds either: those of the attributes found say how surely the model sees each, "
    "and those in the doubts what the picture alone shows."
)
# A tradition's likeness figure in a Why line ("the border looks like Paithani's: 95%", "the
# pallu looks more like Kasavu's (34%) than ...", "the whole saree looks like X's: only 3%"),
# dropped where the answer claims no level; an attribute's ("ikat seen (51%)") stays.
_LIKENESS_FIGURE = re.compile(r"'s(?:: | \()(only )?<?\d+%\)?")
# The doubts name the ranking's figures, which a ranking with no level does not show.
_RANKED_FIGURES = "the ranking's figures also weigh"


def _without_likeness_figures(line: str) -> str:
    """A Why line without the tradition's likeness figure (`_LIKENESS_FIGURE`)."""
    return _LIKENESS_FIGURE.sub(lambda m: "'s, only a little" if m.group(1) else "'s", line)


NO_LEVEL_TIP = (
    "No level is claimed for this photo's answer: the bar shows how this tradition ranks "
    "against the leading one, not its odds"
)
UNTAUGHT_NOTE_NO_LEVEL = (
    "This ranking shares the answer among the traditions you have taught: this photo looks "
    "unlike them, and may be of a tradition you have not taught yet, which the ranking cannot "
    "name."
)


# The marks of the "Why" list: what speaks for the answer and what against it.
_MARKS = {1: ("▲", "#2f7a3b"), -1: ("▼", "#9a3b2a")}


class AnswerPanel(QWidget):
    """Shows one Prediction; `traditionClicked` asks the viewer for that tradition's heatmap."""

    traditionClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answerPanel")
        self._label: Labeller = pretty
        self._sources: Sourcer = lambda _t: ()
        self._sets: Any = None  # fewshot.AnswerSets calibrated on the confirmed photos
        self._taught = 0  # traditions the confirmed photos teaching is checked on are of
        self._examples = 0  # confirmed photos teaching
        self._checkable: int | None = None  # of those, with another of their tradition
        self._checks: tuple[Any, ...] = ()  # fewshot.TraditionCheck per taught tradition
        self._headings: list[QLabel] = []  # the sections' headings (`_heading`)
        self._shown: tuple[str, Any] | None = None
        # Whether the answer shown claims a level (`claims_level`): else no percentage as odds.
        self.level_claimed = True
        # The tradition the curator confirmed for the photo shown (its name), else None: the
        # page then leads with their decision, and the app's answer is said to be its own.
        self._confirmed: str | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 12, 14, 12)
        lay.setSpacing(6)

        self.title = ElidedTitle("", self)
        self.title.setObjectName("answerTitle")
        lay.addWidget(self.title)

        # The answer as a set: "Kanchipuram or Banarasi — 90% sure it is one of these".
        self.answer_set = QLabel("", self)
        self.answer_set.setObjectName("answerSet")
        self.answer_set.setWordWrap(True)
        self.answer_set.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.answer_set)
        self.answer_set_how = QLabel("", self)
        self.answer_set_how.setObjectName("answerSetHow")
        self.answer_set_how.setWordWrap(True)
        self.answer_set_how.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.answer_set_how)

        self.banner = QLabel("", self)
        self.banner.setObjectName("uncertainBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.hide()
        lay.addWidget(self.banner)

        lay.addWidget(self._heading("Most likely traditions"))
        self._rank_box = QWidget(self)
        self._rank_grid = QGridLayout(self._rank_box)
        self._rank_grid.setContentsMargins(0, 0, 0, 0)
        self._rank_grid.setHorizontalSpacing(8)
        self._rank_grid.setVerticalSpacing(5)
        self._rank_grid.setColumnStretch(1, 1)
        lay.addWidget(self._rank_box)
        self.rank_rows: list[tuple[QLabel, ConfidenceBar, QLabel]] = []
        # Under the ranking, when teaching has pulled a photo that may be of a tradition
        # nobody taught: its percentages are shares among the taught traditions only.
        self.rank_note = QLabel("", self)
        self.rank_note.setObjectName("rankNote")
        self.rank_note.setWordWrap(True)
        self.rank_note.hide()
        lay.addWidget(self.rank_note)

        lay.addWidget(self._heading("Region"))
        self.regions = QLabel("", self)
        self.regions.setWordWrap(True)
        # Each line sums the answer over its places' traditions: a region with many traditions
        # can lead though the likeliest state lies elsewhere.
        self.regions.setToolTip(
            "Each state's figure adds up the traditions made there, and each cultural region's "
            "those of all its states: the likeliest region need not hold the likeliest state."
        )
        self.regions.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.regions)
        self.region_map = RegionMap(self)  # the likely states shaded on India's outline
        self.region_map.hide()
        lay.addWidget(self.region_map)

        lay.addWidget(self._heading("What each part looks like"))
        self._parts_box = QWidget(self)
        self._parts_grid = QGridLayout(self._parts_box)
        self._parts_grid.setContentsMargins(0, 0, 0, 0)
        self._parts_grid.setHorizontalSpacing(8)
        self._parts_grid.setColumnStretch(1, 1)
        lay.addWidget(self._parts_box)
        self.part_labels: dict[str, QLabel] = {}

        lay.addWidget(self._heading("Attributes found"))
        self.attributes = QLabel("", self)
        self.attributes.setObjectName("attributes")
        self.attributes.setWordWrap(True)
        self.attributes.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.attributes)

        lay.addWidget(self._heading("Why"))
        self.explanation = QLabel("", self)
        self.explanation.setObjectName("explanation")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        self.explanation.setOpenExternalLinks(True)
        # Its sources open with the mouse; the keyboard does not stop at each of them (Tab took
        # five presses to cross the Why text), nor at the text itself, which it cannot change.
        self.explanation.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.explanation.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.explanation)
        self.details_button = QToolButton(self)
        self.details_button.setObjectName("detailsButton")
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setToolTip("The figures behind the answer, as the model computed them")
        self.details_button.toggled.connect(self._toggle_details)
        lay.addWidget(self.details_button)
        self.details = QLabel("", self)
        self.details.setObjectName("details")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        lay.addWidget(self.details)
        lay.addStretch(1)
        self.clear("Select a photo to see where it comes from.")

    def set_labeller(self, labeller: Labeller, sourcer: Sourcer | None = None) -> None:
        self._label = labeller
        if sourcer is not None:
            self._sources = sourcer

    def set_calibration(
        self,
        sets: Any,
        taught: int = 0,
        examples: int = 0,
        checkable: int | None = None,
        checks: Sequence[Any] = (),
    ) -> None:
        """Answer sets calibrated on the curator's confirmed photos (None: the model's own),
        how many traditions those photos are of, how many confirmed photos teach and how many
        of them have another of their tradition (what checking teaching needs); the photo
        shown is told again in those terms."""
        self._sets = sets
        self._taught = taught
        self._examples = examples
        self._checkable = checkable
        self._checks = tuple(checks)  # fewshot.TraditionCheck per taught tradition checked
        if self._shown is not None:
            self.show_prediction(*self._shown)

    def claims_level_of(self, pred: Any) -> bool:
        """Whether `pred`'s answer claims a level as this page would state it now (with its
        calibration): what another screen showing a live answer asks (compare)."""
        return claims_level(pred, self._sets, self._examples)

    def _toggle_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def _heading(self, text: str) -> QLabel:
        """A section's heading, kept so that a page with no answer shows none of them (empty
        headings stood under "No photo selected", fifth walk)."""
        lab = _section(text, self)
        self._headings.append(lab)
        return lab

    def clear(self, message: str) -> None:
        self._shown = None
        for lab in self._headings:
            lab.hide()
        self.title.setText(message)
        self.answer_set.setText("")
        self.answer_set_how.setText("")
        self.details.setText("")
        self.details_button.setVisible(False)
        self.details.setVisible(False)
        self.banner.hide()
        self._fill_ranking([])
        self.rank_note.hide()
        self.regions.setText("")
        self.region_map.set_shading({})
        self._fill_parts({})
        self.attributes.setText("")
        self.explanation.setText("")

    def show_problem(self, name: str, problem: str) -> None:
        self.clear(name)
        self.banner.setText(f"<b>No answer for this photo.</b> {html.escape(problem)}")
        self.banner.show()

    def set_confirmed(self, tradition: str | None, *, redraw: bool = True) -> None:
        """The tradition the curator confirmed for the photo shown (its name; None: not
        confirmed); the answer shown is worded again, unless `redraw` is False (a new photo's
        answer is about to be shown: the one on screen is another photo's)."""
        if tradition == self._confirmed:
            return
        self._confirmed = tradition
        if redraw and self._shown is not None:
            self.show_prediction(*self._shown)

    def show_prediction(self, name: str, pred: Any) -> None:
        self._shown = (name, pred)
        for lab in self._headings:
            lab.show()
        fused = pred.fused
        ranking = list(fused.ranking[:5])
        self.title.setText(name)
        level = self.level_claimed = claims_level(pred, self._sets, self._examples)
        if self._confirmed is not None:
            # The curator has decided: their word leads, and the app's answer below is said
            # to be its own (it may differ: each confirmed photo is answered without itself).
            top = fused.ranking[0]
            app = top.label or self._label(top.tradition)
            head = f"<b>Confirmed by you: {html.escape(self._confirmed)}</b>"
            # Its figure only where a level is claimed for it (else it is no odds).
            figure = f" ({pct(top.probability)})" if level else ""
            if app == self._confirmed:
                how = f"The app's own answer agrees: {app}{figure}."
            else:
                how = (
                    f"The app's own answer, without your label, is {app}{figure}: its reasons "
                    "are below."
                )
            if pred.uncertain:
                how += " It was flagged uncertain."
        else:
            head, how = self._answer_set(pred)
        self.answer_set.setText(head)
        read = read_words(getattr(pred, "pieces", 1), pred.photo_size)
        if read is not None:
            how = f"{how} {read}"
        self.answer_set_how.setText(_grey(html.escape(how)))
        if pred.uncertain and self._confirmed is None:
            # The curator's own traditions, said to be theirs where a reason names one.
            own = {
                r.label or self._label(r.tradition) for r in fused.ranking[:1] if curators_own(r)
            }
            # Plain lines, not an HTML list: QLabel's height-for-width undercounts lists and
            # would clip the reasons.
            said = [plain_reason(r, own) for r in pred.uncertain_reasons]
            if not level:
                said = [r.replace(_RANKED_FIGURES, "the ranking also weighs") for r in said]
            reasons = "".join(f"<br>• {html.escape(r)}" for r in said)
            self.banner.setText(
                f"<b>Uncertain.</b> Treat the ranking as a lead, not an answer:{reasons}"
            )
            self.banner.show()
        else:
            self.banner.hide()
        self._fill_ranking(
            [
                (
                    r.tradition,
                    r.label or self._label(r.tradition),
                    r.probability,
                    r.known_to_model,
                    curators_own(r),
                )
                for r in ranking
            ],
            level=level,
        )
        # (Not for a photo the curator confirmed: its tradition is theirs, taught or not.)
        untaught = (
            self._confirmed is None
            and pred.is_taught()
            and any(UNTAUGHT_WORDS in str(r) for r in pred.uncertain_reasons)
        )
        notes = [] if level else [NO_LEVEL_NOTE]
        if untaught:
            notes.append(UNTAUGHT_NOTE if level else UNTAUGHT_NOTE_NO_LEVEL)
        self.rank_note.setText(_grey(html.escape(" ".join(notes))))
        self.rank_note.setVisible(bool(notes))
        self.regions.setText(self._regions_html(fused, level=level))
        self.region_map.set_shading({s.label: float(s.probability) for s in fused.states})
        self._fill_parts(
            {
                pe.part: [(t, p) for t, p in list(pe.ranking)[:2]]
                for pe in pred.parts
                if pe.part in PART_COLOURS
            },
            {pe.part: float(pe.area) for pe in pred.parts},
            level=level,
        )
        found = [a for a in pred.attributes if a.probability >= 0.5][:12]
        if found:
            chips = " ".join(
                # Non-breaking spaces keep each chip on one line; lines break between chips.
                f"<span style='background:#efe9de; color:#3a362f'>&nbsp;"
                f"{html.escape(a.label).replace(' ', '&nbsp;').replace('-', '&#8209;')}&nbsp;"
                "<span style='color:#7a746a'>"
                f"{_hpct(a.probability)}</span>&nbsp;</span>"
                for a in found
            )
            self.attributes.setText(chips)
        else:
            self.attributes.setText(
                "<span style='color:#7a746a'>None found with confidence.</span>"
            )
        self.explanation.setText(self._explanation_html(ranking, pred, level=level))
        self.details.setText(self._details_html(ranking, pred, level=level))
        self.details_button.setVisible(True)
        self.details.setVisible(self.details_button.isChecked())

    def _answer_set(self, pred: Any) -> tuple[str, str]:
        """The set's headline (rich text) and how it was reckoned (plain)."""
        from saree_app.collection.fewshot import set_words

        names = {r.tradition: r.label or self._label(r.tradition) for r in pred.fused.ranking}
        head, how = set_words(
            pred,
            lambda t: names.get(t, self._label(t)),
            self._sets,
            taught=self._taught,
            examples=self._examples,
            checkable=self._checkable,
            checks=self._checks,
        )
        return f"<b>{html.escape(head)}</b>", how

    # --- pieces
    def _fill_ranking(
        self, rows: list[tuple[str, str, float, bool, bool]], *, level: bool = True
    ) -> None:
        """The ranking's rows: name, bar and figure. `level` False (the answer claims no
        level): no percentage, the first row "leading", each bar against the leader's."""
        _empty(self._rank_grid)
        self.rank_rows = []
        lead = max((float(r[2]) for r in rows), default=0.0)
        for i, (trad, label, prob, known, own) in enumerate(rows):
            name = QLabel(
                f"<a href='{html.escape(trad)}' style='color:#262626;"
                f"text-decoration:none'>{html.escape(label)}</a>",
                self._rank_box,
            )
            if known:
                name.setToolTip("Click to show where the model sees this tradition")
            elif own:
                # Neither the model nor the knowledge graph knows it: "(graph)" was wrong.
                name.setToolTip(
                    "Your own tradition: neither the model nor the knowledge graph knows it; "
                    "it is ranked from the photos you confirmed as it"
                )
                name.setText(name.text() + " <span style='color:#8a857c'>(taught by you)</span>")
            else:
                name.setToolTip(
                    "Not one of the model's traditions: ranked from the knowledge graph and "
                    "your confirmed examples"
                )
                name.setText(name.text() + " <span style='color:#8a857c'>(graph)</span>")
            name.linkActivated.connect(lambda t: emit(self.traditionClicked, t))
            if i == 0:
                name.setProperty("role", "top")
            bar = ConfidenceBar(prob, self._rank_box)
            shown = prob if level else (prob / lead if lead > 0 else 0.0)
            bar.set_value(shown, ACCENT if i == 0 else "#7fa3a6")
            figure = _pct(prob) if level else (LEADING if i == 0 else "")
            pct = QLabel(figure, self._rank_box)
            if not level:
                bar.setToolTip(NO_LEVEL_TIP)
                pct.setToolTip(NO_LEVEL_TIP)
            pct.setTextFormat(Qt.TextFormat.PlainText)
            pct.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            # Room for "100%" in this font at this scale: "51%" must never read "51".
            pct.setMinimumWidth(pct.fontMetrics().horizontalAdvance("100%") + 4)
            self._rank_grid.addWidget(name, i, 0)
            self._rank_grid.addWidget(bar, i, 1)
            self._rank_grid.addWidget(pct, i, 2)
            self.rank_rows.append((name, bar, pct))

    def _regions_html(self, fused: Any, *, level: bool = True) -> str:
        """The likely states and cultural regions; `level` False (the answer claims no
        level): named in order, with no percentage."""

        def line(title: str, scores: Sequence[Any]) -> str:
            shown = [s for s in scores if s.probability >= 0.05][:3] or list(scores[:1])
            if not shown:
                return ""
            if not level:
                parts = ", then ".join(html.escape(s.label) for s in shown)
                return f"<div><span style='color:#7a746a'>{title}:</span> {parts}</div>"
            parts = ", ".join(
                f"{html.escape(s.label)} <span style='color:#7a746a'>{_hpct(s.probability)}</span>"
                for s in shown
            )
            return f"<div><span style='color:#7a746a'>{title}:</span> {parts}</div>"

        text = line("State", fused.states) + line("Cultural region", fused.cultural_regions)
        return text or (
            "<span style='color:#7a746a'>Unknown: regions come from the knowledge graph, "
            "which is not loaded.</span>"
        )

    def _fill_parts(
        self,
        parts: dict[str, list[tuple[str, float]]],
        areas: dict[str, float] | None = None,
        *,
        level: bool = True,
    ) -> None:
        """What each part looks like: its two likeliest traditions with their figures, or,
        `level` False (the answer claims no level), named in order with none ("Border looks
        like Kanchipuram silk, then Paithani")."""
        _empty(self._parts_grid)
        self.part_labels = {}
        for row, part in enumerate(("border", "pallu", "body")):
            if part not in parts:
                continue
            r, g, b = PART_COLOURS[part]
            sw = QLabel(self._parts_box)
            sw.setFixedSize(12, 12)
            sw.setStyleSheet(f"background: rgb({r},{g},{b}); border-radius: 3px;")
            area = (areas or {}).get(part, 0.0)
            ranking = parts[part]
            if area < 0.01 or not ranking:
                # Said of the part map, not of the saree: the whole photo's attributes may
                # still see a border ("some sign of temple border") that the map did not mark.
                text = f"<b>{PART_LABELS[part]}</b>: not marked on the part map"
            elif not level:
                best = ", then ".join(html.escape(self._label(t)) for t, _p in ranking)
                text = f"<b>{PART_LABELS[part]}</b> looks like {best}"
            else:
                best = ", ".join(
                    f"{html.escape(self._label(t))} <span style='color:#7a746a'>{_hpct(p)}</span>"
                    for t, p in ranking
                )
                text = f"<b>{PART_LABELS[part]}</b> looks like {best}"
            lab = QLabel(text, self._parts_box)
            lab.setWordWrap(True)
            lab.setTextFormat(Qt.TextFormat.RichText)
            self._parts_grid.addWidget(sw, row, 0, Qt.AlignmentFlag.AlignTop)
            self._parts_grid.addWidget(lab, row, 1)
            self.part_labels[part] = lab

    def _explanation_html(
        self, ranking: Sequence[Any], pred: Any = None, *, level: bool = True
    ) -> str:
        """The Why list; `level` False (the answer claims no level): the likeness of the whole
        saree and of each part to a tradition said without its figure."""
        if not ranking:
            return ""
        top = ranking[0]
        label = top.label or self._label(top.tradition)
        own = curators_own(top)
        lines: list[tuple[int, str]] = []
        if pred is not None:
            # What each part looks like on its own: for the answer when its best match is the
            # answer, against it when it prefers another (nothing for one the model does not
            # know, whose parts it cannot compare).
            lines += part_marks(pred.parts, top.tradition, self._label, known=top.known_to_model)
        spread = float(getattr(getattr(pred, "fused", None), "spread", 1.0) or 1.0)
        said = why_lines(top.evidence, label, self._label, own=own, spread=spread)
        lines += self._taught_lines(said, top, label, own, pred)
        if not level:
            lines = [(sign, _without_likeness_figures(line)) for sign, line in lines]
        items = []
        for sign, line in lines:
            mark, colour = _MARKS[sign]
            items.append(f"<span style='color:{colour}'>{mark}</span> {html.escape(line)}")
        body = (
            "<div style='margin-top:2px'>" + "<br>".join(items) + "</div>"
            if items
            else "<div style='color:#7a746a'>The visual model alone; no graph evidence.</div>"
        )
        sources = list(self._sources(top.tradition))[:4]
        src = ""
        if sources:
            src = (
                "<div style='color:#7a746a; margin-top:4px'>Sources: "
                + "; ".join(
                    f"<a href='{html.escape(url)}'>{html.escape(title)}</a>"
                    if url
                    else html.escape(title)
                    for title, url in sources
                )
                + "</div>"
            )
        legend = _grey("▲ speaks for it, ▼ against it")
        return f"<div>For <b>{html.escape(label)}</b>: {legend}</div>{body}{src}"

    def _taught_lines(
        self, lines: list[tuple[int, str]], top: Any, label: str, own: bool, pred: Any
    ) -> list[tuple[int, str]]:
        """The Why list with its line for the likeness to the confirmed photos said as far as
        it goes: the likeness teaching measures is relative (0.23 can lead), so the answer is
        "most like" the confirmed photos of its tradition when no other taught tradition's
        are more alike, never "close" to them."""
        taught = next((e for e in top.evidence if e.kind == "fewshot"), None)
        if taught is None or taught.observed is None:
            return lines
        old = evidence_line(taught, label, self._label, own=own)
        mine = float(taught.observed)
        rivals = [
            (float(e.observed), r.label or self._label(r.tradition))
            for r in getattr(getattr(pred, "fused", None), "ranking", ())
            if r.tradition != top.tradition
            for e in r.evidence
            if e.kind == "fewshot" and e.observed is not None
        ]
        better = max((x for x in rivals if x[0] > mine), default=None)
        if float(taught.contribution) < 0:
            new = f"not much like your confirmed photos of {label}"
        elif better is not None:
            new = (
                f"like your confirmed photos of {label} enough to count for it, though more "
                f"like those of {better[1]}"
            )
        elif rivals:
            new = f"most like your confirmed photos of {label}, of the traditions you taught"
        else:
            new = f"like your confirmed photos of {label} enough to count for it"
        return [(sign, new if line == old else line) for sign, line in lines]

    def _details_html(self, ranking: Sequence[Any], pred: Any, *, level: bool = True) -> str:
        """The analyst's figures: what each piece of evidence adds to the answer's score, the
        visual-only ranking, doubts; `level` False: said not to be odds."""
        if not ranking:
            return ""
        top = ranking[0]
        lines = [
            html.escape(ev.text.replace(" -> ", " → "))
            for ev in sorted(top.evidence, key=lambda e: -abs(e.contribution))
        ]
        visual = ", ".join(
            f"{html.escape(self._label(t))} {_hpct(p)}" for t, p in list(pred.visual)[:5]
        )
        parts = [
            "<b>Evidence for the top answer</b> (the number after each line is what it adds "
            "to the answer's score, or takes from it; the higher a tradition's score, the "
            "higher it ranks):<br>" + "<br>".join(lines),
            f"<b>The model alone</b> (before the knowledge graph): {visual}",
        ]
        spread = float(pred.fused.spread)
        if spread != 1.0:
            parts.insert(
                1,
                f"<b>Scores made percentages at spread {spread:.3g}</b>: each score is divided "
                f"by {spread:.3g} before the scores are turned into shares of 100% (the larger "
                "the spread, the closer together the shares). It is the spread at which your "
                "confirmed photos, each held back in turn, were given their own tradition most "
                "likely",
            )
        if not level:
            parts.insert(
                0,
                "<b>No level is claimed for this answer</b>: the figures below are the app's "
                "workings, not odds",
            )
        if pred.uncertain_reasons:
            parts.append(
                "<b>Doubts, as measured</b>:<br>"
                + "<br>".join(html.escape(r) for r in pred.uncertain_reasons)
            )
        return "<div style='color:#4a463f'>" + "<br><br>".join(parts) + "</div>"
