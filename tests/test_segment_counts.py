"""One set of numbers: every count the segmentation shows, in the report and the workbook, agrees
with segments.csv, recounted here with our own pandas code. On the demo (as `workbench run`
delivers it) and on a second generated client (as `workbench segment` leaves it, rendered
in English). Plus what the demo must show: the revenue bridge heads the summary, BX or BY is
not empty, and no headline's verdict changes when new or lost customers are left out.
"""
from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench.i18n import t

TIERS = ("vip", "strategic", "typical", "ballast")
KAM_MAX = 3


# ------------------------------------------------------------------------------ reading what was delivered
class _Tagged(HTMLParser):
    """Every ``<span data-count="key">`` inside the sections with the given ids."""

    def __init__(self, ids: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.ids, self.depth, self.spans = ids, 0, []
        self._span: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and (self.depth or a.get("id") in self.ids):
            self.depth += 1
        elif self.depth and tag == "span" and "data-count" in a:
            self._span, self._text = a["data-count"], []

    def handle_endtag(self, tag):
        if tag == "section" and self.depth:
            self.depth -= 1
        elif tag == "span" and self._span is not None:
            self.spans.append((self._span, "".join(self._text)))
            self._span = None

    def handle_data(self, data):
        if self._span is not None:
            self._text.append(data)


class _Section(_Tagged):
    """The segmentation section of a report: tagged counts and the tables of tagged blocks."""

    def __init__(self) -> None:
        # the section, and its reference tables that the report moves to the appendix
        super().__init__(("segmentation", "appendix-segmentation"))
        self.tables: dict[str, list[list[str]]] = {}
        self._block: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        if not self.depth:
            return
        a = dict(attrs)
        if tag == "div" and "data-counts" in a:
            self._block = a["data-counts"]
            self.tables[self._block] = []
        elif tag == "tr" and self._block:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        super().handle_endtag(tag)
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._block].append(self._row)
            self._row = None
        elif tag == "table":
            self._block = None

    def handle_data(self, data):
        super().handle_data(data)
        if self._cell is not None:
            self._cell.append(data)


def number(text: str) -> float:
    """A number as the report writes it (ru or en): no-break spaces or commas between thousands."""
    s = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("\u2212", "-")
    s = re.sub(r"[^\d,.\-]", "", s)
    if "," in s and "." not in s and re.search(r",\d{3}$", s) is None:
        s = s.replace(",", ".")       # ru decimal comma
    return float(s.replace(",", ""))


def read_csv(path: Path) -> pd.DataFrame:
    csv = pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str, "manager": str, "inn": str},
                      keep_default_na=False, na_values=[""])
    for col in ("key_account", "state_customer", "in_mix", "new_one_off", "near_lost", "map_candidate"):
        csv[col] = csv[col].astype(str).eq("True")
    csv["manager"] = csv["manager"].fillna("")
    return csv


