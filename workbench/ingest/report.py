"""The import report: plain text for the command, an HTML section, executive-summary findings,
and the workbook sheets (how the files were read; possible duplicates).

Everything the import decided is said here: each column's role and why, the VAT basis of
revenue, how the amount was made, the rows left out (totals, blanks, statuses that are not
sales, rows without a customer) with their amounts, and who may be one customer.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.i18n import t
from workbench.ingest import combine_report
from workbench.ingest.deal_report import deal_findings, deal_report_lines
from workbench.ingest.messages import _msg

SHOWN_PAIRS = 10  # possible duplicates and INNs under several names printed by the command


def _money(x: float, lang: str, currency: str) -> str:
    from workbench.report.fmt import money

    return money(x, lang, currency)


def _num(x: float, lang: str) -> str:
    from workbench.report.fmt import number

    return number(x, lang)


def _day(iso: str, lang: str) -> str:
    from workbench.report.fmt import day

    return day(iso, lang) if iso else ""


def _q(text: str, lang: str) -> str:
    return f"«{text}»" if lang == "ru" else f'"{text}"'


def _dates_label(f: dict[str, Any], lang: str) -> str:
    labels = t("ingest.date_formats", lang)
    fmts = f.get("date_formats") or {}
    text = ", ".join(labels.get(k, k) for k in sorted(fmts, key=lambda k: -fmts[k])) or t("ingest.none", lang)
    order = f.get("date_order") or {}
    if any("/" in k for k in fmts):
        if order.get("order") == "mdy":
            text += " " + t("ingest.date_mdy_proven" if order.get("proven") else "ingest.date_mdy_set", lang)
        elif order.get("ambiguous"):
            text += " " + t("ingest.date_ambiguous", lang)
    if f.get("date_in_text"):
        text += " " + t("ingest.date_in_text", lang)
    return text


def _encoding_label(encoding: str) -> str:
    """An encoding as a reader knows it: Python's «utf-8-sig» is UTF-8 with a byte-order mark."""
    return "utf-8 (BOM)" if encoding == "utf-8-sig" else encoding


def _delimiter_label(d: str, lang: str) -> str:
    return str(t("ingest.delimiter_tab", lang)) if d == "\t" else str(t("ingest.delimiter_quoted", lang, d=d))


def _header_where(f: dict[str, Any], lang: str) -> str:
    """Where the header is, in ``lang``: "line 3" / "строка 3"; a cell (Лист1!A4) as it is.
    (``header_row`` is in the engagement's language, the report's may differ.)"""
    if f["format"] == "xlsx" or f.get("header_line") is None:  # the latter: a report from before
        return str(f["header_row"])
    return str(_msg("line", lang, n=f["header_line"]))


def role_label(role: str, lang: str) -> str:
    return str(_msg("role", lang).get(role, role)) if role else ""


def column_reason(c: dict[str, Any], lang: str) -> str:
    """Why a column got its role, in ``lang`` (``ingest.reason.*``)."""
    detail = c.get("detail", "")
    if c["reason"] == "other_basis":
        detail = t(f"ingest.basis.{detail}", lang)
    elif c["reason"] == "not_numbers":
        detail = role_label(detail, lang)
    text = str(t(f"ingest.reason.{c['reason']}", lang, detail=detail))
    if c["reason"] == "seller" and detail:
        text += str(t("ingest.reason_seller_value", lang, value=_q(detail, lang)))
    return text


def column_lines(f: dict[str, Any], lang: str) -> list[str]:
    """One line per column of the file: «label» → role (why), or not used (why)."""
    arrow = "→" if lang == "ru" else "->"
    out = []
    for c in f.get("roles") or []:
        if not c["column"]:
            continue
        role = role_label(c["role"], lang) if c["role"] else ""
        role = role if c["used"] else (f"{role}, {t('ingest.unused', lang)}" if role else t("ingest.unused", lang))
        out.append(f"{_q(c['column'], lang)} {arrow} {role} ({column_reason(c, lang)})")
    return out


def amount_line(f: dict[str, Any], lang: str) -> str:
    """How the amount was made and on which VAT basis."""
    a = f.get("amount") or {}
    cols = [_q(c, lang) for c in a.get("columns", [])]
    if not cols:
        return ""
    how = a.get("how", "column")
    made = {"net_from_gross": " − ".join(cols), "gross_from_net": " + ".join(cols),
            "quantity_price": " × ".join(cols)}.get(how, cols[0])
    return str(t("ingest.amount_line", lang, made=made, basis=t(f"ingest.basis.{a.get('basis', 'unknown')}", lang)))


