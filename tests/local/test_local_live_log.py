"""The local cloud's live log: function records as readable lines, metrics dropped."""

from __future__ import annotations

import io
import json

from infra.local.live_log import LiveLog, format_line


def _record(**fields) -> str:
    base = {
        "level": "INFO",
        "location": "complete:163",
        "message": "action completed",
        "timestamp": "2026-11-29 20:54:49,167+0000",
        "service": "worker",
        "cold_start": False,
        "function_request_id": "r-1",
        "xray_trace_id": "1-abc",
    }
    return json.dumps({**base, **fields})


def test_a_record_becomes_one_line_with_what_happened_first():
    line = format_line(
        _record(correlation_id="d-7", attempt=1, action_id="a1", hook="send_email", extra=None)
    )

    assert line == (
        "20:54:49  worker   INFO  action completed  "
        "hook=send_email action_id=a1 attempt=1 correlation_id=d-7"
    )


def test_the_noise_of_every_record_is_left_out():
    line = format_line(_record())

    for noise in ("cold_start", "location", "r-1", "1-abc", "function_request_id"):
        assert noise not in line


def test_an_exception_shows_its_last_line_on_the_same_line():
    line = format_line(
        _record(level="ERROR", exception='Traceback...\n  File "x"\nValueError: boom')
    )

    assert "\n" not in line
    assert line.endswith("  exception=ValueError: boom")
    assert "Traceback" not in line and "File" not in line


def test_long_values_are_cut():
    line = format_line(_record(error="x" * 500))

    assert "x" * 119 + "…" in line
    assert "x" * 121 not in line


def test_emf_metrics_are_dropped():
    blob = json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "ActionsCompleted": 1})

    assert format_line(blob) is None


def test_other_lines_pass_unchanged():
    for line in (
        "20:54:37  POST /v1/webhooks/github 202 280.0ms",
        "{not json",
        "[1, 2]",
        '{"a": 1}',
    ):
        assert format_line(line) == line


def test_the_stream_buffers_partial_lines():
    out = io.StringIO()
    log = LiveLog(out)

    log.write(_record()[:20])
    assert out.getvalue() == ""
    log.write(_record()[20:] + "\nplain line\n")
    log.write(json.dumps({"_aws": {}}) + "\n")

    assert out.getvalue().splitlines() == [
        "20:54:49  worker   INFO  action completed",
        "plain line",
    ]
