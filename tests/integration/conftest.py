"""The stack on moto for the integration tests (tests/deployed.py), with the handlers
called in this process."""

from __future__ import annotations

import base64
import json
import math
import sys
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions.actions.budget import WORKER_TIMEOUT_SECONDS
from functions.handlers.webhook import lambda_handler
from functions.webhooks.config import parse_sources
from infra.gateway import GATEWAY_ANSWERS
from infra.local.demo_secrets import DEMO_SECRETS
from infra.local.lambda_runtime import LocalContext, webhook_event
from tests.conftest import reset_process_state
from tests.deployed import _PER_FUNCTION, Resources, deploy_stack

# The credentials the tests sign with (tests/conftest.py): the "gateway" knows them.
SIGNER_KEY, SIGNER_SECRET = "testing", "testing"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class WebhookStack:
    """The webhook receiver on moto, driven through its Lambda handler."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.sqs = boto3.client("sqs")
        self.dynamodb = boto3.client("dynamodb")
        self.secretsmanager = boto3.client("secretsmanager")

    def post(
        self, source: str, body: bytes, headers: dict[str, str], *, base64_encoded: bool = True
    ) -> Answer:
        event = webhook_event(source, headers, body, base64_encoded=base64_encoded)
        response = lambda_handler(event, LocalContext(function_name="webhook"))
        raw = response["body"]
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = values[-1]
        return Answer(response["statusCode"], json.loads(raw), headers)

    def signed(self, source: str, body: bytes, delivery_id: str, **kwargs: Any) -> dict:
        """Headers as the source's sender would send them, signed with its demo secret."""
        sources = parse_sources(self.resources.environment["WEBHOOK_SOURCES"])
        scheme = sources[source].build()
        secret = kwargs.pop("secret", DEMO_SECRETS.get(source, ""))
        return scheme.sign(body, secret, delivery_id=delivery_id, **kwargs)

    def messages(self, queue_url: str | None = None) -> list[dict]:
        """Every message on the queue, left invisible so a second call does not repeat them."""
        url = queue_url or self.resources.queue_url
        found: list[dict] = []
        while batch := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", []):
            found.extend(json.loads(message["Body"]) for message in batch)
        return found

    def queue_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def idempotency_records(self) -> list[dict]:
        return self.dynamodb.scan(TableName=self.resources.table_name)["Items"]

    def set_secrets(self, source: str, secrets: list[str] | str) -> None:
        value = secrets if isinstance(secrets, str) else json.dumps(secrets)
        self.secretsmanager.put_secret_value(
            SecretId=self.resources.secret_names[source], SecretString=value
        )
        reset_process_state()


@pytest.fixture
def stack(aws, synthesized, monkeypatch) -> WebhookStack:
    template, _ = synthesized
    resources = deploy_stack(template)
    for name, value in resources.environment.items():
        monkeypatch.setenv(name, value)
    reset_process_state()
    return WebhookStack(resources)


class FunctionTimedOut(BaseException):
    """Stands for Lambda ending an invocation at the function's timeout."""


class LambdaClock:
    """The worker's clock in a test: each invocation's deadline, and hooks that take time
    without sleeping (``spend``), past which the invocation times out as on Lambda."""

    def __init__(self) -> None:
        self.now = 0.0
        self.deadline = math.inf

    def __call__(self) -> float:
        return self.now

    def context(self, function_name: str) -> LocalContext:
        """The context of a new invocation: the worker's whole timeout ahead of it."""
        self.deadline = self.now + WORKER_TIMEOUT_SECONDS
        return LocalContext(function_name, timeout_seconds=WORKER_TIMEOUT_SECONDS, clock=self)

    def spend(self, seconds: float) -> None:
        self.now += seconds
        if self.now >= self.deadline:
            raise FunctionTimedOut(f"Task timed out after {WORKER_TIMEOUT_SECONDS} seconds")


