"""The local cloud: the whole stack on this machine, from the template ``cdk deploy`` ships.

``python -m infra.local.cloud [-c KEY=VALUE ...]`` (what ``make run`` starts) synthesizes
the CDK app with the context ``npx cdk synth`` would give it here (``infra/context.py``:
cdk.json, cdk.context.json, ``-c``), checks that its two ports are free, starts moto as a
server on 127.0.0.1, deploys the template into it (``deploy.py``),
runs each function in execution environments of its own (``process_runtime.py``),
serves the API, REST or HTTP (``http_front.py``), polls each SQS event source mapping
(``pollers.py``), fires schedules (``scheduler_clock.py``), runs Step Functions
executions (``stepfunctions.py``), reloads code on change (``reloader.py``) and prints a
live log (``live_log.py``). Settings (``LOCAL_*``) are listed in docs/getting-started.md.
Everything lives in this process's memory and is gone when it stops.
Why: docs/decisions/0024-the-local-cloud-deploys-the-synthesized-template.md,
0025-the-local-cloud-runs-functions-in-processes.md,
0040-the-local-cloud-synthesizes-with-the-cdk-clis-context.md
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: a CLI command loads only what it runs
    from infra.local.cognito import DemoUser
    from infra.local.console_front import ConsoleFront
    from infra.local.deploy import Deployment
    from infra.local.http_front import HttpFront
    from infra.local.process_runtime import ProcessRuntime
    from infra.local.scheduler_clock import Clock
    from infra.local.stepfunctions import Handler

STACK_NAME = "ActionScheduler"
REGION = "us-east-1"
# How long the local cloud's state lives: said in the banner and docs/getting-started.md.
LIFETIME = "in memory: queues, tables, schedules and secrets are gone when it stops"


class PortInUse(RuntimeError):
    """One of the local cloud's ports is taken (another local cloud, most likely)."""


def check_ports(ports: dict[str, int]) -> None:
    """Refuse, naming the port and its variable, unless every port (by variable) is free.

    Bound as the servers bind them (address reuse on), so only a listener counts.
    """
    for variable, port in ports.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise PortInUse(
                    f"port {port} on 127.0.0.1 ({variable}) is in use: is a local cloud "
                    "already running? Stop it with Ctrl-C, or start this one on other ports: "
                    "LOCAL_API_PORT=8001 LOCAL_AWS_PORT=4567 make run"
                ) from None


def _local_environment(aws_port: int) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def _raise_as(error: dict[str, Any]) -> Exception:
    """An exception whose class name is the function's errorType, as Step Functions sees it."""
    name = str(error.get("errorType") or "Exception")
    error_class: type[Exception] = type(
        name if name.isidentifier() else "FunctionError", (Exception,), {}
    )
    return error_class(error.get("errorMessage", ""))


