"""Formats, HTML blocks and the workbook builder shared by every section."""
from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench.report import fmt
from workbench.report.html import section, table
from workbench.report.summary import (
    consultant_findings,
    finding,
    pick_findings,
    remaining_findings,
    render_summary_html,
)
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
                 {"step": "import", "severity": "warn", "headline": "i", "weight": 1},
                 {"step": "maps", "severity": "risk", "headline": "housekeeping", "weight": 9,
                  "audience": "consultant"}]
    chosen = pick_findings(findings)
    assert [f["headline"] for f in chosen] == ["m", "i", "s4", "s3", "s2"]  # at most five, three per step
    assert [f["headline"] for f in remaining_findings(findings)] == ["s1", "s0"]
    assert [f["headline"] for f in consultant_findings(findings)] == ["housekeeping"]
    lead = finding("segment", "ok", "Revenue up 3 %", weight=0, lead=True)
    assert pick_findings(findings + [lead])[0]["headline"] == "Revenue up 3 %"  # the bridge opens the page
    html = render_summary_html([{"headline": "<b>x</b>", "severity": "risk", "number": "1", "action": "a"}], "en")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "What to do:" in html


def test_a_finding_states_stake_owner_and_date_and_the_title_tells_the_story():
    f = finding("segment", "risk", "Выручка за год упала на 6,1 %", number="−6,1 %", action="Вернуть ушедших",
                weight=10, at_stake=-23_400_000, owner="director", due="2026-12-31")
    assert f["at_stake"] == 23_400_000 and f["due"] == "2026-12-31" and f["audience"] == "management"
    g = finding("maps", "warn", "Карты у Петрова", at_stake=1_250_000, owner="Петров Сергей", due="2026-12-15")
    html = render_summary_html([f, g], "ru")
    title = re.search(r'<p class="wb-action-title">(.*?)</p>', html).group(1)
    assert title == "Выручка за год упала на 6,1 % — на кону 23,4\u00a0млн\u00a0₽; решение — до 31.12.2026."
    assert "Директор по продажам" in html and "Петров Сергей" in html and "31.12.2026" in html
    assert "1,2\u00a0млн\u00a0₽" in html or "1,3\u00a0млн\u00a0₽" in html
    assert html.count("Выручка за год упала на 6,1 %") == 1  # the title; its card opens with the key figure
    assert re.search(r'wb-first"><div class="wb-finding-main"><div class="wb-finding-head">−6,1 %</div>', html)
    h = render_summary_html([g, finding("maps", "warn", "Ушли 12 клиентов", number="12")], "ru")
    assert h.count(">12<") == 0  # a key figure the headline already holds is not repeated under it
    for bad, match in (({"severity": "grave"}, "severity"), ({"audience": "board"}, "audience"),
                       ({"due": "next week"}, "due"), ({"at_stake": float("nan")}, "at_stake")):
        kwargs = {"severity": "warn", **bad}
        severity = kwargs.pop("severity")
        with pytest.raises(ValueError, match=match):
            finding("x", severity, "headline", **kwargs)


def test_consultant_blocks_stay_out_of_the_client_report():
    import nbformat

    from workbench.report.assemble import consultant_blocks, css_string, report_cells
    from workbench.report.html import consultant, kpi_tiles

    body = section("maps", "Карты", "<p>для всех</p>" + consultant("<p>задайте maps.start_month</p>")
                   + kpi_tiles([("карт", "0", ""), ("точек", "0", "")]) + kpi_tiles([("карт", "3", "")]))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": body})]))
    client = report_cells(nb)[0].outputs[0]["data"]["text/html"]
    assert "для всех" in client and "start_month" not in client and 'wb-tile-value">0<' not in client
    assert 'wb-tile-value">3<' in client
    blocks = consultant_blocks(nb)
    assert [title for title, _ in blocks] == ["Карты", "Карты"] and "start_month" in blocks[0][1]
    assert nb.cells[0].outputs[0]["data"]["text/html"] == body  # the notebook keeps everything
    assert css_string('ООО "А" \\ </style>') == '"' + "".join(
        ch if ch.isascii() and ch.isalnum() else f"\\{ord(ch):06x}" for ch in 'ООО "А" \\ </style>') + '"'
    assert "<" not in css_string("</style>") and '"' not in css_string('"')[1:-1]


def test_plural_forms_follow_the_language_rules():
    from workbench.i18n import plural

    forms = "клиент|клиента|клиентов"
    assert [plural(n, forms, "ru") for n in (1, 2, 5, 11, 21, 22, 101, 111, 1.5)] == [
        "клиент", "клиента", "клиентов", "клиентов", "клиент", "клиента", "клиент", "клиентов", "клиента"]
    assert [plural(n, "customer|customers", "en") for n in (0, 1, 2, 21)] == [
        "customers", "customer", "customers", "customers"]
    assert fmt.count(101, "customer", "ru") == "101\u00a0клиент"
    assert fmt.count(1234, "customer", "ru") == "1\u00a0234\u00a0клиента"
    assert fmt.money_short(12_424_743, "ru") == "12,4\u00a0млн\u00a0₽" and fmt.money_short(850_000, "en") == "RUB\u00a0850k"
    assert fmt.money_short(12_000_000, "ru") == "12\u00a0млн\u00a0₽"


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


