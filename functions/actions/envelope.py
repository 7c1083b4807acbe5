"""The job envelope: the versioned JSON body of every message on a job queue.

Everything the worker needs to run, retry or dead-letter an action travels in the
envelope, so a message is self-describing even when the actions table is behind.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from functions.actions.exceptions import ActionTooLarge, InvalidAction
from functions.actions.limits import (
    HOOK_NAME,
    MAX_ACTION_ID_LENGTH,
    MAX_GROUP_LENGTH,
    json_problem,
)
from functions.payloads.ref import PayloadRef

VERSION: Literal[1] = 1
# SQS's limit on a message, in bytes of UTF-8: body and message attributes together. Every
# job queue's MaximumMessageSize (infra/constructs/job_queues.py sets it to this).
MAX_MESSAGE_BYTES = 262_144
# Characters SQS refuses in a message body that JSON does not escape by itself; inside
# the envelope's JSON they can only be in strings, where an escape means the same.
_SQS_REFUSES = re.compile("[\ufffe\uffff]")
# The largest args an action takes (serialized, UTF-8): above the inline threshold they
# travel by reference to the payload bucket (functions/payloads), up to this.
MAX_ARGS_BYTES = 10 * 1024 * 1024

Priority = Literal["high", "default", "low"]


def dump_args(args: Any) -> str:
    """Serialize args as strict JSON (no NaN or Infinity), or refuse them clearly."""
    try:
        return json.dumps(args, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidAction(f"args must be JSON-serializable: {exc}") from None


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


def escape_for_sqs(json_text: str) -> str:
    """JSON text with the characters SQS refuses in a body written as JSON escapes."""
    return _SQS_REFUSES.sub(_escape, json_text)


class Envelope(BaseModel):
    """Version 1. ``args_ref`` (optional, absent from the message when unset) replaces
    ``args`` when the args are kept in the payload bucket; the worker loads them."""

    # Built on first use: the functions that never build an envelope (health, sagas) never
    # pay for its schema.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    v: Literal[1] = VERSION
    action_id: str = Field(min_length=1, max_length=MAX_ACTION_ID_LENGTH)
    hook: str
    args: Any = None
    group: str = Field(default="", max_length=MAX_GROUP_LENGTH)
    priority: Priority = "default"
    attempt: int = Field(default=1, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    scheduled_for: datetime
    enqueued_at: datetime
    correlation_id: str = ""
    args_ref: PayloadRef | None = None
    # False: the action is left out of the index queries while it is queued and running
    # (a hook's ``listed_while_queued=False``); absent from the message when true.
    listed: bool = True
    # False: the action has no item in the actions table (``recorded=False``): the worker
    # runs it without a claim and writes nothing; absent from the message when true.
    recorded: bool = True

    @field_validator("hook")
    @classmethod
    def _hook_name(cls, value: str) -> str:
        if not HOOK_NAME.fullmatch(value):
            raise ValueError(f"hook names match {HOOK_NAME.pattern}")
        return value

    @field_validator("action_id")
    @classmethod
    def _printable_id(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("an action id is printable characters")
        return value

    @field_validator("args")
    @classmethod
    def _json_args(cls, value: Any) -> Any:
        # pydantic would quietly turn NaN into null and a set into a list: refuse instead.
        # The same check at enqueue and in the worker's parser (functions/actions/limits.py).
        problem = json_problem(value)  # what json_problem allows, dump_args serializes
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _args_or_reference(self) -> Envelope:
        if self.args_ref is not None and self.args is not None:
            raise ValueError("an envelope carries args or args_ref, not both")
        return self

    @field_validator("scheduled_for", "enqueued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def to_message(self) -> str:
        """The SQS message body; refuses an envelope over the SQS size limit.

        Only characters SQS accepts: U+FFFE and U+FFFF are sent as JSON escapes. Without
        a reference the message is what it always was (older workers read it); with one,
        it carries the reference instead of the args.
        """
        left_out = {"args_ref"} if self.args_ref is None else {"args"}
        if self.listed:
            left_out |= {"listed"}
        if self.recorded:
            left_out |= {"recorded"}
        dumped = self.model_dump_json(exclude=left_out)
        body = escape_for_sqs(dumped)
        size = len(body.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise ActionTooLarge(
                f"the action's envelope is {size} bytes; SQS accepts at most {MAX_MESSAGE_BYTES}"
            )
        return body

    @classmethod
    def from_message(cls, body: str) -> Envelope:
        return cls.model_validate_json(body)
