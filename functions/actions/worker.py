"""The worker: run each SQS record's action once, then record complete, retry or dead letter.

Per record: parse the envelope (malformed or unknown versions are dead-lettered, never
looped), find the hook, send it on if not yet due, defer it behind an open circuit,
claim it, load its args from the payload bucket if the envelope carries a reference,
run the hook, then record the outcome. Every message that continues the
action (a retry, a hop, a dead letter) is sent before the status is written and before
SQS deletes the record, so a crash repeats work rather than losing it. Standard queues
retry with ``DelaySeconds``; the FIFO queue waits in place, holding back only its group.

Why: docs/decisions/0003-long-retry-waits-hop-through-sqs.md,
0005-fifo-queue-waits-in-place.md, 0006-continue-before-recording.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from functions.actions import circuit, hooks, queries, queues, recurrence, store
from functions.actions.config import QueueConfig, claim_seconds, queue_by_arn
from functions.actions.envelope import Envelope
from functions.actions.exceptions import InvalidAction, PermanentError, TransientError
from functions.actions.queues import DeadLetterReason
from functions.actions.retry import backoff_delay
from functions.metrics import Metric
from functions.observability import add_metric, logger
from functions.payloads import store as payloads

# Due within this much counts as due: SQS delays are whole seconds.
DUE_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class _Delivery:
    """The record being worked: the queue it came from, the SQS record, its envelope."""

    queue: QueueConfig
    record: SQSRecord
    envelope: Envelope


class RetryLater(Exception):
    """Report the record as failed so SQS delivers it again (FIFO retries, busy claims)."""


def handle(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Process an SQS batch; return the partial batch response Lambda expects."""
    records = event.get("Records") or []
    fifo = bool(records) and records[0].get("eventSourceARN", "").endswith(".fifo")
    processor = (
        SqsFifoPartialProcessor(skip_group_on_error=True)
        if fifo
        else BatchProcessor(event_type=EventType.SQS)
    )
    # A batch whose every record is retried in place (a FIFO backoff, a busy claim) is
    # a normal answer, not an invocation error: report it as a partial batch response.
    processor.raise_on_entire_batch_failure = False
    return process_partial_response(
        event=event, record_handler=process_record, processor=processor, context=context
    )


def process_record(record: SQSRecord) -> None:
    # Until the envelope names the action, the message id correlates the record's
    # lines; never the previous record's id, which a warm logger would still hold.
    logger.set_correlation_id(record.message_id)
    try:
        queue = queue_by_arn(record.event_source_arn)
        if queue is None:
            raise RuntimeError(f"record from an unknown queue: {record.event_source_arn}")
        try:
            envelope = Envelope.from_message(record.body)
        except (ValidationError, ValueError) as exc:
            _malformed(queue, record, exc)
            return
        logger.append_keys(action_id=envelope.action_id, hook=envelope.hook)
        logger.set_correlation_id(envelope.correlation_id or envelope.action_id)
        _process(_Delivery(queue, record, envelope))
    finally:
        logger.remove_keys(["action_id", "hook", "attempt", "correlation_id"])


def _count(envelope: Envelope, metric: Metric) -> None:
    """Count ``metric`` for this action, by hook and priority (and in total)."""
    add_metric(metric, hook=envelope.hook, priority=envelope.priority)


def _process(delivery: _Delivery) -> None:
    queue, envelope = delivery.queue, delivery.envelope
    try:
        spec = hooks.get(envelope.hook)
    except InvalidAction as exc:
        _unknown_hook(delivery, str(exc))
        return

    delay = envelope.scheduled_for.timestamp() - time.time()
    if not queue.fifo and delay > DUE_TOLERANCE_SECONDS:
        queues.send(envelope, queue, delay_seconds=delay)
        logger.info("not due yet: sent on", extra={"delay_seconds": round(delay, 1)})
        return

    decision = circuit.allow(spec.circuit) if spec.circuit else None
    if decision is not None and not decision.allowed:
        _defer(delivery, decision.delay, f"circuit {spec.circuit} is open")
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
    _advance_recurrence(claim, attempt)
    _run(delivery, action, spec, decision, attempt)
    recurrence.after_run(claim)  # a recurring action whose runs keep failing stops


