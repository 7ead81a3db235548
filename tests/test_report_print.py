"""The demo report printed as management would print it: A4, within the page budget, nothing
cut off at a page edge or hidden in a scroll box, every fold-out open, no heading left alone at
the foot of a page, the client and month on every page after the first.

The PDF comes from the product's own path (``workbench run --pdf`` → ``print_pdf``, headless
Chromium); the layout checks drive the same browser over the DevTools protocol with the print
style sheet applied at the width of an A4 page box.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cdp import CHROMIUM, chromium, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

A4_PT = (595.28, 841.89)
# Pages before the appendix: issue 17 asks for about 15; the demo has since gained a CRM deal export
# (issue 14) whose funnel section holds one page of its own.
PAGE_BUDGET = 16
MM = 96 / 25.4            # CSS px per millimetre
# The page boxes of templates/report/report.css: A4 less the side margins (13 mm each).
PORTRAIT_PX = (210 - 2 * 13) * MM
LANDSCAPE_PX = (297 - 2 * 13) * MM
HIDE_APPENDIX = ("<style>.wb-cell:has(#appendix), .wb-cell:has(#appendix) ~ .wb-cell, .wb-footer "
                 "{ display: none !important; }</style></head>")


def _media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in
            re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]


@pytest.fixture(scope="module")
def printed(demo_run, tmp_path_factory):
    """(report.html, the PDF's bytes, the PDF of the report without its appendix)."""
    from workbench.run import print_pdf

    if not CHROMIUM.exists() or not shutil.which("chromium"):
        pytest.skip(f"{CHROMIUM} is missing (make test installs it where it can)")
    _, res = demo_run
    tmp = tmp_path_factory.mktemp("print")
    report = tmp / "report.html"
    shutil.copy(res.deliverables / "report.html", report)
    pdf = tmp / "report.pdf"
    print_pdf(report, pdf, "ru")
    body = tmp / "body.html"
    html = report.read_text(encoding="utf-8")
    assert html.count("</head>") == 1
    body.write_text(html.replace("</head>", HIDE_APPENDIX), encoding="utf-8")
    print_pdf(body, tmp / "body.pdf", "ru")
    return report, pdf.read_bytes(), (tmp / "body.pdf").read_bytes()


def test_the_report_prints_on_a4_within_the_page_budget(printed):
    _, pdf, body = printed
    pages = _media_boxes(pdf)
    assert pages, "no page in the PDF"
    for w, h in pages:  # portrait or landscape A4, never US Letter
        assert sorted((round(w), round(h))) == [595, 842], (w, h)
    body_pages = len(_media_boxes(body))
    assert body_pages <= PAGE_BUDGET, f"{body_pages} pages before the appendix (budget {PAGE_BUDGET})"
    assert len(pages) > body_pages  # the appendix follows on pages of its own
    print(f"report.pdf: {len(pages)} pages, {body_pages} before the appendix")


_CLIPPED = """
(landscape) => {
  const limit = %s + 1;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
      ' in ' + ((el.closest('section[id]') || {}).id || '?');
  const out = [];
  for (const el of document.querySelectorAll('table, figure, .wb-tiles, .wb-finding, .wb-cjm-grid, .wb-callout')) {
    if (!!el.closest('.wb-landscape') !== landscape || el.closest('svg')) continue;
    const w = Math.max(el.scrollWidth, el.getBoundingClientRect().width);
    if (w > limit) out.push(name(el) + ' is ' + Math.round(w) + 'px wide');
  }
  for (const el of document.querySelectorAll('body *')) {   // scroll boxes hide what they cut
    if (el.closest('svg') || !!el.closest('.wb-landscape') !== landscape) continue;
    const s = getComputedStyle(el);
    const clips = [s.overflowX, s.overflowY].some(v => v !== 'visible');
    if (clips && (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1))
      out.push(name(el) + ' hides ' + (el.scrollWidth - el.clientWidth) + 'x' + (el.scrollHeight - el.clientHeight) + 'px');
  }
  return out;
}
"""


def test_nothing_is_clipped_and_every_fold_out_prints_open(printed, tmp_path):
    pytest.importorskip("websocket")
    report, _, _ = printed
    with chromium(tmp_path) as page:
        page.send("Page.navigate", {"url": report.as_uri()})
        wait_for("the report to load", lambda: page.js("document.readyState") == "complete", timeout=30)
        page.send("Emulation.setEmulatedMedia", {"media": "print"})
        offenders = []
        for landscape, width in ((False, PORTRAIT_PX), (True, LANDSCAPE_PX)):
            page.send("Emulation.setDeviceMetricsOverride", {"width": int(width), "height": 1100,
                                                             "deviceScaleFactor": 1, "mobile": False})
            offenders += page.js(f"({_CLIPPED % int(width)})({'true' if landscape else 'false'})")
        assert offenders == []
        closed = page.js("""[...document.querySelectorAll('details')].filter(d =>
            [...d.children].some(c => c.tagName !== 'SUMMARY' && c.getBoundingClientRect().height === 0)).length""")
        assert closed == 0, f"{closed} fold-outs print closed"
        assert page.js("document.querySelectorAll('.wb-landscape').length") >= 1  # wide grids get landscape pages


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.current: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3", "h4"):
            self.depth += 1
            self.current = []

    def handle_endtag(self, tag):
        if tag in ("h2", "h3", "h4") and self.depth:
            self.depth -= 1
            self.found.append(" ".join("".join(self.current).split()))

    def handle_data(self, data):
        if self.depth:
            self.current.append(data)


def _page_lines(pdf_path: Path) -> list[tuple[float, list[tuple[float, str]]]]:
    """Per page: (page height, [(bottom of the line in pt, the line's text)]) from pdftotext's
    word boxes (words on one baseline make a line)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for page in re.findall(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', out, re.DOTALL):
        lines: dict[float, list[tuple[float, str]]] = {}
        for x, y, word in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</word>',
                                     page[1]):
            lines.setdefault(round(float(y), 0), []).append((float(x), unescape(word)))
        pages.append((float(page[0]), [(y, " ".join(w for _, w in sorted(ws))) for y, ws in sorted(lines.items())]))
    return pages


def test_no_heading_ends_a_page_and_every_page_names_client_and_month(printed, tmp_path):
    """A heading is left alone when it is the page's last line of text and sits in the last
    fifth of the page (a heading over a chart is the last text too, but higher up: the chart,
    drawn as outlines, follows it on the page)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian's poppler-utils) is missing: make test installs it where it can")
    report, pdf, _ = printed
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    parser = _Headings()
    parser.feed(report.read_text(encoding="utf-8"))
    headings = {h for h in parser.found if h}
    assert len(headings) > 10
    pages = _page_lines(path)
    assert len(pages) == len(_media_boxes(pdf))
    alone = []
    for i, (height, lines) in enumerate(pages, start=1):
        lines = [(y, x) for y, x in lines if not re.fullmatch(r"Стр\. \d+ из \d+", x)]
        assert lines, f"page {i} is empty"
        if i > 1:
            assert "ООО «Демо-Дистрибуция» · октябрь 2026" in lines[0][1], f"page {i} header: {lines[0][1]!r}"
        y, last = lines[-1]
        if last in headings and y > height * 0.8 and i < len(pages):
            alone.append((i, last))
    assert alone == []
