"""One exception family. The command line turns any of these into one clear message
and exit status 1, never a traceback."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MAX_EXAMPLES = 20  # examples shown per kind of problem


class WorkbenchError(Exception):
    """Base of every error a user may see. ``str(err)`` is the whole message."""


class ConfigError(WorkbenchError):
    """engagement.yaml or an override file is invalid (names file, key, value, allowed)."""


class LockError(WorkbenchError):
    """Another run holds the engagement."""


class MonthWithoutData(WorkbenchError):
    """The reporting month asked for is after the latest sale in the engagement's files.

    ``batch`` lists such engagements (with ``latest``) instead of counting them as failed;
    ``notices``: what the run had to say of the files (e.g. files in data/ read as no input).
    """

    def __init__(self, message: str, month: str, latest: str, notices: list[str] | None = None) -> None:
        super().__init__(message)
        self.month, self.latest, self.notices = month, latest, list(notices or [])


class RunError(WorkbenchError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    kind: catalogue key under ``ingest.problem.*`` (e.g. ``"bad_date"``)
    file: file name as the user knows it (inside ``data/``)
    row: the row as the user sees it: ``"line 12"`` in text, ``"Sheet1!C12"`` in Excel
    column: the column header as it stands in the file ("" for whole-row problems)
    value: the offending value, shortened (for a missing column: the file's own headers)
    expected: what was expected there, in the engagement's language ("" = the kind says it)
    suggestion: the exact fix, e.g. lines to add to engagement.yaml ("" = fix the file)
    """

    kind: str
    file: str
    row: str = ""
    column: str = ""
    value: str = ""
    expected: str = ""
    suggestion: str = ""

    def as_dict(self) -> dict[str, str]:
        """The problem as ``import --json`` prints it (``code`` is the kind)."""
        return {"code": self.kind, "file": self.file, "row": self.row, "column": self.column,
                "value": self.value, "expected": self.expected, "suggestion": self.suggestion}


class InputError(WorkbenchError):
    """Problems in the client's input files, all of them, grouped by kind.

    Raised once per import with every problem found, so the consultant fixes the
    export in one pass. Rendered in the engagement's language.
    """

    HEADER = "errors.input_header"  # what the message says first and last (catalogue keys)
    FOOTER = "errors.nothing_written"

    def __init__(self, problems: list[Problem], lang: str = "ru", **context: str) -> None:
        self.problems = list(problems)
        self.lang = lang
        self.context = context
        super().__init__(self.render())

    def render(self) -> str:
        from workbench.i18n import t

        lang = self.lang
        groups: OrderedDict[tuple[str, str], list[Problem]] = OrderedDict()
        for p in self.problems:
            groups.setdefault((p.file, p.kind), []).append(p)
        lines = [t(self.HEADER, lang, n=len(self.problems), **self.context)]
        for (file, kind), items in groups.items():
            lines.append(
                t("errors.group", lang, file=file, n=len(items),
                  what=t(f"errors.problem.{kind}", lang))
            )
            shared = {(p.expected, p.suggestion) for p in items}
            for p in items[:MAX_EXAMPLES]:
                where = ", ".join(x for x in (p.row, p.column and t("errors.column", lang, column=p.column)) if x)
                long = kind in WHOLE_VALUE_KINDS
                value = t("errors.headers" if long else "errors.value", lang,
                          value=p.value if long else _short(p.value)) if p.value != "" else ""
                lines.append(f"  - {where}{': ' if where and value else ''}{value}".rstrip())
                if len(shared) > 1:
                    lines += _advice(p, lang, "    ")
            if len(items) > MAX_EXAMPLES:
                lines.append("  " + t("errors.more", lang, n=len(items) - MAX_EXAMPLES))
            if len(shared) == 1:
                lines += _advice(items[0], lang, "  ")
        lines.append(t(self.FOOTER, lang))
        return "\n".join(lines)


class ActualsError(InputError):
    """Problems in the consultant's actuals file (``file=`` its path): the run stops before
    anything is replaced; the consultant fixes the cells named and runs again."""

    HEADER = "errors.actuals_header"
    FOOTER = "errors.actuals_footer"


# Problems whose value is a list of the file's headers: shown whole, never shortened.
WHOLE_VALUE_KINDS = frozenset({"missing_column", "no_header", "unknown_mapped_column", "deal_export"})


def _advice(p: Problem, lang: str, indent: str) -> list[str]:
    """The lines saying what was expected and how to fix it (none when the kind says it all)."""
    from workbench.i18n import t

    out = []
    if p.expected:
        out.append(indent + t("errors.expected", lang, expected=p.expected))
    if p.suggestion:
        out.append(indent + t("errors.suggestion", lang))
        out += [indent + "  " + line for line in p.suggestion.splitlines()]
    return out


def _short(value: object, limit: int = 60) -> str:
    text = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def os_reason(exc: OSError, lang: str = "ru") -> str:
    """Why a file operation failed, in the user's language (disk full, no permission, …)."""
    import errno

    from workbench.i18n import t

    key = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EFBIG: "disk_full",
           errno.EACCES: "no_permission", errno.EPERM: "no_permission", errno.EROFS: "read_only_fs",
           errno.EISDIR: "is_dir", errno.ENOTDIR: "not_dir"}.get(exc.errno or 0)
    return str(t(f"errors.os.{key}", lang)) if key else (exc.strerror or type(exc).__name__)