def _file_lines(f: dict[str, Any], lang: str, cur: str) -> list[str]:
    lines = [t("ingest.file_line", lang, kind=t(f"ingest.kind_{f['kind']}", lang), file=f["file"])]
    if f["format"] == "xlsx":
        lines.append(t("ingest.format_xlsx", lang, sheet=f["sheet"], decimal=f.get("decimal_mark", ""),
                       dates=_dates_label(f, lang)))
    else:
        lines.append(t("ingest.format_text", lang, encoding=_encoding_label(f["encoding"]),
                       delimiter=_delimiter_label(f["delimiter"], lang),
                       decimal=f.get("decimal_mark", ""), dates=_dates_label(f, lang)))
    lines.append(t("ingest.header_line", lang, row=_header_where(f, lang),
                   header=" | ".join(x for x in f["header"] if x)))
    lines.append(str(t("ingest.columns_title", lang)))
    lines += ["  " + x for x in column_lines(f, lang)]
    if amount_line(f, lang):
        lines.append(amount_line(f, lang))
    m = f.get("margin") or {}
    if m.get("how"):
        lines.append(t(f"ingest.margin_{m['how']}", lang, columns=", ".join(_q(c, lang) for c in m["columns"])))
    if g := f.get("grouped"):
        lines.append(_grouped_line(g, lang, cur))
    ex = f["rows_excluded"]
    lines.append(t("ingest.rows_line", lang, read=_num(f["rows_read"], lang),
                   kept=_num(f["rows_imported"], lang), total=ex["total"], blank=ex["blank"]))
    if f.get("total_examples"):
        lines.append(t("ingest.total_examples", lang, examples="; ".join(
            f"{e['row']}: {e['text']}" for e in f["total_examples"])))
    if check := f.get("total_check"):
        key = "ingest.total_check_equal" if check["equal"] else "ingest.total_check_differs"
        lines.append(str(t(key, lang, sum=_money(check["sum"], lang, cur), total=_money(check["file_total"], lang, cur))))
    lines += _status_lines(f, lang, cur)
    if (c := f.get("currency")) and c.get("converted"):
        lines.append(t("ingest.currency_converted", lang, rates=", ".join(
            f"{k} = {_num(v, lang)} {c['home']}" for k, v in c["converted"].items())))
    if (an := f.get("anonymous")) and an.get("rows"):
        lines.append(t("ingest.anonymous_line", lang, count=_num(an["rows"], lang), sum=_money(an["amount"], lang, cur),
                       examples=", ".join(an["examples"])))
    if "returns" in f and f["kind"] != "deals":  # a deal budget is never a return
        lines.append(t("ingest.returns_line", lang, count=f["returns"]["count"],
                       sum=_money(f["returns"]["sum"], lang, cur)))
    dup = f.get("duplicates", {})
    if dup.get("count"):
        key = "ingest.duplicates_drop" if dup.get("action") == "drop" else "ingest.duplicates_keep"
        lines.append(t(key, lang, count=dup["count"]))
    inn = f.get("inn") or {}
    if inn.get("padded"):
        lines.append(t("ingest.inn_padded", lang, count=inn["padded"]))
    if inn.get("invalid"):
        lines.append(t("ingest.inn_invalid", lang, count=inn["invalid"], examples=", ".join(inn["invalid_examples"])))
    if f.get("inn_from_name"):
        lines.append(t("ingest.inn_from_name", lang, count=f["inn_from_name"]))
    amb = f.get("names_ambiguous") or {}
    if amb.get("count"):
        lines.append(t("ingest.names_ambiguous", lang, count=amb["count"], examples=", ".join(amb["examples"])))
    if f.get("customers_merged"):
        lines.append(t("ingest.customers_merged", lang, count=f["customers_merged"]))
    lines += _identity_lines(f, lang, cur)
    if f["kind"] == "deals":  # a CRM deal export: what is revenue, stages, customers
        lines += deal_report_lines(f["deals"], lang, cur)
    return lines


def _grouped_line(g: dict[str, Any], lang: str, cur: str) -> str:
    text = str(t("ingest.grouped_line", lang, levels=" → ".join(x for x in g["levels"] if x) if lang == "ru"
                 else " -> ".join(x for x in g["levels"] if x), leaves=_num(g["leaves"], lang),
                 groups=_num(g["group_rows"], lang)))
    if check := g.get("total_check"):
        key = "ingest.grouped_total_equal" if check["equal"] else "ingest.grouped_total_differs"
        text += str(t(key, lang, sum=_money(check["sum"], lang, cur), total=_money(check["file_total"], lang, cur)))
    return text


