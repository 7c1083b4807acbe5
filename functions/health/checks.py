"""Is the action scheduler keeping up? One bounded look at every queue, table and circuit.

``check_health()`` reports queue depths and ages, dead letters, open circuits, and stuck or
past-due actions, each with a constant number of AWS calls however large the backlog. It
reveals counts, the job queues' names, thresholds and reasons only; action ids, hooks and
circuit names only with ``detail=True`` (the CLI). A check that fails is a reason of its own.
Why: docs/decisions/0017-the-health-check-is-a-lambda-of-its-own.md
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from functions.actions import circuit, queues, store
from functions.actions.config import circuits_table
from functions.actions.config import queues as job_queues
from functions.health import cloudwatch
from functions.health.config import (
    CIRCUIT_LIMIT,
    COUNT_LIMIT,
    SAMPLE_SIZE,
    Thresholds,
    dead_letter_queues,
    settings,
)
from functions.observability import logger
from functions.text import counted


@dataclass(frozen=True)
class QueueHealth:
    """One job queue: messages by state and the age of the oldest (None: no datapoint)."""

    waiting: int
    in_flight: int
    delayed: int
    oldest_age_seconds: float | None = None

    @property
    def holds_messages(self) -> bool:
        return bool(self.waiting or self.in_flight)


@dataclass(frozen=True)
class CircuitHealth:
    open: int
    half_open: int
    more: bool
    # Names and since when: only with detail.
    circuits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HealthReport:
    """What one check found. ``reasons`` is empty exactly when the system is healthy."""

    checked_at: datetime
    thresholds: Thresholds
    detail: bool = False
    reasons: list[str] = field(default_factory=list)
    queues: dict[str, QueueHealth] | None = None
    dead_letters: dict[str, int] | None = None
    circuits: CircuitHealth | None = None
    stuck_in_progress: store.Tally | None = None
    past_due_pending: store.Tally | None = None

    @property
    def healthy(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data; a section whose check failed is ``null``.

        Samples of action ids and circuit names appear only in a report made with
        ``detail`` (the CLI's); the public endpoint's report never read them.
        """
        return {
            "status": "healthy" if self.healthy else "unhealthy",
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "reasons": list(self.reasons),
            "queues": None
            if self.queues is None
            else {
                name: {
                    "waiting": queue.waiting,
                    "in_flight": queue.in_flight,
                    "delayed": queue.delayed,
                    "oldest_age_seconds": queue.oldest_age_seconds,
                }
                for name, queue in self.queues.items()
            },
            "dead_letters": None if self.dead_letters is None else dict(self.dead_letters),
            "circuits": None if self.circuits is None else self._circuits(self.circuits),
            "actions": {
                "stuck_in_progress": self._tally(self.stuck_in_progress),
                "past_due_pending": self._tally(self.past_due_pending),
            },
            "thresholds": self.thresholds.to_dict(),
        }

    def _circuits(self, circuits: CircuitHealth) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "open": circuits.open,
            "half_open": circuits.half_open,
            "more": circuits.more,
        }
        if self.detail:
            shown["circuits"] = circuits.circuits
        return shown

    def _tally(self, tally: store.Tally | None) -> dict[str, Any] | None:
        if tally is None:
            return None
        shown: dict[str, Any] = {"count": tally.count, "more": tally.more}
        if self.detail:
            shown["sample"] = [
                {key: entry.to_document()[key] for key in _SAMPLED} for entry in tally.sample
            ]
        return shown


def check_health(
    now: datetime | None = None, *, detail: bool = False, thresholds: Thresholds | None = None
) -> HealthReport:
    """Check everything once; each part that fails becomes a reason, not an exception.

    ``now`` is the time the thresholds are measured from (tests move it instead of
    sleeping); ``detail`` adds a few action ids, hooks and circuit names for operators.
    """
    now = now or datetime.now(UTC)
    report = HealthReport(
        checked_at=now, thresholds=thresholds or settings().thresholds, detail=detail
    )
    for name, check in (
        ("queues", _check_queues),
        ("dead-letter", _check_dead_letters),
        ("circuits", _check_circuits),
        ("actions", _check_actions),
    ):
        _guarded(report, name, check)
    return report


_last: tuple[float, HealthReport] | None = None
# What a sampled action shows: never its args, log or error.
_SAMPLED = ("action_id", "hook", "scheduled_for", "updated_at")


