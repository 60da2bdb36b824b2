"""CSV cells a spreadsheet never runs (OWASP CSV injection): every prefix, every value kind."""

from __future__ import annotations

import csv
import io

import pytest

from saree_app.spreadsheet import cell, unguard, writer

# OWASP's list of dangerous first characters, spelled out here, not read from the code.
DANGEROUS = frozenset("=+-@\t\r\n")

# What an attacker (or an unlucky curator) may type at the start of a cell.
PAYLOADS = (
    "=cmd|' /C calc'!A0",
    "+SUM(1,1)",
    "-2+3",
    "@x",
    '=HYPERLINK("http://evil.example","click")',
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "  =1+1",
    " \t@SUM(A1)",
    "\tplain after a tab",
    "\rplain after a carriage return",
    "'=already quoted",
    "''+twice",
)


def is_safe(text: str) -> bool:
    """Would a spreadsheet read this cell as text (or a plain number), never a formula?"""
    if not text or text[0] == "'":
        return True
    if text[0] in DANGEROUS or text.lstrip()[:1] in DANGEROUS:
        try:
            float(text)
        except ValueError:
            return False
    return True


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_like_text_is_guarded_and_reads_back(payload: str) -> None:
    out = cell(payload)
    assert out.startswith("'")
    assert is_safe(out)
    assert unguard(out) == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_list_cell_is_guarded_too(payload: str) -> None:
    out = cell([payload, "wedding"])
    assert out.startswith("'")
    assert unguard(out) == f"{payload}; wedding"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "yes"),
        (False, "no"),
        (-3.5, "-3.5"),
        ("+12", "+12"),
        ("-0.25e3", "-0.25e3"),
        (7, "7"),
        ("Banarasi", "Banarasi"),
        ("'quoted by the curator", "'quoted by the curator"),
        ("a = b", "a = b"),
    ],
)
def test_plain_values_are_left_alone(value: object, text: str) -> None:
    assert cell(value) == text
    assert unguard(cell(value)) == (text if value is not None else "")


@pytest.mark.parametrize("not_a_number", ["-inf", "+nan", "-1_000", "-1e", "- 1"])
def test_only_plain_decimals_escape_the_guard(not_a_number: str) -> None:
    assert cell(not_a_number) == "'" + not_a_number


def test_writer_quotes_every_cell_so_no_row_splits() -> None:
    buf = io.StringIO()
    w = writer(buf)
    w.writerow(["id", "note"])
    w.writerow(["1", cell("gift\r=1+1")])
    w.writerow(["2", cell('a, b; "c"\nd')])
    text = buf.getvalue()
    assert all(line.startswith('"') for line in text.split("\n") if line and line[0] != "d")
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table == [["id", "note"], ["1", "gift\r=1+1"], ["2", 'a, b; "c"\nd']]
    # A reader that (like some spreadsheets) ends a row at a bare carriage return outside
    # quotes would still find the whole note in one cell: the \r is inside quotes.
    assert '"gift\r=1+1"' in text
