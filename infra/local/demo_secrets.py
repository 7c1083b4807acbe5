"""Signing secrets of the local cloud and the sample events. Public, for local use only.

A deployed stack never sees these: its secrets are generated in Secrets Manager
or put there by the operator (README, "Webhook sources").
"""

from __future__ import annotations

import base64
import json

DEMO_SECRETS: dict[str, str] = {
    "github": "local-github-secret",
    "stripe": "whsec_local_stripe_secret",
    "shopify": "local-shopify-secret",
    "standard": "whsec_" + base64.b64encode(b"local-standard-webhooks-secret").decode(),
    "hmac": "local-hmac-secret",
}


def demo_secret_value(name: str) -> str | None:
    """The local value of a webhook source's secret, by its name (``.../webhooks/<source>``):
    what ``deploy``'s ``secret_values`` takes."""
    source = name.rsplit("/", 1)[-1]
    return json.dumps([DEMO_SECRETS[source]]) if source in DEMO_SECRETS else None
