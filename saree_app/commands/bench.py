"""`saree bench NAME`: run one benchmark from saree_app.bench and print its report."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from saree_app import bench


def _names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `saree bench`."""
    p = sub.add_parser(
        "bench",
        help="run a benchmark (medians and ratios)",
        description="Benchmarks: " + ", ".join(_names()),
    )
    p.add_argument("name", choices=_names())
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options of that benchmark")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"{bench.__name__}.{args.name}")
    status: int = module.main(args.rest)
    return status
