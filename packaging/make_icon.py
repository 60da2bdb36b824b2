"""Render the app icon (packaging/icons/saree-app.svg) to the PNG, ICO and ICNS files builds use.

Run after editing the SVG: `python packaging/make_icon.py`. The SVG is the only source; the
rendered files are committed so a build needs no SVG renderer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent / "icons"
SVG = ICONS / "saree-app.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)


def render(size: int) -> bytes:
    """The SVG rasterised at size x size, as PNG bytes (Qt's SVG renderer, offscreen)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPainterPath
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    # Qt's SVG renderer (SVG Tiny) ignores clipPath; clip to the SVG's rounded tile here so the
    # PNG matches what full SVG renderers (librsvg, browsers) draw.
    scale = size / 256
    tile = QPainterPath()
    tile.addRoundedRect(
        QRectF(8 * scale, 8 * scale, 240 * scale, 240 * scale), 44 * scale, 44 * scale
    )
    painter.setClipPath(tile)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit(f"could not encode the {size} px icon as PNG")
    return bytes(data.data())


def main() -> int:
    """Write saree-app.png (256 px), saree-app.ico (Windows) and saree-app.icns (macOS)."""
    import io

    from PIL import Image

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    images = {size: Image.open(io.BytesIO(render(size))).convert("RGBA") for size in PNG_SIZES}
    images[256].save(ICONS / "saree-app.png")
    # ICO stores every size; Windows picks the one that fits (taskbar, explorer, alt-tab).
    images[256].save(
        ICONS / "saree-app.ico",
        sizes=[(s, s) for s in PNG_SIZES if s <= 256],
        append_images=[images[s] for s in PNG_SIZES if s < 256],
    )
    images[512].save(
        ICONS / "saree-app.icns", append_images=[images[s] for s in (16, 32, 128, 256)]
    )
    for name in ("saree-app.png", "saree-app.ico", "saree-app.icns"):
        print(f"wrote {ICONS / name} ({(ICONS / name).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
