"""The actions table: one item per action, its status, attempts and a bounded log.

``record`` is the typed action and its one conversion to and from the item;
``transitions`` the state machine (every status change a conditional write);
``counters`` the counter items that make ``unique=True`` see every match;
``streaks`` a recurring action's failed runs in a row;
``reads`` the index queries, cursors, batch reads and counts. Import from here.
Why: docs/decisions/0030-the-action-is-a-typed-record.md,
0010-indexes-project-only-small-attributes.md.
"""

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
    args_hash,
    match_key,
    unique_key,
)
from functions.actions.store.streaks import clear_failed_runs, note_failed_run
from functions.actions.store.transitions import (
    Claim,
    ClaimOutcome,
    cancel,
    claim,
    complete,
    create,
    discard,
    fail,
    get,
    reschedule,
    reset_for_redrive,
    retry_later,
    stop_recurring,
)

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
    "Page",
    "Recurrence",
    "Tally",
    "args_hash",
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
    "note_failed_run",
    "query",
    "query_each",
    "reschedule",
    "reset_for_redrive",
    "retry_later",
    "stop_recurring",
    "tally",
    "unique_key",
]