# ------------------------------------------------------------------------------ counting it again
def expected_counts(csv: pd.DataFrame, file_ids: set[str] | None) -> dict[str, int]:
    """Every count key the report may tag, recounted from segments.csv."""
    buy = csv["orders"] > 0
    life, tier = csv["lifecycle"], csv["tier"]
    out = {"customers": len(csv), "in_mix": int(buy.sum()), "not_in_mix": int((~buy).sum()),
           "key_accounts": int(csv["key_account"].sum()),
           "key_state": int((csv["key_account"] & csv["state_customer"]).sum()),
           "state_vip": int((csv["state_customer"] & (tier == "vip")).sum()),
           "individual_maps": int((csv["map"] == "individual").sum()), "map_candidates": int(csv["map_candidate"].sum()),
           "sleeping": int((life == "sleeping").sum()), "near_lost": int(csv["near_lost"].sum()),
           "state": int(csv["state_customer"].sum()), "pioneers": int((csv["pioneer_products"] > 0).sum()),
           "mix_new_one_off": int((buy & csv["new_one_off"]).sum()),
           "outside_lost": int((~buy & (life == "lost")).sum()),
           "mix_sleeping": int((buy & (life == "sleeping")).sum()),
           "mix_individual": int((buy & (csv["map"] == "individual")).sum())}
    if file_ids is not None:
        out["customers_file"] = len(file_ids)
        out["customers_file_no_sales"] = len(file_ids - set(csv["customer_id"]))
    for x in ("new", "active", "sleeping", "lost"):
        out[f"lifecycle.{x}"] = int((life == x).sum())
    for x in TIERS:
        out[f"tier.{x}"] = int((tier == x).sum())
        out[f"mix.{x}"] = int((buy & (tier == x)).sum())
        out[f"mix_new.{x}"] = int((buy & (tier == x) & (life == "new")).sum())
        out[f"mix_sleeping.{x}"] = int((buy & (tier == x) & (life == "sleeping")).sum())
        out[f"outside.{x}"] = int((~buy & (tier == x)).sum())
    for a in "ABC":
        out[f"abc.{a}"] = int((csv["abc"] == a).sum())
        for x in "XYZN":
            out[f"cell.{a}{x}"] = int((csv["abc_xyz"] == a + x).sum())
    for g in ("gold", "silver", "bronze"):
        out[f"grade.{g}"] = int((csv["ka_grade"] == g).sum())
    for g in ("new", "returned", "grown", "shrunk", "lost", "other", "unchanged"):
        out[f"bridge.{g}"] = int((csv["bridge"] == g).sum())
    p = csv["products"]
    for band, (lo, hi) in {"1": (1, 1), "2_3": (2, 3), "4_6": (4, 6), "7_plus": (7, 10 ** 9)}.items():
        out[f"breadth.{band}"] = int(((p >= lo) & (p <= hi)).sum())
    key = csv[csv["key_account"]]
    per_manager = key.groupby("manager").size()
    named = per_manager[per_manager.index != ""]
    managers = csv.loc[buy & (csv["manager"] != ""), "manager"].nunique()
    needed = math.ceil(len(key) / KAM_MAX)
    out.update({"kam.key_accounts": len(key), "kam.managers": managers, "kam.kams_needed": needed,
                "kam.kam_shortfall": max(0, needed - managers),
                "kam.over_limit": int((named - KAM_MAX).clip(lower=0).sum() + per_manager.get("", 0)),
                "kam.managers_over": int((named > KAM_MAX).sum()), "kam.unassigned": int(per_manager.get("", 0))})
    return out


def check_section(html: str, csv: pd.DataFrame, file_ids: set[str] | None, lang: str) -> int:
    """Reconcile every tagged count and every count table of the segmentation section; return
    how many numbers were checked."""
    sec = _Section()
    sec.feed(html)
    want = expected_counts(csv, file_ids)
    checked = 0
    assert sec.spans, "no tagged count in the segmentation section"
    for key, text in sec.spans:
        assert key in want, f"the report shows a count {key!r} this test cannot recount"
        assert number(text) == want[key], f"{key}: report {text!r}, segments.csv {want[key]}"
        checked += 1

    def table(name: str) -> pd.DataFrame:
        rows = sec.tables[name]
        return pd.DataFrame(rows[1:], columns=rows[0])

    col = t("segment.col", lang)
    tiers = table("tiers").set_index(col["tier"])
    for code, label in t("segment.tier", lang).items():
        row = tiers.loc[label]
        for header, prefix in ((col["customers"], "mix"), (col["new"], "mix_new"), (col["sleeping"], "mix_sleeping"),
                               (col["outside"], "outside"), (col["base"], "tier")):
            assert number(row[header]) == want[f"{prefix}.{code}"], (code, header)
            checked += 1
    groups = table("bridge_groups").set_index(col["group"])
    for code, label in t("segment.bridge_group", lang).items():
        if label in groups.index:
            assert number(groups.loc[label, col["customers"]]) == want[f"bridge.{code}"], code
            checked += 1
        else:
            assert want[f"bridge.{code}"] == 0, code
    cells = table("abc_xyz").set_index(col["abc_xyz"])
    for cell, value in cells[col["customers"]].items():
        assert number(value) == want[f"cell.{cell}"], cell
        checked += 1
    grades = table("grades").set_index(col["grade"])
    for code, label in t("segment.ka_grades", lang).items():
        assert number(grades.loc[label, col["customers"]]) == want[f"grade.{code}"], code
        checked += 1
    kam = table("kam")
    key = csv[csv["key_account"]].groupby("manager").size()
    for _, r in kam.iterrows():
        manager = "" if r[col["manager"]] == "—" else r[col["manager"]]
        assert number(r[col["key_accounts"]]) == int(key.get(manager, 0)), manager
        assert number(r[col["over"]]) == max(0, int(key.get(manager, 0)) - KAM_MAX), manager
        checked += 2
    return checked


def sheet(wb, title: str) -> pd.DataFrame:
    ws = wb[title]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if i > 0 and sum(v is not None for v in r) > 2)
    return pd.DataFrame(rows[head + 1:], columns=rows[head])


