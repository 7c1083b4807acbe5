"""The worker: run each SQS record's action once, then record complete, retry or dead letter.

Per record: parse the envelope (malformed or unknown versions are dead-lettered, never
looped), find the hook, send it on if not yet due, hand it back unstarted if the
invocation has too little time left for its hook, defer it behind an open circuit,
claim it, load its args from the payload bucket if the envelope carries a reference,
run the hook, then record the outcome. A run that ended without an outcome (the
function timed out or crashed) counts as a failed attempt when its message comes back.
Every message that continues the action (a retry, a hop, a dead letter) is sent before
the status is written and before SQS deletes the record, so a crash repeats work rather
than losing it. Standard queues retry with ``DelaySeconds``; the FIFO queue waits in
place, holding back only its group. An unrecorded action (``recorded=False``) runs
without a claim and writes nothing to the actions table: its message alone carries it.

Why: docs/decisions/0003-long-retry-waits-hop-through-sqs.md,
0005-fifo-queue-waits-in-place.md, 0006-continue-before-recording.md,
0042-start-a-record-only-while-time-remains.md, 0045-ordered-work-waits-without-dying.md,
0071-unrecorded-actions-are-an-opt-in.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.actions import budget, circuit, hooks, queries, queues, recurrence, results, store
from functions.actions.batch import PartialItemFailureResponse, SqsRecord
from functions.actions.batch import process as process_batch
from functions.actions.config import QueueConfig, claim_seconds, queue_by_arn
from functions.actions.envelope import Envelope, InvalidEnvelope
from functions.actions.exceptions import (
    HookUnavailable,
    InvalidAction,
    PermanentError,
    TransientError,
)
from functions.actions.queues import DeadLetterReason
from functions.actions.retry import backoff_delay
from functions.metrics import Metric
from functions.observability import add_metric, logger
from functions.payloads import store as payloads

# Due within this much counts as due: SQS delays are whole seconds.
DUE_TOLERANCE_SECONDS = 1.0
# An ordered action deferred in place waits at least 2**n seconds after its n-th receive,
# and at most this long more than it was asked to (0045-ordered-work-waits-without-dying.md).
ORDERED_WAIT_CAP_SECONDS = 900.0


@dataclass(frozen=True)
class _Delivery:
    """The record being worked: the queue it came from, the SQS record, its envelope."""

    queue: QueueConfig
    record: SqsRecord
    envelope: Envelope


class RetryLater(Exception):
    """Report the record as failed so SQS delivers it again (FIFO retries, busy claims)."""


class RunStopped(Exception):
    """An earlier run of this attempt ended without an outcome: it counts as failed."""


def handle(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Process an SQS batch; return the partial batch response Lambda expects."""
    hooks.load()  # once per process: this function runs hooks, so it imports them
    records = event.get("Records") or []
    fifo = bool(records) and records[0].get("eventSourceARN", "").endswith(".fifo")
    invocation = budget.Invocation(context)
    seen: set[str] = set()

    def record_handler(record: SqsRecord) -> None:
        seen.add(record.message_id)
        process_record(record, invocation)

    # A batch whose every record is retried in place (a FIFO backoff, a busy claim) is a
    # normal answer, not an invocation error: it is a partial batch response too.
    response = process_batch(records, record_handler, fifo=fifo)
    if fifo:
        _release_held_back(records, response, seen)
    return response


def _release_held_back(
    records: list[dict[str, Any]], response: PartialItemFailureResponse, seen: set[str]
) -> None:
    """Show the FIFO records held back behind a failed record of their group at once.

    Their group waits for its failed record, which is hidden for its own delay (or
    visible again, if handed back): without this they would stay in flight for the
    queue's whole visibility timeout, and hold the group that long. Best effort.
    """
    failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
    held = [r for r in records if r.get("messageId") in failed and r.get("messageId") not in seen]
    queue = queue_by_arn(held[0].get("eventSourceARN", "")) if held else None
    if queue is None:
        return
    try:
        queues.show_again(queue, [r["receiptHandle"] for r in held])
    except (ClientError, BotoCoreError) as exc:
        logger.warning("held-back records not shown again", extra={"error": type(exc).__name__})


