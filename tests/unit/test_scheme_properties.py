"""Fuzzing every signature scheme: whatever the headers, body, clock and secrets, the only
outcomes are a pass for a right signature within tolerance, or our rejection.

The properties, for each scheme:

* arbitrary header values (near-misses of the real formats among them), bodies,
  clocks and secret lists never raise anything but ``InvalidSignature`` or
  ``TimestampOutOfTolerance``, and never pass;
* a signature made independently (``tests/unit/test_schemes.py``'s vectors) passes
  exactly when its key is one of the configured secrets, in any position of a
  rotation list, and its timestamp is within tolerance, whatever other signatures
  share the header;
* parsing and identifying any body raises nothing but ``MalformedPayload``, and a
  delivery id that comes out is non-blank, printable and bounded.

Deterministic: ``derandomize=True`` and no example database, so CI sees the same cases.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.webhooks.exceptions import (
    InvalidSignature,
    MalformedPayload,
    TimestampOutOfTolerance,
)
from functions.webhooks.schemes import MAX_DELIVERY_ID_LENGTH, StandardWebhooks
from tests.unit.test_schemes import NOW, SCHEME_NAMES, SCHEMES, b64, independently_signed

EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SIGNATURE_HEADERS = {
    "standard": ["webhook-id", "webhook-timestamp", "webhook-signature"],
    "stripe": ["stripe-signature"],
    "github": ["x-hub-signature-256"],
    "shopify": ["x-shopify-hmac-sha256"],
    "hmac": ["x-signature"],
}
TIMESTAMPED = {"standard", "stripe"}
TOLERANCE = 300

near_misses = st.sampled_from(
    [
        "",
        " ",
        "v1,",
        "v1",
        "v2,abc=",
        "t=,v1=",
        "t=1,t=2,v1=00",
        "t=-5,v1=00",
        f"t={NOW},v1=",
        f"t={NOW}.5,v1=00",
        "sha256=",
        "sha1=00",
        "sha256=zz",
        "=",
        ",,,",
        "v1,====",
        "\u0661\u0662\u0663",  # Arabic-Indic digits: isdigit(), not ASCII
        "9" * 40,
    ]
)
header_values = st.one_of(
    st.text(max_size=120),
    near_misses,
    st.binary(max_size=48).map(bytes.hex),
    st.binary(max_size=48).map(b64),
    st.builds(lambda d: f"sha256={d.hex()}", st.binary(min_size=32, max_size=32)),
    st.builds(lambda t, d: f"t={t},v1={d.hex()}", st.integers(-(2**40), 2**40), st.binary()),
    st.builds(lambda d: f"v1,{b64(d)}", st.binary(min_size=32, max_size=32)),
    st.integers().map(str),
)
secrets = st.lists(st.binary(min_size=0, max_size=48), max_size=4)
bodies = st.binary(max_size=1024)
clocks = st.integers(min_value=0, max_value=2**33)


def _headers_for(name: str) -> st.SearchStrategy[dict[str, str]]:
    names = st.one_of(st.sampled_from(SIGNATURE_HEADERS[name]), st.text(min_size=1, max_size=20))
    return st.dictionaries(names, header_values, max_size=5)


@pytest.mark.parametrize("name", SCHEME_NAMES)
@FUZZ
@given(data=st.data(), body=bodies, keys=secrets, now=clocks)
def test_arbitrary_headers_are_rejected_with_our_type_and_never_pass(name, data, body, keys, now):
    headers = data.draw(_headers_for(name))
    with pytest.raises((InvalidSignature, TimestampOutOfTolerance)):
        SCHEMES[name].verify(headers, body, keys, now)


@pytest.mark.parametrize("name", SCHEME_NAMES)
@FUZZ
@given(
    body=bodies,
    keys=st.lists(st.binary(min_size=1, max_size=48), min_size=1, max_size=4, unique=True),
    signer=st.one_of(st.integers(min_value=0, max_value=3), st.binary(min_size=1, max_size=48)),
    skew=st.one_of(
        st.integers(-TOLERANCE, TOLERANCE), st.integers(-NOW, 2**31), st.sampled_from([-301, 301])
    ),
    decoys=st.lists(st.binary(min_size=32, max_size=32), max_size=3),
)
def test_a_right_signature_passes_exactly_when_its_key_is_configured_and_its_time_is_near(
    name, body, keys, signer, skew, decoys
):
    """Rotation: the signer may be any key of the list; an outsider's key never passes."""
    key = keys[signer % len(keys)] if isinstance(signer, int) else signer
    timestamp = NOW + skew
    headers = independently_signed(name, key, body, ts=timestamp)
    # Other signatures in the same header (a sender mid-rotation signs with both).
    if name == "standard":
        extra = " ".join(f"v1,{b64(d)}" for d in decoys)
        headers["webhook-signature"] = f"{extra} {headers['webhook-signature']}".strip()
    elif name == "stripe":
        headers["stripe-signature"] += "".join(f",v1={d.hex()}" for d in decoys)

    # HMAC pads a short key with zero bytes: b"k" and b"k\0" are one key to it.
    configured = any(k.rstrip(b"\0") == key.rstrip(b"\0") for k in keys)
    in_time = name not in TIMESTAMPED or abs(skew) <= TOLERANCE
    scheme = SCHEMES[name]
    if configured and in_time:
        scheme.verify(headers, body, keys, NOW)
        scheme.verify(headers, body, list(reversed(keys)), NOW)
    else:
        with pytest.raises((InvalidSignature, TimestampOutOfTolerance)) as raised:
            scheme.verify(headers, body, keys, NOW)
        if configured:
            assert isinstance(raised.value, TimestampOutOfTolerance)


