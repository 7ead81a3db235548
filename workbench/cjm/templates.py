"""CJM templates (``templates/cjm``, the engagement's ``overrides/cjm``): reading and validation.

Every problem of every file is collected and raised at once (file, key path, bad value,
allowed values).
"""
from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

from workbench.cjm.common import (
    _CELL_KEYS,
    _CHECKPOINT_KEYS,
    _STAGE_KEYS,
    _TEMPLATE_KEYS,
    HOURGLASS_VERBS,
    INDIVIDUAL_TEMPLATE,
    LEVELS,
    OWNER_ROLES,
    SEGMENT_TEMPLATES,
    SUBGROUPS,
    UNITS,
)
from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, t


def load_cjm_templates(templates_dir: Path, engagement_dir: Path | None,
                       stages_override: list[dict] | None = None, lang: str = "ru") -> dict[str, Any]:
    """Read and validate the CJM templates; the engagement's edited copies win.

    Parameters
    ----------
    templates_dir
        ``templates/`` (or ``templates/cjm/``) of the project.
    engagement_dir
        The engagement folder; its ``overrides/cjm/*.yaml`` replace the shipped files and
        ``overrides/cjm/customers/<customer_id>.yaml`` give one customer its own CJM. None = none.
    stages_override
        engagement.yaml ``cjm.stages``: ``[{code, ru, en}, ...]``; empty = the hourglass.
    lang
        Language of error messages.

    Returns
    -------
    dict
        The validated templates (see :func:`validate_cjm_templates`).

    Raises
    ------
    ConfigError
        Listing every problem: file, key path, bad value, allowed values.
    """
    from workbench.io.cjmfiles import read_cjm_sources

    return validate_cjm_templates(read_cjm_sources(Path(templates_dir), engagement_dir, lang),
                                  stages_override or [], lang)


