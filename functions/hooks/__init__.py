"""The project's hooks. Each module registers its hooks when imported; add yours here.

    # functions/hooks/billing.py
    from functions.actions.hooks import hook

    @hook("charge_subscription", max_attempts=3, priority="high")
    def charge_subscription(args, action):
        ...

and import the module below so the worker knows it. Hooks that live in a package
of their own can be named instead in ``ACTION_HOOK_MODULES`` (comma-separated
module names), which every function imports too.
"""

import importlib
import os

from functions.hooks import email, external_api, images, orders, reports, webhooks  # noqa: F401
from functions.hooks.config import HookSettings

# Read afresh from the process's own environment, not through the cached settings (nor a
# stack's outputs): importing registers, it does not configure.
for _module in HookSettings.from_env(os.environ).modules:
    importlib.import_module(_module)
