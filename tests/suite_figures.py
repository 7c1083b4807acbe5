"""The test suites' figures: a pytest plugin that, asked, writes what a run counted and
how long each suite took to a JSON file, which the docs' Figures page renders
(``docs/generate.py``, ``docs/figures/tests.json``).

``TEST_FIGURES=<file> pytest ...`` turns it on (tests/conftest.py registers it);
``make figures-tests`` runs ``make test`` so, then adds the whole ``make test``'s wall
time (``python -m tests.suite_figures <file> --make-seconds N --clean-clone true|false``)
and moves the file to ``docs/figures/tests.json``, to be committed. A suite is the first
folder under ``tests/`` (``tests/unit``); its seconds are its tests' (set-up and
tear-down included, a session fixture's in the first test that uses it); the total's are
the session's, collection included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ENVIRONMENT = "TEST_FIGURES"
OUTCOMES = ("passed", "failed", "skipped")


def suite_of(path: Path, root: Path) -> str:
    """``tests/unit`` for ``<root>/tests/unit/test_x.py``; a file elsewhere is its own folder."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return str(path.parent)
    if len(parts) >= 3 and parts[0] == "tests":
        return f"{parts[0]}/{parts[1]}"
    return str(Path(*parts[:-1])) if len(parts) > 1 else "."


class SuiteFigures:
    """Counts each test's outcome and times it, by suite; writes them at the session's end."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self.started = time.monotonic()
        self.outcome: dict[str, str] = {}  # nodeid -> passed, failed or skipped
        self.suite: dict[str, str] = {}  # nodeid -> suite
        self.seconds: dict[str, float] = {}  # suite -> seconds

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        suite = self.suite[item.nodeid] = suite_of(item.path, self.root)
        started = time.monotonic()
        try:
            return (yield)
        finally:
            self.seconds[suite] = self.seconds.get(suite, 0.0) + time.monotonic() - started

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A failure in any phase fails the test; a skip (or an expected failure) skips it.
        now = self.outcome.get(report.nodeid, "passed")
        if report.failed:
            now = "failed"
        elif report.skipped and now != "failed":
            now = "skipped"
        self.outcome[report.nodeid] = now

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # a module that does not import: an error of its suite
            suite = suite_of(Path(str(report.fspath)).resolve(), self.root)
            self.suite[report.nodeid] = suite
            self.outcome[report.nodeid] = "failed"

    def figures(self, exit_status: int) -> dict[str, Any]:
        suites: dict[str, dict[str, Any]] = {}
        for nodeid, outcome in self.outcome.items():
            suite = self.suite.get(nodeid) or suite_of(self.root / nodeid.split("::")[0], self.root)
            counts = suites.setdefault(suite, dict.fromkeys(OUTCOMES, 0))
            counts[outcome] += 1
        for suite, counts in suites.items():
            counts["seconds"] = round(self.seconds.get(suite, 0.0), 1)
        total: dict[str, Any] = {
            outcome: sum(counts[outcome] for counts in suites.values()) for outcome in OUTCOMES
        }
        total["seconds"] = round(time.monotonic() - self.started, 1)
        return {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": measured_commit(self.root),
            "machine": machine(),
            "exit_status": exit_status,
            "suites": dict(sorted(suites.items())),
            "total": total,
        }

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.figures(int(exitstatus)), indent=1) + "\n")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_line(f"test figures written to {self.path}")


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def measured_commit(root: Path) -> str:
    """HEAD's short hash, ``with changes`` when tracked files differ from it."""
    from tests.bench.sections import measured_commit as commit

    return commit() if root == Path(__file__).resolve().parents[1] else "unknown"


def register(config: pytest.Config) -> None:
    """Turn the plugin on when ``TEST_FIGURES`` names a file (relative: to the rootdir)."""
    if (target := os.environ.get(ENVIRONMENT)) and not config.pluginmanager.has_plugin(
        "suite-figures"
    ):
        path = config.rootpath / target
        config.pluginmanager.register(SuiteFigures(path, config.rootpath), "suite-figures")


def pytest_configure(config: pytest.Config) -> None:
    """As a plugin of its own (``-p tests.suite_figures``)."""
    register(config)


def add_make_seconds(path: Path, seconds: int, *, clean_clone: bool) -> dict[str, Any]:
    """The whole ``make test``'s wall time (lint included; set-up too in a clean clone)."""
    figures = json.loads(path.read_text(encoding="utf-8"))
    figures["make_test_seconds"] = seconds
    figures["clean_clone"] = clean_clone
    path.write_text(json.dumps(figures, indent=1) + "\n")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.suite_figures")
    parser.add_argument("path", type=Path)
    parser.add_argument("--make-seconds", type=int, required=True)
    parser.add_argument("--clean-clone", choices=("true", "false"), default="false")
    arguments = parser.parse_args(argv)
    figures = add_make_seconds(
        arguments.path, arguments.make_seconds, clean_clone=arguments.clean_clone == "true"
    )
    total = figures["total"]
    print(
        f"{arguments.path}: {sum(total[o] for o in OUTCOMES):,} tests"
        f" ({total['failed']} failed), {total['seconds']} s of pytest,"
        f" {arguments.make_seconds} s of make test"
    )


if __name__ == "__main__":
    main()
