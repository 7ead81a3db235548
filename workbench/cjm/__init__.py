"""The B2B CJM table (source 004) and the salesperson's task list (pure logic).

Columns are funnel stages (the seven stages of the marketing hourglass, source 001, or the
engagement's own ``cjm.stages``); rows are *progresses* — actions of the customer that move
the deal forward — followed by the B2B Elements of Value (HBR 2018). Each filled cell holds
the buying-committee role the manager works with and the manager's action. One CJM per tier
present in the segments (``cjm:vip`` …) and one per customer with an individual map
(``cjm:<customer_id>``, from ``key_account.yaml``).

The templates are read by :mod:`workbench.io.cjmfiles` and validated here
(:func:`validate_cjm_templates`); :func:`build_cjms` turns them and the segments table into
tidy tables, display grids, stage rules, the nurturing mix and checkpoints in the format of
``workbench.columns.CHECKPOINT_COLUMNS``.

The package holds ``templates`` (reading and validation), ``build`` (tables, grids, rules,
task lists) and ``common`` (the vocabulary).
"""
from __future__ import annotations

from workbench.cjm.build import (
    STATE_CUSTOMER,
    CJMResult,
    add_months,
    build_cjms,
    group_members,
    largest_remainder,
    lost_customers,
    state_buyers,
)
from workbench.cjm.common import (
    COMMITTEE_ROLES,
    DEAL_STAGE_PREFIX,
    HOURGLASS,
    LEVELS,
    NURTURING,
    OWNER_ROLES,
    SUBGROUPS,
    TIERS,
)
from workbench.cjm.templates import (
    check_owners,
    incentive_word,
    load_cjm_templates,
    tender_cells,
    validate_cjm_templates,
)

__all__ = [
    "COMMITTEE_ROLES",
    "DEAL_STAGE_PREFIX",
    "HOURGLASS",
    "LEVELS",
    "NURTURING",
    "OWNER_ROLES",
    "STATE_CUSTOMER",
    "SUBGROUPS",
    "TIERS",
    "CJMResult",
    "add_months",
    "build_cjms",
    "check_owners",
    "group_members",
    "incentive_word",
    "largest_remainder",
    "load_cjm_templates",
    "lost_customers",
    "state_buyers",
    "tender_cells",
    "validate_cjm_templates",
]
