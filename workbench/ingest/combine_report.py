"""The sales files part of the import report: files, months and their source, corrections,
files read as no input. Text (``workbench import``), HTML (report.html), workbook sheets
and executive-summary findings, from the ``sales_files`` section of the import report."""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.i18n import t


def _money(x: float | None, lang: str, currency: str, decimals: int = 0) -> str:
    from workbench.report.fmt import money

    return money(x, lang, currency, decimals) if x is not None else "—"


def _signed(x: float, lang: str, currency: str, decimals: int = 0) -> str:
    text = _money(x, lang, currency, decimals)
    return text if x < 0 or text.startswith(("-", "−")) else "+" + text


def _num(x: float, lang: str) -> str:
    from workbench.report.fmt import number

    return number(x, lang)


def _day(iso: str | None, lang: str) -> str:
    from workbench.report.fmt import day

    return day(iso, lang) if iso else ""


def _month_text(m: dict[str, Any], policy: str, lang: str, currency: str, detail: bool) -> str:
    files = ", ".join(s["file"] for s in m["sources"]) or "—"
    text = t("sources.month_one", lang, month=m["month"], file=files)
    extra = []
    if detail:
        extra.append(t("sources.month_rows", lang, rows=_num(m["rows"], lang), revenue=_money(m["revenue"], lang,
                                                                                               currency)))
    key = "sources.month_dropped_newest" if policy == "newest_file_wins" else "sources.month_dropped_dedupe"
    extra += [t(key, lang, file=d["file"], rows=_num(d["rows"], lang), amount=_money(d["amount"], lang, currency))
              for d in m["dropped"]]
    return text + ("; " + "; ".join(extra) if extra else "")


def month_lines(section: dict[str, Any], lang: str, currency: str) -> list[str]:
    """One line per month that mixes files or drops rows; runs of plain months from one
    file in one line (``2024-11 … 2026-08: sales.csv``)."""
    lines: list[str] = []
    run: list[dict[str, Any]] = []
    multi = len(section["files"]) > 1

    def flush() -> None:
        if not run:
            return
        file = run[0]["sources"][0]["file"]
        if len(run) == 1:
            lines.append(t("sources.month_one", lang, month=run[0]["month"], file=file))
        else:
            lines.append(t("sources.month_range", lang, start=run[0]["month"], end=run[-1]["month"], file=file))
        run.clear()

    prev = None
    for m in section["months"]:
        plain = len(m["sources"]) == 1 and not m["dropped"]
        consecutive = prev is not None and pd.Period(m["month"], "M") == pd.Period(prev, "M") + 1
        if plain and run and consecutive and run[0]["sources"][0]["file"] == m["sources"][0]["file"]:
            run.append(m)
        elif plain:
            flush()
            run.append(m)
        else:
            flush()
            lines.append(_month_text(m, section["policy"], lang, currency, multi))
        prev = m["month"]
    flush()
    return lines


def unmatched_lines(unmatched: list[dict[str, Any]], lang: str) -> list[str]:
    """The files read as no input, each with why, its header, and the lines to set."""
    if not unmatched:
        return []
    reasons = t("sources.unmatched_reason", lang)
    fixes = t("sources.unmatched_fix", lang)
    roles = t("sources.role", lang)
    out = [t("sources.unmatched_title", lang, n=len(unmatched))]
    for u in unmatched:
        what = [reasons.get(u["reason"], u["reason"])]
        if u["missing"]:
            what.append(t("sources.unmatched_missing", lang, columns=", ".join(roles.get(m, m) for m in u["missing"])))
        if u["headers"]:
            what.append(t("sources.unmatched_headers", lang, headers=" | ".join(u["headers"][:12])))
        out.append(f"  {u['path']}: " + "; ".join(what))
        for fix in u["lines"]:
            out.append("    " + fixes[fix["key"]])
            out.append(f"      {fix['key']}: {fix['line']}")
    return out


