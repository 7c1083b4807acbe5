"""``Idempotency-Key``: a client's retry of ``POST /actions`` never makes a second action.

Powertools idempotency on the stack's idempotency table (the webhook receiver's), under
a prefix of its own: the first request with a key makes the action and stores the
answer; a repeat with the same key and the same fields answers that first result; the
same key with other fields is refused (``IdempotencyKeyConflict``, 422); a repeat while
the first is still being answered, ``RequestInProgress`` (409). A failure removes the
record, so a retry starts clean. The fields are compared as JSON values (key order and
whitespace do not matter), hashed.
Why: docs/decisions/0050-the-actions-http-api.md
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
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

from functions.api.config import settings
from functions.api.errors import (
    IdempotencyKeyConflict,
    RequestInProgress,
    ServiceUnavailable,
)
from functions.clients import lazy_client
from functions.observability import logger

# Fixed, so that moving or renaming this module never changes existing keys.
KEY_PREFIX = "actions-api"
RETRY_AFTER_SECONDS = 5
_REPLAY_MARK = "__replayed__"

_dynamodb = lazy_client("dynamodb")

# Makes the action from the fields, with the id to give it if it can (an async action).
Make = Callable[[dict[str, Any], str], dict[str, Any]]
# Action ids made under a key are derived from it and the fields (``action_id_for``).
_ACTION_NAMESPACE = uuid.UUID("0b8e1f3c-5d2a-4f6b-9c7e-2a4d6f8b1c3e")


@dataclass(frozen=True)
class Outcome:
    """What the made (or first) request answered, and whether this is a repeat."""

    result: dict[str, Any]
    replayed: bool


def once(
    key: str, fields: dict[str, Any], make: Make, lambda_context: LambdaContext | None
) -> Outcome:
    """``make(fields, action_id)`` once per ``key``; a repeat answers the stored result."""
    digest = fields_sha256(fields)
    run, config = _idempotent(make)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        result = dict(run(request={"key": key, "fields_sha256": digest, "fields": fields}))
    except IdempotencyValidationError:
        raise IdempotencyKeyConflict(
            "this Idempotency-Key was used before with other fields: use a new key for a new action"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress(
            "a request with this Idempotency-Key is being answered right now; retry",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    except IdempotencyPersistenceLayerError:
        logger.exception("actions API: the idempotency table failed")
        raise ServiceUnavailable("the request could not be recorded; retry") from None
    replayed = bool(result.pop(_REPLAY_MARK, False))
    return Outcome(result, replayed)


def fields_sha256(fields: dict[str, Any]) -> str:
    """The fields' digest, as JSON values: key order and whitespace do not count."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def action_id_for(key: str, digest: str) -> str:
    """The id of the action made under ``key`` for the fields of ``digest``.

    If the stored result is lost (the record could not be completed and expires), a
    retry makes an action of the same id, which the store refuses to make twice; and a
    key reused for other fields, after the record expired, makes another id.
    """
    return str(uuid.uuid5(_ACTION_NAMESPACE, f"{key}\n{digest}"))


def _mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only when it answers from a stored result."""
    return {**response, _REPLAY_MARK: True}


@functools.cache
def _idempotent(make: Make) -> tuple[Any, IdempotencyConfig]:
    """The idempotent wrapper of ``make``, built on first use: the persistence layer
    needs a client."""
    config = settings()
    idempotency = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fields_sha256",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=config.idempotency_ttl_seconds,
        response_hook=_mark_replay,
    )
    store = DynamoDBPersistenceLayer(table_name=config.idempotency_table, boto3_client=_dynamodb())

    def made(request: dict[str, Any]) -> dict[str, Any]:
        return make(request["fields"], action_id_for(request["key"], request["fields_sha256"]))

    run = idempotent_function(
        data_keyword_argument="request",
        persistence_store=store,
        config=idempotency,
        key_prefix=KEY_PREFIX,
    )(made)
    return run, idempotency


def reset() -> None:
    """Forget the idempotency wrappers (tests: each moto world needs a new client)."""
    _idempotent.cache_clear()
