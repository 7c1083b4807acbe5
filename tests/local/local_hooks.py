"""Hooks for the local cloud's end-to-end tests, loaded through ACTION_HOOK_MODULES."""

from __future__ import annotations

from functions.actions.exceptions import TransientError
from functions.actions.hooks import hook

_calls: dict[str, int] = {}


@hook("local_flaky", max_attempts=5, base_delay=0, max_delay=0)
def local_flaky(args, action) -> str:
    """Fails its first ``args["failures"]`` attempts, then succeeds."""
    key = action.action_id
    _calls[key] = _calls.get(key, 0) + 1
    if _calls[key] <= int(args.get("failures", 0)):
        raise TransientError(f"call {_calls[key]} fails, as asked")
    return f"succeeded on call {_calls[key]}"


@hook("local_tick")
def local_tick(args, action) -> str:
    """Does nothing but say when it ran: the schedule tests read it from the action's log."""
    return f"tick {args.get('n')} as {action.action_id}"
