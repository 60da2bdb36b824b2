#!/usr/bin/env bash
# Build the Linux one-folder bundle (dist/saree-app/) from this checkout, then check it: no torch
# inside, the data and Qt plugins present, the bundle's self-test passing in a clean environment
# (no project venv), every view rendered, and (with Xvfb) the window opening on X11. Reports
# the bundle's size and start-up time.
#
#   packaging/build.sh              make build/venv (once), install .[package], build, check
#   packaging/build.sh --venv DIR   use an existing venv that already has the app's dependencies
#                                   and PyInstaller (nothing is installed into it)
#   packaging/build.sh --tar        also pack dist/saree-app-VERSION-linux-ARCH.tar.gz
#
# Every failure stops the script with a non-zero status; nothing is retried or ignored.
set -euo pipefail
trap 'echo "build.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=build/venv
MANAGED_VENV=1
TAR=0
while (($#)); do
  case $1 in
    --venv) VENV=${2:?--venv needs a directory}; MANAGED_VENV=0; shift 2 ;;
    --tar) TAR=1; shift ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

APP=saree-app
BUNDLE="$ROOT/dist/$APP"
DATA="$BUNDLE/_internal"
REPORT="$ROOT/build/bundle-report.txt"
NICE=(nice -n 10)  # the build machine is shared; the build can wait
unset PYTHONPATH PYTHONHOME
mkdir -p build

say() { printf '\n== %s\n' "$*"; }

# --- 1. build environment ------------------------------------------------------------------
if ((MANAGED_VENV)); then
  if [[ ! -x $VENV/bin/python ]]; then
    PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
    [[ -n $PYTHON ]] || { echo "build.sh: no python3.11 on PATH (set PYTHON=...)" >&2; exit 1; }
    say "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall when the dependency list changes; the app's own code is taken from the checkout
  # by the spec (pathex), so code edits need no reinstall.
  stamp=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [[ ! -f $VENV/.saree-deps || $(cat "$VENV/.saree-deps") != "$stamp" ]]; then
    say "installing .[package] into $VENV"
    "${NICE[@]}" "$VENV/bin/python" -m pip install -q ".[package]"
    echo "$stamp" >"$VENV/.saree-deps"
  fi
else
  [[ -x $VENV/bin/python ]] || { echo "build.sh: $VENV/bin/python not found" >&2; exit 1; }
fi
PY="$VENV/bin/python"
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' ||
  { echo "build.sh: $VENV is not Python 3.11" >&2; exit 1; }
"$PY" -m PyInstaller --version >/dev/null ||
  { echo "build.sh: PyInstaller missing in $VENV (pip install '.[package]')" >&2; exit 1; }

# --- 2. PyInstaller ------------------------------------------------------------------------
say "PyInstaller $("$PY" -m PyInstaller --version), spec packaging/$APP.spec"
t0=$(date +%s)
"${NICE[@]}" "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath dist --workpath build/pyinstaller "packaging/$APP.spec"
build_s=$(($(date +%s) - t0))

# Next to the executables: what a user needs to put the app in their desktop's menu.
install -m 644 "packaging/$APP.desktop" "$BUNDLE/$APP.desktop"
install -m 644 "packaging/icons/$APP.png" "$BUNDLE/$APP.png"
install -m 644 "packaging/icons/$APP.svg" "$BUNDLE/$APP.svg"
install -m 755 packaging/install.sh "$BUNDLE/install.sh"

# --- 3. what must and must not be inside ---------------------------------------------------
say "checking the bundle's contents"
torch_files=$(find "$BUNDLE" -ipath '*torch*' | head -5)
if [[ -n $torch_files ]]; then
  echo "build.sh: torch found in the bundle (it belongs to the train extra only):" >&2
  echo "$torch_files" >&2
  exit 1
fi
required=(
  "$BUNDLE/$APP" "$BUNDLE/saree"
  "$DATA/models/saree-model.onnx" "$DATA/models/saree-model.json"
  "$DATA/PySide6/Qt/plugins/platforms/libqoffscreen.so"
  "$DATA/PySide6/Qt/plugins/platforms/libqxcb.so"
  "$DATA/PySide6/Qt/plugins/imageformats/libqjpeg.so"
)
for file in "${required[@]}"; do
  [[ -e $file ]] || { echo "build.sh: missing in the bundle: ${file#"$ROOT"/}" >&2; exit 1; }
