"""Run logs: counts, rows, columns and timings — never customer names, INNs or phones."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from workbench.config import Engagement


def run_log(eng: Engagement) -> Callable[[str], None]:
    """Return a function appending one timestamped line to ``logs/run.log``.

    Callers pass only our own words and numbers; no client text reaches the log.
    """
    eng.logs_dir.mkdir(parents=True, exist_ok=True)
    path = eng.logs_dir / "run.log"

    def log(message: str) -> None:
        with contextlib.suppress(OSError):  # a full disk must not hide the run's own error
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    return log
