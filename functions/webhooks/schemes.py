"""Signature schemes, each exactly as its sender signs.

A scheme answers, in order: ``verify`` (did a holder of one of our secrets sign these exact
bytes, recently? fails closed), ``parse`` (is the body what this sender sends? only after
``verify``) and ``identify`` (the delivery id and event type); ``sign`` makes a sender's
headers. Comparisons are constant-time, and no method logs a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs

from functions.actions.limits import MAX_WEBHOOK_BODY_DEPTH, json_problem
from functions.webhooks.exceptions import (
    InvalidSignature,
    MalformedPayload,
    TimestampOutOfTolerance,
)

Headers = Mapping[str, str]
"""Request headers with lower-case names."""

MAX_DELIVERY_ID_LENGTH = 256


@dataclass(frozen=True)
class Identity:
    delivery_id: str
    event_type: str


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _matches(expected: bytes, candidates: Sequence[bytes]) -> bool:
    """Constant-time check of every candidate; no early exit that leaks which matched."""
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(expected, candidate)
    return found


def _require_match(
    signed: bytes,
    candidates: Sequence[bytes],
    keys: Sequence[bytes],
    message: str = "the signature does not match a configured secret",
) -> None:
    """Pass if any key's HMAC of ``signed`` is among the candidates; else reject."""
    if not any(_matches(hmac_sha256(key, signed), candidates) for key in keys):
        raise InvalidSignature(message)


def _decode_hex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        return None


