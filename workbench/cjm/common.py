"""Shared vocabulary of the CJM: stages, levels, roles, tiers, column sets."""
from __future__ import annotations

import re

HOURGLASS = ("attention", "trust", "contact", "warmup", "sale", "after_sales", "referral")
HOURGLASS_VERBS = ("know", "like", "trust", "try", "buy", "repeat", "refer")  # Jantsch's verbs
LEVELS = ("table_stakes", "functional", "ease_of_doing_business", "individual", "inspirational")
SUBGROUPS: dict[str, tuple[str, ...]] = {
    "table_stakes": ("",),
    "functional": ("economic", "performance"),
    "ease_of_doing_business": ("productivity", "operational", "access", "relationship", "strategic"),
    "individual": ("career", "personal"),
    "inspirational": ("purpose",),
}
COMMITTEE_ROLES = ("champion", "decision_maker", "blocker", "influencer", "expert", "user")
OWNER_ROLES = ("hunter", "closer", "farmer", "kam", "presale", "marketing")  # as in the development maps
TIERS = ("vip", "strategic", "typical", "ballast")
INDIVIDUAL_TEMPLATE = "key_account"
SEGMENT_TEMPLATES = TIERS + (INDIVIDUAL_TEMPLATE,)
UNITS = ("share", "count")
# At any moment 3 % of a market buy, 40 % are open to talk, 57 % are not ready (001, after Vorsight).
NURTURING: tuple[tuple[str, float], ...] = (("buy_now", 0.03), ("open_to_talk", 0.40), ("not_ready", 0.57))

TABLE_COLUMNS = ("cjm_id", "row_kind", "level", "subgroup", "row", "row_label", "stage", "stage_label",
                 "role", "role_label", "action", "person", "owner")
GRID_HEAD = ("row_kind", "level", "subgroup", "row", "row_label")
RULE_COLUMNS = ("cjm_id", "stage", "stage_label", "month", "deadline", "owners", "owners_label",
                "qualification", "handoff", "measured", "cells")
DEAL_STAGE_PREFIX = "deal:"  # code of a column that is a stage of the client's CRM funnel
DROPPED_COLUMNS = ("file", "template", "row", "stage")

_TEMPLATE_KEYS = ("segment", "title", "owner", "elements", "stages", "cells", "checkpoints", "tender", "nurturing")
_STAGE_KEYS = ("offset", "months", "owners", "qualification", "handoff")
_CELL_KEYS = ("role", "ru", "en", "owner")
_CHECKPOINT_KEYS = ("unit", "target")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

