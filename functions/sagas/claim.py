"""The claim check of a saga's input: an order too large for Step Functions travels in S3.

Step Functions refuses an execution's input, and fails a state whose input or output is
over 256 KB; the saga's state carries its input to every task. An input above the payload
bucket's inline threshold (``PAYLOAD_INLINE_BYTES``, 32 KiB by default) is therefore put
in the payload bucket when the saga starts (``check_in``), and the execution carries the
order id, the origin and a reference; each task loads the order back (``check_out``).
Why: docs/decisions/0068-a-sagas-input-is-claim-checked.md
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.payloads import store
from functions.payloads.ref import PayloadRef

# What stays inline beside the reference: the execution's business id and the origin
# (the starting action and correlation id every task's log lines carry).
KEPT = ("order_id", "origin")
CLAIM = "payload"
# A saga's input outlives its execution in the bucket as long as a failed action's record.
LIFETIME_DAYS = store.lifetime_days(0)


def check_in(saga_input: dict[str, Any], name: str) -> dict[str, Any]:
    """``saga_input`` as the execution will carry it: itself, or a reference to it."""
    data = json.dumps(saga_input, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) <= store.inline_bytes():
        return saga_input
    ref = store.put(
        data, name=name, args_hash=hashlib.sha256(data).hexdigest(), lifetime=LIFETIME_DAYS
    )
    kept = {key: saga_input[key] for key in KEPT if key in saga_input}
    return {**kept, CLAIM: ref.to_dict()}


def check_out(saga_input: Any) -> Any:
    """The input a task works on: the stored one when the execution carries a reference."""
    if not isinstance(saga_input, dict) or CLAIM not in saga_input:
        return saga_input
    loaded = store.load(PayloadRef.from_dict(saga_input[CLAIM]))
    return {**loaded, **{key: value for key, value in saga_input.items() if key != CLAIM}}