class ActionsApi:
    """The actions API on moto, driven through its Lambda handler behind a stand-in of API
    Gateway's IAM check: each request is signed with botocore's SigV4 signer (or not, or
    wrongly), checked as the local cloud checks it (infra/local/sigv4.py) and, if it
    verifies, handed to the handler with the caller's identity in the request context."""

    URL = "https://api.example.test/v1"

    def __init__(self) -> None:
        self.handled = 0  # requests that reached the function

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: str = "",
        headers: dict[str, str] | None = None,
        signing: str = "signed",
        raw_body: bytes | None = None,
    ) -> Answer:
        """``signing``: ``signed``, ``unsigned``, ``wrong_secret`` or ``tampered`` (the body
        changed after signing)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        from infra.local import sigv4

        data = (
            raw_body
            if raw_body is not None
            else (b"" if body is None else json.dumps(body).encode())
        )
        url = f"{self.URL}{path}" + (f"?{query}" if query else "")
        request = AWSRequest(method=method, url=url, data=data, headers=headers or {})
        if signing != "unsigned":
            secret = "not-the-secret" if signing == "wrong_secret" else SIGNER_SECRET
            SigV4Auth(Credentials(SIGNER_KEY, secret), "execute-api", "us-east-1").add_auth(request)
        sent = dict(request.headers.items())
        sent["Host"] = "api.example.test"
        if signing == "tampered":
            data = data + b" "
        target = f"/v1{path}" + (f"?{query}" if query else "")
        try:
            identity = sigv4.verify(
                method=method,
                target=target,
                headers=list(sent.items()),
                body=data,
                credentials={SIGNER_KEY: SIGNER_SECRET},
                region="us-east-1",
            )
        except sigv4.Refusal as refusal:  # answered by the stack's gateway response
            answer = GATEWAY_ANSWERS[refusal.response_type]
            return Answer(403, {"error": answer.error, "message": refusal.message}, {})
        return self.handle(method, path, data, sent, query=query, identity=identity)

    def handle(
        self,
        method: str,
        path: str,
        data: bytes,
        headers: dict[str, str],
        *,
        query: str = "",
        identity: dict[str, Any] | None = None,
    ) -> Answer:
        """The handler's answer to the proxy event API Gateway would send it."""
        from urllib.parse import parse_qs, unquote

        from functions.handlers.actions_api import lambda_handler
        from infra.local.lambda_runtime import rest_proxy_event

        segments = path.strip("/").split("/")
        resource = "/" + "/".join(["actions", "{action_id}", "run"][: len(segments)])
        parameters = {"action_id": unquote(segments[1])} if len(segments) > 1 else None
        event = rest_proxy_event(
            method,
            path,
            resource=resource,
            path_parameters=parameters,
            headers=headers,
            body=data or None,
        )
        if query:
            multi = parse_qs(query, keep_blank_values=True)
            event["multiValueQueryStringParameters"] = multi
            event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()}
        event["requestContext"]["identity"].update(identity or {})
        self.handled += 1
        response = lambda_handler(event, LocalContext(function_name="actions-api"))
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = values[-1]
        raw = response["body"]
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        return Answer(response["statusCode"], json.loads(raw) if raw else {}, headers)


@pytest.fixture
def actions_api(stack) -> ActionsApi:
    return ActionsApi()


class Jobs:
    """The job runtime on moto: enqueue through the API, run the worker as SQS would."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.sqs = boto3.client("sqs")
        self.calls: list[tuple[str, Any, int]] = []

    def queue(self, name: str = "default"):
        return self.resources.queues[name]

    def work(
        self,
        queue: str = "default",
        *,
        rounds: int = 20,
        batch_size: int = 10,
        clock: LambdaClock | None = None,
    ):
        """Poll the queue until it is empty (or ``rounds`` run out); return each round.

        Each invocation gets the worker's timeout, on ``clock`` if one is given."""
        from functions.handlers.worker import lambda_handler
        from infra.local.pollers import Mapping, poll_once

        config = self.queue(queue)
        mapping = Mapping("worker", config.url, config.arn, batch_size=batch_size)

        def invoke(name: str, event: dict) -> Any:
            context = (
                clock.context(name)
                if clock
                else LocalContext(name, timeout_seconds=WORKER_TIMEOUT_SECONDS)
            )
            return lambda_handler(event, context)

        results = []
        for _ in range(rounds):
            result = poll_once(mapping, invoke, sqs=self.sqs)
            if not result.received:
                break
            results.append(result)
        return results

    def action(self, action_id: str):
        from functions.actions import store

        return store.get(action_id)

    def dead_letters(self, queue: str = "default") -> list[dict]:
        """Messages on the queue's dead-letter queue: body and attributes."""
        found = []
        url = self.queue(queue).dead_letter_url
        while batch := self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            found.extend(
                {
                    "body": json.loads(m["Body"]) if m["Body"].startswith("{") else m["Body"],
                    "attributes": {
                        k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()
                    },
                }
                for m in batch
            )
        return found

    def depth(self, queue: str = "default") -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue(queue).url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


@pytest.fixture
def jobs(stack) -> Jobs:
    return Jobs(stack.resources)


@pytest.fixture
def lambda_clock() -> LambdaClock:
    return LambdaClock()


@pytest.fixture
def register():
    """Register test hooks for one test; they are removed afterwards."""
    from functions.actions import hooks

    names: list[str] = []

    def _register(name: str, function, **policy):
        hooks.hook(name, **policy)(function)
        names.append(name)
        return function

    yield _register
    for name in names:
        hooks.unregister(name)


BROKEN_MODULE = """
from functions.actions.hooks import hook


@hook({name!r})
def broken(args, action):
    return None


raise RuntimeError({error!r})
"""


