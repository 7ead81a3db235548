"""Formats, HTML blocks and the workbook builder shared by every section."""
from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook

from workbench.report import fmt
from workbench.report.html import section, table
from workbench.report.summary import pick_findings, render_summary_html
from workbench.report.xlsx import Book


def test_russian_and_english_formats():
    assert fmt.money(1234567, "ru") == "1\u00a0234\u00a0567\u00a0₽"
    assert fmt.money(1234567, "en") == "RUB\u00a01,234,567"
    assert fmt.money(-5, "en", "USD") == "\u2212$5"
    assert fmt.pct(0.125, "ru") == "12,5\u00a0%"
    assert fmt.pct(0.125, "en") == "12.5%"
    assert fmt.number(-1234.5, "ru", 1) == "\u22121\u00a0234,5"
    assert fmt.month("2026-11", "ru") == "ноябрь 2026"
    assert fmt.month("2026-11", "en") == "November 2026"
    assert fmt.money(float("nan")) == "" and fmt.pct(None) == ""


def test_table_escapes_client_text_and_drops_empty_columns():
    df = pd.DataFrame({"name": ['<img src=x onerror=alert(1)>', "ООО «Б»"], "potential": [None, None],
                       "revenue": [1.0, 2.0]})
    html = table(df, numeric=["revenue"], formats={"revenue": lambda v: fmt.money(v)})
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "potential" not in html
    assert '<td class="num">1\u00a0₽</td>' in html


def test_section_anchor_must_be_ours():
    assert section("abc-xyz", "A & B", "<p>x</p>").startswith('<section class="wb-section" id="abc-xyz"><h2 id="h-abc-xyz">A &amp; B</h2>')
    try:
        section('x" onclick="y', "t", "")
    except ValueError:
        pass
    else:
        raise AssertionError("an anchor with quotes was accepted")


def test_summary_keeps_the_most_severe_and_covers_steps():
    findings = [{"step": "segment", "severity": "info", "headline": f"s{i}", "weight": i} for i in range(5)]
    findings += [{"step": "maps", "severity": "risk", "headline": "m", "weight": 1},
                 {"step": "import", "severity": "warn", "headline": "i", "weight": 1}]
    chosen = pick_findings(findings)
    assert [f["headline"] for f in chosen][:2] == ["m", "i"]
    assert 5 <= len(chosen) <= 7
    html = render_summary_html([{"headline": "<b>x</b>", "severity": "risk", "number": "1", "action": "a"}], "en")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "What to do:" in html


def test_workbook_text_never_becomes_a_formula():
    book = Book("en", title="T")
    df = pd.DataFrame({"customer": ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "ok\x0bcontrol"], "n": [1, 2, 3]})
    book.add_table("Customers", df, kinds={"n": "number"})
    buf = io.BytesIO()
    book.workbook().save(buf)
    ws = load_workbook(io.BytesIO(buf.getvalue()))["Customers"]
    cells = [ws.cell(row=r, column=1) for r in (3, 4, 5)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert cells[0].value.startswith("=HYPERLINK")  # shown as text, not run
    assert cells[2].value == "okcontrol"
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:B5"
