"""One run per engagement at a time: an advisory lock file naming its holder.

``fcntl.flock`` is released by the kernel when the holder dies (even by SIGKILL), so a
crashed run never leaves a stale lock; the holder's description is only for the message.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from workbench.errors import LockError, WorkbenchError, os_reason
from workbench.i18n import t

LOCK_NAME = ".workbench.lock"


class EngagementLock:
    """Context manager holding the engagement's lock; raises LockError naming the holder."""

    def __init__(self, root: Path, command: str, lang: str = "ru") -> None:
        self.path = Path(root) / LOCK_NAME
        self.command = command
        self.lang = lang
        self._fd: int | None = None

    def __enter__(self) -> EngagementLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only engagement folder: named, no traceback
            raise WorkbenchError(t("run.not_writable", self.lang, path=str(self.path.parent),
                                   reason=os_reason(exc, self.lang))) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockError(t("run.locked", self.lang, engagement=self.path.parent.name,
                              pid=holder.get("pid", "?"), host=holder.get("host", "?"),
                              command=holder.get("command", "?"), since=holder.get("since", "?"))) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None


def _read_holder(fd: int) -> dict[str, object]:
    try:
        data = os.pread(fd, 4096, 0)
        return json.loads(data.decode()) if data else {}
    except (OSError, ValueError):
        return {}
