"""The webhook receiver end to end through its Lambda handler, on moto."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import boto3
import pytest
import time_machine
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
)

from functions.actions.envelope import Envelope
from functions.webhooks.receiver import IDEMPOTENCY_KEY_PREFIX, action_id_for, dedupe_key

BODIES = {
    "github": {"action": "opened", "number": 7, "repository": {"full_name": "acme/app"}},
    "stripe": {"id": "evt_1", "type": "invoice.paid", "data": {"object": {"id": "in_1"}}},
    "shopify": {"id": 820982911946154508, "email": "jon@example.com"},
    "standard": {"type": "user.created", "timestamp": "2026-11-29T00:00:00Z", "data": {}},
    "hmac": {"type": "order.shipped", "order": 42},
}
EVENT_TYPES = {
    "github": "pull_request",
    "stripe": "invoice.paid",
    "shopify": "orders/create",
    "standard": "user.created",
    "hmac": "order.shipped",
}


# Sources whose scheme signs the body alone: accepted once per body (dedupe_signed_body).
BODY_KEYED = {"github", "shopify", "hmac"}


def _key(source: str, delivery_id: str, body: bytes) -> str:
    """The receiver's idempotency key for this delivery, as the sources are configured."""
    digest = hashlib.sha256(body).hexdigest()
    return dedupe_key(delivery_id, digest, by_body=source in BODY_KEYED)


def _delivery(source: str) -> str:
    return "evt_1" if source == "stripe" else f"{source}-{uuid.uuid4()}"


def _request(stack, source: str, **sign_kwargs):
    body = json.dumps(BODIES[source]).encode()
    delivery_id = _delivery(source)
    headers = stack.signed(source, body, delivery_id, event_type=EVENT_TYPES[source], **sign_kwargs)
    return body, headers, delivery_id


def _assert_nothing_stored(stack) -> None:
    assert stack.idempotency_records() == []
    assert stack.queue_depth() == 0


@pytest.mark.parametrize("source", sorted(BODIES))
def test_a_signed_delivery_is_queued_once_with_its_envelope(stack, source):
    body, headers, delivery_id = _request(stack, source)

    answer = stack.post(source, body, headers)

    assert answer.status == 202
    assert answer.body == {
        "delivery_id": delivery_id,
        "action_id": action_id_for(source, _key(source, delivery_id, body)),
        "status": "queued",
    }
    [message] = stack.messages()
    envelope = Envelope.from_dict(message)
    assert envelope.hook == "process_webhook"
    assert envelope.group == source
    assert envelope.action_id == answer.body["action_id"]
    assert envelope.correlation_id == delivery_id
    assert envelope.attempt == 1
    assert envelope.args == {
        "source": source,
        "event_type": EVENT_TYPES[source],
        "delivery_id": delivery_id,
        "payload": BODIES[source],
    }
    [record] = stack.idempotency_records()
    assert record["id"]["S"].startswith(f"{IDEMPOTENCY_KEY_PREFIX}#")
    assert record["status"]["S"] == "COMPLETED"
    assert int(record["expiration"]["N"]) > time.time() + 6 * 24 * 3600


@pytest.mark.parametrize("source", sorted(BODIES))
def test_a_repeat_answers_200_with_the_same_body_and_enqueues_nothing(stack, source):
    body, headers, _ = _request(stack, source)
    first = stack.post(source, body, headers)
    # A sender's retry: same delivery and body, signed anew a little later.
    retry_headers = stack.signed(
        source,
        body,
        first.body["delivery_id"],
        event_type=EVENT_TYPES[source],
        timestamp=int(time.time()) + 5,
    )

    second = stack.post(source, body, retry_headers)
    third = stack.post(source, body, headers)

    assert first.status == 202
    assert (second.status, second.body) == (200, first.body)
    assert (third.status, third.body) == (200, first.body)
    assert len(stack.messages()) == 1


@pytest.mark.parametrize("source", ["standard", "stripe"])
def test_the_same_delivery_id_with_another_body_is_refused(stack, source):
    body, headers, delivery_id = _request(stack, source)
    assert stack.post(source, body, headers).status == 202
    other = json.dumps({**BODIES[source], "number": 8}).encode()

    answer = stack.post(source, other, stack.signed(source, other, delivery_id))

    assert answer.status == 422
    assert answer.body["error"] == "delivery_conflict"
    assert delivery_id in answer.body["message"]
    assert len(stack.messages()) == 1


