"""The import report: plain text for the command, an HTML section, executive-summary findings."""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.i18n import t
from workbench.ingest import combine_report
from workbench.ingest.messages import _msg


def _money(x: float, lang: str, currency: str) -> str:
    from workbench.report.fmt import money

    return money(x, lang, currency)


def _num(x: float, lang: str) -> str:
    from workbench.report.fmt import number

    return number(x, lang)


def _day(iso: str, lang: str) -> str:
    from workbench.report.fmt import day

    return day(iso, lang) if iso else ""


def _dates_label(f: dict[str, Any], lang: str) -> str:
    labels = t("ingest.date_formats", lang)
    fmts = f.get("date_formats") or {}
    return ", ".join(labels.get(k, k) for k in sorted(fmts, key=lambda k: -fmts[k])) or t("ingest.none", lang)


def _delimiter_label(d: str, lang: str) -> str:
    return str(t("ingest.delimiter_tab", lang)) if d == "\t" else str(t("ingest.delimiter_quoted", lang, d=d))


def _header_where(f: dict[str, Any], lang: str) -> str:
    """Where the header is, in ``lang``: "line 3" / "строка 3"; a cell (Лист1!A4) as it is.
    (``header_row`` is in the engagement's language, the report's may differ.)"""
    if f["format"] == "xlsx" or f.get("header_line") is None:  # the latter: a report from before
        return str(f["header_row"])
    return str(_msg("line", lang, n=f["header_line"]))


def render_report_text(report: dict[str, Any], lang: str) -> str:
    """The human import report printed by ``workbench import`` (plain text)."""
    cur = report.get("currency", "RUB")
    lines = [str(t("ingest.title", lang))]
    for f in report["files"]:
        lines.append("")
        lines.append(t("ingest.file_line", lang, kind=t(f"ingest.kind_{f['kind']}", lang), file=f["file"]))
        if f["format"] == "xlsx":
            lines.append("  " + t("ingest.format_xlsx", lang, sheet=f["sheet"], decimal=f.get("decimal_mark", ""),
                                  dates=_dates_label(f, lang)))
        else:
            lines.append("  " + t("ingest.format_text", lang, encoding=f["encoding"],
                                  delimiter=_delimiter_label(f["delimiter"], lang),
                                  decimal=f.get("decimal_mark", ""), dates=_dates_label(f, lang)))
        lines.append("  " + t("ingest.header_line", lang, row=_header_where(f, lang),
                              header=" | ".join(x for x in f["header"] if x)))
        lines.append("  " + t("ingest.columns_line", lang,
                              columns=", ".join(f"{k} ← «{v}»" if lang == "ru" else f'{k} <- "{v}"'
                                                for k, v in f["columns"].items())))
        if f.get("unmapped"):
            lines.append("  " + t("ingest.unmapped_line", lang, columns=", ".join(f["unmapped"])))
        ex = f["rows_excluded"]
        lines.append("  " + t("ingest.rows_line", lang, read=_num(f["rows_read"], lang),
                              kept=_num(f["rows_imported"], lang), total=ex["total"], blank=ex["blank"]))
        if f.get("total_examples"):
            lines.append("  " + t("ingest.total_examples", lang, examples="; ".join(
                f"{e['row']}: {e['text']}" for e in f["total_examples"])))
        if "returns" in f:
            lines.append("  " + t("ingest.returns_line", lang, count=f["returns"]["count"],
                                  sum=_money(f["returns"]["sum"], lang, cur)))
        dup = f.get("duplicates", {})
        if dup.get("count"):
            key = "ingest.duplicates_drop" if dup.get("action") == "drop" else "ingest.duplicates_keep"
            lines.append("  " + t(key, lang, count=dup["count"]))
        inn = f.get("inn") or {}
        if inn.get("padded"):
            lines.append("  " + t("ingest.inn_padded", lang, count=inn["padded"]))
        if inn.get("invalid"):
            lines.append("  " + t("ingest.inn_invalid", lang, count=inn["invalid"],
                                  examples=", ".join(inn["invalid_examples"])))
        if f.get("inn_from_name"):
            lines.append("  " + t("ingest.inn_from_name", lang, count=f["inn_from_name"]))
        amb = f.get("names_ambiguous") or {}
        if amb.get("count"):
            lines.append("  " + t("ingest.names_ambiguous", lang, count=amb["count"],
                                  examples=", ".join(amb["examples"])))
        if f.get("customers_merged"):
            lines.append("  " + t("ingest.customers_merged", lang, count=f["customers_merged"]))
    lines += combine_report.render_text(report.get("sales_files"), lang, cur)
    tot = report["totals"]
    lines += ["", str(t("ingest.totals_title", lang)),
              "  " + t("ingest.totals_customers", lang, n=_num(tot["customers"], lang)),
              "  " + t("ingest.totals_rows", lang, n=_num(tot["rows"], lang)),
              "  " + t("ingest.totals_period", lang, start=_day(tot["date_from"], lang),
                       end=_day(tot["date_to"], lang))]
    if tot["returns"] == "exclude":
        lines.append("  " + t("ingest.totals_revenue_exclude", lang, revenue=_money(tot["revenue"], lang, cur),
                              returns=_money(tot["returns_sum"], lang, cur)))
    else:
        lines.append("  " + t("ingest.totals_revenue_net", lang, revenue=_money(tot["revenue"], lang, cur)))
    return "\n".join(lines)