def _status_lines(f: dict[str, Any], lang: str, cur: str) -> list[str]:
    s = f.get("status")
    if not s:
        return []
    skipped = "; ".join(f"{_q(v, lang)}: {_num(x['rows'], lang)} ({_money(x['amount'], lang, cur)})"
                        for v, x in s["skipped"].items()) or t("ingest.none", lang)
    return [str(t("ingest.status_line", lang, column=s["column"], sale=", ".join(_q(v, lang) for v in s["sale"])
                  or t("ingest.none", lang), skipped=skipped, all=_money(s["amount_all_rows"], lang, cur)))]


def _identity_lines(f: dict[str, Any], lang: str, cur: str) -> list[str]:
    lines = []
    several = f.get("inn_names") or {}
    if several.get("count"):
        lines.append(str(t("ingest.inn_names_title", lang, count=several["count"])))
        for e in several["items"][:SHOWN_PAIRS]:
            names = ", ".join(f"{_q(n['name'], lang)} ({_money(n['revenue'], lang, cur)})" for n in e["names"])
            lines.append(f"  {e['inn']}: {names}")
    pairs = f.get("possible_duplicates") or {}
    if pairs.get("count"):
        lines.append(str(t("ingest.duplicates_title", lang, count=pairs["count"])))
        for p in pairs["items"][:SHOWN_PAIRS]:
            lines.append(f"  {_q(p['name_a'], lang)} ({_money(p['revenue_a'], lang, cur)}) ~ "
                         f"{_q(p['name_b'], lang)} ({_money(p['revenue_b'], lang, cur)})")
        if pairs["count"] > SHOWN_PAIRS:
            lines.append("  " + t("ingest.duplicates_more", lang, n=pairs["count"] - SHOWN_PAIRS))
        lines.append("  " + t("ingest.duplicates_settle", lang))
    if f.get("kept_apart"):
        lines.append(t("ingest.kept_apart", lang, count=len(f["kept_apart"])))
    return lines


def revenue_line(tot: dict[str, Any], lang: str, cur: str) -> str:
    """Revenue with its VAT basis, and its sums with VAT and of VAT where the file has them."""
    basis = t(f"ingest.basis.{tot.get('basis', 'unknown')}", lang)
    if tot["returns"] == "exclude":
        text = t("ingest.totals_revenue_exclude", lang, revenue=_money(tot["revenue"], lang, cur),
                 returns=_money(tot["returns_sum"], lang, cur), basis=basis)
    else:
        text = t("ingest.totals_revenue_net", lang, revenue=_money(tot["revenue"], lang, cur), basis=basis)
    if tot.get("basis") == "net" and "revenue_with_vat" in tot:
        text += " " + t("ingest.totals_with_vat", lang, gross=_money(tot["revenue_with_vat"], lang, cur),
                        vat=_money(tot.get("vat", tot["revenue_with_vat"] - tot["revenue_gross"]), lang, cur))
    return str(text)


def render_report_text(report: dict[str, Any], lang: str) -> str:
    """The human import report printed by ``workbench import`` (plain text)."""
    cur = report.get("currency", "RUB")
    lines = [str(t("ingest.title", lang))]
    for f in report["files"]:
        lines.append("")
        file_lines = _file_lines(f, lang, cur)
        lines += [file_lines[0]] + ["  " + x for x in file_lines[1:]]
    lines += combine_report.render_text(report.get("sales_files"), lang, cur)
    tot = report["totals"]
    lines += ["", str(t("ingest.totals_title", lang)),
              "  " + t("ingest.totals_customers", lang, n=_num(tot["customers"], lang)),
              "  " + t("ingest.totals_rows", lang, n=_num(tot["rows"], lang)),
              "  " + t("ingest.totals_period", lang, start=_day(tot["date_from"], lang),
                       end=_day(tot["date_to"], lang)),
              "  " + revenue_line(tot, lang, cur)]
    return "\n".join(lines)