def process_record(record: SqsRecord, invocation: budget.Invocation | None = None) -> None:
    # Until the envelope names the action, the message id correlates the record's
    # lines; never the previous record's id, which a warm logger would still hold.
    logger.set_correlation_id(record.message_id)
    try:
        queue = queue_by_arn(record.event_source_arn)
        if queue is None:
            raise RuntimeError(f"record from an unknown queue: {record.event_source_arn}")
        try:
            envelope = Envelope.from_message(record.body)
        except InvalidEnvelope as exc:
            _malformed(queue, record, exc)
            return
        logger.append_keys(action_id=envelope.action_id, hook=envelope.hook)
        logger.set_correlation_id(envelope.correlation_id or envelope.action_id)
        _process(_Delivery(queue, record, envelope), invocation or budget.Invocation())
    finally:
        logger.remove_keys(["action_id", "hook", "attempt", "correlation_id"])


def _count(envelope: Envelope, metric: Metric) -> None:
    """Count ``metric`` for this action, by hook and priority (and in total)."""
    add_metric(metric, hook=envelope.hook, priority=envelope.priority)


def _process(delivery: _Delivery, invocation: budget.Invocation) -> None:
    queue, envelope = delivery.queue, delivery.envelope
    try:
        spec = hooks.get(envelope.hook)
    except HookUnavailable as exc:
        _unknown_hook(delivery, str(exc), DeadLetterReason.HOOK_UNAVAILABLE)
        # By hook: a name the manifest lists, so a closed set of values.
        add_metric(Metric.HOOKS_UNAVAILABLE, hook=envelope.hook)
        return
    except InvalidAction as exc:
        _unknown_hook(delivery, str(exc), DeadLetterReason.UNKNOWN_HOOK)
        return
    if not envelope.recorded and queue.fifo:
        # The ordered queue counts attempts in the item (``_attempt``): enqueue refuses this.
        error = "PermanentError: an unrecorded action cannot run on the ordered (FIFO) queue"
        _dead_letter(delivery, None, error, DeadLetterReason.PERMANENT)
        return

    delay = envelope.scheduled_for.timestamp() - time.time()
    if not queue.fifo and delay > DUE_TOLERANCE_SECONDS:
        queues.send(envelope, queue, delay_seconds=delay)
        logger.info("not due yet: sent on", extra={"delay_seconds": round(delay, 1)})
        return

    if not invocation.start(spec.timeout):
        _hand_back(delivery, invocation.left())
        return

    decision = circuit.allow(spec.circuit) if spec.circuit else None
    if decision is not None and not decision.allowed:
        _defer(delivery, decision.delay, f"circuit {spec.circuit} is open")
        return

    if not envelope.recorded:
        # No item: no claim, no writes. A repeated delivery may run it twice.
        logger.append_keys(attempt=envelope.attempt)
        _run(delivery, None, spec, decision, envelope.attempt)
        return

    attempt = _attempt(delivery)
    claim = store.claim(envelope, attempt, claim_seconds())
    if not claim.claimed:
        _release_trial(spec, decision)
        status = claim.action.status if claim.action else None
        logger.info("skipped", extra={"reason": claim.reason, "status": status})
        _count(envelope, Metric.ACTIONS_SKIPPED)
        if claim.outcome is store.ClaimOutcome.RUNNING_ELSEWHERE:
            raise RetryLater("the action is running elsewhere; look again after it")
        return

    action = claim.action
    assert action is not None  # noqa: S101 - a claim that succeeded holds the action
    logger.append_keys(attempt=attempt)
    if _stopped_before(action, attempt):
        # The run of this attempt ended without an outcome: that was the attempt.
        _release_trial(spec, decision)
        _count(envelope, Metric.ACTIONS_RAISED)
        stopped = RunStopped(
            f"attempt {attempt} ended without an outcome "
            "(the worker timed out, crashed or could not record it)"
        )
        _retry_or_dead_letter(delivery, action, spec, attempt, stopped)
    else:
        _advance_recurrence(claim, attempt)
        _run(delivery, action, spec, decision, attempt)
    recurrence.after_run(claim)  # a recurring action whose runs keep failing stops


