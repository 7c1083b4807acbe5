"""The project's example hooks. Each module registers its hooks when imported.

    # functions/hooks/billing.py
    from functions.actions.hooks import hook

    @hook("charge_subscription", max_attempts=3, priority="high")
    def charge_subscription(args, action):
        ...

Importing this package imports none of them: the worker imports each module named in
``MODULES`` on its own (``functions.actions.hooks.load``), so one that fails to import
fails only its own hooks. Hooks of a team's own package are named by ``hookPackages``
at synth (docs/guides/your-project.md), or, in a checkout, by ``ACTION_HOOK_MODULES``
(comma-separated module names), imported after these.
"""

from __future__ import annotations

import os

from functions.hooks.config import HookSettings

# The webhook receiver's own hook (process_webhook): deployed whatever else is.
RECEIVER_MODULES = ("functions.hooks.webhooks",)
# The example hooks, which ``exampleHooks: false`` leaves out.
EXAMPLE_MODULES = (
    "functions.hooks.email",
    "functions.hooks.external_api",
    "functions.hooks.images",
    "functions.hooks.orders",
    "functions.hooks.reports",
)
MODULES = (*EXAMPLE_MODULES, *RECEIVER_MODULES)


def modules() -> list[str]:
    """The hook modules a process without a manifest runs: these, then
    ``ACTION_HOOK_MODULES``, read afresh from the process's own environment (not through
    the cached settings, nor a stack's outputs): importing registers, it does not
    configure."""
    return [*MODULES, *HookSettings.from_env(os.environ).modules]
