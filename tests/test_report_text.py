"""The client's report read as its management reads it: nothing of the tool's insides (no
settings keys, no tables still to be filled in, no row of zero tiles, no setup instructions),
Russian words in the Russian report, counts that agree with their nouns by the language's
plural rules, and one term per concept. What was taken out reaches the consultant's note.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest

from workbench.config import defaults
from workbench.i18n import catalogue, plural_category

pytestmark = pytest.mark.slow

# Abbreviations are written in capitals in both languages (ABC, XYZ, RFM, VIP, KAM, CJM, KPI,
# ROMI, HHI, CRM, B2B, ...); any other Latin word in the Russian report is English left behind.
PROPER_NAMES = {"Excel"}  # the program the workbook opens in: a name, not an English word
LATIN_WORD = re.compile(r"(?<![\w@.])[A-Za-z][A-Za-z'’-]*[a-z][A-Za-z'’-]*(?![\w'’-])")


class _Text(HTMLParser):
    """Visible text (no <style>, <title> of the page), the aria labels of the charts, and the
    values of the executive tiles row by row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.tiles: list[list[str]] = []
        self._tile_value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("style", "title", "head"):
            self.skip += 1
        if a.get("aria-label"):
            self.parts.append(str(a["aria-label"]))
        cls = str(a.get("class") or "")
        if "wb-tiles" in cls.split():
            self.tiles.append([])
        if "wb-tile-value" in cls.split():
            self._tile_value = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "head") and self.skip:
            self.skip -= 1
        if tag == "div":
            self._tile_value = False

    def handle_data(self, data: str) -> None:
        if self._tile_value and self.tiles:
            self.tiles[-1].append(data)
        if not self.skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def _read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def _client_strings(root) -> list[str]:
    values: set[str] = set()
    for name, cols in (("ledger", ["customer_name", "product", "manager"]),
                       ("customers", ["customer_name", "manager", "industry"])):
        frame = pd.read_parquet(root / "work" / f"{name}.parquet")
        for col in cols:
            if col in frame:
                values |= {str(v) for v in frame[col].dropna().unique() if str(v)}
    values |= {p.name for p in (root / "data").iterdir()}  # the client's file names
    values |= {"ООО «Демо-Дистрибуция»", "Консалтинговая группа «Вектор»", "ВЕКТОР"}
    return sorted(values, key=len, reverse=True)


def _setting_keys(tree: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(tree, dict):
        for key, value in tree.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.add(path)
            out |= _setting_keys(value, path)
    return out


@pytest.fixture(scope="module", params=["ru", "en"])
def report(request, demo_run, demo_run_en):
    root, res = demo_run if request.param == "ru" else demo_run_en
    html = (res.deliverables / "report.html").read_text(encoding="utf-8")
    text = _read(html)
    plain = text.text
    for client in _client_strings(root):
        plain = plain.replace(client, " ")
    return request.param, html, text, plain, res


def test_the_report_shows_nothing_of_the_tool(report):
    lang, html, text, plain, _ = report
    keys = _setting_keys(defaults())
    leaf_keys = {k.rsplit(".", 1)[-1] for k in keys if "_" in k.rsplit(".", 1)[-1]}
    shown_keys = sorted(k for k in keys if "." in k and re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", plain))
    shown_leaves = sorted(k for k in leaf_keys if re.search(rf"(?<![\w.]){re.escape(k)}(?!\w)", plain))
    assert shown_keys == [] and shown_leaves == []
    for word in ("engagement.yaml", "overrides/", "settings.yaml", "workbench run", "(заполнить)", "(to fill in)",
                 "<!--wb:consultant"):
        assert word not in plain and word not in html, word
    assert not re.search(r"(?<![\w])[a-z]+(?:_[a-z]+)+(?![\w])", plain), "a code in snake_case reached the client"
    zero_rows = [row for row in text.tiles if row and all(set(re.sub(r"\D", "", v)) <= {"0"} for v in row)]
    assert zero_rows == []


def test_the_russian_report_holds_no_english_word(report):
    lang, _, _, plain, _ = report
    if lang != "ru":
        pytest.skip("the English report is checked for Russian by test_report_safety")
    english = sorted(set(LATIN_WORD.findall(plain)) - PROPER_NAMES)
    assert english == []


# Nouns the report counts, with every form a reader would see after a number.
_PREPOSITIONS = r"(?:из|для|у|от|до|без|около|более|менее|свыше|с|со|по|к|о|об|при|в|на|за)"


def _noun_forms(lang: str) -> dict[str, list[str]]:
    return {noun: forms.split("|") for noun, forms in catalogue(lang)["fmt.nouns"].items()}


def test_every_count_agrees_with_its_noun(report):
    lang, _, _, plain, _ = report
    order = ("one", "few", "many") if lang == "ru" else ("one", "other")
    wrong = []
    checked = 0
    for forms in _noun_forms(lang).values():
        by_form = {}
        for category, form in zip(order, forms):
            by_form.setdefault(form, category)
        pattern = "|".join(sorted((re.escape(f) for f in by_form), key=len, reverse=True))
        for m in re.finditer(rf"(?:(?<=\s)|^)((?:{_PREPOSITIONS})\s+)?(\d{{1,3}}(?:[\u00a0 ]\d{{3}})*|\d+)"
                             rf"[\u00a0 ]({pattern})(?![\w-])", plain, flags=re.IGNORECASE | re.MULTILINE):
            if lang == "ru" and m.group(1):  # a preposition governs the case: «из 21 клиента» is right
                continue
            n = int(re.sub(r"\D", "", m.group(2)))
            form = m.group(3).lower()
            want = plural_category(n, lang)
            got = by_form.get(form) or by_form.get(m.group(3))
            checked += 1
            if lang == "en" and got != ("one" if want == "one" else "other"):
                wrong.append(m.group(0))
            if lang == "ru":
                # "few" and genitive singular share a form; a nominative count is wrong when
                # one/few take the "many" form or many takes one/few
                if (want in ("one", "few") and got == "many" and forms[1] != forms[2]) or \
                        (want == "many" and got in ("one", "few") and forms[2] not in (forms[0], forms[1])):
                    wrong.append(m.group(0))
    assert checked >= 3, "the report counts nothing it names: the check would prove nothing"
    assert wrong == []


def test_one_term_per_concept(report):
    lang, _, _, plain, _ = report
    glossary = catalogue(lang)["report.glossary"]
    clashes = sorted({f"{entry['term']}: {m.group(0)}" for entry in glossary for pattern in entry.get("avoid", [])
                      for m in re.finditer(pattern, plain, flags=re.IGNORECASE)})
    assert clashes == []
    terms = [entry["term"] for entry in glossary]
    assert all(term in plain for term in terms)  # the appendix explains each term the report uses
    assert len(terms) == len(set(terms))


def test_what_the_report_leaves_out_reaches_the_consultant(report):
    lang, html, _, _, res = report
    notes = (res.deliverables / "consultant-notes.html").read_text(encoding="utf-8")
    assert "<script" not in notes.lower()
    from workbench.i18n import t

    assert t("report.notes_warning", lang) in notes
    from workbench.report.summary import consultant_findings
    from workbench.steps import load_findings

    step_dir = res.deliverables.parent.parent / "work" / res.month
    notes_text, report_text = _read(notes).text, _read(html).text
    for f in consultant_findings(load_findings(step_dir)):
        assert f["headline"] in notes_text
        assert f["headline"] not in report_text
