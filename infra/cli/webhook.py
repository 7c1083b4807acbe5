"""``actionsctl webhook send``: sign and POST a webhook the way the source's sender would.

Any configured source: the stack's (its ``WebhookSources`` output), or with ``--url`` those
of the CDK context here (cdk.json, cdk.context.json), each signed with its own scheme and
options. Sends a sample event (``--sample``, ``<SOURCE>.valid`` by default) signed now
with the local demo secret, or ``--body`` signed with ``--secret`` (default: the demo
secret). The URL is ``--url``, else ``ACTIONS_WEBHOOK_URL``, else the stack's
``WebhookUrl`` output, plus ``/<SOURCE>``. Prints the status and body; exits 0 on a 2xx
answer, 1 otherwise or when nothing answers, 2 for an unknown source or sample.
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
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from infra.cli.errors import CliError
from infra.cli.settings import all_outputs, stack_name

if TYPE_CHECKING:
    from functions.webhooks.config import SourceConfig

URL_VARIABLE = "ACTIONS_WEBHOOK_URL"
URL_OUTPUT = "WebhookUrl"
SOURCES_OUTPUT = "WebhookSources"
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
    send.add_argument(
        "source", metavar="SOURCE", help="a configured source: github, stripe, ... (see the list)"
    )
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
        "--secret",
        help="with --body: the signing secret (default: SOURCE's local demo secret, which "
        "the local cloud gives it)",
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
    url, sources = target(args)
    try:
        if args.body is None:
            headers, body = sample_request(args.source, args.sample, sources)
        else:
            headers, body = signed_request(args, read_body(args.body), sources)
    except _UsageError as exc:
        return _refuse(str(exc))
    status, reason, answer = post(
        f"{url.rstrip('/')}/{quote(args.source, safe='')}", headers, body, timeout=args.timeout
    )
    print(f"HTTP {status} {reason}".rstrip())
    if answer:
        print(answer.decode("utf-8", errors="replace"))
    return 0 if 200 <= status < 300 else 1


class _UsageError(Exception):
    pass


def _refuse(message: str) -> int:
    print(f"actionsctl: error: {message}", file=sys.stderr)
    return 2


def sample_request(
    source: str, name: str | None, sources: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, str], bytes]:
    """The headers and body of a sample event for one of ``sources``, signed now."""
    from infra.local import sample_events

    now = int(time.time())
    samples = {sample.name: sample for sample in sample_events.build(now, sources)}
    # The example sources' extra samples (github.form-encoded, unknown-source...), where
    # the deployment configures that source as the example does (or, for unknown-source,
    # not at all).
    configs, examples = sample_events.configured(sources), sample_events.configured()
    for extra in sample_events.build(now):
        its = _sample_source(extra.event)
        if its in configs:
            wanted_here = _same(configs[its], examples.get(its))
        else:
            wanted_here = extra.expected_error == "unknown_source"
        if wanted_here:
            samples.setdefault(extra.name, extra)
    wanted = name or f"{source}.valid"
    if wanted not in samples and f"{source}.{wanted}" in samples:
        wanted = f"{source}.{wanted}"
    sample = samples.get(wanted)
    if source not in configs and (sample is None or name is None):
        raise _UsageError(_unknown(source, sources))
    if sample is None:
        own = sorted(n for n in samples if _sample_source(samples[n].event) == source)
        raise _UsageError(f"no sample {wanted!r}; samples: {', '.join(own)}")
    sample_source = _sample_source(sample.event)
    if sample_source != source:
        raise _UsageError(
            f"sample {sample.name!r} is sent to source {sample_source!r}, not {source!r}"
        )
    event = sample.event
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    return dict(event.get("headers") or {}), body


def _same(config: SourceConfig, example: SourceConfig | None) -> bool:
    """The same scheme and options (the secret's name aside)."""
    if example is None:
        return False
    return config.options() == example.options()


def _unknown(source: str, sources: dict[str, dict[str, Any]] | None) -> str:
    from infra.local import sample_events

    names = ", ".join(sorted(sample_events.configured(sources)))
    return f"unknown source {source!r}; the configured sources: {names}"


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
    args: argparse.Namespace, body: bytes, sources: dict[str, dict[str, Any]] | None
) -> tuple[dict[str, str], bytes]:
    """The headers ``args.source``'s sender puts on ``body``, signed with its scheme now,
    with ``args.secret``, ``args.delivery_id`` and ``args.event_type`` where given."""
    from infra.local import sample_events
    from infra.local.demo_secrets import demo_secret

    source = args.source
    configs: dict[str, SourceConfig] = sample_events.configured(sources)
    if source not in configs:
        raise _UsageError(_unknown(source, sources))
    event_type = _payload_type(body) if args.event_type is None else args.event_type
    try:
        signed = (
            configs[source]
            .build()
            .sign(
                body,
                demo_secret(source) if args.secret is None else args.secret,
                delivery_id=args.delivery_id or str(uuid.uuid4()),
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


def target(args: argparse.Namespace) -> tuple[str, dict[str, dict[str, Any]] | None]:
    """Where to send, and the configured sources (None: the example five).

    ``--url`` or ``ACTIONS_WEBHOOK_URL``, with the sources of the CDK context here; else
    the stack's ``WebhookUrl`` and ``WebhookSources`` outputs.
    """
    url = args.url or os.environ.get(URL_VARIABLE)
    if url:
        return url, _context_sources()
    name = stack_name(args.stack)
    outputs = all_outputs(name)
    url = outputs.get(URL_OUTPUT)
    if not url:
        raise CliError(f"stack {name!r} has no output {URL_OUTPUT} ({URL_HINT})")
    raw = outputs.get(SOURCES_OUTPUT)
    return url, json.loads(raw) if raw else _context_sources()


def _context_sources() -> dict[str, dict[str, Any]] | None:
    """``webhookSources`` of the CDK context in this directory, as ``make run`` deploys it."""
    from infra import context

    try:
        sources = context.load().get("webhookSources")
    except context.ContextError as exc:
        raise CliError(str(exc)) from None
    if isinstance(sources, str):  # as -c gives it
        sources = json.loads(sources)
    return sources if isinstance(sources, dict) else None


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
        raise CliError(f"cannot reach {url}: {exc.reason}{_local_hint(parts.hostname)}") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, bad answers
        raise CliError(f"cannot reach {url}: {exc}{_local_hint(parts.hostname)}") from None


def _local_hint(host: str | None) -> str:
    """For a loopback URL: the local cloud is what should be answering there."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        return ""
    return " (is the local cloud running? `make run`; its API port is LOCAL_API_PORT, 8000)"
