"""The job envelope: the versioned JSON body of every message on a job queue.

Everything the worker needs to run, retry or dead-letter an action travels in the
envelope, so a message is self-describing even when the actions table is behind.

A frozen dataclass checked by hand, not a pydantic model: the worker parses one per
record, and pydantic's import was the largest part of a cold start above the floor.
The message is the one the pydantic model wrote, byte for byte (tests/unit/test_envelope.py
pins it). Why: docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, Literal

from functions.actions.exceptions import ActionTooLarge, InvalidAction
from functions.actions.limits import (
    HOOK_NAME,
    MAX_ACTION_ID_LENGTH,
    MAX_GROUP_LENGTH,
    json_problem,
)
from functions.payloads.ref import InvalidPayloadRef, PayloadRef

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
PRIORITIES: tuple[Priority, ...] = ("high", "default", "low")

_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class InvalidEnvelope(ValueError):
    """A message (or the fields of an envelope) that is not a valid envelope: the one
    error ``Envelope`` raises for bad input; the message names the field first."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def dump_args(args: Any) -> str:
    """Serialize args as strict JSON (no NaN or Infinity), or refuse them clearly."""
    try:
        return _ENCODE(args)
    except (TypeError, ValueError) as exc:
        raise InvalidAction(f"args must be JSON-serializable: {exc}") from None


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


