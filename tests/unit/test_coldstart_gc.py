"""On Lambda, the garbage collector is off from a handler's import to the end of its
first request, and what the cold start built is frozen; elsewhere nothing changes.

Each case runs in a fresh interpreter (a cold start's); the assertions are on the
collector's state, never on a time.
Why: docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import gc, json, sys
import functions.handlers
from functions.observability import publish_metrics
seen = {"after_import": gc.isenabled()}

def fail(event, context):
    raise RuntimeError("the first request fails")

handler = publish_metrics(fail if sys.argv[1] == "fail" else (lambda event, context: "ok"))
try:
    handler({}, None)
except RuntimeError:
    pass
seen["after_first_request"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count() > 0
print(json.dumps(seen))
"""


def run(environment: dict[str, str], first: str = "ok") -> dict[str, bool]:
    ran = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", PROGRAM, first],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("first", ["ok", "fail"])
def test_on_lambda_collection_waits_for_the_first_request_to_end(first: str) -> None:
    seen = run({"AWS_LAMBDA_FUNCTION_NAME": "worker", "POWERTOOLS_METRICS_DISABLED": "true"}, first)

    assert seen == {"after_import": False, "after_first_request": True, "frozen": True}


def test_off_lambda_the_collector_is_left_alone() -> None:
    seen = run({"POWERTOOLS_METRICS_DISABLED": "true"})

    assert seen == {"after_import": True, "after_first_request": True, "frozen": False}