def _run(
    delivery: _Delivery,
    action: store.Action | None,
    spec: hooks.HookSpec,
    decision: circuit.Decision | None,
    attempt: int,
) -> None:
    """Run the claimed action's hook once, then record complete, retry or dead letter.

    ``action`` None: an unrecorded action (``recorded=False``), run without an item;
    its outcome is a log line, metrics and any message that continues it."""
    envelope = delivery.envelope
    context = hooks.ActionContext(
        action_id=envelope.action_id,
        hook=envelope.hook,
        group=envelope.group,
        attempt=attempt,
        max_attempts=envelope.max_attempts,
        correlation_id=envelope.correlation_id,
    )
    _record_latency(envelope)
    _count(envelope, Metric.ACTIONS_STARTED)
    started = time.monotonic()
    # Loading the args is part of the run; S3 is not the hook's dependency, so its
    # failures do not reach the hook's circuit: a gone object is dead-lettered, an
    # outage retried.
    try:
        args = _args_of(envelope)
    except (payloads.PayloadUnavailable, ClientError, BotoCoreError) as exc:
        _ran(envelope, started, raised=True)
        _release_trial(spec, decision)
        if isinstance(exc, payloads.PayloadUnavailable):
            error = _error_text(exc)
            _dead_letter(delivery, action, error, DeadLetterReason.PERMANENT)
        else:
            _retry_or_dead_letter(delivery, action, spec, attempt, exc)
        return
    try:
        result = spec.function(args, context)
    except PermanentError as exc:
        _ran(envelope, started, raised=True)
        # A permanent error is about the input: the dependency itself answered.
        _note_circuit(circuit.record_success, spec.circuit, decision)
        error = _error_text(exc)
        _dead_letter(delivery, action, error, DeadLetterReason.PERMANENT)
        return
    except Exception as exc:
        _ran(envelope, started, raised=True)
        _note_circuit(circuit.record_failure, spec.circuit, decision)
        _retry_or_dead_letter(delivery, action, spec, attempt, exc)
        return
    if action is None:
        _unrecorded_ran(delivery, started, spec, decision, result)
        return
    _ran(envelope, started, raised=False)

    # A hook's return value goes into the log; AwaitSaga keeps the action in progress
    # until its saga ends (functions/actions/results.py).
    # Recorded before the circuit's bookkeeping: once the hook's effect happened, only
    # a failure of this write may run it again (tests/integration/test_faults_worker.py).
    done = results.record(action, result)
    _count(envelope, Metric.ACTIONS_COMPLETED)
    logger.info(done)
    _note_circuit(circuit.record_success, spec.circuit, decision)


def _unrecorded_ran(
    delivery: _Delivery,
    started: float,
    spec: hooks.HookSpec,
    decision: circuit.Decision | None,
    result: Any,
) -> None:
    """An unrecorded action's hook returned: complete, unless it asks to wait for a
    saga, which needs an item to wait in (dead-lettered as a permanent error)."""
    envelope = delivery.envelope
    if isinstance(result, hooks.AwaitSaga):
        _ran(envelope, started, raised=True)
        _note_circuit(circuit.record_success, spec.circuit, decision)
        error = "PermanentError: an unrecorded action cannot wait for a saga"
        _dead_letter(delivery, None, error, DeadLetterReason.PERMANENT)
        return
    _ran(envelope, started, raised=False)
    _count(envelope, Metric.ACTIONS_COMPLETED)
    logger.info("action completed", extra={"recorded": False})
    _note_circuit(circuit.record_success, spec.circuit, decision)


def _error_text(exc: Exception) -> str:
    """``Type: message``, as much of it as the action's item and a dead letter keep (a
    hook's error may be megabytes; neither a log line nor a message should carry that)."""
    return f"{type(exc).__name__}: {exc}"[: queues.BODY_ERROR_CHARS]


def _args_of(envelope: Envelope) -> Any:
    """The hook's args: inline, or loaded from the payload bucket (one GetObject)."""
    return envelope.args if envelope.args_ref is None else payloads.load(envelope.args_ref)


def _release_trial(spec: hooks.HookSpec, decision: circuit.Decision | None) -> None:
    """Give back a half-open circuit's trial that this run will not use."""
    if decision is not None and decision.trial and spec.circuit:
        circuit.release_trial(spec.circuit)


def _note_circuit(
    note: Callable[[str, circuit.Decision], None],
    name: str | None,
    decision: circuit.Decision | None,
) -> None:
    """Tell the circuit how a run went, best effort: the run's outcome is already decided.

    Failing the record here would run a hook again whose effect already happened (or
    was already recorded), for the sake of a counter. A lost note costs little: a
    failure not counted, or a half-open trial that expires after its trial time.
    """
    if name is None or decision is None:
        return
    try:
        note(name, decision)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("circuit not updated", extra={"circuit": name, "error": type(exc).__name__})


