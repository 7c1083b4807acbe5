"""The suite runs on the Python that Lambda runs: what is deployed is what was tested.

Why: docs/decisions/0041-lambda-runs-the-python-the-tests-run-on.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bundling_version() -> str:
    # Read, not imported: importing the CDK construct module starts jsii's Node process.
    source = (ROOT / "infra" / "constructs" / "bundling.py").read_text()
    [version] = re.findall(r'^PYTHON_VERSION = "(\d+\.\d+)"$', source, re.MULTILINE)
    [runtime] = re.findall(r"^RUNTIME = lambda_\.Runtime\.PYTHON_(\d+)_(\d+)$", source, re.M)
    assert version == ".".join(runtime), "the runtime and the asset's wheels differ"
    return version


def test_the_suite_runs_on_the_python_lambda_runs():
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running == _bundling_version(), (
        f"the tests run on Python {running}, Lambda on {_bundling_version()}: build the "
        "virtualenv with that version (the Makefile's PYTHON)"
    )


def test_the_makefile_builds_the_virtualenv_with_that_python():
    makefile = (ROOT / "Makefile").read_text()
    assert f"PYTHON ?= python{_bundling_version()}\n" in makefile
