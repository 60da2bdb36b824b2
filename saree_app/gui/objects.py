"""Objects in the window: the current photo's object, its record editor, grouping by hand.

The logic is collection/objects.py; this module only shows it. `ObjectDesk` hooks into the
window (one line there): a compact panel above "Your decision" on the photo page, an Objects
menu, and "Group into an object" / "Take out of its object" on the collection grid.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from saree_app.collection import objects
from saree_app.collection.catalog import Catalog, CatalogError
from saree_app.collection.fewshot import stored_set_claims_level
from saree_app.gui.library import Decision
from saree_app.gui.qtfix import emit
from saree_app.gui.thumbs import ThumbnailLoader
from saree_app.knowledge.words import pct

Labeller = Callable[[str], str]
_THUMB = 48  # the record editor's photo thumbnails, px


def object_claims_level(ans: objects.ObjectAnswer, catalog: Catalog | None = None) -> bool:
    """Whether an object's answer is stated with percentages as odds: with `catalog`, not
    when one of its photos' stored answers claims no level (collection.fewshot
    .stored_set_claims_level: its answer set by the model's own calibration, re-ranked by
    teaching not yet checked or unlike the photos the model learnt from: the rule the photo
    page and the exports state those answers by). Being flagged uncertain alone does not take
    the figures away, as it does not on the photo page: an object of one photo is said as its
    photo is. Without `catalog`, it claims its level."""
    if catalog is None:
        return True
    for voice in ans.photos:
        stored = catalog.prediction(voice.photo_id, ans.model_sha256)
        found = (stored.result or {}).get("answer_set") if stored is not None else None
        if not stored_set_claims_level(found):
            return False
    return True


def disagreement_words(ans: objects.ObjectAnswer) -> str:
    """Where the object's record says it was made elsewhere than the model's likely state, in
    plain words (`ObjectAnswer.disagrees`); "" when they agree or either is not known."""
    if not ans.disagrees:
        return ""
    return f"Your record and the model's answer disagree: {ans.disagrees}."


# How an object's answer that claims no level is said, beside its name.
NO_LEVEL = "no level claimed: read it as a lead"


def answer_html(
    ans: objects.ObjectAnswer, names: dict[int, str] | None = None, *, level: bool | None = None
) -> str:
    """An object's answer in a curator's words: the answer, what each photo said, the record,
    and where the record's place made and the model's likely state part ways. `level` False
    (`object_claims_level` with the catalogue; by default a level is claimed): no percentage
    is given as odds, the traditions are named in order."""
    names = names or {}
    top = ans.top
    if level is None:
        level = object_claims_level(ans)

    def figure(p: float) -> str:
        return f" {pct(p)}" if level else ""

    head = f"<p><b>{html.escape(top.label)}{figure(top.probability)}</b>"
    if ans.uncertain:
        head += " · <span style='color:#a86a12'>uncertain</span>"
    if not level:
        head += f" · <span style='color:#7a746a'>{html.escape(NO_LEVEL)}</span>"
    rest = ", ".join(f"{html.escape(r.label)}{figure(r.probability)}" for r in ans.ranking[1:3])
    if rest:
        head += f"<br>then {rest}"
    if ans.states:
        head += f"<br>most likely from {html.escape(ans.states[0][0])}{figure(ans.states[0][1])}"
    parts = [head + "</p>"]
    n = len(ans.photos)
    rows = []
    for v in ans.photos:
        own = next((r.label for r in ans.ranking if r.tradition == v.tradition), v.tradition)
        who = html.escape(names.get(v.photo_id, f"photo {v.photo_id}"))
        how = "" if v.through == "the whole photo" else f"; heard through {html.escape(v.through)}"
        flag = ", flagged uncertain" if v.uncertain and not level else ""
        rows.append(
            f"<li><b>{who}</b> · {objects.ROLE_NAMES.get(v.role, v.role)}, {v.weight:.0%} of "
            f"the answer<br>on its own: {html.escape(str(own))}{figure(v.probability)}{flag}"
            f"{how}</li>"
        )
    parts.append(
        f"<p>Its {n} photo{'s' if n != 1 else ''}:</p><ul style='margin-left:-20px'>"
        + "".join(rows)
        + "</ul>"
    )
    if ans.record:
        parts.append("<p>" + "<br>".join(html.escape(_first_up(x)) for x in ans.record) + "</p>")
    if ans.disagrees:
        parts.append(f"<p style='color:#a86a12'>{html.escape(disagreement_words(ans))}</p>")
    if ans.reasons:
        parts.append(
            "<p><i>" + "<br>".join(html.escape(_first_up(r)) for r in ans.reasons) + "</i></p>"
        )
    return "".join(parts)


def object_jsonld(catalog: Catalog, obj: objects.SareeObject, graph: Any = None) -> str:
    """One object as a Linked Art JSON-LD document: its record, tradition and photos (the
    same node the whole catalogue's JSON-LD export holds for it)."""
    import json

    from saree_app.collection import export
    from saree_app.collection.iiif import sources

    obj = objects.need_object(catalog, obj.id)  # as saved now
    own = set(obj.photo_ids)
    by_photo = {r.values["id"]: r for r in export.rows(catalog, graph) if r.values["id"] in own}
    node = export.jsonld_saree_object(
        catalog, obj, [by_photo[p] for p in obj.photo_ids if p in by_photo], graph, sources(catalog)
    )
    return json.dumps({"@context": export.CONTEXT, **node}, ensure_ascii=False, indent=1) + "\n"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


# What the object section says with no photo shown (a new, empty collection).
NO_PHOTO = "No photo selected."


class ObjectPanel(QFrame):
    """The current photo's object, in three lines, with buttons to open or group it."""

    openRequested = Signal()
    groupRequested = Signal()
    ungroupRequested = Signal()
    confirmRequested = Signal(str)  # the object's answer, for all its photos

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("objectPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 8, 14, 8)
        lay.setSpacing(4)
        head = QLabel("Object", self)
        head.setProperty("role", "section")
        lay.addWidget(head)
        self.title = QLabel("", self)
        self.title.setObjectName("objectTitle")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.answer = QLabel("", self)
        self.answer.setObjectName("objectAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.PlainText)  # names and the record's places
        lay.addWidget(self.answer)
        self.confirm = QPushButton("", self)
        self.confirm.setObjectName("confirmObjectPanel")
        self.confirm.setToolTip(
            "Label every photo of this object with the object's answer (Undo takes it back)"
        )
        lay.addWidget(self.confirm)
        self._tradition: str | None = None
        row = QHBoxLayout()
        row.setSpacing(6)
        self.open = QPushButton("Record…", self)
        self.open.setToolTip("The object's record: accession number, source, dates, fibre…")
        self.group = QPushButton("Group into an object…", self)
        self.group.setToolTip("Make the selected photos one object (one saree)")
        self.ungroup = QPushButton("Take out", self)
        self.ungroup.setToolTip("Take this photo out of its object (the photo stays)")
        for b in (self.open, self.group, self.ungroup):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.open.clicked.connect(lambda: emit(self.openRequested))
        self.group.clicked.connect(lambda: emit(self.groupRequested))
        self.ungroup.clicked.connect(lambda: emit(self.ungroupRequested))
        self.confirm.clicked.connect(self._confirm_clicked)
        self.show_none()

    def _confirm_clicked(self) -> None:
        if self._tradition is not None:
            emit(self.confirmRequested, self._tradition)

    def show_none(self, text: str = "This photo is not part of an object.") -> None:
        """No object to show: the photo shown has none (it can be grouped), or, with
        NO_PHOTO, no photo is shown (nothing to group)."""
        self.title.setText(text)
        self.answer.setText("")
        self.answer.hide()
        self.confirm.hide()
        self._tradition = None
        self.open.hide()
        self.ungroup.hide()
        self.group.setVisible(text != NO_PHOTO)

    def show_object(
        self,
        obj: objects.SareeObject,
        role: str | None,
        ans: objects.ObjectAnswer | None,
        why: str,
        *,
        decided: bool = False,
        level: bool | None = None,
    ) -> None:
        """`decided`: every photo is already confirmed as the object's answer (no button).
        `level` False (`object_claims_level` with the catalogue; by default a level is
        claimed): no percentage is given as odds. Where the record's place made and the
        model's likely state part ways, a line says so."""
        n = len(obj.photos)
        title = f" · {obj.title}" if obj.title else ""
        shows = objects.ROLE_NAMES.get(role or "", role or "")
        self.title.setText(
            f"{obj.accession}{title}\n{n} photo{'s' if n != 1 else ''}; this one: {shows}"
        )
        self._tradition = None
        self.confirm.hide()
        if ans is not None and decided:
            # The curator's word, not the model's doubt about it.
            every = "Its photo is" if n == 1 else f"All {n} photos are"
            self.answer.setText(f"✔ {every} confirmed as {ans.top.label}.")
        elif ans is not None:
            if level is None:
                level = object_claims_level(ans)
            if level:
                flag = " (uncertain)" if ans.uncertain else ""
                said = f"{ans.top.label} {pct(ans.top.probability)}{flag}"
            else:
                flag = "uncertain, " if ans.uncertain else ""
                said = f"{ans.top.label} ({flag}{NO_LEVEL})"
            self.answer.setText(f"The object's answer: {said}")
            self._tradition = ans.top.tradition
            self.confirm.setText(f"Confirm {ans.top.label} for all {n} photos")
            self.confirm.show()
        else:
            self.answer.setText(why)
        differs = disagreement_words(ans) if ans is not None else ""
        if differs:
            self.answer.setText(f"{self.answer.text()}\n{differs}")
        self.answer.show()
        self.open.show()
        self.ungroup.show()
        self.group.hide()


class ObjectDialog(QDialog):
    """The record editor: accession number, the record's fields, what each photo shows, and the
    object's fused answer. Saving a new object groups its photos; a bad entry is named in one
    line and the form keeps everything typed."""

    saved = Signal(str)  # accession
    confirmed = Signal(str, list)  # tradition, photo ids

    def __init__(
        self,
        catalog: Catalog,
        graph: Any,
        obj: objects.SareeObject | None,
        photo_ids: Sequence[int] = (),
        *,
        names: dict[int, str] | None = None,
        decide: Callable[[objects.SareeObject, str], list[int] | None] | None = None,
        thumbs: ThumbnailLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`decide(obj, tradition)` labels the object's photos (the window's way: Undo and a
        re-rank of the rest) and returns their ids, or None when it did not; without it the
        catalogue is labelled directly."""
        super().__init__(parent)
        self.setObjectName("objectDialog")
        self.catalog, self.graph, self.obj = catalog, graph, obj
        self._decide = decide
        self._thumbs = thumbs
        self.names = dict(names or {})
        self.setWindowTitle(f"Object {obj.accession}" if obj else "New object")
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.edits: dict[str, QLineEdit] = {}
        self.accession = QLineEdit(obj.accession if obj else objects.next_accession(catalog))
        self.accession.setObjectName("accession")
        form.addRow(objects.FIELD_NAMES["accession"], self.accession)
        self.exists_hint = QLabel("", self)
        self.exists_hint.setObjectName("accessionExists")
        self.exists_hint.setProperty("role", "hint")
        self.exists_hint.setWordWrap(True)
        self.exists_hint.hide()
        form.addRow("", self.exists_hint)
        if obj is None:
            self.accession.textChanged.connect(self._accession_changed)
        for name in ("title", "source", "date_acquired", "place_acquired", "place_made"):
            edit = QLineEdit(self)
            edit.setObjectName(name)
            form.addRow(objects.FIELD_NAMES[name], edit)
            self.edits[name] = edit
        self.edits["date_acquired"].setPlaceholderText("1987, 1987-05 or 1987-05-17")
        self.edits["place_acquired"].setPlaceholderText("a town or state, e.g. Patan, Gujarat")
        made = QHBoxLayout()
        for name, hint in (("made_from", "from (year)"), ("made_to", "to (year)")):
            edit = QLineEdit(self)
            edit.setObjectName(name)
            edit.setPlaceholderText(hint)
            made.addWidget(edit)
            self.edits[name] = edit
        form.addRow("Date made", made)
        self.fibre = QComboBox(self)
        self.fibre.setObjectName("fibre")
        self.fibre.setEditable(True)
        self.fibre.addItem("")
        if graph is not None:
            for f in graph.fibres():
                self.fibre.addItem(str(graph.label(f)))
        form.addRow(objects.FIELD_NAMES["fibre"], self.fibre)
        cond = QLineEdit(self)
        cond.setObjectName("condition")
        form.addRow(objects.FIELD_NAMES["condition"], cond)
        self.edits["condition"] = cond
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("notes")
        self.notes.setFixedHeight(64)
        form.addRow(objects.FIELD_NAMES["notes"], self.notes)
        left.addLayout(form)

        self.photos = QTableWidget(0, 2, self)
        self.photos.setObjectName("objectPhotos")
        self.photos.setHorizontalHeaderLabels(["Photo", "Shows"])
        self.photos.verticalHeader().hide()
        self.photos.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.photos.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.photos.setMinimumHeight(110)
        self.photos.setIconSize(QSize(_THUMB, _THUMB))  # which photo is which, at a glance
        self.photos.verticalHeader().setDefaultSectionSize(_THUMB + 6)
        if thumbs is not None:
            thumbs.ready.connect(self._thumb_ready)
        left.addWidget(QLabel("Its photos", self))
        left.addWidget(self.photos, 1)
        self.error = QLabel("", self)
        self.error.setObjectName("objectError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        left.addWidget(self.error)
        outer.addLayout(left, 3)

        right = QVBoxLayout()
        head = QLabel("What its photos say together", self)
        head.setProperty("role", "section")
        right.addWidget(head)
        self.answer = QLabel("", self)
        self.answer.setObjectName("objectDialogAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.answer.setMinimumWidth(300)
        right.addWidget(self.answer, 1)
        self.confirm = QPushButton("Confirm for all its photos", self)
        self.confirm.setObjectName("confirmObject")
        self.confirm.setToolTip("Label every photo of this object with the object's answer")
        right.addWidget(self.confirm)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("exportObject")
        self.export_button.setToolTip(
            "This object's record, answer and photos as a Linked Art (JSON-LD) file"
        )
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        self.save = QPushButton("Save", self)
        self.save.setDefault(True)
        self.close_button = QPushButton("Close", self)
        buttons.addWidget(self.save)
        buttons.addWidget(self.close_button)
        right.addLayout(buttons)
        outer.addLayout(right, 2)

        self.save.clicked.connect(self.store)
        self.close_button.clicked.connect(self.reject)
        self.confirm.clicked.connect(self.confirm_answer)
        self.export_button.clicked.connect(lambda: self.export_to(None))
        self._fill(obj, photo_ids)

    # ---------------------------------------------------------------- contents
    def _fill(self, obj: objects.SareeObject | None, photo_ids: Sequence[int]) -> None:
        if obj is not None:
            for name, edit in self.edits.items():
                edit.setText(obj.get(name) or "")
            self.fibre.setCurrentText(obj.get("fibre") or "")
            self.notes.setPlainText(obj.get("notes") or "")
            rows = [(m.photo_id, m.role) for m in obj.photos]
        else:
            rows = []
            for pid in photo_ids:
                photo = self.catalog.photo(pid)
                rows.append((pid, objects.guess_role(photo.path) if photo else "whole"))
        self.photos.setRowCount(len(rows))
        for i, (pid, role) in enumerate(rows):
            name = self.names.get(pid) or self._name(pid)
            cell = QTableWidgetItem(name)
            cell.setData(Qt.ItemDataRole.UserRole, pid)
            cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.photos.setItem(i, 0, cell)
            self._set_thumb(cell, pid)
            combo = QComboBox(self.photos)
            for r in objects.ROLES:
                combo.addItem(objects.ROLE_NAMES[r], r)
            combo.setCurrentIndex(objects.ROLES.index(role) if role in objects.ROLES else 0)
            self.photos.setCellWidget(i, 1, combo)
        self.show_answer()

    def _set_thumb(self, cell: QTableWidgetItem, pid: int) -> None:
        if self._thumbs is None:
            return
        pm = self._thumbs.pixmap(pid)
        if pm is not None:
            cell.setIcon(QIcon(pm))
            return
        photo = self.catalog.photo(pid)
        if photo is not None:
            self._thumbs.request(pid, Path(photo.path))

    def _thumb_ready(self, key: object) -> None:
        for i in range(self.photos.rowCount()):
            cell = self.photos.item(i, 0)
            if cell is not None and cell.data(Qt.ItemDataRole.UserRole) == key:
                self._set_thumb(cell, int(cell.data(Qt.ItemDataRole.UserRole)))

    def _accession_changed(self, text: str) -> None:
        """A new object given a number already catalogued: say that Save adds to it."""
        found = objects.get_object(self.catalog, text.strip()) if text.strip() else None
        if found is not None and self.obj is None:
            n = len(found.photos)
            self.exists_hint.setText(
                f"{found.accession} is catalogued already ({_count(n, 'photo')}): Save adds "
                "these photos to it and keeps its record, except what you type here."
            )
        self.exists_hint.setVisible(found is not None and self.obj is None)

    def _name(self, pid: int) -> str:
        photo = self.catalog.photo(pid)
        return Path(photo.path).name if photo else f"photo {pid}"

    def show_answer(self) -> None:
        """The object's fused answer as stored now (after a save: with the new record)."""
        self.confirm.setEnabled(False)
        self.export_button.setEnabled(self.obj is not None)
        if self.obj is None:
            self.answer.setText("Save to see what its photos say together.")
            return
        try:
            ans = objects.fuse_object(self.catalog, self.obj, graph=self.graph)
        except CatalogError as exc:
            self.answer.setText(html.escape(str(exc)))
            return
        names = {pid: self.names.get(pid) or self._name(pid) for pid in self.obj.photo_ids}
        level = object_claims_level(ans, self.catalog)
        self.answer.setText(answer_html(ans, names, level=level) + self._similar_html())
        self._answer = ans
        self.confirm.setText(f"Confirm {ans.top.label} for all its photos")
        self.confirm.setEnabled(True)

    def _similar_html(self, k: int = 4) -> str:
        """The sarees most like this one, an object counted once (empty when none)."""
        if self.obj is None:
            return ""
        try:
            found = objects.similar_objects(self.catalog, self.obj, k=k)
        except CatalogError:
            return ""
        rows = []
        for m in found:
            if m.accession:
                who = f"object {html.escape(m.accession)}"
                if m.title:
                    who += f" · {html.escape(m.title)}"
            else:
                who = html.escape(Path(m.path).name)
            rows.append(f"<li>{who}: {m.score:.0%} alike</li>")
        if not rows:
            return ""
        return "<p>Most like it:</p><ul style='margin-left:-20px'>" + "".join(rows) + "</ul>"

    def values(self) -> tuple[str, dict[str, str | None], list[tuple[int, str]]]:
        """(accession, fields, [(photo id, role)]) as the form holds them."""
        fields: dict[str, str | None] = {k: e.text() for k, e in self.edits.items()}
        fields["fibre"] = self.fibre.currentText()
        fields["notes"] = self.notes.toPlainText()
        roles = []
        for i in range(self.photos.rowCount()):
            cell = self.photos.item(i, 0)
            combo = self.photos.cellWidget(i, 1)
            if cell is None or not isinstance(combo, QComboBox):
                continue
            roles.append((int(cell.data(Qt.ItemDataRole.UserRole)), str(combo.currentData())))
        return self.accession.text(), fields, roles

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # ---------------------------------------------------------------- actions
    def store(self) -> bool:
        """Write the form to the catalogue; False (and the reason shown) when it cannot be."""
        acc, fields, roles = self.values()
        cat = self.catalog
        existing = objects.get_object(cat, acc.strip()) if self.obj is None else None
        if existing is not None:
            # Adding photos to an object already catalogued: its record stays, except for
            # what was typed here; its photos keep their roles.
            fields = {k: v for k, v in fields.items() if v and v.strip()}
        try:
            with cat.transaction():
                if self.obj is None:
                    obj = objects.group(cat, [p for p, _ in roles], acc)
                    if fields:
                        obj = objects.update_object(cat, obj.id, fields)
                else:
                    obj = objects.update_object(cat, self.obj.id, fields, accession=acc)
                if roles:
                    obj = objects.add_photos(
                        cat, obj.id, [p for p, _ in roles], [r for _, r in roles]
                    )
        except CatalogError as exc:
            self.set_error(str(exc))
            return False
        self.set_error("")
        self.obj = obj
        self.exists_hint.hide()
        self.setWindowTitle(f"Object {obj.accession}")
        if existing is not None:
            self._fill(obj, obj.photo_ids)  # the whole record and all its photos
        else:
            self.show_answer()
        emit(self.saved, obj.accession)
        return True

    def export_to(self, path: Path | None) -> Path | None:
        """Write this object (as saved) to a Linked Art JSON-LD file; None asks where. A file
        that cannot be written is one line in the form."""
        from saree_app.collection.export import write_atomic

        if self.obj is None:
            self.set_error("Save the object first: only a saved record can be exported.")
            return None
        if path is None:
            safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in self.obj.accession)
            start = str(self.catalog.path.with_name(f"{safe}.jsonld"))
            chosen, _ = QFileDialog.getSaveFileName(
                self, f"Export object {self.obj.accession}", start, "JSON-LD (*.jsonld *.json)"
            )
            if not chosen:
                return None
            path = Path(chosen)
        try:
            write_atomic(path, object_jsonld(self.catalog, self.obj, self.graph))
        except (CatalogError, OSError) as exc:
            self.set_error(f"Not exported: {exc}")
            return None
        self.set_error("")
        self.exported = path
        return path

    def confirm_answer(self) -> None:
        ans = getattr(self, "_answer", None)
        if ans is None or self.obj is None:
            return
        if self._decide is not None:
            done = self._decide(self.obj, ans.top.tradition)
            if done is None:
                return
            ids = done
        else:
            try:
                ids = objects.confirm_object(self.catalog, self.obj.id, ans.top.tradition)
            except CatalogError as exc:
                self.set_error(str(exc))
                return
        emit(self.confirmed, ans.top.tradition, ids)
        self.confirm.setText(f"Confirmed {ans.top.label} for {len(ids)} photos")
        self.confirm.setEnabled(False)


# Built-in file-name rule: "T.1990.4_border.jpg", "T.1990.4 pallu.jpg" -> T.1990.4 (its part).
PREFIX_PATTERN = r"^(?P<accession>[^_ ]+)[_ ](?P<role>[^._ -]+)?"


class GroupDialog(QDialog):
    """Group imported photos into objects: one per sub-folder, or by their file names. A bad
    choice is named in one line and the dialog keeps what was typed."""

    def __init__(self, catalog: Catalog, folder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("groupDialog")
        self.setWindowTitle("Group photos into objects")
        self.catalog = catalog
        self.result_: objects.Grouping | None = None
        lay = QVBoxLayout(self)
        intro = QLabel(
            "Photos of one saree (whole, border, pallu, reverse) become one object under one\n"
            "accession number. Photos already in an object stay where they are.",
            self,
        )
        lay.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel("Folder:", self))
        self.folder = QLineEdit(folder, self)
        self.folder.setObjectName("groupFolder")
        row.addWidget(self.folder, 1)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        lay.addLayout(row)
        self.by_folder = QRadioButton(
            "Each sub-folder is one saree; its name is the accession number", self
        )
        self.by_prefix = QRadioButton(
            "File names start with the accession number, e.g. T.1990.4_border.jpg", self
        )
        self.by_pattern = QRadioButton("File names match my pattern:", self)
        self.by_folder.setChecked(True)
        for b in (self.by_folder, self.by_prefix, self.by_pattern):
            lay.addWidget(b)
        self.pattern = QLineEdit(self)
        self.pattern.setObjectName("groupPattern")
        self.pattern.setPlaceholderText(r"a regular expression, e.g. (?P<accession>[A-Z]+\d+)")
        self.pattern.setEnabled(False)
        self.by_pattern.toggled.connect(self.pattern.setEnabled)
        lay.addWidget(self.pattern)
        self.error = QLabel("", self)
        self.error.setObjectName("groupError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.ok = QPushButton("Group", self)
        self.ok.setDefault(True)
        cancel = QPushButton("Cancel", self)
        buttons.addWidget(self.ok)
        buttons.addWidget(cancel)
        lay.addLayout(buttons)
        self.ok.clicked.connect(self.run)
        cancel.clicked.connect(self.reject)
        self.setMinimumWidth(600)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "The folder of the photos", self.folder.text()
        )
        if chosen:
            self.folder.setText(chosen)

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        if self.isVisible():
            self.adjustSize()  # taller for a wrapped message, never cut

    def _why_nothing(self, folder: str, done: objects.Grouping) -> str:
        if done.unmatched:
            return f"{_count(len(done.unmatched), 'photo')} in that folder named no object"
        if done.elsewhere:
            return "Those photos are already in other objects"
        base = Path(folder).resolve()
        if not any(base in Path(p.path).resolve().parents for p in self.catalog.photos()):
            return "No photo of the collection is in that folder"
        return "Every photo in that folder is already in its object"

    def run(self) -> bool:
        """Group as chosen; on success the dialog closes with the result in `result_`."""
        folder = self.folder.text().strip()
        if not folder or not Path(folder).is_dir():
            where = f" ({folder} is not a folder)" if folder else ""
            self.set_error(f"Choose the folder the photos were imported from{where}.")
            return False
        if self.by_folder.isChecked():
            mode, pattern = "folder", None
        elif self.by_prefix.isChecked():
            mode, pattern = "pattern", PREFIX_PATTERN
        else:
            mode, pattern = "pattern", self.pattern.text().strip()
            if not pattern:
                self.set_error("Type the pattern, or choose another way to group.")
                return False
        try:
            done = objects.group_photos(self.catalog, folder, mode, pattern)
        except CatalogError as exc:
            self.set_error(_first_up(str(exc)) + ".")
            return False
        if not done.objects:
            self.set_error(self._why_nothing(folder, done) + ": nothing was grouped.")
            return False
        self.set_error("")
        self.result_ = done
        self.accept()
        return True


@dataclass(frozen=True)
class ObjectChange(Decision):
    """Grouping undone by hand (ungroup, take out) on the window's Undo list: `restore` puts
    it back and says so."""

    restore: Callable[[], str] = lambda: ""


class ObjectDesk(QObject):
    """Connects objects to the window: the panel on the photo page, the Objects menu, the grid's
    group and ungroup actions, and undo of an ungroup."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self.dialog: ObjectDialog | None = None
        side = window.photo.curator.parentWidget()
        self.panel = ObjectPanel(side)
        layout = side.layout()
        if layout is not None:
            layout.insertWidget(0, self.panel)
        self.panel.openRequested.connect(self.open_record)
        self.panel.groupRequested.connect(self.group_selected)
        self.panel.ungroupRequested.connect(self.take_out_current)
        self.panel.confirmRequested.connect(self.confirm_current)

        def act(text: str, slot: Callable[[], Any], shortcut: Any = None) -> QAction:
            a = QAction(text, window)
            a.triggered.connect(lambda _checked=False: slot())
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            window.addAction(a)
            return a

        self.act_group = act(
            "&Group selected photos into an object…", self.group_selected, "Ctrl+G"
        )
        self.act_take_out = act("&Take selected photos out of their object", self.take_out_selected)
        self.act_group_folder = act("Group photos &by folder or file name…", self.group_by_folder)
        self.act_record = act("Object &record…", self.open_record, "Ctrl+Shift+R")
        self.act_ungroup = act("&Ungroup this object (keep its photos)", self.ungroup_current)
        self.act_csv = act("Export objects as &CSV…", lambda: self.export("csv"))
        self.act_json = act("Export objects as &JSON…", lambda: self.export("json"))
        bar = window.menuBar()
        menu = QMenu("&Objects", bar)
        menu.setObjectName("objectsMenu")
        help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)
        else:
            bar.addMenu(menu)
        for a in (
            self.act_record,
            self.act_group,
            self.act_group_folder,
            self.act_take_out,
            self.act_ungroup,
        ):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.act_csv)
        menu.addAction(self.act_json)
        window.grid.addActions([self.act_group, self.act_take_out])
        window.grid.selectionModel().currentChanged.connect(lambda *_: self._later())

    # ---------------------------------------------------------------- state
    def _later(self) -> None:
        # After the window has taken the new current photo.
        QTimer.singleShot(0, self.refresh)

    def _catalog(self) -> tuple[Catalog, Any] | None:
        lib = self.win.library
        if lib is None:
            return None
        return lib.catalog, lib.graph

    def refresh(self) -> None:
        """Show the current photo's object (or that it has none) on the photo page."""
        found = self._catalog()
        item = self.win.current_item()
        if found is None or item is None:
            self.panel.show_none(NO_PHOTO)
            return
        cat, graph = found
        obj = objects.object_of_photo(cat, item.id)
        if obj is None:
            self.panel.show_none()
            return
        ans, why = None, ""
        try:
            ans = objects.fuse_object(cat, obj, graph=graph)
        except CatalogError as exc:
            why = str(exc)
        decided = ans is not None and all(
            (lab := cat.label(pid)) is not None
            and lab.certainty == "confirmed"
            and lab.tradition == ans.top.tradition
            for pid in obj.photo_ids
        )
        level = object_claims_level(ans, cat) if ans is not None else None
        self.panel.show_object(obj, obj.role_of(item.id), ans, why, decided=decided, level=level)

    def _selected_ids(self) -> list[int]:
        ids = [it.id for it in self.win.selected_items()]
        cur = self.win.current_item()
        if not ids and cur is not None:
            ids = [cur.id]
        return ids

    def _names(self, ids: Sequence[int]) -> dict[int, str]:
        out = {}
        for it in self.win.model.all_items():
            if it.id in ids:
                out[it.id] = it.name
        return out

    def _changed(self, text: str) -> None:
        self.win.statusBar().showMessage(text, 5000)
        self.refresh()
        self.win.refresh_items()  # the search reads the records
        self.win._load_similar()  # grouped or not changes what the strip searches

    # ---------------------------------------------------------------- actions
    def open_record(self) -> ObjectDialog | None:
        """The record editor for the current photo's object (or a new one for the selection)."""
        found = self._catalog()
        item = self.win.current_item()
        if found is None or item is None:
            self.win.statusBar().showMessage("Choose a photo first.", 4000)
            return None
        cat, _graph = found
        obj = objects.object_of_photo(cat, item.id)
        if obj is None:
            return self.group_selected()
        return self._open(obj, obj.photo_ids)

    def _open(self, obj: objects.SareeObject | None, ids: Sequence[int]) -> ObjectDialog | None:
        found = self._catalog()
        if found is None:
            return None
        cat, graph = found
        if self.dialog is not None:
            self.dialog.close()
        dlg = ObjectDialog(
            cat,
            graph,
            obj,
            ids,
            names=self._names(ids),
            decide=self._decide,
            thumbs=self.win.thumbs,
            parent=self.win,
        )
        dlg.saved.connect(lambda acc: self._changed(f"Object {acc} saved."))
        dlg.confirmed.connect(self._confirmed)
        self.dialog = dlg
        dlg.resize(900, 560)
        dlg.show()
        return dlg

    def _confirmed(self, tradition: str, ids: list[int]) -> None:
        lib = self.win.library
        name = lib.label(tradition) if lib is not None else tradition
        self._changed(f"{len(ids)} photos confirmed as {name}.")

    def _decide(self, obj: objects.SareeObject, tradition: str) -> list[int] | None:
        """Label every photo of `obj` as `tradition` through the window: one decision that
        Undo takes back, then the rest of the collection is re-ranked in the background."""
        lib = self.win.library
        if lib is None or not obj.photo_ids:
            return None
        ids = list(obj.photo_ids)
        text = f"labelling object {obj.accession} as {lib.label(tradition)}"
        if not self.win._decide([(pid, tradition) for pid in ids], text):
            return None
        return ids

    def confirm_current(self, tradition: str) -> bool:
        """The photo page's "Confirm … for all its photos": the current photo's object."""
        found = self._catalog()
        item = self.win.current_item()
        if found is None or item is None:
            return False
        obj = objects.object_of_photo(found[0], item.id)
        if obj is None:
            return False
        ids = self._decide(obj, tradition)
        if ids is None:
            return False
        self._confirmed(tradition, ids)
        return True

    def group_selected(self) -> ObjectDialog | None:
        """A new object from the selected photos (the record editor, not yet saved)."""
        ids = self._selected_ids()
        if not ids:
            self.win.statusBar().showMessage("Select the photos of one saree first.", 4000)
            return None
        return self._open(None, ids)

    def group_by_folder(self) -> GroupDialog | None:
        """Objects from imported photos: one per sub-folder, or by their file names (the
        dialog is shown; grouping happens when the curator presses Group)."""
        found = self._catalog()
        if found is None:
            return None
        dlg = GroupDialog(found[0], self._photo_folder(), self.win)
        dlg.accepted.connect(lambda: self._grouped(dlg))
        self.group_dialog = dlg
        dlg.open()
        return dlg

    def import_hint(self, paths: Sequence[Path | str]) -> str:
        """After an import: a nudge towards grouping when the photos came from sub-folders
        and the collection has no objects yet ("" otherwise)."""
        found = self._catalog()
        if found is None or objects.all_objects(found[0]):
            return ""
        for p in paths:
            folder = Path(p)
            try:
                nested = folder.is_dir() and any(d.is_dir() for d in folder.iterdir())
            except OSError:  # unreadable now: no hint rather than an error after an import
                nested = False
            if nested:
                return (
                    " If each sub-folder is one saree, Objects ▸ Group photos by folder or "
                    "file name… makes them objects."
                )
        return ""

    def _photo_folder(self) -> str:
        """The folder last imported, else the one all the collection's photos lie under."""
        import os

        last = str(self.win.settings.value("last_import", ""))
        if last and Path(last).is_dir():
            return last
        paths = [str(it.path.parent) for it in self.win.model.all_items()]
        try:
            return os.path.commonpath(paths) if paths else ""
        except ValueError:  # different drives
            return ""

    def _grouped(self, dlg: GroupDialog) -> None:
        done = dlg.result_
        if done is None:
            return
        n = sum(len(v) for v in done.objects.values())
        k = len(done.objects)
        text = f"{_count(n, 'photo')} grouped into {_count(k, 'object')}"
        for gone, what in ((done.unmatched, "named no object"), (done.elsewhere, "shows another")):
            if gone:
                stays = "stays as it was" if len(gone) == 1 else "stay as they were"
                text += f"; {_count(len(gone), 'photo')} {what} and {stays}"
        self._changed(text + ".")

    def take_out_selected(self) -> int:
        return self._take_out(self._selected_ids())

    def take_out_current(self) -> int:
        item = self.win.current_item()
        return self._take_out([item.id] if item is not None else [])

    def _take_out(self, ids: Sequence[int]) -> int:
        """Take photos out of their objects (the photos stay); Undo (Ctrl+Z) puts them back."""
        found = self._catalog()
        if found is None or not ids:
            return 0
        cat = found[0]
        back: list[tuple[str, int, str]] = []  # (accession, photo, role) to put back
        for pid in ids:
            obj = objects.object_of_photo(cat, pid)
            if obj is not None:
                back.append((obj.accession, pid, obj.role_of(pid) or "whole"))
        try:
            n = objects.remove_photos(cat, ids)
        except CatalogError as exc:
            self.win.statusBar().showMessage(str(exc), 6000)
            return 0
        if not n:
            self._changed("None of those photos is part of an object.")
            return 0
        what = f"{_count(n, 'photo')} out of {'their objects' if n != 1 else 'its object'}"

        def restore() -> str:
            for acc, pid, r in back:
                if cat.photo(pid) is not None:
                    objects.add_photos(cat, acc, [pid], [r])
            return f"{_count(n, 'photo')} back in {'their objects' if n != 1 else 'its object'}."

        self._remember(f"taking {what}", restore)
        self._changed(f"Took {what}; Undo puts {'them' if n != 1 else 'it'} back.")
        return n

    def ungroup_current(self) -> bool:
        """Delete the current photo's object record; its photos stay (Undo puts it back)."""
        found = self._catalog()
        item = self.win.current_item()
        if found is None or item is None:
            return False
        cat = found[0]
        obj = objects.object_of_photo(cat, item.id)
        if obj is None:
            self.win.statusBar().showMessage("This photo is not part of an object.", 4000)
            return False
        gone = objects.delete_object(cat, obj.id)

        def restore() -> str:
            objects.restore_object(cat, gone)
            return f"Object {gone.accession} is back."

        self._remember(f"ungrouping object {obj.accession}", restore)
        self._changed(f"Object {obj.accession} ungrouped; its photos stay. Undo puts it back.")
        return True

    def _remember(self, text: str, restore: Callable[[], str]) -> None:
        """Put an object change on the window's Undo list (Edit ▸ Undo, Ctrl+Z)."""
        win = self.win
        win._undo.append(ObjectChange(text, (), restore))
        del win._undo[:-100]
        win._undo_changed()

    def undo(self, entry: ObjectChange) -> bool:
        """Take back an object change (called by the window's Undo)."""
        try:
            text = entry.restore()
        except CatalogError as exc:  # e.g. its number was given to another object meanwhile
            self.win.statusBar().showMessage(f"Cannot undo {entry.text}: {exc}", 8000)
            return False
        self.win._undo.remove(entry)
        self.win._undo_changed()
        self._changed(text)
        return True

    def export(self, fmt: str, path: Path | None = None) -> Path | None:
        """One row per object, with its record and answer, to a CSV or JSON file."""
        found = self._catalog()
        if found is None:
            return None
        if path is None:
            suffix = "CSV (*.csv)" if fmt == "csv" else "JSON (*.json)"
            start = str(self.win.library.path.with_name(f"objects.{fmt}"))
            chosen, _ = QFileDialog.getSaveFileName(self.win, "Export objects", start, suffix)
            if not chosen:
                return None
            path = Path(chosen)
        from saree_app.collection.export import write_atomic

        cat, graph = found
        text = objects.to_csv(cat, graph) if fmt == "csv" else objects.to_json(cat, graph)
        try:
            write_atomic(path, text)
        except (CatalogError, OSError) as exc:
            self.win.statusBar().showMessage(f"Could not export: {exc}", 8000)
            return None
        self.win.statusBar().showMessage(f"Objects exported to {path}.", 5000)
        return path
