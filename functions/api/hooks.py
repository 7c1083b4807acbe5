"""Is there a hook of this name? The one place the actions API asks.

Today the answer comes from the hook registry, which imports the stack's hook packages
on first use (``functions.actions.hooks.get``), as for every Python caller. A manifest
of hook names written at synth is to replace it, so that the API never imports a hook:
this module is the seam it replaces.
"""

from __future__ import annotations

from functions.actions import InvalidAction
from functions.api.errors import InvalidRequest, UnknownHook


def require(name: str) -> None:
    """Raise ``InvalidRequest`` for a name no hook can have, ``UnknownHook`` for one no
    hook is registered as."""
    from functions.actions import hooks, limits

    try:
        limits.check_hook_name(name)
    except InvalidAction as exc:
        raise InvalidRequest(f"hook: {exc}") from None
    try:
        hooks.get(name)
    except InvalidAction:
        raise UnknownHook(f"no hook is registered as {name!r}") from None
