"""Imports for the window, run in a child process so they never hold up the event loop.

Folders and loose photos become one progress stream; the model and the catalogue writes run
in the child, where they cannot compete with the event loop for the interpreter lock (no Qt
here; the child never loads Qt).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queue_mod
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

# How often the child's progress is sent: enough for a smooth bar, few pickles.
_SEND_EVERY_S = 0.05


def import_paths(
    catalog: Any, predictor: Any, paths: Sequence[Path | str], cancel: Callable[[], bool]
) -> Iterator[Any]:
    """Import folders (recursively), single photos and IIIF manifests (a web address, or a str
    naming a .json file); yields ImportProgress summed over all of them and returns the last
    one."""
    from saree_app.collection.iiif import import_manifest, is_manifest_source
    from saree_app.collection.importer import ImportProgress, import_files, import_folder

    manifests = [str(p) for p in paths if isinstance(p, str) and is_manifest_source(p)]
    local = [Path(p) for p in paths if not (isinstance(p, str) and is_manifest_source(p))]
    folders = [p for p in local if p.is_dir()]
    files = [p for p in local if not p.is_dir()]
    segments: list[Callable[[], Iterator[Any]]] = [
        (lambda m=m: import_manifest(catalog, m, predictor, cancel=cancel)) for m in manifests
    ]
    segments += [(lambda f=f: import_folder(catalog, f, predictor, cancel=cancel)) for f in folders]
    if files:
        segments.append(lambda: import_files(catalog, files, predictor, cancel=cancel))
    base = ImportProgress(0, 0, "", 0, 0, ())
    last = base
    for make in segments:
        for step in make():
            last = replace(
                step,
                done=base.done + step.done,
                total=base.total + step.total,
                added=base.added + step.added,
                already=base.already + step.already,
                skipped=base.skipped + step.skipped,
                finished=False,
            )
            yield last
            if step.cancelled:
                return last
        base = replace(last, cancelled=False)
    last = replace(last, finished=True, current="")
    yield last
    return last


def _child(
    job: tuple[str, str | None, int | None, list[tuple[str, bool]]], out: Any, stop: Any
) -> None:
    """The child process: open catalogue, graph and model, import, report through `out`."""
    import time

    collection, model, threads, paths = job
    if hasattr(os, "nice"):
        # Background work: the window the curator is using gets the processor first.
        with contextlib.suppress(OSError):
            os.nice(5)

    try:
        from saree_app.collection.catalog import Catalog
        from saree_app.knowledge.graph import load_graph_or_none
        from saree_app.model.predict import Predictor

        graph, _problem = load_graph_or_none()
        predictor = Predictor(model, graph=graph, threads=threads, load_graph=False)
        with Catalog(Path(collection)) as catalog:
            sent = 0.0
            last = None
            what = [p if manifest else Path(p) for p, manifest in paths]
            for last in import_paths(catalog, predictor, what, stop.is_set):
                now = time.monotonic()
                if now - sent >= _SEND_EVERY_S or last.finished or last.cancelled:
                    out.put(("progress", last))
                    sent = now
            out.put(("done", last))
    except BaseException as exc:
        out.put(("error", str(exc) or type(exc).__name__, traceback.format_exc()))


def import_in_child(
    collection: Path,
    model: Path | None,
    threads: int | None,
    paths: Sequence[Path | str],
    cancel: Callable[[], bool],
) -> Iterator[Any]:
    """Run `import_paths` in a child process; yields its progress, returns its last one.

    Closing the generator (or `cancel()` turning true) asks the child to stop after the photo
    in hand; everything it stored stays stored.
    """
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    stop = ctx.Event()
    proc = ctx.Process(
        target=_child,
        args=(
            (
                str(collection),
                str(model) if model else None,
                threads,
                [(str(p), isinstance(p, str)) for p in paths],  # a str: a manifest
            ),
            out,
            stop,
        ),
        name="saree-import",
        daemon=True,
    )
    proc.start()
    last = None
    try:
        while True:
            if cancel():
                stop.set()
            try:
                msg = out.get(timeout=0.1)
            except queue_mod.Empty:
                if not proc.is_alive():
                    raise RuntimeError(
                        f"The import stopped unexpectedly (exit code {proc.exitcode}). "
                        "Photos imported so far are kept; import the folder again to resume."
                    ) from None
                continue
            if msg[0] == "progress":
                last = msg[1]
                yield last
            elif msg[0] == "done":
                return msg[1] if msg[1] is not None else last
            else:
                raise RuntimeError(msg[1])
    finally:
        stop.set()
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
