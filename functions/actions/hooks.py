"""The hook registry: which function runs for a hook name, and under what policy.

Users register hooks in the ``functions/hooks`` package::

    from functions.actions.hooks import hook

    @hook("send_welcome_email", max_attempts=5, base_delay=10, max_delay=600, timeout=20)
    def send_welcome_email(args, action):
        ...

and name the module in ``functions.hooks.MODULES`` (or a package of their own:
``hookPackages``, docs/guides/your-project.md). The runtime never imports user code by
itself: the worker
calls ``load``, which imports each hook module on its own, so a module that fails to
import fails only its own hooks' actions (``HookUnavailable``). A process that only
enqueues reads the manifest written at synth (functions/actions/manifest.py) and
imports nothing; without one (a checkout) it loads the hooks on the first name it does
not know. Why: docs/decisions/0053-hook-manifest-and-isolated-hook-imports.md
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from functions.actions import budget, manifest
from functions.actions.envelope import HOOK_NAME, Priority
from functions.actions.exceptions import HookUnavailable, InvalidAction

# The most attempts a hook may take. The job queues' redrive policies allow more receives
# than this (infra/constructs/job_queues.py), so the worker's own count decides when an
# action is dead, never SQS's.
MAX_ATTEMPTS = 20
# What makes two actions of a hook "the same" for unique=True (store/counters.py).
UniqueBy = Literal["group", "args"]
# Action Scheduler's default: a recurring action stops after this many failed runs in a row.
MAX_FAILED_RUNS = 5


@dataclass(frozen=True)
class ActionContext:
    """What a hook knows about the action it runs for."""

    action_id: str
    hook: str
    group: str
    attempt: int
    max_attempts: int
    correlation_id: str


@dataclass(frozen=True)
class AwaitSaga:
    """What a hook returns when the saga it started decides how its action ends.

    The action stays ``in-progress``, its claim held ``wait_seconds``, until the saga's
    outcome arrives: then it completes, or fails with the saga's error. The saga's input
    must carry the action's origin (``functions.sagas.tasks.origin_input``): that is how
    the outcome finds the action. ``note`` goes into the action's log.
    """

    execution_arn: str
    wait_seconds: float
    note: str = ""

    def __str__(self) -> str:
        return self.note or f"waiting for {self.execution_arn}"


HookFunction = Callable[[Any, ActionContext], Any]


@dataclass(frozen=True)
class HookSpec:
    name: str
    function: HookFunction
    max_attempts: int = 5
    base_delay: float = 5.0
    max_delay: float = 900.0
    priority: Priority = "default"
    circuit: str | None = None
    ordered: bool = False
    timeout: float = budget.DEFAULT_HOOK_TIMEOUT
    # Its actions are counted per hook and group (or args), so unique=True sees them all.
    unique_by: UniqueBy | None = None
    # A recurring action of this hook stops after this many failed runs in a row (None: never).
    max_failed_runs: int | None = MAX_FAILED_RUNS
    # False: an action made to run now is left out of the index queries until its run
    # ends or waits (fewer writes; store/transitions.py says which).
    listed_while_queued: bool = True

    @property
    def queue(self) -> str:
        return "fifo" if self.ordered else self.priority


_REGISTRY: dict[str, HookSpec] = {}
# An import error is kept this long: it goes into every one of the module's dead letters.
MAX_IMPORT_ERROR_CHARS = 1000
# Hook name -> the module that registered it, and module -> why it failed to import.
_MODULES: dict[str, str] = {}
_FAILED: dict[str, str] = {}


@dataclass
class _Loading:
    done: bool = False


_LOADED = _Loading()


def hook(
    name: str,
    *,
    max_attempts: int = 5,
    base_delay: float = 5.0,
    max_delay: float = 900.0,
    priority: Priority = "default",
    circuit: str | None = None,
    ordered: bool = False,
    timeout: float = budget.DEFAULT_HOOK_TIMEOUT,
    unique_by: UniqueBy | None = None,
    max_failed_runs: int | None = MAX_FAILED_RUNS,
    listed_while_queued: bool = True,
) -> Callable[[HookFunction], HookFunction]:
    """Register the decorated function as the hook ``name``.

    ``max_attempts`` counts the first run; ``base_delay`` and ``max_delay`` (seconds)
    shape the backoff; ``priority`` picks the queue; ``circuit`` names a dependency
    whose circuit breaker guards the hook; ``ordered`` sends it to the FIFO queue,
    where actions of one group run one at a time, in order; ``timeout`` (seconds, at most
    ``budget.MAX_HOOK_TIMEOUT``) is how long a run may take: the worker starts the run
    only while that much of its invocation is left (functions/actions/budget.py).

    ``unique_by`` lets its actions be created with ``unique=True``: ``"group"`` refuses a
    second pending or running action of the hook in the same group (Action Scheduler's
    meaning), ``"args"`` one with the same args and group. Every action of such a hook
    is then counted as it is made and ends, plain ones included, at the cost of a
    transaction instead of a single write. ``max_failed_runs`` stops a recurring action
    after that many failed runs in a row (None: it recurs whatever happens).

    ``listed_while_queued=False`` leaves an action made to run now (``enqueue_async_action``
    without ``unique``) out of the index queries (``get_scheduled_actions``,
    ``has_scheduled_action``, the console's lists and counts) while it is queued and
    running; ``get`` by id finds it all along, and it is listed once its run ends or waits
    (complete, a retry's backoff, failed, canceled, a saga). Its index entries are then
    written once instead of moved at each status change: for a high-volume hook
    (``process_webhook``) that is most of what its actions cost in DynamoDB writes.
    """

    def register(function: HookFunction) -> HookFunction:
        if not HOOK_NAME.fullmatch(name):
            raise ValueError(f"hook names match {HOOK_NAME.pattern}: {name!r}")
        if name in _REGISTRY and _REGISTRY[name].function is not function:
            raise ValueError(f"hook {name!r} is registered twice")
        if not 1 <= max_attempts <= MAX_ATTEMPTS:
            raise ValueError(f"max_attempts must be 1..{MAX_ATTEMPTS} for {name!r}")
        try:
            budget.check_timeout(timeout)
        except ValueError as exc:
            raise ValueError(f"{exc}, for {name!r}") from None
        # Written so NaN fails too; an infinite cap would overflow the retry's delay.
        if not (0 <= base_delay <= max_delay and math.isfinite(max_delay)):
            raise ValueError(f"need 0 <= base_delay <= max_delay, finite, for {name!r}")
        _check_unique_and_failures(name, unique_by, max_failed_runs)
        _REGISTRY[name] = HookSpec(
            name=name,
            function=function,
            max_attempts=max_attempts,
            base_delay=base_delay,
            max_delay=max_delay,
            priority=priority,
            circuit=circuit,
            ordered=ordered,
            timeout=float(timeout),
            unique_by=unique_by,
            max_failed_runs=max_failed_runs,
            listed_while_queued=bool(listed_while_queued),
        )
        return function

    return register


def load() -> None:
    """Import the hook modules this process runs, each on its own, once per process.

    The modules are the manifest's (written at synth), or without one the project's
    (``functions.hooks.modules()``: its example hooks, then ``ACTION_HOOK_MODULES``). A
    module that fails to import is remembered with its error and registers nothing; the
    others are not affected. Only the functions that run hooks (the worker) call this;
    a process that only enqueues reads the manifest instead, or, without one, lands here
    on the first name it does not know.
    """
    if _LOADED.done:
        return
    _LOADED.done = True
    known = manifest.current()
    import_modules(list(known.modules) if known is not None else _default_modules())


def _default_modules() -> list[str]:
    project = importlib.import_module("functions.hooks")
    return list(project.modules())


def import_modules(modules: list[str]) -> dict[str, str]:
    """Import each module on its own; return those that failed, module -> error.

    A module that raises at import (or whose hook declarations are invalid) keeps none
    of the hooks it registered before it failed: it is unavailable as a whole.
    """
    failed: dict[str, str] = {}
    for module in modules:
        if module in _FAILED:
            failed[module] = _FAILED[module]
            continue
        before = set(_REGISTRY)
        try:
            importlib.import_module(module)
        except (Exception, SystemExit) as exc:  # a user's module may raise anything
            for name in set(_REGISTRY) - before:
                del _REGISTRY[name]
            error = f"{type(exc).__name__}: {exc}"
            _FAILED[module] = failed[module] = error[:MAX_IMPORT_ERROR_CHARS]
            continue
        for name in set(_REGISTRY) - before:
            _MODULES[name] = module
    return failed


def failed_modules() -> dict[str, str]:
    """The hook modules that failed to import in this process, module -> error."""
    return dict(_FAILED)


def module_of(name: str) -> str:
    """The module that registered the hook ``name`` in this process."""
    spec = _REGISTRY[name]
    return _MODULES.get(name, getattr(spec.function, "__module__", "") or "")


def registered_here() -> dict[str, HookSpec]:
    """The hooks this process registered, without loading any."""
    return dict(_REGISTRY)


def _from_manifest(name: str, known: manifest.Manifest) -> HookSpec | None:
    entry = known.hooks.get(name)
    if entry is None:
        return None

    def not_here(args: Any, action: ActionContext) -> Any:
        raise HookUnavailable(f"hook {name!r} is described by the manifest, not imported here")

    policy = {key: value for key, value in entry.items() if key != "module"}
    return HookSpec(name=name, function=not_here, **policy)


def _check_unique_and_failures(name: str, unique_by: Any, max_failed_runs: Any) -> None:
    if unique_by is not None and unique_by not in get_args(UniqueBy):
        raise ValueError(f"unique_by is one of {get_args(UniqueBy)} or None for {name!r}")
    valid = isinstance(max_failed_runs, int) and not isinstance(max_failed_runs, bool)
    if max_failed_runs is not None and not (valid and max_failed_runs >= 1):
        raise ValueError(f"max_failed_runs is a whole number of at least 1, or None, for {name!r}")


def get(name: str) -> HookSpec:
    """The hook ``name``: the one seam every caller asks.

    Registered in this process: its spec. Otherwise, in a process that has not loaded the
    hooks and has a manifest (it only enqueues): the manifest's policy, no import. In one
    that loaded them (the worker): ``HookUnavailable`` when the manifest puts the hook in
    a module that failed to import. Without a manifest the hooks are loaded first.
    Raises ``InvalidAction`` for a name no hook is registered as.
    """
    spec = _REGISTRY.get(name)
    if spec is not None:
        return spec
    known = manifest.current()
    if known is not None and not _LOADED.done:
        spec = _from_manifest(name, known)
        if spec is not None:
            return spec
        raise InvalidAction(f"no hook is registered as {name!r}")
    load()
    spec = _REGISTRY.get(name)
    if spec is not None:
        return spec
    module = known.module_of(name) if known is not None else None
    if module is not None and module in _FAILED:
        raise HookUnavailable(
            f"hook {name!r} is unavailable: its module {module!r} failed to import: "
            f"{_FAILED[module]}"
        )
    raise InvalidAction(f"no hook is registered as {name!r}{_failures_note()}")


def _failures_note() -> str:
    # Without a manifest nobody knows which module a hook was in: name those that failed.
    if not _FAILED:
        return ""
    return " (hook modules that failed to import: " + ", ".join(sorted(_FAILED)) + ")"


def registered() -> dict[str, HookSpec]:
    """Every hook: the manifest's in a process that has not loaded them, else the loaded
    ones (``load``); and any this process registered itself."""
    known = manifest.current()
    if known is not None and not _LOADED.done:
        described = {name: _from_manifest(name, known) for name in known.hooks}
        return {name: spec for name, spec in described.items() if spec} | dict(_REGISTRY)
    load()
    return dict(_REGISTRY)


def forget_loading() -> None:
    """Load again on next use, failures forgotten (tests change the manifest or modules)."""
    _LOADED.done = False
    _FAILED.clear()
    manifest.reset()


def unregister(name: str) -> None:
    """Remove a hook (tests register their own and clean up)."""
    _REGISTRY.pop(name, None)
