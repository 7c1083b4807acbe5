"""The action as a typed record, and its one conversion to and from the table's item.

Only this module knows what an action's item looks like: attribute names, JSON text
for args, epoch seconds for times, the derived index keys. Everything else reads and
writes ``Action`` records. Times are UTC datetimes; the store writes them as
``datetime.timestamp()``, which reads back to the same datetime, so a conditional
write on a time it read matches exactly.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast, get_args

from functions.actions.envelope import Envelope, Priority, dump_args
from functions.payloads.ref import PayloadRef

if TYPE_CHECKING:  # a name for annotations: the hooks' registry is not the record's
    from functions.actions.hooks import UniqueBy


class ActionStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELED = "canceled"


class ActionKind(StrEnum):
    """How the action was made; a run of a recurring action has none of its own."""

    ASYNC = "async"
    SINGLE = "single"
    RATE = "rate"
    CRON = "cron"


class LogEvent(StrEnum):
    CREATED = "created"
    STARTED = "started"
    COMPLETED = "completed"
    RETRY = "retry"
    FAILED = "failed"
    DEAD_LETTERED = "dead-lettered"
    CANCELED = "canceled"
    REDRIVEN = "redriven"
    WAITING = "waiting"  # the run started a saga; the action waits for its outcome
    SAGA_SUCCEEDED = "saga-succeeded"
    SAGA_FAILED = "saga-failed"  # failed, timed out or aborted
    RUN_NOW = "run-now"  # sent to its queue now, on someone's request (who: the message)


LOG_LIMIT = 50  # log entries an item keeps, the newest
LOG_MESSAGE_LIMIT = 1000
ERROR_LIMIT = 2000
# How long a finished action's item stays (its TTL), by status.
RETENTION_SECONDS = {
    ActionStatus.COMPLETE: 31 * 86400,
    ActionStatus.CANCELED: 31 * 86400,
    ActionStatus.FAILED: 93 * 86400,
}
# What each index holds besides its own and the table's keys: what its queries filter
# on or read without going back to the table (docs/decisions: the index projections).
INDEX_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "by_hook": ("args_hash", "group", "scheduled_for", "kind", "recurrence"),
    "by_match": ("scheduled_for", "kind", "recurrence"),
    "by_status": ("hook", "args_hash", "group", "updated_at"),
}
# Each index's key, with the table's: (partition, sort).
INDEX_KEYS: dict[str, tuple[str, str]] = {
    "by_hook": ("hook", "status_scheduled"),
    "by_match": ("match_key", "status_scheduled"),
    "by_status": ("status", "scheduled_for"),
}


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def now() -> datetime:
    """The current time at the store's precision (whole microseconds)."""
    return datetime.now(UTC)


def args_hash(args: Any) -> str:
    """A stable hash of args: sorted keys, no whitespace. Used to match queries and uniqueness."""
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_of(args: Any, args_ref: PayloadRef | None) -> str:
    """The args' hash, whether they are inline or kept in the payload bucket."""
    return args_ref.args_hash if args_ref is not None else args_hash(args)


def match_key(hook: str, args: Any, group: str, *, hashed: str | None = None) -> str:
    """The ``by_match`` index's key: one partition per hook, args and group (``hashed``:
    the args' hash, given instead of the args)."""
    digest = args_hash(args) if hashed is None else hashed
    return hashlib.sha256(f"{hook}\n{digest}\n{group}".encode()).hexdigest()


def unique_key(
    hook: str, args: Any, group: str, *, hashed: str | None = None, by: UniqueBy = "group"
) -> str:
    """The id of the counter item an action of a hook with ``unique_by`` is counted in:
    one per hook and group (``by="group"``), or per hook, args and group (``"args"``)."""
    if by == "group":
        return "unique#group#" + hashlib.sha256(f"{hook}\n{group}".encode()).hexdigest()
    return "unique#args#" + match_key(hook, args, group, hashed=hashed)


def status_scheduled(status: ActionStatus, scheduled_for: datetime) -> str:
    """The sort key of ``by_hook`` and ``by_match``: status, then time."""
    return status_key(status, epoch(scheduled_for))


