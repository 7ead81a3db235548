"""Customer types the data can show (002): state customers, pioneers, assortment breadth.

* **State customers** buy under 44-FZ / 223-FZ: through tenders, on a budget calendar,
  with the contract deciding more than a manager's call. Recognised from the industry of
  the customers file (any of ``state_industries``, case-insensitive, as part of the text),
  the customer's name (``state_name_pattern``, a regular expression over the organisational
  forms of state and municipal bodies: ГБУ, МКУ, ФГУП, «администрация» ...) or its INN
  (``state_inns``). ``state_source`` says which rule fired first (industry, name, inn).
* **Pioneers** ("first to buy your new product", 002) bought a product that is new in the
  window within ``pioneer_days`` of its first sale (``pioneer_products`` counts those
  products; see ``ledger._assortment``).
* **Assortment breadth**: distinct products bought in the window (``products``), in the
  bands of BREADTH_BANDS.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

# Products bought in the window: 1, 2-3, 4-6, 7 and more (bands of the report and counts).
BREADTH_BANDS = (("1", 1, 1), ("2_3", 2, 3), ("4_6", 4, 6), ("7_plus", 7, None))


def state_customers(frame: pd.DataFrame, types: dict[str, Any]) -> pd.DataFrame:
    """state_customer (bool) and state_source ('industry' | 'name' | 'inn' | '').

    Input columns: industry, customer_name, inn (text). Text work is done on the distinct
    values, then mapped back.
    """
    words = [str(w).strip().casefold() for w in types.get("state_industries", []) if str(w).strip()]
    industry = frame["industry"].astype("string").fillna("").str.casefold()
    by_industry = np.zeros(len(frame), dtype=bool)
    if words:
        pattern = "|".join(re.escape(w) for w in words)
        by_industry = industry.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
    name_rule = str(types.get("state_name_pattern") or "")
    by_name = np.zeros(len(frame), dtype=bool)
    if name_rule:
        # Python's re (as the settings are validated with), on object text; the pattern's own
        # groups are only alternatives, hence the warning about them is not for us.
        names = frame["customer_name"].astype(object).where(frame["customer_name"].notna(), "")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            by_name = names.str.contains(re.compile(name_rule), regex=True).fillna(False).to_numpy(dtype=bool)
    inns = {str(x).strip() for x in types.get("state_inns", []) if str(x).strip()}
    by_inn = frame["inn"].astype("string").fillna("").str.strip().isin(inns).to_numpy(dtype=bool)
    source = np.select([by_industry, by_name, by_inn], ["industry", "name", "inn"], "").astype(str)
    return pd.DataFrame({"state_customer": source != "", "state_source": source}, index=frame.index)


def breadth_band(products: pd.Series) -> np.ndarray:
    """The band code of each customer's product count ('' for 0: nothing bought in the window)."""
    p = products.to_numpy(dtype=np.int64)
    conds = [(p >= lo) & (p <= (hi if hi is not None else np.iinfo(np.int64).max)) for _, lo, hi in BREADTH_BANDS]
    return np.select(conds, [code for code, _, _ in BREADTH_BANDS], "").astype(str)
