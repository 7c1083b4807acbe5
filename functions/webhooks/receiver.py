"""The webhook receiver: verify, accept each delivery once, enqueue, answer at once.

Checks, in order: the source exists (404), the body fits (413), the signature verifies
(401), the body is what the source sends and the worker can run (400). Only then does
the idempotent part write the Powertools record and enqueue ``process_webhook``; a
failure inside it removes the record, so the sender's retry starts clean.

The idempotency key is (source, delivery id), or (source, SHA-256 of the body) for a
source that dedupes bodies signed alone (GitHub, Shopify, generic HMAC by default): their
delivery id is an unsigned header, so a replayed body under a fresh id is a repeat too.
Why: docs/decisions/0002-verify-webhooks-over-the-raw-bytes.md,
0034-dedupe-bodies-signed-alone.md
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions.actions import ActionTooLarge, InvalidAction, enqueue_async_action
from functions.clients import lazy_client
from functions.metrics import Metric
from functions.observability import add_metric, logger
from functions.webhooks.config import settings
from functions.webhooks.exceptions import (
    DeliveryConflict,
    DeliveryInProgress,
    MalformedPayload,
    PayloadTooLarge,
    ServiceUnavailable,
    UnknownSource,
)
from functions.webhooks.secrets import signing_keys

PROCESS_HOOK = "process_webhook"
# Fixed, so that moving or renaming this module never changes existing keys.
IDEMPOTENCY_KEY_PREFIX = "webhook"
# Action ids of webhook deliveries are derived from the idempotency key.
_ACTION_NAMESPACE = uuid.UUID("6f1c9a52-3c57-4c2e-9a53-0d5d2b1f6e11")
_REPLAY_MARK = "__replayed__"
RETRY_AFTER_SECONDS = 10

_dynamodb = lazy_client("dynamodb")


@dataclass(frozen=True)
class Receipt:
    """What the handler answers: 202 for a new delivery, 200 for a repeat."""

    status_code: int
    body: dict[str, str]


def action_id_for(source: str, key: str) -> str:
    """The action id of the delivery accepted under (source, ``key``): see ``dedupe_key``."""
    return str(uuid.uuid5(_ACTION_NAMESPACE, f"{source}\n{key}"))


def dedupe_key(delivery_id: str, body_sha256: str, *, by_body: bool) -> str:
    """What a delivery is accepted once per: its id, or its signed bytes' digest."""
    return f"body-sha256:{body_sha256}" if by_body else delivery_id


def receive(
    source: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    lambda_context: LambdaContext | None = None,
    now: float | None = None,
) -> Receipt:
    """Verify and accept one webhook request; raise ``WebhookRejected`` otherwise."""
    config = settings()
    source_config = config.sources.get(source)
    if source_config is None:
        raise UnknownSource(f"no webhook source is named {source!r}")
    if len(body) > config.max_body_bytes:
        raise PayloadTooLarge(f"the body exceeds {config.max_body_bytes} bytes")

    lowered = {name.lower(): value for name, value in headers.items()}
    scheme = source_config.build()
    keys = signing_keys(source, source_config.secret, scheme, config.secret_cache_seconds)
    scheme.verify(lowered, body, keys, time.time() if now is None else now)
    payload = scheme.parse(lowered, body)
    identity = scheme.identify(lowered, payload)

    logger.set_correlation_id(identity.delivery_id)
    logger.append_keys(source=source, delivery_id=identity.delivery_id)
    digest = hashlib.sha256(body).hexdigest()
    delivery = {
        "source": source,
        "delivery_id": identity.delivery_id,
        "event_type": identity.event_type,
        "body_sha256": digest,
        "dedupe_key": dedupe_key(identity.delivery_id, digest, by_body=source_config.dedupes_body),
    }
    result = _accept_once(delivery, payload, lambda_context)
    replayed = bool(result.pop(_REPLAY_MARK, False))
    # By source: the source is one the configuration names (an unknown one is a 404).
    add_metric(Metric.WEBHOOKS_DUPLICATED if replayed else Metric.WEBHOOKS_ACCEPTED, source=source)
    extra = {"event_type": identity.event_type, "action_id": result.get("action_id")}
    if replayed and result.get("delivery_id") != identity.delivery_id:
        # The same signed body under another delivery id: a replay, or a sender that
        # sent byte-identical bodies twice. Answered with the first result either way.
        extra["first_delivery_id"] = result.get("delivery_id")
    logger.info("webhook duplicate" if replayed else "webhook accepted", extra=extra)
    return Receipt(status_code=200 if replayed else 202, body=result)


def _accept_once(
    delivery: dict[str, str], payload: Any, lambda_context: LambdaContext | None
) -> dict[str, Any]:
    """Run ``_enqueue`` once per delivery. Powertools copies and hashes ``delivery`` (its
    key and validation hash are read from it); the payload, which neither needs, is
    passed beside it, so a large body is not deep-copied on every request."""
    accept, config = _idempotent_accept()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        return dict(accept(delivery=delivery, payload=payload))
    except IdempotencyValidationError:
        raise DeliveryConflict(
            f"delivery {delivery['delivery_id']!r} was already accepted with a different body"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise DeliveryInProgress(
            f"delivery {delivery['delivery_id']!r} is being accepted by another request",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    except ActionTooLarge as exc:
        raise PayloadTooLarge(str(exc)) from None
    except InvalidAction as exc:  # parse_json checks the same limits first: a backstop
        raise MalformedPayload(f"the body cannot be queued: {exc}") from None
    except (IdempotencyPersistenceLayerError, ClientError, BotoCoreError) as exc:
        logger.exception("webhook not accepted: dependency failure")
        raise ServiceUnavailable("the delivery could not be stored or queued; retry") from exc


def _enqueue(delivery: dict[str, str], payload: Any) -> dict[str, str]:
    """The part that runs once per delivery: queue the work, answer what we queued.

    A source with ``"record": false`` queues an unrecorded action: the receipt is the
    same, and its action id finds nothing in the actions table."""
    source = settings().sources[delivery["source"]]
    action_id = enqueue_async_action(
        PROCESS_HOOK,
        args={
            "source": delivery["source"],
            "event_type": delivery["event_type"],
            "delivery_id": delivery["delivery_id"],
            "payload": payload,
        },
        group=delivery["source"],
        action_id=action_id_for(delivery["source"], delivery["dedupe_key"]),
        correlation_id=delivery["delivery_id"],
        recorded=source.record,
    )
    return {"delivery_id": delivery["delivery_id"], "action_id": action_id, "status": "queued"}


def _mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only when it answers from a stored result."""
    return {**response, _REPLAY_MARK: True}


@functools.cache
def _idempotent_accept() -> tuple[Any, IdempotencyConfig]:
    """Build the idempotent wrapper on first use: the persistence layer needs a client."""
    config = settings()
    idempotency = IdempotencyConfig(
        # For a delivery-id key the same hash as "[source, delivery_id]" made before.
        event_key_jmespath="[source, dedupe_key]",
        payload_validation_jmespath="body_sha256",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=config.idempotency_ttl_seconds,
        response_hook=_mark_replay,
    )
    store = DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=_dynamodb())
    accept = idempotent_function(
        data_keyword_argument="delivery",
        persistence_store=store,
        config=idempotency,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )(_enqueue)
    return accept, idempotency


def reset() -> None:
    """Forget the idempotency wrapper (tests: each moto world needs a new client)."""
    _idempotent_accept.cache_clear()
