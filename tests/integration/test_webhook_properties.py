"""Property-based: whatever arrives, the receiver never crashes and never accepts it unsigned."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SIGNATURE_HEADERS = [
    "X-Hub-Signature-256",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Webhook-Id",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Signature",
    "X-Idempotency-Key",
    "Content-Type",
]
header_values = st.one_of(
    st.text(max_size=200),
    st.builds(lambda h: f"sha256={h}", st.text("0123456789abcdef", min_size=64, max_size=64)),
    st.builds(lambda t, v: f"t={t},v1={v}", st.integers(0, 2**40), st.text("0123456789abcdef")),
    st.builds(lambda v: f"v1,{v}", st.text()),
    st.integers().map(str),
)
headers = st.dictionaries(
    st.one_of(st.sampled_from(SIGNATURE_HEADERS), st.text(min_size=1, max_size=30)),
    header_values,
    max_size=8,
)
sources = st.one_of(
    st.sampled_from(["github", "stripe", "shopify", "standard", "hmac"]), st.text(max_size=20)
)
bodies = st.one_of(
    st.binary(max_size=4096),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=sources, request_headers=headers, body=bodies, base64_encoded=st.booleans())
def test_unsigned_requests_are_rejected_cleanly_and_store_nothing(
    stack, source, request_headers, body, base64_encoded
):
    if not base64_encoded:
        # API Gateway only passes text bodies un-encoded.
        body = body.decode("utf-8", "replace").encode("utf-8")

    answer = stack.post(source, body, request_headers, base64_encoded=base64_encoded)

    assert answer.status in {400, 401, 404, 413}, answer
    assert set(answer.body) == {"error", "message"}
    assert stack.idempotency_records() == []
    assert stack.queue_depth() == 0


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    source=st.sampled_from(["github", "stripe", "shopify", "standard", "hmac"]),
    flip=st.integers(min_value=0),
)
def test_any_single_byte_change_to_a_signed_body_is_rejected(stack, source, flip):
    body = json.dumps({"id": "evt_1", "type": "t", "data": {"n": 1}}).encode()
    signed = stack.signed(source, body, "prop-1")
    index = flip % len(body)
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]

    answer = stack.post(source, tampered, signed)

    assert answer.status == 401
    assert stack.idempotency_records() == []
    assert stack.queue_depth() == 0