def escape_for_sqs(json_text: str) -> str:
    """JSON text with the characters SQS refuses in a body written as JSON escapes."""
    if "\ufffe" not in json_text and "\uffff" not in json_text:  # the usual case, found fast
        return json_text
    return _SQS_REFUSES.sub(_escape, json_text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """Version 1. ``args_ref`` (optional, absent from the message when unset) replaces
    ``args`` when the args are kept in the payload bucket; the worker loads them.

    Every construction checks every field (``dataclasses.replace`` included) and raises
    ``InvalidEnvelope``; the times are normalized to UTC. The fields' order is the
    message's.
    """

    v: Literal[1] = VERSION
    action_id: str
    hook: str
    args: Any = None
    group: str = ""
    priority: Priority = "default"
    attempt: int = 1
    max_attempts: int = 5
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
    # ``args_text``, once made: not a field of the message (``replace`` starts it afresh).
    _args_text: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def args_text(self) -> str:
        """The args as strict JSON (``dump_args``), encoded once per envelope: enqueue
        needs them for the payload check, the item and the message, and a webhook's args
        are its whole payload."""
        text = self._args_text
        if text is None:
            text = dump_args(self.args)
            object.__setattr__(self, "_args_text", text)  # frozen: a cache, not a change
        return text

    def __post_init__(self) -> None:  # noqa: PLR0912 - one check a field, in order
        if type(self.v) is not int or self.v != VERSION:
            raise InvalidEnvelope("v", f"the envelope's version is {VERSION}")
        action_id = self.action_id
        if (
            not isinstance(action_id, str)
            or not 1 <= len(action_id) <= MAX_ACTION_ID_LENGTH
            or not action_id.isprintable()
        ):
            raise InvalidEnvelope(
                "action_id", f"an action id is 1-{MAX_ACTION_ID_LENGTH} printable characters"
            )
        if not isinstance(self.hook, str) or not HOOK_NAME.fullmatch(self.hook):
            raise InvalidEnvelope("hook", f"hook names match {HOOK_NAME.pattern}")
        if self.args is not None:
            # The same check at enqueue and in the worker's parser (functions/actions/limits.py):
            # what json_problem allows, dump_args serializes.
            problem = json_problem(self.args)
            if problem:
                raise InvalidEnvelope("args", problem)
        if not _text(self.group) or len(self.group) > MAX_GROUP_LENGTH:
            raise InvalidEnvelope(
                "group", f"a group is text of at most {MAX_GROUP_LENGTH} characters"
            )
        if self.priority not in PRIORITIES or not isinstance(self.priority, str):
            raise InvalidEnvelope("priority", "the priority is 'high', 'default' or 'low'")
        for name in ("attempt", "max_attempts"):
            number = getattr(self, name)
            if type(number) is not int or number < 1:
                raise InvalidEnvelope(name, "an integer of at least 1")
        for name in ("scheduled_for", "enqueued_at"):
            moment = getattr(self, name)
            if not isinstance(moment, datetime):
                raise InvalidEnvelope(name, "a time is a datetime (ISO 8601 text in a message)")
            if moment.tzinfo is not UTC:
                object.__setattr__(self, name, _utc(name, moment))
        if not _text(self.correlation_id):
            raise InvalidEnvelope("correlation_id", "a correlation id is text")
        if self.args_ref is not None:
            if not isinstance(self.args_ref, PayloadRef):
                raise InvalidEnvelope("args_ref", "a payload reference (PayloadRef) or None")
            if self.args is not None:
                raise InvalidEnvelope("args_ref", "an envelope carries args or args_ref, not both")
        for name in ("listed", "recorded"):
            if type(getattr(self, name)) is not bool:
                raise InvalidEnvelope(name, "true or false")

    def to_message(self) -> str:
        """The SQS message body; refuses an envelope over the SQS size limit.

        Only characters SQS accepts: U+FFFE and U+FFFF are sent as JSON escapes. Without
        a reference the message is what it always was (older workers read it); with one,
        it carries the reference instead of the args. Compact JSON in the fields' order,
        times as ``2026-01-01T00:00:00Z`` (microseconds when there are some): the
        message the pydantic model wrote.
        """
        text = encode_basestring
        parts = [f'{{"v":{self.v},"action_id":{text(self.action_id)},"hook":{text(self.hook)}']
        ref = self.args_ref
        if ref is None:
            parts.append(f',"args":{_args_json(self.args, self.args_text)}')
        parts.append(
            f',"group":{text(self.group)},"priority":"{self.priority}"'
            f',"attempt":{self.attempt},"max_attempts":{self.max_attempts}'
            f',"scheduled_for":"{_iso(self.scheduled_for)}"'
            f',"enqueued_at":"{_iso(self.enqueued_at)}"'
            f',"correlation_id":{text(self.correlation_id)}'
        )
        if ref is not None:
            parts.append(
                f',"args_ref":{{"key":{text(ref.key)},"size":{ref.size}'
                f',"args_hash":"{ref.args_hash}"}}'
            )
        if not self.listed:
            parts.append(',"listed":false')
        if not self.recorded:
            parts.append(',"recorded":false')
        parts.append("}")
        body = escape_for_sqs("".join(parts))
        size = len(body.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise ActionTooLarge(
                f"the action's envelope is {size} bytes; SQS accepts at most {MAX_MESSAGE_BYTES}"
            )
        return body

    @classmethod
    def from_message(cls, body: str | bytes) -> Envelope:
        """The envelope of a message body; ``InvalidEnvelope`` for anything else."""
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 included
            raise InvalidEnvelope("body", f"the message is not JSON ({exc})") from None
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: Any) -> Envelope:
        """The envelope of a message's parsed JSON (times as ISO 8601 text, the reference
        as an object); ``InvalidEnvelope`` names the first field that is wrong.

        Stricter than the pydantic model was (which coerced in its lax mode): numbers
        must be JSON integers (not ``"3"`` or ``3.0``), flags JSON booleans (not ``"true"``
        or ``1``), times ISO 8601 text with an offset (not epoch seconds).
        """
        if not isinstance(document, dict):
            raise InvalidEnvelope("body", "an envelope is a JSON object")
        for name in document:
            if name not in _FIELD_NAMES:
                shown = name if len(name) <= 64 else f"{name[:64]}..."
                raise InvalidEnvelope(
                    shown, "not a field of the envelope (extra inputs are not permitted)"
                )
        for name in _REQUIRED:
            if name not in document:
                raise InvalidEnvelope(name, "missing (a required field)")
        fields = dict(document)
        fields["scheduled_for"] = _moment("scheduled_for", fields["scheduled_for"])
        fields["enqueued_at"] = _moment("enqueued_at", fields["enqueued_at"])
        ref = fields.get("args_ref")
        if ref is not None:
            try:
                fields["args_ref"] = PayloadRef.from_dict(ref)
            except InvalidPayloadRef as exc:
                raise InvalidEnvelope("args_ref", str(exc)) from None
        return cls(**fields)


_FIELD_NAMES = frozenset(name for name in Envelope.__dataclass_fields__ if name[0] != "_")
_REQUIRED = ("action_id", "hook", "scheduled_for", "enqueued_at")
# A float Python writes with a negative exponent ("1e-07", "1.5e-05"): pydantic wrote
# those as "1e-7" and "0.000015", so args holding one take the slower, exact path.
_PYTHON_EXPONENT = re.compile(r"[0-9]e-[0-9]")


def _args_json(args: Any, dumped: str) -> str:
    """The args as the message carries them: compact JSON, the characters as they are
    (``dumped``: ``dump_args(args)``)."""
    if "e-" in dumped and _PYTHON_EXPONENT.search(dumped):
        return _json(args)
    return dumped


def _json(value: Any) -> str:
    """JSON of a value ``json_problem`` allows, with floats as pydantic wrote them."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        inner = ",".join(f"{encode_basestring(key)}:{_json(item)}" for key, item in value.items())
        return f"{{{inner}}}"
    return f"[{','.join(_json(item) for item in value)}]"


def _float(number: float) -> str:
    """A float as pydantic writes it: Python's repr, but below 1e-4 ``0.0000ddd`` down to
    1e-5 and ``de-N`` (no zero padding) below that."""
    written = float.__repr__(number)
    mantissa, negative, exponent = written.partition("e-")
    if not negative:
        return written
    power = int(exponent)
    if power == 5:  # the one decade pydantic writes as a decimal
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e-{power}"


def _iso(moment: datetime) -> str:
    """A UTC time as pydantic wrote it: ``2026-01-01T00:00:00Z``, ``...00:00:00.000500Z``."""
    return f"{moment.isoformat()[:-6]}Z"


def _utc(name: str, moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise InvalidEnvelope(name, "timestamps must be timezone-aware")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidEnvelope(name, "the time is out of range in UTC") from None


def _moment(name: str, value: Any) -> datetime:
    """A time of a message: ISO 8601 text (``Z`` or an offset; a time without one is
    refused by the envelope's check)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidEnvelope(name, "a time is ISO 8601 text")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidEnvelope(name, f"not an ISO 8601 time: {value[:64]!r}") from None


def _text(value: Any) -> bool:
    """Is ``value`` a str that UTF-8 can carry (no lone surrogate)?"""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
