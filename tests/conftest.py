"""Shared fixtures: the demo engagement, generated and run once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Runs in the tests are produced "on" 31 October 2026, whatever today is: the plan's default
# start is the first full month after the report is produced (workbench.steps.production_date),
# so the demo's plan starts in November 2026 on any day the suite runs.
os.environ.setdefault("WORKBENCH_TODAY", "2026-10-31")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo engagement run end to end once (Russian): (engagement path, RunResult)."""
    from workbench.demo import create_demo
    from workbench.run import run_engagement

    base = tmp_path_factory.mktemp("demo") / "engagements"
    path = create_demo(base / "demo")
    result = run_engagement(path, echo=lambda m: None)
    return path, result


@pytest.fixture()
def demo_copy(demo_run, tmp_path):
    """A private copy of the run demo engagement, for tests that change or break it."""
    src, _ = demo_run
    dst = tmp_path / "engagements" / "demo"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".workbench.lock"))
    return dst


@pytest.fixture(scope="session")
def demo_run_en(demo_run, tmp_path_factory):
    """The demo engagement run once more in English, in its own copy: (engagement path, RunResult)."""
    from workbench.run import run_engagement

    src, _ = demo_run
    dst = tmp_path_factory.mktemp("demo-en") / "engagements" / "demo"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".workbench.lock"))
    result = run_engagement(dst, lang="en", echo=lambda m: None)
    return dst, result
