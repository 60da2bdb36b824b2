"""Thumbnails: made on worker threads, cached on disk, handed to the GUI as QImages."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from pathlib import Path

import platformdirs
from PIL import Image
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from saree_app.gui.qtfix import emit
from saree_app.imaging import PhotoError, load_photo

THUMB_SIZE = 160
# How many requests to keep when the curator flings through 100,000 photos: the newest win,
# older ones scrolled out of sight long ago.
_MAX_PENDING = 400


def default_cache_dir() -> Path:
    return platformdirs.user_cache_path("saree-app", appauthor=False) / "thumbs"


class ThumbnailStore:
    """Qt-free: one JPEG per (photo, size) under the cache folder, keyed by path + mtime + size."""

    def __init__(self, directory: Path | None = None, size: int = THUMB_SIZE) -> None:
        self.directory = directory or default_cache_dir()
        self.size = size

    def cache_path(self, photo: Path) -> Path:
        try:
            st = photo.stat()
            stamp = f"{st.st_mtime_ns}:{st.st_size}"
        except OSError:
            stamp = "missing"
        key = hashlib.sha1(f"{photo.resolve()}|{stamp}|{self.size}".encode()).hexdigest()
        return self.directory / key[:2] / f"{key}.jpg"

    def get(self, photo: Path) -> Image.Image | None:
        """The thumbnail (from cache, else made and cached); None when the photo is unusable."""
        cached = self.cache_path(photo)
        if cached.is_file():
            try:
                with Image.open(cached) as im:
                    return im.convert("RGB")
            except OSError:
                pass  # a half-written cache file: make it again
        try:
            img = load_photo(photo, target=self.size)
        except PhotoError:
            return None
        img = img.copy()
        img.thumbnail((self.size, self.size), Image.Resampling.BILINEAR)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{threading.get_ident()}.tmp")
            img.save(tmp, "JPEG", quality=85)
            tmp.replace(cached)
        except OSError:
            pass  # a read-only cache is slower, not broken
        return img


def pil_to_qimage(img: Image.Image) -> QImage:
    """A QImage that owns its pixels (safe to pass between threads)."""
    rgb = img.convert("RGB")
    data = rgb.tobytes()
    q = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return q.copy()


class _Signals(QObject):
    ready = Signal(object, QImage, int)
    failed = Signal(object, object, int)


class _Drain(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self._loader = loader

    def run(self) -> None:
        loader = self._loader
        while True:
            job = loader._take()
            if job is None:
                return
            key, path, generation = job
            try:
                img = loader.store.get(path)
                qimg = pil_to_qimage(img) if img is not None else None
            except Exception:  # any odd file: a blank cell, never a stuck loader
                qimg = None
            if qimg is None:
                emit(loader._signals.failed, key, path, generation)
            else:
                emit(loader._signals.ready, key, qimg, generation)


class ThumbnailLoader(QObject):
    """Loads thumbnails newest-request-first on a worker thread; keeps recent ones in memory."""

    ready = Signal(object)  # key: the pixmap is now in `pixmap(key)`
    failed = Signal(object)

    def __init__(
        self, store: ThumbnailStore | None = None, memory: int = 800, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store or ThumbnailStore()
        self._memory = memory
        self._pixmaps: OrderedDict[object, QPixmap] = OrderedDict()
        # Key -> the path whose read failed: the same photo at another path (relocated) is
        # read again, whenever the failure of its old path lands.
        self._broken: dict[object, Path] = {}
        self._lock = threading.Lock()
        self._stack: deque[tuple[object, Path]] = deque()
        # Moves on every clear(): a thumbnail read before it (a file since moved back, say)
        # must not land after it, or a photo found again would stay marked broken.
        self._generation = 0
        self._queued: set[object] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # decoding is cheap; fewer threads, fewer GIL waits
        self._drains = 0
        self._signals = _Signals()
        self._signals.ready.connect(self._on_ready)
        self._signals.failed.connect(self._on_failed)

    def pixmap(self, key: object) -> QPixmap | None:
        pm = self._pixmaps.get(key)
        if pm is not None:
            self._pixmaps.move_to_end(key)
        return pm

    def is_broken(self, key: object, path: Path | None = None) -> bool:
        """Whether the thumbnail could not be made (from `path`, when given)."""
        if path is None:
            return key in self._broken
        return self._broken.get(key) == path

    def request(self, key: object, path: Path) -> None:
        """Ask for a thumbnail; `ready(key)` follows unless it scrolls out of the queue first."""
        if key in self._pixmaps or self._broken.get(key) == path:
            return
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
            self._stack.append((key, path))
            while len(self._stack) > _MAX_PENDING:
                old, _ = self._stack.popleft()
                self._queued.discard(old)
            start = self._drains < self._pool.maxThreadCount()
            if start:
                self._drains += 1
        if start:
            self._pool.start(_Drain(self))

    def clear(self) -> None:
        with self._lock:
            self._stack.clear()
            self._queued.clear()
            self._generation += 1
        self._pixmaps.clear()
        self._broken.clear()

    def shutdown(self, timeout_ms: int = 3000) -> None:
        with self._lock:
            self._stack.clear()
            self._queued.clear()
        self._pool.waitForDone(timeout_ms)

    def _take(self) -> tuple[object, Path, int] | None:
        with self._lock:
            if not self._stack:
                self._drains -= 1
                return None
            key, path = self._stack.pop()  # newest first: what is on screen now
            self._queued.discard(key)
            return key, path, self._generation

    def _on_ready(self, key: object, image: QImage, generation: int) -> None:
        if generation != self._generation:
            return  # read before the last clear(): asked for again if still wanted
        self._pixmaps[key] = QPixmap.fromImage(image)
        while len(self._pixmaps) > self._memory:
            self._pixmaps.popitem(last=False)
        emit(self.ready, key)

    def _on_failed(self, key: object, path: Path, generation: int) -> None:
        if generation != self._generation:
            return
        self._broken[key] = path
        emit(self.failed, key)