def test_a_delivery_being_accepted_elsewhere_answers_409_with_retry_after(stack):
    body, headers, delivery_id = _request(stack, "github")
    # Another Lambda holds the delivery in progress: Powertools' own record of it.
    persistence = DynamoDBPersistenceLayer(table_name=stack.resources.table_name)
    persistence.configure(
        IdempotencyConfig(
            event_key_jmespath="[source, dedupe_key]",
            payload_validation_jmespath="body_sha256",
        ),
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )

    persistence.save_inprogress(
        data={
            "source": "github",
            "delivery_id": delivery_id,
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "dedupe_key": _key("github", delivery_id, body),
        },
        remaining_time_in_millis=60_000,
    )

    answer = stack.post("github", body, headers)

    assert answer.status == 409
    assert answer.body["error"] == "delivery_in_progress"
    assert int(answer.headers["Retry-After"]) > 0
    assert stack.queue_depth() == 0


def test_rotation_any_listed_secret_verifies(stack):
    stack.set_secrets("github", ["new-secret", "old-secret"])
    old, new, other = (f'{{"zen": "{word}"}}'.encode() for word in ("old", "new", "other"))

    with_old = stack.post("github", old, stack.signed("github", old, "d-old", secret="old-secret"))
    with_new = stack.post("github", new, stack.signed("github", new, "d-new", secret="new-secret"))
    with_other = stack.post(
        "github", other, stack.signed("github", other, "d-other", secret="retired-secret")
    )

    assert (with_old.status, with_new.status, with_other.status) == (202, 202, 401)


def test_a_plain_text_secret_is_one_secret(stack):
    stack.set_secrets("hmac", "plain-text-secret")
    body = b'{"type": "ping"}'

    answer = stack.post("hmac", body, stack.signed("hmac", body, "k1", secret="plain-text-secret"))

    assert answer.status == 202


def test_a_body_api_gateway_did_not_base64_encode_verifies_too(stack):
    body, headers, _ = _request(stack, "shopify")

    answer = stack.post("shopify", body, headers, base64_encoded=False)

    assert answer.status == 202


def test_signatures_cover_the_exact_bytes_including_non_utf8(stack):
    body = json.dumps({"name": "Zoë"}, ensure_ascii=False).encode("utf-8")
    headers = stack.signed("hmac", body, "bytes-1")

    assert stack.post("hmac", body, headers).status == 202
    # The same text re-encoded (what a proxy that "normalizes" bodies would do) fails.
    reencoded = json.dumps({"name": "Zoë"}).encode()
    assert stack.post("hmac", reencoded, headers).status == 401


# --- Rejections: a clear status and message, nothing stored, nothing enqueued ---------


def test_unknown_source_is_404(stack):
    body, headers, _ = _request(stack, "github")

    answer = stack.post("gitlab", body, headers)

    assert answer.status == 404
    assert answer.body["error"] == "unknown_source"
    _assert_nothing_stored(stack)


@pytest.mark.parametrize("source", sorted(BODIES))
def test_tampered_body_is_401(stack, source):
    body, headers, _ = _request(stack, source)
    tampered = body.replace(b"}", b', "admin": true}', 1)

    answer = stack.post(source, tampered, headers)

    assert answer.status == 401
    assert answer.body["error"] == "invalid_signature"
    _assert_nothing_stored(stack)


@pytest.mark.parametrize("source", sorted(BODIES))
def test_missing_signature_is_401(stack, source):
    body, headers, _ = _request(stack, source)
    signature_headers = {
        "github": "x-hub-signature-256",
        "stripe": "stripe-signature",
        "shopify": "x-shopify-hmac-sha256",
        "standard": "webhook-signature",
        "hmac": "x-signature",
    }
    del headers[signature_headers[source]]

    answer = stack.post(source, body, headers)

    assert answer.status == 401
    assert answer.body["error"] == "invalid_signature"
    _assert_nothing_stored(stack)


@pytest.mark.parametrize("source", ["stripe", "standard"])
@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_stale_or_future_timestamp_is_401(stack, source, offset):
    # The clock stands still: one second just past the tolerance must stay past it,
    # however slowly the machine gets from signing to checking.
    with time_machine.travel(time.time(), tick=False):
        body, headers, _ = _request(stack, source, timestamp=int(time.time()) + offset)

        answer = stack.post(source, body, headers)

    assert answer.status == 401
    assert answer.body["error"] == "timestamp_out_of_tolerance"
    _assert_nothing_stored(stack)


