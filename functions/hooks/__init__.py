"""The project's hooks. Each module registers its hooks when imported; add yours here.

    # functions/hooks/billing.py
    from functions.actions.hooks import hook

    @hook("charge_subscription", max_attempts=3, priority="high")
    def charge_subscription(args, action):
        ...

and import the module below so the worker knows it.
"""

from functions.hooks import email, external_api, images, orders, reports, webhooks  # noqa: F401