def _run(
    delivery: _Delivery,
    action: store.Action,
    spec: hooks.HookSpec,
    decision: circuit.Decision | None,
    attempt: int,
) -> None:
    """Run the claimed action's hook once, then record complete, retry or dead letter."""
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
            error = f"PayloadUnavailable: {exc}"
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
        error = f"PermanentError: {exc}"
        _dead_letter(delivery, action, error, DeadLetterReason.PERMANENT)
        return
    except Exception as exc:
        _ran(envelope, started, raised=True)
        _note_circuit(circuit.record_failure, spec.circuit, decision)
        _retry_or_dead_letter(delivery, action, spec, attempt, exc)
        return
    _ran(envelope, started, raised=False)

    # A hook's return value (say, the saga execution it started) goes into the log.
    # Recorded before the circuit's bookkeeping: once the hook's effect happened, only
    # a failure of this write may run it again (tests/integration/test_faults_worker.py).
    store.complete(action, "" if result is None else str(result)[:500])
    _count(envelope, Metric.ACTIONS_COMPLETED)
    logger.info("action completed")
    _note_circuit(circuit.record_success, spec.circuit, decision)


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
    """Standard queues carry the attempt in the envelope; FIFO counts receives."""
    if not delivery.queue.fifo:
        return delivery.envelope.attempt
    current = store.get(delivery.envelope.action_id)
    return (current.attempts if current else 0) + 1


def _retry_or_dead_letter(
    delivery: _Delivery, action: store.Action, spec: hooks.HookSpec, attempt: int, exc: Exception
) -> None:
    queue, record, envelope = delivery.queue, delivery.record, delivery.envelope
    error = f"{type(exc).__name__}: {exc}"
    if attempt >= envelope.max_attempts:
        _dead_letter(delivery, action, error, DeadLetterReason.EXHAUSTED)
        return
    asked = exc.delay if isinstance(exc, TransientError) else None
    delay = asked if asked is not None else backoff_delay(attempt, spec.base_delay, spec.max_delay)
    logger.warning(
        "attempt raised; retrying", extra={"error": error, "delay_seconds": round(delay, 1)}
    )
    _count(envelope, Metric.ACTIONS_RETRIED)
    if queue.fifo:
        queues.change_visibility(queue, record.receipt_handle, delay)
        store.retry_later(action, error, delay)
        raise RetryLater(error)
    following = envelope.model_copy(
        update={
            "attempt": attempt + 1,
            "scheduled_for": datetime.now(UTC) + timedelta(seconds=delay),
        }
    )
    queues.send(following, queue, delay_seconds=delay)
    store.retry_later(action, error, delay)


def _dead_letter(
    delivery: _Delivery, action: store.Action, error: str, reason: DeadLetterReason
) -> None:
    logger.error("action failed: dead-lettered", extra={"error": error, "reason": reason})
    _send_dead_letter(delivery, error, reason, action.attempts)
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
    queues.dead_letter(queue, queues.dead_letter_body(record.body, error), note)


def _defer(delivery: _Delivery, delay: float, why: str) -> None:
    queue, record, envelope = delivery.queue, delivery.record, delivery.envelope
    logger.info("deferred", extra={"reason": why, "delay_seconds": round(delay, 1)})
    _count(envelope, Metric.ACTIONS_DEFERRED)
    if queue.fifo:
        queues.change_visibility(queue, record.receipt_handle, delay)
        raise RetryLater(why)
    queues.send(envelope, queue, delay_seconds=delay)


def _malformed(queue: QueueConfig, record: SQSRecord, exc: Exception) -> None:
    reason = (
        DeadLetterReason.UNSUPPORTED_VERSION
        if _has_other_version(record.body)
        else DeadLetterReason.MALFORMED
    )
    logger.error("malformed message: dead-lettered", extra={"reason": reason})
    note = queues.DeadLetterNote(reason, str(exc)[:1000], record.message_id)
    queues.dead_letter(queue, record.body, note)
    # No hook to break it down by: counted in the total only.
    add_metric(Metric.ACTIONS_DEAD_LETTERED)


def _has_other_version(body: str) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and "v" in document and document["v"] != 1


def _unknown_hook(delivery: _Delivery, error: str) -> None:
    claim = store.claim(delivery.envelope, _attempt(delivery), claim_seconds())
    if not claim.claimed and claim.outcome is not store.ClaimOutcome.RUNNING_ELSEWHERE:
        return
    _send_dead_letter(delivery, error, DeadLetterReason.UNKNOWN_HOOK, delivery.envelope.attempt)
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
