"""``actionsctl webhook send``: sign and POST a webhook the way the source's sender would.

Sends a sample event (``--sample``, ``<SOURCE>.valid`` by default) signed now with the local
demo secrets, or ``--body`` signed with ``--secret``. The URL is ``--url``, else
``ACTIONS_WEBHOOK_URL``, else the stack's ``WebhookUrl`` output, plus ``/<SOURCE>``. Prints
the status and body; exits 0 on a 2xx answer, 1 otherwise or when nothing answers.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from infra.cli.errors import CliError
from infra.cli.settings import all_outputs, stack_name

URL_VARIABLE = "ACTIONS_WEBHOOK_URL"
URL_OUTPUT = "WebhookUrl"
URL_HINT = f"pass --url URL, set {URL_VARIABLE}, or pass --stack NAME"
SIGNING_OPTIONS = ("secret", "delivery_id", "event_type")


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    webhook = commands.add_parser("webhook", help="send signed webhooks to the receiver")
    sub = webhook.add_subparsers(dest="webhook_command", required=True)
    send = sub.add_parser(
        "send",
        parents=[common],
        help="sign and POST a webhook as SOURCE's sender would",
        description=(
            "Sign and POST a webhook to <url>/SOURCE as SOURCE's sender would: the "
            "sample <SOURCE>.valid (or --sample NAME), or --body signed with SOURCE's "
            "scheme. The URL is --url, else $ACTIONS_WEBHOOK_URL, else the stack's "
            "WebhookUrl output. Prints the HTTP status and the response body; exits 0 "
            "on 2xx, else 1."
        ),
    )
    send.add_argument("source", metavar="SOURCE", help="the source: github, stripe, ...")
    send.add_argument(
        "--sample",
        metavar="NAME",
        help="the sample to send: SOURCE.valid (the default), SOURCE.tampered, "
        "SOURCE.stale, ...; SOURCE. may be left out",
    )
    send.add_argument(
        "--url",
        metavar="URL",
        help=f"the receiver's base URL, ending in /webhooks/ (default: ${URL_VARIABLE}, "
        f"else the stack's {URL_OUTPUT} output)",
    )
    send.add_argument(
        "--body",
        metavar="JSON_OR_@FILE",
        help="send this body (or the content of FILE), signed with SOURCE's scheme",
    )
    send.add_argument(
        "--secret", help="with --body: the signing secret (default: SOURCE's local demo secret)"
    )
    send.add_argument(
        "--delivery-id", metavar="ID", help="with --body: the delivery id (default: a new UUID)"
    )
    send.add_argument(
        "--event-type",
        metavar="T",
        help='with --body: the event type (default: the body\'s "type", if any)',
    )
    send.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="give up waiting for an answer after SECONDS (30)",
    )
    send.set_defaults(handler=send_command)


def send_command(args: argparse.Namespace) -> int:
    if args.body is not None and args.sample is not None:
        return _refuse("--body and --sample cannot be used together")
    if args.body is None:
        given = [f"--{name.replace('_', '-')}" for name in SIGNING_OPTIONS if getattr(args, name)]
        if given:
            return _refuse(f"{', '.join(given)} only apply with --body")
        try:
            headers, body = sample_request(args.source, args.sample)
        except _UsageError as exc:
            return _refuse(str(exc))
    else:
        headers, body = signed_request(
            args.source,
            read_body(args.body),
            secret=args.secret,
            delivery_id=args.delivery_id,
            event_type=args.event_type,
        )
    target = f"{webhook_url(args).rstrip('/')}/{quote(args.source, safe='')}"
    status, reason, answer = post(target, headers, body, timeout=args.timeout)
    print(f"HTTP {status} {reason}".rstrip())
    if answer:
        print(answer.decode("utf-8", errors="replace"))
    return 0 if 200 <= status < 300 else 1


class _UsageError(Exception):
    pass


def _refuse(message: str) -> int:
    print(f"actionsctl: error: {message}", file=sys.stderr)
    return 2


def sample_request(source: str, name: str | None) -> tuple[dict[str, str], bytes]:
    """The headers and body of a sample event, signed now."""
    from infra.local import sample_events

    samples = {sample.name: sample for sample in sample_events.build(now=int(time.time()))}
    wanted = name or f"{source}.valid"
    if wanted not in samples and f"{source}.{wanted}" in samples:
        wanted = f"{source}.{wanted}"
    sample = samples.get(wanted)
    if sample is None:
        own = sorted(n for n in samples if _sample_source(samples[n].event) == source)
        choices = own or sorted(samples)
        raise _UsageError(f"no sample {wanted!r}; samples: {', '.join(choices)}")
    sample_source = _sample_source(sample.event)
    if sample_source != source:
        raise _UsageError(
            f"sample {sample.name!r} is sent to source {sample_source!r}, not {source!r}"
        )
    event = sample.event
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    return dict(event.get("headers") or {}), body


def _sample_source(event: dict[str, Any]) -> str:
    return str((event.get("pathParameters") or {}).get("source", ""))


def read_body(value: str) -> bytes:
    """``--body``: the text itself, or with a leading ``@`` the content of that file."""
    if not value.startswith("@"):
        return value.encode("utf-8")
    path = Path(value[1:])
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the body from {str(path)!r}: {exc.strerror or exc}") from None


def signed_request(
    source: str,
    body: bytes,
    *,
    secret: str | None = None,
    delivery_id: str | None = None,
    event_type: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """The headers SOURCE's sender puts on ``body``, signed with its scheme now."""
    from functions.webhooks.config import parse_sources
    from infra.config import DEFAULT_SOURCES
    from infra.local.demo_secrets import DEMO_SECRETS

    sources = parse_sources(
        json.dumps({name: {**spec, "secret": name} for name, spec in DEFAULT_SOURCES.items()})
    )
    if source not in sources:
        raise CliError(
            f"unknown source {source!r}: --body is signed with the scheme of one of "
            f"{', '.join(sorted(sources))}"
        )
    if secret is None:
        secret = DEMO_SECRETS.get(source)
        if secret is None:
            raise CliError(f"no local demo secret for {source!r}; pass --secret")
    if event_type is None:
        event_type = _payload_type(body)
    try:
        signed = (
            sources[source]
            .build()
            .sign(
                body,
                secret,
                delivery_id=delivery_id or str(uuid.uuid4()),
                event_type=event_type,
            )
        )
    except ValueError as exc:
        raise CliError(f"cannot sign for {source!r}: {exc}") from None
    headers = {"content-type": "application/json", "user-agent": "actionsctl", **signed}
    # As senders spell them on the wire (the receiver matches names case-insensitively).
    return {"-".join(p.capitalize() for p in n.split("-")): v for n, v in headers.items()}, body


def _payload_type(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) else ""


def webhook_url(args: argparse.Namespace) -> str:
    """``--url``, else ``ACTIONS_WEBHOOK_URL``, else the stack's ``WebhookUrl`` output."""
    url = args.url or os.environ.get(URL_VARIABLE)
    if not url:
        name = stack_name(args.stack)
        url = all_outputs(name, hint=URL_HINT).get(URL_OUTPUT)
        if not url:
            raise CliError(f"stack {name!r} has no output {URL_OUTPUT} ({URL_HINT})")
    return url


def post(
    url: str, headers: dict[str, str], body: bytes, *, timeout: float
) -> tuple[int, str, bytes]:
    """POST; the status, reason and body of any HTTP answer. No answer is a ``CliError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only, checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.reason or "", response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.reason or "", exc.read()
    except urllib.error.URLError as exc:
        raise CliError(f"cannot reach {url}: {exc.reason}") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, bad answers
        raise CliError(f"cannot reach {url}: {exc}") from None
