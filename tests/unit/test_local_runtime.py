"""The in-process Lambda runtime: per-function module state and environment, Lambda errors."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from infra.local.lambda_runtime import rest_proxy_event
from infra.local.runtime import FunctionNotFound, FunctionSpec, LocalRuntime

COUNTER = """
import os

COUNT = 0
X_AT_IMPORT = os.environ.get("X")


def handler(event, context):
    global COUNT
    COUNT += 1
    return {"count": COUNT, "x_at_import": X_AT_IMPORT}
"""

CACHE = """
VALUES = []
"""

WRITER = """
from PKG import cache


def handler(event, context):
    cache.VALUES.append(event["value"])
    return list(cache.VALUES)
"""

READER = """
from PKG import cache


def handler(event, context):
    return list(cache.VALUES)
"""

LAZY = """
def handler(event, context):
    from PKG import cache  # imported at call time, as lazily created clients are

    cache.VALUES.append(event["value"])
    return list(cache.VALUES)
"""

ENV = """
import os
import time


def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "x": os.environ.get("X"),
        "only_in_process": os.environ.get("ONLY_IN_PROCESS"),
        "lambda_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
    }
"""

FAILING = """
class BadThing(Exception):
    pass


def handler(event, context):
    if event.get("fail"):
        raise BadThing("it broke: " + event["fail"])
    return "fine"
"""

CONTEXT = """
def handler(event, context):
    event["mutated"] = True
    return {
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
    }
"""

MISC = """
import time


def sleepy(event, context):
    time.sleep(event["sleep"])
    return "late"


def unserialisable(event, context):
    return {"value": object()}


not_callable = 42
"""

BROKEN_IMPORT = """
raise RuntimeError("import-time failure")
"""


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A throwaway package on sys.path holding the handler modules above."""
    name = f"lrpkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    sources = {
        "counter": COUNTER,
        "cache": CACHE,
        "writer": WRITER,
        "reader": READER,
        "lazy": LAZY,
        "env": ENV,
        "failing": FAILING,
        "ctx": CONTEXT,
        "misc": MISC,
        "broken": BROKEN_IMPORT,
    }
    for module, source in sources.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source.replace("PKG", name)))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def make_runtime(pkg: str, *specs: FunctionSpec, **kwargs) -> tuple[LocalRuntime, list[str]]:
    lines: list[str] = []
    runtime = LocalRuntime(log=lines.append, packages=(pkg,), **kwargs)
    for spec in specs:
        runtime.register(spec)
    return runtime, lines


def spec(name: str, handler: str, environment=None, timeout=3.0, memory=128) -> FunctionSpec:
    return FunctionSpec(name, handler, dict(environment or {}), timeout, memory)


def test_two_functions_of_one_module_keep_separate_state(pkg):
    runtime, _ = make_runtime(
        pkg, spec("A", f"{pkg}.counter.handler"), spec("B", f"{pkg}.counter.handler")
    )
    assert runtime.invoke("A", {}).payload["count"] == 1
    assert runtime.invoke("A", {}).payload["count"] == 2
    assert runtime.invoke("B", {}).payload["count"] == 1
    assert runtime.invoke("A", {}).payload["count"] == 3


def test_a_shared_submodule_is_not_shared_between_functions(pkg):
    runtime, _ = make_runtime(
        pkg, spec("Writer", f"{pkg}.writer.handler"), spec("Reader", f"{pkg}.reader.handler")
    )
    assert runtime.invoke("Writer", {"value": 1}).payload == [1]
    assert runtime.invoke("Writer", {"value": 2}).payload == [1, 2]
    assert runtime.invoke("Reader", {}).payload == []


def test_call_time_imports_see_the_functions_own_modules(pkg):
    runtime, _ = make_runtime(
        pkg,
        spec("Lazy", f"{pkg}.lazy.handler"),
        spec("Writer", f"{pkg}.writer.handler"),
        spec("OtherLazy", f"{pkg}.lazy.handler"),
    )
    assert runtime.invoke("Lazy", {"value": "a"}).payload == ["a"]
    assert runtime.invoke("Writer", {"value": "w"}).payload == ["w"]
    assert runtime.invoke("Lazy", {"value": "b"}).payload == ["a", "b"]
    assert runtime.invoke("OtherLazy", {"value": "c"}).payload == ["c"]
    assert runtime.invoke("Writer", {"value": "x"}).payload == ["w", "x"]


