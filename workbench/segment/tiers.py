"""Four tiers (003) with the reason written out, and the tier mix against the healthy mix."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.i18n import t
from workbench.segment._util import _EPS, _fill, _join, _number_text, _pct_text

TIERS = ("vip", "strategic", "typical", "ballast")


def _tiers(frame: pd.DataFrame, tiers: dict[str, Any], lang: str) -> pd.DataFrame:
    """Four tiers (003): vip, strategic, typical, ballast, with the reason written out.

    Prospects: where the manager's potential is known for the customer, potential >=
    prospect_potential_ratio x revenue (and > 0); otherwise any signal: headcount >
    prospect_headcount, trend (last half-window on the half before) >= prospect_trend, or
    the ABC-XYZ cell in prospect_cells. Then, in order:
    VIP = A, share >= vip_min_share, not lost / sleeping; ballast = lost or revenue <= 0
    (a customer who brought nothing goes to reactivation, not development); strategic =
    prospects; ballast = orders <= ballast_max_orders; typical = the rest.
    """
    n = len(frame)
    revenue = frame["revenue"].to_numpy(dtype=float)
    potential = frame["potential"].to_numpy(dtype=float)
    has_potential = ~np.isnan(potential)
    ratio = float(tiers["prospect_potential_ratio"])
    by_potential = has_potential & (potential > 0) & (potential >= ratio * revenue - _EPS * np.abs(revenue))
    headcount = frame["headcount"].to_numpy(dtype=float)
    sig_head = ~np.isnan(headcount) & (headcount > float(tiers["prospect_headcount"]))
    trend = frame["trend"].to_numpy(dtype=float)
    sig_trend = ~np.isnan(trend) & (trend >= float(tiers["prospect_trend"]) - _EPS)
    sig_cell = frame["abc_xyz"].isin(list(tiers["prospect_cells"])).to_numpy()
    by_signals = sig_head | sig_trend | sig_cell
    prospects = np.where(has_potential, by_potential, by_signals)

    lifecycle = frame["lifecycle"].to_numpy()
    share = frame["revenue_share"].to_numpy(dtype=float)
    lost = lifecycle == "lost"
    vip = (frame["abc"].to_numpy() == "A") & (share >= float(tiers["vip_min_share"]) - _EPS) \
        & ~np.isin(lifecycle, ["lost", "sleeping"])
    nothing = revenue <= 0
    one_off = frame["orders"].to_numpy() <= int(tiers["ballast_max_orders"])
    tier = np.select([vip, lost | nothing, prospects, one_off],
                     ["vip", "ballast", "strategic", "ballast"], "typical").astype(str)

    # The reason, in plain words, built column-wise on the customers of each kind of reason
    # (object arrays: one C loop per piece; a handful of kinds, never a loop over customers).
    reason = np.full(n, "", dtype=object)
    kinds = np.select([tier == "vip", (tier == "ballast") & lost, (tier == "ballast") & nothing,
                       tier == "strategic", tier == "ballast"],
                      ["vip", "lost", "nothing", "strategic", "one_off"], "typical")
    xyz_codes = frame["xyz"].to_numpy()
    abc_codes = frame["abc"].to_numpy()
    cells = frame["abc_xyz"].to_numpy()
    rhythm_of = dict(t("segment.rhythm", lang))
    sleeping_txt = t("segment.reason_sleeping", lang)

    def head(idx: np.ndarray) -> np.ndarray:
        rhythm = pd.Series(xyz_codes[idx]).map(rhythm_of).to_numpy(dtype=object)
        return _fill(t("segment.reason_head", lang), len(idx), abc=abc_codes[idx].astype(object),
                     share=_pct_text(share[idx], lang), rhythm=rhythm)

    def note(idx: np.ndarray) -> np.ndarray:
        return np.where(lifecycle[idx] == "sleeping", sleeping_txt, "").astype(object)

    idx = np.flatnonzero(kinds == "vip")
    reason[idx] = head(idx)
    idx = np.flatnonzero(kinds == "typical")
    reason[idx] = _fill(t("segment.reason_typical", lang), len(idx), head=head(idx)) + note(idx)
    idx = np.flatnonzero(kinds == "strategic")
    if len(idx):
        rev, pot, sig = revenue[idx], potential[idx], ~has_potential[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = _number_text(np.where(rev > 0, pot / rev, np.nan), lang)
        pot_txt = np.where(has_potential[idx] & (rev > 0),
                           _fill(t("segment.signal_potential_ratio", lang), len(idx), ratio=ratio),
                           t("segment.signal_potential", lang))
        signals = _join([
            np.where(by_potential[idx], pot_txt, ""),
            np.where(sig_head[idx] & sig, t("segment.signal_headcount", lang, n=int(tiers["prospect_headcount"])), ""),
            np.where(sig_trend[idx] & sig,
                     _fill(t("segment.signal_trend", lang), len(idx), trend=_pct_text(trend[idx], lang, 0)), ""),
            np.where(sig_cell[idx] & sig,
                     _fill(t("segment.signal_cell", lang), len(idx), cell=cells[idx].astype(object)), ""),
        ])
        reason[idx] = _fill(t("segment.reason_strategic", lang), len(idx), head=head(idx), signals=signals) \
            + note(idx)
    idx = np.flatnonzero(kinds == "lost")
    reason[idx] = _fill(t("segment.reason_lost", lang), len(idx),
                        days=frame["recency_days"].to_numpy()[idx].astype(str).astype(object))
    reason[kinds == "nothing"] = t("segment.reason_no_revenue", lang)
    idx = np.flatnonzero(kinds == "one_off")
    reason[idx] = _fill(t("segment.reason_one_off", lang), len(idx),
                        orders=frame["orders"].to_numpy()[idx].astype(str).astype(object))
    return frame.assign(
        tier=tier, tier_reason=pd.Series(reason, index=frame.index, dtype="string"),
        prospects=prospects.astype(bool),
        prospect_source=np.where(has_potential, "potential", "signals").astype(str),
    )


def tier_mix(frame: pd.DataFrame, healthy: dict[str, Any], lang: str = "ru") -> pd.DataFrame:
    """Tier counts against the healthy mix (003), each deviation explained in plain words.

    Columns: tier, customers, share (of all customers in the base, by count), healthy_low,
    healthy_high, status ('ok' | 'below' | 'above'), explanation (text in ``lang``),
    lost (of which lost customers: they sit in ballast).
    """
    from workbench.report import fmt

    n = len(frame)
    counts = frame["tier"].value_counts().reindex(list(TIERS), fill_value=0)
    lost = frame.loc[frame["lifecycle"] == "lost", "tier"].value_counts().reindex(list(TIERS), fill_value=0)
    rows = pd.DataFrame({"tier": list(TIERS), "customers": counts.to_numpy().astype(np.int64)})
    rows["share"] = rows["customers"] / n if n else 0.0
    rows["healthy_low"] = [float(healthy[k][0]) for k in TIERS]
    rows["healthy_high"] = [float(healthy[k][1]) for k in TIERS]
    rows["status"] = np.select([rows["share"] < rows["healthy_low"] - _EPS,
                                rows["share"] > rows["healthy_high"] + _EPS], ["below", "above"], "ok")
    # Four rows: formatting them one by one is not a loop over customers.
    rows["explanation"] = [
        t(f"segment.mix_{tier}_{status}", lang, share=fmt.pct(share, lang),
          low=fmt.pct(low, lang, 0), high=fmt.pct(high, lang, 0))
        for tier, status, share, low, high in zip(rows["tier"], rows["status"], rows["share"],
                                                  rows["healthy_low"], rows["healthy_high"])]
    rows["lost"] = lost.to_numpy().astype(np.int64)
    return rows
