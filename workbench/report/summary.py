"""The executive summary: the five to seven findings that matter most, from every step.

Each step contributes findings (dicts: severity, headline, number, action, weight);
this module picks the most important and renders them first in the report.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workbench.i18n import t
from workbench.report.html import esc, section

SEVERITY_RANK = {"risk": 3, "warn": 2, "info": 1, "ok": 0}
MAX_FINDINGS = 7
MIN_FINDINGS = 5
PER_STEP = 3


def pick_findings(findings: Iterable[Mapping[str, Any]], limit: int = MAX_FINDINGS) -> list[dict[str, Any]]:
    """Order findings by severity then weight (desc) and keep at most ``limit``.

    Findings marked ``lead`` come first; ``audience: consultant`` ones are left out.

    At most three findings from one step are kept while others are waiting, so the
    summary covers the whole engagement rather than one section.
    """
    # Notes for the consultant stay out of the client's summary; a lead finding (the revenue
    # bridge) opens it whatever its severity.
    items = [dict(f) for f in findings if f.get("headline") and f.get("audience", "management") != "consultant"]
    items.sort(key=lambda f: (not f.get("lead", False), -SEVERITY_RANK.get(str(f.get("severity")), 0),
                              -float(f.get("weight", 0))))
    chosen: list[dict[str, Any]] = []
    per_step: dict[str, int] = {}
    for f in items:
        step = str(f.get("step", ""))
        if per_step.get(step, 0) >= PER_STEP:
            continue
        chosen.append(f)
        per_step[step] = per_step.get(step, 0) + 1
        if len(chosen) == limit:
            return chosen
    for f in items:  # fill up to the minimum from what was held back
        if len(chosen) >= max(MIN_FINDINGS, 0) or len(chosen) >= limit:
            break
        if f not in chosen:
            chosen.append(f)
    return chosen


def render_summary_html(findings: Iterable[Mapping[str, Any]], lang: str) -> str:
    """The executive summary section (anchor ``summary``)."""
    chosen = pick_findings(findings)
    if not chosen:
        body = f"<p>{esc(t('report.summary_empty', lang))}</p>"
    else:
        cards = []
        for f in chosen:
            sev = str(f.get("severity", "info"))
            sev = sev if sev in SEVERITY_RANK else "info"
            number = f'<div class="wb-finding-number">{esc(f["number"])}</div>' if f.get("number") else ""
            action = (f'<div class="wb-finding-action"><b>{esc(t("report.action", lang))}</b> {esc(f["action"])}</div>'
                      if f.get("action") else "")
            cards.append(f'<li class="wb-finding wb-{sev}"><div class="wb-finding-head">{esc(f["headline"])}</div>'
                         f"{number}{action}</li>")
        body = f'<p class="wb-muted">{esc(t("report.summary_intro", lang))}</p><ol>{"".join(cards)}</ol>'
    return section("summary", t("report.summary_title", lang), f'<div class="wb-summary">{body}</div>')
