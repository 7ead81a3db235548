"""Client development maps: group maps per segment, individual maps for key accounts.

A map is an *algorithm with checkpoints* (source 000): activities per track with an
owner role, placed on the months of the planning year, and checkpoints with a KPI, a
baseline, a target and a deadline. This module drafts maps from the segmentation
result, the ledger, the ``maps`` settings and the map templates (``templates/maps``).
Pure: it never touches the disk (templates and overrides are read by
``workbench.io.yamlfiles``) and never modifies its inputs.

Decisions (documented here, tested in ``tests/test_maps.py``)
---------------------------------------------------------------
* **Planning year**: ``months`` months from ``start_month`` ('' = the month after the
  reporting month).
* **Membership**: a customer is in at most one group map. Customers with
  ``segments.map == 'individual'`` stay in their group map and get an individual map on
  top (what their own data add), when a KAM can carry them (``kam``; the key accounts over
  the KAM norm wait for a KAM). Group templates claim customers by ``priority`` (lower first, then the
  order of ``group_templates``): the reactivation of sleeping customers (priority 10)
  comes before their tier's map. Lost customers (silent > a year) are in no shipped
  map (``exclude: {lifecycle: [lost]}``); a finding counts them. An empty segment
  gives no map (and a finding).
* **Baselines** of computed KPIs are measured on the same calendar months one year
  earlier than the checkpoint's window (plan start .. deadline), i.e. inside the 12
  months up to the reporting month for a standard plan: the final (12-month)
  checkpoint's baseline is the KPI over those 12 months, intermediate checkpoints are
  pro-rated by month *and* season. Individual maps use the customer's own history.
  Entered KPIs take their baseline from the template (default 0).
* **Target rules** (``target: {rule, value}``): growth (baseline x (1 + value)), hold
  (= baseline), add (baseline + value), absolute (value), share (value, 0..1), reach
  (value 0..1 of the members, a count rounded up), per_member (value x members). A list
  of values gives one value per deadline, the last repeated. ``min`` floors the target.
* **Calendar**: seasonal months (holidays | budget | peak | low) come from the settings
  and the template; sales and marketing activities falling in a holidays / low month are
  moved to the next month that is not (dropped when the same activity is already
  there); budget months get "commercial offers for next year's budget"; releases get a
  warm-up ``lead_months.release`` before, an offer in the month and a ROMI checkpoint
  ``romi_lag_months.release`` after; a law gets an awareness campaign from
  ``lead_months.law`` months ahead, an offer in the month and ROMI later; a conference
  gets invitations ahead and attendance in the month (and anchors ``when: {event:
  conference}`` items, e.g. the key account presenting a case).

Example
-------
>>> templates = load_map_templates(TEMPLATES_DIR / "maps")          # doctest: +SKIP
>>> res = draft_maps(segments, ledger, settings["maps"], "2026-12", templates)  # doctest: +SKIP
>>> res.checkpoints.columns.tolist() == list(CHECKPOINT_COLUMNS)    # doctest: +SKIP
True

The package holds one module per step: ``templates`` (validation), ``calendar``,
``targets``, ``draft`` and ``overrides``; ``individual`` (what a customer's own data give),
``contacts`` (the contact log, the key-account rules, dossiers), ``kam`` (which key accounts
a KAM can carry, which wait for one), ``nurturing`` (who is ready now) and ``workload`` (tasks
per salesperson within the cap).
"""
from __future__ import annotations

from workbench.maps.calendar import default_plan_start, plan_months
from workbench.maps.common import COMMITTEE, DEFAULT_SETTINGS, ROLES, RULES, TRACKS, label
from workbench.maps.contacts import ContactLog, contact_rule_check, dossiers, parse_activity_log
from workbench.maps.draft import MapsResult, checkpoints_frame, draft_maps
from workbench.maps.individual import customer_profiles
from workbench.maps.kam import WAITING_COLUMNS, kam_capacity
from workbench.maps.nurturing import readiness
from workbench.maps.overrides import apply_overrides, validate_map_overrides
from workbench.maps.targets import baseline_window, compute_target, make_target
from workbench.maps.templates import load_map_templates, validate_template
from workbench.maps.workload import Workload, plan_workload

__all__ = [
    "COMMITTEE",
    "DEFAULT_SETTINGS",
    "ROLES",
    "RULES",
    "TRACKS",
    "WAITING_COLUMNS",
    "ContactLog",
    "MapsResult",
    "Workload",
    "apply_overrides",
    "baseline_window",
    "checkpoints_frame",
    "compute_target",
    "contact_rule_check",
    "customer_profiles",
    "default_plan_start",
    "dossiers",
    "draft_maps",
    "kam_capacity",
    "label",
    "load_map_templates",
    "make_target",
    "parse_activity_log",
    "plan_months",
    "plan_workload",
    "readiness",
    "validate_map_overrides",
    "validate_template",
]