def render_import_html(report: dict[str, Any], lang: str, currency: str) -> str:
    """The import section of the report (anchor ``import``), built with workbench.report.html."""
    from workbench.report import html

    tot = report["totals"]
    note = "ingest.html_revenue_note_exclude" if tot["returns"] == "exclude" else "ingest.html_revenue_note_net"
    basis = t(f"ingest.basis.{tot.get('basis', 'unknown')}", lang)
    tiles = html.kpi_tiles([
        (t("ingest.html_rows", lang), _num(tot["rows"], lang), ""),
        (t("ingest.html_customers", lang), _num(tot["customers"], lang), ""),
        (t("ingest.html_period", lang), f"{_day(tot['date_from'], lang)} — {_day(tot['date_to'], lang)}", ""),
        (t("ingest.html_revenue", lang), _money(tot["revenue"], lang, currency), f"{t(note, lang)}, {basis}"),
    ])
    parts = [tiles]
    for f in report["files"]:
        items: list[tuple[str, str]] = [
            (t("ingest.html_file", lang), f"{t('ingest.kind_' + f['kind'], lang)}: {f['file']}"),
            (t("ingest.html_encoding", lang), f["sheet"] if f["format"] == "xlsx"
             else f"{_encoding_label(f['encoding'])}, {_delimiter_label(f['delimiter'], lang)}"),
            (t("ingest.html_header", lang), f"{_header_where(f, lang)}: " + " | ".join(x for x in f["header"] if x)),
            (t("ingest.html_decimal", lang), f.get("decimal_mark", "")),
            (t("ingest.html_dates", lang), _dates_label(f, lang)),
            (t("ingest.html_read", lang), _num(f["rows_read"], lang)),
            (t("ingest.html_excluded_total", lang), _num(f["rows_excluded"]["total"], lang)),
            (t("ingest.html_excluded_blank", lang), _num(f["rows_excluded"]["blank"], lang)),
        ]
        if f["kind"] == "deals":
            items.extend((t("ingest.html_deals", lang), line)
                         for line in deal_report_lines(report.get("deals") or f["deals"], lang, currency, client=True))
        if amount_line(f, lang):
            items.append((t("ingest.html_amount", lang), amount_line(f, lang)))
        items += [(t("ingest.html_status", lang), x) for x in _status_lines(f, lang, currency)]
        if (an := f.get("anonymous")) and an.get("rows"):
            items.append((t("ingest.html_anonymous", lang), t("ingest.html_returns_value", lang,
                          count=_num(an["rows"], lang), sum=_money(an["amount"], lang, currency))))
        if "returns" in f and f["kind"] != "deals":
            items.append((t("ingest.html_returns", lang), t("ingest.html_returns_value", lang,
                          count=_num(f["returns"]["count"], lang),
                          sum=_money(f["returns"]["sum"], lang, currency))))
        dup = f.get("duplicates") or {}
        key = "ingest.html_dup_dropped" if dup.get("action") == "drop" else "ingest.html_dup_kept"
        items.append((t("ingest.html_duplicates", lang), t(key, lang, count=_num(dup.get("count", 0), lang))))
        for label, key in (("ingest.html_inn_names", "inn_names"), ("ingest.html_possible", "possible_duplicates")):
            if (f.get(key) or {}).get("count"):
                items.append((t(label, lang), _num(f[key]["count"], lang)))
        df = pd.DataFrame(items, columns=["param", "value"])
        parts.append(html.table(df, headers={"param": t("ingest.html_param", lang),
                                             "value": t("ingest.html_value", lang)}))
        roles = columns_frame(f, lang)
        if len(roles):
            parts.append(html.table(roles, headers=_columns_headers(lang)))
        pairs = duplicates_frame(report, lang)
        if len(pairs) and f["kind"] == "sales":
            parts.append(html.table(pairs.head(SHOWN_PAIRS), headers=_duplicates_headers(lang)))
    parts.append(combine_report.render_html(report.get("sales_files"), lang, currency))
    return html.section("import", str(t("ingest.title", lang)), "".join(parts))


# --- tables (the HTML section and the workbook) -------------------------------------------

def columns_frame(f: dict[str, Any], lang: str) -> pd.DataFrame:
    """One row per column of a file: column, role, used, why."""
    rows = [{"column": c["column"], "role": role_label(c["role"], lang) if c["role"] else "",
             "used": t("fmt.yes" if c["used"] else "fmt.no", lang), "reason": column_reason(c, lang)}
            for c in f.get("roles") or [] if c["column"]]
    return pd.DataFrame(rows, columns=["column", "role", "used", "reason"])


def _columns_headers(lang: str) -> dict[str, str]:
    return {k: str(t(f"ingest.col_{k}", lang)) for k in ("column", "role", "used", "reason")}


def duplicates_frame(report: dict[str, Any], lang: str) -> pd.DataFrame:
    """Possible duplicates and INNs under several names, one row per pair of names."""
    rows = []
    for f in report["files"]:
        for e in (f.get("inn_names") or {}).get("items", []):
            first = e["names"][0]
            for other in e["names"][1:]:
                rows.append({"what": t("ingest.pair_inn", lang), "name_a": first["name"], "revenue_a": first["revenue"],
                             "name_b": other["name"], "revenue_b": other["revenue"], "inn_a": e["inn"],
                             "inn_b": e["inn"]})
        for p in (f.get("possible_duplicates") or {}).get("items", []):
            rows.append({"what": t("ingest.pair_similar", lang), "name_a": p["name_a"], "revenue_a": p["revenue_a"],
                         "name_b": p["name_b"], "revenue_b": p["revenue_b"], "inn_a": p["inn_a"],
                         "inn_b": p["inn_b"]})
    return pd.DataFrame(rows, columns=["what", "name_a", "revenue_a", "name_b", "revenue_b", "inn_a", "inn_b"])


