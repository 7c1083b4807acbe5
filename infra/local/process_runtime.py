"""A Lambda runtime of processes: each function runs in execution environments of its own.

Per function, up to ``concurrency`` child processes (fresh interpreters with the
function's environment), each importing the handler once and serving one invocation at
a time. A timeout kills the environment; a crash fails the invocation with
``Runtime.ExitError`` and the next one starts cold; an exception comes back as Lambda's
error shape, is one ``REPORT ... Error:`` line in the log, and, with ``LOCAL_LOG=json``,
one JSON record with its trace on the environment's stdout; a moved clock (time-machine)
is carried into the child per invocation.
Why: docs/decisions/0025-the-local-cloud-runs-functions-in-processes.md
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

_CLOCK_TOLERANCE = 0.5  # seconds of difference that are not a moved clock
# Lambda gives an init 10 s; a laptop importing boto3 and Powertools under load may
# need more, and a hung import must still not hold a concurrency slot for ever.
INIT_TIMEOUT = 30.0


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


def _error(error_type: str, message: str) -> dict[str, str]:
    return {"errorType": error_type, "errorMessage": message}


def _real_time() -> float:
    """The machine's time, whatever time-machine has done to ``time.time``."""
    if "time_machine" in sys.modules:
        from time_machine import escape_hatch

        if escape_hatch.is_travelling():
            return escape_hatch.time.time()
    return time.time()


# -- the child ------------------------------------------------------------------------


def _structured_log() -> bool:
    """``LOCAL_LOG=json``: the raw records, traces included; else the readable log."""
    return os.environ.get("LOCAL_LOG", "readable") == "json"


def _log_error(error: dict[str, str], trace: list[str] | None, request_id: str) -> None:
    """An unhandled error as one JSON record with its trace, into the structured log only,
    as Lambda's runtime logs one; the readable log has the ``REPORT`` line's one line."""
    if not _structured_log():
        return
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "ERROR",
        "message": f"{error['errorType']}: {error['errorMessage']}",
        **error,
        "stackTrace": trace or [],
        "requestId": request_id,
    }
    print(json.dumps(record), flush=True)


def _serve(spec: FunctionSpec, connection: Connection) -> None:
    """An execution environment: import the handler once, then serve invocations.

    The process was started with the function's environment (``env=`` of its exec),
    so even import-time reads of ``os.environ`` see what Lambda would give them.
    """
    # Ctrl-C reaches the whole process group: the parent stops the environments itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _structured_log() and sys.__stdout__ is not None:
        from infra.local.live_log import LiveLog

        sys.stdout = LiveLog(sys.__stdout__)  # before the handler's Logger binds its stream
    if os.environ.get("LOCAL_METRICS", "1") != "0":
        from infra.local.emf import EmfSink

        sys.stdout = EmfSink(sys.stdout)  # EMF lines become moto CloudWatch metrics
    import importlib

    from infra.local.lambda_runtime import LocalContext

    started = time.perf_counter()
    try:
        module = importlib.import_module(spec.module_name)
        handler = getattr(module, spec.function_attribute, None)
        if not callable(handler):
            message = f"Handler '{spec.function_attribute}' missing on module '{spec.module_name}'"
            connection.send(("init_error", _error("Runtime.HandlerNotFound", message), []))
            return
    except Exception as exc:
        message = f"Unable to import module '{spec.module_name}': {exc}"
        error = _error("Runtime.ImportModuleError", message)
        trace = traceback.format_exception(exc)
        _log_error(error, trace, "")
        connection.send(("init_error", error, trace))
        return
    connection.send(("ready", (time.perf_counter() - started) * 1000, None))

    while True:
        try:
            request_id, event, clock_offset = connection.recv()
        except EOFError:
            return
        context = LocalContext(
            function_name=spec.name,
            timeout_seconds=spec.timeout,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.name}",
        )
        with _moved_clock(clock_offset):
            started = time.perf_counter()
            outcome = _call(handler, event, context)
            duration = (time.perf_counter() - started) * 1000
        if outcome[0] == "error":
            _log_error(outcome[1], outcome[2], request_id)
        sys.stdout.flush()
        connection.send((*outcome, duration))


def _call(handler: Callable[[Any, Any], Any], event: Any, context: Any) -> tuple:
    """("ok", payload, None), or ("error", Lambda's error shape, the traceback)."""
    try:
        payload = handler(event, context)
    except Exception as exc:
        return ("error", _error(type(exc).__name__, str(exc)), traceback.format_exception(exc))
    try:
        return ("ok", json.loads(json.dumps(payload)), None)
    except (TypeError, ValueError) as exc:
        error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
        return ("error", error, traceback.format_exception(exc))


