"""The strip of most similar sarees: by the cloth, the whole saree or one part; all of them,
or those the curator confirmed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.gui.flow import FlowLayout
from saree_app.gui.items import UNCERTAIN, Item
from saree_app.gui.qtfix import emit
from saree_app.gui.thumbs import ThumbnailLoader

MODES = (
    ("cloth", "Cloth"),
    ("whole", "Whole saree"),
    ("border", "Border"),
    ("pallu", "Pallu"),
    ("body", "Body"),
)
# What each way of comparing looks at, in a curator's words (the buttons' tips).
MODE_TIPS = {
    "cloth": "Alike as photographed: the cloth's colours, weave and motifs, seen whole and close "
    "up. On real photographs this finds sarees of the same tradition most often.",
    "whole": "Alike as the model sees the whole saree (it learnt from drawn sarees)",
    "border": "Sarees with a border like this one, as the model sees it",
    "pallu": "Sarees with a pallu like this one, as the model sees it",
    "body": "Sarees with a body like this one, as the model sees it",
}
_ICON = QSize(96, 96)
# What a click and a double-click on a match do (each match's tip ends with it).
CLICK_TIP = "Click to compare, double-click to open"
HOW_TO = "Click a saree to compare it with this one; double-click to open it."
# Matches less alike than this (cosine similarity) are not shown: "0% alike" helps nobody.
MIN_SIMILARITY = 0.05


class SimilarStrip(QWidget):
    """Shows (item, similarity) pairs; a click asks for a side-by-side comparison."""

    modeChanged = Signal(str)
    filterChanged = Signal(bool)
    compareRequested = Signal(int)
    openRequested = Signal(int)

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("similarStrip")
        self._loader = loader
        self._label: Callable[[str], str] = lambda t: t
        self._scores: dict[int, float] = {}
        self.hidden = 0  # matches left out as hardly alike
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(4)
        head = QHBoxLayout()
        self.title = QLabel("Similar sarees", self)
        self.title.setObjectName("similarTitle")
        self.title.setProperty("role", "section")
        head.addWidget(self.title)
        head.addStretch(1)
        self.confirmed_box = QCheckBox("Confirmed only", self)
        self.confirmed_box.setToolTip(
            "Only photos you have confirmed: the sarees teaching compares this one with"
        )
        self.confirmed_box.toggled.connect(lambda on: emit(self.filterChanged, bool(on)))
        self._group = QButtonGroup(self)
        self.mode_buttons: dict[str, QPushButton] = {}
        # On the title's right while there is room; on a narrow window they wrap onto a second
        # row instead of making the page (and the window) wider than a 1024 px screen.
        self.modes = QWidget(self)
        self.modes.setObjectName("similarModes")
        modes = FlowLayout(self.modes, spacing=4)
        modes.setContentsMargins(0, 0, 0, 0)
        for key, text in MODES:
            b = QPushButton(text, self.modes)
            b.setCheckable(True)
            b.setProperty("role", "segment")
            b.setToolTip(MODE_TIPS[key])
            self._group.addButton(b)
            self.mode_buttons[key] = b
            modes.addWidget(b)
        head.addWidget(self.modes)
        self.mode_buttons["cloth"].setChecked(True)
        self._group.buttonClicked.connect(lambda _b: emit(self.modeChanged, self.mode()))
        lay.addLayout(head)
        self.list = QListWidget(self)
        self.list.setObjectName("similarList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(_ICON)
        # Two lines under each thumbnail: the tradition's name and how alike it is.
        self.list.setGridSize(QSize(132, 96 + 2 * self.fontMetrics().height() + 14))
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setFixedHeight(self.list.gridSize().height() + 22)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.setToolTip(CLICK_TIP)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemDoubleClicked.connect(
            lambda it: emit(self.openRequested, int(it.data(Qt.ItemDataRole.UserRole)))
        )
        lay.addWidget(self.list)
        self.empty = QLabel("", self)
        self.empty.setProperty("role", "hint")
        self.empty.setWordWrap(True)
        # Under the matches, beside what is said of them: the head row holds the title and the
        # ways of comparing, and an object's title needs its room at 1280 px.
        # ... or, when there is nothing else to say, what a click and a double-click do: a
        # tooltip alone left opening a match undiscovered.
        self.how = QLabel(HOW_TO, self)
        self.how.setObjectName("similarHow")
        self.how.setProperty("role", "hint")
        self.how.setWordWrap(True)
        self.how.hide()
        foot = QHBoxLayout()
        foot.addWidget(self.empty, 1)
        foot.addWidget(self.how, 1)
        foot.addWidget(self.confirmed_box, 0, Qt.AlignmentFlag.AlignRight)
        lay.addLayout(foot)
        loader.ready.connect(self._thumb_ready)
        self.set_results([], "Select a photo to see similar sarees.")

    def set_labeller(self, labeller: Callable[[str], str]) -> None:
        self._label = labeller

    def mode(self) -> str:
        return next(k for k, b in self.mode_buttons.items() if b.isChecked())

    def confirmed_only(self) -> bool:
        return self.confirmed_box.isChecked()

    def set_mode(self, key: str) -> None:
        """Start comparing this way (the collection's default), without a search of its own."""
        if key in self.mode_buttons:
            self.mode_buttons[key].setChecked(True)

    def set_results(
        self,
        results: Sequence[tuple[Item, float]],
        empty_text: str = "",
        *,
        accession: str | None = None,
        photos: int = 1,
        note: str = "",
    ) -> None:
        """Show matches; with `accession`, they are for that object's `photos` photos searched
        together (its own photos left out, each other object once); `note` is said under them
        (how they were compared, where that is not the button's way)."""
        self.list.clear()
        if accession:
            self.title.setText(f"Sarees like object {accession}")
            self.title.setToolTip(
                f"All {photos} photos of object {accession} searched together; its own photos "
                "are left out and another object counts once, by its most alike photo"
            )
        else:
            self.title.setText("Similar sarees")
            self.title.setToolTip("")
        shown = [(item, float(s)) for item, s in results if float(s) >= MIN_SIMILARITY]
        self.hidden = len(results) - len(shown)
        self._scores = {item.id: score for item, score in shown}
        for item, score in shown:
            wi = QListWidgetItem()
            wi.setData(Qt.ItemDataRole.UserRole, item.id)
            self._describe(wi, item, score)
            pm = self._loader.pixmap(item.id)
            if pm is None:
                self._loader.request(item.id, item.path)
                pm = QPixmap(_ICON)
                pm.fill(Qt.GlobalColor.transparent)
            wi.setIcon(QIcon(pm))
            self.list.addItem(wi)
        self.list.setVisible(bool(shown))
        if self.hidden:
            n, floor = self.hidden, f"{MIN_SIMILARITY:.0%}"
            if shown:
                said = f"{n} more {'is' if n == 1 else 'are'} less than {floor} alike, not shown."
            else:
                said = (
                    "No saree in the collection is much like this one "
                    f"({n} {'is' if n == 1 else 'are'} less than {floor} alike)."
                )
        elif self.confirmed_only():
            said = empty_text or (
                "None of your confirmed photos is like this one yet: confirm photos and they "
                "appear here."
            )
        else:
            said = empty_text or "No similar sarees yet: import more photos."
        if shown and not self.hidden:
            said = ""
        self.empty.setText(" ".join(x for x in (note, said) if x))
        self.empty.setVisible(bool(self.empty.text()))
        self.how.setVisible(bool(shown) and not self.empty.text())

    def _describe(self, wi: QListWidgetItem, item: Item, score: float) -> None:
        """The tradition and how alike under the thumbnail; who and whose word in its tip."""
        trad = self._label(item.tradition) if item.tradition else "not classified"
        # As the collection's cells say it: an answer flagged uncertain carries a question
        # mark, so a guess among the matches is not read as a known tradition.
        shown = f"{trad}?" if item.status == UNCERTAIN and item.tradition else trad
        width = self.list.gridSize().width() - 8
        name = self.list.fontMetrics().elidedText(shown, Qt.TextElideMode.ElideRight, width)
        wi.setText(f"{name}\n{score:.0%} alike")
        state = "confirmed by you" if item.confirmed else "the model's answer"
        if item.status == UNCERTAIN:
            state += ", flagged uncertain"
        what = f"object {item.accession} (best match: {item.name})" if item.accession else item.name
        wi.setToolTip(f"{what}\n{trad} ({state})\n{score:.0%} alike\n{CLICK_TIP}")

    def update_items(self, items: Sequence[Item]) -> int:
        """Photos whose answer or label changed (a re-rank, a decision): their entries say the
        new tradition; how many entries changed."""
        by_id = {it.id: it for it in items}
        n = 0
        for i in range(self.list.count()):
            wi = self.list.item(i)
            key = int(wi.data(Qt.ItemDataRole.UserRole))
            if key in by_id and key in self._scores:
                self._describe(wi, by_id[key], self._scores[key])
                n += 1
        if n:
            # A shorter name leaves the old one's pixels behind unless the whole strip is laid
            # out and painted again.
            self.list.doItemsLayout()
            self.list.viewport().update()
        return n

    def score_of(self, item_id: int) -> float | None:
        return self._scores.get(item_id)

    def result_ids(self) -> list[int]:
        return [
            int(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
        ]

    def _clicked(self, wi: QListWidgetItem) -> None:
        emit(self.compareRequested, int(wi.data(Qt.ItemDataRole.UserRole)))

    def _thumb_ready(self, key: object) -> None:
        for i in range(self.list.count()):
            wi = self.list.item(i)
            if wi.data(Qt.ItemDataRole.UserRole) == key:
                pm = self._loader.pixmap(key)
                if pm is not None:
                    wi.setIcon(QIcon(pm))