def _split(corr: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(months corrected by a file no earlier report was built from, months corrected before)."""
    months = corr.get("months") or []
    return [m for m in months if m.get("new", True)], [m for m in months if not m.get("new", True)]


def correction_lines(section: dict[str, Any], lang: str, currency: str, limit: int = 20) -> list[str]:
    """The corrections of past months: new ones document by document, those an earlier
    report showed already in one line each."""
    corr = section["corrections"]
    if not corr["count"]:
        return []
    changes = t("sources.change", lang)
    new, old = _split(corr)
    rows = pd.DataFrame(corr["rows"])
    out: list[str] = []
    if new:
        count = sum(m["documents"] for m in new)
        out += [t("sources.corrections_title", lang, count=count), "  " + t("sources.corrections_note", lang)]
    for m in new:
        line = t("sources.correction_month", lang, month=m["month"], before_file=m["file_before"],
                 after_file=m["file_after"], before=_money(m["before"], lang, currency),
                 after=_money(m["after"], lang, currency), difference=_signed(m["difference"], lang, currency),
                 documents=m["documents"])
        if m["reported"]:
            line += "; " + t("sources.correction_reported", lang, last=corr.get("reported_through", ""))
        out.append("  " + line)
        shown = rows[rows["month"] == m["month"]].head(limit) if len(rows) else rows
        for r in shown.to_dict("records"):
            key = "sources.correction_row" if r["document"] else "sources.correction_row_nodoc"
            out.append("    " + t(key, lang, document=r["document"], date=_day(r["date"], lang), customer=r["customer"],
                                  before=_money(r["before"], lang, currency, 2),
                                  after=_money(r["after"], lang, currency, 2),
                                  difference=_signed(r["difference"], lang, currency, 2),
                                  change=changes[r["change"]]))
        more = m["documents"] - len(shown)
        if more > 0:
            out.append("    " + t("sources.corrections_more", lang, n=more))
    if old:
        out.append(t("sources.corrections_earlier", lang, months="; ".join(
            t("sources.correction_earlier_month", lang, month=m["month"], after_file=m["file_after"],
              difference=_signed(m["difference"], lang, currency), documents=m["documents"]) for m in old)))
    return out


def render_text(section: dict[str, Any] | None, lang: str, currency: str) -> list[str]:
    """Lines of the plain-text import report (after the files, before the totals)."""
    if not section:
        return []
    files = section["files"]
    lines = ["", t("sources.files_title", lang, n=len(files), policy=section["policy"])]
    for i, f in enumerate(files, start=1):
        line = t("sources.file_line", lang, i=i, file=f["file"], first=_day(f["first"], lang),
                 last=_day(f["last"], lang), rows=_num(f["rows"], lang), used=_num(f["rows_used"], lang))
        if f["found_by"]:
            line += "; " + t("sources.found_by", lang, pattern=f["found_by"])
        lines.append("  " + line)
    if len(files) > 1:
        lines.append("  " + t("sources.newest_rule", lang))
    lines.append(t("sources.months_title", lang))
    lines += ["  " + x for x in month_lines(section, lang, currency)]
    corrections = correction_lines(section, lang, currency)
    if corrections:
        lines += ["", *corrections]
    unmatched = unmatched_lines(section.get("unmatched") or [], lang)
    if unmatched:
        lines += ["", *unmatched]
    return lines


def unmatched_notice(report: dict[str, Any], lang: str) -> list[str]:
    """For ``run`` and ``batch``: the files of data/ read as no input, each with the lines
    to set in engagement.yaml (none when every file is an input)."""
    return unmatched_lines((report.get("sales_files") or {}).get("unmatched") or [], lang)


# --- report.html ----------------------------------------------------------------------
def months_frame(section: dict[str, Any], lang: str, currency: str) -> pd.DataFrame:
    policy = section["policy"]
    key = "sources.month_dropped_newest" if policy == "newest_file_wins" else "sources.month_dropped_dedupe"
    return pd.DataFrame([{
        "month": m["month"], "sources": ", ".join(s["file"] for s in m["sources"]),
        "rows": m["rows"], "revenue": m["revenue"],
        "dropped": "; ".join(t(key, lang, file=d["file"], rows=_num(d["rows"], lang),
                                amount=_money(d["amount"], lang, currency)) for d in m["dropped"]),
    } for m in section["months"]], columns=["month", "sources", "rows", "revenue", "dropped"])


def corrections_frame(section: dict[str, Any], lang: str) -> pd.DataFrame:
    """One row per corrected document; ``new``: "yes" unless an earlier report showed it."""
    changes = t("sources.change", lang)
    cols = ["month", "document", "date", "customer", "before", "after", "difference", "change",
            "file_before", "file_after", "new"]
    rows = pd.DataFrame(section["corrections"]["rows"])
    if not len(rows):
        return pd.DataFrame(columns=cols)
    rows["change"] = rows["change"].map(changes)
    fresh = rows["new"] if "new" in rows else pd.Series(True, index=rows.index)
    rows["new"] = fresh.map({True: t("sources.new_yes", lang), False: t("sources.new_no", lang)})
    return rows[cols]


def _headers(lang: str) -> dict[str, str]:
    keys = ("month", "sources", "rows", "revenue", "dropped", "document", "date", "customer", "before", "after",
            "difference", "change", "file_before", "file_after", "file", "period", "used", "found", "new")
    return {k: str(t(f"sources.html_{k}", lang)) for k in keys}


def render_html(section: dict[str, Any] | None, lang: str, currency: str) -> str:
    """The sales files part of the import section: files, corrections, months (collapsed)."""
    if not section:
        return ""
    from workbench.report import html

    hd = _headers(lang)
    parts = []
    files = pd.DataFrame([{
        "file": f["file"], "period": f"{_day(f['first'], lang)} — {_day(f['last'], lang)}",
        "rows": f["rows"], "used": f["rows_used"],
        "found": f["found_by"] or t("sources.html_found_named", lang)} for f in section["files"]])
    parts.append(html.table(files, headers=hd, formats={"rows": lambda v: _num(v, lang), "used": lambda v: _num(v, lang)},
                            numeric=("rows", "used")))
    if len(section["files"]) > 1:
        parts.append(html.para(t("sources.newest_rule", lang)))
    corr = section["corrections"]
    new, old = _split(corr)
    def money2(v: Any) -> str:
        return "" if v is None or pd.isna(v) else _money(v, lang, currency, 2)

    formats = {"before": money2, "after": money2, "difference": lambda v: _signed(v, lang, currency, 2),
               "date": lambda v: _day(v, lang)}
    frame = corrections_frame(section, lang)
    if new:
        fresh = frame[frame["new"] == t("sources.new_yes", lang)].drop(columns=["new"])
        parts.append(html.callout(str(t("sources.corrections_title", lang, count=len(fresh))).rstrip(":") + ". "
                                  + t("sources.corrections_note", lang), "warn"))
        parts.append(html.table(fresh, headers=hd, formats=formats, numeric=("before", "after", "difference")))
    if old:
        earlier = frame[frame["new"] != t("sources.new_yes", lang)].drop(columns=["new"])
        parts.append(html.details(correction_lines({"corrections": {**corr, "months": old}}, lang, currency)[-1],
                                  html.table(earlier, headers=hd, formats=formats,
                                             numeric=("before", "after", "difference"))))
    months = months_frame(section, lang, currency)
    parts.append(html.details(t("sources.html_months_details", lang, n=len(months)),
                              html.table(months, headers=hd, numeric=("rows", "revenue"),
                                         formats={"rows": lambda v: _num(v, lang),
                                                  "revenue": lambda v: _money(v, lang, currency)}),
                              open_=False))
    unmatched = section.get("unmatched") or []
    if unmatched:
        parts.append(html.callout("\n".join(unmatched_lines(unmatched, lang)), "warn"))
    return html.section("import-files", str(t("sources.html_title", lang)), "".join(parts), level=3)


# --- findings and the workbook -------------------------------------------------------------
def findings(section: dict[str, Any] | None, lang: str, currency: str) -> list[dict[str, Any]]:
    """Executive-summary findings: corrections of past months (management) and files read
    as no input (the consultant's housekeeping)."""
    if not section:
        return []
    out: list[dict[str, Any]] = []
    new, _ = _split(section["corrections"])
    if new:  # corrections an earlier report showed already are not news
        total = sum(m["difference"] for m in new)
        out.append({"severity": "warn", "weight": 8.0, "audience": "management",
                    "headline": t("sources.finding_corrections_headline", lang,
                                  months=", ".join(m["month"] for m in new)),
                    "number": _signed(total, lang, currency),
                    "action": t("sources.finding_corrections_action", lang), "at_stake": abs(float(total))})
    unmatched = section.get("unmatched") or []
    if unmatched:
        out.append({"severity": "warn", "weight": 6.5, "audience": "consultant",
                    "headline": t("sources.finding_unmatched_headline", lang, n=len(unmatched)),
                    "number": _num(len(unmatched), lang), "action": t("sources.finding_unmatched_action", lang)})
    return out


def add_sheets(book: Any, section: dict[str, Any] | None, lang: str, currency: str) -> None:
    """Sheets «Months by file» and, when a new file corrects past months, «Corrections»."""
    if not section:
        return
    hd = _headers(lang)
    if section["corrections"]["count"]:
        book.add_table(t("sources.sheet_corrections", lang), corrections_frame(section, lang),
                       title=t("sources.sheet_corrections_title", lang), headers=hd,
                       kinds={"before": "money2", "after": "money2", "difference": "money2"},
                       widths={"customer": 36}, landscape=True)
    book.add_table(t("sources.sheet_months", lang), months_frame(section, lang, currency),
                   title=t("sources.sheet_months_title", lang, policy=section["policy"]), headers=hd,
                   kinds={"revenue": "money", "rows": "int"}, widths={"dropped": 60}, wrap=("dropped",))