def _ran(envelope: Envelope, started: float, *, raised: bool) -> None:
    """A run of the hook ended: its duration, and whether it raised (ActionsRaised).

    Every run counts, whatever follows it, so ``started = completed + raised`` and
    ``raised = retried + dead-lettered after a run`` hold for any period.
    """
    duration = (time.monotonic() - started) * 1000
    add_metric(Metric.ACTION_DURATION, duration, hook=envelope.hook, priority=envelope.priority)
    if raised:
        _count(envelope, Metric.ACTIONS_RAISED)


def _advance_recurrence(claim: store.Claim, attempt: int) -> None:
    """A recurring run started: its recurring action now waits for the next run.

    Without this, the recurring action's time would stay its first run's, and it
    would read as past-due forever. The claim already read the recurring action.
    """
    recurring = claim.recurring
    if attempt != 1 or recurring is None or recurring.status is not store.ActionStatus.PENDING:
        return
    following = queries.next_run(recurring)
    if following is not None:
        store.reschedule(recurring, following)


def _attempt(delivery: _Delivery) -> int:
    """Standard queues carry the attempt in the envelope; FIFO counts runs.

    On FIFO, runs that ended without an outcome may have used every attempt: the last
    one is claimed again (its claim has expired), to be dead-lettered, never run past
    ``max_attempts``.
    """
    if not delivery.queue.fifo:
        return delivery.envelope.attempt
    current = store.get(delivery.envelope.action_id)
    ran = current.attempts if current else 0
    return ran if ran >= delivery.envelope.max_attempts else ran + 1


def _stopped_before(action: store.Action, attempt: int) -> bool:
    """Whether a run of ``attempt`` started before this one and recorded no outcome.

    The claim just logged this run's start; the entry before it is the last thing the
    action's earlier life recorded. If that is the start of this same attempt, the run
    it started was cut off (the function timed out or crashed, or the outcome's write
    failed): a retry, a completion or a redrive would have logged something after it.
    """
    if len(action.log) < 2:
        return False
    previous = action.log[-2]
    return previous.event is store.LogEvent.STARTED and previous.attempt == attempt


def _retry_or_dead_letter(
    delivery: _Delivery,
    action: store.Action | None,
    spec: hooks.HookSpec,
    attempt: int,
    exc: Exception,
) -> None:
    """Send the next attempt, or the dead letter after the last; ``action`` None (an
    unrecorded action, never on the FIFO queue): the message alone carries it."""
    queue, record, envelope = delivery.queue, delivery.record, delivery.envelope
    error = _error_text(exc)
    if attempt >= envelope.max_attempts:
        _dead_letter(delivery, action, error, DeadLetterReason.EXHAUSTED)
        return
    asked = exc.delay if isinstance(exc, TransientError) else None
    delay = asked if asked is not None else backoff_delay(attempt, spec.base_delay, spec.max_delay)
    logger.warning(
        "attempt raised; retrying", extra={"error": error, "delay_seconds": round(delay, 1)}
    )
    _count(envelope, Metric.ACTIONS_RETRIED)
    if queue.fifo and action is not None:
        queues.change_visibility(queue, record.receipt_handle, delay)
        store.retry_later(action, error, delay)
        raise RetryLater(error)
    following = replace(
        envelope,
        attempt=attempt + 1,
        scheduled_for=datetime.now(UTC) + timedelta(seconds=delay),
        listed=True,  # retry_later lists it: it waits for its backoff
    )
    queues.send(following, queue, delay_seconds=delay)
    if action is not None:
        store.retry_later(action, error, delay)


def _dead_letter(
    delivery: _Delivery, action: store.Action | None, error: str, reason: DeadLetterReason
) -> None:
    """Dead-letter the record and fail its action; ``action`` None: an unrecorded action,
    whose attempts are its envelope's."""
    logger.error("action failed: dead-lettered", extra={"error": error, "reason": reason})
    attempts = action.attempts if action is not None else delivery.envelope.attempt
    _send_dead_letter(delivery, error, reason, attempts)
    if action is not None:
        store.fail(action, error)
    _count(delivery.envelope, Metric.ACTIONS_DEAD_LETTERED)


def _send_dead_letter(
    delivery: _Delivery, error: str, reason: DeadLetterReason, attempts: int
) -> None:
    """The record's envelope, with its error, onto the queue's dead-letter queue."""
    queue, record, envelope = delivery.queue, delivery.record, delivery.envelope
    note = queues.DeadLetterNote(
        reason,
        error,
        record.message_id,
        hook=envelope.hook,
        action_id=envelope.action_id,
        attempts=attempts,
        group=envelope.group,
    )
    queues.dead_letter(queue, record.body, note, error_in_body=True)


