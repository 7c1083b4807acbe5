"""A process that only enqueues need not import the hooks: the registry loads them.

Run in a fresh interpreter, since this one has imported ``functions.hooks`` long ago.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
from functions.actions import InvalidAction, hooks

assert "functions.hooks" not in sys.modules
spec = hooks.get("sync_external_api")
print(spec.queue, spec.max_attempts, spec.circuit)
try:
    hooks.get("no_such_hook")
except InvalidAction as exc:
    print(exc)
"""


def test_the_first_unknown_name_loads_the_hooks_the_functions_run():
    ran = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "default 8 external_api",
        "no hook is registered as 'no_such_hook'",
    ]
