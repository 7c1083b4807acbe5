"""The hook registry: which function runs for a hook name, and under what policy.

Users register hooks in the ``functions/hooks`` package::

    from functions.actions.hooks import hook

    @hook("send_welcome_email", max_attempts=5, base_delay=10, max_delay=600, timeout=20)
    def send_welcome_email(args, action):
        ...

The runtime never imports user code; the handlers import ``functions.hooks``,
whose modules register themselves when imported. A process that only enqueues (a
team's app, a script, the CLI) need not: asked for a hook it does not know, the
registry imports that same package once (``load``).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from functions.actions import budget
from functions.actions.envelope import HOOK_NAME, Priority
from functions.actions.exceptions import InvalidAction

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

    @property
    def queue(self) -> str:
        return "fifo" if self.ordered else self.priority


_REGISTRY: dict[str, HookSpec] = {}


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
        )
        return function

    return register


def load() -> None:
    """Register the hooks the stack's functions run: import ``functions.hooks`` (the
    project's hooks, then ``ACTION_HOOK_MODULES``), once per process.

    Until the stack publishes its hook names at synth, this is how a process that only
    enqueues validates a hook's name and takes its policy (queue, attempts) as the
    worker will: docs/decisions/0039-settings-found-from-the-stack.md.
    """
    importlib.import_module("functions.hooks")


def _check_unique_and_failures(name: str, unique_by: Any, max_failed_runs: Any) -> None:
    if unique_by is not None and unique_by not in get_args(UniqueBy):
        raise ValueError(f"unique_by is one of {get_args(UniqueBy)} or None for {name!r}")
    valid = isinstance(max_failed_runs, int) and not isinstance(max_failed_runs, bool)
    if max_failed_runs is not None and not (valid and max_failed_runs >= 1):
        raise ValueError(f"max_failed_runs is a whole number of at least 1, or None, for {name!r}")


def get(name: str) -> HookSpec:
    spec = _REGISTRY.get(name)
    if spec is None:
        load()
        spec = _REGISTRY.get(name)
    if spec is None:
        raise InvalidAction(f"no hook is registered as {name!r}")
    return spec


def registered() -> dict[str, HookSpec]:
    """Every hook, the stack's (``load``) and any this process registered itself."""
    load()
    return dict(_REGISTRY)


def unregister(name: str) -> None:
    """Remove a hook (tests register their own and clean up)."""
    _REGISTRY.pop(name, None)
