"""The deal export's part of the import report: text lines, HTML rows and findings.

Everything here reads the ``deals`` block of an import report (``workbench.ingest.deals``)
and says it in the reader's language: what was recognised, what is revenue and what is
not, where dates and customers came from, how each stage was classified and the funnel
ordered, what was left out.
"""
from __future__ import annotations

from typing import Any

from workbench.ingest.stages import deal_messages, render_order_lines


def _money(x: float, lang: str, currency: str) -> str:
    from workbench.report.fmt import money

    return money(x, lang, currency)


def _num(x: float, lang: str) -> str:
    from workbench.report.fmt import number

    return number(x, lang)


def deal_report_lines(d: dict[str, Any], lang: str, currency: str, client: bool = False) -> list[str]:
    """The import report's lines about a deal export (``d``: the report's ``deals`` block),
    with the ``deals.stages`` lines confirming an open stage order the workbench inferred.
    ``client``: the lines for the client's report (its import appendix): the same facts
    without the setup hints (settings keys, lines to add to engagement.yaml), which the
    consultant reads in the import command's report."""
    msgs = deal_messages(lang)
    out = [msgs["recognised"].format(crm=msgs["crm"].get(d.get("crm", ""), "CRM"), deals=_num(d["deals"], lang),
                                     as_of=_day(d.get("as_of", ""), lang)),
           msgs["counts"].format(won=_num(d["won"], lang), won_amount=_money(d["won_amount"], lang, currency),
                                 lost=_num(d["lost"], lang), lost_amount=_money(d["lost_amount"], lang, currency),
                                 open=_num(d["open"], lang), open_amount=_money(d["open_amount"], lang, currency),
                                 budget_all=_money(d["budget_all"], lang, currency))]
    if d.get("role") == "only":
        out.append(msgs["role_only"].format(amount=_money(d["won_amount"] - d["won_no_customer_amount"],
                                                          lang, currency)))
    elif d.get("role") == "beside":
        out.append(msgs["role_beside"])
    out.append(msgs["customers"].format(companies=_num(d["customers_company"], lang),
                                        contacts=_num(d["customers_contact"], lang),
                                        deals_contact=_num(d["deals_contact"], lang)))
    if d.get("deals_no_customer"):
        out.append(msgs["no_customer"].format(n=_num(d["deals_no_customer"], lang),
                                              amount=_money(d["won_no_customer_amount"], lang, currency)))
    if d.get("close_from_modified"):
        out.append(msgs["close_from_modified"].format(n=_num(d["close_from_modified"], lang)))
    if d.get("open_close_text"):
        out.append(msgs["open_close_text"].format(n=_num(d["open_close_text"], lang)))
    if d.get("won_no_amount"):
        out.append(msgs["won_no_amount_client" if client else "won_no_amount"].format(n=_num(d["won_no_amount"], lang)))
    rules = d.get("stage_rules") or {}
    outcomes = d.get("stage_outcomes") or {}
    by_pipeline: dict[str, dict[str, list[str]]] = {}
    for key, rule in rules.items():
        pipeline, stage = key.split("|", 1)
        note = "" if rule == "system" or client else f" ({msgs['stage_rule'].get(rule, rule)})"
        shown = (f"«{stage}»" if lang == "ru" else f'"{stage}"') + note
        by_pipeline.setdefault(pipeline, {}).setdefault(outcomes.get(key, ""), []).append(shown)
    for pipeline, groups in by_pipeline.items():
        where = msgs["in_pipeline"].format(pipeline=pipeline) if pipeline else ""
        parts = [f"{msgs['outcome_group'][o]}: {', '.join(groups[o])}" for o in ("won", "lost", "open", "")
                 if o in groups]
        out.append(msgs["stage_rules_line_client" if client else "stage_rules_line"].format(
            where=where, stages="; ".join(parts)))
    inferred = []
    for pipeline, source in (d.get("order_from") or {}).items():
        where = msgs["in_pipeline"].format(pipeline=pipeline) if pipeline else ""
        order = (d.get("open_order") or {}).get(pipeline, [])
        if client:
            out.append(msgs["order_line_client"].format(where=where, stages=" → ".join(order)))
        else:
            out.append(msgs["order_line"].format(where=where, stages=" → ".join(order),
                                                 source=msgs["order_from"].get(source, source)))
        if source == "age":
            inferred.append(pipeline)
    if inferred and not client:
        out.append(msgs["order_confirm"])
        out.extend("    " + line for line in render_order_lines(d.get("open_order") or {}, inferred))
    if d.get("duplicates_identical"):
        out.append(msgs["identical"].format(n=_num(d["duplicates_identical"], lang)))
    for dup in d.get("duplicate_ids") or []:
        out.append(msgs["duplicate_id"].format(deal_id=dup["deal_id"], kept=dup["kept"],
                                               modified=_day(dup["modified"], lang),
                                               dropped=", ".join(dup["dropped"])))
    if d.get("rows_without_id"):
        rows = [msgs["no_id_repeats"].format(row=r["row"], deal_id=r["repeats"]) if r.get("repeats") else r["row"]
                for r in d["rows_without_id"]]
        out.append(msgs["no_id"].format(rows="; ".join(rows)))
    hist = d.get("history")
    if hist:
        out.append(msgs["history_line"].format(file=hist["file"], rows=_num(hist["rows"], lang),
                                               deals=_num(hist["deals_with_history"], lang),
                                               other=_num(hist["rows_other_deals"], lang)))
    else:
        out.append(msgs["no_history_client" if client else "no_history"])
    return out


def _day(iso: str, lang: str) -> str:
    from workbench.report.fmt import day

    return day(iso[:10], lang) if iso else ""


def deal_findings(report: dict[str, Any], lang: str, currency: str) -> list[dict[str, Any]]:
    """Import findings about a deal export (``workbench.report.summary.finding``): what revenue
    is, an inferred stage order, deals without a customer. All three are the consultant's
    notes (``audience: consultant``): they speak of the import and of engagement.yaml."""
    from workbench.report.fmt import pct
    from workbench.report.summary import finding

    d = report.get("deals")
    if not d:
        return []
    msgs = deal_messages(lang)
    out: list[dict[str, Any]] = []
    budget = d.get("budget_all") or 0.0
    share = d["won_amount"] / budget if budget else 0.0
    out.append(finding("import", "info", msgs["finding_recognised_headline"].format(won_share=pct(share, lang)),
                       number=_money(d["won_amount"], lang, currency), action=msgs["finding_recognised_action"],
                       weight=4.0, audience="consultant"))
    if any(src == "age" for src in (d.get("order_from") or {}).values()):
        out.append(finding("import", "warn", msgs["finding_order_headline"], action=msgs["finding_order_action"],
                           weight=3.0, audience="consultant"))
    if d.get("deals_no_customer"):
        out.append(finding("import", "info", msgs["finding_no_customer_headline"].format(
            n=_num(d["deals_no_customer"], lang)), number=_num(d["deals_no_customer"], lang),
            action=msgs["finding_no_customer_action"], weight=1.0, audience="consultant"))
    return out


__all__ = ["deal_findings", "deal_report_lines"]