class _Problems:
    """Problems collected per file, raised together as one ConfigError."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.by_file: OrderedDict[str, list[str]] = OrderedDict()

    def add(self, source: str, message: str, /, **kwargs: Any) -> None:
        self.by_file.setdefault(source, []).append(str(t(message, self.lang, **kwargs)))

    def unknown_keys(self, source: str, data: Any, allowed: tuple[str, ...], path: str = "") -> None:
        """A problem for each key of the mapping ``data`` not in ``allowed`` (``path``: where
        ``data`` sits in the file, "" at the top)."""
        for key in data:
            if key not in allowed:
                self.add(source, "config.unknown_key", key=f"{path}.{key}" if path else str(key),
                         allowed=", ".join(allowed))

    def raise_if_any(self) -> None:
        if not self.by_file:
            return
        lines = []
        for source, items in self.by_file.items():
            lines.append(t("config.header", self.lang, file=source))
            lines.extend(f"  - {p}" for p in items)
        raise ConfigError("\n".join(lines))


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def _labelled_list(data: Any, list_key: str, source: str, pr: _Problems,
                   extra: tuple[str, ...]) -> OrderedDict[str, dict[str, Any]]:
    """Validate ``{list_key: [{code, ru, en, **extra}, ...]}``; return code -> item."""
    out: OrderedDict[str, dict[str, Any]] = OrderedDict()
    if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
        pr.add(source, "config.expected_list", key=list_key, value=_show(data))
        return out
    allowed_keys = ("code", "ru", "en") + tuple(extra)
    for i, item in enumerate(data[list_key]):
        path = f"{list_key}[{i}]"
        if not isinstance(item, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(item))
            continue
        pr.unknown_keys(source, item, allowed_keys, path)
        ok = True
        for key in allowed_keys:
            value = item.get(key, "" if key == "subgroup" else None)
            if value is None:
                pr.add(source, "config.missing_key", key=f"{path}.{key}")
                ok = False
            elif not isinstance(value, str) or (key != "subgroup" and not value.strip()):
                pr.add(source, "config.expected_text", key=f"{path}.{key}", value=_show(value))
                ok = False
        if not ok:
            continue
        code = item["code"]
        if code in out:
            pr.add(source, "cjm.duplicate_code", key=f"{path}.code", value=_show(code))
            continue
        out[code] = {k: item.get(k, "") or "" for k in allowed_keys}
    return out


def _bilingual(value: Any, path: str, source: str, pr: _Problems) -> dict[str, str] | None:
    if not isinstance(value, dict):
        pr.add(source, "config.expected_mapping", key=path, value=_show(value))
        return None
    out = {}
    pr.unknown_keys(source, value, LANGUAGES, path)
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            pr.add(source, "cjm.missing_text", key=f"{path}.{lang}", value=_show(text))
            return None
        out[lang] = text
    return out


def validate_cjm_templates(sources: dict[str, dict[str, Any]], stages_override: list[dict],
                           lang: str = "ru") -> dict[str, Any]:
    """Validate parsed template files (pure); raise one ConfigError listing every problem.

    Parameters
    ----------
    sources
        name -> {"source": file name for messages, "data": parsed YAML}, as returned by
        :func:`workbench.io.cjmfiles.read_cjm_sources`.
    stages_override
        engagement.yaml ``cjm.stages`` (``[]`` = the hourglass from ``stages.yaml``).

    Returns
    -------
    dict
        ``stages`` (the columns: list of {code, ru, en}), ``custom_stages`` (bool),
        ``elements`` / ``roles`` / ``progresses`` (code -> item, in file order), ``segments``
        (template name -> normalised template), ``customers`` (customer_id -> normalised
        template), ``dropped`` (cells and stage rules keyed to hourglass stages that the custom
        stage list left out: list of {file, template, row, stage}), ``sources`` (name -> file).
    """
    pr = _Problems(lang)
    src = {name: entry["source"] for name, entry in sources.items()}
    elements = _labelled_list(sources["elements"]["data"], "elements", src["elements"], pr,
                              ("level", "subgroup"))
    for code, item in elements.items():
        if item["level"] not in LEVELS:
            pr.add(src["elements"], "config.unknown_value", key=f"elements.{code}.level",
                   value=_show(item["level"]), allowed=", ".join(LEVELS))
        elif item["subgroup"] not in SUBGROUPS[item["level"]]:
            pr.add(src["elements"], "config.unknown_value", key=f"elements.{code}.subgroup",
                   value=_show(item["subgroup"]), allowed=", ".join(map(_show, SUBGROUPS[item["level"]])))
    hourglass = _labelled_list(sources["stages"]["data"], "stages", src["stages"], pr, ("verb",))
    for i, (code, item) in enumerate(hourglass.items()):
        # each stage names its verb of the hourglass (Jantsch: know, like, trust, try, buy, repeat,
        # refer) in both languages, so a label cannot pair a stage with another stage's verb
        if item["verb"] not in HOURGLASS_VERBS:
            pr.add(src["stages"], "config.unknown_value", key=f"stages[{i}].verb", value=_show(item["verb"]),
                   allowed=", ".join(HOURGLASS_VERBS))
            continue
        for lg in LANGUAGES:
            word = str(t("cjm.verb", lg)[item["verb"]])
            if word.casefold() not in item[lg].casefold():
                pr.add(src["stages"], "cjm.stage_verb", key=f"stages[{i}].{lg}", value=_show(item[lg]),
                       verb=word, stage=code)
    roles = _labelled_list(sources["roles"]["data"], "roles", src["roles"], pr, ())
    progresses = _labelled_list(sources["progresses"]["data"], "progresses", src["progresses"], pr,
                                ("stage",))
    for code, item in progresses.items():
        if item["stage"] not in hourglass:
            pr.add(src["progresses"], "cjm.unknown_stage", key=f"progresses.{code}.stage",
                   value=_show(item["stage"]), allowed=", ".join(hourglass))
    clash = sorted(set(elements) & set(progresses))
    if clash:
        pr.add(src["progresses"], "cjm.row_clash", value=", ".join(clash))

    custom = bool(stages_override)
    if custom:
        stages = []
        for i, st in enumerate(stages_override):
            if not isinstance(st, dict) or not all(isinstance(st.get(k), str) and st.get(k)
                                                   for k in ("code", "ru", "en")):
                pr.add("engagement.yaml", "config.expected_mapping", key=f"cjm.stages[{i}]", value=_show(st))
                continue
            stages.append({"code": st["code"], "ru": st["ru"], "en": st["en"]})
    else:
        stages = [dict(v) for v in hourglass.values()]
    columns = [s["code"] for s in stages]
    # a custom stage may stand for an hourglass stage (``hourglass: warmup``): the templates'
    # cells of that stage go to the first column standing for it, its rules to every one
    aliases: dict[str, list[str]] = {}
    for st in stages_override if custom else []:
        if isinstance(st, dict) and st.get("hourglass") in hourglass and st.get("code") in columns:
            aliases.setdefault(str(st["hourglass"]), []).append(str(st["code"]))
    known_stages = list(dict.fromkeys(columns + list(hourglass)))
    dropped: list[dict[str, str]] = []

    ctx = {"elements": elements, "progresses": progresses, "roles": roles, "columns": columns,
           "known": known_stages, "hourglass": list(hourglass), "dropped": dropped, "aliases": aliases}
    segments: dict[str, dict[str, Any]] = {}
    for name in SEGMENT_TEMPLATES:
        if name in sources:
            segments[name] = _segment_template(sources[name]["data"], name, name, src[name], pr, ctx)
    customers: dict[str, dict[str, Any]] = {}
    for name in sources:
        if name.startswith("customer:"):
            cid = name.split(":", 1)[1]
            customers[cid] = _segment_template(sources[name]["data"], INDIVIDUAL_TEMPLATE, name,
                                               src[name], pr, ctx)
    pr.raise_if_any()
    # the hourglass stays known beside custom columns: nurturing steps name its stages
    return {"stages": stages, "hourglass": [dict(v) for v in hourglass.values()], "custom_stages": custom,
            "elements": dict(elements), "roles": dict(roles),
            "progresses": dict(progresses), "segments": segments, "customers": customers,
            "dropped": dropped, "sources": src}


def _segment_template(data: Any, expected: str, name: str, source: str, pr: _Problems,
                      ctx: dict[str, Any]) -> dict[str, Any]:
    """Validate one segment template; return it normalised (cells as a list, dropped cells removed)."""
    out: dict[str, Any] = {"name": name, "segment": expected, "source": source, "title": {"ru": "", "en": ""},
                           "owner": "", "elements": [], "stages": {}, "cells": [], "checkpoints": {},
                           "tender": {"drop": [], "cells": []}, "nurturing": None}
    if not isinstance(data, dict):
        pr.add(source, "config.expected_mapping", key="/", value=_show(data))
        return out
    pr.unknown_keys(source, data, _TEMPLATE_KEYS)
    if data.get("segment") != expected:
        pr.add(source, "config.unknown_value", key="segment", value=_show(data.get("segment")),
               allowed=expected)
    out["title"] = _bilingual(data.get("title"), "title", source, pr) or out["title"]
    owner = data.get("owner")
    if owner not in OWNER_ROLES:
        pr.add(source, "cjm.unknown_owner", key="owner", value=_show(owner), allowed=", ".join(OWNER_ROLES))
    else:
        out["owner"] = owner
    elements, progresses = ctx["elements"], ctx["progresses"]
    chosen = data.get("elements") or []
    if not isinstance(chosen, list):
        pr.add(source, "config.expected_list", key="elements", value=_show(chosen))
        chosen = []
    for i, code in enumerate(chosen):
        if code not in elements:
            pr.add(source, "cjm.unknown_element", key=f"elements[{i}]", value=_show(code),
                   allowed=", ".join(elements))
    out["elements"] = [c for c in elements if c in chosen]

    def stage_ok(stage: Any, path: str, row: str, record: bool = True) -> list[str]:
        """The columns a template's stage lands in ([]: unknown, or left out and listed)."""
        if stage not in ctx["known"]:
            pr.add(source, "cjm.unknown_stage", key=path, value=_show(stage), allowed=", ".join(ctx["columns"]))
            return []
        if stage in ctx["columns"]:
            return [str(stage)]
        if stage in ctx["aliases"]:
            return list(ctx["aliases"][stage])
        if record:  # the tender variants of cells are not reported a second time
            ctx["dropped"].append({"file": source, "template": name, "row": row, "stage": str(stage)})
        return []

    stages_in = data.get("stages") or {}
    if not isinstance(stages_in, dict):
        pr.add(source, "config.expected_mapping", key="stages", value=_show(stages_in))
        stages_in = {}
    for stage, rule in stages_in.items():
        path = f"stages.{stage}"
        columns_of = stage_ok(stage, path, "")
        if not columns_of:
            continue
        if not isinstance(rule, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(rule))
            continue
        pr.unknown_keys(source, rule, _STAGE_KEYS, path)
        norm: dict[str, Any] = {}
        for key, lo in (("offset", 0), ("months", 1)):
            if key in rule:
                value = rule[key]
                if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= 120:
                    pr.add(source, "config.out_of_range", key=f"{path}.{key}", value=_show(value), lo=lo, hi=120)
                else:
                    norm[key] = value
        owners = rule.get("owners", [])
        if not isinstance(owners, list) or not owners:
            pr.add(source, "config.expected_texts", key=f"{path}.owners", value=_show(owners))
            owners = []
        for i, o in enumerate(owners):
            if o not in OWNER_ROLES:
                pr.add(source, "cjm.unknown_owner", key=f"{path}.owners[{i}]", value=_show(o),
                       allowed=", ".join(OWNER_ROLES))
        norm["owners"] = [o for o in owners if o in OWNER_ROLES]
        for key in ("qualification", "handoff"):
            if key in rule:
                text = _bilingual(rule[key], f"{path}.{key}", source, pr)
                if text:
                    norm[key] = text
        for column in columns_of:
            out["stages"][column] = dict(norm)

    out["cells"] = _cells(data.get("cells") or {}, "cells", source, pr, ctx, stage_ok)
    tender = data.get("tender") or {}
    out["tender"] = {"drop": [], "cells": []}
    if not isinstance(tender, dict):
        pr.add(source, "config.expected_mapping", key="tender", value=_show(tender))
        tender = {}
    pr.unknown_keys(source, tender, ("drop", "cells"), "tender")
    drop = tender.get("drop") or []
    if not isinstance(drop, list):
        pr.add(source, "config.expected_list", key="tender.drop", value=_show(drop))
        drop = []
    for i, row in enumerate(drop):
        if row not in progresses and row not in elements:
            pr.add(source, "cjm.unknown_row", key=f"tender.drop[{i}]", value=_show(row),
                   progresses=", ".join(progresses), elements=", ".join(elements))
    out["tender"]["drop"] = [r for r in drop if r in progresses or r in elements]
    out["tender"]["cells"] = _cells(tender.get("cells") or {}, "tender.cells", source, pr, ctx,
                                    lambda stage, path, row: stage_ok(stage, path, row, record=False))
    _check_incentives(out, source, pr)
    out["nurturing"] = _nurturing(data.get("nurturing"), source, pr, ctx)

    checks_in = data.get("checkpoints") or {}
    if not isinstance(checks_in, dict):
        pr.add(source, "config.expected_mapping", key="checkpoints", value=_show(checks_in))
        checks_in = {}
    for code, rule in checks_in.items():
        path = f"checkpoints.{code}"
        if code not in progresses:
            pr.add(source, "cjm.unknown_progress", key=path, value=_show(code), allowed=", ".join(progresses))
            continue
        if not isinstance(rule, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(rule))
            continue
        pr.unknown_keys(source, rule, _CHECKPOINT_KEYS, path)
        unit, target = rule.get("unit"), rule.get("target")
        if unit not in UNITS:
            pr.add(source, "config.unknown_value", key=f"{path}.unit", value=_show(unit), allowed=", ".join(UNITS))
            continue
        hi = 1.0 if unit == "share" else 1_000_000.0
        if not isinstance(target, (int, float)) or isinstance(target, bool) or not 0 < target <= hi:
            pr.add(source, "config.out_of_range", key=f"{path}.target", value=_show(target), lo=0, hi=hi)
            continue
        out["checkpoints"][code] = {"unit": unit, "target": float(target)}
    for cell in out["cells"]:
        if cell["row_kind"] == "progress" and cell["row"] not in checks_in:
            pr.add(source, "cjm.no_checkpoint", key=f"checkpoints.{cell['row']}", row=cell["row"])
    if out["cells"] and not checks_in:
        pr.add(source, "cjm.no_checkpoints", key="checkpoints")
    for cell in out["tender"]["cells"]:
        if cell["row_kind"] == "progress" and cell["row"] not in checks_in:
            pr.add(source, "cjm.no_checkpoint", key=f"checkpoints.{cell['row']}", row=cell["row"])
    # order cells: progresses, then elements (file order), each by stage column order
    row_order = {code: i for i, code in enumerate(list(progresses) + list(elements))}
    col_order = {code: i for i, code in enumerate(ctx["columns"])}
    for cells in (out["cells"], out["tender"]["cells"]):
        cells.sort(key=lambda c: (row_order[c["row"]], col_order[c["stage"]]))
    return out


