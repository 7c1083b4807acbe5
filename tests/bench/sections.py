"""How a section runs: in a fresh interpreter of its own, writing its result as JSON.

Each section gets its own process so that module state (cached clients, moto's
world, Powertools' singletons bound to stdout) never leaks between them, and so the
functions' log lines are counted or dropped rather than printed over the table.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class CountingStream(io.TextIOBase):
    """A stdout that keeps nothing and counts the bytes written (the CloudWatch Logs bill)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def writable(self) -> bool:
        return True


def run_section(module: str, workdir: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m tests.bench.<module> <workdir>``; return what it wrote."""
    out = workdir / f"{module}.json"
    out.unlink(missing_ok=True)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", f"tests.bench.{module}", str(workdir)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"bench section {module} failed:\n{result.stderr[-4000:]}")
    data = json.loads(out.read_text())
    data["section_seconds"] = round(time.monotonic() - started, 1)
    return data


def section_main(name: str, body: Callable[[Path], dict[str, Any]]) -> None:
    """The ``__main__`` of a section module: ``body(workdir)`` -> workdir/<name>.json."""
    workdir = Path(sys.argv[1])
    workdir.mkdir(parents=True, exist_ok=True)
    result = body(workdir)
    (workdir / f"{name}.json").write_text(json.dumps(result, indent=1))


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), nearest rank: no interpolation between samples."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def measured_commit() -> str:
    """The commit measured, marked when the tree had changes beside it (for the figures
    the docs render: docs/figures/)."""
    git = shutil.which("git")
    if git is None:
        return "unknown"

    def run(*arguments: str) -> str:
        return subprocess.run(  # noqa: S603 - git, fixed arguments
            [git, *arguments], capture_output=True, text=True, cwd=ROOT, check=False
        ).stdout.strip()

    head = run("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with changes" if run("status", "--porcelain", "--untracked-files=no") else "")


def write_figures(name: str, document: dict[str, Any]) -> Path:
    """``docs/figures/<name>.json``, which the docs' Figures page renders: committed."""
    path = ROOT / "docs" / "figures" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    stamped = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": measured_commit(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}",
        **document,
    }
    path.write_text(json.dumps(stamped, indent=1) + "\n")
    return path
