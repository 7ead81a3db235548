"""The rules behind a section's numbers, in plain words: «A — клиенты, дающие первые 80 %
выручки», never ``segmentation.abc.a = 0.8``.

A rule is a sentence of the ``report.rules`` catalogue filled with the values the run used;
a rule is shown only when every value it needs is there. The raw settings (their keys and
values) are the consultant's: ``settings_table`` renders them for the consultant's note.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from workbench.i18n import t
from workbench.report import fmt
from workbench.report import html as H

# The kind of each value a rule quotes (how it is written in words).
_SHARE = {"abc.a", "abc.b", "xyz.x", "xyz.y", "xyz.regular_x", "xyz.regular_y", "tiers.vip_min_share",
          "tiers.prospect_trend", "key_accounts.cum_share", "key_accounts.silver_cum_share",
          "key_accounts.individual_top", "concentration.mono_client_share", "concentration.top1_high",
          "concentration.top5_high", "concentration.top10_high"}
_RANGE = {"healthy_mix.vip", "healthy_mix.strategic", "healthy_mix.typical", "healthy_mix.ballast"}
_DATE = {"window.start", "window.end"}


def _word(key: str, value: Any, lang: str) -> str:
    if key in _SHARE:
        return fmt.pct(float(value), lang, 0)
    if key in _RANGE:
        lo, hi = (float(v) for v in value)
        return fmt.pct(hi, lang, 0) if lo == 0 else f"{fmt.pct(lo, lang, 0)}–{fmt.pct(hi, lang, 0)}"
    if key in _DATE:
        return fmt.day(value, lang)
    if key.endswith(".period") or key == "xyz.period":
        return str(t("report.rules_period", lang).get(str(value), value))
    if isinstance(value, bool):
        return fmt.yes_no(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return fmt.number(value, lang, 0 if value.is_integer() else 1)
    if isinstance(value, int):
        return fmt.number(value, lang)
    return str(value)


def rules_frame(values: Mapping[str, Any], topic: str, lang: str) -> pd.DataFrame:
    """The rules of ``topic`` (a key of ``report.rules``, e.g. 'segmentation') that ``values``
    (flat ``{key: value}``, as the step used them) can fill: columns rule, meaning."""
    rows = []
    for rule in t("report.rules", lang).get(topic, []):
        if any(str(values.get(k)) not in [str(x) for x in (v if isinstance(v, list) else [v])]
               for k, v in rule.get("when", {}).items()):  # a rule for one method (null: the key is absent)
            continue
        needs = rule.get("needs", [])
        if any(k not in values for k in needs):
            continue
        words = {k.replace(".", "_"): _word(k, values[k], lang) for k in needs}
        rows.append({"rule": rule["rule"], "meaning": str(rule["meaning"]).format(**words)})
    return pd.DataFrame(rows, columns=["rule", "meaning"])


def rules_html(values: Mapping[str, Any], topic: str, lang: str) -> str:
    """The rules table for the client's report ("" when no rule can be filled)."""
    df = rules_frame(values, topic, lang)
    if df.empty:
        return ""
    return H.table(df, headers={"rule": t("report.rules_rule", lang), "meaning": t("report.rules_meaning", lang)},
                   cls="wb-table wb-rules")


def settings_table(values: Mapping[str, Any], prefix: str, lang: str) -> str:
    """Every value as its engagement.yaml key, for the consultant (wrapped in ``consultant``)."""
    df = pd.DataFrame({"key": [k if k.startswith("window.") else f"{prefix}.{k}" for k in values],
                       "value": [_word(k, v, lang) for k, v in values.items()]})
    return H.consultant(f"<h4>{H.esc(t('report.settings_title', lang))}</h4>" + H.table(
        df, headers={"key": t("report.settings_key", lang), "value": t("report.settings_value", lang)}))
