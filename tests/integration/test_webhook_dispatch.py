"""The webhook handler dispatches its one route exactly as Powertools' REST resolver would.

The handler routes ``POST /webhooks/{source}`` itself (no event handler package at cold
start); ``functions/handlers/webhook_openapi.py`` declares the same route on
``APIGatewayRestResolver``. Both are given the same requests here, on moto, and must
give the same answers: status, headers and body, byte for byte.
Why: docs/decisions/0070-handlers-import-what-a-request-needs.md
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

import pytest

from functions.handlers import webhook
from functions.handlers.webhook_openapi import app
from infra.local.lambda_runtime import LocalContext, rest_proxy_event, webhook_event

BODY = json.dumps({"action": "opened", "number": 7}).encode()


def _both(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    context = LocalContext(function_name="webhook")
    ours = webhook.resolve(copy.deepcopy(event), context)
    theirs = app.resolve(copy.deepcopy(event), context)
    return ours, theirs


def _signed(stack, body: bytes = BODY, delivery_id: str | None = None) -> dict[str, str]:
    delivery_id = delivery_id or f"github-{uuid.uuid4()}"
    return stack.signed("github", body, delivery_id, event_type="pull_request")


def _requests(stack) -> dict[str, dict[str, Any]]:
    signed = _signed(stack)
    bad_base64 = webhook_event("github", signed, BODY)
    bad_base64["body"] = "not base64!"
    no_headers = webhook_event("github", {}, BODY)
    no_headers["headers"] = None
    return {
        "unsigned": webhook_event("github", {}, BODY),
        "no headers at all": no_headers,
        "wrong signature": webhook_event("github", {**signed, "X-Hub-Signature-256": "x"}, BODY),
        "unknown source": webhook_event("nobody", signed, BODY),
        "source with URI characters": webhook_event("a~b(c)!$", signed, BODY),
        "not base64": bad_base64,
        "not JSON": webhook_event("github", _signed(stack, b"{"), b"{"),
        "plain text body, wrong signature": webhook_event(
            "github", {**signed, "X-Hub-Signature-256": "x"}, BODY, base64_encoded=False
        ),
        "GET": rest_proxy_event(
            "GET", "/webhooks/github", resource="/webhooks/{source}", headers=signed, body=BODY
        ),
        "post in lower case": {**webhook_event("github", {}, BODY), "httpMethod": "post"},
        "no source": {**webhook_event("github", signed, BODY), "path": "/webhooks/"},
        "two segments": {**webhook_event("github", signed, BODY), "path": "/webhooks/a/b"},
        "another path": {**webhook_event("github", signed, BODY), "path": "/hooks/github"},
    }


@pytest.mark.parametrize(
    "name",
    [
        "unsigned",
        "no headers at all",
        "wrong signature",
        "unknown source",
        "source with URI characters",
        "not base64",
        "not JSON",
        "plain text body, wrong signature",
        "GET",
        "post in lower case",
        "no source",
        "two segments",
        "another path",
    ],
)
def test_a_refused_request_is_answered_as_the_resolver_answers_it(stack, name):
    ours, theirs = _both(_requests(stack)[name])

    assert ours == theirs
    assert json.dumps(ours) == json.dumps(theirs)  # the same order of keys, too
    assert ours["statusCode"] >= 400
    assert stack.queue_depth() == 0


def test_an_accepted_delivery_and_its_repeat_are_answered_as_the_resolver_answers_them(stack):
    # Header names in capitals and trailing slashes: both dispatches take them.
    shouted = {name.upper(): value for name, value in _signed(stack, delivery_id="d-1").items()}
    first = {**webhook_event("github", shouted, BODY), "path": "/webhooks/github//"}
    other_body = json.dumps({"action": "closed"}).encode()
    second = webhook_event("github", _signed(stack, other_body, "d-2"), other_body)
    context = LocalContext(function_name="webhook")

    ours = webhook.resolve(first, context)
    theirs = app.resolve(second, context)

    assert (ours["statusCode"], theirs["statusCode"]) == (202, 202)
    assert ours["multiValueHeaders"] == theirs["multiValueHeaders"]
    assert list(ours) == list(theirs)
    assert json.loads(ours["body"]).keys() == json.loads(theirs["body"]).keys()
    # A repeat is answered alike by both: the first answer, as 200.
    repeat_ours, repeat_theirs = _both(first)
    assert json.dumps(repeat_ours) == json.dumps(repeat_theirs)
    assert repeat_ours["statusCode"] == 200
    assert json.loads(repeat_ours["body"]) == json.loads(ours["body"])
    assert json.loads(ours["body"])["delivery_id"] == "d-1"
    assert base64.b64decode(first["body"]) == BODY
