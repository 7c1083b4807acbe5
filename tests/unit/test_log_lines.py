"""``JsonLines`` writes exactly the line Powertools' own formatter writes, record by
record: its lean path changes the time a line takes, never a byte of it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import (
    LambdaPowertoolsFormatter,
    clear_context_keys,
    set_context_keys,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.log_lines import JsonLines
from functions.observability import DROPPED_KEYS, logger

APPENDED: dict[str, Any] = {
    "service": "jobs",
    "sampling_rate": None,
    "cold_start": False,
    "function_name": "worker",
    "function_memory_size": 512,
    "function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:worker",
    "function_request_id": "c6af9ac6-7b61-11e6-9a41-93e812345678",
    "correlation_id": "delivery-1",
    "action_id": "4f558f52",
    "attempt": 1,
}


class _Unprintable:
    def __str__(self) -> str:
        return "<unprintable>"


class _Powertools(LambdaPowertoolsFormatter):
    """Powertools' own formatter, less the dropped key: what the shipped logger wrote
    before ``JsonLines``."""

    def serialize(self, log: Any) -> str:
        log.pop("function_arn", None)
        return super().serialize(log)


def _pair(**keys: Any) -> tuple[JsonLines, _Powertools]:
    ours, theirs = JsonLines(dropped=("function_arn",)), _Powertools()
    for formatter in (ours, theirs):
        formatter.append_keys(**keys)
    return ours, theirs


def _record(
    message: Any, *, args: Any = (), extra: dict[str, Any] | None = None, exc_info: Any = None
) -> logging.LogRecord:
    return logging.getLogger("test.log_lines").makeRecord(
        "test.log_lines", logging.INFO, __file__, 42, message, args, exc_info, "worker_run", extra
    )


def _same(ours: JsonLines, theirs: _Powertools, record: logging.LogRecord) -> str:
    """Our line, once it is known to be Powertools' line, byte for byte."""
    line = ours.format(record)
    assert line == theirs.format(record)
    return line


MESSAGES = [
    "action completed",
    "é unicode \u2028 line separator",
    "",
    " leading space",
    "123",
    "-1.5",
    "true",
    "null",
    "NaN",
    '{"a": 1}',
    '["x"]',
    '"quoted"',
    "{not json",
    "tail }",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_a_text_message_is_written_as_powertools_writes_it(message: str) -> None:
    ours, theirs = _pair(**APPENDED)

    _same(ours, theirs, _record(message))


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"ref": "refs/heads/main", "commits": 5},
        {"exception": "an extra named exception", "exception_name": "Nope"},
        {"stack_trace": "an extra named stack_trace"},
        {"xray_trace_id": "mine"},
        {"correlation_id": "overrides the appended one"},
        {"value": _Unprintable(), "when": datetime(2026, 1, 2, tzinfo=UTC), "none": None},
        {"nested": {"a": [1, 2.5, None, "é"]}},
    ],
    ids=repr,
)
def test_extra_keys_are_written_as_powertools_writes_them(extra: dict[str, Any]) -> None:
    ours, theirs = _pair(**APPENDED)

    _same(ours, theirs, _record("with extras", extra=extra))


def test_what_the_lean_path_leaves_to_powertools_is_written_as_powertools_writes_it() -> None:
    ours, theirs = _pair(**APPENDED)
    try:
        raise ValueError("boom")
    except ValueError:
        failure = sys.exc_info()

    _same(ours, theirs, _record("failed", exc_info=failure))
    _same(ours, theirs, _record("%s of %d", args=("one", 2)))
    _same(ours, theirs, _record({"a": "dict message"}))
    _same(ours, theirs, _record(["a", "list"]))
    set_context_keys(tenant="t-1")
    try:
        _same(ours, theirs, _record("with a thread-safe key"))
    finally:
        clear_context_keys()


def test_a_record_another_handler_formatted_first_is_written_as_powertools_writes_it() -> None:
    ours, theirs = _pair(**APPENDED)
    record = _record("seen twice")
    logging.Formatter("%(asctime)s %(message)s").format(record)  # sets record.message, asctime

    _same(ours, theirs, record)


def test_a_key_that_overrides_a_record_attribute_is_written_as_powertools_writes_it() -> None:
    ours, theirs = _pair(**APPENDED)
    for formatter in (ours, theirs):
        formatter.append_keys(location="%(module)s.%(funcName)s", name="%(name)s")

    _same(ours, theirs, _record("overridden"))


def test_the_trace_id_is_written_as_powertools_writes_it(monkeypatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    ours, theirs = _pair(**APPENDED)

    line = _same(ours, theirs, _record("traced"))

    assert '"xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793"' in line


@settings(max_examples=300)
@given(
    message=st.text(max_size=20),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda key: key.isidentifier()),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
        max_size=4,
    ),
    created=st.floats(1e9, 4e9),
)
def test_any_record_is_written_as_powertools_writes_it(
    message: str, extra: dict[str, Any], created: float
) -> None:
    ours, theirs = _pair(**APPENDED)
    reserved = logging.makeLogRecord({}).__dict__.keys() | {"message", "asctime"}
    record = _record(message, extra={k: v for k, v in extra.items() if k not in reserved})
    record.created, record.msecs = created, (created - int(created)) * 1000

    _same(ours, theirs, record)


def test_the_time_is_written_as_powertools_writes_it_within_and_across_seconds() -> None:
    ours, theirs = _pair(**APPENDED)
    for created in (1796122206.001, 1796122206.999, 1796122207.0, 1796122207.5, 1796122206.2):
        record = _record("tick")
        record.created, record.msecs = created, (created - int(created)) * 1000

        _same(ours, theirs, record)


def test_the_shipped_logger_writes_json_lines_without_the_dropped_keys() -> None:
    formatter = logger.registered_formatter

    assert isinstance(formatter, JsonLines)
    assert formatter.dropped == DROPPED_KEYS


def test_a_shipped_line_leaves_out_what_the_log_group_and_the_function_say() -> None:
    formatter = JsonLines(dropped=DROPPED_KEYS)
    formatter.append_keys(**{**APPENDED, "sampling_rate": "0.01"})

    line = json.loads(formatter.format(_record("action completed")))

    # The log group names the function, REPORT gives its memory, the sample rate is its
    # setting (record 0076); what tells one request and one delivery apart stays.
    assert set(DROPPED_KEYS).isdisjoint(line)
    assert {"function_arn", "function_name", "sampling_rate"} <= set(DROPPED_KEYS)
    assert {"function_request_id", "cold_start", "correlation_id", "action_id"} <= set(line)