def render_import_html(report: dict[str, Any], lang: str, currency: str) -> str:
    """The import section of the report (anchor ``import``), built with workbench.report.html."""
    from workbench.report import html

    tot = report["totals"]
    note = "ingest.html_revenue_note_exclude" if tot["returns"] == "exclude" else "ingest.html_revenue_note_net"
    tiles = html.kpi_tiles([
        (t("ingest.html_rows", lang), _num(tot["rows"], lang), ""),
        (t("ingest.html_customers", lang), _num(tot["customers"], lang), ""),
        (t("ingest.html_period", lang), f"{_day(tot['date_from'], lang)} — {_day(tot['date_to'], lang)}", ""),
        (t("ingest.html_revenue", lang), _money(tot["revenue"], lang, currency), t(note, lang)),
    ])
    parts = [tiles]
    for f in report["files"]:
        items: list[tuple[str, str]] = [
            (t("ingest.html_file", lang), f"{t('ingest.kind_' + f['kind'], lang)}: {f['file']}"),
            (t("ingest.html_encoding", lang), f["sheet"] if f["format"] == "xlsx"
             else f"{f['encoding']}, {_delimiter_label(f['delimiter'], lang)}"),
            (t("ingest.html_header", lang), f"{_header_where(f, lang)}: " + " | ".join(x for x in f["header"] if x)),
            (t("ingest.html_decimal", lang), f.get("decimal_mark", "")),
            (t("ingest.html_dates", lang), _dates_label(f, lang)),
            (t("ingest.html_read", lang), _num(f["rows_read"], lang)),
            (t("ingest.html_excluded_total", lang), _num(f["rows_excluded"]["total"], lang)),
            (t("ingest.html_excluded_blank", lang), _num(f["rows_excluded"]["blank"], lang)),
        ]
        if "returns" in f:
            items.append((t("ingest.html_returns", lang), t("ingest.html_returns_value", lang,
                          count=_num(f["returns"]["count"], lang),
                          sum=_money(f["returns"]["sum"], lang, currency))))
        dup = f.get("duplicates") or {}
        key = "ingest.html_dup_dropped" if dup.get("action") == "drop" else "ingest.html_dup_kept"
        items.append((t("ingest.html_duplicates", lang), t(key, lang, count=_num(dup.get("count", 0), lang))))
        df = pd.DataFrame(items, columns=["param", "value"])
        parts.append(html.table(df, headers={"param": t("ingest.html_param", lang),
                                             "value": t("ingest.html_value", lang)}))
    parts.append(combine_report.render_html(report.get("sales_files"), lang, currency))
    return html.section("import", str(t("ingest.title", lang)), "".join(parts))


def import_findings(report: dict[str, Any], lang: str, currency: str) -> list[dict[str, Any]]:
    """Findings for the executive summary: severity, headline, number, action, weight."""
    from workbench.report.fmt import pct

    tot = report["totals"]
    out: list[dict[str, Any]] = []
    gross = tot.get("revenue_gross") or 0.0
    if tot.get("returns_count"):
        share = abs(tot["returns_sum"]) / gross if gross else 0.0
        out.append({"severity": "risk" if share > 0.10 else "warn" if share > 0.03 else "info",
                    "headline": t("ingest.finding_returns_headline", lang, share=pct(share, lang)),
                    "number": _money(tot["returns_sum"], lang, currency),
                    "action": t("ingest.finding_returns_action", lang), "weight": 5.0 + 50 * share})
    dups = sum((f.get("duplicates") or {}).get("count", 0) for f in report["files"] if f["kind"] == "sales")
    if dups:
        act = "ingest.finding_duplicates_action_drop" if tot["duplicates"] == "drop" \
            else "ingest.finding_duplicates_action_keep"
        out.append({"severity": "warn", "headline": t("ingest.finding_duplicates_headline", lang,
                                                      count=_num(dups, lang)),
                    "number": _num(dups, lang), "action": t(act, lang), "weight": 6.0})
    if tot.get("date_from"):
        start, end = pd.Timestamp(tot["date_from"]), pd.Timestamp(tot["date_to"])
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        short = months < 12
        out.append({"severity": "warn" if short else "info",
                    "headline": t("ingest.finding_period_headline", lang, months=months,
                                  start=_day(tot["date_from"], lang), end=_day(tot["date_to"], lang)),
                    "number": str(months),
                    "action": t("ingest.finding_period_short_action" if short
                                else "ingest.finding_period_ok_action", lang),
                    "weight": 7.0 if short else 1.0})
    bad_inn = sum((f.get("inn") or {}).get("invalid", 0) for f in report["files"])
    if bad_inn:
        out.append({"severity": "warn", "headline": t("ingest.finding_inn_headline", lang, count=_num(bad_inn, lang)),
                    "number": _num(bad_inn, lang), "action": t("ingest.finding_inn_action", lang),
                    "weight": 4.0})
    amb = sum((f.get("names_ambiguous") or {}).get("count", 0) for f in report["files"])
    if amb:
        out.append({"severity": "warn", "headline": t("ingest.finding_ambiguous_headline", lang, count=amb),
                    "number": str(amb), "action": t("ingest.finding_ambiguous_action", lang), "weight": 3.0})
    excluded = sum(f["rows_excluded"]["total"] for f in report["files"])
    if excluded:
        out.append({"severity": "info", "headline": t("ingest.finding_excluded_headline", lang,
                                                      count=_num(excluded, lang)),
                    "number": _num(excluded, lang), "action": t("ingest.finding_excluded_action", lang),
                    "weight": 0.5})
    out += combine_report.findings(report.get("sales_files"), lang, currency)
    if not any(f["severity"] in ("warn", "risk") for f in out):
        out.append({"severity": "ok", "headline": t("ingest.finding_clean_headline", lang),
                    "number": _num(tot["rows"], lang), "action": t("ingest.finding_clean_action", lang),
                    "weight": 0.1})
    return sorted(out, key=lambda f: -f["weight"])
