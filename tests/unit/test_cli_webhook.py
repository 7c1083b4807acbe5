"""``actionsctl webhook send`` against a throwaway HTTP server on 127.0.0.1.

Signatures are checked here with hashlib/hmac directly, not with the schemes the CLI
signs with, so a wrong scheme or secret fails these tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from infra.cli.main import main

GITHUB_SECRET = b"local-github-secret"
STRIPE_SECRET = b"whsec_local_stripe_secret"


@dataclass
class Receiver:
    port: int
    status: int = 202
    answer: dict = field(default_factory=lambda: {"status": "accepted"})
    requests: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/webhooks/"

    @property
    def only(self) -> dict:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


@pytest.fixture
def receiver(monkeypatch) -> Iterator[Receiver]:
    monkeypatch.delenv("ACTIONS_WEBHOOK_URL", raising=False)
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                {
                    "method": "POST",
                    "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": self.rfile.read(length),
                }
            )
            answer = json.dumps(state.answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def test_sends_the_github_sample_signed_with_the_demo_secret(receiver, capsys):
    assert main(["webhook", "send", "github", "--url", receiver.url]) == 0

    request = receiver.only
    assert request["path"] == "/v1/webhooks/github"
    body = request["body"]
    assert json.loads(body)["issue"]["number"] == 1347
    assert request["headers"]["x-hub-signature-256"] == "sha256=" + _hex(GITHUB_SECRET, body)
    assert request["headers"]["x-github-event"] == "issues"
    assert request["headers"]["x-github-delivery"]
    assert request["headers"]["content-type"] == "application/json"
    out = capsys.readouterr().out
    assert "202" in out.splitlines()[0]
    assert json.loads(out.splitlines()[1]) == {"status": "accepted"}


def test_stripe_sample_is_signed_now(receiver):
    before = int(time.time())
    assert main(["webhook", "send", "stripe", "--url", receiver.url]) == 0
    after = int(time.time())

    request = receiver.only
    assert request["path"] == "/v1/webhooks/stripe"
    parts = dict(item.split("=", 1) for item in request["headers"]["stripe-signature"].split(","))
    assert before <= int(parts["t"]) <= after
    assert parts["v1"] == _hex(STRIPE_SECRET, f"{parts['t']}.".encode() + request["body"])


def test_another_sample_by_name(receiver):
    assert main(["webhook", "send", "github", "--sample", "tampered", "--url", receiver.url]) == 0

    request = receiver.only
    body = request["body"]
    assert b'"tampered": true' in body
    # The tampered sample carries the signature of the untampered body.
    assert request["headers"]["x-hub-signature-256"] != "sha256=" + _hex(GITHUB_SECRET, body)


def test_custom_body_is_signed_with_the_source_scheme(receiver):
    body = '{"action": "closed", "number": 7}'
    code = main(
        [
            "webhook",
            "send",
            "github",
            "--url",
            receiver.url,
            "--body",
            body,
            "--delivery-id",
            "d-123",
            "--event-type",
            "pull_request",
        ]
    )
    assert code == 0

    request = receiver.only
    assert request["body"] == body.encode()
    assert request["headers"]["x-hub-signature-256"] == "sha256=" + _hex(
        GITHUB_SECRET, body.encode()
    )
    assert request["headers"]["x-github-delivery"] == "d-123"
    assert request["headers"]["x-github-event"] == "pull_request"


def test_custom_body_from_a_file_with_a_given_secret(receiver, tmp_path):
    path = tmp_path / "payload.json"
    path.write_bytes(b'{"type": "order.paid", "id": 9}')
    code = main(
        ["webhook", "send", "hmac", "--url", receiver.url, "--body", f"@{path}", "--secret", "s3"]
    )
    assert code == 0

    request = receiver.only
    assert request["path"] == "/v1/webhooks/hmac"
    assert request["body"] == path.read_bytes()
    assert request["headers"]["x-signature"] == _hex(b"s3", path.read_bytes())
    assert request["headers"]["x-event-type"] == "order.paid"  # the body's type
    assert request["headers"]["x-idempotency-key"]


def test_custom_stripe_body_is_signed_now(receiver):
    body = b'{"id": "evt_1", "type": "charge.succeeded"}'
    before = int(time.time())
    assert main(["webhook", "send", "stripe", "--url", receiver.url, "--body", body.decode()]) == 0

    parts = dict(
        item.split("=", 1) for item in receiver.only["headers"]["stripe-signature"].split(",")
    )
    assert before <= int(parts["t"]) <= int(time.time())
    assert parts["v1"] == _hex(STRIPE_SECRET, f"{parts['t']}.".encode() + body)


def test_a_refusal_exits_1_and_shows_the_answer(receiver, capsys):
    receiver.status = 401
    receiver.answer = {"error": "invalid_signature"}

    assert main(["webhook", "send", "github", "--url", receiver.url]) == 1

    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("HTTP 401")
    assert "invalid_signature" in out


def test_url_from_the_environment(receiver, monkeypatch):
    monkeypatch.setenv("ACTIONS_WEBHOOK_URL", receiver.url)
    assert main(["webhook", "send", "shopify"]) == 0
    assert receiver.only["path"] == "/v1/webhooks/shopify"


def _stack(name: str, outputs: dict[str, str]) -> None:
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
        ),
    )


def test_url_from_the_stack_output(aws, receiver, monkeypatch):
    monkeypatch.setenv("ACTION_SCHEDULER_STACK", "")
    _stack("Other", {"WebhookUrl": receiver.url})

    assert main(["webhook", "send", "standard", "--stack", "Other"]) == 0

    assert receiver.only["path"] == "/v1/webhooks/standard"
    assert receiver.only["headers"]["webhook-signature"].startswith("v1,")


BILLING = {
    "scheme": "hmac",
    "header": "X-Billing-Signature",
    "encoding": "base64",
    "prefix": "sha256=",
    "secret": "Other/webhooks/billing",
}


def test_any_source_the_stack_configures_is_signed_with_its_own_scheme(
    aws, receiver, monkeypatch, capsys
):
    _stack(
        "Other",
        {
            "WebhookUrl": receiver.url,
            "WebhookSources": json.dumps({"billing": BILLING, "github": {"scheme": "github"}}),
        },
    )
    monkeypatch.setenv("ACTION_SCHEDULER_STACK", "Other")
    from infra.local.demo_secrets import demo_secret

    assert main(["webhook", "send", "billing"]) == 0
    assert main(["webhook", "send", "billing", "--body", '{"type": "paid"}', "--secret", "s3"]) == 0

    sample, body = receiver.requests
    assert sample["path"] == "/v1/webhooks/billing"
    digest = hmac.new(demo_secret("billing").encode(), sample["body"], hashlib.sha256).digest()
    assert sample["headers"]["x-billing-signature"] == "sha256=" + base64.b64encode(digest).decode()
    digest = hmac.new(b"s3", b'{"type": "paid"}', hashlib.sha256).digest()
    assert body["headers"]["x-billing-signature"] == "sha256=" + base64.b64encode(digest).decode()

    # A source the stack does not configure is refused, with the ones it does.
    capsys.readouterr()
    assert main(["webhook", "send", "stripe"]) == 2
    assert capsys.readouterr().err == (
        "actionsctl: error: unknown source 'stripe'; the configured sources: billing, github\n"
    )
    assert len(receiver.requests) == 2


def test_nothing_listening_is_a_one_line_error(capsys, monkeypatch):
    monkeypatch.delenv("ACTIONS_WEBHOOK_URL", raising=False)
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    code = main(["webhook", "send", "github", "--url", f"http://127.0.0.1:{port}/v1/webhooks/"])

    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("actionsctl: error: cannot reach http://127.0.0.1:")
    assert "/v1/webhooks/github" in lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["github", "--sample", "nope"], "no sample 'nope'; samples: github.form-encoded"),
        (["github", "--sample", "stripe.valid"], "is sent to source 'stripe'"),
        (["github", "--body", "{}", "--sample", "valid"], "cannot be used together"),
        (["github", "--secret", "x"], "--secret only apply with --body"),
    ],
)
def test_usage_errors_send_nothing(receiver, capsys, argv, message):
    assert main(["webhook", "send", *argv, "--url", receiver.url]) == 2
    assert message in capsys.readouterr().err
    assert receiver.requests == []


@pytest.mark.parametrize("body", [[], ["--body", "{}"]])
def test_an_unknown_source_is_refused_with_the_configured_ones(receiver, capsys, body):
    # With --url, the sources are the CDK context's here (cdk.json): the example five.
    assert main(["webhook", "send", "gitlab", *body, "--url", receiver.url]) == 2
    assert capsys.readouterr().err == (
        "actionsctl: error: unknown source 'gitlab'; the configured sources: github, hmac, "
        "shopify, standard, stripe\n"
    )
    assert receiver.requests == []


def test_a_non_http_url_is_refused(capsys, tmp_path):
    assert main(["webhook", "send", "github", "--url", f"file://{tmp_path}/"]) == 1
    assert "is not an http(s) URL" in capsys.readouterr().err


def test_standard_sample_verifies_with_the_decoded_demo_key(receiver):
    assert main(["webhook", "send", "standard", "--url", receiver.url]) == 0
    headers, body = receiver.only["headers"], receiver.only["body"]
    key = base64.b64decode(b"bG9jYWwtc3RhbmRhcmQtd2ViaG9va3Mtc2VjcmV0")  # the demo key
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