@contextlib.contextmanager
def _moved_clock(offset: float) -> Any:
    if abs(offset) < _CLOCK_TOLERANCE:
        yield
        return
    import time_machine

    with time_machine.travel(time.time() + offset, tick=True):
        yield


def _exit_with(parent: int) -> None:
    """End this environment when its parent is gone, even mid-invocation: an idle one
    sees the pipe close, a busy one would otherwise run on as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    """``python -m infra.local.process_runtime FD``: the child's entry point.

    A fresh interpreter rather than multiprocessing's spawn: spawn re-imports the
    parent's ``__main__`` in the child before anything else runs, which would import
    our modules with the parent's environment and break the isolation.
    """
    fd = int(sys.argv[1])
    os.set_inheritable(fd, False)  # what a hook spawns must not hold our end open
    _exit_with(os.getppid())
    connection = Connection(fd)
    spec = FunctionSpec(**connection.recv())
    _serve(spec, connection)


# -- the parent -----------------------------------------------------------------------


@dataclass
class _Environment:
    process: subprocess.Popen[bytes]
    connection: Connection
    generation: int  # the function's generation it was started in: its code's age
    init_ms: float | None = None  # reported with the first invocation, then None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()
        if self.alive():
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


@dataclass
class _Function:
    spec: FunctionSpec
    slots: threading.BoundedSemaphore  # one per environment the function may have
    idle: queue.LifoQueue[_Environment] = field(default_factory=queue.LifoQueue)  # warm ones first
    generation: int = 0  # bumped by reload(): older environments are retired


class ProcessRuntime:
    """Runs registered functions in child processes, up to ``concurrency`` each."""

    def __init__(
        self,
        base_environment: dict[str, str] | None = None,
        log: Callable[[str], None] = print,
        *,
        packages: Iterable[str] = DEFAULT_PACKAGES,
        concurrency: int = 2,
    ) -> None:
        self._base_environment = None if base_environment is None else dict(base_environment)
        self._log = log
        self._packages = tuple(packages)
        self._concurrency = max(1, concurrency)
        self._functions: dict[str, _Function] = {}
        self._lock = threading.Lock()
        self._all: list[_Environment] = []  # every environment started, for stop()
        self._closed = False

    @property
    def packages(self) -> tuple[str, ...]:
        """The top-level packages whose code the environments run (watched for reloads)."""
        return self._packages

    def environment_for(self, spec: FunctionSpec) -> dict[str, str]:
        """The environment the function's code sees: the base, Lambda's own, the function's."""
        base = dict(os.environ) if self._base_environment is None else dict(self._base_environment)
        lambda_vars = {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "_HANDLER": spec.handler,
        }
        return {**base, **lambda_vars, **{k: str(v) for k, v in spec.environment.items()}}

    # -- registration ---------------------------------------------------------------

    def register(self, spec: FunctionSpec, concurrency: int | None = None) -> None:
        """Add a function with at most ``concurrency`` environments (the runtime's default)."""
        limit = max(1, concurrency or self._concurrency)
        with self._lock:
            old = self._functions.get(spec.name)
            self._functions[spec.name] = _Function(spec, threading.BoundedSemaphore(limit))
        if old is not None:
            self._retire(old)

    def reload(self, name: str | None = None) -> None:
        """Retire the environments (of one function, or all): the next invoke is a cold start."""
        targets = [self._functions[name]] if name else list(self._functions.values())
        for function in targets:
            self._retire(function)

    def stop(self) -> None:
        """End every environment, those starting and those running included; later
        invocations fail (the runtime is gone, as after a local cloud's stop)."""
        with self._lock:
            self._closed = True
            environments, self._all = self._all, []
        for environment in environments:
            environment.kill()

    # -- invocation -----------------------------------------------------------------

    def invoke(self, name: str, event: Any) -> InvokeResult:
        """Invoke ``name`` synchronously; waits for a free environment. Never raises for
        the function's errors, crashes or timeouts."""
        function = self._functions.get(name)
        if function is None:
            raise FunctionNotFound(name)
        request_id = str(uuid.uuid4())
        try:
            event = json.loads(json.dumps(event))
        except (TypeError, ValueError) as exc:
            return InvokeResult(None, _error("InvalidRequestContentException", str(exc)), 0.0)
        if self._closed:
            error = _error("ServiceException", "the local runtime has stopped")
            return InvokeResult(None, error, 0.0, request_id)
        with function.slots:
            result = self._invoke_in(function, request_id, event)
        self._report(function.spec, result)
        return result

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
            message = " ".join(str(result.error["errorMessage"]).split())
            line += f" Error: {result.error['errorType']}: {message}"
        self._log(line)  # one line: the trace is in the environment's structured log

    def _invoke_in(self, function: _Function, request_id: str, event: Any) -> InvokeResult:
        spec = function.spec
        environment = self._take(function)
        if isinstance(environment, InvokeResult):  # the init failed
            environment.request_id = request_id
            return environment
        init_ms, environment.init_ms = environment.init_ms, None
        offset = time.time() - _real_time()
        try:
            environment.connection.send((request_id, event, offset))
            if not environment.connection.poll(spec.timeout):
                environment.kill()
                message = f"Task timed out after {spec.timeout:.2f} seconds"
                error = _error("Sandbox.Timedout", message)
                return InvokeResult(None, error, spec.timeout * 1000, request_id, init_ms)
            kind, value, trace, duration = environment.connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._exit_code(environment)
            error = _error("Runtime.ExitError", f"RequestId: {request_id} Error: {code}")
            return InvokeResult(None, error, 0.0, request_id, init_ms)
        self._give_back(function, environment)
        if kind == "ok":
            return InvokeResult(value, None, duration, request_id, init_ms)
        return InvokeResult(None, value, duration, request_id, init_ms, trace)

    def _take(self, function: _Function) -> _Environment | InvokeResult:
        """A warm environment of the current code, or a new one."""
        while True:
            try:
                environment = function.idle.get_nowait()
            except queue.Empty:
                break
            if environment.alive() and environment.generation == function.generation:
                return environment
            environment.kill()
        return self._start(function)

    def _start(self, function: _Function) -> _Environment | InvokeResult:
        spec = function.spec
        ours, theirs = socket.socketpair()
        variables = self.environment_for(spec)
        # The same imports as this process: the project, pytest's rootdir, the venv; then
        # what the function's own environment adds (the stack's hook packages).
        paths = [*sys.path, *variables.get("PYTHONPATH", "").split(os.pathsep)]
        variables["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
            [sys.executable, "-m", "infra.local.process_runtime", str(theirs.fileno())],
            env=variables,
            pass_fds=[theirs.fileno()],
        )
        theirs.close()
        environment = _Environment(process, Connection(ours.detach()), function.generation)
        with self._lock:  # known to stop() from now on, even while it imports
            closed = self._closed
            self._all = [e for e in self._all if e.alive()]
            self._all.append(environment)
        if closed:
            environment.kill()
            return InvokeResult(None, _error("ServiceException", "the runtime has stopped"), 0.0)
        try:
            environment.connection.send(asdict(spec))
            if not environment.connection.poll(INIT_TIMEOUT):
                environment.kill()
                message = f"Init timed out after {INIT_TIMEOUT:.0f} seconds"
                return InvokeResult(None, _error("Sandbox.Timedout", message), 0.0)
            kind, value, trace = environment.connection.recv()
        except (EOFError, OSError):
            code = self._exit_code(environment)
            message = f"the environment exited during init: {code}"
            return InvokeResult(None, _error("Runtime.ExitError", message), 0.0)
        if kind != "ready":
            environment.kill()
            return InvokeResult(None, value, 0.0, stack_trace=trace or None)
        environment.init_ms = value
        return environment

    def _give_back(self, function: _Function, environment: _Environment) -> None:
        with self._lock:
            current = (
                not self._closed
                and self._functions.get(function.spec.name) is function
                and environment.generation == function.generation
            )
            if current:
                function.idle.put(environment)
                return
        environment.kill()  # reloaded, replaced or stopped while it ran

    def _retire(self, function: _Function) -> None:
        with self._lock:
            function.generation += 1
            stale = []
            while True:
                try:
                    stale.append(function.idle.get_nowait())
                except queue.Empty:
                    break
        for environment in stale:
            environment.kill()

    @staticmethod
    def _exit_code(environment: _Environment) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            environment.process.wait(5)
        code = environment.process.returncode
        environment.kill()
        return f"Runtime exited with error: exit status {code}"


if __name__ == "__main__":
    main()
