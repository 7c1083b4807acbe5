"""The action's state machine: create, claim, finish (complete, retry, fail), cancel, redrive.

Every status change is a conditional write, so concurrent workers, duplicate
deliveries and cancellations never race an action into two states:

    pending --claim--> in-progress --complete--> complete
                                   --retry_later--> pending
                                   --fail--> failed --reset_for_redrive--> pending
    in-progress, its claim expired --reset_for_redrive--> pending
    pending --cancel--> canceled
    in-progress --await_saga--> in-progress (waiting) --record_saga_outcome--> complete | failed
    pending --stop_recurring--> failed     (a recurring action whose runs keep failing)

An unlisted action (its hook's ``listed_while_queued=False``, made to run now) is written
and claimed without the indexes' keys; the first write that ends its run or makes it
wait (complete, retry, fail, cancel, a saga) lists it (``_listed``).
Why: docs/decisions/0056-actions-to-run-now-are-listed-when-their-run-ends.md

An action of a hook with ``unique_by`` is counted in its counter item from create (or
redrive) until it completes, fails or is canceled, in the same transactions
(``counters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from functions.actions.envelope import Envelope
from functions.actions.exceptions import DuplicateAction, InvalidAction
from functions.actions.store import counters, table
from functions.actions.store.record import (
    ERROR_LIMIT,
    LOG_LIMIT,
    RETENTION_SECONDS,
    UNLISTED_TIME,
    Action,
    ActionStatus,
    LogEntry,
    LogEvent,
    SagaOutcome,
    epoch,
    from_item,
    hash_of,
    is_action,
    match_key,
    now,
    status_scheduled,
    to_item,
    unique_key,
)
from functions.dynamodb import condition_failed, to_attribute
from functions.dynamodb import from_item as plain
from functions.dynamodb import to_item as typed

if TYPE_CHECKING:  # a name for annotations: the hooks' registry is not the store's
    from functions.actions.hooks import UniqueBy

PENDING, IN_PROGRESS, FAILED = ActionStatus.PENDING, ActionStatus.IN_PROGRESS, ActionStatus.FAILED
ENDED = frozenset(RETENTION_SECONDS)  # complete, failed, canceled: no longer counted


class _Update:
    """An UpdateItem's expressions, every attribute behind a ``#name`` placeholder."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        self.names[f"#{attribute}"] = attribute
        return f"#{attribute}"

    def value(self, label: str, value: Any) -> str:
        self.values[f":{label}"] = to_attribute(value)
        return f":{label}"

    def set(self, attribute: str, value: Any) -> _Update:
        self.sets.append(f"{self.name(attribute)} = {self.value(attribute, value)}")
        return self

    def set_if_absent(self, attribute: str, value: Any) -> _Update:
        name, label = self.name(attribute), self.value(attribute, value)
        self.sets.append(f"{name} = if_not_exists({name}, {label})")
        return self

    def append(self, attribute: str, entries: list[Any]) -> _Update:
        name = self.name(attribute)
        empty, new = self.value("empty", []), self.value(f"new_{attribute}", entries)
        self.sets.append(f"{name} = list_append(if_not_exists({name}, {empty}), {new})")
        return self

    def remove(self, *attributes: str) -> _Update:
        self.removes.extend(self.name(attribute) for attribute in attributes)
        return self

    def params(self, action_id: str, condition: str) -> dict[str, Any]:
        expression = f"SET {', '.join(self.sets)}"
        if self.removes:
            expression += f" REMOVE {', '.join(self.removes)}"
        return {
            "TableName": table.name(),
            "Key": table.key(action_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }


def _status_change(
    status: ActionStatus, scheduled_for: datetime, *, listed: bool = True
) -> _Update:
    """A write that moves the action to ``status``: its sort keys move with it (an
    unlisted action has none)."""
    update = _Update()
    update.set("status", str(status)).set("updated_at", epoch(now()))
    if listed:
        update.set("status_scheduled", status_scheduled(status, scheduled_for))
    return update


def _listed(update: _Update, of: Action | Envelope, scheduled_for: datetime) -> _Update:
    """The action in the indexes from this write on, at ``scheduled_for``: an unlisted
    one's time moves to ``scheduled_for`` and it gets its ``match_key`` (a listed one's
    are written as they were, which moves no index entry)."""
    hashed = of.hashed_args if isinstance(of, Action) else hash_of(of.args, of.args_ref)
    update.set("scheduled_for", epoch(scheduled_for))
    update.set("match_key", match_key(of.hook, of.args, of.group, hashed=hashed))
    return update.remove(UNLISTED_TIME)


class ClaimOutcome(StrEnum):
    """What a claim found. Only ``CLAIMED`` runs the hook."""

    CLAIMED = "claimed"
    RUNNING_ELSEWHERE = "already running"
    ATTEMPT_ALREADY_RAN = "this attempt already ran (a duplicate delivery)"
    FINISHED = "already finished"
    RECURRENCE_CANCELED = "its recurring action is canceled or stopped"


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to start a run, and the action as it now is."""

    outcome: ClaimOutcome
    action: Action | None
    # A run of a recurring action (``<recurring id>@<time>``): that recurring action.
    recurring: Action | None = None

    @property
    def claimed(self) -> bool:
        return self.outcome is ClaimOutcome.CLAIMED

    @property
    def reason(self) -> str:
        """The outcome for a log line (a finished action says its status)."""
        if self.outcome is ClaimOutcome.FINISHED and self.action is not None:
            return f"already {self.action.status}"
        return str(self.outcome)


def create(
    envelope: Envelope, *, unique: bool = False, unique_by: UniqueBy | None = None, **optional: Any
) -> bool:
    """Write the action as pending. False if an action with this id already exists.

    ``optional`` are the record's optional fields (kind, recurrence, schedule_name).
    With ``unique_by`` (the hook's), the action is counted in its counter item in the
    same transaction; with ``unique`` too, on condition that nothing is counted there,
    so two concurrent calls create one action and ``DuplicateAction`` names the other.
    """
    created = now()
    due = (
        "past-due"
        if epoch(envelope.scheduled_for) < epoch(created) - 1
        else f"scheduled for {envelope.scheduled_for}"
    )
    counter = (
        unique_key(
            envelope.hook,
            envelope.args,
            envelope.group,
            hashed=hash_of(envelope.args, envelope.args_ref),
            by=unique_by,
        )
        if unique_by is not None
        else None
    )
    if unique and counter is None:
        raise InvalidAction(  # the API checks this before anything is written
            f"hook {envelope.hook!r} has no unique_by: its actions are not counted"
        )
    action = Action.new(
        envelope,
        at=created,
        unique_key=counter,
        log=(LogEntry.new(LogEvent.CREATED, due),),
        **optional,
    )
    put: dict[str, Any] = {
        "TableName": table.name(),
        "Item": typed(to_item(action, args_text=envelope.args_text)),
        "ConditionExpression": "attribute_not_exists(action_id)",
    }
    if counter is None:
        try:
            table.dynamodb().put_item(**put)
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    try:
        counters.transact(
            [{"Put": put}, {"Update": counters.count_in(counter, action.action_id, unique=unique)}]
        )
    except ClientError as exc:
        codes = counters.cancellation_codes(exc)
        if codes[0] == "ConditionalCheckFailed":  # this very action exists: a repeat
            return False
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            holding = _live_match(action, counters.old_holder(exc, 1), by=unique_by)
            what = "group" if unique_by == "group" else "args and group"
            raise DuplicateAction(
                f"a pending or running {envelope.hook!r} action with this {what} exists: {holding}",
                holding,
            ) from None
        raise
    return True


def _live_match(action: Action, holder: str, *, by: UniqueBy | None) -> str:
    """A pending or running action counted where ``action`` would be: the counter's
    latest creation if it is still live, else one the indexes find (they lag writes by
    a moment, so the holder is the answer when they find none)."""
    current = get(holder) if holder else None
    if current is not None and current.status in (PENDING, IN_PROGRESS):
        return holder
    from functions.actions.store import reads  # an index query: rare, so loaded here

    args = action.args if by == "args" and action.args_ref is None else reads.ANY
    for status in (PENDING, IN_PROGRESS):
        criteria = reads.Criteria(action.hook, status, args, action.group)
        found = reads.entries(criteria, per_page=1).items
        if found:
            return found[0].action_id
    return holder


def discard(action_id: str) -> None:
    """Undo ``create`` when the message could not be sent: no pending action without one."""
    current = get(action_id)
    if current is None or current.status is not PENDING:
        return
    delete: dict[str, Any] = {
        "TableName": table.name(),
        "Key": table.key(action_id),
        "ConditionExpression": "#s = :pending",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":pending": to_attribute(str(PENDING))},
    }
    try:
        if current.unique_key and not counters.is_legacy(current.unique_key):
            counters.transact(
                [{"Delete": delete}, {"Update": counters.count_out(current.unique_key)}]
            )
            return
        table.dynamodb().delete_item(**delete)
    except ClientError as exc:
        if counters.first_condition_failed(exc):
            return
        raise
    if current.unique_key:
        counters.release_legacy(current.unique_key, action_id)


def get(action_id: str) -> Action | None:
    """The action (strongly consistent read), or None: none, or a uniqueness lock's id."""
    item = table.get_item(action_id)
    values = plain(item) if item else None
    return from_item(values) if values and is_action(values) else None


def claim(envelope: Envelope, attempt: int, claim_seconds: float) -> Claim:
    """Move the action to in-progress for run number ``attempt``, or say why not.

    Claims a pending action whose recorded runs are fewer than ``attempt`` (a stale
    duplicate of an earlier attempt is refused), or an in-progress one whose claim
    expired (its worker died) or that an attempt newer than its own supersedes. An
    action that does not exist yet (a recurring run, or one created by a scheduler
    straight onto the queue) is created in-progress, unless it is a run of a recurring
    action that has been canceled or stopped since the run was sent.
    """
    started = now()
    recurring = _recurring_of(envelope.action_id)
    # Canceled, or stopped after failing (stop_recurring): it starts no new run.
    canceled = recurring is not None and recurring.status in (ActionStatus.CANCELED, FAILED)
    if recurring is not None and not canceled and attempt == 1:
        _count_run(envelope, recurring.unique_key)
    listed = envelope.listed
    # Most claims find the item that enqueue wrote: their write holds only what the claim
    # changes. A recurring run's item does not exist yet; nor may one whose enqueue wrote
    # no item: their write creates it whole (and a claim that finds no item tries so).
    creating = recurring is not None and not canceled
    while True:
        update = _claiming(
            envelope, attempt, started, claim_seconds, listed=listed, creating=creating
        )
        # A canceled recurrence starts no new run; a run already recorded goes on.
        create = "attribute_not_exists(action_id) OR " if creating else ""
        condition = (
            f"({create}(#status = :pending AND #attempts < :attempts) OR (#status = :status "
            "AND (#claim_expires_at < :now OR #attempts < :attempts)))"
        )
        if not listed:  # and still unlisted: its item has no index keys to move
            unlisted = f"attribute_exists({UNLISTED_TIME})"
            condition += (
                f" AND (attribute_not_exists(action_id) OR {unlisted})"
                if creating
                else f" AND {unlisted}"
            )
        try:
            response = table.dynamodb().update_item(
                **update.params(envelope.action_id, condition),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            old = plain(cast("dict[str, Any]", exc.response.get("Item", {})))
            if not old and canceled:
                return Claim(ClaimOutcome.RECURRENCE_CANCELED, None, recurring)
            if not old and not creating:
                creating = True  # no item to claim: this claim writes it
                continue
            current = from_item(old)
            if not listed and current.listed:
                listed = True  # listed since it was sent (a retry, a redrive): claim it so
                continue
            return Claim(_why_not(current), current, recurring)
        claimed = from_item(plain(response["Attributes"]), args=envelope.args)
        return Claim(ClaimOutcome.CLAIMED, claimed, recurring)


def _claiming(  # noqa: PLR0913 - keyword-only: which of the claim's two writes
    envelope: Envelope,
    attempt: int,
    started: datetime,
    claim_seconds: float,
    *,
    listed: bool,
    creating: bool,
) -> _Update:
    """The claim's write: in progress for run ``attempt``; ``creating``: the rest of the
    item too, each attribute only if absent (a recurring run's item is created by its
    claim)."""
    update = _status_change(IN_PROGRESS, envelope.scheduled_for, listed=listed)
    update.set("attempts", attempt).set("claim_expires_at", epoch(started) + claim_seconds)
    started_entry = LogEntry.new(LogEvent.STARTED, _of(attempt, envelope), attempt)
    update.append("log", [started_entry.to_plain()])
    update.remove("expires_at")
    if listed:
        update.remove(UNLISTED_TIME)
    if creating:
        written = set(update.names.values())
        # Everything the envelope says of the action, for an item this claim creates.
        record = Action.new(envelope, at=started).but(listed=listed)
        for attribute, value in to_item(record).items():
            if attribute not in written and attribute != "action_id":
                update.set_if_absent(attribute, value)
    update.value("pending", str(PENDING))
    update.value("now", epoch(started))
    return update


def _of(attempt: int, envelope: Envelope) -> str:
    return f"attempt {attempt} of {envelope.max_attempts}"


def _why_not(current: Action) -> ClaimOutcome:
    if current.status is IN_PROGRESS:
        return ClaimOutcome.RUNNING_ELSEWHERE
    if current.status is PENDING:
        return ClaimOutcome.ATTEMPT_ALREADY_RAN
    return ClaimOutcome.FINISHED


def _count_run(envelope: Envelope, key: str | None) -> None:
    """A run of a counted recurring action is counted too (it is a running match for a
    unique check): its item is first written pending, with the count, then claimed as
    any pending action is. A repeated delivery finds it written and adds nothing."""
    if key is None or counters.is_legacy(key):
        return
    put: dict[str, Any] = {
        "TableName": table.name(),
        "Item": typed(to_item(Action.new(envelope, unique_key=key))),
        "ConditionExpression": "attribute_not_exists(action_id)",
    }
    try:
        counters.transact(
            [{"Put": put}, {"Update": counters.count_in(key, envelope.action_id, unique=False)}]
        )
    except ClientError as exc:
        if not counters.first_condition_failed(exc):
            raise


def _recurring_of(action_id: str) -> Action | None:
    """The recurring action of a run (``<recurring id>@<time>``), read once per claim."""
    recurring_id, separator, _ = action_id.partition("@")
    if not separator:
        return None
    recurring = get(recurring_id)
    return recurring if recurring and recurring.is_recurring else None


def reschedule(action: Action, scheduled_for: datetime) -> bool:
    """Move a pending recurring action's time to its next run (its sort keys follow)."""
    update = _listed(_status_change(PENDING, scheduled_for), action, scheduled_for)
    update.value("pending", str(PENDING))
    try:
        table.dynamodb().update_item(
            **update.params(action.action_id, "#status = :pending AND attribute_exists(recurrence)")
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _finish(
    action: Action,
    status: ActionStatus,
    entries: list[LogEntry],
    *,
    error: str | None = None,
    scheduled_for: datetime | None = None,
) -> None:
    """Write the run's outcome, on condition that this run still holds the claim."""
    _write_finish(action, status, _finishing(action, status, entries, error, scheduled_for))


def _finishing(
    action: Action,
    status: ActionStatus,
    entries: list[LogEntry],
    error: str | None,
    scheduled_for: datetime | None,
) -> _Update:
    """The write of a run's outcome (a finished run waits for nothing any more)."""
    scheduled = action.scheduled_for if scheduled_for is None else scheduled_for
    update = _listed(_status_change(status, scheduled), action, scheduled)
    if len(action.log) + len(entries) <= LOG_LIMIT:
        # Only this run's entries travel: the item's log is what the claim read, or more.
        update.append("log", [entry.to_plain() for entry in entries])
    else:
        log = [*action.log, *entries][-LOG_LIMIT:]
        update.set("log", [entry.to_plain() for entry in log])
    update.remove("claim_expires_at", "waiting_for")
    if error is not None:
        update.set("last_error", error[:ERROR_LIMIT])
    if status in RETENTION_SECONDS:
        update.set("expires_at", int(epoch(now()) + RETENTION_SECONDS[status]))
    return update


def _write_finish(
    action: Action, status: ActionStatus, update: _Update, also: str | None = None
) -> None:
    """Write a run's outcome on condition that the run holds the claim (``also``: and that)."""
    update.name("attempts")
    update.value("running", str(IN_PROGRESS))
    update.value("held", action.attempts)
    condition = "#status = :running AND #attempts = :held"
    params = update.params(action.action_id, f"{condition} AND {also}" if also else condition)
    ending = action.unique_key if status in RETENTION_SECONDS else None
    counters.write_ending(params, action.action_id, ending)


def complete(action: Action, message: str = "") -> None:
    entry = LogEntry.new(LogEvent.COMPLETED, message, action.attempts)
    _finish(action, ActionStatus.COMPLETE, [entry])


def retry_later(action: Action, error: str, delay: float) -> None:
    """Back to pending; the next attempt's message is already on its way."""
    attempt = action.attempts
    message = f"{error} - attempt {attempt + 1} in {delay:.1f} s"
    _finish(
        action,
        PENDING,
        [LogEntry.new(LogEvent.RETRY, message, attempt)],
        error=error,
        scheduled_for=now() + timedelta(seconds=delay),
    )


def fail(action: Action, error: str, *, dead_lettered: bool = True) -> None:
    entries = [LogEntry.new(LogEvent.FAILED, error, action.attempts)]
    if dead_lettered:
        entries.append(
            LogEntry.new(LogEvent.DEAD_LETTERED, "sent to the dead-letter queue", action.attempts)
        )
    _finish(action, ActionStatus.FAILED, entries, error=error)


class NotRedrivable(Exception):
    """The action cannot be started again now; the message says why."""


def _redriven(note: str, action: Action) -> _Update:
    due = now()
    update = _listed(_status_change(PENDING, due), action, due).set("attempts", 0)
    update.append("log", [LogEntry.new(LogEvent.REDRIVEN, note).to_plain()])
    return update.remove("expires_at", "claim_expires_at")


def _why_not_redrivable(action: Action) -> str | None:
    """Why a redrive must leave ``action`` alone, or None when nothing runs it."""
    if action.status in (ActionStatus.FAILED, PENDING):
        return None
    expires = action.claim_expires_at
    if action.status is IN_PROGRESS and expires is not None:
        if expires < now():
            return None  # its worker died
        return f"is in-progress under a live claim until {expires.isoformat(timespec='seconds')}"
    return f"is already {action.status}"


def reset_for_redrive(action_id: str, note: str) -> None:
    """Back to pending with fresh attempts, as a redrive starts the action again.

    Only an action that nothing is running: failed, pending (SQS dead-lettered it
    before it ran), or in progress under a claim that expired (its worker died). One
    running under a live claim, a finished one, and one no longer in the table raise
    ``NotRedrivable``: a redrive must never start a second run beside a live one, nor
    write half an item. The write is conditional on the status read (and the claim
    still expired), so a claim taken between the read and the write still wins.

    A failed action that is counted (its hook has ``unique_by``) is counted again, as
    any pending one (never refused: an operator asked for it), in the same transaction.
    """
    for _ in range(3):
        current = get(action_id)
        if current is None:
            raise NotRedrivable(f"action {action_id} is no longer in the actions table")
        why = _why_not_redrivable(current)
        if why is not None:
            raise NotRedrivable(f"action {action_id} {why}")
        update = _redriven(note, current)
        update.value("was", str(current.status))
        condition = "#status = :was"
        if current.status is IN_PROGRESS:
            update.name("claim_expires_at")
            condition += f" AND #claim_expires_at < {update.value('now', epoch(now()))}"
        params = update.params(action_id, condition)
        key = current.unique_key
        try:
            if current.status is ActionStatus.FAILED and key and not counters.is_legacy(key):
                counter = counters.count_in(key, action_id, unique=False)
                counters.transact([{"Update": params}, {"Update": counter}])
            else:
                table.dynamodb().update_item(**params)
            return
        except ClientError as exc:
            if not (condition_failed(exc) or counters.first_condition_failed(exc)):
                raise  # else it changed since it was read: look again
    raise NotRedrivable(f"action {action_id} kept changing while it was reset")


def note(action_id: str, event: LogEvent, message: str) -> bool:
    """Add an entry to an action's log and nothing else (who asked for a run, say); False
    if the action is gone. Appended as a cancel appends; a finishing write trims the log."""
    update = _Update()
    update.append("log", [LogEntry.new(event, message).to_plain()])
    try:
        table.dynamodb().update_item(**update.params(action_id, "attribute_exists(action_id)"))
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def cancel(action_id: str, reason: str = "canceled") -> Action | None:
    """Pending -> canceled, counted out of its counter; the action as it was, or None if
    it was not pending."""
    entry = LogEntry.new(LogEvent.CANCELED, reason)
    return _end_pending(action_id, ActionStatus.CANCELED, entry)


def stop_recurring(action_id: str, reason: str) -> Action | None:
    """A pending recurring action -> failed, with ``reason`` as its error: it recurs no
    more (its schedule is the caller's to delete). The action as it was, or None."""
    entry = LogEntry.new(LogEvent.FAILED, reason)
    return _end_pending(action_id, ActionStatus.FAILED, entry, error=reason)


def _end_pending(
    action_id: str, status: ActionStatus, entry: LogEntry, *, error: str | None = None
) -> Action | None:
    """Pending -> ``status`` (canceled, or failed), with ``entry`` in its log.

    The indexes' sort keys keep the action's scheduled time, as every other status
    change does, so ended actions sort and filter by it like the rest. That needs
    the item's time: read it, then write on condition it has not changed.
    """
    for _ in range(3):
        current = get(action_id)
        if current is None or current.status is not PENDING:
            return None
        update = _status_change(status, current.scheduled_for)
        _listed(update, current, current.scheduled_for)
        update.set("expires_at", int(epoch(now()) + RETENTION_SECONDS[status]))
        update.append("log", [entry.to_plain()])
        if error is not None:
            update.set("last_error", error[:ERROR_LIMIT])
        update.value("pending", str(PENDING))
        was = update.value("was_scheduled", epoch(current.scheduled_for))
        time = update.name("scheduled_for" if current.listed else UNLISTED_TIME)
        params = update.params(action_id, f"#status = :pending AND {time} = {was}")
        try:
            counters.write_ending(params, action_id, current.unique_key)
        except ClientError as exc:
            if counters.first_condition_failed(exc):
                continue  # it changed since it was read: look again
            raise
        return current
    return None


# --- sagas: an action that waits for the saga its hook started ---------------------------
# Two writers meet on the action's item: the worker (the hook returned AwaitSaga) and the
# saga's outcome (functions/sagas/outcomes.py), in either order. Each writes on condition
# that the other has not written yet; whichever comes second finds the first's write and
# finishes the action. Why: docs/decisions/0036-a-saga-reports-its-outcome-to-its-action.md


def await_saga(action: Action, execution_arn: str, note: str, claim_seconds: float) -> Action:
    """The run started a saga and waits for its outcome: the action stays in progress,
    its claim held ``claim_seconds`` (as long as the saga is expected to run), a
    ``waiting`` entry in its log. If the saga's outcome is recorded already (it ended
    first), the action finishes with it now. Returns the action as written.
    """
    started = now()
    update = _Update().set("updated_at", epoch(started))
    if not action.listed:  # it may wait for hours: in the lists while it does
        update.set("status_scheduled", status_scheduled(IN_PROGRESS, action.scheduled_for))
        _listed(update, action, action.scheduled_for)
    update.set("claim_expires_at", epoch(started) + claim_seconds)
    update.set("waiting_for", execution_arn)
    entry = LogEntry.new(LogEvent.WAITING, note, action.attempts)
    update.append("log", [entry.to_plain()])
    for attribute in ("status", "attempts", "saga", "execution_arn"):
        update.name(attribute)
    update.value("running", str(IN_PROGRESS))
    update.value("held", action.attempts)
    condition = (
        "#status = :running AND #attempts = :held AND (attribute_not_exists(#saga) "
        "OR #saga.#execution_arn <> :waiting_for)"
    )
    try:
        response = table.dynamodb().update_item(
            **update.params(action.action_id, condition), ReturnValues="ALL_NEW"
        )
    except ClientError as exc:
        if not condition_failed(exc):
            raise
        current = get(action.action_id)
        held = (
            current is not None
            and current.status is IN_PROGRESS
            and current.attempts == action.attempts
        )
        if not held or current is None or current.saga is None:
            raise  # the claim is lost: the run's outcome is not this run's to write
        if current.saga.execution_arn != execution_arn:
            raise
        return _end_wait(current, current.saga, waiting=False)
    return from_item(plain(response["Attributes"]))


def record_saga_outcome(action_id: str, outcome: SagaOutcome) -> Action | None:
    """Record how a saga that ``action_id`` started ended; the action as it now is, or
    None if there is no such action (its item expired, or the id names none).

    An action waiting for this execution completes (or fails, with the saga's error);
    any other action gets a ``saga-succeeded``/``saga-failed`` entry in its log, and the
    outcome for a run that waits later. A repeated outcome changes nothing.
    """
    for _ in range(5):
        current = get(action_id)
        if current is None:
            return None
        if current.saga is not None and current.saga.execution_arn == outcome.execution_arn:
            return current  # recorded already: EventBridge delivers at least once
        waiting = current.status is IN_PROGRESS and current.waiting_for == outcome.execution_arn
        try:
            if waiting:
                return _end_wait(current, outcome, waiting=True)
            return _note_outcome(current, outcome)
        except ClientError as exc:
            if not _lost_race(exc):
                raise
    raise RuntimeError(f"action {action_id} kept changing while its saga's outcome was written")


def _saga_entry(outcome: SagaOutcome, attempt: int) -> LogEntry:
    event = LogEvent.SAGA_SUCCEEDED if outcome.succeeded else LogEvent.SAGA_FAILED
    return LogEntry.new(event, outcome.describe(), attempt)


def _end_wait(action: Action, outcome: SagaOutcome, *, waiting: bool) -> Action:
    """Finish the run that waits (``waiting``), or the run whose wait found the outcome
    recorded already (its log has the saga's entry): complete, or failed with its error."""
    entries = [_saga_entry(outcome, action.attempts)] if waiting else []
    error = None if outcome.succeeded else f"saga {outcome.describe()}"
    status = ActionStatus.COMPLETE if outcome.succeeded else ActionStatus.FAILED
    event = LogEvent.COMPLETED if outcome.succeeded else LogEvent.FAILED
    entries.append(LogEntry.new(event, error or "", action.attempts))
    update = _finishing(action, status, entries, error, None).set("saga", outcome.to_plain())
    also = None
    if waiting and action.waiting_for:  # and still waits for this execution
        also = f"#waiting_for = {update.value('execution', action.waiting_for)}"
        update.name("waiting_for")
    _write_finish(action, status, update, also)
    finished = action.but(status=status, saga=outcome, waiting_for=None, claim_expires_at=None)
    return finished.but(last_error=error) if error else finished


def _note_outcome(action: Action, outcome: SagaOutcome) -> Action:
    """The outcome on an action that does not wait for it: a log entry, and the outcome
    itself for a run that is about to wait (``await_saga`` finds it)."""
    entry = _saga_entry(outcome, action.attempts)
    update = _Update().set("saga", outcome.to_plain())
    update.append("log", [entry.to_plain()])
    for attribute in ("status", "waiting_for", "execution_arn"):
        update.name(attribute)
    update.value("running", str(IN_PROGRESS))
    update.value("execution", outcome.execution_arn)
    condition = (
        "attribute_exists(action_id) AND NOT (#status = :running AND #waiting_for = :execution)"
        " AND (attribute_not_exists(#saga) OR #saga.#execution_arn <> :execution)"
    )
    table.dynamodb().update_item(**update.params(action.action_id, condition))
    return action.but(saga=outcome, log=(*action.log, entry))


def _lost_race(exc: ClientError) -> bool:
    """A write refused because the item changed since it was read (look again)."""
    if condition_failed(exc):
        return True
    reasons = exc.response.get("CancellationReasons", [])
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