def _duplicates_headers(lang: str) -> dict[str, str]:
    return {k: str(t(f"ingest.col_{k}", lang)) for k in
            ("what", "name_a", "revenue_a", "name_b", "revenue_b", "inn_a", "inn_b")}


def add_import_sheets(book: Any, report: dict[str, Any], lang: str) -> None:
    """Workbook sheets: how each file was read (revenue basis, every column's role) and the
    possible duplicates with both spellings and revenues (empty when there are none)."""
    cur = report.get("currency", "RUB")
    tot = report["totals"]
    facts = [{"param": t("ingest.html_revenue", lang), "value": revenue_line(tot, lang, cur)},
             {"param": t("ingest.html_period", lang),
              "value": f"{_day(tot['date_from'], lang)} — {_day(tot['date_to'], lang)}"},
             {"param": t("ingest.html_customers", lang), "value": _num(tot["customers"], lang)}]
    columns = []
    for f in report["files"]:
        if amount_line(f, lang):
            facts.append({"param": f["file"], "value": amount_line(f, lang)})
        columns.append(columns_frame(f, lang).assign(file=f["file"]))
    frame = pd.concat([pd.DataFrame(facts).rename(columns={"param": "column", "value": "reason"})]
                      + columns, ignore_index=True).fillna("")
    headers = {**_columns_headers(lang), "file": str(t("ingest.col_file", lang))}
    book.add_table(str(t("ingest.sheet_import", lang)), frame[["file", "column", "role", "used", "reason"]],
                   title=str(t("ingest.sheet_import_title", lang)), headers=headers,
                   widths={"reason": 80, "column": 30, "file": 28}, wrap=("reason",), landscape=True)
    pairs = duplicates_frame(report, lang)
    book.add_table(str(t("ingest.sheet_duplicates", lang)), pairs, title=str(t("ingest.sheet_duplicates_title", lang)),
                   headers=_duplicates_headers(lang), kinds={"revenue_a": "money", "revenue_b": "money",
                                                             "inn_a": "text", "inn_b": "text"},
                   widths={"name_a": 36, "name_b": 36, "what": 24}, landscape=True)


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
    if tot.get("anonymous_rows"):
        out.append({"severity": "warn", "headline": t("ingest.finding_anonymous_headline", lang,
                                                      count=_num(tot["anonymous_rows"], lang)),
                    "number": _money(tot["anonymous_revenue"], lang, currency),
                    "action": t("ingest.finding_anonymous_action", lang), "weight": 4.5,
                    "at_stake": float(tot["anonymous_revenue"]), "audience": "consultant"})
    pairs = (tot.get("possible_duplicates") or 0) + (tot.get("inn_names") or 0)
    if pairs:
        out.append({"severity": "warn", "headline": t("ingest.finding_possible_headline", lang, count=_num(pairs, lang)),
                    "number": _num(pairs, lang), "action": t("ingest.finding_possible_action", lang), "weight": 3.5,
                    "audience": "consultant"})
    out.append({"severity": "info", "headline": t("ingest.finding_basis_headline", lang,
                                                  basis=t(f"ingest.basis.{tot.get('basis', 'unknown')}", lang)),
                "number": _money(tot["revenue"], lang, currency), "action": t("ingest.finding_basis_action", lang),
                "weight": 0.8, "audience": "consultant"})
    excluded = sum(f["rows_excluded"]["total"] for f in report["files"])
    if excluded:
        out.append({"severity": "info", "headline": t("ingest.finding_excluded_headline", lang,
                                                      count=_num(excluded, lang)),
                    "number": _num(excluded, lang), "action": t("ingest.finding_excluded_action", lang),
                    "weight": 0.5})
    out += combine_report.findings(report.get("sales_files"), lang, currency)
    out.extend(deal_findings(report, lang, currency))
    if not any(f["severity"] in ("warn", "risk") for f in out):
        out.append({"severity": "ok", "headline": t("ingest.finding_clean_headline", lang),
                    "number": _num(tot["rows"], lang), "action": t("ingest.finding_clean_action", lang),
                    "weight": 0.1})
    return sorted(out, key=lambda f: -f["weight"])
