"""Signing secrets of the local cloud and the sample events. Public, for local use only.

A deployed stack never sees these: its secrets are generated in Secrets Manager
or put there by the operator (README, "Webhook sources").
"""

from __future__ import annotations

import base64

DEMO_SECRETS: dict[str, str] = {
    "github": "local-github-secret",
    "stripe": "whsec_local_stripe_secret",
    "shopify": "local-shopify-secret",
    "standard": "whsec_" + base64.b64encode(b"local-standard-webhooks-secret").decode(),
    "hmac": "local-hmac-secret",
}
