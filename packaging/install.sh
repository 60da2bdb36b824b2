#!/usr/bin/env bash
# Install this saree-app bundle for the current user: the folder under ~/.local/opt/saree-app,
# `saree-app` and `saree` links in ~/.local/bin, an entry in the desktop's application menu and
# its icon. Run it from the unpacked bundle: ./install.sh   (./install.sh --uninstall removes it)
# PREFIX=DIR installs under DIR instead of ~/.local.
set -euo pipefail

APP=saree-app
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
DEST="$PREFIX/opt/$APP"
MENU="$PREFIX/share/applications/$APP.desktop"
ICON_PNG="$PREFIX/share/icons/hicolor/256x256/apps/$APP.png"
ICON_SVG="$PREFIX/share/icons/hicolor/scalable/apps/$APP.svg"

refresh_menu() {
  # Desktops pick up new entries on their own; these caches only make it immediate.
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$PREFIX/share/applications" ||
      echo "note: update-desktop-database failed; the menu entry appears after next login"
  fi
  if command -v gtk-update-icon-cache >/dev/null && [[ -f $PREFIX/share/icons/hicolor/index.theme ]]; then
    gtk-update-icon-cache -q "$PREFIX/share/icons/hicolor" ||
      echo "note: gtk-update-icon-cache failed; the icon appears after next login"
  fi
}

if [[ ${1:-} == --uninstall ]]; then
  rm -rf "$DEST"
  rm -f "$PREFIX/bin/$APP" "$PREFIX/bin/saree" "$MENU" "$ICON_PNG" "$ICON_SVG"
  refresh_menu
  echo "removed $APP from $PREFIX"
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--uninstall]" >&2
  exit 2
fi

[[ -x $HERE/$APP ]] || { echo "install.sh: run me from the unpacked $APP bundle" >&2; exit 1; }

if [[ $HERE != "$DEST" ]]; then
  rm -rf "$DEST"
  mkdir -p "$(dirname "$DEST")"
  cp -a "$HERE" "$DEST"
fi
mkdir -p "$PREFIX/bin"
ln -sfn "$DEST/$APP" "$PREFIX/bin/$APP"
ln -sfn "$DEST/saree" "$PREFIX/bin/saree"
install -Dm644 "$DEST/$APP.png" "$ICON_PNG"
install -Dm644 "$DEST/$APP.svg" "$ICON_SVG"
# The menu entry runs the installed executable by its full path, so ~/.local/bin need not be
# on the desktop session's PATH.
mkdir -p "$(dirname "$MENU")"
sed -e "s|^Exec=$APP|Exec=\"$DEST/$APP\"|" -e "s|^TryExec=$APP|TryExec=$DEST/$APP|" \
  "$DEST/$APP.desktop" >"$MENU"
refresh_menu
echo "installed $APP in $DEST"
echo "menu entry: $MENU; command line: $PREFIX/bin/$APP (GUI), $PREFIX/bin/saree (CLI)"
