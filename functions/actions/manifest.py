"""The hook manifest: every hook's name, module and policy, written at synth.

A process that only enqueues (the webhook receiver, the actions API, the CLI, a team's
app) validates a hook's name and takes its policy (queue, priority, attempts) from here,
and never imports a hook. The worker imports the modules it lists, each on its own, and
knows from it which module a hook lives in when that module failed to import.

The file is ``hook_manifest.json`` in the functions' asset (``functions/``), or the file
``ACTION_HOOK_MANIFEST`` names. A process outside the stack that names it
(``ACTION_SCHEDULER_STACK``: a team's app, ``actionsctl``) has no such file: it reads the
hooks from the stack's actions API (``GET /hooks``, functions/stack.py), once. None at all
(a checkout, the tests): the registry imports the hooks instead
(``functions.actions.hooks.load``).
Why: docs/decisions/0053-hook-manifest-and-isolated-hook-imports.md

``python -m functions.actions.manifest OUTPUT MODULE...`` imports the modules in this
fresh process and writes the manifest to OUTPUT; a module that fails exits 1 naming it
and its error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.actions.hooks import HookSpec

VERSION = 1
FILE_NAME = "hook_manifest.json"
PATH_VARIABLE = "ACTION_HOOK_MANIFEST"
# The policy fields of HookSpec: everything but the function.
_POLICY = (
    "max_attempts",
    "base_delay",
    "max_delay",
    "priority",
    "circuit",
    "ordered",
    "timeout",
    "unique_by",
    "max_failed_runs",
    "listed_while_queued",
)


@dataclass(frozen=True)
class Manifest:
    """Which modules hold hooks, in import order, and each hook's module and policy."""

    modules: tuple[str, ...]
    hooks: dict[str, dict[str, Any]]

    def module_of(self, hook: str) -> str | None:
        entry = self.hooks.get(hook)
        return None if entry is None or "module" not in entry else str(entry["module"])

    def to_json(self) -> str:
        document = {"v": VERSION, "modules": list(self.modules), "hooks": self.hooks}
        return json.dumps(document, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("v") != VERSION:
            raise ValueError(f"not a version {VERSION} hook manifest")
        return cls(modules=tuple(document["modules"]), hooks=dict(document["hooks"]))


def path() -> Path:
    """Where this process's manifest is: ``ACTION_HOOK_MANIFEST``, else in the asset."""
    named = os.environ.get(PATH_VARIABLE, "")
    return Path(named) if named else Path(__file__).resolve().parents[1] / FILE_NAME


@functools.cache
def current() -> Manifest | None:
    """The manifest of this process, read once: its file, else the named stack's hooks;
    None when there is neither."""
    where = path()
    if where.is_file():
        return Manifest.from_json(where.read_text(encoding="utf-8"))
    from functions import stack

    described = stack.hooks()
    return None if described is None else Manifest(modules=(), hooks=described)


def reset() -> None:
    """Read the manifest again next time (tests point ``ACTION_HOOK_MANIFEST`` elsewhere)."""
    current.cache_clear()


def collect(modules: list[str]) -> Manifest:
    """Import ``modules`` in this process and describe every hook they registered.

    Raises ``ImportError`` naming the first module that failed and its error: a manifest
    is written only for hook packages that import."""
    from functions.actions import hooks

    failed = hooks.import_modules(modules)
    if failed:
        module, error = next(iter(failed.items()))
        raise ImportError(f"the hook module {module!r} failed to import: {error}")
    entries = {
        name: describe(spec, hooks.module_of(name))
        for name, spec in sorted(hooks.registered_here().items())
    }
    return Manifest(modules=tuple(modules), hooks=entries)


def describe(spec: HookSpec, module: str) -> dict[str, Any]:
    """A hook's manifest entry: its module and its policy, everything but its function."""
    return {"module": module, **policy(spec)}


def policy(spec: HookSpec) -> dict[str, Any]:
    """What an enqueuer needs of a hook (queue, priority, attempts...): what ``GET /hooks``
    answers for it."""
    return {key: getattr(spec, key) for key in _POLICY}


def main(argv: list[str]) -> int:
    output, *modules = argv
    try:
        manifest = collect(modules)
    except ImportError as exc:
        print(exc, file=sys.stderr)
        return 1
    Path(output).write_text(manifest.to_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
