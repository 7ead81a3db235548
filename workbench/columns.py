"""Canonical column names, defined once.

Every table the workbench passes between steps uses these names. Column roles in
client files are mapped to them once, at import (`workbench.ingest`); nothing
downstream ever sees a client's own header.
"""
from __future__ import annotations

# --- the transactions ledger (one row per document line / sale) -----------------
CUSTOMER_ID = "customer_id"      # text: INN when the file has one, else the customer's name key
CUSTOMER_NAME = "customer_name"  # text, as in the client's file (cleaned of control characters)
INN = "inn"                      # text, leading zeros kept; empty when unknown
DATE = "date"                    # datetime64 (day precision)
AMOUNT = "amount"                # float, client currency, VAT as in the source; negative = return
QUANTITY = "quantity"            # float, optional
PRODUCT = "product"              # text, optional
MANAGER = "manager"              # text, optional (salesperson responsible)
MARGIN = "margin"                # float, optional (gross profit in currency)
DOCUMENT = "document"            # text, optional (order / invoice number)
IS_RETURN = "is_return"          # bool: amount < 0
SOURCE_FILE = "source_file"      # text (category): file name inside data/
SOURCE_ROW = "source_row"        # text: the row as the user sees it ("line 12", "Sheet1!A12")

LEDGER_REQUIRED = (CUSTOMER_NAME, DATE, AMOUNT)
LEDGER_OPTIONAL = (INN, QUANTITY, PRODUCT, MANAGER, MARGIN, DOCUMENT)
LEDGER_COLUMNS = (
    CUSTOMER_ID, CUSTOMER_NAME, INN, DATE, AMOUNT, QUANTITY, PRODUCT, MANAGER,
    MARGIN, DOCUMENT, IS_RETURN, SOURCE_FILE, SOURCE_ROW,
)

# --- the customers table (one row per customer) ----------------------------------
INDUSTRY = "industry"            # text, optional
HEADCOUNT = "headcount"          # float (employees), optional
POTENTIAL = "potential"          # float: manager's estimate of annual revenue potential, currency
REGION = "region"                # text, optional
PHONE = "phone"                  # text, optional (never logged)
NOTE = "note"                    # text, optional
FIRST_PURCHASE = "first_purchase"  # datetime64, from the ledger
LAST_PURCHASE = "last_purchase"    # datetime64, from the ledger

CUSTOMERS_COLUMNS = (
    CUSTOMER_ID, CUSTOMER_NAME, INN, INDUSTRY, HEADCOUNT, MANAGER, POTENTIAL, REGION,
    PHONE, NOTE, FIRST_PURCHASE, LAST_PURCHASE,
)

# --- column roles recognised at import (not columns of the canonical tables) ------
# A client file's column gets one of these roles (or a field above) from its header and
# its values (``workbench.ingest.roles``); the import report shows each column's role.
AMOUNT_NET = "amount_net"        # money without VAT («Сумма без НДС»)
AMOUNT_GROSS = "amount_gross"    # money with VAT («Сумма с НДС»)
VAT = "vat"                      # the tax itself («Сумма НДС», «НДС»): never revenue
COST = "cost"                    # cost of sales («Себестоимость»): margin = net amount - cost
PRICE = "price"                  # unit price: amount = quantity x price when there is no amount
CURRENCY = "currency"            # currency of the row's money («Валюта»)
STATUS = "status"                # order / shipment status («Статус»: Отгружено, Отменено, ...)
SELLER = "seller"                # the client's own legal entity («Организация»): never the customer
COUNTRY = "country"              # a country: text, never a quantity
CUSTOMER_CODE = "customer_code"  # the customer's code in the client's system (account, код)
# CRM deal exports (one row per deal, not per sale): a file with a stage column is one.
# STAGE and PIPELINE are also columns of the deals table below.
CLOSED_FLAG = "closed_flag"      # closed flag (Y/N, «Сделка закрыта»); the deals table keeps CLOSED, a date

# --- the deals table (one row per CRM deal; work/deals.parquet) --------------------
DEAL_ID = "deal_id"              # text: the CRM's id ("" never: rows without one are left out)
DEAL_NAME = "deal_name"          # text: the deal's title, as in the file
PIPELINE = "pipeline"            # text: the pipeline as in the file ("" when the file has none)
STAGE = "stage"                  # text: the stage as in the file (a name or a code)
OUTCOME = "outcome"              # "won" | "lost" | "open"
STAGE_ORDER = "stage_order"      # int: position of an open stage in its pipeline's funnel (1..n; 0 closed)
CREATED = "created"              # datetime64: the deal was created
CLOSED = "closed"                # datetime64: closed (won / lost); NaT for open deals
MODIFIED = "modified"            # datetime64: last modified (NaT when the file has no such column)
CLOSE_FROM = "close_from"        # "close" | "modified" | "": where a closed deal's date came from
CUSTOMER_KIND = "customer_kind"  # "company" | "contact" | "": who the customer is
SOURCE = "source"                # text: the lead source (UTM, channel), optional
LOST_REASON = "lost_reason"      # text: why a lost deal was lost, optional

