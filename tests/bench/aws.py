"""Shared by the sections: count AWS requests, record moto's answers, replay them with no HTTP.

- ``CallCounter`` slices the requests counted from botocore's ``before-send`` event
  (tests/conftest.py's ``record_aws_calls`` for our clients; ``attach`` for others).
- ``Recorder`` keeps moto's raw answers (``before-parse``) so that ``Replay`` can
  answer the same operations later at the HTTP layer, with botocore's own work
  (validation, serialization, signing, parsing) still done. Timed runs then measure
  our code and botocore, not moto.
- ``signed_github`` builds a GitHub-signed API Gateway event, a new delivery id each.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# The environment every section runs with: nothing reaches AWS; X-Ray is off (its SDK
# would be imported by each handler but not by the floor, see docs/figures.md).
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "ActionSchedulerBench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}

Answer = dict[str, Any]  # {"operation", "status", "headers", "body"} as moto sent it


def operation_of(event_name: str) -> tuple[str, str]:
    """``before-send.dynamodb.PutItem`` -> ("dynamodb", "PutItem")."""
    _, service, operation = event_name.split(".")[:3]
    return service, operation


@dataclass
class CallCounter:
    """Every request sent by the given clients, in order, as (service, operation)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def attach(self, clients: list[Any]) -> CallCounter:
        for client in clients:
            client.meta.events.register("before-send.*", self._record)
        return self

    def _record(self, event_name: str, **_: Any) -> None:
        self.calls.append(operation_of(event_name))

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[tuple[str, str]]]:
        """The calls made inside the block."""
        start = len(self.calls)
        made: list[tuple[str, str]] = []
        yield made
        made.extend(self.calls[start:])


@dataclass
class Recorder:
    """moto's raw answers, in order, for the clients it is attached to."""

    answers: list[Answer] = field(default_factory=list)

    def attach(self, clients: list[Any]) -> Recorder:
        """Record ``clients``' answers; a client attached twice still records each once."""
        for client in clients:
            client.meta.events.register(
                "before-parse.*", self._record, unique_id=f"bench-recorder-{id(self)}"
            )
        return self

    def _record(self, operation_model: Any, response_dict: dict, **_: Any) -> None:
        body = response_dict.get("body") or b""
        self.answers.append(
            {
                "operation": operation_model.name,
                "status": response_dict["status_code"],
                "headers": dict(response_dict.get("headers") or {}),
                "body": body.decode() if isinstance(body, bytes) else body,
            }
        )

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Answer]]:
        start = len(self.answers)
        kept: list[Answer] = []
        yield kept
        kept.extend(self.answers[start:])


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Replay:
    """Answers each operation with its recorded answers in turn (per operation, cycling).

    Installed under botocore's HTTP session, so every client of the process (ours,
    Powertools') goes through it and no socket is opened. An operation never recorded
    raises: the bench must measure the path it recorded, not a different one.
    """

    def __init__(self, answers: list[Answer]) -> None:
        self.sent = 0
        self.load(answers)

    def load(self, answers: list[Answer]) -> Replay:
        """Answer from ``answers`` from now on, from the first of each operation."""
        self._by_operation: dict[str, list[Answer]] = defaultdict(list)
        for answer in answers:
            self._by_operation[answer["operation"]].append(answer)
        self._next: dict[str, int] = defaultdict(int)
        return self

    def _operation(self, request: Any) -> str:
        target = request.headers.get("X-Amz-Target")
        if target:
            return (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        if len(self._by_operation) == 1:
            return next(iter(self._by_operation))
        raise RuntimeError(f"cannot tell the operation of {request.url}")

    def send(self, request: Any) -> Any:
        from botocore.awsrequest import AWSResponse, HeadersDict

        operation = self._operation(request)
        answers = self._by_operation.get(operation)
        if not answers:
            raise RuntimeError(f"no recorded answer for {operation}")
        answer = answers[self._next[operation] % len(answers)]
        self._next[operation] += 1
        self.sent += 1
        return AWSResponse(
            request.url,
            answer["status"],
            HeadersDict(answer["headers"]),
            _Raw(answer["body"].encode()),
        )

    @contextlib.contextmanager
    def installed(self) -> Iterator[Replay]:
        from botocore import httpsession

        original = httpsession.URLLib3Session.send
        replay = self
        httpsession.URLLib3Session.send = lambda _session, request: replay.send(request)  # type: ignore[method-assign]
        try:
            yield self
        finally:
            httpsession.URLLib3Session.send = original  # type: ignore[method-assign]


def github_headers(body: bytes, delivery_id: str, secret: str) -> dict[str, str]:
    """What GitHub sends: the scheme's own signature, plus the usual headers."""
    from functions.webhooks.config import parse_sources
    from infra.config import DEFAULT_SOURCES

    sources = parse_sources(json.dumps({"github": {**DEFAULT_SOURCES["github"], "secret": "x"}}))
    signed = (
        sources["github"].build().sign(body, secret, delivery_id=delivery_id, event_type="push")
    )
    return {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/bench", **signed}


def sample_body(n: int) -> bytes:
    """A push payload of a typical size (about 1 KB)."""
    commits = [{"id": f"{n:040x}", "message": "Fix the thing " * 4, "author": "dev"}] * 5
    return json.dumps({"ref": "refs/heads/main", "n": n, "commits": commits}).encode()


def signed_github(
    delivery_id: str, n: int = 0, *, secret: str | None = None, source: str = "github"
) -> dict[str, Any]:
    """The API Gateway event of a GitHub push to ``source``, signed with the local demo
    secret."""
    from infra.local.demo_secrets import DEMO_SECRETS
    from infra.local.lambda_runtime import webhook_event

    body = sample_body(n)
    headers = github_headers(body, delivery_id, secret or DEMO_SECRETS["github"])
    return webhook_event(source, headers, body)


def decoded_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
