"""The example hooks' settings, from the environment the stack sets.

``ORDER_SAGA_ARN``: the order saga ``start_order_saga`` starts (the stack wires it to
the worker). ``ACTION_HOOK_MODULES``: comma-separated modules of a team's own hooks,
imported after these. ``EXTERNAL_API_FAIL=1`` makes ``sync_external_api``'s dependency
fail, to watch its circuit open and close.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.settings import EnvSettings, cached, setting


@dataclass(frozen=True, kw_only=True)
class HookSettings(EnvSettings):
    order_saga_arn: str = setting("ORDER_SAGA_ARN", "")
    hook_modules: str = setting("ACTION_HOOK_MODULES", "")
    external_api_fail: bool = setting("EXTERNAL_API_FAIL", False)

    @property
    def modules(self) -> list[str]:
        """The modules named in ``ACTION_HOOK_MODULES``, in order."""
        return [name.strip() for name in self.hook_modules.split(",") if name.strip()]

    def saga_arn(self) -> str:
        """The order saga's ARN; a worker deployed without it cannot start one."""
        if not self.order_saga_arn:
            raise RuntimeError("ORDER_SAGA_ARN is not set: the stack wires the order saga")
        return self.order_saga_arn


settings = cached(HookSettings)
