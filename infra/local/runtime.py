"""An in-process Lambda runtime: each function gets its own environment and module namespace.

On AWS every function runs in its own process, so two functions never share module
state: ``functools.cache``'d settings, lazily created boto3 clients, Powertools
singletons, hook registries. Running several functions in one Python process would
quietly share all of that (and read each other's environment), so this runtime keeps a
private copy of the project's modules per function and swaps it into ``sys.modules``
for the duration of an invocation::

    runtime = LocalRuntime()
    runtime.register(FunctionSpec("Webhook", "functions.handlers.webhook.lambda_handler",
                                  {"POWERTOOLS_SERVICE_NAME": "webhooks"}, 10, 512))
    result = runtime.invoke("Webhook", event)   # InvokeResult(payload, error, duration_ms)

An invocation, under a process-wide lock:

1. sets ``os.environ`` to the base environment plus the function's own variables (and
   the variables Lambda itself sets), restoring the previous environment afterwards;
2. stashes the ``sys.modules`` entries of the isolated packages (``functions`` and its
   submodules by default) and installs this function's own entries;
3. the first time, imports the handler's module fresh, with the function's environment
   already set, so import-time reads of the environment see the right values;
4. calls the handler with a :class:`LocalContext`;
5. saves this function's module entries back and restores the stash.

Third-party packages (boto3, Powertools, pydantic) stay shared, as their state is
either harmless or keyed by what our modules pass them.

Like Lambda, an unhandled exception is not raised: it becomes
``error={"errorType": ..., "errorMessage": ...}``. The event and the payload are passed
through JSON, as they are on AWS, so a handler neither mutates the caller's event nor
returns something Lambda could not serialise.

Limitations: invocations are serialised (``sys.modules`` and ``os.environ`` are process
globals); the timeout is checked after the handler returns (a thread cannot be killed),
so an overlong invocation completes and is then reported as timed out; code that runs
outside an invocation (a thread a handler started, another thread importing
``functions`` while an invocation is in progress) sees whichever namespace is installed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from infra.local.lambda_runtime import LocalContext

# sys.modules and os.environ are process-wide, so one lock for every runtime instance.
# Re-entrant, so a handler may synchronously invoke another local function.
_LOCK = threading.RLock()

DEFAULT_PACKAGES: tuple[str, ...] = ("functions",)


class FunctionNotFound(KeyError):
    """No function of that name was registered (Lambda's ResourceNotFoundException)."""


@dataclass
class FunctionSpec:
    """What the template says about one function."""

    name: str
    handler: str  # "functions.handlers.webhook.lambda_handler"
    environment: dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0
    memory_mb: int = 128

    def __post_init__(self) -> None:
        module, _, attribute = self.handler.rpartition(".")
        if not module or not attribute:
            raise ValueError(f"handler must be 'module.function', got {self.handler!r}")

    @property
    def module_name(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def function_attribute(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass
class InvokeResult:
    """What an invocation returned: the payload, or Lambda's function-error shape."""

    payload: Any
    error: dict[str, Any] | None
    duration_ms: float
    request_id: str = ""
    init_duration_ms: float | None = None  # set on the invocation that imported the handler
    stack_trace: list[str] | None = None  # the traceback of an unhandled exception

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Function:
    spec: FunctionSpec
    modules: dict[str, ModuleType] = field(default_factory=dict)
    handler: Callable[[Any, Any], Any] | None = None


def _belongs(module_name: str, packages: Iterable[str]) -> bool:
    return any(module_name == p or module_name.startswith(p + ".") for p in packages)


def _error(error_type: str, message: str) -> dict[str, str]:
    return {"errorType": error_type, "errorMessage": message}


class RuntimeBase:
    """What both local runtimes share: the function list, the environment a function
    sees, Lambda's error payload and the REPORT line."""

    _base_environment: dict[str, str] | None
    _log: Callable[[str], None]
    _packages: tuple[str, ...]
    _functions: dict[str, Any]

    @property
    def packages(self) -> tuple[str, ...]:
        """The top-level packages each function has its own copy of."""
        return self._packages

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        return {name: f.spec for name, f in self._functions.items()}

    def environment_for(self, spec: FunctionSpec) -> dict[str, str]:
        """The environment the function's code sees."""
        base = dict(os.environ) if self._base_environment is None else dict(self._base_environment)
        lambda_vars = {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "_HANDLER": spec.handler,
        }
        return {**base, **lambda_vars, **{k: str(v) for k, v in spec.environment.items()}}

    def invoke(self, name: str, event: Any) -> InvokeResult:
        raise NotImplementedError

    def invoke_payload(self, name: str, event: Any) -> Any:
        """The payload, or on error Lambda's function-error payload
        ``{"errorType", "errorMessage", "stackTrace"}`` (what ``HttpFront`` expects)."""
        result = self.invoke(name, event)
        if result.error is None:
            return result.payload
        return {**result.error, "stackTrace": result.stack_trace or []}

    def _report(self, spec: FunctionSpec, result: InvokeResult) -> None:
        line = (
            f"REPORT {spec.name} RequestId: {result.request_id} "
            f"Duration: {result.duration_ms:.1f} ms"
        )
        if result.init_duration_ms is not None:
            line += f" Init Duration: {result.init_duration_ms:.1f} ms"
        if result.error is not None:
            line += f" Error: {result.error['errorType']}: {result.error['errorMessage']}"
        self._log(line)
        if result.stack_trace:
            self._log("".join(result.stack_trace).rstrip())


class LocalRuntime(RuntimeBase):
    """Runs registered functions in this process, each in its own module namespace."""

    def __init__(
        self,
        base_environment: dict[str, str] | None = None,
        log: Callable[[str], None] = print,
        *,
        packages: Iterable[str] = DEFAULT_PACKAGES,
    ) -> None:
        """``base_environment`` is what every function sees before its own variables;
        None means the process environment at the time of each invocation.
        ``packages`` are the top-level packages each function gets its own copy of."""
        self._base_environment = None if base_environment is None else dict(base_environment)
        self._log = log
        self._packages = tuple(packages)
        self._functions: dict[str, _Function] = {}

    # -- registration ---------------------------------------------------------------

    def register(self, spec: FunctionSpec) -> None:
        """Add a function; re-registering a name replaces it (and its cold modules)."""
        with _LOCK:
            self._functions[spec.name] = _Function(spec)

    def reload(self, name: str | None = None) -> None:
        """Forget cached modules (of one function, or all): the next invoke is a cold start."""
        with _LOCK:
            targets = [self._functions[name]] if name else list(self._functions.values())
            for function in targets:
                function.modules = {}
                function.handler = None
            importlib.invalidate_caches()

    # -- invocation -----------------------------------------------------------------

    def invoke(self, name: str, event: Any) -> InvokeResult:
        """Invoke ``name`` synchronously (RequestResponse). Never raises for handler errors."""
        function = self._functions.get(name)
        if function is None:
            raise FunctionNotFound(name)
        spec = function.spec
        request_id = str(uuid.uuid4())
        try:
            event = json.loads(json.dumps(event))
        except (TypeError, ValueError) as exc:
            return InvokeResult(None, _error("InvalidRequestContentException", str(exc)), 0.0)

        with _LOCK:
            saved_environ = dict(os.environ)
            environment = self.environment_for(spec)
            stash = self._take_modules()
            sys.modules.update(function.modules)
            try:
                os.environ.clear()
                os.environ.update(environment)
                result = self._run(function, event, request_id)
            finally:
                function.modules = self._take_modules()
                sys.modules.update(stash)
                os.environ.clear()
                os.environ.update(saved_environ)

        self._report(spec, result)
        return result

    def _take_modules(self) -> dict[str, ModuleType]:
        """Remove the isolated packages' entries from sys.modules and return them."""
        names = [n for n in list(sys.modules) if _belongs(n, self._packages)]
        return {n: sys.modules.pop(n) for n in names}

    def _run(self, function: _Function, event: Any, request_id: str) -> InvokeResult:
        spec = function.spec
        init_ms: float | None = None
        if function.handler is None:
            started = time.perf_counter()
            try:
                module = importlib.import_module(spec.module_name)
            except Exception as exc:
                # A failed init is retried on the next invoke, from scratch.
                self._take_modules()
                message = f"Unable to import module '{spec.module_name}': {exc}"
                error = _error("Runtime.ImportModuleError", message)
                trace = traceback.format_exception(exc)
                return InvokeResult(None, error, 0.0, request_id, stack_trace=trace)
            handler = getattr(module, spec.function_attribute, None)
            if not callable(handler):
                self._take_modules()
                message = (
                    f"Handler '{spec.function_attribute}' missing on module '{spec.module_name}'"
                )
                error = _error("Runtime.HandlerNotFound", message)
                return InvokeResult(None, error, 0.0, request_id)
            function.handler = handler
            init_ms = (time.perf_counter() - started) * 1000

        context = LocalContext(
            function_name=spec.name,
            timeout_seconds=spec.timeout,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.name}",
        )
        started = time.perf_counter()
        try:
            payload = function.handler(event, context)
        except (Exception, SystemExit) as exc:
            duration = (time.perf_counter() - started) * 1000
            error = _error(type(exc).__name__, str(exc))
            trace = traceback.format_exception(exc)
            return InvokeResult(None, error, duration, request_id, init_ms, trace)
        duration = (time.perf_counter() - started) * 1000

        if duration > spec.timeout * 1000:
            error = _error("Sandbox.Timedout", f"Task timed out after {spec.timeout:.2f} seconds")
            return InvokeResult(None, error, duration, request_id, init_ms)
        try:
            payload = json.loads(json.dumps(payload))
        except (TypeError, ValueError) as exc:
            error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
            return InvokeResult(None, error, duration, request_id, init_ms)
        return InvokeResult(payload, None, duration, request_id, init_ms)