@dataclass
class LocalCloud:
    api_port: int = 8000
    aws_port: int = 4566
    log: Callable[[str], None] = print
    template: dict[str, Any] | None = None
    clock: Clock | None = None
    reload: bool = False
    concurrency: int = 2  # environments per function, and pollers per queue mapping
    # The CDK context to synthesize with (infra/context.py); not used with ``template``.
    context: dict[str, Any] | None = None
    stack_name: str = STACK_NAME  # the synthesized stack's, when it synthesizes
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _hook_variables: dict[str, str] = field(default_factory=dict)
    _hook_package_names: set[str] = field(default_factory=set)
    _hook_package_dirs: list[Path] = field(default_factory=list)
    # Writes the hook manifest again (after a code change); set by _hook_packages.
    _write_manifest: Callable[[], None] = field(default=lambda: None)
    console_users: list[DemoUser] = field(default_factory=list)  # the console's demo users

    def start(self) -> None:
        """Start everything, or nothing: a failure stops what had started, then raises."""
        check_ports({"LOCAL_AWS_PORT": self.aws_port, "LOCAL_API_PORT": self.api_port})
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self._saved_environment = dict(os.environ)
        os.environ.update(_local_environment(self.aws_port))
        # moto's server logs every request, and warns of what it does not model: quiet.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module="moto")
        from moto.core.config import default_user_config

        saved_config = json.loads(json.dumps(default_user_config))
        self._stops.append(lambda: default_user_config.update(saved_config))
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        default_user_config["lambda"]["use_docker"] = False
        from moto.server import ThreadedMotoServer

        from infra.local.atomic import atomic_dynamodb
        from infra.local.aws_limits import enforce

        # AWS's run-time limits that moto does not apply (message, item, input sizes), and
        # DynamoDB's atomic conditional writes, which its threaded server does not give.
        limits = contextlib.ExitStack()
        limits.enter_context(enforce())
        limits.enter_context(atomic_dynamodb())
        self._stops.append(limits.close)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        server.start()
        self._stops.append(server.stop)
        # moto's state lives in this process, not in the server: forget it on stop, so a
        # later cloud in the same process starts as empty as a new process would.
        self._stops.append(self._reset_moto)
        self.log(f"AWS (moto) on http://127.0.0.1:{self.aws_port}")

        template = self.template
        if template is None:
            self.log(
                "synthesizing the stack with the CDK context here (cdk.json, cdk.context.json, "
                "-c); cdk-nag checks it (about 20 s, longer on the first run)"
            )
            from infra import context as cdk_context

            self.context = cdk_context.load() if self.context is None else self.context
            template, self.stack_name = synthesize(self.context)
        self._hook_variables = self._hook_packages()
        self.deployment = self._deploy(template)
        self.console_users = self._console_users()
        self.runtime = self._runtime()
        self._start_step_functions()
        self._start_pollers()
        self._start_scheduler()
        self._start_queue_metrics()
        self.front = self._start_api()
        self.front.pages = self._console_pages()
        self._publish_outputs()
        if self.reload:
            self._watch_code()

    def stop(self) -> None:
        while self._stops:
            with contextlib.suppress(Exception):
                self._stops.pop()()
        saved = getattr(self, "_saved_environment", None)
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)

    def _reset_moto(self) -> None:
        import urllib.request

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.aws_port}/moto-api/reset", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    @property
    def webhook_url(self) -> str:
        return f"{self.front.url.rstrip('/')}/webhooks/"

    @property
    def actions_api_url(self) -> str:
        return f"{self.front.url.rstrip('/')}/actions"

    def _hook_packages(self) -> dict[str, str]:
        """What the function processes need to run the hooks as Lambda runs them: the
        manifest written as the synth writes it (the project's hooks unless
        ``exampleHooks`` is false, the context's ``hookPackages``, then
        ``ACTION_HOOK_MODULES``), and the packages' folders and requirements on the path.
        The functions that only enqueue read the manifest, as deployed; a code change
        writes it again (``_watch_code``).
        Why: docs/decisions/0053-hook-manifest-and-isolated-hook-imports.md"""
        from functions.actions import manifest
        from infra import hook_packages
        from infra.config import DeploymentConfig

        keys = set(DeploymentConfig.context_keys().values())
        given = {k: v for k, v in (self.context or {}).items() if k in keys}
        config = DeploymentConfig.model_validate(given)
        packages = hook_packages.resolve(config.hook_packages)
        self._hook_package_dirs = [p for package in packages for p in package.packages()]
        self._hook_package_names = {p.name for p in self._hook_package_dirs}
        extra = os.environ.get("ACTION_HOOK_MODULES", "")
        modules = tuple(m.strip() for m in extra.split(",") if m.strip())
        folder = Path(tempfile.mkdtemp(prefix="hook-manifest."))
        self._stops.append(lambda: shutil.rmtree(folder, ignore_errors=True))
        written = folder / manifest.FILE_NAME

        def write() -> None:
            text = hook_packages.manifest_json(
                packages, example_hooks=config.example_hooks, extra=modules
            )
            written.write_text(text, encoding="utf-8")

        write()
        self._write_manifest = write
        if packages:
            self.log(f"hook packages: {', '.join(str(p.path) for p in packages)}")
        variables = {manifest.PATH_VARIABLE: str(written)}
        search_path = hook_packages.search_path(packages)
        if search_path:
            variables["PYTHONPATH"] = os.pathsep.join(search_path)
        return variables

    def _deploy(self, template: dict[str, Any]) -> Deployment:
        from infra.local.demo_secrets import demo_secret_value
        from infra.local.deploy import deploy

        deployment = deploy(
            template, stack_name=self.stack_name, region=REGION, secret_values=demo_secret_value
        )
        self.log(
            f"deployed {self.stack_name}: {len(deployment.functions)} functions, "
            f"{len(deployment.event_sources)} queue mappings, {len(deployment.routes)} routes"
        )
        return deployment

    def _console_users(self) -> list[DemoUser]:
        """The console's demo operator and viewer in its user pool (moto's Cognito)."""
        from infra.local.cognito import create_demo_users

        pools = list(self.deployment.user_pools.values())
        return create_demo_users(pools[0], REGION) if len(pools) == 1 else []

    @property
    def console_url(self) -> str:
        return f"{self.front.url.rstrip('/')}/console/"

    def _runtime(self) -> ProcessRuntime:
        from infra.local.aws_limits import check_environment
        from infra.local.process_runtime import FunctionSpec, ProcessRuntime

        # A function AWS would not create does not start here either: its environment as
        # the template gives it (the local additions below are not AWS's).
        for function in self.deployment.functions.values():
            check_environment(function.name, function.environment)

        # Hook modules named in ACTION_HOOK_MODULES are watched for reloads too.
        extra = os.environ.get("ACTION_HOOK_MODULES", "")
        packages = {"functions", *(m.strip().split(".")[0] for m in extra.split(",") if m.strip())}
        packages |= self._hook_package_names  # and those of hookPackages
        runtime = ProcessRuntime(
            log=self.log, packages=tuple(sorted(packages)), concurrency=self.concurrency
        )
        self._stops.append(runtime.stop)
        self.log(f"functions run in processes, up to {self.concurrency} environments each")
        # The webhook sources are in a deployed function's asset; the processes run this
        # checkout, so they get the document from the stack's outputs.
        sources = self.deployment.outputs.get("WebhookSources", "")
        for function in self.deployment.functions.values():
            runtime.register(
                FunctionSpec(
                    name=function.name,
                    handler=function.handler,
                    environment={
                        **function.environment,
                        **({"WEBHOOK_SOURCES": sources} if sources else {}),
                        **self._hook_variables,
                    },
                    timeout=function.timeout,
                    memory_mb=function.memory_mb,
                )
            )
        return runtime

    def _invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Invoke for the pollers and Step Functions: a function error raises."""
        result = self.runtime.invoke(name, event)
        if result.error is not None:
            raise _raise_as(result.error)
        return result.payload

    def _start_step_functions(self) -> None:
        from infra.local.scheduler_clock import SystemClock
        from infra.local.stepfunctions import inprocess_lambdas

        registry = {
            function.name: self._handler(function.name)
            for function in self.deployment.functions.values()
        }
        stack = contextlib.ExitStack()
        # Retries wait their intervals on the cloud's clock, as Step Functions waits them.
        stack.enter_context(inprocess_lambdas(registry, clock=self.clock or SystemClock()))
        self._stops.append(stack.close)

    def _handler(self, name: str) -> Handler:
        """A Lambda task's handler for Step Functions: the function run by the runtime."""

        def handle(event: Any, context: Any) -> Any:
            return self._invoke(name, event)

        return handle

    def _start_pollers(self) -> None:
        from infra.local.pollers import Mapping, SqsPoller

        # Lambda runs up to a mapping's maximum concurrency of batches at once; locally,
        # as many as there are environments to run them.
        pollers: list[SqsPoller] = []
        for source in self.deployment.event_sources:
            mapping = Mapping(
                function=source.function,
                queue_url=self.deployment.queue_urls[source.queue_arn],
                queue_arn=source.queue_arn,
                batch_size=source.batch_size,
                batching_window=source.batching_window,
                report_batch_item_failures=source.report_batch_item_failures,
            )
            for _ in range(max(1, min(self.concurrency, source.max_concurrency))):
                poller = SqsPoller(mapping, self._invoke, log=self.log)
                poller.start()
                pollers.append(poller)
        self._stops.append(lambda: SqsPoller.stop_all(pollers))

    def _start_scheduler(self) -> None:
        from infra.local.scheduler_clock import SchedulerClock, SystemClock

        stop = threading.Event()
        scheduler = SchedulerClock(self.clock or SystemClock(), log=self.log)
        thread = threading.Thread(
            target=scheduler.run, kwargs={"interval": 1.0, "stop": stop}, daemon=True
        )
        thread.start()
        self._stops.append(lambda: _stop_thread(stop, thread))

    def _start_queue_metrics(self) -> None:
        """SQS's per-minute queue depth metric, which moto does not publish (emf.py)."""
        from infra.local.emf import run_queue_depths

        stop = threading.Event()
        urls = sorted(set(self.deployment.queue_urls.values()))
        thread = threading.Thread(target=run_queue_depths, args=(urls, stop), daemon=True)
        thread.start()
        self._stops.append(lambda: _stop_thread(stop, thread))

    def _watch_code(self) -> None:
        import importlib.util

        from infra.local.reloader import CodeWatcher

        roots = []
        for package in self.runtime.packages:
            spec = importlib.util.find_spec(package)
            roots += list(spec.submodule_search_locations or []) if spec else []
        # The hook packages' folders are on the functions' path, not necessarily on this one's.
        roots += [str(folder) for folder in self._hook_package_dirs]

        watcher = CodeWatcher([Path(root) for root in roots], self.code_changed)
        watcher.start()
        self._stops.append(watcher.stop)

    def code_changed(self, paths: list[Path]) -> None:
        """After an edit: the manifest written again (a module that no longer imports is
        named, and the hooks stay as they were), and every function cold again."""
        from infra.hook_packages import HookPackageError

        try:
            self._write_manifest()
        except HookPackageError as exc:
            self.log(f"{exc}: the hooks stay as they were until it imports again")
        self.runtime.reload()
        shown = ", ".join(str(p.name) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
        self.log(f"code changed ({shown}): the next invocations are cold starts")

    def _start_api(self) -> HttpFront:
        from infra.local.http_front import GatewayResponse, HttpFront, Route

        routes = [
            Route(
                route.method,
                route.resource,
                route.function,
                stage=self.deployment.stage,
                authorization=route.authorization,
                **self._token_check(route.authorizer),
            )
            for route in self.deployment.routes
        ]
        front = HttpFront(
            routes,
            self.runtime.invoke_payload,
            host="127.0.0.1",
            port=self.api_port,
            # The local credentials sign IAM routes' requests, as the CLI's AWS calls.
            credentials={os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]},
            region=REGION,
            flavour=self.deployment.flavour,
            gateway_responses=[
                GatewayResponse.from_properties(properties)
                for properties in self.deployment.gateway_responses.values()
            ],
            log=self.log,
        )
        front.start()
        self._stops.append(front.stop)
        return front

    def _token_check(self, authorizer: str) -> dict[str, tuple[str, ...]]:
        """The issuers (and, for an HTTP API's JWT authorizer, the audiences) whose
        tokens a route with ``authorizer`` takes."""
        from infra.local.cognito import issuer

        jwt = self.deployment.jwt_authorizers.get(authorizer)
        if jwt is not None:
            return {"issuers": (jwt.issuer,), "audiences": jwt.audiences}
        pools = self.deployment.authorizers.get(authorizer, [])
        return {"issuers": tuple(issuer(REGION, pool) for pool in pools)}

    def _console_pages(self) -> ConsoleFront | None:
        """The console's page and its sign-in stand-in, for the stack's user pool."""
        from infra.local.console_front import ConsoleFront

        front = ConsoleFront.for_stack(
            self.deployment.outputs, region=REGION, stage=self.deployment.stage
        )
        self.log(f"console: {self.console_url}" if front else "console: no user pool in the stack")
        return front

    def _publish_outputs(self) -> None:
        """A CloudFormation stack holding the outputs, so ``actionsctl`` finds everything."""
        import boto3

        outputs = {
            **self.deployment.outputs,
            "WebhookUrl": self.webhook_url,
            "ActionsApiUrl": self.actions_api_url,
            "HooksUrl": f"{self.front.url.rstrip('/')}/hooks",
        }
        boto3.client("cloudformation").create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(
                {
                    "Resources": {"Outputs": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                    "Outputs": {key: {"Value": value} for key, value in outputs.items() if value},
                }
            ),
        )


