"""A readable live log for ``make run``: one short line per function log record.

``LiveLog`` stands in front of stdout before any function is imported (a Powertools
Logger binds its stream when it is created): JSON log records print as
``20:54:49  worker   INFO  action completed  hook=send_email ...``, one line each (an
exception shows its last line, never its trace), EMF metric blobs are dropped, other
lines pass through. ``LOCAL_LOG=json`` keeps the raw lines, traces included.
"""

from __future__ import annotations

import json
import threading
from typing import Any, TextIO

# Fields every Powertools record carries that say nothing about what happened.
_NOISE = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "sampling_rate",
        "xray_trace_id",
        "exception",
        "exception_name",
        "stack_trace",
    }
)
# Shown first, in this order, when present: what a reader looks for.
_FIRST = ("source", "delivery_id", "hook", "action_id", "attempt", "reason", "error")
_MAX_VALUE = 120


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def format_line(line: str) -> str | None:
    """The readable form of one output line; None for a line not worth showing."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return line
    try:
        record = json.loads(stripped)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    if "_aws" in record:  # an EMF metrics blob
        return None
    if "level" not in record or "message" not in record:
        return line
    keys = [k for k in _FIRST if k in record]
    keys += sorted(k for k in record if k not in _NOISE and k not in _FIRST)
    fields = " ".join(f"{k}={_value(record[k])}" for k in keys if record[k] not in (None, ""))
    stamp = str(record.get("timestamp", ""))
    clock = stamp[11:19] if len(stamp) >= 19 and stamp[13] == ":" else "--:--:--"
    service = record.get("service", "-")
    text = f"{clock}  {service:<8} {record['level']:<5} {_value(record['message'])}"
    if fields:
        text += f"  {fields}"
    exception = record.get("exception")
    if exception:  # its last line only: the trace stays in the structured log
        last = str(exception).strip().splitlines()[-1]
        text += f"  exception={_value(last)}"
    return text


class LiveLog:
    """A text stream that reformats what is written to it, line by line, into ``out``."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                shown = format_line(line)
                if shown is not None:
                    self._out.write(shown + "\n")
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return self._out.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._out, "encoding", "utf-8")

    def fileno(self) -> int:
        return self._out.fileno()
