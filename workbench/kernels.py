"""Kernels for the notebooks of a run.

Parallel kernels started over TCP race for ports (``ZMQError: Address already in use``,
then "Kernel died before replying to kernel_info"; papermill #511, jupyter_client #487).
IPC transport with a *unique* socket path per kernel cannot collide; plain
``transport=ipc`` with the default path is worse (kernels cross-connect).

A run executes its notebooks in one kernel (``SharedKernel``): a kernel per notebook
started a Python process and imported pandas, matplotlib and the package five times
(1.5 s each on a 2-core machine, a third of the demo's run). Each notebook still starts
from a clean namespace (``workbench.run`` resets it before every notebook); what stays
from one notebook to the next is what a fresh kernel would load again the same way: the
imported modules and the package's caches of files that are unchanged on disk.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

# What the notebooks import, imported while the run process reads the client's files (a
# module missing here is simply imported later, by the notebook that needs it).
WARM_MODULES = ("IPython.display", "workbench.steps", "workbench.segment", "workbench.maps", "workbench.cjm",
                "workbench.traction", "workbench.ingest", "workbench.report.charts",
                "workbench.report.segment_report", "workbench.report.maps_report", "workbench.report.cjm_report",
                "workbench.report.traction_report", "workbench.io.results")
# Run in the kernel before each notebook: what the previous notebook left goes (its
# variables, its open figures), the cell count starts at 1 again.
FRESH_NAMESPACE = ("import sys as _wb_sys\n"
                   "_wb_plt = _wb_sys.modules.get('matplotlib.pyplot')\n"
                   "if _wb_plt is not None:\n"
                   "    _wb_plt.close('all')\n"
                   "get_ipython().reset(new_session=True)\n")


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


class SharedKernel:
    """One Python kernel for all the notebooks of a run: started once, shut down at the end.

    cwd: the kernel's working folder (the notebooks' folder, as papermill would give it).
    warm: import ``WARM_MODULES`` as soon as the kernel is up, without waiting for it.
    Use as a context manager; ``km`` is the kernel manager papermill is given.
    """

    def __init__(self, cwd: Path, warm: bool = True) -> None:
        self.cwd = Path(cwd)
        self.warm = warm
        self.km: UniqueIPCKernelManager | None = None
        self._warm_client: Any = None
        self.starts = 0

    def start(self) -> None:
        from jupyter_core.utils import run_sync

        km = UniqueIPCKernelManager(kernel_name="python3")
        # as nbclient starts its own kernels: no history file written by the kernel
        run_sync(km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=str(self.cwd))
        self.km = km
        self.starts += 1
        if self.warm:
            client = km.blocking_client()
            client.start_channels()
            code = ("import importlib as _wb_i\n"
                    f"for _wb_m in {WARM_MODULES!r}:\n"
                    "    try:\n"
                    "        _wb_i.import_module(_wb_m)\n"
                    "    except Exception:\n"
                    "        pass\n")
            client.execute(code, silent=True, store_history=False)  # not waited for: queued before notebook 1
            self._warm_client = client

    def start_job(self, code: str) -> KernelJob:
        """Run ``code`` in the kernel from a clean namespace, without waiting for it: the caller
        goes on with other work (the run renders the report while the kernel, idle after the
        notebooks, writes the workbook) and asks ``KernelJob.error`` at the end."""
        assert self.km is not None
        client = self.km.blocking_client()
        client.start_channels()
        msg_id = client.execute(FRESH_NAMESPACE + code, silent=True, store_history=False)
        return KernelJob(self.km, client, msg_id)

    def replace(self) -> None:
        """A new kernel in place of one that died."""
        self.shutdown()
        self.start()

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        client, self._warm_client = self._warm_client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.stop_channels()
        km, self.km = self.km, None
        if km is None:
            return
        try:
            # killed, not asked: it has nothing left to save once the notebooks are written,
            # and a polite shutdown took a second
            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # already gone
            pass
        finally:
            with contextlib.suppress(Exception):
                run_sync(km.cleanup_resources)()

    def __enter__(self) -> SharedKernel:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


class KernelJob:
    """Code running in a kernel (``SharedKernel.start_job``)."""

    def __init__(self, km: Any, client: Any, msg_id: str) -> None:
        self.km, self.client, self.msg_id = km, client, msg_id

    def error(self, timeout: float) -> str | None:
        """Wait for the code to end: None when it ran; else what went wrong, in one line (its
        exception, the kernel's death, or no answer within ``timeout`` seconds)."""
        import queue
        import time

        from jupyter_core.utils import run_sync

        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    reply = self.client.get_shell_msg(timeout=1.0)
                except queue.Empty:
                    if not run_sync(self.km.is_alive)():
                        return "the kernel died"
                    continue
                if reply["parent_header"].get("msg_id") != self.msg_id:
                    continue
                content = reply["content"]
                if content.get("status") == "ok":
                    return None
                lines = str(content.get("evalue", "")).splitlines()
                return f"{content.get('ename', 'Error')}: {lines[0] if lines else ''}"
            return f"no answer in {timeout:.0f} s"
        except Exception as exc:  # noqa: BLE001 - a broken channel is one more way to fail
            return f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
