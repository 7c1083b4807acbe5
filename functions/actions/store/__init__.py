"""The actions table: one item per action, its status, attempts and a bounded log.

``record`` is the typed action and its one conversion to and from the item;
``transitions`` the state machine (every status change a conditional write);
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
    "complete",
    "count",
    "create",
    "discard",
    "entries",
    "fail",
    "fetch",
    "get",
    "match_key",
    "query",
    "reschedule",
    "reset_for_redrive",
    "retry_later",
    "tally",
    "unique_key",
]
