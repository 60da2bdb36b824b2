"""`saree-app`: start the desktop application (also --screenshots DIR and --self-test)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="saree-app",
        description="Saree provenance: browse, classify, explain, review and export a collection.",
    )
    p.add_argument("--collection", type=Path, help="catalogue file to open (created if new)")
    p.add_argument("--model", type=Path, help="model manifest (default: the shipped model)")
    p.add_argument(
        "--screenshots",
        type=Path,
        metavar="DIR",
        help="render each main view with the sample collection to PNGs in DIR, then exit",
    )
    p.add_argument("--samples", type=Path, help=argparse.SUPPRESS)  # screenshots of any folder
    p.add_argument(
        "--self-test",
        action="store_true",
        help="load model and graph, classify a sample photo offscreen, check the answer, exit",
    )
    return p


def _no_display() -> bool:
    """On Linux without X11 or Wayland, Qt would abort with a cryptic message."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# What Qt's X11 platform plugin loads beyond Qt itself, and the Debian / Ubuntu package that
# ships each. A fresh Debian desktop lacks the first three (Qt 6.5 and later need them); without
# any one Qt stops with "Could not load the Qt platform plugin "xcb"", naming none of them.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def _loads(soname: str) -> bool:
    import ctypes

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_xcb_packages() -> list[str]:
    """The packages to install before Qt can open a window on X11 (empty: none missing, or
    the window will not be an X11 one)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb":
        return []
    if not os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return []
    return [pkg for so, pkg in XCB_LIBRARIES.items() if not _loads(so)]


def _log_dir() -> Path:
    import platformdirs

    return platformdirs.user_log_path("saree-app", appauthor=False)


def _install_excepthook() -> None:
    """An unexpected error becomes a message box and a log entry, never a silent crash."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, exc, tb))
        log = _log_dir() / "errors.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(details + "\n")
        except OSError:
            pass
        from PySide6.QtWidgets import QApplication

        from saree_app.gui.dialogs import show_error

        if QApplication.instance() is not None:
            show_error(
                QApplication.activeWindow(),
                "Something went wrong",
                f"{exc or kind.__name__}\n\nYour work is saved. Details were written to {log}.",
                details,
            )
        else:
            sys.__excepthook__(kind, exc, tb)

    sys.excepthook = hook


def make_app(argv: Sequence[str] | None = None) -> object:
    """The QApplication, themed (one per process)."""
    from PySide6.QtWidgets import QApplication

    from saree_app.gui import theme

    # Workers (import, thumbnails, decoding) hand the GIL back sooner, so the event loop
    # waits at most a couple of milliseconds for it instead of five per busy thread.
    sys.setswitchinterval(0.002)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or sys.argv[:1]))
    app.setOrganizationName("saree-app")
    app.setApplicationName("Saree provenance")
    assert isinstance(app, QApplication)
    from saree_app.gui import qtfix

    qtfix.apply()
    theme.apply(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the exit status."""
    import multiprocessing

    multiprocessing.freeze_support()  # imports run in a child process, also when bundled
    args = build_parser().parse_args(argv)
    if args.self_test or args.screenshots:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif _no_display():
        print(
            "saree-app: no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Run it in a desktop session; --self-test and --screenshots work without one.",
            file=sys.stderr,
        )
        return 2
    elif missing := missing_xcb_packages():
        print(
            "saree-app: the window cannot open: Qt needs system libraries that are missing "
            f"({', '.join(missing)}). On Debian or Ubuntu: "
            f"sudo apt-get install {' '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    if args.self_test:
        from saree_app.gui.selftest import run_self_test

        return run_self_test(args.model)
    app = make_app()
    if args.screenshots:
        from saree_app.gui.screenshots import render_screenshots

        return render_screenshots(args.screenshots, model=args.model, samples=args.samples)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from saree_app.gui.window import MainWindow

    _install_excepthook()
    win = MainWindow(QSettings(), collection=args.collection, model=args.model)
    win.show()
    assert isinstance(app, QApplication)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