def test_the_callers_own_modules_are_untouched(pkg):
    own = importlib.import_module(f"{pkg}.counter")
    own.COUNT = 100
    runtime, _ = make_runtime(pkg, spec("A", f"{pkg}.counter.handler"))

    assert runtime.invoke("A", {}).payload["count"] == 1
    assert sys.modules[f"{pkg}.counter"] is own
    assert own.COUNT == 100
    assert runtime.invoke("A", {}).payload["count"] == 2


def test_modules_a_function_imported_do_not_leak_into_the_caller(pkg):
    runtime, _ = make_runtime(pkg, spec("Writer", f"{pkg}.writer.handler"))
    runtime.invoke("Writer", {"value": 1})
    assert not [m for m in sys.modules if m == pkg or m.startswith(pkg + ".")]


def test_each_function_sees_its_own_environment(pkg, monkeypatch):
    monkeypatch.setenv("X", "process")
    runtime, _ = make_runtime(
        pkg,
        spec("A", f"{pkg}.env.handler", {"X": "a"}),
        spec("B", f"{pkg}.env.handler", {"X": "b"}),
        spec("C", f"{pkg}.counter.handler", {"X": "c"}),
    )
    assert runtime.invoke("A", {}).payload["x"] == "a"
    assert runtime.invoke("B", {}).payload == {
        "x": "b",
        "only_in_process": None,
        "lambda_name": "B",
    }
    # Import-time reads see the function's environment too.
    assert runtime.invoke("C", {}).payload["x_at_import"] == "c"
    assert os.environ["X"] == "process"
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


def test_the_base_environment_replaces_the_process_environment(pkg, monkeypatch):
    monkeypatch.setenv("ONLY_IN_PROCESS", "yes")
    monkeypatch.delenv("X", raising=False)
    default, _ = make_runtime(pkg, spec("A", f"{pkg}.env.handler"))
    explicit, _ = make_runtime(
        pkg, spec("A", f"{pkg}.env.handler", {"X": "own"}), base_environment={"X": "base"}
    )
    assert default.invoke("A", {}).payload["only_in_process"] == "yes"
    payload = explicit.invoke("A", {}).payload
    assert payload["only_in_process"] is None
    assert payload["x"] == "own"
    assert os.environ["ONLY_IN_PROCESS"] == "yes"
    assert "X" not in os.environ


def test_concurrent_invocations_each_see_their_own_environment(pkg):
    runtime, _ = make_runtime(
        pkg,
        spec("A", f"{pkg}.env.handler", {"X": "a"}),
        spec("B", f"{pkg}.env.handler", {"X": "b"}),
    )
    results: dict[str, list[str]] = {"A": [], "B": []}

    def call(name: str) -> None:
        for _ in range(5):
            results[name].append(runtime.invoke(name, {"sleep": 0.002}).payload["x"])

    threads = [threading.Thread(target=call, args=(n,)) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"A": ["a"] * 5, "B": ["b"] * 5}


def test_an_unhandled_exception_becomes_a_lambda_error(pkg, monkeypatch):
    monkeypatch.setenv("X", "process")
    runtime, lines = make_runtime(pkg, spec("F", f"{pkg}.failing.handler", {"X": "f"}))

    result = runtime.invoke("F", {"fail": "badly"})

    assert result.payload is None
    assert result.error == {"errorType": "BadThing", "errorMessage": "it broke: badly"}
    assert not result.ok
    assert any("raise BadThing" in line for line in result.stack_trace)
    assert os.environ["X"] == "process"
    assert any("Error: BadThing: it broke: badly" in line for line in lines)
    # The function stays warm and usable.
    assert runtime.invoke("F", {}).payload == "fine"
    assert runtime.invoke_payload("F", {"fail": "again"})["errorType"] == "BadThing"


