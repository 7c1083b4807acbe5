"""Errors of the actions runtime: what callers get, and what hooks raise to steer retries."""

from __future__ import annotations


class ActionError(Exception):
    """Base of every error the actions API raises on purpose."""


class InvalidAction(ActionError, ValueError):
    """The caller asked for something invalid: an unknown hook, args that are not JSON..."""


class ActionTooLarge(InvalidAction):
    """The args exceed what an action takes (``envelope.MAX_ARGS_BYTES``), or they must go
    to the payload bucket and cannot (none configured, a schedule too far ahead)."""


class DuplicateAction(ActionError):
    """``unique=True``: a pending or running action of the same hook and group (or, for a
    hook with ``unique_by="args"``, the same args and group) exists."""

    def __init__(self, message: str, existing_action_id: str) -> None:
        super().__init__(message)
        self.existing_action_id = existing_action_id


class TransientError(Exception):
    """Raise from a hook when a retry may succeed (a timeout, a 503, a lock held elsewhere).

    ``delay`` (seconds), when given, is how long to wait before the next attempt: it
    replaces the computed backoff for this retry only (say, a provider's ``Retry-After``).
    The action still uses an attempt. Any exception that is neither this nor
    ``PermanentError`` is treated as transient, with the computed backoff.
    """

    def __init__(self, message: str = "", *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(Exception):
    """Raise from a hook when retrying cannot help (bad input, a 4xx); goes to the dead letters."""


class HookUnavailable(InvalidAction):
    """The hook is registered in the manifest, but its module failed to import in this
    process: its actions dead-letter with the reason ``hook_unavailable``, and no other
    hook is affected."""
