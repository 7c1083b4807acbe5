"""The process runtime: environments of their own, concurrency, crashes, timeouts, clock."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from infra.local.process_runtime import FunctionNotFound, FunctionSpec, ProcessRuntime

HANDLERS = "tests.local.process_handlers"


@pytest.fixture
def runtime():
    lines: list[str] = []
    runtime = ProcessRuntime(base_environment={"COLOUR": "none"}, log=lines.append)
    runtime.lines = lines
    yield runtime
    runtime.stop()


def _spec(name: str, handler: str, timeout: float = 30, **environment: str) -> FunctionSpec:
    return FunctionSpec(name, f"{HANDLERS}.{handler}", environment, timeout, 128)


def test_each_function_has_its_own_environment_and_process(runtime):
    runtime.register(_spec("Red", "describe", COLOUR="red"))
    runtime.register(_spec("Blue", "describe", COLOUR="blue"))

    red, blue = runtime.invoke("Red", {}), runtime.invoke("Blue", {})

    assert (red.payload["colour"], blue.payload["colour"]) == ("red", "blue")
    assert red.payload["function"] == "Red"
    assert red.payload["pid"] != blue.payload["pid"]


def test_a_warm_environment_is_reused_and_reports_its_init_once(runtime):
    runtime.register(_spec("Fn", "describe"))

    first, second = runtime.invoke("Fn", {}), runtime.invoke("Fn", {})

    assert first.init_duration_ms is not None and second.init_duration_ms is None
    assert first.payload["pid"] == second.payload["pid"]
    assert "Init Duration" in runtime.lines[0] and "Init Duration" not in runtime.lines[1]


def test_invocations_of_one_function_run_concurrently_up_to_its_limit(runtime, tmp_path):
    runtime.register(_spec("Meet", "meet"), concurrency=2)
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                runtime.invoke("Meet", {"folder": str(tmp_path), "expect": 2})
            )
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Each saw the other inside at the same time: two environments at once.
    assert [r.payload for r in results] == [2, 2]


def test_a_crash_fails_the_invocation_and_the_next_one_starts_cold(runtime):
    runtime.register(_spec("Crash", "crash"))

    result = runtime.invoke("Crash", {})

    assert result.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in result.error["errorMessage"]
    again = runtime.invoke("Crash", {})
    assert again.error["errorType"] == "Runtime.ExitError"
    assert again.init_duration_ms is not None  # a new environment


def test_a_timeout_kills_the_environment(runtime):
    runtime.register(_spec("Slow", "sleep", timeout=0.5))

    result = runtime.invoke("Slow", {"seconds": 30})

    assert result.error["errorType"] == "Sandbox.Timedout"
    quick = runtime.invoke("Slow", {"seconds": 0})
    assert quick.payload == "woke"
    assert quick.init_duration_ms is not None


def test_errors_come_back_as_lambda_shapes(runtime):
    runtime.register(_spec("Fail", "fail"))
    runtime.register(_spec("Set", "unserializable"))
    runtime.register(_spec("Missing", "no_such_handler"))
    runtime.register(FunctionSpec("Broken", "tests.local.no_such_module.handler"))

    fail = runtime.invoke("Fail", {})
    assert fail.error == {"errorType": "ValueError", "errorMessage": "as asked"}
    assert "as asked" in "".join(fail.stack_trace)
    assert runtime.invoke("Set", {}).error["errorType"] == "Runtime.MarshalError"
    assert runtime.invoke("Missing", {}).error["errorType"] == "Runtime.HandlerNotFound"
    assert runtime.invoke("Broken", {}).error["errorType"] == "Runtime.ImportModuleError"
    payload = runtime.invoke_payload("Fail", {})
    assert payload["errorType"] == "ValueError" and payload["stackTrace"]
    with pytest.raises(FunctionNotFound):
        runtime.invoke("Nobody", {})


def test_a_failure_is_one_line_in_the_readable_log_and_its_trace_stays_out(runtime, capfd):
    runtime.register(_spec("Fail", "fail"))
    runtime.invoke("Fail", {})

    [report] = runtime.lines
    assert report.startswith("REPORT Fail RequestId: ")
    assert report.endswith(" Error: ValueError: as asked")
    assert "Traceback" not in capfd.readouterr().out


def test_with_local_log_json_a_failure_logs_its_trace_as_one_json_record(capfd):
    import json

    lines: list[str] = []
    runtime = ProcessRuntime(base_environment={"LOCAL_LOG": "json"}, log=lines.append)
    try:
        runtime.register(_spec("Fail", "fail"))
        failed = runtime.invoke("Fail", {})
    finally:
        runtime.stop()

    assert len(lines) == 1 and "Traceback" not in lines[0]
    records = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line]
    [record] = [r for r in records if r.get("errorType") == "ValueError"]
    assert record["level"] == "ERROR"
    assert record["message"] == "ValueError: as asked"
    assert record["requestId"] == failed.request_id
    assert "Traceback" in "".join(record["stackTrace"])


def test_a_bad_handler_string_is_rejected():
    with pytest.raises(ValueError, match=r"module\.function"):
        FunctionSpec("F", "handler", {}, 3, 128)


def test_reload_makes_the_next_invocation_a_cold_start(runtime):
    runtime.register(_spec("Fn", "describe"))
    before = runtime.invoke("Fn", {})

    runtime.reload()
    after = runtime.invoke("Fn", {})

    assert after.init_duration_ms is not None
    assert after.payload["pid"] != before.payload["pid"]


def test_a_moved_clock_is_moved_in_the_environment_too(runtime):
    runtime.register(_spec("Fn", "describe"))
    runtime.invoke("Fn", {})  # warm, on the machine's clock
    later = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)

    with time_machine.travel(later, tick=True):
        moved = runtime.invoke("Fn", {})
    back = runtime.invoke("Fn", {})

    assert moved.payload["now"] == pytest.approx(later.timestamp(), abs=30)
    assert back.payload["now"] < later.timestamp() - 3600
    # The time left is the function's own timeout counting down, whatever the wall clock
    # says: the worker's time budget reads it (functions/actions/budget.py).
    for result in (moved, back):
        assert 0 < result.payload["remaining_ms"] <= 30_000


def test_the_context_counts_down_from_the_functions_timeout(runtime):
    runtime.register(_spec("Short", "describe", timeout=7))
    runtime.register(_spec("Long", "describe", timeout=60))

    short, long = runtime.invoke("Short", {}), runtime.invoke("Long", {})

    assert 0 < short.payload["remaining_ms"] <= 7_000
    assert 7_000 < long.payload["remaining_ms"] <= 60_000


def test_import_time_reads_of_the_environment_see_the_functions_own(runtime):
    runtime.register(_spec("Worker", "service", POWERTOOLS_SERVICE_NAME="worker"))
    runtime.register(_spec("Webhook", "service", POWERTOOLS_SERVICE_NAME="webhook"))

    assert runtime.invoke("Worker", {}).payload == "worker"
    assert runtime.invoke("Webhook", {}).payload == "webhook"


def test_a_hung_init_times_out_and_frees_its_slot(runtime, monkeypatch):
    from infra.local import process_runtime

    monkeypatch.setattr(process_runtime, "INIT_TIMEOUT", 1.0)
    runtime.register(FunctionSpec("Hang", "tests.local.process_hang.handler"), concurrency=1)

    first, second = runtime.invoke("Hang", {}), runtime.invoke("Hang", {})

    assert first.error["errorType"] == second.error["errorType"] == "Sandbox.Timedout"
    assert "Init timed out" in first.error["errorMessage"]


def test_after_stop_nothing_runs_and_no_environment_is_left(runtime):
    runtime.register(_spec("Fn", "describe"))
    pid = runtime.invoke("Fn", {}).payload["pid"]

    runtime.stop()

    assert runtime.invoke("Fn", {}).error["errorType"] == "ServiceException"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_environment_does_not_outlive_its_parent(tmp_path):
    """A parent killed outright (no stop()) leaves no environment running on."""
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    started = tmp_path / "invocation-started"
    script.write_text(
        "from infra.local.process_runtime import FunctionSpec, ProcessRuntime\n"
        "r = ProcessRuntime(base_environment={})\n"
        "r.register(FunctionSpec('Slow', 'tests.local.process_handlers.sleep', {}, 600, 128))\n"
        "import threading\n"
        f"event = {{'seconds': 600, 'mark': {str(started)!r}}}\n"
        "threading.Thread(target=r.invoke, args=('Slow', event)).start()\n"
        "import time; time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], cwd=Path.cwd())  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # a bounded wait for the invocation to begin, not a delay
        assert started.exists(), "the invocation did not start"
        children = _children_of(parent.pid)
        assert children, "no environment runs the invocation"
    finally:
        parent.kill()
        parent.wait()

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(children[0]):
        time.sleep(0.2)
    assert not _alive(children[0])


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, if not yet reaped
        return stat.read().split()[2] != "Z"
