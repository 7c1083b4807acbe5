"""Is there a hook of this name? The one place the actions API asks.

The answer comes from the hook registry (``functions.actions.hooks.get``), which in the
deployed function reads the manifest written at synth and never imports a hook: a hook
module that fails to import cannot break the API. Without a manifest (a checkout) it
imports the hook modules, each on its own.
"""

from __future__ import annotations

from typing import Any

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


def described() -> dict[str, dict[str, Any]]:
    """Every hook the worker runs, by name, with its policy: the manifest's, no import."""
    from functions.actions import hooks, manifest

    return {name: manifest.policy(spec) for name, spec in sorted(hooks.registered().items())}