def check_workbook(path: Path, csv: pd.DataFrame, lang: str) -> None:
    wb = load_workbook(path, read_only=True)
    want = expected_counts(csv, None)
    col = t("segment.col", lang)
    assert len(sheet(wb, t("segment.sheet_customers", lang))) == len(csv)
    tiers = sheet(wb, t("segment.sheet_tiers", lang)).set_index(col["tier"])
    for code, label in t("segment.tier", lang).items():
        for header, prefix in ((col["customers"], "mix"), (col["new"], "mix_new"), (col["outside"], "outside"),
                               (col["base"], "tier")):
            assert tiers.loc[label, header] == want[f"{prefix}.{code}"], (code, header)
    cells = sheet(wb, t("segment.sheet_abc_xyz", lang)).set_index(col["abc_xyz"])
    for cell, value in cells[col["customers"]].items():
        assert value == want[f"cell.{cell}"], cell
    bridge = sheet(wb, t("segment.sheet_bridge", lang)).set_index(t("segment.bridge_col.row", lang))
    rows = t("segment.bridge_row", lang)
    assert bridge.loc[rows["total"], t("segment.bridge_col.prev", lang)] == pytest.approx(csv["revenue_prev"].sum())
    assert bridge.loc[rows["total"], t("segment.bridge_col.now", lang)] == pytest.approx(csv["revenue"].sum())
    lost = csv["lifecycle"] == "lost"
    assert bridge.loc[rows["lost"], t("segment.bridge_col.prev", lang)] == pytest.approx(
        csv.loc[lost, "revenue_prev"].sum())
    for code in TIERS:
        mine = (csv["tier"] == code) & ~lost
        assert bridge.loc[rows[code], t("segment.bridge_col.now", lang)] == pytest.approx(csv.loc[mine, "revenue"].sum())
    kam = sheet(wb, t("segment.sheet_kam", lang))
    key = csv[csv["key_account"]].groupby("manager").size()
    assert dict(zip(kam[col["manager"]], kam[col["key_accounts"]])) == {
        (m or "—"): int(key.get(m, 0)) for m in kam[col["manager"]].replace("—", "")}


# ------------------------------------------------------------------------------ the demo as delivered
@pytest.fixture(scope="module")
def demo(demo_run):
    path, res = demo_run
    out = path / "deliverables" / res.month
    csv = read_csv(out / "segments.csv")
    file_ids = set(pd.read_parquet(path / "work" / "customers.parquet")["customer_id"].astype(str))
    return path, res, out, csv, file_ids


def test_every_count_in_the_demo_report_and_workbook_agrees_with_segments_csv(demo):
    _, _, out, csv, file_ids = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    assert check_section(html, csv, file_ids, "ru") > 60
    check_workbook(out / "workbook.xlsx", csv, "ru")


def test_every_count_agrees_on_a_second_client(tmp_path):
    """A second generated client (another seed, no margin), segmented as `workbench segment`
    does it, rendered in English."""
    from workbench import steps
    from workbench.demo import SECOND_CLIENT, create_demo
    from workbench.report.segment_report import add_segment_sheets, render_segment_html
    from workbench.report.xlsx import Book

    path = create_demo(tmp_path / "engagements" / "second", **SECOND_CLIENT)
    from workbench.config import load_engagement

    steps.import_step(load_engagement(path))
    ctx = steps.context(str(path), "", "en", out_dir=str(tmp_path / "out"))
    res = steps.segment_step(ctx)
    csv = read_csv(tmp_path / "out" / "segments.csv")
    assert res.totals["grade_basis"] == "revenue"   # no margin in this client's ledger
    file_ids = set(pd.read_parquet(path / "work" / "customers.parquet")["customer_id"].astype(str))
    assert check_section(render_segment_html(res, "en", ctx.currency), csv, file_ids, "en") > 60
    book = Book("en")
    add_segment_sheets(book, res, "en")
    book.workbook().save(tmp_path / "workbook.xlsx")
    check_workbook(tmp_path / "workbook.xlsx", csv, "en")