@pytest.mark.parametrize(
    ("source", "body"),
    [
        ("github", b"not json"),
        ("shopify", b"\xff\xfe"),
        ("stripe", b"[1, 2, 3]"),
        ("standard", b'{"value": NaN}'),
        ("stripe", b'{"type": "invoice.paid"}'),  # a Stripe event without its id
    ],
)
def test_a_signed_body_that_is_not_what_the_source_sends_is_400(stack, source, body):
    headers = stack.signed(source, body, f"{source}-bad")

    answer = stack.post(source, body, headers)

    assert answer.status == 400
    assert answer.body["error"] == "malformed_payload"
    _assert_nothing_stored(stack)


def test_a_missing_delivery_id_is_400(stack):
    body, headers, _ = _request(stack, "github")
    del headers["x-github-delivery"]

    answer = stack.post("github", body, headers)

    assert answer.status == 400
    assert "X-GitHub-Delivery" in answer.body["message"]
    _assert_nothing_stored(stack)


def test_a_body_over_the_limit_is_413_before_any_secret_is_read(stack, monkeypatch):
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "1024")
    stack.set_secrets("hmac", [])  # would be a 500 if the secret were read first
    body = json.dumps({"blob": "x" * 2000}).encode()

    answer = stack.post("hmac", body, stack.signed("hmac", body, "big-1", secret="anything"))

    assert answer.status == 413
    assert answer.body["error"] == "payload_too_large"
    _assert_nothing_stored(stack)


@pytest.mark.parametrize("secrets", [[], [""], [17], " ", "[]", "{}"])
def test_a_source_without_a_usable_secret_fails_closed_with_500(stack, secrets):
    stack.set_secrets("github", secrets)
    body, headers, _ = _request(stack, "github")

    answer = stack.post("github", body, headers)

    assert answer.status == 500
    assert answer.body["error"] == "source_misconfigured"
    _assert_nothing_stored(stack)


def test_a_deleted_secret_fails_closed(stack):
    boto3.client("secretsmanager").delete_secret(
        SecretId=stack.resources.secret_names["github"], ForceDeleteWithoutRecovery=True
    )
    body, headers, _ = _request(stack, "github")

    answer = stack.post("github", body, headers)

    assert answer.status == 500
    assert answer.body["error"] == "source_misconfigured"
    _assert_nothing_stored(stack)


def test_no_error_body_carries_a_secret_or_the_signature(stack):
    body, headers, _ = _request(stack, "github")
    tampered = body + b" "
    answers = [
        stack.post("github", tampered, headers),
        stack.post("nope", body, headers),
        stack.post("github", b"[]", stack.signed("github", b"[]", "x")),
    ]
    for answer in answers:
        text = json.dumps(answer.body)
        assert set(answer.body) == {"error", "message"}
        assert "local-github-secret" not in text
        assert headers["x-hub-signature-256"].split("=")[1] not in text


def test_a_queue_failure_answers_503_and_leaves_the_delivery_retryable(stack):
    body, headers, delivery_id = _request(stack, "github")
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.resources.queue_url, AttributeNames=["All"]
    )["Attributes"]
    sqs.delete_queue(QueueUrl=stack.resources.queue_url)

    failed = stack.post("github", body, headers)

    assert failed.status == 503
    assert failed.body["error"] == "service_unavailable"
    # Powertools removed its in-progress record: the sender's retry is not blocked.
    assert stack.idempotency_records() == []

    sqs.create_queue(
        QueueName=stack.resources.queue_url.rsplit("/", 1)[1],
        Attributes={"VisibilityTimeout": attributes["VisibilityTimeout"]},
    )
    retried = stack.post("github", body, headers)

    assert retried.status == 202
    assert retried.body["delivery_id"] == delivery_id
    assert len(stack.messages()) == 1


def test_unknown_routes_answer_json_404(stack):
    from functions.handlers.webhook import lambda_handler
    from infra.local.lambda_runtime import LocalContext, rest_proxy_event

    event = rest_proxy_event("GET", "/nowhere", resource="/nowhere")
    response = lambda_handler(event, LocalContext())

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == "not_found"