def test_rules_are_plain_words_and_settings_keys_stay_with_the_consultant():
    from workbench.report.rules import rules_frame, settings_table

    values = {"abc.a": 0.8, "abc.b": 0.15, "lifecycle.lost_days": 365, "xyz.method": "regularity",
              "xyz.regular_x": 0.75, "xyz.regular_y": 0.5, "xyz.period": "month", "xyz.min_periods": 6,
              "xyz.x": 0.1, "xyz.y": 0.25, "healthy_mix.vip": [0.0, 0.05], "healthy_mix.strategic": [0.15, 0.2],
              "healthy_mix.typical": [0.6, 0.7], "healthy_mix.ballast": [0.0, 0.25]}
    df = rules_frame(values, "segmentation", "ru")
    rules = dict(zip(df["rule"], df["meaning"]))
    assert rules["ABC"] == ("A — клиенты, дающие первые 80\u00a0% выручки; B — следующие 15\u00a0%; C — остальные. "
                            "Клиент на границе остаётся в верхнем классе.")
    assert rules["XYZ"].startswith("По регулярности закупок: X — покупали не реже чем в 75\u00a0% месяцев окна")
    assert list(df["rule"]).count("XYZ") == 1  # the rule of the method used, not both
    assert rules["Ушедший клиент"] == "Без покупок больше 365 дн."
    assert "VIP до 5\u00a0%, стратегические 15\u00a0%–20\u00a0%" in rules["Здоровая структура базы"]
    assert "Окно анализа" not in rules  # a rule whose values are missing is not shown half-filled
    assert not re.search(r"[a-z_]+\.[a-z_]+", " ".join(df["meaning"]))  # no key like abc.a
    cv = dict(zip(*rules_frame({k: v for k, v in values.items() if k != "xyz.method"}, "segmentation", "en")
                  .to_dict("list").values()))
    assert cv["XYZ"].startswith("By how much revenue per period varies: X within 10% of the average")
    raw = settings_table(values, "segmentation", "ru")
    assert raw.startswith("<!--wb:consultant-->") and "segmentation.abc.a" in raw


def test_a_cut_list_points_to_the_sheet_holding_all_of_it():
    df = pd.DataFrame({"name": [f"К{i}" for i in range(12)]})
    html = table(df, max_rows=10, sheet="Ключевые клиенты", lang="ru")
    assert html.count("<tr>") == 11  # header and ten rows
    assert "Показаны первые 10 из 12; полный список — в книге Excel, лист «Ключевые клиенты»." in html
    assert "<caption>" not in table(df, max_rows=12, sheet="Ключевые клиенты")


def test_reference_blocks_move_to_the_appendix_under_their_section():
    import nbformat

    from workbench.report.assemble import appendix_blocks, report_cells
    from workbench.report.html import appendix, landscape

    body = section("cjm", "Карты пути", "<p>правила этапов</p>" + appendix(landscape("<table><tr><td>сетка</td></tr></table>")))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": body})]))
    client = report_cells(nb)[0].outputs[0]["data"]["text/html"]
    assert "правила этапов" in client and "сетка" not in client
    moved = appendix_blocks([nb])
    assert moved.startswith('<div class="wb-landscape"><section class="wb-section" id="appendix-cjm">')
    assert "Карты пути" in moved and "сетка" in moved


def test_a_heading_travels_with_its_chart():
    import nbformat

    from workbench.report.assemble import report_cells

    body = section("abc-xyz", "Матрица", '<figure class="wb-chart"><svg class="wb-svg"></svg></figure><p>текст</p>',
                   level=3)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": body})]))
    html = report_cells(nb)[0].outputs[0]["data"]["text/html"]
    assert '<div class="wb-keep"><h3 id="h-abc-xyz">Матрица</h3><figure class="wb-chart">' in html
    assert html.endswith("</figure></div><p>текст</p></section>")


def test_notebook_only_blocks_reach_neither_the_report_nor_the_note():
    import nbformat

    from workbench.report.assemble import appendix_blocks, consultant_blocks, report_cells
    from workbench.report.html import appendix, consultant, notebook_only

    body = section("maps", "Карты", "<p>календарь</p>" + notebook_only("<table><tr><td>точка 1</td></tr></table>")
                   + consultant("<p>заметка</p>" + notebook_only("<p>деталь</p>")) + appendix("<p>справка</p>"))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": body})]))
    client = report_cells(nb)[0].outputs[0]["data"]["text/html"]
    assert "календарь" in client and "точка 1" not in client
    assert "деталь" not in "".join(b for _, b in consultant_blocks(nb)) and "заметка" in consultant_blocks(nb)[0][1]
    assert "справка" in appendix_blocks([nb]) and "точка 1" not in appendix_blocks([nb])
    assert "точка 1" in nb.cells[0].outputs[0]["data"]["text/html"]  # the notebook keeps it
