"""The canonical fields each kind of input file can hold, and their groups by how they are parsed."""
from __future__ import annotations

from workbench import columns as C

SALES_FIELDS = (C.CUSTOMER_NAME, C.INN, C.DATE, C.AMOUNT, C.QUANTITY, C.PRODUCT, C.MANAGER,
                C.MARGIN, C.DOCUMENT)
CUSTOMER_FIELDS = (C.CUSTOMER_NAME, C.INN, C.INDUSTRY, C.HEADCOUNT, C.MANAGER, C.POTENTIAL,
                   C.REGION, C.PHONE, C.NOTE)
NUMERIC_FIELDS = (C.AMOUNT, C.QUANTITY, C.MARGIN, C.HEADCOUNT, C.POTENTIAL)
TEXT_FIELDS = (C.CUSTOMER_NAME, C.PRODUCT, C.MANAGER, C.DOCUMENT, C.INDUSTRY, C.REGION, C.PHONE, C.NOTE)
# Columns where a total row announces itself ("Итого по ...", "Total").
TOTAL_LABEL_FIELDS = (C.CUSTOMER_NAME, C.DOCUMENT, C.DATE, C.PRODUCT, C.MANAGER, C.INN)


CODED_FIELDS = (C.CUSTOMER_NAME, C.INN, C.DATE, C.PRODUCT, C.MANAGER, C.INDUSTRY, C.REGION)