done
for pattern in "ontology/*.ttl" "resources/samples/*" "onnxruntime/capi/onnxruntime_pybind11_state*.so"; do
  compgen -G "$DATA/$pattern" >/dev/null ||
    { echo "build.sh: missing in the bundle: _internal/$pattern" >&2; exit 1; }
done
# The X11 platform plugin loads system libraries the bundle does not carry (libxcb-cursor etc.);
# a user's desktop has them, a headless build machine may not, so this is reported, not fatal.
xcb_missing=$(ldd "$DATA/PySide6/Qt/plugins/platforms/libqxcb.so" | grep 'not found' || true)
if [[ -n $xcb_missing ]]; then
  echo "note: on this machine the xcb (X11) plugin lacks system libraries:"
  echo "$xcb_missing"
fi

# --- 4. self-test in a clean environment ---------------------------------------------------
# env -i: no VIRTUAL_ENV, PYTHONPATH or project PATH; a throwaway HOME and working directory,
# so the bundle can rely on nothing but itself.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/cwd"
clean() {
  (cd "$scratch/cwd" && env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen "$@")
}

say "saree --version (clean environment)"
clean "$BUNDLE/saree" --version

say "$APP --self-test (clean environment)"
times=()
for run in 1 2 3; do
  t0=$(date +%s%N)
  if ! clean "$BUNDLE/$APP" --self-test >"$scratch/selftest.log" 2>&1; then
    cat "$scratch/selftest.log" >&2
    echo "build.sh: the bundle's self-test FAILED (run $run)" >&2
    exit 1
  fi
  times+=($((($(date +%s%N) - t0) / 1000000)))
  if ((run == 1)); then cat "$scratch/selftest.log"; fi
done
median_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)

# Every main view, rendered by the bundle: the sample collection imported into a fresh
# catalogue, similar sarees, knowledge graph, model card (SVG icons, style sheet, fonts too).
say "$APP --screenshots (clean environment)"
shots="$ROOT/build/bundle-screenshots"
rm -rf "$shots"
if ! clean "$BUNDLE/$APP" --screenshots "$shots" >"$scratch/shots.log" 2>&1; then
  cat "$scratch/shots.log" >&2
  echo "build.sh: the bundle could not render its views" >&2
  exit 1
fi
shot_count=$(find "$shots" -name '*.png' | wc -l)
((shot_count > 0)) || { echo "build.sh: --screenshots wrote no PNG" >&2; exit 1; }
echo "$shot_count views rendered to ${shots#"$ROOT"/}/"

# The real start: the main window on the X11 platform plugin, as on a user's desktop. Passing
# means it is still up after 10 s (timeout's 124); any other status is a failed start.
if command -v xvfb-run >/dev/null; then
  say "$APP on X11 (Xvfb, clean environment): main window up for 10 s"
  x11_status=0
  clean env QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" \
    timeout 10 "$BUNDLE/$APP" >"$scratch/x11.log" 2>&1 || x11_status=$?
  if ((x11_status != 124)); then
    cat "$scratch/x11.log" >&2
    echo "build.sh: $APP did not stay up on X11 (exit status $x11_status)" >&2
    exit 1
  fi
  x11_result="window stayed up 10 s on X11 (Xvfb)"
else
  x11_result="not checked: no xvfb-run on this machine (apt install xvfb)"
fi
echo "$x11_result"

# --- 5. report -----------------------------------------------------------------------------
version=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
if ((TAR)); then
  tarball="dist/$APP-$version-linux-$(uname -m).tar.gz"
  say "packing $tarball"
  "${NICE[@]}" tar -C dist -czf "$tarball" "$APP"
fi
{
  echo "bundle:            ${BUNDLE#"$ROOT"/}/ ($APP $version, PyInstaller one-folder)"
  echo "size:              $(du -sh "$BUNDLE" | cut -f1) ($(du -sb "$BUNDLE" | cut -f1) bytes)"
  echo "largest parts:"
  du -sh "$DATA"/* | sort -h | tail -6 | sed "s|$DATA/|                   |"
  echo "build time:        ${build_s} s (PyInstaller only)"
  echo "self-test:         passed 3 of 3 in a clean environment"
  echo "views rendered:    $shot_count (build/bundle-screenshots/)"
  echo "X11 start:         $x11_result"
  echo "start-up time:     median ${median_ms} ms of --self-test (runs: ${times[*]} ms)"
  if ((TAR)); then echo "archive:           $tarball ($(du -sh "$tarball" | cut -f1))"; fi
} | tee "$REPORT"
echo "(report saved to ${REPORT#"$ROOT"/})"