def latest(max_age_seconds: float) -> HealthReport:
    """The last report of this process if it is younger than ``max_age_seconds``, else a new one.

    A warm function answers a burst of requests (several monitors, a retrying client,
    someone hammering a public URL) with one check, so polling cannot run up AWS costs.
    """
    global _last  # noqa: PLW0603 - a warm Lambda's one cached report
    moment = time.monotonic()
    if _last is not None and moment - _last[0] < max_age_seconds:
        return _last[1]
    report = check_health()
    _last = (moment, report)
    return report


def forget() -> None:
    """Drop the cached report (tests)."""
    global _last  # noqa: PLW0603
    _last = None


def _guarded(report: HealthReport, name: str, check: Callable[[HealthReport], None]) -> None:
    """Run one check; a failure is logged here (with AWS's message) and reported bare."""
    try:
        check(report)
    except Exception:
        logger.exception("health check part failed", extra={"check": name})
        report.reasons.append(f"the {name} check failed")


def _check_queues(report: HealthReport) -> None:
    limits = report.thresholds
    found = {name: QueueHealth(**queues.depth(queue.url)) for name, queue in job_queues().items()}
    busy = {
        name: job_queues()[name].url.rsplit("/", 1)[-1]
        for name, queue in found.items()
        if queue.holds_messages
    }
    if busy:
        ages = cloudwatch.oldest_message_ages(busy, report.checked_at)
        for name, age in ages.items():
            found[name] = replace(found[name], oldest_age_seconds=age)
    report.queues = found
    for name, queue in found.items():
        if queue.waiting > limits.max_queue_depth:
            report.reasons.append(
                f"queue {name}: {queue.waiting} messages waiting "
                f"(more than {limits.max_queue_depth})"
            )
        age = queue.oldest_age_seconds
        age_limit = limits.queue_age_limit(name)
        if queue.holds_messages and age is not None and age > age_limit:
            report.reasons.append(
                f"queue {name}: oldest message {age:.0f} s old (more than {age_limit} s)"
            )


def _check_dead_letters(report: HealthReport) -> None:
    urls = {name: queue.dead_letter_url for name, queue in job_queues().items()}
    urls.update(dead_letter_queues())
    counts = {name: sum(queues.depth(url).values()) for name, url in urls.items()}
    report.dead_letters = counts
    for name, count in counts.items():
        if count > report.thresholds.max_dead_letters:
            report.reasons.append(f"dead-letter queue {name}: {counted(count, 'message')}")


def _check_circuits(report: HealthReport) -> None:
    if not circuits_table():
        report.circuits = CircuitHealth(open=0, half_open=0, more=False)
        return
    found, more = circuit.not_closed(CIRCUIT_LIMIT)
    states = [str(item.get("state", "")) for item in found]
    report.circuits = CircuitHealth(
        open=states.count(circuit.OPEN),
        half_open=states.count(circuit.HALF_OPEN),
        more=more,
        circuits=[_circuit_detail(item) for item in found] if report.detail else [],
    )
    if found:
        circuits = counted(f"{len(found)}{'+' if more else ''}", "circuit")
        report.reasons.append(
            f"{circuits} open or half-open "
            f"({report.circuits.open} open, {report.circuits.half_open} half-open)"
        )


def _circuit_detail(item: dict[str, float | str]) -> dict[str, Any]:
    opened_at = item.get("opened_at")
    return {
        "name": item.get("name", ""),
        "state": item.get("state", ""),
        "opened_at": _iso(float(opened_at)) if opened_at else None,
    }


def _check_actions(report: HealthReport) -> None:
    limits = report.thresholds
    now = report.checked_at.timestamp()
    sample = SAMPLE_SIZE if report.detail else 0
    # Claimed before the cutoff means scheduled before it too (a run never starts before
    # its time), so the key condition narrows the read and the filter decides.
    stuck_cutoff = now - limits.stuck_seconds
    report.stuck_in_progress = store.tally(
        store.ActionStatus.IN_PROGRESS,
        scheduled_before=stuck_cutoff,
        updated_before=stuck_cutoff,
        limit=COUNT_LIMIT,
        sample=sample,
    )
    report.past_due_pending = store.tally(
        store.ActionStatus.PENDING,
        scheduled_before=now - limits.past_due_seconds,
        limit=COUNT_LIMIT,
        sample=sample,
    )
    if report.stuck_in_progress.count:
        report.reasons.append(
            f"{counted(_counted(report.stuck_in_progress), 'action')} in progress for more than "
            f"{limits.stuck_seconds} s"
        )
    if report.past_due_pending.count:
        report.reasons.append(
            f"{counted(_counted(report.past_due_pending), 'pending action')} more than "
            f"{limits.past_due_seconds} s past due"
        )


def _counted(tally: store.Tally) -> str:
    return f"{tally.count}{'+' if tally.more else ''}"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