@pytest.fixture
def broken_hook_module(tmp_path, monkeypatch):
    """Make the manifest name the project's hooks and a module ``broken_hooks`` whose hook
    ``name`` is registered, then raises at import, as a synth before it broke wrote it."""
    from functions.actions import hooks, manifest
    from functions.actions.hooks import HookSpec
    from functions.hooks import MODULES

    def _broken(name: str, error: str = "the hook package is broken") -> None:
        (tmp_path / "broken_hooks.py").write_text(BROKEN_MODULE.format(name=name, error=error))
        monkeypatch.syspath_prepend(str(tmp_path))
        hooks.import_modules(list(MODULES))
        entries = {
            hook: manifest.describe(spec, hooks.module_of(hook))
            for hook, spec in hooks.registered_here().items()
            if hooks.module_of(hook).startswith("functions.hooks.")
        }
        stand_in = HookSpec(name=name, function=lambda args, action: None)
        entries[name] = manifest.describe(stand_in, "broken_hooks")
        written = manifest.Manifest(modules=(*MODULES, "broken_hooks"), hooks=entries)
        path = tmp_path / manifest.FILE_NAME
        path.write_text(written.to_json())
        monkeypatch.setenv(manifest.PATH_VARIABLE, str(path))
        hooks.forget_loading()

    yield _broken
    hooks.forget_loading()
    sys.modules.pop("broken_hooks", None)


class SqsClock:
    """Moto's SQS clock, moved forward so delays and visibility timeouts pass without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def sqs_clock(monkeypatch) -> SqsClock:
    import moto.sqs.models as sqs_models
    from moto.core.utils import unix_time

    clock = SqsClock()

    def shifted(dt=None) -> float:
        return unix_time(dt) + (0.0 if dt is not None else clock.offset)

    monkeypatch.setattr(sqs_models, "unix_time", shifted)
    monkeypatch.setattr(sqs_models, "unix_time_millis", lambda dt=None: shifted(dt) * 1000.0)
    return clock


class _CurrentStdout:
    """Writes to whatever sys.stdout is when a line is written (pytest swaps it per phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def printed(capsys, monkeypatch):
    """A function returning the JSON documents (log lines and EMF blobs) the functions
    printed since the last call."""
    import logging

    from functions.observability import logger

    # The logger's handler keeps the stdout of when it was made; make it this test's.
    for handler in logging.getLogger(logger.name).handlers:
        monkeypatch.setattr(handler, "stream", _CurrentStdout())
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    return read


@pytest.fixture
def log_lines(printed):
    """A function returning the functions' JSON log lines printed since the last call."""

    def read() -> list[dict[str, Any]]:
        return [doc for doc in printed() if "level" in doc and "_aws" not in doc]

    return read


class ConsoleApi:
    """The console's JSON API on moto, driven through its Lambda handler with the claims
    API Gateway's Cognito authorizer would pass (the token itself is checked by API
    Gateway, and by the local cloud in tests/local)."""

    def __init__(self, username: str = "olivia", groups: str | None = "operators") -> None:
        self.username = username
        self.groups = groups

    def as_user(self, username: str, groups: str | None) -> ConsoleApi:
        return ConsoleApi(username, groups)

    def request(
        self, method: str, path: str, body: Any = None, *, query: str = "", claims: bool = True
    ) -> Answer:
        from urllib.parse import parse_qs, unquote

        from functions.handlers.console import lambda_handler
        from infra.local.lambda_runtime import rest_proxy_event

        full = f"/console/api{path}"
        data = None if body is None else json.dumps(body).encode()
        segments = path.strip("/").split("/")
        parameters: dict[str, str] = {}
        if segments[0] == "actions" and len(segments) > 1 and segments[1] != "cancel":
            parameters["action_id"] = unquote(segments[1])
        if segments[0] == "dead-letters" and len(segments) > 1:
            parameters["queue"] = unquote(segments[1])
        event = rest_proxy_event(
            method, full, resource=full, path_parameters=parameters or None, body=data
        )
        if query:
            multi = parse_qs(query, keep_blank_values=True)
            event["multiValueQueryStringParameters"] = multi
            event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()}
        if claims:
            given = {"cognito:username": self.username, "sub": "0000-" + self.username}
            if self.groups is not None:
                given["cognito:groups"] = self.groups
            event["requestContext"]["authorizer"] = {"claims": given}
        response = lambda_handler(event, LocalContext(function_name="console"))
        raw = response["body"]
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        headers = dict(response.get("headers") or {})
        return Answer(response["statusCode"], json.loads(raw) if raw else {}, headers)

    def get(self, path: str, query: str = "") -> Answer:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any = None) -> Answer:
        return self.request("POST", path, body)


@pytest.fixture
def console(stack, monkeypatch) -> ConsoleApi:
    """The console API with its function's own variables (the Logs Insights link's log
    groups left out: it is tested on its own)."""
    for name, value in stack.resources.console_environment.items():
        if name not in {"CONSOLE_LOG_GROUPS", "POWERTOOLS_SERVICE_NAME"} | _PER_FUNCTION:
            monkeypatch.setenv(name, value)
    reset_process_state()
    return ConsoleApi()
