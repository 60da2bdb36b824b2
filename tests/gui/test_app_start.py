"""`saree-app` on a machine that lacks Qt's X11 libraries says which to install."""

from __future__ import annotations

import pytest

from saree_app.gui import app


def test_missing_xcb_libraries_are_named_not_a_qt_abort(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    monkeypatch.setattr(app, "_loads", lambda so: so not in absent)
    started = []
    monkeypatch.setattr(app, "make_app", lambda *a: started.append(1))
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in err
    assert err.count("\n") == 1, "one clear line"
    assert not started, "Qt was started anyway"


def test_no_check_where_no_x11_window_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setattr(app, "_loads", lambda so: False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.missing_xcb_packages() == []
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert "libxcb-cursor0" in app.missing_xcb_packages()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    assert app.missing_xcb_packages() == []


def test_this_machine_has_what_the_window_needs_or_says_so() -> None:
    # Whatever is missing here is named by its package, never as an unknown soname.
    assert set(app.missing_xcb_packages()) <= set(app.XCB_LIBRARIES.values())


def test_file_menu_imports_the_sample_photos_as_readme_says(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from saree_app import paths
    from saree_app.gui.samples import bundled_samples
    from tests.gui.conftest import wait_idle

    if not bundled_samples():
        pytest.skip(f"no sample photos in {paths.samples_dir()}")
    file_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File"
    )
    found = [
        a for a in file_menu.actions() if a.text().replace("&", "") == "Import the sample photos"
    ]
    assert found, "README: File > Import the sample photos"
    found[0].trigger()
    wait_idle(qtbot, window, timeout=120000)
    qtbot.waitUntil(lambda: window.model.rowCount() == len(bundled_samples()), timeout=30000)
