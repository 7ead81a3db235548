"""Stage semantics of a CRM deal export: every stage is won, lost or open, never guessed.

A deal is not a sale: only **won** deals are revenue, **open** deals are the pipeline,
**lost** deals are lost (``shared/EXPORTS.md``). Each distinct (pipeline, stage) of the
export gets its outcome from the first rule that knows it:

1. ``deals.stages`` in engagement.yaml (the consultant's word; the pipeline as in the file,
   ``*`` for every pipeline);
2. Bitrix24's ``STAGE_SEMANTIC_ID`` column: S won, F lost, P open;
3. the CRMs' own system stages: amoCRM «Успешно реализовано» (won, id 142) and «Закрыто и не
   реализовано» (lost, id 143); Bitrix24 codes ``WON``, ``LOSE``, ``APOLOGY`` (also
   ``C<n>:WON`` … in pipeline n), the default open codes (``NEW``, ``PREPARATION``,
   ``PREPAYMENT_INVOICE``, ``EXECUTING``, ``FINAL_INVOICE``) and the interface's names of
   them («Сделка успешна», «Сделка провалена», «Новая» …; the names are in the ``ingest``
   catalogues, Russian and English);
4. a closed flag (Bitrix24 ``CLOSED`` Y/N, «Сделка закрыта» Да/Нет): not closed is open;
5. amoCRM: every pipeline ends in its two system stages, so any other stage is open.

What is left (a closed custom stage such as «Выдано» or «Отложенные», or a stage nobody can
place) is *unclassified*: the import stops with one message listing those stages with their
deal counts and amounts and the exact ``deals.stages`` lines to add (``render_stage_lines``).

The order of the open stages in each pipeline (the funnel) is the consultant's when given;
else the CRM's default order when every open stage is a default one; else the order in
which deals entered the stages in the stage history; else the deals' age (younger deals
sit in earlier stages), which the import report calls unconfirmed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.i18n import LANGUAGES
from workbench.ingest.deal_headers import deal_messages
from workbench.ingest.headers import normalise_header

ANY_PIPELINE = "*"
# Bitrix24 stage codes: the main pipeline's bare, pipeline n's prefixed "C<n>:" (REST).
_CODE_RE = re.compile(r"^(?:C(\d+):)?([A-Z][A-Z0-9_]*)$")
_B24_WON = {"WON"}
_B24_LOST = {"LOSE", "APOLOGY"}
B24_OPEN_ORDER = ("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE")
_SEMANTIC = {"S": "won", "F": "lost", "P": "open"}
_FLAG_YES = {"y", "yes", "да", "1", "true", "д"}
_FLAG_NO = {"n", "no", "нет", "0", "false", "н"}


@cache
def _system_names() -> dict[str, dict[str, object]]:
    """crm -> {"won": set, "lost": set, "open": [names in default order]} (normalised), both
    languages' catalogues together (a Russian client's CRM may run in English)."""
    out: dict[str, dict[str, object]] = {}
    for lang in LANGUAGES:
        for crm, groups in deal_messages(lang)["system_stages"].items():
            bucket = out.setdefault(crm, {"won": set(), "lost": set(), "open": []})
            for outcome, names in groups.items():
                for name in names:
                    n = normalise_header(name)
                    if outcome == "open":
                        if n not in bucket["open"]:
                            bucket["open"].append(n)  # type: ignore[union-attr]
                    else:
                        bucket[outcome].add(n)  # type: ignore[union-attr]
    return out


def stage_family(stage: str) -> str:
    """Which CRM a stage value belongs to: "amocrm", "bitrix24" or "" (a client's own name)."""
    code = _CODE_RE.match(stage)
    if code and (code.group(1) is not None or code.group(2) in _B24_WON | _B24_LOST | set(B24_OPEN_ORDER)
                 or code.group(2).startswith("UC_")):
        return "bitrix24"
    n = normalise_header(stage)
    for crm, groups in _system_names().items():
        # the closing stages only: a default open name («Переговоры», «Новая») is also a
        # common name of a client's own stage in the other CRM
        if n in groups["won"] or n in groups["lost"]:  # type: ignore[operator]
            return crm
    return ""


def system_outcome(stage: str, crm: str = "") -> str:
    """won / lost / open of a CRM's own stage ("" for a client's own stage).

    Codes and the closing stages' names are known whatever the CRM; a default open stage's
    name («Переговоры», «Новая») only for the export's own CRM ``crm`` (amocrm | bitrix24):
    in the other CRM it is a common name of a client's own stage.
    """
    code = _CODE_RE.match(stage)
    if code:
        word = code.group(2)
        if word in _B24_WON:
            return "won"
        if word in _B24_LOST:
            return "lost"
        if word in B24_OPEN_ORDER:
            return "open"
    n = normalise_header(stage)
    for name, groups in _system_names().items():
        for outcome in ("won", "lost"):
            if n in groups[outcome]:  # type: ignore[operator]
                return outcome
        if name == crm and n in groups["open"]:  # type: ignore[operator]
            return "open"
    return ""


def default_position(stage: str, crm: str = "") -> int | None:
    """Position of a default open stage in the default funnel of the export's CRM ``crm``
    (None: not one of its defaults). Bitrix24's codes are known whatever ``crm`` says."""
    code = _CODE_RE.match(stage)
    if code and code.group(2) in B24_OPEN_ORDER:
        return B24_OPEN_ORDER.index(code.group(2))
    names: list[str] = _system_names().get(crm, {}).get("open", [])  # type: ignore[assignment]
    n = normalise_header(stage)
    return names.index(n) if n in names else None


def code_pipeline(stage: str) -> str | None:
    """The pipeline a Bitrix24 stage code names ("0" for a bare code, "1" for "C1:…"); None
    for a stage that is not a code."""
    code = _CODE_RE.match(stage)
    if not code or stage_family(stage) != "bitrix24":
        return None
    return code.group(1) or "0"


def flag_value(text: str) -> bool | None:
    """A closed flag (Y/N, Да/Нет, 1/0) as True / False; None when empty or not a flag."""
    v = text.strip().casefold()
    if v in _FLAG_YES:
        return True
    if v in _FLAG_NO:
        return False
    return None


@dataclass(frozen=True)
class StageTable:
    """The stages of one export, classified and ordered.

    table: ``DEAL_STAGES_COLUMNS`` (pipeline, stage, outcome "" when unclassified, stage_order
        1..n for open stages in funnel order and 0 otherwise, stage_rule: config | semantic |
        system | flag | amocrm | "")
    unclassified: rows of ``table`` without an outcome, with ``closed`` (True: the file says
        the stage is closed; None: it does not say), ``deals`` and ``amount``
    order_from: pipeline -> where its order came from: config | default | history | age | single
        (one open stage: nothing to order)
    """

    table: pd.DataFrame
    unclassified: pd.DataFrame
    order_from: dict[str, str]


def classify_stages(pairs: pd.DataFrame, config: dict[str, dict[str, str]], crm: str,
                    entered: pd.DataFrame | None = None) -> StageTable:
    """Classify and order the distinct stages of an export (pure).

    Parameters
    ----------
    pairs
        One row per distinct (pipeline, stage): ``pipeline``, ``stage``, ``semantic`` (the
        STAGE_SEMANTIC_ID most deals of the stage carry, "" without the column), ``closed``
        (True / False / None: the closed flag of the stage's deals), ``deals`` (count),
        ``amount`` (sum, currency), ``median_age`` (days from creation to the export's date,
        open deals), ``passed`` (optional: True for a stage only the stage history holds).
    config
        engagement.yaml ``deals.stages``: pipeline (or ``*``) -> {stage: won | lost | open},
        the open stages in funnel order.
    crm
        The export's CRM: ``amocrm`` (a stage that is not a system one is open), ``bitrix24``
        or "" (not known).
    entered
        The stage history's ranks when there is one: ``pipeline``, ``stage``, ``rank`` (the
        mean position at which deals first entered the stage), else None.
    """
    rows = []
    for rec in pairs.to_dict("records"):
        pipeline, stage = str(rec[C.PIPELINE]), str(rec[C.STAGE])
        mine = config.get(pipeline, {})
        common = config.get(ANY_PIPELINE, {})
        outcome, rule = "", ""
        if stage in mine or stage in common:
            outcome, rule = (mine.get(stage) or common[stage]), "config"
        elif system_outcome(stage, crm):
            outcome, rule = system_outcome(stage, crm), "system"
        elif rec.get("semantic") in _SEMANTIC:
            outcome, rule = _SEMANTIC[str(rec["semantic"])], "semantic"
        elif rec.get("closed") is False:
            outcome, rule = "open", "flag"
        elif crm == "amocrm" and rec.get("closed") is not True:
            outcome, rule = "open", "amocrm"
        elif rec.get("passed") is True:  # only in the stage history: deals moved on from it
            outcome, rule = "open", "history"
        rows.append({C.PIPELINE: pipeline, C.STAGE: stage, C.OUTCOME: outcome, C.STAGE_RULE: rule,
                     "closed": rec.get("closed"), "deals": int(rec["deals"]), "amount": float(rec["amount"]),
                     "median_age": rec.get("median_age")})
    frame = pd.DataFrame(rows, columns=[C.PIPELINE, C.STAGE, C.OUTCOME, C.STAGE_RULE, "closed", "deals",
                                        "amount", "median_age"])
    order, order_from = _open_order(frame, config, entered, crm)
    frame[C.STAGE_ORDER] = [order.get((p, s), 0) for p, s in zip(frame[C.PIPELINE], frame[C.STAGE])]
    unclassified = frame[frame[C.OUTCOME] == ""].reset_index(drop=True)
    table = frame.sort_values([C.PIPELINE, C.STAGE_ORDER, C.STAGE], key=_pipeline_key, kind="stable")
    table = table[list(C.DEAL_STAGES_COLUMNS)].reset_index(drop=True)
    return StageTable(table=table, unclassified=unclassified, order_from=order_from)


def _pipeline_key(col: pd.Series) -> pd.Series:
    return col if col.name != C.PIPELINE else col.map(lambda p: (p == "", p))


def _open_order(frame: pd.DataFrame, config: dict[str, dict[str, str]], entered: pd.DataFrame | None,
                crm: str) -> tuple[dict[tuple[str, str], int], dict[str, str]]:
    """(pipeline, open stage) -> position 1..n, and where each pipeline's order came from."""
    order: dict[tuple[str, str], int] = {}
    order_from: dict[str, str] = {}
    ranks = {}
    if entered is not None and len(entered):
        ranks = {(str(p), str(s)): float(r) for p, s, r in
                 zip(entered[C.PIPELINE], entered[C.STAGE], entered["rank"])}
    for pipeline, group in frame[frame[C.OUTCOME] == "open"].groupby(C.PIPELINE, sort=False):
        stages = group[C.STAGE].astype(str).tolist()
        ages = dict(zip(stages, group["median_age"].tolist()))
        given = [s for s, o in {**config.get(ANY_PIPELINE, {}), **config.get(str(pipeline), {})}.items()
                 if o == "open" and s in stages]
        if set(given) == set(stages):
            ordered, source = given, "config"
        elif len(stages) == 1:
            ordered, source = stages, "single"
        elif all(default_position(s, crm) is not None for s in stages):
            ordered, source = sorted(stages, key=lambda s: default_position(s, crm) or 0), "default"
        elif ranks and all((str(pipeline), s) in ranks for s in stages):
            ordered, source = sorted(stages, key=lambda s: ranks[(str(pipeline), s)]), "history"
        else:
            ordered, source = _by_age(stages, given, ages, crm), "age"
        for i, s in enumerate(ordered, start=1):
            order[(str(pipeline), s)] = i
        order_from[str(pipeline)] = source
    return order, order_from


def _by_age(stages: list[str], given: list[str], ages: dict[str, Any], crm: str) -> list[str]:
    """An order from what is known: the consultant's stages first as given, then the CRM's
    default stages in their default order, and each other stage placed among them by the
    median age of its deals (younger deals sit in earlier stages); never before the CRM's
    first stage (``NEW``, «Новая», «Неразобранное»), where every deal starts."""
    def age(s: str) -> float:
        a = ages.get(s)
        return float(a) if a is not None and not pd.isna(a) else float("inf")
    known = sorted((s for s in stages if s not in given and default_position(s, crm) is not None),
                   key=lambda s: default_position(s, crm) or 0)
    ordered = list(known)
    for s in sorted((s for s in stages if s not in given and s not in known), key=age):
        at = sum(1 for k in ordered if age(k) <= age(s))
        if ordered and default_position(ordered[0], crm) == 0:
            at = max(at, 1)
        ordered.insert(at, s)
    return given + ordered


def history_ranks(history: pd.DataFrame, open_stages: set[tuple[str, str]]) -> pd.DataFrame:
    """The mean position at which deals first entered each open stage (pure, vectorised).

    history: ``deal_id``, ``pipeline``, ``stage``, ``entered``. Returns ``pipeline``, ``stage``,
    ``rank`` for the (pipeline, stage) pairs of ``open_stages`` the history holds.
    """
    if history is None or not len(history):
        return pd.DataFrame({C.PIPELINE: [], C.STAGE: [], "rank": []})
    h = history[[C.DEAL_ID, C.PIPELINE, C.STAGE, C.ENTERED]]
    keep = pd.Series([(p, s) in open_stages for p, s in zip(h[C.PIPELINE], h[C.STAGE])], index=h.index)
    first = h[keep.to_numpy()].groupby([C.DEAL_ID, C.PIPELINE, C.STAGE], sort=False)[C.ENTERED].min().reset_index()
    first["pos"] = first.groupby(C.DEAL_ID)[C.ENTERED].rank(method="first")
    out = first.groupby([C.PIPELINE, C.STAGE])["pos"].mean().rename("rank").reset_index()
    return out


def render_stage_lines(table: pd.DataFrame, unclassified: pd.DataFrame) -> list[str]:
    """The ``deals.stages`` lines to paste into engagement.yaml: per pipeline with an
    unclassified stage, its open stages in the order found and each unclassified stage with
    an empty outcome the consultant replaces by won, lost or open.

    Keys are written as JSON strings (valid YAML: quotes, colons and «» stay text).
    """
    lines = ["deals:", "  stages:"]
    pipelines = list(dict.fromkeys(unclassified[C.PIPELINE].astype(str)))
    for pipeline in pipelines:
        lines.append(f"    {_key(pipeline or ANY_PIPELINE)}:")
        mine = table[(table[C.PIPELINE] == pipeline) & (table[C.OUTCOME] == "open")]
        for stage in mine.sort_values(C.STAGE_ORDER)[C.STAGE]:
            lines.append(f"      {_key(stage)}: open")
        for stage in unclassified.loc[unclassified[C.PIPELINE] == pipeline, C.STAGE]:
            lines.append(f'      {_key(stage)}: ""')
    return lines


def render_order_lines(open_order: dict[str, list[str]], pipelines: list[str]) -> list[str]:
    """The ``deals.stages`` lines confirming the open stages' order of ``pipelines``
    (``open_order``: pipeline -> open stages in order)."""
    lines = ["deals:", "  stages:"]
    for pipeline in pipelines:
        lines.append(f"    {_key(pipeline or ANY_PIPELINE)}:")
        lines.extend(f"      {_key(stage)}: open" for stage in open_order.get(pipeline, []))
    return lines


def stage_summary(table: pd.DataFrame) -> dict[str, dict[str, object]]:
    """For the import report: ``stage_outcomes`` ("pipeline|stage" -> outcome), ``stage_rules``
    (-> rule) and ``open_order`` (pipeline -> open stages in funnel order)."""
    keys = [f"{p}|{s}" for p, s in zip(table[C.PIPELINE], table[C.STAGE])]
    is_open = table[C.OUTCOME] == "open"
    ordered = table[is_open].sort_values([C.PIPELINE, C.STAGE_ORDER], kind="stable")
    return {"stage_outcomes": dict(zip(keys, table[C.OUTCOME])),
            "stage_rules": dict(zip(keys, table[C.STAGE_RULE])),
            "open_order": {str(p): g[C.STAGE].astype(str).tolist() for p, g in ordered.groupby(C.PIPELINE, sort=False)}}


def _key(text: str) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def majority(values: pd.Series, by: pd.Series) -> pd.Series:
    """The most frequent non-empty value of ``values`` per group of ``by`` ("" when none)."""
    frame = pd.DataFrame({"by": by.to_numpy(), "v": values.to_numpy()})
    frame = frame[frame["v"] != ""]
    if not len(frame):
        return pd.Series(dtype="object")
    counts = frame.groupby(["by", "v"], sort=False).size().reset_index(name="n")
    counts = counts.sort_values(["by", "n"], ascending=[True, False], kind="stable")
    return counts.drop_duplicates("by").set_index("by")["v"]


__all__ = [
    "ANY_PIPELINE",
    "B24_OPEN_ORDER",
    "StageTable",
    "classify_stages",
    "code_pipeline",
    "deal_messages",
    "default_position",
    "flag_value",
    "history_ranks",
    "majority",
    "render_order_lines",
    "render_stage_lines",
    "stage_family",
    "stage_summary",
    "system_outcome",
]
