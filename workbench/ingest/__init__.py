"""Import: the client's exports (1C, МойСклад, English CSVs, Excel) -> canonical tables.

The only place where a client's own headers are seen. ``import_engagement`` reads the
inputs named in engagement.yaml (through ``workbench.io.readers``), recognises the
header row and decides each column's role from its header and its values, parses
numbers and dates itself (every cell is read as text: INN keeps its leading zeros,
``01.02.2024`` is never guessed to be 2 January), leaves out the rows that are not
sales, validates everything and either returns the tables and a report or raises one
``InputError`` listing every problem, each with what was expected and the fix. It writes
nothing; ``write_import`` does.

Choices made here (stated in the import report too):

* Roles: «Организация» is the seller, never the customer; «Партнер» wins over
  «Контрагент»; a customer column with one value on every row gives way to one that
  varies; values overrule weak header matches (``roles``).
* A CRM deal export (``roles.deal``: a stage column beside another deal field) is read as
  deals, never as a ledger (``deals``): beside a ledger it is the funnel; alone, its won
  deals are the revenue. A second deal export among the sales files is refused.
* Revenue is read without VAT where the file offers it (``import.vat``); the tax is
  never revenue; without an amount, quantity x price. The basis is always said.
* Returns are rows with a negative amount. They stay in the ledger with
  ``is_return = True``. ``import.returns: net`` (default) lets them reduce revenue;
  ``exclude`` leaves them out of the revenue total (the ledger still holds them, so
  downstream steps decide with the same flag).
* Exact duplicate rows (every cell equal) are counted; ``import.duplicates: keep``
  (default) keeps them, ``drop`` keeps the first of each.
* Rows left out and reported: totals, blanks, a grouped report's group rows, statuses
  that are not sales, rows without a customer (with their revenue). Dates after today or
  far from the rest are refused (``import.max_date`` / ``min_date``).
* ``customer_id`` is the INN when the row has one, else a name key (``identity.name_key``:
  case, quotes, ё, legal forms anywhere, Latin look-alikes, an IP's initials). A row
  without an INN whose name key maps to exactly one INN elsewhere in the inputs gets
  that INN, so one customer never has two ids. ``customer_name`` is the most frequent
  spelling per id. One INN under several names and alike names are listed as possible
  duplicates, never merged; ``customers.merge`` / ``keep_apart`` settle them.
* Work is done on whole columns (pyarrow.compute, numpy) or on the distinct values of
  a column (dates, names, statuses), never row by row: a 1 M-row ledger imports in seconds.

The steps a file goes through, one module each:

* ``sources``: which files are read as the sales ledger (``inputs.sales.file`` and the
  paths and patterns of ``inputs.sales.files``), and what to say of the other files of
  ``data/``;
* ``read``: open the file (``workbench.io.readers``; a grouped 1C report flattened by
  ``outline``), find its header, settle its roles, read its rows;
* ``headers``: which row is the header and which role each column's label names;
* ``roles``: each column's role from its header and its values; how the amount is made;
* ``refusals``: problems that list the file's headers and the engagement.yaml lines to add;
* ``parse``: the data rows -> canonical columns, with ``numbers``, ``dates``, ``text``
  (and ``coded``, ``buffers``: whole-column helpers), every bad cell a problem (``problems``);
* ``checks``: which rows are sales (status, a customer named) and trusted (currency, dates);
* ``identity``: name keys, INNs, customer ids and the name shown;
* ``duplicates``: customers.merge / keep_apart, one INN under several names, possible duplicates;
* ``tables``: the ledger and customers tables;
* ``combine``: the sales files into one set of rows: overlapping months resolved
  (``import.overlap``), each month's source and the corrections of past months kept
  (``combine_report`` renders them);
* ``report``: the import report (text, HTML, findings, workbook sheets);
* ``deals``: a CRM deal export found and read (``deal_read``, its rows; ``deal_history``, the
  stage history; ``stages``, each stage won, lost or open; ``deal_checks``, the refusals;
  ``deal_report``, its part of the import report).
* ``importer``: ``import_engagement`` and ``write_import``; ``preflight``: a file whose header
  names nothing is refused before pandas loads.

The package itself loads nothing heavy: header recognition and its refusals (``preflight``)
run before pandas (0.2 s of a 0.3 s refusal). A name asked of the package
(``from workbench.ingest import import_engagement``) loads ``importer`` when first asked for.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any


def __getattr__(name: str) -> Any:
    # A submodule's name is left to the import system: ``from workbench.ingest import outline``
    # loads that module alone, not the importer and pandas.
    if name.startswith("__") or importlib.util.find_spec(f"{__name__}.{name}") is not None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importer = importlib.import_module(f"{__name__}.importer")
    try:
        return getattr(importer, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
