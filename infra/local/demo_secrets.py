"""Signing secrets of the local cloud and the sample events. Public, for local use only.

Each of the five example sources has its own; any other source configured in the CDK
context gets ``demo_secret(source)``: ``whsec_`` and base64, which every scheme takes
(Standard Webhooks decodes it, the others sign with it as text). A deployed stack never
sees these: its secrets are generated in Secrets Manager or put there by the operator
(docs/guides/webhooks.md, "Webhook sources").
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
# The stack names each source's secret <stackName>/webhooks/<source>.
_SECRET_PATH = "/webhooks/"  # noqa: S105 - a name, not a secret


def demo_secret(source: str) -> str:
    """The local signing secret of any source."""
    known = DEMO_SECRETS.get(source)
    return known or "whsec_" + base64.b64encode(f"local-{source}-secret".encode()).decode()


def demo_secret_value(name: str) -> str | None:
    """The local value of a webhook source's secret, by its name (``.../webhooks/<source>``):
    what ``deploy``'s ``secret_values`` takes. Other secrets keep the template's value."""
    if _SECRET_PATH not in name:
        return None
    return json.dumps([demo_secret(name.rsplit("/", 1)[-1])])
