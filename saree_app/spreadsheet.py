"""CSV a spreadsheet opens as plain text: no cell runs as a formula, no cell splits a row.

Every CSV the app writes goes through `writer` and `cell`. The rules follow OWASP's
CSV-injection guidance: a cell that begins with = + - @, a tab or a line break (or with
spaces and then = + - @) gets a leading apostrophe, which spreadsheets read as "this is
text" and hide; and every cell is quoted, so a comma, quote or bare carriage return inside
a note stays inside its cell. A plain number (-3.5, +12) is left as it is: it is no formula.
`unguard` takes the apostrophe off again when our own CSV is read back.
"""

from __future__ import annotations

import csv
import re
from typing import Any, TextIO

# The characters a spreadsheet may take as the start of a formula, or that break a row.
FORMULA_START = frozenset("=+-@\t\r\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _needs_guard(text: str) -> bool:
    # Apostrophes already in front are looked through, so that `unguard(cell(x)) == x` for
    # every x (a note that really starts with '=... keeps its apostrophe after a round trip).
    bare = text.lstrip("'")
    if bare[:1] in FORMULA_START or bare.lstrip()[:1] in FORMULA_START:
        return _PLAIN_NUMBER.fullmatch(bare.strip()) is None
    return False


def cell(value: Any) -> str:
    """One value as the text of a CSV cell that a spreadsheet shows and never runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if _needs_guard(text) else text


def unguard(text: str) -> str:
    """The value `cell` was given, from the text it wrote (one guarding apostrophe removed)."""
    if text[:1] == "'" and _needs_guard(text[1:]):
        return text[1:]
    return text


def writer(out: TextIO) -> Any:
    """A csv writer that quotes every cell; pass it rows of `cell(...)` texts."""
    return csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
