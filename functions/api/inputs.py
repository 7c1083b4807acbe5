"""What callers send: a new action (the POST body) and the list's query, parsed and checked.

Only the shape is checked here (JSON, known fields, JSON types, which fields go
together); everything else (hook, args, times, expressions, limits) is checked by the
``functions.actions`` function the request becomes, as for a Python caller. A field left
out is not passed, so the Python API's own default applies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.actions.limits import HOOK_NAME
from functions.api.errors import InvalidRequest

Kind = Literal["async", "single", "recurring", "cron"]
_EPOCH = re.compile(r"^-?\d{1,12}(\.\d{1,9})?$")
# Query parameters of GET /actions: the keyword arguments of get_scheduled_actions.
LIST_PARAMETERS = (
    "hook",
    "args",
    "group",
    "status",
    "date_from",
    "date_to",
    "per_page",
    "cursor",
    "order",
)
_STATUS_SEPARATOR = ","
# Idempotency keys: a UUID is the expected form; any printable ASCII up to this length.
MAX_IDEMPOTENCY_KEY_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,%d}$" % MAX_IDEMPOTENCY_KEY_LENGTH  # noqa: UP031
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def strict_json(text: str | bytes, what: str) -> Any:
    """``text`` as JSON, refusing what JSON has not (NaN, Infinity), or ``InvalidRequest``.

    Not pydantic's parser: it takes NaN, which its JSON output then writes as null, so an
    action would run with other args than were sent.
    """
    try:
        return json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"{what} is not JSON: {str(exc)[:200]}") from None


def _when(value: str | float, what: str) -> datetime | float:
    """A time as JSON carries it: ISO 8601 text with its offset, or epoch seconds."""
    if not isinstance(value, str):
        return value
    if _EPOCH.fullmatch(value):
        return float(value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(
            f"{what} is an ISO 8601 time with its offset (2026-12-01T09:00:00+01:00) "
            f"or epoch seconds, not {value[:64]!r}"
        ) from None


class NewAction(BaseModel):
    """The body of ``POST /actions``: an action as the Python API takes it.

    Which function it becomes follows from the fields given: no ``timestamp``,
    ``enqueue_async_action``; a ``timestamp`` alone, ``schedule_single_action``; with
    ``interval_seconds``, ``schedule_recurring_action``; with ``cron`` (and maybe
    ``timezone``), ``schedule_cron_action``.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="NewAction",
    )

    hook: str = Field(
        description="A registered hook's name.",
        json_schema_extra={"pattern": HOOK_NAME.pattern},
    )
    args: Any = Field(
        default=None, description="JSON args for the hook; left out, the Python API's default."
    )
    group: str = Field(default="", description="The action's group.")
    unique: bool = Field(
        default=False,
        description="Refuse (409 duplicate_action) if a matching action is pending or running.",
    )
    priority: Literal["high", "default", "low"] | None = Field(
        default=None, description="Overrides the hook's priority."
    )
    timestamp: int | float | str | None = Field(
        default=None,
        description="When it (first) runs: ISO 8601 with an offset, or epoch seconds. "
        "Required with interval_seconds or cron; alone, a single action.",
    )
    interval_seconds: int | None = Field(
        default=None, description="Recurring: every this many seconds (whole minutes)."
    )
    cron: str | None = Field(default=None, description="Recurring: a five-field cron expression.")
    timezone: str | None = Field(
        default=None, description="The cron expression's IANA time zone (UTC by default)."
    )

    @model_validator(mode="after")
    def _fields_that_go_together(self) -> NewAction:
        if self.interval_seconds is not None and self.cron is not None:
            raise ValueError("give interval_seconds or cron, not both")
        if self.timezone is not None and self.cron is None:
            raise ValueError("timezone goes with cron")
        if self.timestamp is None and (self.interval_seconds is not None or self.cron is not None):
            raise ValueError("a recurring action needs its first time: timestamp")
        return self

    @classmethod
    def parse(cls, body: bytes) -> NewAction:
        """The body as a new action, or ``InvalidRequest`` saying what is wrong with it."""
        value = strict_json(body, "the body")
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            raise InvalidRequest(_first_error(exc)) from None

    @property
    def kind(self) -> Kind:
        if self.interval_seconds is not None:
            return "recurring"
        if self.cron is not None:
            return "cron"
        return "async" if self.timestamp is None else "single"

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, as JSON values (what a repeat must send again)."""
        return self.model_dump(mode="json", exclude_unset=True)

    def schedule(self, action_id: str | None = None) -> str:
        """Make the action with the ``functions.actions`` function its fields name; its id.

        ``action_id`` is given to an async action (``enqueue_async_action`` takes one); the
        schedule functions make their own.
        """
        from functions import actions

        options: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("args", "group", "unique", "priority")
            if name in self.model_fields_set
        }
        if self.kind == "async":
            return actions.enqueue_async_action(self.hook, action_id=action_id, **options)
        assert self.timestamp is not None  # noqa: S101 - every other kind has one
        when = _when(self.timestamp, "timestamp")
        if self.kind == "single":
            return actions.schedule_single_action(when, self.hook, **options)
        if self.kind == "recurring":
            assert self.interval_seconds is not None  # noqa: S101 - what makes it recurring
            return actions.schedule_recurring_action(
                when, self.interval_seconds, self.hook, **options
            )
        assert self.cron is not None  # noqa: S101 - what makes it cron
        if self.timezone is not None:
            options["timezone"] = self.timezone
        return actions.schedule_cron_action(when, self.cron, self.hook, **options)


def list_arguments(query: Mapping[str, Sequence[str]] | None) -> dict[str, Any]:
    """The keyword arguments of ``get_scheduled_actions`` that a query string gives.

    ``args`` is JSON text; ``status`` may be repeated or comma-separated (several: a
    list); times are ISO 8601 or epoch seconds; ``per_page`` a whole number. A
    parameter it does not take, or one given twice (but ``status``), is refused.
    """
    arguments: dict[str, Any] = {}
    for name, values in (query or {}).items():
        if name not in LIST_PARAMETERS:
            raise InvalidRequest(f"unknown query parameter {name[:64]!r}: one of {LIST_PARAMETERS}")
        if name == "status":
            statuses = [s for value in values for s in value.split(_STATUS_SEPARATOR) if s]
            if statuses:  # an empty value is no filter
                arguments["status"] = statuses[0] if len(statuses) == 1 else statuses
            continue
        if len(values) != 1:
            raise InvalidRequest(f"the query parameter {name} is given more than once")
        arguments[name] = _list_value(name, values[0])
    return arguments


def _list_value(name: str, value: str) -> Any:
    if name == "args":
        return strict_json(value, "args (JSON text, as the action's args were given)")
    if name in {"date_from", "date_to"}:
        return _when(value, name)
    if name == "per_page":
        if not value.isdigit() or len(value) > 6:
            raise InvalidRequest("per_page is a whole number")
        return int(value)
    return value


def idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header's value, if any, or ``InvalidRequest``."""
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidRequest(
            f"Idempotency-Key is 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters "
            "without spaces (a UUID, say)"
        )
    return value


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
