"""The executive page: one sentence on the situation, then at most five findings, each with
the money at stake, who acts and by when.

Each step contributes findings (``finding()`` builds them: severity, headline, number,
action, weight, and optionally at_stake, owner, due, audience). Findings for management
are ranked by severity, then weight; the first five open the report. Housekeeping and
setup notes (``audience="consultant"``) never reach the client's report: they go to the
consultant's note, and management findings beyond the first five go to the appendix.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import esc, section

SEVERITY_RANK = {"risk": 3, "warn": 2, "info": 1, "ok": 0}
AUDIENCES = ("management", "consultant")
OWNER_ROLES = ("director", "kam", "farmer", "hunter", "closer", "presale", "marketing")
MAX_FINDINGS = 5
PER_STEP = 3


def finding(step: str, severity: str, headline: str, *, number: str = "", action: str = "",
            weight: float = 0.0, at_stake: float | None = None, owner: str | None = None,
            due: str | _dt.date | None = None, audience: str = "management", lead: bool = False) -> dict[str, Any]:
    """One finding for the executive summary, checked.

    step: the step that found it ('segment', 'maps', 'cjm', 'traction', 'import', ...)
    severity: 'risk' | 'warn' | 'info' | 'ok'
    headline: one sentence in the reader's language, stating the situation
    number: the key figure as display text (left out of the page when the headline holds it)
    action: what to do, in the reader's language
    weight: importance within a severity (bigger first)
    at_stake: money in the engagement's currency that the finding puts at stake (a positive
        amount: revenue to win back or to protect)
    owner: a sales role code (director, kam, farmer, hunter, closer, presale, marketing) or a
        salesperson's name from the data
    due: the date to act by (ISO 'YYYY-MM-DD' or a date)
    audience: 'management' (the client's report) or 'consultant' (housekeeping and setup
        notes: the consultant's note only)
    lead: True for the one finding that opens the page (the revenue bridge)
    Returns a plain dict (JSON-serialisable), the form every step saves.
    """
    if severity not in SEVERITY_RANK:
        raise ValueError(f"finding severity {severity!r}: allowed {', '.join(SEVERITY_RANK)}")
    if audience not in AUDIENCES:
        raise ValueError(f"finding audience {audience!r}: allowed {', '.join(AUDIENCES)}")
    if not str(headline).strip():
        raise ValueError("finding headline: empty")
    out: dict[str, Any] = {"step": str(step), "severity": severity, "headline": str(headline),
                           "number": str(number or ""), "action": str(action or ""), "weight": float(weight),
                           "audience": audience}
    if lead:
        out["lead"] = True
    if at_stake is not None:
        value = float(at_stake)
        if not math.isfinite(value):
            raise ValueError(f"finding at_stake {at_stake!r}: a finite amount of money expected")
        out["at_stake"] = abs(value)
    if owner:
        out["owner"] = str(owner)
    if due:
        try:
            out["due"] = _dt.date.fromisoformat(str(due)[:10]).isoformat()
        except ValueError as exc:
            raise ValueError(f"finding due {due!r}: a date YYYY-MM-DD expected") from exc
    return out


def audience(f: Mapping[str, Any]) -> str:
    """The finding's audience ('management' when not said)."""
    return "consultant" if f.get("audience") == "consultant" else "management"


def _rank(f: Mapping[str, Any]) -> tuple[bool, int, float]:
    # a lead finding (the revenue bridge) opens the page whatever its severity
    return not f.get("lead", False), -SEVERITY_RANK.get(str(f.get("severity")), 0), -float(f.get("weight", 0) or 0)


def pick_findings(findings: Iterable[Mapping[str, Any]], limit: int = MAX_FINDINGS) -> list[dict[str, Any]]:
    """The management findings for the executive page, most important first, at most ``limit``.

    A finding marked ``lead`` (the revenue bridge) comes first; then by severity, then weight.
    At most three come from one step while others are waiting, so the page covers the whole
    engagement; consultant findings never appear.
    """
    items = sorted((dict(f) for f in findings if f.get("headline") and audience(f) == "management"), key=_rank)
    chosen: list[dict[str, Any]] = []
    per_step: dict[str, int] = {}
    for f in items:
        step = str(f.get("step", ""))
        if per_step.get(step, 0) >= PER_STEP:
            continue
        chosen.append(f)
        per_step[step] = per_step.get(step, 0) + 1
        if len(chosen) == limit:
            break
    for f in items:  # fill up from what the per-step cap held back
        if len(chosen) >= limit:
            break
        if f not in chosen:
            chosen.append(f)
    return sorted(chosen, key=_rank)


def remaining_findings(findings: Iterable[Mapping[str, Any]], limit: int = MAX_FINDINGS) -> list[dict[str, Any]]:
    """Management findings that did not make the executive page (for the appendix)."""
    items = [dict(f) for f in findings if f.get("headline") and audience(f) == "management"]
    chosen = pick_findings(items, limit)
    return sorted((f for f in items if f not in chosen), key=_rank)


def consultant_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Housekeeping and setup findings, for the consultant's note only."""
    return sorted((dict(f) for f in findings if f.get("headline") and audience(f) == "consultant"), key=_rank)


# --------------------------------------------------------------------------- rendering
def owner_label(owner: Any, lang: str) -> str:
    """A role code by its name in ``lang``; anything else (a salesperson's name) as it is."""
    roles = t("report.owner_role", lang)
    return str(roles.get(owner, owner)) if owner else ""


def _due_text(due: Any, lang: str) -> str:
    return fmt.day(due, lang) if due else ""


def _repeats(number: str, headline: str) -> bool:
    """True when the key figure already stands in the headline (a number shown twice)."""
    core = number.replace(" ", "\u00a0").strip().lstrip("\u2212-+")  # "−6,1 %" repeats "упала на 6,1 %"
    if not core:
        return False
    return re.search(rf"(?<![\d,.]){re.escape(core)}(?![\d,.])", headline.replace(" ", "\u00a0")) is not None


def action_title(chosen: list[Mapping[str, Any]], lang: str, currency: str = "RUB") -> str:
    """One sentence stating the situation: the first finding's headline, the money it puts at
    stake and the date to act on it by ("" when there is no finding)."""
    if not chosen:
        return ""
    top = chosen[0]
    headline = str(top["headline"]).strip().rstrip(".")
    stake = top.get("at_stake")
    parts = {"headline": headline, "stake": fmt.money_short(stake, lang, currency) if stake else "",
             "due": _due_text(top["due"], lang) if top.get("due") else ""}
    key = "report.title_" + ("stake_due" if parts["stake"] and parts["due"] else
                             "stake" if parts["stake"] else "due" if parts["due"] else "plain")
    return str(t(key, lang, **parts))


def _card(f: Mapping[str, Any], lang: str, currency: str, first: bool = False) -> str:
    """One finding as a card: headline, key figure, what to do; at stake, who and by when
    beside it. The first card's headline is the page's action title above it: the card
    opens with its key figure instead, so nothing is said twice."""
    sev = str(f.get("severity", "info"))
    sev = sev if sev in SEVERITY_RANK else "info"
    headline = str(f["headline"])
    number = str(f.get("number") or "")
    if first and number:
        head, show_number = number, False
    else:
        head, show_number = headline, bool(number) and not _repeats(number, headline)
    meta = []
    if f.get("at_stake"):
        meta.append((t("report.at_stake", lang), fmt.money_short(f["at_stake"], lang, currency)))
    if f.get("owner"):
        meta.append((t("report.owner", lang), owner_label(f["owner"], lang)))
    if f.get("due"):
        meta.append((t("report.due", lang), _due_text(f["due"], lang)))
    meta_html = ("<dl class=\"wb-finding-meta\">" + "".join(
        f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in meta) + "</dl>") if meta else ""
    return (f'<li class="wb-finding wb-{sev}{" wb-first" if first else ""}"><div class="wb-finding-main">'
            f'<div class="wb-finding-head">{esc(head)}</div>'
            + (f'<div class="wb-finding-number">{esc(number)}</div>' if show_number else "")
            + (f'<div class="wb-finding-action"><b>{esc(t("report.action", lang))}</b> {esc(f["action"])}</div>'
               if f.get("action") else "")
            + f"</div>{meta_html}</li>")


def render_summary_html(findings: Iterable[Mapping[str, Any]], lang: str, currency: str = "RUB",
                        lead_html: str = "") -> str:
    """The executive page (anchor ``summary``): the action title (the first finding's
    headline), ``lead_html`` (e.g. the revenue bridge chart, our own HTML), then at most five
    findings as cards."""
    chosen = pick_findings(list(findings))
    if not chosen:
        body = f"<p>{esc(t('report.summary_empty', lang))}</p>" + lead_html
    else:
        cards = "".join(_card(f, lang, currency, first=i == 0) for i, f in enumerate(chosen))
        body = (f'<p class="wb-action-title">{esc(action_title(chosen, lang, currency))}</p>' + lead_html
                + f'<ol class="wb-findings">{cards}</ol>')
    return section("summary", t("report.summary_title", lang), f'<div class="wb-summary">{body}</div>')


def render_findings_list(findings: list[Mapping[str, Any]], lang: str, currency: str = "RUB") -> str:
    """Findings as a compact list (the appendix and the consultant's note): headline, key
    figure, what to do, and at stake / owner / due where known."""
    items = []
    for f in findings:
        bits = [esc(f["headline"])]
        if f.get("number") and not _repeats(str(f["number"]), str(f["headline"])):
            bits.append(f"<b>{esc(f['number'])}</b>")
        line = " — ".join(bits)
        extra = [f"{t('report.action', lang)} {f['action']}"] if f.get("action") else []
        if f.get("at_stake"):
            extra.append(f"{t('report.at_stake', lang)}: {fmt.money_short(f['at_stake'], lang, currency)}")
        if f.get("owner"):
            extra.append(f"{t('report.owner', lang)}: {owner_label(f['owner'], lang)}")
        if f.get("due"):
            extra.append(f"{t('report.due', lang)}: {_due_text(f['due'], lang)}")
        tail = f'<div class="wb-muted">{esc(" · ".join(extra))}</div>' if extra else ""
        items.append(f"<li>{line}{tail}</li>")
    return f'<ul class="wb-findings-list">{"".join(items)}</ul>'
