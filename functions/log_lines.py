"""Powertools' JSON log lines, written by a formatter about twice as fast as its own.

Why: a warm worker writes two lines a record (its hook's and its own), and Powertools'
formatter spends most of a line's time on work a plain line does not need: a copy of the
record's attributes, a scan of a 24-name tuple for each of them, a ``strftime`` per line
and an attempt to parse every text message as JSON (a raised exception, for a sentence).
``JsonLines`` writes the very same line (tests/unit/test_log_lines.py compares the two
on many records) and hands every other record to Powertools: one with an exception,
``%``-arguments, a message that may be JSON, a thread-safe key, or a key whose template
it does not know.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging.formatter import (
    RESERVED_LOG_ATTRS,
    LambdaPowertoolsFormatter,
    _get_context,
)

_RESERVED = frozenset(RESERVED_LOG_ATTRS)
# What a text that ``json.loads`` might accept starts with (leading whitespace included).
_JSON_STARTS = frozenset('{["-0123456789tfnNI \t\r\n')
# The templates of Powertools' default keys, as Powertools fills them with ``%``.
_TEMPLATES: dict[str, Callable[[JsonLines, logging.LogRecord], str]] = {
    "%(levelname)s": lambda _, record: record.levelname,
    "%(funcName)s:%(lineno)d": lambda _, record: f"{record.funcName}:{record.lineno}",
    "%(asctime)s": lambda formatter, record: formatter.formatTime(record),
}


class JsonLines(LambdaPowertoolsFormatter):
    """Powertools' JSON lines without the keys named in ``dropped``."""

    def __init__(self, *, dropped: tuple[str, ...] = (), **options: Any) -> None:
        super().__init__(**options)
        self.dropped = dropped
        self._second: int | None = None
        self._stamp = ("", "")
        # Only Powertools' defaults have a lean path: other settings go through its code.
        self._lean = (
            self.json_deserializer is json.loads
            and not self.datefmt
            and not self.use_rfc3339_iso8601
            and not self.use_datetime_directive
        )

    def serialize(self, log: Any) -> str:
        for key in self.dropped:
            log.pop(key, None)
        return super().serialize(log)

    def format(self, record: logging.LogRecord) -> str:
        message = record.msg
        if (
            not self._lean
            or record.exc_info
            or record.args
            or type(message) is not str
            or not message
            or message[0] in _JSON_STARTS
            or _get_context().get()
        ):
            return super().format(record)
        line: dict[str, Any] = {}
        for key, value in self.log_format.items():
            if value and key in _RESERVED:
                template = _TEMPLATES.get(value) if isinstance(value, str) else None
                if template is None:
                    return super().format(record)
                line[key] = template(self, record)
            else:
                line[key] = value
        for key, value in record.__dict__.items():  # the record's extra keys, in order
            if key not in _RESERVED:
                line[key] = value
        line["message"] = message
        line["exception"] = line.get("exception")
        line["exception_name"] = line.get("exception_name")
        line["exception_notes"] = line.get("exception_notes")
        if self.serialize_stacktrace:
            line["stack_trace"] = None
        line["xray_trace_id"] = self._get_latest_trace_id()
        return self.serialize({key: value for key, value in line.items() if value is not None})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        """Powertools' default ``2021-05-03 10:20:19,650+0000``, its two ``strftime``
        parts made once a second."""
        if not self._lean or datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            moment = self.converter(record.created)
            self._stamp = (time.strftime("%Y-%m-%d %H:%M:%S,", moment), time.strftime("%z", moment))
            self._second = second
        before, after = self._stamp
        return f"{before}{int(record.msecs):03d}{after}"
