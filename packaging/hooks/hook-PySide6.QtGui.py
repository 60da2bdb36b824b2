"""PyInstaller hook: PySide6.QtGui with the Qt plugins a desktop app needs, not the embedded ones.

Replaces PyInstaller's own hook of the same name (hooks in the spec's hookspath win). Left out:
the platforms and input plugins for framebuffer/kiosk/VNC devices, and the GTK3 platform theme,
which would drag the build machine's GTK stack (cairo, pango, gdk-pixbuf, atk) into the bundle
to be mixed with the user's own GTK at run time. Kept: xcb (X11), wayland, offscreen, minimal,
image formats, icon engines, input contexts, the XDG desktop-portal theme.
"""

from pathlib import Path, PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

DROP = (
    "platforms/libqeglfs.so",
    "platforms/libqlinuxfb.so",
    "platforms/libqvnc.so",
    "platforms/libqvkkhrdisplay.so",
    "platforms/libqminimalegl.so",
    "platformthemes/libqgtk3.so",
    "egldeviceintegrations/",
    "generic/",
)

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)


def _dropped(src: str, dest: str) -> bool:
    path = (PurePath(dest) / Path(src).name).as_posix()
    return any(pattern in path for pattern in DROP)


binaries = [(src, dest) for src, dest in binaries if not _dropped(src, dest)]
