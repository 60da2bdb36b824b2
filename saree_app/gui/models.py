"""The Model menu: the shipped model and the ones retrained from this collection, and switching.

Switching loads the chosen model, classifies the photos it has not seen in the background
(progress and Cancel in the status bar), then keeps it as this collection's model and lets
the confirmed photos teach it. A model that cannot be used is refused with one message and the
collection keeps the model it has.
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.gui.answer import ConfidenceBar
from saree_app.gui.dialogs import resize_within_screen, show_error
from saree_app.gui.tasks import Cancel, TaskRunner

ROLE_PATH = Qt.ItemDataRole.UserRole


# The shipped model on real photographs, as `saree bench real` measured it (models/MODEL_CARD.md,
# "Real photographs": right tradition first on 13.8% of 174 photos of 15 traditions, chance
# about 7%). Its manifest does not carry the figure, so it is tied here to the model measured
# (the start of its sha256): another shipped model is never credited with it.
SHIPPED_REAL = {"762d1cf9": (0.14, 174, 15)}
TEACH_IT = (
    "Confirming photos teaches it at once; retraining on your confirmed photos "
    "(Model > Retrain from confirmed photos…) makes a model of your own."
)


def _manifest(path: Path) -> dict[str, Any]:
    data: Any = {}
    with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def real_photos_text(choice: Any, raw: dict[str, Any] | None = None) -> str:
    """How the model does on real photographs, in a curator's words: the shipped model's
    measured figure (it learnt from rendered sarees only), a retrained model's check on the
    curator's own confirmed photos held back from it (its manifest's `evaluation.heldout`, as
    `saree train --catalog` writes it), else that it was not measured. `raw`: the manifest,
    read from `choice.path` when not given."""
    if choice.shipped:
        measured = next(
            (v for k, v in SHIPPED_REAL.items() if str(choice.sha256).startswith(k)), None
        )
        if measured is None:
            return (
                "It learnt from rendered sarees only: on real photographs expect it to be close "
                f"to guessing until you teach it. {TEACH_IT}"
            )
        share, photos, traditions = measured
        return (
            "On real photographs it is close to guessing until you teach it: tried on "
            f"{photos:,} real photographs of {traditions} traditions, it named the right "
            f"tradition first for only about {share:.0%} of them (it learnt from rendered "
            f"sarees only). {TEACH_IT}"
        )
    raw = _manifest(choice.path) if raw is None else raw
    training = raw.get("training") if isinstance(raw.get("training"), dict) else {}
    evaluation = raw.get("evaluation") if isinstance(raw.get("evaluation"), dict) else {}
    held = evaluation.get("heldout") if isinstance(evaluation, dict) else None
    if isinstance(training, dict) and training.get("catalogue"):
        if isinstance(held, dict) and isinstance(held.get("top1"), (int, float)):
            from saree_app.collection.models import TRUSTED_CHECK, share_words

            n = int(held.get("photos") or 0)
            acc = held.get("balanced_accuracy")
            acc = acc if isinstance(acc, (int, float)) else held["top1"]
            share = (
                share_words(round(float(held["top1"]) * n), n)
                if n < 20
                else f"about {float(acc):.0%} of the {n:,}"
            )
            small = " So few are too small a check to trust." if n < TRUSTED_CHECK else ""
            return (
                f"On your own photos: it named the right tradition first for {share} "
                f"confirmed photo{'s' * (n != 1)} kept aside to check it (it never learnt "
                f"from them).{small} More confirmed photos make the next retraining better."
            )
        return (
            "How it does on your photos is not known yet: retrain with more confirmed photos "
            "of each tradition, and some of them are kept aside to check it."
        )
    return (
        "How it does on real photographs is not known: check its answers against photos you "
        "confirm."
    )


def knows_text(
    choice: Any, label: Callable[[str], str] | None = None, shipped: Sequence[str] = ()
) -> str:
    """Which traditions a model can name, in a line: all of them when they are few, else how
    many; a retrained model also says how many of the shipped model's (`shipped`, its term
    ids) it does not know. '' when its manifest cannot be read."""
    from saree_app.collection.models import model_traditions

    knows = model_traditions(choice.path)
    if not knows:
        return ""
    named = label or (lambda t: t)
    names = sorted((named(t) for t in knows), key=str.casefold)
    listed = ", ".join(names)
    text = f"Knows {len(names)} tradition{'s' * (len(names) != 1)}: {listed}"
    if not choice.shipped and shipped:
        lacks = [t for t in shipped if t not in set(knows)]
        if lacks:
            text += f" (not {len(lacks)} of the shipped model's {len(shipped)})"
    return text + "."


def choice_text(
    choice: Any,
    current: Path | None,
    raw: dict[str, Any] | None = None,
    *,
    label: Callable[[str], str] | None = None,
    shipped: Sequence[str] = (),
) -> str:
    """A few lines per model: its title and whether it is in use, the report line, how it does
    on real photographs (`real_photos_text`, last; `raw`: its manifest, read when not given),
    the traditions it knows (`knows_text`: `label` names them, `shipped` the shipped model's)
    and the folder it is in."""
    head = choice.title
    if current is not None and choice.path.absolute() == Path(current).absolute():
        head += "  (in use)"
    if choice.problem:
        return f"{head}\n    cannot be used: {choice.problem}"
    lines = [head, choice.summary or "no report"]
    knows = knows_text(choice, label, shipped)
    if knows:
        lines.append(knows)
    lines.append(f"Folder: {Path(choice.path).parent}")
    lines.append(real_photos_text(choice, raw))  # last: what a curator reads it for
    return "\n    ".join(lines)


def _read_card(card: Path | None) -> str:
    """The shipped model card's text, or what to say when it is missing or unreadable."""
    if card is None or not card.is_file():
        return (
            "# No model card\n\nThe model card (models/MODEL_CARD.md) is missing from this "
            "installation. It describes what the model was trained on and how well it does; "
            "reinstall the app to get it back."
        )
    try:
        return card.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"# Model card unreadable\n\n{card}: {exc}"


def is_retrained(manifest: Path | None) -> bool:
    """Whether `manifest` is a model retrained from a collection (`saree train --catalog`
    writes training.catalogue into it, and its REPORT.md beside it), not the shipped one."""
    import json

    from saree_app.collection.models import is_shipped

    if manifest is None:
        return False
    try:
        if is_shipped(manifest):
            return False
        data = json.loads(Path(manifest).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return (Path(manifest).parent / "REPORT.md").is_file()
    training = data.get("training") if isinstance(data, dict) else None
    return (
        bool(isinstance(training, dict) and training.get("catalogue"))
        or (Path(manifest).parent / "REPORT.md").is_file()
    )


def model_card_text(card: Path | None, manifest: Path | None, preface: str | None = None) -> str:
    """The text the Model card shows (Markdown): the shipped model's card, or, when the model
    in use (`manifest`) was retrained from this collection, first that it is, then its own
    report (the REPORT.md `saree train --catalog` writes beside its manifest) and the shipped
    model's card below it. `preface`, what a curator needs to know of the model in use, goes
    before either."""
    from saree_app import paths

    lead = f"## In short\n\n{preface}\n\n" if preface else ""
    if not is_retrained(manifest):
        if not lead:
            return _read_card(card)
        return (
            lead + "The model card below is written for specialists: how the model was made, "
            "what it learnt from and how it was measured.\n\n---\n\n" + _read_card(card)
        )
    assert manifest is not None
    folder = Path(manifest).parent
    shipped = paths.models_dir() / "MODEL_CARD.md"
    if card is not None and card.parent != folder:
        shipped = card  # the window's own choice of card, unless it is in the model's folder
    report = folder / "REPORT.md"
    try:
        own = report.read_text(encoding="utf-8")
    except FileNotFoundError:
        own = (
            f"# No report\n\nThis model's report (REPORT.md) is missing from its folder "
            f"{folder}: retraining writes it there last."
        )
    except (OSError, UnicodeDecodeError) as exc:
        own = f"# Report unreadable\n\n{report}: {exc}"
    first = (
        "**This model was retrained from this collection's confirmed photos** (folder "
        f"`{folder.name}`, beside the collection): it is not the shipped model, and what "
        "follows is its own report. The shipped model's card, which this one started from, "
        "comes after the report."
    )
    return (
        f"{first}\n\n{lead}{own}\n\n---\n\n"
        "## The shipped model's card\n\nThe model this one was retrained from; its figures "
        "are the shipped model's, not this one's.\n\n" + _read_card(shipped)
    )


class ModelDialog(QDialog):
    """Lists the models this collection can use; OK switches to the one selected."""

    def __init__(
        self,
        choices: list[Any],
        current: Path | None,
        parent: QWidget | None = None,
        *,
        label: Callable[[str], str] | None = None,
    ) -> None:
        """`label` names a tradition from its id (the collection's `Library.label`)."""
        from saree_app.collection.models import model_traditions

        super().__init__(parent)
        self.setObjectName("modelDialog")
        self.setWindowTitle("Model")
        resize_within_screen(self, 720, 520)
        self.choices = list(choices)
        self.current = current
        self.label = label
        first = next((c for c in self.choices if c.shipped), None)
        self.shipped: tuple[str, ...] = model_traditions(first.path) if first else ()
        lay = QVBoxLayout(self)
        intro = QLabel(
            "The model that answers for this collection. A model retrained from your confirmed "
            "photos (Model > Retrain from confirmed photos…) can be switched to and back; the "
            "shipped model always stays available. Switching classifies the photos the model "
            "has not seen yet, in the background.",
            self,
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        lay.addWidget(intro)
        self.list = QListWidget(self)
        self.list.setObjectName("modelList")
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        lay.addWidget(self.list, 1)
        for choice in self.choices:
            self._add(choice)
        row = QHBoxLayout()
        other = QPushButton("Other model file…", self)
        other.clicked.connect(self._browse)
        row.addWidget(other)
        row.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use this model")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        row.addWidget(self.buttons)
        lay.addLayout(row)
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        for i in range(self.list.count()):
            if "(in use)" in self.list.item(i).text():
                self.list.setCurrentRow(i)
        self._enable()

    def _add(self, choice: Any) -> QListWidgetItem:
        text = choice_text(choice, self.current, label=self.label, shipped=self.shipped)
        item = QListWidgetItem(text, self.list)
        item.setData(ROLE_PATH, str(choice.path))
        item.setToolTip(html.escape(str(choice.path)))
        if choice.problem:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        return item

    def _enable(self) -> None:
        item = self.list.currentItem()
        ok = item is not None and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "A model file", "", "Saree models (*.json *.onnx);;All files (*)"
        )
        if path:
            self.add_file(Path(path))

    def add_file(self, path: Path) -> None:
        """A model file chosen by hand: listed (with its problem, if any) and selected."""
        from saree_app.collection.models import choice_for

        choice = choice_for(path)
        self.choices.append(choice)
        self.list.setCurrentItem(self._add(choice))

    def chosen(self) -> Any:
        """The selected ModelChoice (None: nothing selectable is selected)."""
        row = self.list.currentRow()
        return self.choices[row] if 0 <= row < len(self.choices) else None


class ModelSwitching(QObject):
    """The window's Model menu actions: lists the models and switches on its own worker."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self.runner = TaskRunner(self)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        sb = window.statusBar()
        self.label = QLabel("", window)
        self.label.setObjectName("modelSwitchProgress")
        widest = "Switching model: 00,000 of 00,000 photos"
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(widest) + 8)
        self.bar = ConfidenceBar(0.0)
        self.bar.setFixedWidth(160)
        self.stop = QPushButton("Stop switching", window)
        self.stop.clicked.connect(self.runner.cancel)
        for w in (self.label, self.bar, self.stop):
            sb.addPermanentWidget(w)
            w.hide()
        self._target = ""
        self.dialog: ModelDialog | None = None

    @property
    def busy(self) -> bool:
        return bool(self.runner.busy)

    def _show(self, on: bool, text: str = "") -> None:
        for w in (self.label, self.bar, self.stop):
            w.setVisible(on)
        self.label.setText(text)
        self.bar.set_value(0.0)

    def choose(self) -> ModelDialog | None:
        """Open the Model dialog (non-modal); OK switches."""
        lib = self.win.library
        if lib is None:
            return None
        dlg = ModelDialog(lib.models(), lib.model_path(), self.win, label=lib.label)
        dlg.accepted.connect(lambda: self._picked(dlg))
        self.dialog = dlg
        dlg.open()
        return dlg

    def _picked(self, dlg: ModelDialog) -> None:
        choice = dlg.chosen()
        if choice is None:
            return
        self.switch(choice.path)

    def switch(self, model: Path, title: str = "") -> bool:
        """Switch the collection to `model` (its manifest or .onnx) in the background."""
        from saree_app.collection.models import (
            ModelChoiceError,
            check_model,
            is_shipped,
            remember_model,
        )

        win, lib = self.win, self.win.library
        if lib is None:
            return False
        if self.busy:
            show_error(win, "Please wait", "A switch of model is already running.")
            return False
        if win.jobs.busy:
            show_error(
                win, "Please wait", "An import or export is running; switch when it has finished."
            )
            return False
        try:
            manifest = check_model(model)
        except ModelChoiceError as exc:
            show_error(
                win,
                "This model cannot be used",
                f"{exc}\nThe collection keeps the model it has.",
            )
            return False
        current = lib.model_sha()
        if current == manifest.sha256:
            try:
                remember_model(lib.path, model)
            except ModelChoiceError as exc:
                show_error(win, "The choice was not saved", str(exc))
                return False
            win.statusBar().showMessage("This model is already in use.", 5000)
            return True
        self._target = title or (
            "the shipped model" if is_shipped(model) else f"the retrained model {manifest.name}"
        )
        self._show(True, "Switching model: loading it…")
        self.label.setToolTip(f"Switching to {self._target}")

        def job(cancel: Cancel) -> Any:
            return lib.switch_model(model, cancel.is_set)

        self.runner.start(job, on_done=self._done, on_progress=self._progress)
        return True

    def _progress(self, p: Any) -> None:
        self.bar.set_value(int(p.done) / max(int(p.total), 1))
        self.label.setText(f"Switching model: {p.done:,} of {p.total:,} photos")

    def _done(self, result: Any) -> None:
        self._show(False)
        if result is None:
            self._cancelled()
            return
        win = self.win
        win._model_ready()  # labels, model line, listing: as for a freshly loaded model
        if any(it.confirmed for it in win.model.all_items()):
            win.reranker.schedule()  # the confirmed photos teach the new model's answers
        text = f"Now using {self._target}: {result.classified:,} photos classified with it"
        if result.unreadable:
            n = len(result.unreadable)
            text += (
                f"; {n:,} photo{'s' * (n != 1)} could not be read again (moved or deleted) and "
                "keep their earlier answers"
            )
        win.statusBar().showMessage(text + ".", 15000)

    def _failed(self, message: str, details: str) -> None:
        self._show(False)
        show_error(
            self.win,
            "This model cannot be used",
            f"{message}\nThe collection keeps the model it has.",
            details,
        )

    def _cancelled(self) -> None:
        self._show(False)
        lib = self.win.library
        info = lib.model_info() if lib is not None else None
        name = f"model {info.name}" if info is not None else "its model"
        self.win.statusBar().showMessage(
            f"Switching stopped: the collection keeps {name}. Photos already classified with "
            "the new model keep those answers for the next switch.",
            15000,
        )
        self.win.refresh_items()
