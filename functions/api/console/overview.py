"""The console's other screens: sagas (``functions.sagas.executions``, what ``actionsctl
saga list`` runs) and health (``functions.health``, what ``GET /health`` answers)."""

from __future__ import annotations

from typing import Any

from functions.api.actions import translated
from functions.api.console.config import settings
from functions.api.errors import InvalidRequest

SAGA_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
COMPENSATION_FAILED = "Saga.CompensationFailed"
DEFAULT_SAGAS, MAX_SAGAS = 25, 100


def sagas(*, status: str | None, limit: int = DEFAULT_SAGAS) -> dict[str, Any]:
    """Recent executions of the order saga, newest first; a failed one is described (its
    error, and whether a compensation failed), at most ``limit`` of them."""
    from functions.sagas import executions

    if status is not None and status not in SAGA_STATUSES:
        raise InvalidRequest(f"status is one of {SAGA_STATUSES}")
    if not 1 <= limit <= MAX_SAGAS:
        raise InvalidRequest(f"limit is 1..{MAX_SAGAS}")
    machine = settings().order_saga_arn
    if not machine:
        return {"executions": []}
    found: list[dict[str, Any]] = []
    with translated():
        for listed in executions.listed(machine, status=status, limit=limit):
            execution = listed
            if listed.status not in {"RUNNING", "SUCCEEDED"}:
                execution = executions.described(machine, listed.arn) or listed
            document = execution.to_document()
            document.pop("input", None)
            document.pop("states", None)
            document["compensation_failed"] = COMPENSATION_FAILED in execution.error or (
                "CompensationFailed" in execution.states
            )
            found.append(document)
    return {"executions": found}


def health() -> dict[str, Any]:
    """The health report, with detail (a few action ids), as the CLI shows it."""
    from functions.health.checks import check_health

    with translated():
        return check_health(detail=True).to_dict()