# ------------------------------------------------------------------------------ the plan's counts
def plan_counts(csv: pd.DataFrame) -> dict[str, int]:
    """Every count the maps and CJM sections may tag, recounted from segments.csv."""
    from workbench.cjm import load_cjm_templates, tender_cells
    from workbench.config import TEMPLATES_DIR

    life, tier, state = csv["lifecycle"], csv["tier"], csv["state_customer"]
    lost, sleeping = life == "lost", life == "sleeping"
    members = {x: (tier == x) & ~lost & ~sleeping for x in ("vip", "strategic", "typical")}
    members["ballast_reactivation"] = (tier == "ballast") & ~lost & ~sleeping
    members["sleeping_reactivation"] = sleeping
    out = {}
    for code, mask in members.items():
        out[f"map.{code}"] = int(mask.sum())
        out[f"map.{code}.new_one_off"] = int((mask & csv["new_one_off"]).sum())   # onboarding, in the typical map
    out["map.sleeping_reactivation.first"] = int((sleeping & csv["near_lost"]).sum())
    out["maps.lost"] = out["cjm.lost"] = int(lost.sum())
    key = csv[csv["key_account"]]
    per = key.groupby("manager").size()
    named = per[per.index != ""]
    out["kam.key_accounts"] = len(key)
    out["kam.carried"] = int(named.clip(upper=KAM_MAX).sum())
    out["kam.over_limit"] = len(key) - out["kam.carried"]
    cjm = load_cjm_templates(TEMPLATES_DIR / "cjm", None, [])
    split = {x for x, tpl in cjm["segments"].items() if x in TIERS and tender_cells(tpl) != tpl["cells"]}
    assert split == {"vip"}     # the shipped templates: only the VIP CJM holds cells a state buyer cannot get
    for x in TIERS:
        mine = (tier == x) & ~lost
        out[f"cjm.{x}"] = int((mine & ~state).sum()) if x in split else int(mine.sum())
        out[f"cjm.{x}.tender"] = int((mine & state).sum())
    out["cjm.state"] = int(state.sum())
    return out


def test_the_plans_counts_agree_with_the_segmentation(demo):
    """The maps and CJM sections count their members from the same segmentation: each tagged
    count recounted from segments.csv, and the differences from the tier table are the sleeping
    (their own map) and the lost (no map, no CJM), as the texts say."""
    _, _, out, csv, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    tagged = _Tagged(("maps", "cjm"))
    tagged.feed(html)
    want = plan_counts(csv)
    keys = [k for k, _ in tagged.spans]
    for k, text in tagged.spans:
        assert k in want, f"the plan shows a count {k!r} this test cannot recount"
        assert number(text) == want[k], f"{k}: report {text!r}, segments.csv {want[k]}"
    # every group map and CJM of the demo is there, the VIP tender CJM included
    assert {"map.vip", "map.strategic", "map.typical", "map.ballast_reactivation", "map.sleeping_reactivation",
            "maps.lost", "kam.key_accounts", "kam.carried", "kam.over_limit", "cjm.vip", "cjm.vip.tender",
            "cjm.strategic", "cjm.typical", "cjm.ballast", "cjm.lost", "cjm.state"} <= set(keys)
    # the demo's numbers, in the words of the sales director's questions
    buy = csv["orders"] > 0
    assert want["cjm.vip"] + want["cjm.vip.tender"] == int(((csv["tier"] == "vip") & buy).sum()) == 4
    assert want["cjm.vip.tender"] == 3 and want["kam.carried"] == 18 and want["kam.over_limit"] == 22
    for x in ("strategic", "typical", "ballast"):     # a CJM serves the tier as the tier table counts it
        assert want[f"cjm.{x}"] == int(((csv["tier"] == x) & buy).sum())
    assert want["map.typical.new_one_off"] == int((buy & csv["new_one_off"]).sum()) > 0 and "map.typical.new_one_off" in keys
    assert want["map.typical"] == want["cjm.typical"] - int(((csv["tier"] == "typical") & (csv["lifecycle"] == "sleeping")).sum())


# ------------------------------------------------------------------------------ what the demo must show
def _millions(x: float) -> str:
    return f"{x / 1e6:.1f}".replace(".", ",") + "\u00a0млн\u00a0₽"


def test_the_demo_summary_opens_with_the_revenue_bridge(demo):
    _, _, out, csv, _ = demo
    prev, now = csv["revenue_prev"].sum(), csv["revenue"].sum()
    change = (now - prev) / prev
    verb = "снизилась" if change < 0 else "выросла"
    pct = f"{abs(change) * 100:.1f}".replace(".", ",")
    headline = f"Выручка за 12 мес. {verb} на {pct}\u00a0%: {_millions(prev)} → {_millions(now)}"
    html = (out / "report.html").read_text(encoding="utf-8")
    import html as htmllib

    text = htmllib.unescape(html)
    # the executive page's action title is the first finding's headline; that finding's card follows
    title = re.search(r'<p class="wb-action-title">(.*?)</p>', text).group(1)
    cards = re.split(r'<li class="wb-finding\b', text)    # the summary's findings, in order
    assert len(cards) > 2 and title.startswith(headline) and "wb-first" in cards[1].split(">")[0]


