"""Signature schemes, checked against vectors computed here, independently of the code.

Expected signatures are built with ``hmac``/``hashlib``/``base64`` directly; the schemes'
own ``sign`` is used only in the round-trip tests at the end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.webhooks.exceptions import (
    InvalidSignature,
    MalformedPayload,
    TimestampOutOfTolerance,
)
from functions.webhooks.schemes import (
    MAX_DELIVERY_ID_LENGTH,
    GenericHmac,
    GitHub,
    Identity,
    Scheme,
    Shopify,
    StandardWebhooks,
    Stripe,
)

NOW = 1_700_000_000
KEY = b"current-signing-key"
OLD_KEY = b"previous-signing-key"
OTHER_KEY = b"somebody-elses-key"
BODY = b'{"id": "evt_1", "type": "order.created", "data": {"n": 1}}'

SCHEMES: dict[str, Scheme] = {
    "standard": StandardWebhooks(),
    "stripe": Stripe(),
    "github": GitHub(),
    "shopify": Shopify(),
    "hmac": GenericHmac(),
}
SCHEME_NAMES = list(SCHEMES)
OBJECT_SCHEMES = [name for name in SCHEME_NAMES if name != "hmac"]


def mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def standard_headers(
    key: bytes, body: bytes, *, ts: int | str = NOW, msg_id: str = "msg_1"
) -> dict[str, str]:
    signature = b64(mac(key, f"{msg_id}.{ts}.".encode() + body))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,{signature}",
    }


def stripe_v1(key: bytes, body: bytes, ts: int | str = NOW) -> str:
    return mac(key, f"{ts}.".encode() + body).hex()


def independently_signed(name: str, key: bytes, body: bytes, *, ts: int = NOW) -> dict[str, str]:
    """Headers a sender of scheme ``name`` would send, computed without our code."""
    if name == "standard":
        return standard_headers(key, body, ts=ts)
    if name == "stripe":
        return {"stripe-signature": f"t={ts},v1={stripe_v1(key, body, ts)}"}
    if name == "github":
        return {"x-hub-signature-256": "sha256=" + mac(key, body).hex()}
    if name == "shopify":
        return {"x-shopify-hmac-sha256": b64(mac(key, body))}
    if name == "hmac":  # GenericHmac() defaults: X-Signature, hex, no prefix
        return {"x-signature": mac(key, body).hex()}
    raise AssertionError(name)


def identity_inputs(name: str, delivery_id: str) -> tuple[dict[str, str], dict]:
    """Headers and payload that carry ``delivery_id`` where scheme ``name`` looks for it."""
    if name == "standard":
        return {"webhook-id": delivery_id}, {"type": "evt"}
    if name == "stripe":
        return {}, {"id": delivery_id, "type": "evt"}
    if name == "github":
        return {"x-github-delivery": delivery_id, "x-github-event": "evt"}, {}
    if name == "shopify":
        return {"x-shopify-webhook-id": delivery_id, "x-shopify-topic": "evt"}, {}
    if name == "hmac":
        return {"x-idempotency-key": delivery_id, "x-event-type": "evt"}, {}
    raise AssertionError(name)


# --------------------------------------------------------------------------- GitHub

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_example_verifies() -> None:
    github = GitHub()
    key = github.decode_secret(GITHUB_SECRET)
    assert key == GITHUB_SECRET.encode("utf-8")
    github.verify({"x-hub-signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, [key], now=NOW)


def test_github_documented_example_matches_an_independent_hmac() -> None:
    expected = hmac.new(GITHUB_SECRET.encode(), GITHUB_BODY, hashlib.sha256).hexdigest()
    assert f"sha256={expected}" == GITHUB_SIGNATURE


@pytest.mark.parametrize("body", [b"Hello, World?", b"Hello, World! ", b"", b"hello, World!"])
def test_github_tampered_body_is_rejected(body: bytes) -> None:
    with pytest.raises(InvalidSignature):
        GitHub().verify(
            {"x-hub-signature-256": GITHUB_SIGNATURE}, body, [GITHUB_SECRET.encode()], now=NOW
        )


def test_github_wrong_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        GitHub().verify({"x-hub-signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, [b"nope"], now=NOW)


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-hub-signature-256": ""}, {"x-hub-signature-256": "   "}],
    ids=["absent", "empty", "blank"],
)
def test_github_missing_header_is_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature, match="x-hub-signature-256"):
        GitHub().verify(headers, GITHUB_BODY, [GITHUB_SECRET.encode()], now=NOW)


def test_github_legacy_sha1_header_is_rejected() -> None:
    key = GITHUB_SECRET.encode()
    # A genuine SHA-1 signature, and the right SHA-256 digest under the wrong label.
    for value in (
        "sha1=" + hmac.new(key, GITHUB_BODY, hashlib.sha1).hexdigest(),
        "sha1=" + GITHUB_SIGNATURE.removeprefix("sha256="),
    ):
        with pytest.raises(InvalidSignature):
            GitHub().verify({"x-hub-signature-256": value}, GITHUB_BODY, [key], now=NOW)


@pytest.mark.parametrize(
    "value",
    [
        "sha256=" + "z" * 64,
        "sha256=" + GITHUB_SIGNATURE[-63:],  # odd number of hex digits
        "sha256=" + b64(mac(GITHUB_SECRET.encode(), GITHUB_BODY)),  # base64, not hex
        GITHUB_SIGNATURE.removeprefix("sha256="),  # no algorithm label
        "sha256=",
    ],
    ids=["non-hex", "odd-length", "base64", "unlabelled", "empty-digest"],
)
def test_github_malformed_signature_is_rejected(value: str) -> None:
    with pytest.raises(InvalidSignature):
        GitHub().verify(
            {"x-hub-signature-256": value}, GITHUB_BODY, [GITHUB_SECRET.encode()], now=NOW
        )


def test_github_identify_reads_delivery_and_event_headers() -> None:
    identity = GitHub().identify(
        {"x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-github-event": "push"},
        {"action": "opened"},
    )
    assert identity == Identity("72d3162e-cc78-11e3-81ab-4c9367dc0958", "push")


def test_github_identify_without_delivery_header_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        GitHub().identify({"x-github-event": "push"}, {})


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/json"},
        {"content-type": "application/json; charset=utf-8"},
        {"content-type": "application/x-www-form-urlencoded-but-not-quite"},
        {},
    ],
    ids=["json", "json-charset", "lookalike", "no-content-type"],
)
def test_github_parses_a_json_body(headers: dict[str, str]) -> None:
    assert GitHub().parse(headers, b'{"zen": "Keep it simple"}') == {"zen": "Keep it simple"}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-8",
        "Application/X-WWW-Form-Urlencoded",
    ],
)
def test_github_parses_a_form_encoded_body(content_type: str) -> None:
    payload = {"zen": "Design for failure & keep it simple", "hook_id": 1, "ok": True}
    body = b"payload=" + quote_plus(json.dumps(payload)).encode("ascii")
    assert GitHub().parse({"content-type": content_type}, body) == payload


@pytest.mark.parametrize(
    "body",
    [
        b"other=%7B%7D",  # no payload field
        b"",  # no fields at all
        b"payload=",  # blank payload
        b"payload=%7B%7D&payload=%7B%7D",  # two payload fields
        b"payload=not-json",
        b"payload=%5B1%2C2%5D",  # a JSON array, not an object
        b'{"zen": "json sent with the form content type"}',
        b"payload=%FF%FE",  # not UTF-8 once unquoted
        b"\xff\xfe=1",  # not UTF-8 at all
    ],
)
def test_github_bad_form_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        GitHub().parse({"content-type": "application/x-www-form-urlencoded"}, body)


# ------------------------------------------------------------------ Standard Webhooks

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SPEC_HEADERS = {
    "webhook-id": SPEC_ID,
    "webhook-timestamp": str(SPEC_TIMESTAMP),
    "webhook-signature": SPEC_SIGNATURE,
}


def spec_key() -> bytes:
    return base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))


def test_standard_spec_example_verifies() -> None:
    scheme = StandardWebhooks()
    scheme.verify(SPEC_HEADERS, SPEC_BODY, [scheme.decode_secret(SPEC_SECRET)], now=SPEC_TIMESTAMP)


def test_standard_spec_example_matches_an_independent_hmac() -> None:
    signed = f"{SPEC_ID}.{SPEC_TIMESTAMP}.".encode() + SPEC_BODY
    assert "v1," + b64(mac(spec_key(), signed)) == SPEC_SIGNATURE


def test_standard_decode_secret_strips_prefix_and_decodes_base64() -> None:
    scheme = StandardWebhooks()
    assert scheme.decode_secret(SPEC_SECRET) == spec_key()
    assert len(spec_key()) == 24
    raw = bytes(range(32))
    assert scheme.decode_secret("whsec_" + b64(raw)) == raw
    assert scheme.decode_secret(b64(raw)) == raw  # the prefix is optional


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_not base64!",
        "whsec_MfKQ9r8G*KYqrTwjUPD8ILPZIo2LaLaSw",  # valid once the stray "*" is dropped
        "whsec_abc",
        "whsec_",
        "",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
    ],
    ids=[
        "bad-alphabet",
        "stray-character",
        "bad-padding",
        "empty-after-prefix",
        "empty",
        "truncated",
    ],
)
def test_standard_invalid_secret_raises_value_error(secret: str) -> None:
    with pytest.raises(ValueError, match="whsec_"):
        StandardWebhooks().decode_secret(secret)


def test_standard_multiple_signatures_verify_when_one_matches() -> None:
    right = SPEC_SIGNATURE
    wrong = "v1," + b64(mac(b"another key", SPEC_BODY))
    key = spec_key()
    for header in (f"{wrong} {right}", f"{right} {wrong}", f"v1a,{b64(b'x' * 64)} {right}"):
        headers = {**SPEC_HEADERS, "webhook-signature": header}
        StandardWebhooks().verify(headers, SPEC_BODY, [key], now=SPEC_TIMESTAMP)


@pytest.mark.parametrize(
    "header",
    [
        "v1," + b64(mac(b"another key", SPEC_BODY)),
        "v2," + SPEC_SIGNATURE.removeprefix("v1,"),  # right digest, unknown version
        "v1a," + SPEC_SIGNATURE.removeprefix("v1,"),
        SPEC_SIGNATURE.removeprefix("v1,"),  # no version at all
        "v1,not base64!",
        "v1," + mac(spec_key(), SPEC_BODY).hex(),
    ],
    ids=["wrong-key", "v2", "v1a", "unversioned", "non-base64", "hex"],
)
def test_standard_wrong_signature_is_rejected(header: str) -> None:
    headers = {**SPEC_HEADERS, "webhook-signature": header}
    with pytest.raises(InvalidSignature):
        StandardWebhooks().verify(headers, SPEC_BODY, [spec_key()], now=SPEC_TIMESTAMP)


def test_standard_signature_covers_id_and_timestamp() -> None:
    key = spec_key()
    for changed in (
        {"webhook-id": "msg_other"},
        {"webhook-timestamp": str(SPEC_TIMESTAMP + 1)},
    ):
        with pytest.raises(InvalidSignature):
            StandardWebhooks().verify(
                {**SPEC_HEADERS, **changed}, SPEC_BODY, [key], now=SPEC_TIMESTAMP
            )


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_standard_timestamp_within_tolerance_passes(offset: int) -> None:
    headers = standard_headers(KEY, BODY, ts=NOW + offset)
    StandardWebhooks().verify(headers, BODY, [KEY], now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_standard_timestamp_outside_tolerance_is_rejected(offset: int) -> None:
    headers = standard_headers(KEY, BODY, ts=NOW + offset)
    with pytest.raises(TimestampOutOfTolerance):
        StandardWebhooks().verify(headers, BODY, [KEY], now=NOW)


def test_standard_custom_tolerance_is_honoured() -> None:
    scheme = StandardWebhooks(tolerance_seconds=10)
    scheme.verify(standard_headers(KEY, BODY, ts=NOW - 10), BODY, [KEY], now=NOW)
    with pytest.raises(TimestampOutOfTolerance):
        scheme.verify(standard_headers(KEY, BODY, ts=NOW - 11), BODY, [KEY], now=NOW)


@pytest.mark.parametrize("raw", [f"{NOW}.0", "abc", "0x10", f"{NOW}s", "1e9"])
def test_standard_non_integer_timestamp_is_rejected(raw: str) -> None:
    # Correctly signed over the raw text, so only the timestamp's form is at fault.
    headers = standard_headers(KEY, BODY, ts=raw)
    with pytest.raises(InvalidSignature, match="not an integer"):
        StandardWebhooks().verify(headers, BODY, [KEY], now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_missing_header_is_rejected(missing: str) -> None:
    headers = standard_headers(KEY, BODY)
    del headers[missing]
    with pytest.raises(InvalidSignature, match=missing):
        StandardWebhooks().verify(headers, BODY, [KEY], now=NOW)


@pytest.mark.parametrize("empty", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_empty_header_is_rejected(empty: str) -> None:
    headers = {**standard_headers(KEY, BODY), empty: " "}
    with pytest.raises(InvalidSignature, match=empty):
        StandardWebhooks().verify(headers, BODY, [KEY], now=NOW)


def test_standard_identify_reads_webhook_id_and_payload_type() -> None:
    scheme = StandardWebhooks()
    assert scheme.identify(SPEC_HEADERS, {"type": "invoice.paid"}) == Identity(
        SPEC_ID, "invoice.paid"
    )
    assert scheme.identify(SPEC_HEADERS, {"test": 1}) == Identity(SPEC_ID, "")
    assert scheme.identify(SPEC_HEADERS, {"type": 7}) == Identity(SPEC_ID, "")


# --------------------------------------------------------------------------- Stripe

STRIPE_SECRET = "whsec_test"
STRIPE_KEY = STRIPE_SECRET.encode("utf-8")


def stripe_headers(header: str) -> dict[str, str]:
    return {"stripe-signature": header}


def test_stripe_secret_is_used_as_utf8_text() -> None:
    assert Stripe().decode_secret(STRIPE_SECRET) == b"whsec_test"
    assert Stripe().decode_secret("whsec_é") == "whsec_é".encode()


def test_stripe_valid_signature_verifies() -> None:
    header = f"t={NOW},v1={stripe_v1(STRIPE_KEY, BODY)}"
    Stripe().verify(stripe_headers(header), BODY, [Stripe().decode_secret(STRIPE_SECRET)], NOW)


def test_stripe_signature_is_not_over_the_decoded_base64_secret() -> None:
    # Stripe signs with the whole "whsec_..." text, unlike Standard Webhooks.
    decoded = base64.b64decode("dGVzdA==")
    header = f"t={NOW},v1={stripe_v1(decoded, BODY)}"
    with pytest.raises(InvalidSignature):
        Stripe().verify(stripe_headers(header), BODY, [STRIPE_KEY], NOW)


@pytest.mark.parametrize(
    "template",
    [
        "t={ts},v1={wrong},v1={right}",
        "t={ts},v1={right},v1={wrong}",
        "t={ts},v1={right},v0={wrong}",
        "v1={right},t={ts}",
        "t={ts}, v1={right}",
        "t={ts},v1={right},scheme=unknown",
    ],
)
def test_stripe_header_variants_verify(template: str) -> None:
    header = template.format(
        ts=NOW, right=stripe_v1(STRIPE_KEY, BODY), wrong=stripe_v1(b"another key", BODY)
    )
    Stripe().verify(stripe_headers(header), BODY, [STRIPE_KEY], NOW)


@pytest.mark.parametrize(
    "template",
    [
        "t={ts},t={ts},v1={right}",  # two timestamps, even equal ones
        "t={ts}",  # no v1
        "v1={right}",  # no t
        "t={ts},v0={right}",  # v0 only, even with the right digest
        "t={ts},v1={wrong}",
        "t={ts},v1=not-hex",
        "t={ts},v1={right_b64}",
        "t={ts},V1={right}",
        "t=abc,v1={right}",
        "{right}",
    ],
)
def test_stripe_bad_header_is_rejected(template: str) -> None:
    right = mac(STRIPE_KEY, f"{NOW}.".encode() + BODY)
    header = template.format(
        ts=NOW,
        right=right.hex(),
        right_b64=b64(right),
        wrong=stripe_v1(b"another key", BODY),
    )
    with pytest.raises(InvalidSignature):
        Stripe().verify(stripe_headers(header), BODY, [STRIPE_KEY], NOW)


def test_stripe_signature_covers_timestamp() -> None:
    header = f"t={NOW + 1},v1={stripe_v1(STRIPE_KEY, BODY, NOW)}"
    with pytest.raises(InvalidSignature):
        Stripe().verify(stripe_headers(header), BODY, [STRIPE_KEY], NOW)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_stripe_timestamp_within_tolerance_passes(offset: int) -> None:
    ts = NOW + offset
    header = f"t={ts},v1={stripe_v1(STRIPE_KEY, BODY, ts)}"
    Stripe().verify(stripe_headers(header), BODY, [STRIPE_KEY], NOW)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stripe_timestamp_outside_tolerance_is_rejected(offset: int) -> None:
    ts = NOW + offset
    header = f"t={ts},v1={stripe_v1(STRIPE_KEY, BODY, ts)}"
    with pytest.raises(TimestampOutOfTolerance):
        Stripe().verify(stripe_headers(header), BODY, [STRIPE_KEY], NOW)


def test_stripe_custom_tolerance_is_honoured() -> None:
    scheme = Stripe(tolerance_seconds=60)
    ts = NOW - 61
    with pytest.raises(TimestampOutOfTolerance):
        scheme.verify(
            stripe_headers(f"t={ts},v1={stripe_v1(STRIPE_KEY, BODY, ts)}"), BODY, [STRIPE_KEY], NOW
        )


@pytest.mark.parametrize("headers", [{}, {"stripe-signature": ""}], ids=["absent", "empty"])
def test_stripe_missing_header_is_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature, match="stripe-signature"):
        Stripe().verify(headers, BODY, [STRIPE_KEY], NOW)


def test_stripe_identify_reads_event_id_and_type_from_payload() -> None:
    identity = Stripe().identify(
        {"stripe-signature": "ignored"}, {"id": "evt_1NqX", "type": "payment_intent.succeeded"}
    )
    assert identity == Identity("evt_1NqX", "payment_intent.succeeded")


@pytest.mark.parametrize(
    "payload",
    [{"type": "charge.succeeded"}, {"id": "", "type": "x"}, {"id": 123}, {"id": None}],
    ids=["absent", "empty", "int", "null"],
)
def test_stripe_identify_without_event_id_is_malformed(payload: dict) -> None:
    with pytest.raises(MalformedPayload):
        Stripe().identify({}, payload)


# -------------------------------------------------------------------------- Shopify


def test_shopify_valid_signature_verifies_and_identifies() -> None:
    secret = "shpss_app_secret"
    body = b'{"id": 820982911946154508, "email": "jon@example.com"}'
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "x-shopify-hmac-sha256": signature,
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-topic": "orders/create",
    }
    shopify = Shopify()
    shopify.verify(headers, body, [shopify.decode_secret(secret)], NOW)
    assert shopify.identify(headers, shopify.parse(headers, body)) == Identity(
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "orders/create"
    )


@pytest.mark.parametrize(
    "value",
    [
        b64(mac(b"another key", BODY)),
        mac(KEY, BODY).hex(),  # hex, not base64
        "not base64!",
        b64(mac(KEY, BODY))[:-2],  # padding cut off
        "*" + b64(mac(KEY, BODY)),  # the right digest behind a character outside base64
    ],
    ids=["wrong-key", "hex", "non-base64", "truncated", "stray-character"],
)
def test_shopify_bad_signature_is_rejected(value: str) -> None:
    with pytest.raises(InvalidSignature):
        Shopify().verify({"x-shopify-hmac-sha256": value}, BODY, [KEY], NOW)


def test_shopify_missing_header_is_rejected() -> None:
    with pytest.raises(InvalidSignature, match="x-shopify-hmac-sha256"):
        Shopify().verify({"x-shopify-topic": "orders/create"}, BODY, [KEY], NOW)


def test_shopify_identify_without_webhook_id_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        Shopify().identify({"x-shopify-topic": "orders/create"}, {})


# ---------------------------------------------------------------------- GenericHmac


@pytest.mark.parametrize(
    ("header", "encoding", "prefix", "encode"),
    [
        ("x-signature", "hex", "", lambda d: d.hex()),
        ("x-signature", "base64", "", b64),
        ("x-signature", "hex", "sha256=", lambda d: "sha256=" + d.hex()),
        ("x-billing-signature", "base64", "sha256=", lambda d: "sha256=" + b64(d)),
    ],
    ids=["hex", "base64", "hex-prefixed", "base64-prefixed-custom-header"],
)
def test_hmac_configurations_verify(header, encoding, prefix, encode) -> None:
    scheme = GenericHmac(header=header, encoding=encoding, prefix=prefix)
    scheme.verify({header: encode(mac(KEY, BODY))}, BODY, [KEY], NOW)
    with pytest.raises(InvalidSignature):
        scheme.verify({header: encode(mac(OTHER_KEY, BODY))}, BODY, [KEY], NOW)


def test_hmac_header_name_is_matched_lower_case() -> None:
    scheme = GenericHmac(header="X-Billing-Signature")
    scheme.verify({"x-billing-signature": mac(KEY, BODY).hex()}, BODY, [KEY], NOW)


def test_hmac_signature_in_another_header_is_rejected() -> None:
    scheme = GenericHmac(header="x-billing-signature")
    with pytest.raises(InvalidSignature, match="x-billing-signature"):
        scheme.verify({"x-signature": mac(KEY, BODY).hex()}, BODY, [KEY], NOW)


@pytest.mark.parametrize(
    ("scheme", "value"),
    [
        (GenericHmac(prefix="sha256="), mac(KEY, BODY).hex()),  # prefix missing
        (GenericHmac(prefix="sha256="), "sha1=" + mac(KEY, BODY).hex()),
        # Same length as the configured prefix, so only the prefix check can catch it.
        (GenericHmac(prefix="sha256="), "sha512=" + mac(KEY, BODY).hex()),
        (GenericHmac(prefix="sha256="), "SHA256=" + mac(KEY, BODY).hex()),
        (GenericHmac(encoding="base64"), mac(KEY, BODY).hex()),  # hex to a base64 source
        (GenericHmac(encoding="hex"), b64(mac(KEY, BODY))),  # base64 to a hex source
        (GenericHmac(), "zz" * 32),
    ],
    ids=[
        "no-prefix",
        "wrong-prefix",
        "same-length-prefix",
        "upper-case-prefix",
        "hex-for-base64",
        "base64-for-hex",
        "non-hex",
    ],
)
def test_hmac_malformed_signature_is_rejected(scheme: GenericHmac, value: str) -> None:
    with pytest.raises(InvalidSignature):
        scheme.verify({scheme.header: value}, BODY, [KEY], NOW)


def test_hmac_identify_reads_idempotency_key_and_event_type_header() -> None:
    headers = {"x-idempotency-key": "idem-42", "x-event-type": "invoice.created"}
    assert GenericHmac().identify(headers, {"type": "ignored"}) == Identity(
        "idem-42", "invoice.created"
    )


def test_hmac_identify_falls_back_to_payload_type() -> None:
    headers = {"x-idempotency-key": "idem-42"}
    assert GenericHmac().identify(headers, {"type": "invoice.paid"}) == Identity(
        "idem-42", "invoice.paid"
    )
    assert GenericHmac().identify(headers, [{"type": "inside-an-array"}]) == Identity("idem-42", "")
    assert GenericHmac().identify(headers, 42) == Identity("idem-42", "")


def test_hmac_identify_without_idempotency_key_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        GenericHmac().identify({"x-event-type": "x"}, {"type": "x"})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'[{"id": 1}, {"id": 2}]', [{"id": 1}, {"id": 2}]),
        (b'{"a": 1}', {"a": 1}),
        (b'"text"', "text"),
        (b"42", 42),
        (b"null", None),
    ],
)
def test_hmac_parses_any_json(body: bytes, expected: object) -> None:
    assert GenericHmac().parse({}, body) == expected


# ------------------------------------------------------------------------- rotation


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_rotation_accepts_a_signature_by_the_second_key(name: str) -> None:
    headers = independently_signed(name, OLD_KEY, BODY)
    SCHEMES[name].verify(headers, BODY, [KEY, OLD_KEY], NOW)


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_rotation_rejects_a_signature_by_neither_key(name: str) -> None:
    headers = independently_signed(name, OTHER_KEY, BODY)
    with pytest.raises(InvalidSignature):
        SCHEMES[name].verify(headers, BODY, [KEY, OLD_KEY], NOW)


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_empty_key_list_fails_closed(name: str) -> None:
    headers = independently_signed(name, KEY, BODY)
    SCHEMES[name].verify(headers, BODY, [KEY], NOW)  # the request itself is fine
    with pytest.raises(InvalidSignature, match="no signing secret"):
        SCHEMES[name].verify(headers, BODY, [], NOW)


# ---------------------------------------------------------------------------- parse


@pytest.mark.parametrize("name", SCHEME_NAMES)
@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{}",
        b'{"name": "caf\xe9"}',  # Latin-1, not UTF-8
        b"",
        b"not json",
        b'{"a": 1',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b"NaN",
        b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to exhaust the recursion limit
    ],
    ids=[
        "utf16-bom",
        "latin1",
        "empty",
        "not-json",
        "truncated",
        "nan",
        "infinity",
        "neg-infinity",
        "bare-nan",
        "deep",
    ],
)
def test_parse_rejects_bodies_that_are_not_strict_utf8_json(name: str, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        SCHEMES[name].parse({"content-type": "application/json"}, body)


@pytest.mark.parametrize("name", OBJECT_SCHEMES)
@pytest.mark.parametrize("body", [b"[]", b'[{"id": "evt_1"}]', b'"evt_1"', b"1", b"null"])
def test_parse_rejects_non_objects_where_an_object_is_required(name: str, body: bytes) -> None:
    with pytest.raises(MalformedPayload, match="not a JSON object"):
        SCHEMES[name].parse({"content-type": "application/json"}, body)


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_parse_returns_the_decoded_object(name: str) -> None:
    body = '{"id": "evt_1", "name": "café", "n": 1.5, "list": [true, null]}'.encode()
    assert SCHEMES[name].parse({"content-type": "application/json"}, body) == {
        "id": "evt_1",
        "name": "café",
        "n": 1.5,
        "list": [True, None],
    }


# ------------------------------------------------------------------------- identify


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_identify_accepts_a_delivery_id_of_maximum_length(name: str) -> None:
    delivery_id = "d" * MAX_DELIVERY_ID_LENGTH
    headers, payload = identity_inputs(name, delivery_id)
    assert SCHEMES[name].identify(headers, payload) == Identity(delivery_id, "evt")


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_identify_strips_surrounding_whitespace(name: str) -> None:
    headers, payload = identity_inputs(name, "  dlv-1 \t")
    assert SCHEMES[name].identify(headers, payload).delivery_id == "dlv-1"


@pytest.mark.parametrize("name", SCHEME_NAMES)
@pytest.mark.parametrize(
    "delivery_id",
    [
        "d" * (MAX_DELIVERY_ID_LENGTH + 1),
        "abc\x00def",
        "abc\ndef",
        "abc\x1bdef",
        "abc\u200bdef",  # zero-width space
        "",
        "   ",
    ],
    ids=["too-long", "nul", "newline", "escape", "zero-width", "empty", "blank"],
)
def test_identify_rejects_bad_delivery_ids(name: str, delivery_id: str) -> None:
    headers, payload = identity_inputs(name, delivery_id)
    with pytest.raises(MalformedPayload):
        SCHEMES[name].identify(headers, payload)


def test_identify_truncates_long_event_types() -> None:
    identity = GitHub().identify({"x-github-delivery": "d", "x-github-event": "e" * 300}, {})
    assert identity.event_type == "e" * 256


# ------------------------------------------------------------------------ sign round trip

ROUND_TRIP_SECRETS = {
    "standard": "whsec_" + b64(b"k" * 32),
    "stripe": "whsec_test",
    "github": "github secret",
    "shopify": "shopify secret",
    "hmac": "generic secret",
}


@pytest.mark.parametrize(
    "scheme",
    [
        *SCHEMES.values(),
        GenericHmac(header="X-Billing-Signature", encoding="base64", prefix="sha256="),
    ],
    ids=[*SCHEME_NAMES, "hmac-base64-prefixed"],
)
def test_sign_round_trips_through_verify_parse_and_identify(scheme: Scheme) -> None:
    secret = ROUND_TRIP_SECRETS[scheme.name]
    key = scheme.decode_secret(secret)
    body = json.dumps({"id": "dlv-7", "type": "thing.happened"}).encode()
    headers = scheme.sign(
        body, secret, delivery_id="dlv-7", event_type="thing.happened", timestamp=NOW
    )
    scheme.verify(headers, body, [key], NOW)
    assert scheme.identify(headers, scheme.parse(headers, body)) == Identity(
        "dlv-7", "thing.happened"
    )
    with pytest.raises(InvalidSignature):
        scheme.verify(headers, body + b" ", [key], NOW)


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_sign_matches_the_independent_signature(name: str) -> None:
    scheme = SCHEMES[name]
    secret = ROUND_TRIP_SECRETS[name]
    key = scheme.decode_secret(secret)
    headers = scheme.sign(BODY, secret, delivery_id="msg_1", event_type="evt", timestamp=NOW)
    expected = independently_signed(name, key, BODY)
    assert {header: headers[header] for header in expected} == expected


# ------------------------------------------------------------------------- properties


@pytest.mark.parametrize("name", SCHEME_NAMES)
@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(min_size=1, max_size=256),
    key=st.binary(min_size=1, max_size=64),
    mask=st.integers(min_value=1, max_value=255),
)
def test_property_independent_signature_verifies_and_any_flipped_byte_fails(
    name: str, body: bytes, key: bytes, mask: int
) -> None:
    scheme = SCHEMES[name]
    headers = independently_signed(name, key, body)
    scheme.verify(headers, body, [key], NOW)
    for index in range(len(body)):
        tampered = bytearray(body)
        tampered[index] ^= mask
        with pytest.raises(InvalidSignature):
            scheme.verify(headers, bytes(tampered), [key], NOW)
