"""Benchmarks run on demand with `saree bench NAME` (never as timed tests)."""