def _cells(cells_in: Any, prefix: str, source: str, pr: _Problems, ctx: dict[str, Any],
           stage_ok: Any) -> list[dict[str, Any]]:
    """Validate ``{row: {stage: {role, ru, en[, owner]}}}``; the cells inside the stage columns."""
    elements, progresses, roles = ctx["elements"], ctx["progresses"], ctx["roles"]
    out: list[dict[str, Any]] = []
    if not isinstance(cells_in, dict):
        pr.add(source, "config.expected_mapping", key=prefix, value=_show(cells_in))
        return out
    for row, by_stage in cells_in.items():
        path = f"{prefix}.{row}"
        if row in progresses:
            kind = "progress"
        elif row in elements:
            kind = "element"
        else:
            pr.add(source, "cjm.unknown_row", key=path, value=_show(row),
                   progresses=", ".join(progresses), elements=", ".join(elements))
            continue
        if not isinstance(by_stage, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(by_stage))
            continue
        for stage, cell in by_stage.items():
            cpath = f"{path}.{stage}"
            columns_of = stage_ok(stage, cpath, str(row))
            in_columns = bool(columns_of)
            if not isinstance(cell, dict):
                pr.add(source, "config.expected_mapping", key=cpath, value=_show(cell))
                continue
            pr.unknown_keys(source, cell, _CELL_KEYS, cpath)
            ok = True
            if cell.get("role") not in roles:
                pr.add(source, "cjm.unknown_role", key=f"{cpath}.role", value=_show(cell.get("role")),
                       allowed=", ".join(roles))
                ok = False
            for lang in LANGUAGES:
                if not isinstance(cell.get(lang), str) or not cell[lang].strip():
                    pr.add(source, "cjm.missing_text", key=f"{cpath}.{lang}", value=_show(cell.get(lang)))
                    ok = False
            if "owner" in cell and cell["owner"] not in OWNER_ROLES:
                pr.add(source, "cjm.unknown_owner", key=f"{cpath}.owner", value=_show(cell["owner"]),
                       allowed=", ".join(OWNER_ROLES))
                ok = False
            if ok and in_columns:
                out.append({"row": row, "row_kind": kind, "stage": columns_of[0], "role": cell["role"],
                            "ru": cell["ru"], "en": cell["en"], "owner": cell.get("owner", "")})
    return out