def status_key(status: ActionStatus, seconds: float) -> str:
    """``status_scheduled`` for epoch seconds (a query's bound may be past year 9999)."""
    return f"{status}#{seconds:020.6f}"


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    event: LogEvent
    message: str = ""
    attempt: int = 0

    @classmethod
    def new(cls, event: LogEvent, message: str = "", attempt: int = 0) -> LogEntry:
        """An entry stamped now, to the millisecond (as the item keeps it)."""
        at = now()
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        return cls(at, event, message[:LOG_MESSAGE_LIMIT], attempt)

    def to_plain(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="milliseconds"),
            "event": str(self.event),
            "message": self.message,
            "attempt": self.attempt,
        }

    @classmethod
    def from_plain(cls, value: dict[str, Any]) -> LogEntry:
        return cls(
            at=datetime.fromisoformat(value["at"]).astimezone(UTC),
            event=LogEvent(value["event"]),
            message=value.get("message", ""),
            attempt=int(value.get("attempt", 0)),
        )


@dataclass(frozen=True)
class SagaOutcome:
    """How a saga an action started ended: its execution and Step Functions' status
    (``SUCCEEDED``, ``FAILED``, ``TIMED_OUT``, ``ABORTED``), with its error, if any."""

    execution_arn: str
    status: str
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def execution_name(self) -> str:
        return self.execution_arn.rpartition(":")[2]

    def describe(self) -> str:
        """One line for the action's log: ``order-o-1 failed: PermanentError: ...``."""
        text = f"{self.execution_name} {self.status.lower().replace('_', ' ')}"
        return f"{text}: {self.error}" if self.error else text

    def to_plain(self) -> dict[str, str]:
        return {"execution_arn": self.execution_arn, "status": self.status, "error": self.error}

    @classmethod
    def from_plain(cls, value: dict[str, Any]) -> SagaOutcome:
        return cls(str(value["execution_arn"]), str(value["status"]), str(value.get("error", "")))


@dataclass(frozen=True)
class Recurrence:
    """A recurring action's rule: every ``interval_seconds`` from ``start``, or a cron."""

    kind: ActionKind
    interval_seconds: int = 0
    start: datetime | None = None
    cron: str = ""
    timezone: str = "UTC"

    @classmethod
    def rate(cls, interval_seconds: int, start: datetime) -> Recurrence:
        return cls(ActionKind.RATE, interval_seconds=interval_seconds, start=start)

    @classmethod
    def cron_rule(cls, expression: str, timezone: str) -> Recurrence:
        return cls(ActionKind.CRON, cron=expression, timezone=timezone)

    def to_plain(self) -> dict[str, Any]:
        if self.kind is ActionKind.RATE:
            assert self.start is not None  # noqa: S101 - rate() always sets it
            return {
                "kind": str(self.kind),
                "interval_seconds": self.interval_seconds,
                "start": epoch(self.start),
            }
        return {"kind": str(self.kind), "cron": self.cron, "timezone": self.timezone}

    @classmethod
    def from_plain(cls, value: dict[str, Any]) -> Recurrence:
        kind = ActionKind(value["kind"])
        if kind is ActionKind.RATE:
            return cls.rate(int(value["interval_seconds"]), moment(value["start"]))
        return cls.cron_rule(value["cron"], value.get("timezone", "UTC"))


