"""The project's promises about its own set-up: pinned, locked, one CI command."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_every_direct_dependency_is_pinned_exactly_and_locked_at_that_version():
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    lock = _lock()
    for group, specs in groups.items():
        for spec in specs:
            requirement = Requirement(spec)
            [pin] = list(requirement.specifier)
            assert pin.operator == "==", f"{group}: {spec} is not pinned exactly"
            assert lock.get(canonicalize_name(requirement.name)) == pin.version, (
                f"{spec} differs from requirements.lock: run `make lock`"
            )


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
