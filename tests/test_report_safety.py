"""Client text is hostile until proven otherwise, and every report speaks one language.

An engagement whose customer, product and manager names are HTML, script and
spreadsheet-formula payloads is run end to end; the HTML is parsed (no script, no event
handlers, no javascript: links, no external sources) and the workbook's XML is read
(no formula cell holds client text). Then the Russian and English reports are checked
for the other language's template text.
"""
from __future__ import annotations

import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from workbench.config import render_template
from workbench.demo import generate
from workbench.i18n import catalogue
from workbench.run import run_engagement

pytestmark = pytest.mark.slow

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    '<a href="javascript:alert(3)">жми</a>',
    "<svg onload=alert(4)>",
    "</style><style>body{display:none}</style>",
    '=HYPERLINK("http://evil.example","клик")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "$\\frac{1}{2}$ mathtext",
    "{{7*7}} {0} %s ${x}",
    "ООО «Кавычки \"двойные\" и 'одинарные'»",
    "javascript:alert(5)",
    "Упр\x0bсимвол\x07",
    "<iframe src=//evil.example>",
]


def hostile_engagement(root: Path) -> Path:
    sales, customers = generate()
    names = sorted(customers["customer_name"].tolist())
    swap = dict(zip(names[: len(PAYLOADS)], PAYLOADS))
    # give the payloads to some of the biggest customers too, so they reach every list and chart
    top = sales.groupby("customer_name")["amount"].sum().sort_values(ascending=False).index[:4]
    for name, payload in zip(top, ["<b onmouseover=alert(6)>VIP</b>", "=1+1", "@cmd", "<script>x</script>VIP"]):
        swap[name] = payload
    sales["customer_name"] = sales["customer_name"].replace(swap)
    # an .xlsx cannot hold control characters at all: they reach the workbench through the CSV
    customers["customer_name"] = customers["customer_name"].replace(swap).str.replace(r"[\x00-\x1f]", "", regex=True)
    sales["product"] = sales["product"].where(sales.index % 7 != 0, "<img src=x onerror=alert(7)>")
    sales["manager"] = sales["manager"].replace({"Иванова Анна": "=HYPERLINK(\"http://x\")",
                                                 "Петров Сергей": "<script>m()</script>"})
    customers["manager"] = customers["manager"].replace({"Иванова Анна": "=HYPERLINK(\"http://x\")",
                                                         "Петров Сергей": "<script>m()</script>"})
    data = root / "data"
    data.mkdir(parents=True)
    out = sales.assign(date=sales["date"].dt.strftime("%d.%m.%Y"))
    out.to_csv(data / "sales.csv", sep=";", index=False, decimal=",", encoding="utf-8")
    write_text_xlsx(customers, data / "customers.xlsx")
    (root / "engagement.yaml").write_text(
        render_template("<script>alert('client')</script> ООО «Х»", "ru", "data/sales.csv", "data/customers.xlsx")
        .replace('  firm: ""   ', '  firm: "<img src=x onerror=alert(8)>"', 1), encoding="utf-8")
    return root