@dataclass(frozen=True)
class Action:
    """One action as the actions table holds it. Frozen: a change is a store write.

    Args above the inline threshold are in the payload bucket: ``args`` is then None
    and ``args_ref`` says where they are (``functions.payloads.store.load`` reads them).
    """

    action_id: str
    hook: str
    args: Any
    group: str
    priority: Priority
    status: ActionStatus
    attempts: int  # runs started
    max_attempts: int
    scheduled_for: datetime
    created_at: datetime
    updated_at: datetime
    correlation_id: str = ""
    kind: ActionKind | None = None
    recurrence: Recurrence | None = None
    schedule_name: str | None = None
    unique_key: str | None = None  # the counter item it is counted in (store/counters.py)
    failed_runs: int | None = None  # a recurring action's failed runs in a row, if any
    last_error: str | None = None
    claim_expires_at: datetime | None = None
    expires_at: datetime | None = None  # the item's TTL
    log: tuple[LogEntry, ...] = field(default=())
    args_ref: PayloadRef | None = None
    # The saga execution an in-progress action waits for (its hook returned AwaitSaga),
    # and how the last saga it started ended (functions/sagas/outcomes.py records it).
    waiting_for: str | None = None
    saga: SagaOutcome | None = None
    # False while an action of a hook with ``listed_while_queued=False`` is queued or
    # running: its item then has none of the indexes' keys (``to_item``).
    listed: bool = True
    # The args' hash as its item holds it (``from_item``), so that a write deriving the
    # index keys again does not encode the args again; None: computed when needed.
    args_hash: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def new(
        cls,
        envelope: Envelope,
        *,
        status: ActionStatus = ActionStatus.PENDING,
        at: datetime | None = None,
        **optional: Any,
    ) -> Action:
        """The action an envelope describes, as first written (``optional``: kind,
        recurrence, schedule_name, unique_key, log)."""
        created = at or now()
        return cls(
            action_id=envelope.action_id,
            hook=envelope.hook,
            args=envelope.args,
            group=envelope.group,
            priority=envelope.priority,
            status=status,
            attempts=0,
            max_attempts=envelope.max_attempts,
            scheduled_for=envelope.scheduled_for,
            created_at=created,
            updated_at=created,
            correlation_id=envelope.correlation_id,
            args_ref=envelope.args_ref,
            listed=envelope.listed,
            **optional,
        )

    @property
    def is_recurring(self) -> bool:
        return self.recurrence is not None

    def but(self, **changes: Any) -> Action:
        """A copy with ``changes`` (what a write made of it)."""
        if "args" in changes or "args_ref" in changes:
            changes.setdefault("args_hash", None)  # other args: their hash is not known
        return replace(self, **changes)

    @property
    def hashed_args(self) -> str:
        """The args' hash (``hash_of``), read from the item when it was."""
        return self.args_hash or hash_of(self.args, self.args_ref)

    def to_document(self) -> dict[str, Any]:
        """As JSON for people and other programs: ISO times, args as they were given."""
        document: dict[str, Any] = {}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Recurrence):
                value = value.to_plain()
                if "start" in value:
                    value["start"] = moment(value["start"]).isoformat()
            elif name == "log":
                value = [entry.to_plain() for entry in value]
            elif isinstance(value, PayloadRef):
                value = value.to_dict()
            elif isinstance(value, SagaOutcome):
                value = value.to_plain()
            elif isinstance(value, StrEnum):
                value = str(value)
            document[name] = value
        return document


# ``listed`` is the store's business (how the item is keyed), not the action's: it is
# neither an attribute of the item nor in the action's document; ``args_hash`` is
# derived (``DERIVED``).
_FIELD_NAMES = tuple(f.name for f in fields(Action) if f.name not in ("listed", "args_hash"))
_TIMES = frozenset({"scheduled_for", "created_at", "updated_at", "claim_expires_at"})
# Attributes the item holds for the indexes and uniqueness, derived from the record.
DERIVED = ("args_hash", "match_key", "status_scheduled")
# Args whose JSON is over this many bytes are kept zlib-compressed in ``args_z`` when that
# saves a quarter or more: every write of an item is billed per started KB, and a
# webhook's item under 1 KB costs one write unit a write instead of two.
COMPRESS_ARGS_OVER = 256
COMPRESSED_ARGS = "args_z"
# An unlisted action keeps its time here, not in ``scheduled_for`` (by_status's sort key):
# without ``scheduled_for``, ``match_key`` and ``status_scheduled`` no index holds it.
UNLISTED_TIME = "due_at"


def to_item(action: Action, *, args_text: str | None = None) -> dict[str, Any]:
    """The action as the table's item, in plain values (``functions.dynamodb`` types them).

    Absent optional fields are left out of the item, not written as null. ``args_text``:
    the args' ``dump_args`` when the caller has it (an envelope's ``args_text``).
    """
    item: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(action, name)
        if value is None:
            continue
        if name in _TIMES:
            value = epoch(value)
        elif name == "expires_at":
            value = int(epoch(value))
        elif name == "args":
            attribute, kept = _args_attribute(value, args_text)
            item[attribute] = kept
            continue
        elif name == "recurrence":
            value = value.to_plain()
        elif name == "log":
            value = [entry.to_plain() for entry in value]
        elif name == "args_ref":
            value = value.to_dict()
        elif name == "saga":
            value = value.to_plain()
        elif isinstance(value, StrEnum):
            value = str(value)
        item[name] = value
    hashed = action.hashed_args
    item["args_hash"] = hashed
    if not action.listed:
        item[UNLISTED_TIME] = item.pop("scheduled_for")
        return item
    item["match_key"] = match_key(action.hook, action.args, action.group, hashed=hashed)
    item["status_scheduled"] = status_scheduled(action.status, action.scheduled_for)
    return item


def _args_attribute(args: Any, text: str | None = None) -> tuple[str, str | bytes]:
    """The args as the item keeps them: JSON text, or compressed when that pays."""
    text = dump_args(args) if text is None else text
    raw = text.encode()
    if len(raw) > COMPRESS_ARGS_OVER:
        packed = zlib.compress(raw)
        if len(packed) * 4 <= len(raw) * 3:
            return COMPRESSED_ARGS, packed
    return "args", text