DEALS_COLUMNS = (
    DEAL_ID, DEAL_NAME, PIPELINE, STAGE, OUTCOME, STAGE_ORDER, AMOUNT, CREATED, CLOSED, MODIFIED,
    CLOSE_FROM, CUSTOMER_ID, CUSTOMER_NAME, CUSTOMER_KIND, MANAGER, SOURCE, LOST_REASON, SOURCE_FILE,
    SOURCE_ROW,
)
# --- the stage history (one row per stage a deal entered; work/deal_history.parquet) --
ENTERED = "entered"              # datetime64: when the deal entered the stage
DEAL_ROW = "deal_row"            # int: the deal's row in the deals table written with it (a fast join)
# rows in deal_row order, then time order; stage_order as in the deals table (0: a closed stage)
DEAL_HISTORY_COLUMNS = (DEAL_ID, PIPELINE, STAGE, ENTERED, STAGE_ORDER, DEAL_ROW)
# --- the stages (one row per pipeline and stage; work/deal_stages.parquet) -------------
STAGE_RULE = "stage_rule"        # where the outcome came from: "config" | "system" | "semantic" | "flag"
DEAL_STAGES_COLUMNS = (PIPELINE, STAGE, OUTCOME, STAGE_ORDER, STAGE_RULE)

# --- segmentation output (one row per customer; segments.csv) ---------------------
REVENUE = "revenue"              # float: net revenue in the analysis window, currency
REVENUE_SHARE = "revenue_share"  # float 0..1 of total net revenue
CUM_SHARE = "cum_share"          # float 0..1, cumulative share in ABC order
ORDERS = "orders"                # int: distinct orders in the window
ABC = "abc"                      # "A" | "B" | "C"
XYZ = "xyz"                      # "X" | "Y" | "Z" | "N" (too little history)
XYZ_CV = "xyz_cv"                # float: coefficient of variation (0.25 = 25 %)
ABC_XYZ = "abc_xyz"              # "AX" ... "CZ", "AN" ...
RFM_R = "rfm_r"                  # int 1..5
RFM_F = "rfm_f"                  # int 1..5
RFM_M = "rfm_m"                  # int 1..5
RFM_SEGMENT = "rfm_segment"      # code of a named RFM segment (names in the catalogues)
RECENCY_DAYS = "recency_days"    # int: days from last purchase to the end of the reporting month
LIFECYCLE = "lifecycle"          # "new" | "active" | "sleeping" | "lost"
TIER = "tier"                    # "vip" | "strategic" | "typical" | "ballast"
TIER_REASON = "tier_reason"      # text in the engagement's language
KEY_ACCOUNT = "key_account"      # bool
KA_GRADE = "ka_grade"            # "gold" | "silver" | "bronze" | ""
MAP = "map"                      # "individual" | "group"
MAP_CANDIDATE = "map_candidate"  # bool: deserves an individual map but over the per-salesperson limit

SEGMENTS_COLUMNS = (
    CUSTOMER_ID, CUSTOMER_NAME, REVENUE, REVENUE_SHARE, ABC, XYZ, ABC_XYZ, RFM_R, RFM_F,
    RFM_M, RFM_SEGMENT, LIFECYCLE, TIER, KEY_ACCOUNT, MAP,
)

# --- checkpoints (tidy; development maps and CJM task lists; read by traction) ----
MAP_ID = "map_id"                # text: "group:vip", "individual:<customer_id>", "cjm:vip"
MAP_KIND = "map_kind"            # "group" | "individual" | "cjm"
SEGMENT = "segment"              # tier / segment code the map serves ("" for individual)
MONTH = "month"                  # text "YYYY-MM": the month the activity happens
TRACK = "track"                  # "product" | "marketing" | "sales" | "success"
ACTIVITY = "activity"            # text in the engagement's language
OWNER = "owner"                  # role code: hunter, closer, farmer, kam, presale, marketing
KPI = "kpi"                      # KPI code (computed KPIs are in workbench.kpis)
KPI_NAME = "kpi_name"            # text in the engagement's language
UNIT = "unit"                    # unit code: currency, count, share, days, ...
BASELINE = "baseline"            # float
TARGET = "target"                # float
DEADLINE = "deadline"            # text "YYYY-MM"
KPI_SOURCE = "kpi_source"        # "computed" (from the ledger) | "entered" (by the consultant)

CHECKPOINT_COLUMNS = (
    MAP_ID, MAP_KIND, SEGMENT, CUSTOMER_ID, MONTH, TRACK, ACTIVITY, OWNER, KPI, KPI_NAME,
    UNIT, BASELINE, TARGET, DEADLINE, KPI_SOURCE,
)
