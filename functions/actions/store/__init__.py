"""The actions table: one item per action, its status, attempts and a bounded log.

``record`` is the typed action and its one conversion to and from the item;
``transitions`` the state machine (every status change a conditional write);
``counters`` the counter items that make ``unique=True`` see every match;
``streaks`` a recurring action's failed runs in a row;
``reads`` the index queries, cursors, batch reads and counts. Import from here.
Why: docs/decisions/0030-the-action-is-a-typed-record.md,
0010-indexes-project-only-small-attributes.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

from functions.actions.store.record import (
    INDEX_ATTRIBUTES,
    INDEX_KEYS,
    LOG_LIMIT,
    RETENTION_SECONDS,
    Action,
    ActionKind,
    ActionStatus,
    IndexEntry,
    LogEntry,
    LogEvent,
    Recurrence,
    SagaOutcome,
    args_hash,
    match_key,
    unique_key,
)
from functions.actions.store.streaks import clear_failed_runs, note_failed_run
from functions.actions.store.transitions import (
    Claim,
    ClaimOutcome,
    NotRedrivable,
    await_saga,
    cancel,
    claim,
    complete,
    create,
    discard,
    fail,
    get,
    note,
    record_saga_outcome,
    reschedule,
    reset_for_redrive,
    retry_later,
    stop_recurring,
)

# The reads (index queries, cursors, counts) load on first use: a webhook or a worker run
# never reads an index unless an action is unique, and the module is 3-4 ms of a cold
# start. Type checkers see the names imported; at run time the module's ``__getattr__``
# imports them when first asked for (record 0075).
if TYPE_CHECKING:
    from functions.actions.store.reads import (
        ANY,
        Criteria,
        Page,
        Tally,
        count,
        entries,
        fetch,
        query,
        query_each,
        tally,
    )
else:
    _READS = frozenset(
        (
            "ANY",
            "Criteria",
            "Page",
            "Tally",
            "count",
            "entries",
            "fetch",
            "query",
            "query_each",
            "tally",
        )
    )

    def __getattr__(name: str) -> Any:
        if name in _READS or name == "reads":
            # Not ``from ... import reads``: that asks this function for "reads" again.
            reads = importlib.import_module(f"{__name__}.reads")
            return reads if name == "reads" else getattr(reads, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


__all__ = [
    "ANY",
    "INDEX_ATTRIBUTES",
    "INDEX_KEYS",
    "LOG_LIMIT",
    "RETENTION_SECONDS",
    "Action",
    "ActionKind",
    "ActionStatus",
    "Claim",
    "ClaimOutcome",
    "Criteria",
    "IndexEntry",
    "LogEntry",
    "LogEvent",
    "NotRedrivable",
    "Page",
    "Recurrence",
    "SagaOutcome",
    "Tally",
    "args_hash",
    "await_saga",
    "cancel",
    "claim",
    "clear_failed_runs",
    "complete",
    "count",
    "create",
    "discard",
    "entries",
    "fail",
    "fetch",
    "get",
    "match_key",
    "note",
    "note_failed_run",
    "query",
    "query_each",
    "record_saga_outcome",
    "reschedule",
    "reset_for_redrive",
    "retry_later",
    "stop_recurring",
    "tally",
    "unique_key",
]
