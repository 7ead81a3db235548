"""The canonical fields and column roles each kind of input file can hold, and their groups
by how they are parsed.

A *field* becomes a column of the canonical tables (or feeds one: the money family
columns make ``amount`` and ``margin``); a *role* is what a column of the client's file
is recognised as, fields included. Roles that are not fields (the seller, a country, a
deal stage) are recognised so that they are never taken for something else, and shown
in the import report.
"""
from __future__ import annotations

from workbench import columns as C

# Fields parsed from a sales ledger (the last ones feed amount and margin or are checked).
SALES_FIELDS = (C.CUSTOMER_NAME, C.INN, C.DATE, C.AMOUNT, C.QUANTITY, C.PRODUCT, C.MANAGER,
                C.MARGIN, C.DOCUMENT, C.AMOUNT_NET, C.AMOUNT_GROSS, C.VAT, C.COST, C.PRICE,
                C.CURRENCY, C.STATUS)
CUSTOMER_FIELDS = (C.CUSTOMER_NAME, C.INN, C.INDUSTRY, C.HEADCOUNT, C.MANAGER, C.POTENTIAL,
                   C.REGION, C.PHONE, C.NOTE)
# Roles recognised in CRM deal exports: a sales file with a stage column is a deal export.
DEAL_ROLES = (C.STAGE, C.PIPELINE, C.CLOSED_FLAG)
# Roles recognised by header, per kind of file (fields first).
SALES_ROLES = SALES_FIELDS + (C.SELLER, C.COUNTRY, C.CUSTOMER_CODE) + DEAL_ROLES
CUSTOMER_ROLES = CUSTOMER_FIELDS + (C.SELLER, C.COUNTRY, C.CUSTOMER_CODE)
# The money family: candidates for the amount, in the order they are preferred with
# ``import.vat: net`` (the plain amount's basis is not known).
MONEY_FIELDS = (C.AMOUNT_NET, C.AMOUNT_GROSS, C.AMOUNT, C.VAT, C.COST, C.MARGIN, C.PRICE)
NUMERIC_FIELDS = (C.AMOUNT, C.QUANTITY, C.MARGIN, C.HEADCOUNT, C.POTENTIAL, C.AMOUNT_NET,
                  C.AMOUNT_GROSS, C.VAT, C.COST, C.PRICE)
TEXT_FIELDS = (C.CUSTOMER_NAME, C.PRODUCT, C.MANAGER, C.DOCUMENT, C.INDUSTRY, C.REGION, C.PHONE, C.NOTE,
               C.CURRENCY, C.STATUS)
# Columns where a total row announces itself ("Итого по ...", "Total").
TOTAL_LABEL_FIELDS = (C.CUSTOMER_NAME, C.DOCUMENT, C.DATE, C.PRODUCT, C.MANAGER, C.INN)


CODED_FIELDS = (C.CUSTOMER_NAME, C.INN, C.DATE, C.PRODUCT, C.MANAGER, C.INDUSTRY, C.REGION,
                C.CURRENCY, C.STATUS)
