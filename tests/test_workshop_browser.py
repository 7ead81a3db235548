"""The workshop renders in JupyterLab 4 and reacts to a slider: JupyterLab on a free localhost
port, headless Chromium driven over its DevTools protocol (standard library + websocket-client,
which the Jupyter server already depends on; no Selenium, no chromedriver).

Flow: copy notebooks/ and a fresh demo engagement to a tmp project, start JupyterLab there,
open notebooks/00_workshop.ipynb, run all cells (the Run All Cells command of the Run menu),
read the tier-mix table the widgets render, move the VIP-share slider with the keyboard and
check that the table changed; a screenshot is left in the test's tmp folder. Every wait is
bounded; the server and the browser are always stopped.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cdp import CHROMIUM, DevTools, chromium, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def project(tmp_path):
    """A tmp project: notebooks/ and a generated demo engagement under engagements/demo."""
    from workbench.demo import create_demo

    root = tmp_path / "project"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    create_demo(root / "engagements" / "demo")
    return root


@pytest.fixture()
def lab(project, tmp_path):
    """JupyterLab serving ``project`` on a free localhost port: (base url, token)."""
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.skip("jupyter is not installed next to this Python")
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path / "jupyter"
    settings = home / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the DOM (no virtual scrolling), so the widgets can be found wherever they are
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"), IPYTHONDIR=str(home / "ipython"), JUPYTER_PLATFORM_DIRS="1")
    log = (tmp_path / "jupyter.log").open("wb")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={project}", "--ServerApp.port_retries=0",
         "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={home / 'user-settings'}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited: {(tmp_path / 'jupyter.log').read_text()[-2000:]}")
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                return r.status == 200

        wait_for("JupyterLab to answer", ready, timeout=60)
        yield base, token
    finally:
        stop(proc)
        log.close()


@pytest.fixture()
def browser(tmp_path):
    """Headless Chromium with a fresh profile: a DevTools client on its first page."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make browser installs it)")
    pytest.importorskip("websocket")
    with chromium(tmp_path, window="1400,1800") as client:
        # headless windows never have the focus; JupyterLab's current notebook follows the focus
        client.send("Emulation.setFocusEmulationEnabled", {"enabled": True})
        yield client


def _tier_counts(dt: DevTools) -> list[str] | None:
    return dt.js("(() => { const t = document.querySelector('table.wb-ws-tier-mix');"
                 " return t ? Array.from(t.querySelectorAll('tr[data-tier]')).map("
                 "r => r.dataset.tier + '=' + r.querySelector('td.wb-ws-count').textContent) : null; })()")


def test_workshop_renders_and_slider_moves_the_tier_mix(lab, browser, tmp_path):
    try:
        _workshop_in_the_browser(lab, browser, tmp_path)
    except BaseException:
        with contextlib.suppress(Exception):  # leave the page as it was for the post-mortem
            print(f"failure screenshot: {browser.screenshot(tmp_path / 'failure.png')}")
        raise


def _workshop_in_the_browser(lab: tuple[str, str], dt: DevTools, tmp_path: Path) -> None:
    base, token = lab
    dt.send("Page.navigate", {"url": f"{base}/lab/tree/notebooks/00_workshop.ipynb?token={token}"})
    # the notebook is open and its kernel is idle
    wait_for("the notebook and its kernel", lambda: dt.js(
        "(() => { const app = window.jupyterapp; if (!app) return false;"
        " const w = Array.from(app.shell.widgets('main')).find("
        "   x => x.context && x.context.path.endsWith('00_workshop.ipynb'));"
        " if (!w) return false; app.shell.activateById(w.id);"
        " const k = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return !!(app.shell.currentWidget === w && w.content.widgets.length > 5 && k"
        " && k.status === 'idle'); })()"), timeout=120, every=0.5)
    # Run > Run All Cells
    dt.js("window.jupyterapp.commands.execute('notebook:run-all-cells').then(() => true)", timeout=60)
    before = wait_for("the tier mix rendered by the widgets", lambda: _tier_counts(dt), timeout=180, every=0.5)
    assert [x.split("=")[0] for x in before] == ["vip", "strategic", "typical", "ballast"]
    wait_for("every panel", lambda: dt.js("['.wb-ws-explorer', '.wb-ws-maps', '.wb-ws-cjm', '.wb-ws-save']"
                                       ".every(s => document.querySelector(s))"), timeout=120, every=0.5)
    errors = dt.js("Array.from(document.querySelectorAll('.jp-OutputArea-output[data-mime-type="
                   "\"application/vnd.jupyter.stderr\"]')).map(e => e.textContent).join('\\n')")
    assert "Traceback" not in (errors or ""), errors

    # move the VIP-share slider: focus its handle, press Left five times (0.03 -> 0.005)
    focused = dt.js("(() => { const h = document.querySelector('.wb-ws-tiers-vip-min-share .noUi-handle');"
                    " if (!h) return false; h.scrollIntoView({block: 'center'}); h.focus();"
                    " return document.activeElement === h; })()")
    assert focused, "the VIP-share slider handle was not found or could not take the focus"
    for _ in range(5):
        dt.key("ArrowLeft", "ArrowLeft", 37)
        time.sleep(0.1)
    after = wait_for("the tier mix to change", lambda: (c := _tier_counts(dt)) != before and c, timeout=60, every=0.5)
    counts_before = {k: int(v) for k, v in (x.split("=") for x in before)}
    counts_after = {k: int(v) for k, v in (x.split("=") for x in after)}
    assert counts_after["vip"] > counts_before["vip"]
    assert sum(counts_after.values()) == sum(counts_before.values())
    # who moved (its widget may update a moment after the tier mix)
    wait_for("the table of who moved", lambda: dt.js("document.querySelector('table.wb-ws-changes') !== null"),
          timeout=30)
    dt.js("document.querySelector('table.wb-ws-tier-mix').scrollIntoView({block: 'start'})")
    time.sleep(0.5)
    shot = dt.screenshot(tmp_path / "workshop.png")
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
