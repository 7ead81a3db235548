"""The demo report in a real browser: no network request, no console error, a screenshot."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cdp import CHROMIUM, chromium, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width", [1280, 390])  # a laptop, and a phone
def test_report_loads_offline_without_errors(demo_run, tmp_path, width):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs it where it can)")
    pytest.importorskip("websocket")
    _, res = demo_run
    report = tmp_path / "report.html"
    shutil.copy(res.deliverables / "report.html", report)
    with chromium(tmp_path, window=f"{width},900") as page:
        page.send("Network.enable")
        page.send("Log.enable")
        # a desktop window cannot be narrower than ~500 px: emulate the phone's screen instead
        page.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": width < 600})
        page.send("Page.navigate", {"url": report.as_uri()})
        wait_for("the report to load", lambda: page.js("document.readyState") == "complete", timeout=30)
        page.drain(1.0)
        requests = [e["params"]["request"]["url"] for e in page.events if e["method"] == "Network.requestWillBeSent"]
        foreign = [u for u in requests if not (u.startswith("file://") or u.startswith("data:"))]
        assert foreign == []
        errors = [e for e in page.events if e["method"] in ("Runtime.exceptionThrown",)
                  or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
                  or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
        assert errors == []
        # every chart decoded, nothing wider than the screen except scrollable tables
        broken = page.js("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length")
        assert broken == 0
        assert page.js("document.querySelectorAll('svg.wb-svg').length") >= 8
        # every chart is drawn at a readable size (vector, scaled to the column)
        assert page.js("[...document.querySelectorAll('svg.wb-svg')].every(s => s.getBoundingClientRect().width > 200)")
        overflow = page.js("document.documentElement.scrollWidth") - width
        assert overflow <= 2, f"the page is {overflow}px wider than a {width}px screen"
        title = page.js("document.querySelector('h1').textContent")
        assert title == "ООО «Демо-Дистрибуция»"
        shot = page.screenshot(tmp_path / f"report-{width}.png")
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {Path(shot)}")