def write_text_xlsx(df: pd.DataFrame, path: Path) -> None:
    """An xlsx whose text cells are text (as a CRM writes names starting with "="), not formulas."""
    from openpyxl import Workbook

    from workbench.report.xlsx import set_value

    wb = Workbook()
    ws = wb.active
    for j, col in enumerate(df.columns, start=1):
        set_value(ws.cell(row=1, column=j), col)
    for i, row in enumerate(df.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            set_value(ws.cell(row=i, column=j), value)
    wb.save(path)


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts = 0
        self.handlers: list[tuple[str, str]] = []
        self.bad_urls: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()
        self.svgs: list[list[tuple[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "svg":
            self.svgs.append(attrs)
        if tag in ("script", "iframe", "object", "embed", "base", "link", "meta") and tag != "meta":
            self.scripts += 1
        for name, value in attrs:
            value = value or ""
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
            if name.lower() in ("src", "href", "action", "formaction", "xlink:href"):
                v = value.strip().lower()
                if tag in ("use", "image") and not (v.startswith("#") or v.startswith("data:image/png;")):
                    self.bad_urls.append(value)  # an SVG reference points inside the chart only
                if v.startswith("javascript:") or re.match(r"^(https?:)?//", v):
                    self.bad_urls.append(value)
                if tag == "img" and not v.startswith("data:image/"):
                    self.bad_urls.append(value)
            if name in ("alt", "aria-label"):
                self.text.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = hostile_engagement(tmp_path_factory.mktemp("hostile") / "engagements" / "hostile")
    res = run_engagement(root, echo=lambda m: None)
    return root, res


def test_hostile_names_are_inert_in_the_html(hostile_run):
    _, res = hostile_run
    html = (res.deliverables / "report.html").read_text(encoding="utf-8")
    audit = Audit()
    audit.feed(html)
    assert audit.scripts == 0
    assert audit.handlers == []
    assert audit.bad_urls == []
    assert {"script", "iframe", "foreignobject"}.isdisjoint(audit.tags)
    # every <svg> is one of our charts (glyph outlines, no client markup), never a client's "<svg onload=...>"
    assert audit.svgs and all(("class", "wb-svg") in attrs and ("role", "img") in attrs for attrs in audit.svgs)
    text = "".join(audit.text)
    # the payloads are shown to the reader as text, not swallowed
    assert "<script>x</script>VIP" in text and "<b onmouseover=alert(6)>VIP</b>" in text
    assert '=HYPERLINK("http://x")' in text  # a manager
    assert "<script>alert('client')</script> ООО «Х»" in text
    assert "<img src=x onerror=alert(8)>" in text  # the consulting firm


def test_no_formula_cell_holds_client_text(hostile_run):
    _, res = hostile_run
    with zipfile.ZipFile(res.deliverables / "workbook.xlsx") as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        formulas = [m for n in sheets for m in re.findall(r"<f>(.*?)</f>", z.read(n).decode())]
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
        inline = "".join(z.read(n).decode() for n in sheets)
    assert formulas == []
    xml = (strings + inline).replace("&quot;", '"')
    assert '=HYPERLINK("http://x")' in xml  # there, as text
    assert ">=1+1<" in xml


def test_segments_csv_defuses_formulas(hostile_run):
    _, res = hostile_run
    df = pd.read_csv(res.deliverables / "segments.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    names = set(df["customer_name"])
    assert "'=1+1" in names and "'@cmd" in names and "'+1+2" in names and "'-2+3" in names
    assert not any(n[:1] in "=+-@\t\r" for n in names)


def test_control_characters_never_crash_the_writer(hostile_run):
    root, res = hostile_run
    customers = pd.read_parquet(root / "work" / "customers.parquet")
    names = [n for n in customers["customer_name"] if n.startswith("Упр")]
    assert names == ["Упр символ"]  # a vertical tab reads as a space, the bell is dropped
    assert not customers["customer_name"].str.contains(r"[\x00-\x1f\x7f]", regex=True).any()


# --- one language per report ------------------------------------------------------------
def _visible_text(html: str) -> str:
    audit = Audit()
    audit.feed(html)
    return "\n".join(audit.text)


def _client_strings(root: Path) -> list[str]:
    ledger = pd.read_parquet(root / "work" / "ledger.parquet")
    customers = pd.read_parquet(root / "work" / "customers.parquet")
    values: set[str] = set()
    frames = [(ledger, ["customer_name", "product", "manager"]),
              (customers, ["customer_name", "manager", "industry"])]
    if (root / "work" / "deals.parquet").is_file():  # the CRM's deals: titles, stages, reasons are the client's
        frames.append((pd.read_parquet(root / "work" / "deals.parquet"),
                       ["deal_name", "customer_name", "pipeline", "stage", "manager", "source", "lost_reason"]))
    for frame, cols in frames:
        for col in cols:
            values |= {str(v) for v in frame[col].dropna().unique() if str(v)}
    import json

    def strings(node: object) -> None:  # headers, sheet and file names quoted by the import report
        if isinstance(node, str):
            values.add(node)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k not in ("header_row", "row", "lang"):  # the report's own words, not the client's
                    strings(v)
        elif isinstance(node, list):
            for v in node:
                strings(v)

    strings(json.loads((root / "work" / "import_report.json").read_text(encoding="utf-8")))
    from workbench.config import load_engagement
    from workbench.io.activitylog import read_activity_log

    eng = load_engagement(root)
    log = eng.input_path("activities")
    if log is not None:  # the contact log: people, positions and results are the client's words
        raw = read_activity_log(log, log.name, columns=eng.settings["inputs"]["activities"]["columns"])
        for col in raw.columns:
            values |= {str(v) for v in raw[col].unique() if str(v)}
    values |= {"ООО «Демо-Дистрибуция»", "Консалтинговая группа «Вектор»", "Новый каталог расходных материалов",
               "Маркировка упаковки", "ВЕКТОР"}
    return sorted(values, key=len, reverse=True)


def _template_sentences(lang: str) -> list[str]:
    out = []
    for value in catalogue(lang).values():
        if isinstance(value, str) and "{" not in value and len(value) >= 14 and re.search(r"[A-Za-zА-Яа-я]{4}", value):
            out.append(value)
    return out


@pytest.mark.parametrize("lang, other", [("ru", "en"), ("en", "ru")])
def test_a_report_holds_no_template_text_of_the_other_language(demo_run, tmp_path, lang, other):
    import shutil

    src, res = demo_run
    root = tmp_path / "engagements" / "demo"
    shutil.copytree(src, root, ignore=shutil.ignore_patterns(".workbench.lock"))
    out = run_engagement(root, lang=lang, echo=lambda m: None).deliverables
    text = _visible_text((out / "report.html").read_text(encoding="utf-8"))
    leaked = [s for s in _template_sentences(other) if s in text and s not in _template_sentences(lang)]
    assert leaked == []
    if lang == "en":
        for client in _client_strings(root):
            text = text.replace(client, "")
        cyrillic = sorted({m for m in re.findall(r"[^\s]*[А-Яа-яЁё][^\s]*", text)})
        assert cyrillic == []