def test_bx_or_by_holds_customers_on_the_demo_so_prospect_cells_can_fire(demo):
    _, _, _, csv, _ = demo
    cells = csv["abc_xyz"].value_counts()
    assert cells.get("BX", 0) + cells.get("BY", 0) > 0
    # and the signal does fire: a BX/BY customer with no other reason is strategic for its cell
    bx_by = csv[csv["abc_xyz"].isin(["BX", "BY"]) & (csv["lifecycle"] != "lost")]
    assert (bx_by["tier"].isin(["strategic", "vip"])).all()


def _mix_status(share: float, low: float, high: float) -> str:
    shown = round(share * 1000) / 1000
    return "below" if shown < low - 1e-9 else ("above" if shown > high + 1e-9 else "ok")


def test_no_demo_headline_changes_verdict_when_new_or_lost_customers_are_left_out(demo):
    """Recomputed here from segments.csv: the mix under every way of counting new and lost
    customers, the top-N shares and the KAM load without the new and without the lost."""
    from workbench.config import load_engagement
    from workbench.report.segment_findings import segment_findings
    from workbench.segment import segment

    path, res, _, csv, _ = demo
    eng = load_engagement(path)
    s = eng.settings["segmentation"]
    seg = segment(pd.read_parquet(path / "work" / "ledger.parquet"), pd.read_parquet(path / "work" / "customers.parquet"),
                  s, res.month, "ru")
    found = [f for f in segment_findings(seg, "ru", "RUB") if f["audience"] == "management"]
    kinds = [f["kind"] for f in found]
    assert kinds[0].startswith("bridge_")   # the bridge: the split into new, lost ... itself
    allowed = {"mono", "top1", "top5", "top10", "vip", "ballast", "strategic", "strategic_above", "sleeping",
               "kam", "kam_over", "ka", "state", "ok"}
    assert set(kinds[1:]) <= allowed

    buy, life = csv["orders"] > 0, csv["lifecycle"]
    one_off_new = csv["new_one_off"] & buy

    def mix_share(tier: str, rows: pd.Series, as_ballast: pd.Series | None = None) -> float:
        tiers = csv["tier"] if as_ballast is None else csv["tier"].mask(as_ballast, "ballast")
        return float(((tiers == tier) & rows).sum() / rows.sum())

    code = {"vip": ("vip", "above"), "ballast": ("ballast", "above"), "strategic": ("strategic", "below"),
            "strategic_above": ("strategic", "above"), "ok": None}
    for kind in kinds[1:]:
        if kind in ("vip", "ballast", "strategic", "strategic_above", "ok"):
            tiers = TIERS if kind == "ok" else [code[kind][0]]
            for tier in tiers:
                low, high = s["healthy_mix"][tier]
                counts = [mix_share(tier, buy), mix_share(tier, buy & (life != "new")), mix_share(tier, buy, one_off_new),
                          mix_share(tier, pd.Series(True, index=csv.index)),
                          mix_share(tier, pd.Series(True, index=csv.index), csv["new_one_off"]),
                          mix_share(tier, life != "new")]
                assert len({_mix_status(x, low, high) for x in counts}) == 1, (kind, tier, counts)
        elif kind in ("mono", "top1", "top5", "top10"):
            n = {"mono": 1, "top1": 1, "top5": 5, "top10": 10}[kind]
            for keep in (life != "new", life != "lost"):
                rev = csv.loc[keep & (csv["revenue"] > 0), "revenue"].sort_values(ascending=False)
                share = rev.head(n).sum() / rev.sum()
                limit = s["concentration"][f"top{n}_high"]
                assert round(share * 1000) / 1000 >= limit, (kind, share)
        elif kind in ("kam", "kam_over"):
            value = "profit" if seg.totals["grade_basis"] == "profit" else "revenue"
            for keep in (life != "new", life != "lost"):
                sub = csv[keep].sort_values([value, "customer_id"], ascending=[False, True])
                v = sub[value].clip(lower=0)
                before = (v.cumsum() - v) / v.sum()
                gold = sub[(sub[value] > 0) & (before < s["key_accounts"]["cum_share"] - 1e-9)]
                per = gold.groupby("manager").size()
                managers = sub.loc[sub["orders"] > 0, "manager"].replace("", np.nan).nunique()
                short = math.ceil(len(gold) / KAM_MAX) > managers
                assert short or (per > KAM_MAX).any(), kind
        elif kind == "sleeping":
            sleeping = life == "sleeping"
            assert (sleeping & (life == "new")).sum() == 0 and (sleeping & (life == "lost")).sum() == 0
