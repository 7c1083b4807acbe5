"""The local cloud's SigV4 check (infra/local/sigv4.py) against botocore's own signer."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from infra.local.sigv4 import Refusal, verify

KEYS = {"AKIDLOCAL": "secret"}


def _signed(url: str, body: bytes = b"", method: str = "GET", **headers: str) -> dict:
    """What the check gets of a request botocore signed: target, headers, body."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials("AKIDLOCAL", "secret"), "execute-api", "us-east-1").add_auth(request)
    parts = urlsplit(url)
    return {
        "method": method,
        "target": parts.path + (f"?{parts.query}" if parts.query else ""),
        "headers": [*request.headers.items(), ("Host", parts.netloc)],
        "body": body,
    }


def _verify(request: dict) -> dict:
    return verify(**request, credentials=KEYS, region="us-east-1")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1/actions",
        "http://127.0.0.1:8000/v1/actions?status=pending&hook=send_email&per_page=10",
        "http://127.0.0.1:8000/v1/actions?args=%7B%22to%22%3A%20%22a%40b%22%7D",
        "http://127.0.0.1:8000/v1/actions?status=pending&status=failed",
        "http://127.0.0.1:8000/v1/actions/abc%40def%3A00/run",
        "http://127.0.0.1:8000/v1/actions/with%20space",
    ],
)
def test_what_botocore_signs_verifies(url):
    identity = _verify(
        _signed(url, b'{"hook": "x"}', "POST", **{"Content-Type": "application/json"})
    )

    assert identity["accessKey"] == "AKIDLOCAL"
    assert identity["userArn"] == "arn:aws:iam::123456789012:user/AKIDLOCAL"


def test_the_body_counts_whatever_a_content_hash_header_claims():
    body = b'{"hook": "x"}'
    request = _signed(
        "http://127.0.0.1:8000/v1/actions",
        body,
        "POST",
        **{"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
    )
    assert _verify(request)
    with pytest.raises(Refusal):
        _verify({**request, "body": b'{"hook": "y"}'})


@pytest.mark.parametrize(
    ("change", "response_type"),
    [
        (
            lambda r: {**r, "headers": [h for h in r["headers"] if h[0] != "Authorization"]},
            "MISSING_AUTHENTICATION_TOKEN",
        ),
        (
            lambda r: {**r, "headers": [*r["headers"], ("Authorization", "Bearer abc")]},
            "INVALID_SIGNATURE",
        ),
        (lambda r: {**r, "target": r["target"] + "?extra=1"}, "INVALID_SIGNATURE"),
        (lambda r: {**r, "method": "DELETE"}, "INVALID_SIGNATURE"),
        (
            lambda r: {
                **r,
                "headers": [(k, "evil" if k == "Host" else v) for k, v in r["headers"]],
            },
            "INVALID_SIGNATURE",
        ),
    ],
    ids=["no authorization", "not sigv4", "query added", "method changed", "host changed"],
)
def test_a_request_changed_after_signing_is_refused(change, response_type):
    request = _signed("http://127.0.0.1:8000/v1/actions/x")

    with pytest.raises(Refusal) as refused:
        _verify(change(request))

    assert refused.value.response_type == response_type
