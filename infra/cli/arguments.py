"""Argument types shared by the commands: times, JSON values, counts.

Each raises ``argparse.ArgumentTypeError``, so a bad value is a usage error (exit 2)
with a message that says what was expected.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime
from typing import Any

PRIORITIES = ("high", "default", "low")


def moment(text: str) -> datetime:
    """ISO 8601 with a UTC offset or ``Z``, or epoch seconds, as a UTC datetime.

    A time without an offset is refused: whose local time it means is a guess.
    """
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise argparse.ArgumentTypeError(f"{text!r} is not a usable epoch time")
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not a usable epoch time") from None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give ISO 8601 with an offset "
            "(2030-01-31T09:00:00Z, 2030-01-31T10:00:00+01:00) or epoch seconds"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset, so it is ambiguous: add Z or +HH:MM"
        )
    return value.astimezone(UTC)


def json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def whole_seconds(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
