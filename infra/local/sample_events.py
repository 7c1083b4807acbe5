"""The sample webhooks in ``events/webhooks/``: one per case and scheme, signed as senders do.

Each file is a real-shaped API Gateway event, signed with the local demo secrets
at a fixed time so the files are reproducible. Timestamped schemes (Stripe,
Standard Webhooks) go stale five minutes after signing, so ``make run`` and the
CLI rebuild the same samples at the current time with ``build(now)``. Given the
sources a deployment configures (``build(now, sources)``), every source gets its
``valid`` and ``tampered`` samples (``stale`` too for a timestamped scheme): the payload
of its scheme's example, signed with its own options and demo secret.

    python -m infra.local.sample_events      # rewrite events/webhooks/
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from functions.webhooks.config import SourceConfig, parse_sources
from infra.config import DEFAULT_SOURCES
from infra.local.demo_secrets import demo_secret
from infra.local.lambda_runtime import webhook_event

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "webhooks"
SIGNED_AT = 1_796_000_000  # 2026-11-29T08:53:20Z: the files' signing time


@dataclass(frozen=True)
class Sample:
    name: str
    event: dict[str, Any]
    expected_status: int
    expected_error: str | None = None


_PAYLOADS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # source: (delivery id, event type, payload)
    "github": (
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "issues",
        {"action": "opened", "issue": {"number": 1347, "title": "Found a bug"}},
    ),
    "stripe": (
        "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "payment_intent.succeeded",
        {
            "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "amount": 2000}},
        },
    ),
    "shopify": (
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "orders/create",
        {"id": 820982911946154508, "email": "jon@example.com", "total_price": "403.00"},
    ),
    "standard": (
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "invoice.paid",
        {"type": "invoice.paid", "timestamp": "2026-11-29T08:53:20Z", "data": {"id": "inv_1"}},
    ),
    "hmac": (
        "9f1d1f0a-6a55-4c2b-9a4e-3c7c1e2b8d10",
        "order.shipped",
        {"type": "order.shipped", "order_id": 42, "carrier": "UPS"},
    ),
}


def configured(sources: dict[str, dict[str, Any]] | None = None) -> dict[str, SourceConfig]:
    """The sources (as the CDK context or the stack's ``WebhookSources`` output gives them:
    the example five by default), each as the receiver reads it."""
    specs = DEFAULT_SOURCES if sources is None else sources
    return parse_sources(
        json.dumps({name: {"secret": name, **spec} for name, spec in specs.items()})
    )


def _signed(
    config: SourceConfig,
    source: str,
    body: bytes,
    now: int,
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    delivery_id, event_type, _ = _PAYLOADS[config.scheme]
    signed = config.build().sign(
        body, demo_secret(source), delivery_id=delivery_id, event_type=event_type, timestamp=now
    )
    merged = {"content-type": "application/json", "user-agent": f"{source}-sender", **signed}
    merged.update(headers or {})
    # As senders spell them on the wire; the receiver matches names case-insensitively.
    return {
        "-".join(part.capitalize() for part in name.split("-")): v for name, v in merged.items()
    }


def build(now: int = SIGNED_AT, sources: dict[str, dict[str, Any]] | None = None) -> list[Sample]:
    """Every sample, signed at ``now``, for ``sources`` (the example five by default)."""
    samples: list[Sample] = []
    every = configured(sources)
    for source, config in every.items():
        body = json.dumps(_PAYLOADS[config.scheme][2]).encode()
        headers = _signed(config, source, body, now)
        samples.append(Sample(f"{source}.valid", webhook_event(source, headers, body), 202))
        tampered = body.replace(b"}", b', "tampered": true}', 1)
        samples.append(
            Sample(
                f"{source}.tampered",
                webhook_event(source, headers, tampered),
                401,
                "invalid_signature",
            )
        )
    for source, config in every.items():
        if config.scheme not in ("stripe", "standard"):
            continue
        body = json.dumps(_PAYLOADS[config.scheme][2]).encode()
        stale = _signed(config, source, body, now - 3600)
        samples.append(
            Sample(
                f"{source}.stale",
                webhook_event(source, stale, body),
                401,
                "timestamp_out_of_tolerance",
            )
        )
    if sources is not None:
        return samples  # the extras below are the example sources' own
    examples = configured()
    form = urlencode({"payload": json.dumps(_PAYLOADS["github"][2])}).encode()
    form_headers = _signed(
        examples["github"],
        "github",
        form,
        now,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-github-delivery": "8a1c2b3d-cc78-11e3-81ab-4c9367dc0958",
        },
    )
    samples.append(Sample("github.form-encoded", webhook_event("github", form_headers, form), 202))
    not_json = b"order 42 shipped"
    samples.append(
        Sample(
            "hmac.not-json",
            webhook_event("hmac", _signed(examples["hmac"], "hmac", not_json, now), not_json),
            400,
            "malformed_payload",
        )
    )
    body = json.dumps(_PAYLOADS["github"][2]).encode()
    samples.append(
        Sample(
            "unknown-source",
            webhook_event("gitlab", _signed(examples["github"], "github", body, now), body),
            404,
            "unknown_source",
        )
    )
    return samples


def render(sample: Sample) -> str:
    """The file content: the event, with volatile request ids pinned for stable files."""
    event = json.loads(json.dumps(sample.event))
    context = event["requestContext"]
    context["requestId"] = context["extendedRequestId"] = f"sample-{sample.name}"
    context["requestTimeEpoch"] = SIGNED_AT * 1000
    return json.dumps(event, indent=2, sort_keys=True) + "\n"


def write(directory: Path = EVENTS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample in build():
        path = directory / f"{sample.name}.json"
        path.write_text(render(sample))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written.relative_to(EVENTS_DIR.parents[1]))
