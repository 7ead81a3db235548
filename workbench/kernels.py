"""Kernel managers for parallel runs.

Parallel kernels started over TCP race for ports (``ZMQError: Address already in use``,
then "Kernel died before replying to kernel_info"; papermill #511, jupyter_client #487).
IPC transport with a *unique* socket path per kernel cannot collide; plain
``transport=ipc`` with the default path is worse (kernels cross-connect).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from typing import Any

from jupyter_client.manager import AsyncKernelManager


def socket_dir() -> str:
    """A private folder for kernel sockets (short path: AF_UNIX paths are limited to ~107 bytes)."""
    path = os.path.join(tempfile.gettempdir(), f"wb-kernels-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


class UniqueIPCKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel talks over IPC sockets at a path of its own."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = os.path.join(socket_dir(), uuid.uuid4().hex[:16])

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        # The kernel's own stderr would reach the consultant's terminal (a harmless
        # "KeyboardInterrupt caught in kernel" at every shutdown in parallel runs, warnings
        # quoting client values). Cell errors still come back through the protocol.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        await super()._async_launch_kernel(kernel_cmd, **kw)
