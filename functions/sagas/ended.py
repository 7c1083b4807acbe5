"""What Step Functions sends to EventBridge when an execution ends: the event's detail
type and the statuses that end an execution. Standard library only: the CDK app's rule
matches the same words (infra/constructs/saga_outcomes.py)."""

from __future__ import annotations

DETAIL_TYPE = "Step Functions Execution Status Change"
STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