def args_of(item: dict[str, Any]) -> Any:
    """An item's args (plain values), kept as JSON text or compressed."""
    if "args" in item:
        return json.loads(item["args"])
    if COMPRESSED_ARGS in item:
        return json.loads(zlib.decompress(item[COMPRESSED_ARGS]))
    return None


def is_action(item: dict[str, Any]) -> bool:
    """Is this item an action (not a counter item, which shares the table)?"""
    return "status" in item and "hook" in item


_READ: Any = object()


def from_item(item: dict[str, Any], *, args: Any = _READ) -> Action:
    """The record of an action's item (plain values, as ``functions.dynamodb`` reads them).

    ``args``: the action's args as the caller already holds them (a claim: its message's,
    which the item was written from and never changes), not decoded from the item again.
    """
    listed = UNLISTED_TIME not in item
    scheduled = item["scheduled_for"] if listed else item[UNLISTED_TIME]
    return Action(
        action_id=item["action_id"],
        hook=item["hook"],
        args=args_of(item) if args is _READ else args,
        group=item.get("group", ""),
        priority=_priority(item.get("priority", "default")),
        status=ActionStatus(item["status"]),
        attempts=int(item.get("attempts", 0)),
        max_attempts=int(item.get("max_attempts", 1)),
        scheduled_for=moment(scheduled),
        created_at=moment(item.get("created_at", scheduled)),
        updated_at=moment(item.get("updated_at", scheduled)),
        correlation_id=item.get("correlation_id", ""),
        kind=ActionKind(item["kind"]) if item.get("kind") else None,
        recurrence=Recurrence.from_plain(item["recurrence"]) if item.get("recurrence") else None,
        schedule_name=item.get("schedule_name"),
        unique_key=item.get("unique_key"),
        failed_runs=item.get("failed_runs"),
        last_error=item.get("last_error"),
        claim_expires_at=_optional_moment(item.get("claim_expires_at")),
        expires_at=_optional_moment(item.get("expires_at")),
        log=tuple(LogEntry.from_plain(entry) for entry in item.get("log", [])),
        args_ref=PayloadRef.from_dict(item["args_ref"]) if item.get("args_ref") else None,
        waiting_for=item.get("waiting_for"),
        saga=SagaOutcome.from_plain(item["saga"]) if item.get("saga") else None,
        listed=listed,
        args_hash=item.get("args_hash"),
    )


_PRIORITIES = frozenset(get_args(Priority))


def _priority(value: str) -> Priority:
    if value not in _PRIORITIES:
        raise ValueError(f"not a priority: {value!r}")
    return cast(Priority, value)


def _optional_moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else moment(seconds)


@dataclass(frozen=True)
class IndexEntry:
    """An action as an index holds it: its keys and the index's few attributes.

    What has/next/unschedule and the health check's samples need, at a fraction of the
    item's read cost. Fields an index does not project are None.
    """

    action_id: str
    scheduled_for: datetime
    status: ActionStatus | None = None
    hook: str | None = None
    group: str | None = None
    kind: ActionKind | None = None
    recurrence: Recurrence | None = None
    updated_at: datetime | None = None

    @property
    def is_recurring(self) -> bool:
        return self.recurrence is not None

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"action_id": self.action_id}
        for name in ("hook", "group", "status", "kind"):
            if getattr(self, name) is not None:
                document[name] = str(getattr(self, name))
        document["scheduled_for"] = self.scheduled_for.isoformat(timespec="seconds")
        if self.updated_at is not None:
            document["updated_at"] = self.updated_at.isoformat(timespec="seconds")
        return document


def entry_from_item(item: dict[str, Any]) -> IndexEntry:
    """An index entry (plain values) as a record."""
    status = item.get("status")
    if status is None and "status_scheduled" in item:
        status = item["status_scheduled"].partition("#")[0]
    scheduled = item.get("scheduled_for")
    if scheduled is None:  # by_hook/by_match without the time projected: from the sort key
        scheduled = float(item["status_scheduled"].partition("#")[2])
    return IndexEntry(
        action_id=item["action_id"],
        scheduled_for=moment(scheduled),
        status=ActionStatus(status) if status else None,
        hook=item.get("hook"),
        group=item.get("group"),
        kind=ActionKind(item["kind"]) if item.get("kind") else None,
        recurrence=Recurrence.from_plain(item["recurrence"]) if item.get("recurrence") else None,
        updated_at=_optional_moment(item.get("updated_at")),
    )
