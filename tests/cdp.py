"""Headless Chromium for tests, driven over the DevTools protocol.

Standard library plus websocket-client (a dependency of the Jupyter server); no Selenium,
no chromedriver. Every wait is bounded; the browser is always stopped.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--remote-debugging-port=0", "--remote-allow-origins=*"]


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.25) -> Any:
    """Call ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < end:
        try:
            value = check()
            if value:
                return value
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                         + (f" (last error: {last_exc})" if last_exc else ""))


def stop(proc: subprocess.Popen | None) -> None:  # type: ignore[type-arg]
    """Stop a process started in its own session, and everything it started."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class DevTools:
    """A minimal DevTools protocol client over one page's websocket; events are kept in ``events``."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params or {}}))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.ws.settimeout(max(0.1, end - time.monotonic()))
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(f"no answer to {method} within {timeout} s")

    def drain(self, seconds: float) -> None:
        """Collect events for ``seconds`` (e.g. after a load, for late requests)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ws.settimeout(max(0.05, end - time.monotonic()))
            try:
                msg = json.loads(self.ws.recv())
            except Exception:  # noqa: BLE001 - a timeout ends the wait
                break
            if "method" in msg:
                self.events.append(msg)

    def js(self, expression: str, timeout: float = 30) -> Any:
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"].get("exception", {}).get("description", str(res)))
        return res.get("result", {}).get("value")

    def key(self, key: str, code: str, key_code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code,
                                                 "windowsVirtualKeyCode": key_code, "nativeVirtualKeyCode": key_code})

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


@contextlib.contextmanager
def chromium(workdir: Path, window: str = "1400,1800") -> Iterator[DevTools]:
    """Start headless Chromium with a fresh profile in ``workdir``; yield a client on its first page."""
    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True)
    proc = subprocess.Popen([str(CHROMIUM), *CHROMIUM_FLAGS, f"--window-size={window}",
                             f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=(workdir / "chromium.log").open("wb"),
                            start_new_session=True)
    client = None
    try:
        port_file = profile / "DevToolsActivePort"
        port = wait_for("Chromium's DevTools port",
                        lambda: port_file.is_file() and port_file.read_text().split()[0], timeout=30)

        def page() -> str | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                targets = json.loads(r.read())
            return next((x["webSocketDebuggerUrl"] for x in targets if x.get("type") == "page"), None)

        client = DevTools(wait_for("a Chromium page", page, timeout=30))
        client.send("Page.enable")
        client.send("Runtime.enable")
        yield client
    finally:
        if client is not None:
            client.close()
        stop(proc)