def incentive_word(text: str) -> str:
    """The first word of ``text`` that names a gift, bonus or informal incentive ("" for none),
    from the catalogues' ``cjm.incentive_words`` (stems, both languages)."""
    low = str(text).casefold().replace("ё", "е")
    for lang in LANGUAGES:
        for stem in t("cjm.incentive_words", lang):
            at = low.find(str(stem))
            if at >= 0 and (at == 0 or not low[at - 1].isalpha()):
                end = at
                while end < len(low) and low[end].isalpha():
                    end += 1
                return str(text)[at:end]
    return ""


def tender_cells(tpl: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells a state buyer (44-FZ / 223-FZ) gets: the template's cells without the rows in
    ``tender.drop``, each replaced by its ``tender.cells`` version where there is one."""
    replaced = {(c["row"], c["stage"]): c for c in tpl["tender"]["cells"]}
    cells = [replaced.pop((c["row"], c["stage"]), c) for c in tpl["cells"] if c["row"] not in tpl["tender"]["drop"]]
    return cells + list(replaced.values())


def _check_incentives(tpl: dict[str, Any], source: str, pr: _Problems) -> None:
    """A cell whose action is a gift, a bonus or another informal incentive must be dropped or
    replaced for state buyers (tender rules: 44-FZ / 223-FZ), and no tender cell may be one."""
    covered = set(tpl["tender"]["drop"]) | {(c["row"], c["stage"]) for c in tpl["tender"]["cells"]}
    for c in tpl["cells"]:
        word = incentive_word(c["ru"]) or incentive_word(c["en"])
        if word and c["row"] not in covered and (c["row"], c["stage"]) not in covered:
            pr.add(source, "cjm.incentive_uncovered", key=f"cells.{c['row']}.{c['stage']}", word=word)
    for c in tpl["tender"]["cells"]:
        word = incentive_word(c["ru"]) or incentive_word(c["en"])
        if word:
            pr.add(source, "cjm.incentive_in_tender", key=f"tender.cells.{c['row']}.{c['stage']}", word=word)


def _nurturing(data: Any, source: str, pr: _Problems, ctx: dict[str, Any]) -> dict[str, Any] | None:
    """``nurturing: {weeks, steps: [{week, stage, role, content: {ru, en}, cta: {ru, en}}]}``."""
    if data is None:
        return None
    if not isinstance(data, dict):
        pr.add(source, "config.expected_mapping", key="nurturing", value=_show(data))
        return None
    pr.unknown_keys(source, data, ("weeks", "steps"), "nurturing")
    weeks = data.get("weeks")
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 1 <= weeks <= 104:
        pr.add(source, "config.out_of_range", key="nurturing.weeks", value=_show(weeks), lo=1, hi=104)
        weeks = 0
    steps = []
    raw = data.get("steps") or []
    if not isinstance(raw, list) or not raw:
        pr.add(source, "config.expected_list", key="nurturing.steps", value=_show(raw))
        raw = []
    for i, step in enumerate(raw):
        path = f"nurturing.steps[{i}]"
        if not isinstance(step, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(step))
            continue
        pr.unknown_keys(source, step, ("week", "stage", "role", "content", "cta"), path)
        week = step.get("week")
        ok = True
        if not isinstance(week, int) or isinstance(week, bool) or not 1 <= week <= max(weeks, 1):
            pr.add(source, "config.out_of_range", key=f"{path}.week", value=_show(week), lo=1, hi=max(weeks, 1))
            ok = False
        if step.get("stage") not in ctx["known"]:
            pr.add(source, "cjm.unknown_stage", key=f"{path}.stage", value=_show(step.get("stage")),
                   allowed=", ".join(ctx["columns"]))
            ok = False
        if step.get("role") not in ctx["roles"]:
            pr.add(source, "cjm.unknown_role", key=f"{path}.role", value=_show(step.get("role")),
                   allowed=", ".join(ctx["roles"]))
            ok = False
        content = _bilingual(step.get("content"), f"{path}.content", source, pr)
        cta = _bilingual(step.get("cta"), f"{path}.cta", source, pr)
        if ok and content and cta:
            steps.append({"week": week, "stage": step["stage"], "role": step["role"], "content": content, "cta": cta})
    return {"weeks": weeks, "steps": sorted(steps, key=lambda x: x["week"])}


def check_owners(cjm_templates: dict[str, Any], map_templates: dict[str, dict[str, Any]], lang: str = "ru") -> None:
    """One rule for who owns a segment: its development map and its CJM have the same owner
    role (strategic: both KAM; typical: both farmer; a key account: both KAM).

    A segment's map is the group template whose members are exactly that tier
    (``members: {tier: [<tier>]}``); the individual CJM pairs with the individual map
    template. Raises ConfigError naming both files and the rule for every pair that differs.
    """
    problems: list[str] = []
    pairs: list[tuple[str, dict[str, Any]]] = []
    for code, tpl in map_templates.items():
        members = tpl.get("members") or {}
        if tpl.get("kind") == "group" and list(members) == ["tier"] and len(members["tier"]) == 1:
            pairs.append((members["tier"][0], tpl))
        elif tpl.get("kind") == "individual" and code == INDIVIDUAL_TEMPLATE:
            pairs.append((INDIVIDUAL_TEMPLATE, tpl))
    for segment, map_tpl in pairs:
        cjm = cjm_templates["segments"].get(segment)
        if cjm is None or not cjm["owner"] or cjm["owner"] == map_tpl.get("owner"):
            continue
        problems.append(t("config.header", lang, file=cjm["source"]) + "\n  - " + t(
            "cjm.owner_mismatch", lang, segment=segment, cjm_owner=cjm["owner"], map_owner=map_tpl.get("owner"),
            map_file=map_tpl.get("source", "")))
    if problems:
        raise ConfigError("\n".join(problems))