_SYNTH = (
    "import json, sys; from infra.app import build_app; "
    "build_app(outdir=sys.argv[1], context=json.loads(sys.argv[2]))[0].synth()"
)


def synthesize(context: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The stack's template (cdk-nag runs) and the stack's name, synthesized in a child
    process with ``context`` (by default: what ``npx cdk synth`` would use here).

    CDK runs in a Node process of jsii's; in a child it exits with the synth, so the
    local cloud neither carries it for hours nor trips over it on Ctrl-C (the terminal
    signals the whole process group, and jsii complains at exit of a dead Node).
    """
    from infra import context as cdk_context

    root = Path(__file__).resolve().parents[2]
    context = cdk_context.load() if context is None else context
    with tempfile.TemporaryDirectory(prefix="cdk.out.") as outdir:
        subprocess.run(  # noqa: S603 - this interpreter, a fixed program
            [sys.executable, "-c", _SYNTH, outdir, json.dumps(context)], cwd=root, check=True
        )
        [path] = Path(outdir).glob("*.template.json")
        template: dict[str, Any] = json.loads(path.read_text())
        return template, path.name.removesuffix(".template.json")


def _log(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {line}", flush=True)


def main(
    api_port: int | None = None, aws_port: int | None = None, context_arguments: Sequence[str] = ()
) -> None:
    """Run the local cloud in the foreground until Ctrl-C or SIGTERM; ``context_arguments``
    are ``-c KEY=VALUE`` pairs, as ``npx cdk synth`` takes them."""
    from infra import context

    try:
        overrides = context.parse_arguments(context_arguments)
        cloud = LocalCloud(
            api_port=api_port or int(os.environ.get("LOCAL_API_PORT", "8000")),
            aws_port=aws_port or int(os.environ.get("LOCAL_AWS_PORT", "4566")),
            log=_log,
            reload=os.environ.get("LOCAL_RELOAD", "1") != "0",
            concurrency=int(os.environ.get("LOCAL_CONCURRENCY", "2")),
            context=context.load(overrides=overrides),
        )
        check_ports({"LOCAL_AWS_PORT": cloud.aws_port, "LOCAL_API_PORT": cloud.api_port})
    except (context.ContextError, PortInUse, ValueError) as exc:
        raise SystemExit(f"make run: {exc}") from None
    if os.environ.get("LOCAL_LOG", "readable") != "json" and sys.__stdout__ is not None:
        from infra.local.live_log import LiveLog

        # Before any function is imported: a Powertools Logger binds its stream then.
        sys.stdout = LiveLog(sys.__stdout__)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        cloud.start()
    except subprocess.CalledProcessError:
        raise SystemExit("the stack did not synthesize: see the errors above") from None
    except PortInUse as exc:  # taken since the check above
        raise SystemExit(f"make run: {exc}") from None
    print(banner(cloud), flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        cloud.stop()
        print("stopped.", flush=True)
        sys.stdout = sys.__stdout__


def banner(cloud: LocalCloud) -> str:
    """What the local cloud prints once it is up: where things are, how to use them."""
    from infra.local.demo_secrets import demo_secret

    endpoint = f"http://127.0.0.1:{cloud.aws_port}"
    sources = sorted(json.loads(cloud.deployment.outputs.get("WebhookSources") or "{}"))
    secrets = "\n".join(f"    {name:<9} {demo_secret(name)}" for name in sources)
    first = sources[0] if sources else "SOURCE"
    users = ", ".join(f"{u.username} / {u.password} ({u.group})" for u in cloud.console_users)
    return f"""
The local cloud is up: stack {cloud.stack_name}.
  Webhooks:  POST {cloud.webhook_url}<source>   (sources: {", ".join(sources)})
  Actions:   {cloud.actions_api_url}   (IAM: signed with the credentials below)
  Console:   {cloud.console_url}   (sign in as: {users})
  AWS:       {endpoint}
  State:     {LIFETIME}
  Signing secrets (local demo values, public; a deployed stack generates its own):
{secrets}

In another terminal, send a signed sample webhook and watch it processed here:
  export AWS_ENDPOINT_URL={endpoint} AWS_DEFAULT_REGION={REGION} \\
         AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
         ACTION_SCHEDULER_STACK={cloud.stack_name}
  .venv/bin/actionsctl webhook send {first}
  .venv/bin/actionsctl actions list --status complete

Ctrl-C stops it.
"""


if __name__ == "__main__":
    main(context_arguments=sys.argv[1:])


def _stop_thread(stop: threading.Event, thread: threading.Thread, timeout: float = 10.0) -> None:
    """Tell a loop of the cloud's to stop and wait for its current round to end, so it
    never calls the moto server after the server has stopped."""
    stop.set()
    thread.join(timeout)
