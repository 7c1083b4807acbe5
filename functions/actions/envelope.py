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
from functions.payloads.ref import PayloadRef

VERSION: Literal[1] = 1
# SQS's limit on a message body, in bytes of UTF-8.
MAX_MESSAGE_BYTES = 262_144
# The largest args an action takes (serialized, UTF-8): above the inline threshold they
# travel by reference to the payload bucket (functions/payloads), up to this.
MAX_ARGS_BYTES = 10 * 1024 * 1024
HOOK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")

Priority = Literal["high", "default", "low"]


def dump_args(args: Any) -> str:
    """Serialize args as strict JSON (no NaN or Infinity), or refuse them clearly."""
    try:
        return json.dumps(args, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidAction(f"args must be JSON-serializable: {exc}") from None


class Envelope(BaseModel):
    """Version 1. ``args_ref`` (optional, absent from the message when unset) replaces
    ``args`` when the args are kept in the payload bucket; the worker loads them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = VERSION
    action_id: str = Field(min_length=1, max_length=128)
    hook: str
    args: Any = None
    group: str = Field(default="", max_length=255)
    priority: Priority = "default"
    attempt: int = Field(default=1, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    scheduled_for: datetime
    enqueued_at: datetime
    correlation_id: str = ""
    args_ref: PayloadRef | None = None

    @field_validator("hook")
    @classmethod
    def _hook_name(cls, value: str) -> str:
        if not HOOK_NAME.fullmatch(value):
            raise ValueError(f"hook names match {HOOK_NAME.pattern}")
        return value

    @field_validator("args")
    @classmethod
    def _json_args(cls, value: Any) -> Any:
        # pydantic would quietly turn NaN into null and a set into a list: refuse instead.
        dump_args(value)
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
        """The SQS message body; refuses an envelope over the SQS size limit."""
        # Without a reference the message is what it always was (older workers read it);
        # with one, it carries the reference instead of the args.
        body = self.model_dump_json(exclude={"args_ref"} if self.args_ref is None else {"args"})
        size = len(body.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise ActionTooLarge(
                f"the action's envelope is {size} bytes; SQS accepts at most {MAX_MESSAGE_BYTES}"
            )
        return body

    @classmethod
    def from_message(cls, body: str) -> Envelope:
        return cls.model_validate_json(body)