def _defer(delivery: _Delivery, delay: float, why: str) -> None:
    queue, record, envelope = delivery.queue, delivery.record, delivery.envelope
    if queue.fifo:
        delay = _ordered_wait(delay, record)
    logger.info("deferred", extra={"reason": why, "delay_seconds": round(delay, 1)})
    _count(envelope, Metric.ACTIONS_DEFERRED)
    if queue.fifo:
        queues.change_visibility(queue, record.receipt_handle, delay)
        raise RetryLater(why)
    queues.send(envelope, queue, delay_seconds=delay)


def _ordered_wait(delay: float, record: SqsRecord) -> float:
    """How long a deferred ordered action waits in place: ``delay``, but at least 2**n
    seconds after its n-th receive, up to ``ORDERED_WAIT_CAP_SECONDS``.

    Waiting in place costs a receive each time, which SQS's redrive counts. Growing the
    wait bounds what a long deferral costs (a few receives an hour), so the FIFO queue's
    ``maxReceiveCount`` can stay above all the worker's own receives within the queue's
    retention. Why: docs/decisions/0045-ordered-work-waits-without-dying.md
    """
    receives = _receive_count(record)
    return max(delay, min(ORDERED_WAIT_CAP_SECONDS, 2.0 ** min(receives, 30)))


def _receive_count(record: SqsRecord) -> int:
    try:
        return int(record.approximate_receive_count or 1)
    except (TypeError, ValueError):
        return 1


def _hand_back(delivery: _Delivery, left: float | None) -> None:
    """Too little of the invocation is left to run this record: give it back to SQS at
    once, unstarted, with no attempt used.

    A standard queue gets a fresh copy (which SQS counts from zero receives) before this
    record is reported done and deleted; the FIFO queue keeps the record, shown again at
    once and reported failed, so it keeps its place in its group.
    Why: docs/decisions/0042-start-a-record-only-while-time-remains.md
    """
    queue, record, envelope = delivery.queue, delivery.record, delivery.envelope
    seconds = None if left is None else round(left, 1)
    logger.info("handed back: too little time left", extra={"remaining_seconds": seconds})
    if queue.fifo:
        queues.change_visibility(queue, record.receipt_handle, 0)
        raise RetryLater("too little time left in this invocation to start it")
    queues.send(envelope, queue)


def _malformed(queue: QueueConfig, record: SqsRecord, exc: Exception) -> None:
    reason = (
        DeadLetterReason.UNSUPPORTED_VERSION
        if _has_other_version(record.body)
        else DeadLetterReason.MALFORMED
    )
    logger.error("malformed message: dead-lettered", extra={"reason": reason})
    note = queues.DeadLetterNote(reason, str(exc), record.message_id)
    queues.dead_letter(queue, record.body, note)
    # No hook to break it down by: counted in the total only.
    add_metric(Metric.ACTIONS_DEAD_LETTERED)


def _has_other_version(body: str) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return False
    return isinstance(document, dict) and "v" in document and document["v"] != 1


def _unknown_hook(delivery: _Delivery, error: str, reason: DeadLetterReason) -> None:
    """Dead-letter an action no hook here can run: unknown, or its module failed to import."""
    if not delivery.envelope.recorded:  # no item to claim or fail
        _send_dead_letter(delivery, error, reason, delivery.envelope.attempt)
        add_metric(Metric.ACTIONS_DEAD_LETTERED)
        return
    claim = store.claim(delivery.envelope, _attempt(delivery), claim_seconds())
    if not claim.claimed and claim.outcome is not store.ClaimOutcome.RUNNING_ELSEWHERE:
        return
    _send_dead_letter(delivery, error, reason, delivery.envelope.attempt)
    if claim.claimed and claim.action is not None:
        store.fail(claim.action, error)
    # Not by hook: a name no hook is registered under would be a new billed metric.
    add_metric(Metric.ACTIONS_DEAD_LETTERED)


def _record_latency(envelope: Envelope) -> None:
    """From when the action was due to its start: queueing lag, not the chosen delay.

    For an async action the due time is its enqueue time; for a scheduled action or
    a retry it is the time asked for, so an intended delay never reads as lag.
    """
    lag = (datetime.now(UTC) - envelope.scheduled_for).total_seconds()
    add_metric(
        Metric.ACTION_START_LATENCY,
        max(0.0, lag) * 1000,
        hook=envelope.hook,
        priority=envelope.priority,
    )
