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


BROKEN_MODULE = """
from functions.actions.hooks import hook

@hook("half_registered")
def half(args, action):
    return None

raise RuntimeError("broken at import")
"""

ISOLATED = """
import sys
from functions.actions import InvalidAction, hooks
import functions.handlers.webhook  # imports no hook
import functions.hooks

assert "broken_hooks" not in sys.modules
print(hooks.get("process_webhook").name)
try:
    hooks.get("half_registered")
except InvalidAction as exc:
    print(exc)
"""


def test_a_module_that_fails_to_import_fails_only_its_own_hooks(tmp_path):
    (tmp_path / "broken_hooks.py").write_text(BROKEN_MODULE)
    ran = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", ISOLATED],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": f"{ROOT}:{tmp_path}",
            "ACTION_HOOK_MODULES": "broken_hooks",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "process_webhook",
        "no hook is registered as 'half_registered' "
        "(hook modules that failed to import: broken_hooks)",
    ]
