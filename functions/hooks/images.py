"""``process_image``: a slow job on the low-priority queue, so it never delays urgent work."""

from __future__ import annotations

import time
from typing import Any

from functions.actions.exceptions import PermanentError
from functions.actions.hooks import ActionContext, hook
from functions.observability import logger

MAX_SECONDS = 20.0


# A run may take up to MAX_SECONDS: declared, so the worker starts it only with that much
# of its invocation left (functions/actions/budget.py).
@hook("process_image", priority="low", max_attempts=3, base_delay=30, timeout=MAX_SECONDS)
def process_image(args: Any, action: ActionContext) -> None:
    if not isinstance(args, dict) or "image" not in args:
        raise PermanentError("process_image needs args {'image': <key>, 'seconds': <work>}")
    seconds = min(float(args.get("seconds", 1.0)), MAX_SECONDS)
    time.sleep(seconds)  # stands for the resize/encode work
    logger.info("image processed", extra={"image": args["image"], "seconds": seconds})
