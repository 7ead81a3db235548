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
    prospect_headcount, trend (last half-window on the half before) >= prospect_trend for a
    customer who buys regularly (XYZ class X or Y; on irregular purchases a half-on-half rise
    is noise), or the ABC-XYZ cell in prospect_cells. Then, in order:
    VIP = A, share >= vip_min_share, not lost / sleeping; ballast = lost or revenue <= 0
    (a customer who brought nothing goes to reactivation, not development); strategic =
    prospects; ballast = orders <= ballast_max_orders, unless the customer is *new*
    (lifecycle, first purchase within ``new_months``): a new customer with one order is being
    onboarded and has not had the chance to reorder, so it is typical (standard onboarding
    work) and flagged ``new_one_off``; typical = the rest.

    Lost customers keep the tier code ``ballast`` (every customer has one of the four tiers,
    which the maps, the CJM and the history rely on), but the tier mix counts them apart.
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
    # A half-on-half rise says something only about a customer who buys regularly (X or Y): on
    # irregular purchases (Z) it is the luck of which months the orders fell in.
    regular = frame["xyz"].isin(["X", "Y"]).to_numpy()
    sig_trend = regular & ~np.isnan(trend) & (trend >= float(tiers["prospect_trend"]) - _EPS)
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
    new = lifecycle == "new"
    tier = np.select([vip, lost | nothing, prospects, one_off & ~new],
                     ["vip", "ballast", "strategic", "ballast"], "typical").astype(str)
    new_one_off = (tier == "typical") & one_off & new

    # The reason, in plain words, built column-wise on the customers of each kind of reason
    # (object arrays: one C loop per piece; a handful of kinds, never a loop over customers).
    reason = np.full(n, "", dtype=object)
    kinds = np.select([tier == "vip", (tier == "ballast") & lost, (tier == "ballast") & nothing,
                       tier == "strategic", tier == "ballast", new_one_off],
                      ["vip", "lost", "nothing", "strategic", "one_off", "new"], "typical")
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
    idx = np.flatnonzero(kinds == "new")
    first = pd.Series(frame["first_purchase"].to_numpy()[idx])
    reason[idx] = _fill(t("segment.reason_new", lang), len(idx),
                        date=(first.dt.strftime("%d.%m.%Y") if lang == "ru" else first.dt.strftime("%Y-%m-%d"))
                        .to_numpy(dtype=object))
    return frame.assign(
        tier=tier, tier_reason=pd.Series(reason, index=frame.index, dtype="string"),
        new_one_off=new_one_off,
        prospects=prospects.astype(bool),
        prospect_source=np.where(has_potential, "potential", "signals").astype(str),
    )


def shown_share(share: Any) -> Any:
    """A share as the report shows it (one decimal of a percent): verdicts are taken on it, so
    the words never contradict the number next to them (9.97 % shows as 10.0 %)."""
    return np.round(np.asarray(share, dtype=float) * 1000) / 1000


def _status(share: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    shown = shown_share(share)
    return np.select([shown < low - _EPS, shown > high + _EPS], ["below", "above"], "ok")


# The ways of counting new and lost customers a verdict on the mix must survive.
MIX_VARIANTS = ("new_as_ballast", "without_new", "with_lost", "with_lost_new_as_ballast", "with_lost_without_new")


def tier_mix(frame: pd.DataFrame, healthy: dict[str, Any], lang: str = "ru") -> pd.DataFrame:
    """The tier mix against the healthy mix (003), over the customers the company works with.

    The mix counts the customers who bought in the window (``orders > 0``): the healthy mix
    describes the customers the company works with now. Lost customers are counted apart;
    new customers with one order sit in typical (see ``_tiers``).

    A verdict is *robust* when it stays the same whichever way new and lost customers are
    counted: new one-off customers counted as ballast (``new_as_ballast``) or new customers
    left out (``without_new``), and every known customer counted under its tier code, the
    lost as ballast, as the mix used to be counted (``with_lost``), alone and combined with
    the two ways of counting new ones. Only a robust verdict may be a headline.

    Columns: tier, customers (in the mix), share (of the mix, by count), healthy_low,
    healthy_high, status ('ok' | 'below' | 'above', taken on the share as shown), explanation
    (text in ``lang``), new (of the tier's customers in the mix: new), new_one_off (of them:
    with one order, who would be ballast without the onboarding rule), sleeping (in the mix:
    sleeping), base (every known customer with this tier code), outside (base - customers:
    bought nothing in the window), lost (of them: lost), then for each variant in
    MIX_VARIANTS ``share_<variant>`` and ``status_<variant>``, and robust (bool).
    """
    from workbench.report import fmt

    tier = frame["tier"].to_numpy()
    in_mix = frame["orders"].to_numpy() > 0
    lifecycle = frame["lifecycle"].to_numpy()

    tier_code = pd.Index(list(TIERS)).get_indexer(tier)

    def count(mask: np.ndarray) -> np.ndarray:
        codes = tier_code[mask]
        return np.bincount(codes[codes >= 0], minlength=len(TIERS)).astype(np.int64)

    mix = count(in_mix)
    rows = pd.DataFrame({"tier": list(TIERS), "customers": mix})
    n = int(mix.sum())
    rows["share"] = mix / n if n else 0.0
    low = np.array([float(healthy[k][0]) for k in TIERS])
    high = np.array([float(healthy[k][1]) for k in TIERS])
    rows["healthy_low"], rows["healthy_high"] = low, high
    rows["status"] = _status(rows["share"].to_numpy(), low, high)
    # Four rows: formatting them one by one is not a loop over customers.
    rows["explanation"] = [
        t(f"segment.mix_{tr}_{status}", lang, share=fmt.pct(share, lang),
          low=fmt.pct(lo, lang, 0), high=fmt.pct(hi, lang, 0))
        for tr, status, share, lo, hi in zip(rows["tier"], rows["status"], rows["share"], low, high)]
    new = count(in_mix & (lifecycle == "new"))
    new_one_off = count(in_mix & frame["new_one_off"].to_numpy(dtype=bool))
    rows["new"] = new
    rows["new_one_off"] = new_one_off
    rows["sleeping"] = count(in_mix & (lifecycle == "sleeping"))
    base = count(np.ones(len(frame), dtype=bool))
    rows["base"] = base
    rows["outside"] = base - mix
    rows["lost"] = count(~in_mix & (lifecycle == "lost"))

    ballast = np.array([k == "ballast" for k in TIERS])

    def new_as_ballast(counts: np.ndarray, moved: np.ndarray) -> np.ndarray:
        return counts - moved + ballast * int(moved.sum())

    # "with lost": every known customer under its own tier code (the lost are ballast), as the
    # mix used to be counted.
    new_all = count(lifecycle == "new")
    moved_all = count(frame["new_one_off"].to_numpy(dtype=bool))
    variants = {
        "new_as_ballast": new_as_ballast(mix, new_one_off),
        "without_new": mix - new,
        "with_lost": base,
        "with_lost_new_as_ballast": new_as_ballast(base, moved_all),
        "with_lost_without_new": base - new_all,
    }
    robust = np.ones(len(TIERS), dtype=bool)
    for name in MIX_VARIANTS:
        counts = variants[name]
        total = int(counts.sum())
        share = counts / total if total else np.zeros(len(TIERS))
        rows[f"share_{name}"] = share
        rows[f"status_{name}"] = _status(share, low, high)
        robust &= rows[f"status_{name}"].to_numpy() == rows["status"].to_numpy()
    rows["robust"] = robust
    return rows