def test_an_import_failure_is_reported_and_retried(pkg):
    runtime, _ = make_runtime(
        pkg,
        spec("Broken", f"{pkg}.broken.handler"),
        spec("Missing", f"{pkg}.misc.nope"),
        spec("NotCallable", f"{pkg}.misc.not_callable"),
        spec("NoModule", f"{pkg}.does_not_exist.handler"),
    )
    first = runtime.invoke("Broken", {})
    assert first.error["errorType"] == "Runtime.ImportModuleError"
    assert "import-time failure" in first.error["errorMessage"]
    assert runtime.invoke("Broken", {}).error["errorType"] == "Runtime.ImportModuleError"
    assert runtime.invoke("Missing", {}).error["errorType"] == "Runtime.HandlerNotFound"
    assert runtime.invoke("NotCallable", {}).error["errorType"] == "Runtime.HandlerNotFound"
    assert runtime.invoke("NoModule", {}).error["errorType"] == "Runtime.ImportModuleError"
    assert not [m for m in sys.modules if m.startswith(pkg)]


def test_the_handler_gets_a_lambda_context_and_a_copy_of_the_event(pkg):
    runtime, lines = make_runtime(pkg, spec("Ctx", f"{pkg}.ctx.handler", timeout=7, memory=256))
    event = {"a": 1}

    result = runtime.invoke("Ctx", event)

    assert result.payload["function_name"] == "Ctx"
    assert result.payload["memory"] == 256
    assert 0 < result.payload["remaining_ms"] <= 7000
    assert result.payload["request_id"] == result.request_id
    assert event == {"a": 1}
    assert result.init_duration_ms is not None
    assert runtime.invoke("Ctx", event).init_duration_ms is None  # warm
    assert lines[0].startswith(f"REPORT Ctx RequestId: {result.request_id}")


def test_an_overlong_invocation_is_reported_as_a_timeout(pkg):
    runtime, _ = make_runtime(pkg, spec("Slow", f"{pkg}.misc.sleepy", timeout=0.01))
    result = runtime.invoke("Slow", {"sleep": 0.05})
    assert result.payload is None
    assert result.error["errorType"] == "Sandbox.Timedout"


def test_an_unserialisable_payload_is_a_marshal_error(pkg):
    runtime, _ = make_runtime(pkg, spec("U", f"{pkg}.misc.unserialisable"))
    assert runtime.invoke("U", {}).error["errorType"] == "Runtime.MarshalError"


def test_unknown_function(pkg):
    runtime, _ = make_runtime(pkg)
    with pytest.raises(FunctionNotFound):
        runtime.invoke("Nope", {})


def test_a_bad_handler_string_is_rejected():
    with pytest.raises(ValueError, match=r"module\.function"):
        FunctionSpec("F", "handler", {}, 3, 128)


def test_reload_picks_up_code_changes_and_resets_state(pkg, tmp_path):
    runtime, _ = make_runtime(pkg, spec("A", f"{pkg}.counter.handler"))
    runtime.invoke("A", {})
    assert runtime.invoke("A", {}).payload["count"] == 2

    source = tmp_path / pkg / "counter.py"
    source.write_text(source.read_text().replace("COUNT += 1", "COUNT += 10  # changed"))
    assert runtime.invoke("A", {}).payload["count"] == 3  # still the warm module
    runtime.reload()
    assert runtime.invoke("A", {}).payload["count"] == 10


def test_re_registering_a_function_makes_it_cold(pkg):
    runtime, _ = make_runtime(pkg, spec("A", f"{pkg}.counter.handler"))
    runtime.invoke("A", {})
    runtime.register(spec("A", f"{pkg}.counter.handler"))
    assert runtime.invoke("A", {}).payload["count"] == 1


def test_the_real_webhook_handler_runs_in_its_own_namespace():
    import functions.observability

    before = sys.modules["functions.observability"]
    runtime = LocalRuntime(log=lambda line: None)
    runtime.register(
        FunctionSpec(
            "Webhook",
            "functions.handlers.webhook.lambda_handler",
            {"POWERTOOLS_SERVICE_NAME": "local-webhooks", "POWERTOOLS_METRICS_NAMESPACE": "Local"},
            10,
            512,
        )
    )
    event = rest_proxy_event(
        "GET", "/nope", resource="/{proxy+}", path_parameters={"proxy": "nope"}
    )

    result = runtime.invoke("Webhook", event)

    assert result.error is None, result.stack_trace
    assert result.payload["statusCode"] == 404
    assert sys.modules["functions.observability"] is before
    assert functions.observability.SERVICE != "local-webhooks"
    assert "POWERTOOLS_SERVICE_NAME" not in os.environ or (
        os.environ["POWERTOOLS_SERVICE_NAME"] != "local-webhooks"
    )