@pytest.mark.parametrize("name", SCHEME_NAMES)
@FUZZ
@given(data=st.data(), delivery_id=st.text(max_size=300), event_type=st.text(max_size=300))
def test_parsing_and_identifying_any_body_raise_only_malformed_payload(
    name, data, delivery_id, event_type
):
    body = data.draw(
        st.one_of(
            bodies,
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                lambda children: (
                    st.lists(children, max_size=4)
                    | st.dictionaries(st.sampled_from(["id", "type", "x"]) | st.text(), children)
                ),
                max_leaves=12,
            ).map(lambda value: json.dumps(value).encode()),
            st.builds(
                lambda i, t: json.dumps({"id": i, "type": t}).encode(),
                st.one_of(st.text(max_size=300), st.integers(), st.none()),
                st.one_of(st.text(max_size=300), st.integers(), st.none()),
            ),
        )
    )
    headers = {
        "webhook-id": delivery_id,
        "x-github-delivery": delivery_id,
        "x-shopify-webhook-id": delivery_id,
        "x-idempotency-key": delivery_id,
        "x-github-event": event_type,
        "x-shopify-topic": event_type,
        "x-event-type": event_type,
        "content-type": data.draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""])
        ),
    }
    scheme = SCHEMES[name]
    try:
        identity = scheme.identify(headers, scheme.parse(headers, body))
    except MalformedPayload:
        return
    assert identity.delivery_id.strip() == identity.delivery_id != ""
    assert len(identity.delivery_id) <= MAX_DELIVERY_ID_LENGTH
    assert identity.delivery_id.isprintable()
    assert isinstance(identity.event_type, str)
    assert len(identity.event_type) <= 256


@FUZZ
@given(
    secret=st.one_of(st.text(max_size=80), st.binary(max_size=48).map(lambda k: "whsec_" + b64(k)))
)
def test_a_standard_webhooks_secret_decodes_to_a_key_or_is_refused_as_a_value_error(secret):
    try:
        key = StandardWebhooks().decode_secret(secret)
    except ValueError:
        return
    assert isinstance(key, bytes)
    assert key
