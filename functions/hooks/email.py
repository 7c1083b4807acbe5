"""``send_email``: a simulated mail send, the shape of any call to a provider."""

from __future__ import annotations

from typing import Any

from functions.actions.exceptions import PermanentError
from functions.actions.hooks import ActionContext, hook
from functions.observability import logger


@hook("send_email", max_attempts=5, base_delay=10, max_delay=600)
def send_email(args: Any, action: ActionContext) -> None:
    # Bad input cannot get better by retrying: fail permanently, straight to the dead letters.
    if not isinstance(args, dict) or not args.get("to") or "@" not in str(args["to"]):
        raise PermanentError("send_email needs args {'to': <address>, 'subject': ...}")
    logger.info(
        "email sent (simulated)",
        extra={"to_domain": str(args["to"]).rsplit("@", 1)[-1], "subject": args.get("subject")},
    )