def _decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _require_header(headers: Headers, name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise InvalidSignature(f"missing the {name} header")
    return value


def _check_timestamp(raw: str, now: float, tolerance: int, header: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise InvalidSignature(f"the {header} timestamp is not an integer")
    timestamp = int(raw)
    if abs(now - timestamp) > tolerance:
        raise TimestampOutOfTolerance(
            f"the signature timestamp is more than {tolerance} seconds from our clock"
        )
    return timestamp


def _check_secrets(secrets: Sequence[bytes]) -> None:
    if not secrets:
        raise InvalidSignature("no signing secret is configured for this source")


def parse_json(body: bytes, *, require_object: bool = True) -> Any:
    """Decode a JSON body strictly: UTF-8, no NaN or Infinity, an object where required,
    and nothing the worker could not run: at most ``MAX_WEBHOOK_BODY_DEPTH`` levels deep
    (it travels one level down, as args' payload), no number beyond a float's range, no
    lone surrogate (functions/actions/limits.py)."""

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedPayload("the body is not valid UTF-8 JSON") from None
    if require_object and not isinstance(payload, dict):
        raise MalformedPayload("the body is not a JSON object")
    problem = json_problem(payload, MAX_WEBHOOK_BODY_DEPTH)
    if problem:
        raise MalformedPayload(f"the body cannot be queued: {problem}")
    return payload


def _delivery_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"missing the delivery id ({where})")
    value = value.strip()
    if len(value) > MAX_DELIVERY_ID_LENGTH or not value.isprintable():
        raise MalformedPayload(f"the delivery id ({where}) is too long or not printable")
    return value


def _event_type(value: object) -> str:
    return value.strip()[:256] if isinstance(value, str) else ""


class Scheme:
    """Base of every scheme: body parsing and key decoding shared by most senders."""

    name: ClassVar[str]

    def decode_secret(self, secret: str) -> bytes:
        """The HMAC key for a secret as stored in Secrets Manager (UTF-8 text by default)."""
        return secret.encode("utf-8")

    def verify(self, headers: Headers, body: bytes, secrets: Sequence[bytes], now: float) -> None:
        raise NotImplementedError

    def parse(self, headers: Headers, body: bytes) -> Any:
        return parse_json(body)

    def identify(self, headers: Headers, payload: Any) -> Identity:
        raise NotImplementedError

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        delivery_id: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        raise NotImplementedError


@dataclass(frozen=True)
class StandardWebhooks(Scheme):
    """standardwebhooks.com: ``v1,<base64>`` over ``id.timestamp.body``, ``whsec_`` keys."""

    name: ClassVar[str] = "standard"
    tolerance_seconds: int = 300

    def decode_secret(self, secret: str) -> bytes:
        key = _decode_base64(secret.removeprefix("whsec_"))
        if not key:
            raise ValueError("a Standard Webhooks secret is whsec_ followed by base64")
        return key

    def verify(self, headers: Headers, body: bytes, secrets: Sequence[bytes], now: float) -> None:
        msg_id = _require_header(headers, "webhook-id")
        raw_timestamp = _require_header(headers, "webhook-timestamp")
        signature_header = _require_header(headers, "webhook-signature")
        _check_secrets(secrets)
        _check_timestamp(raw_timestamp, now, self.tolerance_seconds, "webhook-timestamp")
        candidates = [
            decoded
            for version, _, value in (part.partition(",") for part in signature_header.split())
            if version == "v1" and (decoded := _decode_base64(value)) is not None
        ]
        signed = f"{msg_id}.{raw_timestamp}.".encode() + body
        _require_match(signed, candidates, secrets, "no v1 signature matches a configured secret")

    def identify(self, headers: Headers, payload: Any) -> Identity:
        return Identity(
            delivery_id=_delivery_id(headers.get("webhook-id"), "webhook-id header"),
            event_type=_event_type(payload.get("type")),
        )

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        delivery_id: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac_sha256(self.decode_secret(secret), f"{delivery_id}.{ts}.".encode() + body)
        return {
            "webhook-id": delivery_id,
            "webhook-timestamp": ts,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        }


@dataclass(frozen=True)
class Stripe(Scheme):
    """Stripe: ``Stripe-Signature: t=<ts>,v1=<hex>[,v1=...]`` over ``t.body``.

    The key is the endpoint secret (``whsec_...``) used as UTF-8 text, as Stripe's
    libraries do. The delivery id is the event id, which Stripe keeps across retries.
    """

    name: ClassVar[str] = "stripe"
    tolerance_seconds: int = 300

    def verify(self, headers: Headers, body: bytes, secrets: Sequence[bytes], now: float) -> None:
        header = _require_header(headers, "stripe-signature")
        _check_secrets(secrets)
        timestamps: list[str] = []
        candidates: list[bytes] = []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t":
                timestamps.append(value)
            elif key == "v1" and (decoded := _decode_hex(value)) is not None:
                candidates.append(decoded)
        if len(timestamps) != 1 or not candidates:
            raise InvalidSignature("Stripe-Signature needs one t= and at least one v1= value")
        signed = f"{timestamps[0]}.".encode() + body
        _check_timestamp(timestamps[0], now, self.tolerance_seconds, "Stripe-Signature t=")
        _require_match(signed, candidates, secrets, "no v1 signature matches a configured secret")

    def identify(self, headers: Headers, payload: Any) -> Identity:
        return Identity(
            delivery_id=_delivery_id(payload.get("id"), "the event's id"),
            event_type=_event_type(payload.get("type")),
        )

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        delivery_id: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac_sha256(self.decode_secret(secret), f"{ts}.".encode() + body)
        return {"stripe-signature": f"t={ts},v1={digest.hex()}"}


@dataclass(frozen=True)
class GitHub(Scheme):
    """GitHub: ``X-Hub-Signature-256: sha256=<hex>`` over the body.

    GitHub sends JSON, or a form with the JSON in its ``payload`` field when the
    hook's content type is ``application/x-www-form-urlencoded``; both are signed
    over the raw bytes and both are accepted.
    """

    name: ClassVar[str] = "github"

    def verify(self, headers: Headers, body: bytes, secrets: Sequence[bytes], now: float) -> None:
        header = _require_header(headers, "x-hub-signature-256")
        _check_secrets(secrets)
        algorithm, _, value = header.partition("=")
        candidate = _decode_hex(value) if algorithm == "sha256" else None
        if candidate is None:
            raise InvalidSignature("X-Hub-Signature-256 is not sha256=<hex>")
        _require_match(body, [candidate], secrets)

    def parse(self, headers: Headers, body: bytes) -> Any:
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            try:
                form = parse_qs(body.decode("utf-8"), strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                raise MalformedPayload("the form body cannot be decoded") from None
            fields = form.get("payload", [])
            if len(fields) != 1:
                raise MalformedPayload("the form body has no single payload field")
            return parse_json(fields[0].encode("utf-8"))
        return parse_json(body)

    def identify(self, headers: Headers, payload: Any) -> Identity:
        return Identity(
            delivery_id=_delivery_id(headers.get("x-github-delivery"), "X-GitHub-Delivery header"),
            event_type=_event_type(headers.get("x-github-event")),
        )

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        delivery_id: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        digest = hmac_sha256(self.decode_secret(secret), body)
        return {
            "x-hub-signature-256": "sha256=" + digest.hex(),
            "x-github-delivery": delivery_id,
            "x-github-event": event_type,
            "content-type": "application/json",
        }


@dataclass(frozen=True)
class Shopify(Scheme):
    """Shopify: ``X-Shopify-Hmac-Sha256: <base64>`` over the body, app secret as UTF-8."""

    name: ClassVar[str] = "shopify"

    def verify(self, headers: Headers, body: bytes, secrets: Sequence[bytes], now: float) -> None:
        header = _require_header(headers, "x-shopify-hmac-sha256")
        _check_secrets(secrets)
        candidate = _decode_base64(header)
        if candidate is None:
            raise InvalidSignature("X-Shopify-Hmac-Sha256 is not base64")
        _require_match(body, [candidate], secrets)

    def identify(self, headers: Headers, payload: Any) -> Identity:
        return Identity(
            delivery_id=_delivery_id(
                headers.get("x-shopify-webhook-id"), "X-Shopify-Webhook-Id header"
            ),
            event_type=_event_type(headers.get("x-shopify-topic")),
        )

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        delivery_id: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        digest = hmac_sha256(self.decode_secret(secret), body)
        return {
            "x-shopify-hmac-sha256": base64.b64encode(digest).decode(),
            "x-shopify-webhook-id": delivery_id,
            "x-shopify-topic": event_type,
        }


@dataclass(frozen=True)
class GenericHmac(Scheme):
    """Any sender that puts HMAC-SHA256 of the body, hex or base64, in a header of its choice.

    The delivery id is ``X-Idempotency-Key``; the event type is ``X-Event-Type`` or the
    payload's ``type``. The body may be any JSON value.
    """

    name: ClassVar[str] = "hmac"
    header: str = "x-signature"
    encoding: str = "hex"
    prefix: str = ""

    def _candidate(self, value: str) -> bytes | None:
        if self.prefix:
            if not value.startswith(self.prefix):
                return None
            value = value[len(self.prefix) :]
        return _decode_hex(value) if self.encoding == "hex" else _decode_base64(value)

    def verify(self, headers: Headers, body: bytes, secrets: Sequence[bytes], now: float) -> None:
        header = _require_header(headers, self.header.lower())
        _check_secrets(secrets)
        candidate = self._candidate(header)
        if candidate is None:
            raise InvalidSignature(f"the {self.header} header is not a {self.encoding} signature")
        _require_match(body, [candidate], secrets)

    def parse(self, headers: Headers, body: bytes) -> Any:
        return parse_json(body, require_object=False)

    def identify(self, headers: Headers, payload: Any) -> Identity:
        event_type = headers.get("x-event-type", "").strip() or (
            payload.get("type") if isinstance(payload, dict) else ""
        )
        return Identity(
            delivery_id=_delivery_id(headers.get("x-idempotency-key"), "X-Idempotency-Key header"),
            event_type=_event_type(event_type),
        )

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        delivery_id: str,
        event_type: str = "",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        digest = hmac_sha256(self.decode_secret(secret), body)
        encoded = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()
        headers = {self.header.lower(): self.prefix + encoded, "x-idempotency-key": delivery_id}
        if event_type:
            headers["x-event-type"] = event_type
        return headers
