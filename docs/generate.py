"""The documentation's generated parts, rendered at build time (an MkDocs hook, mkdocs.yml).

A page holds a marker, ``<!-- generated: NAME -->``, where a table made from the code
goes: the metric vocabulary (``functions/metrics.py``), the CDK context keys
(``infra/config.py``'s ``DeploymentConfig``), the functions' environment variables (every
``EnvSettings`` model of ``functions/*/config.py``) and the HTTP API (the committed
OpenAPI document, ``events/openapi.json``). Names, defaults and types come from the code,
so they cannot drift; the one thing written here is each setting's meaning, and a setting
without one (or a meaning of a setting that no longer exists) fails the build.
Why: docs/decisions/0055-the-docs-site-generates-its-reference-at-build-time.md.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # mkdocs loads this file by path, from any directory
    sys.path.insert(0, str(ROOT))

MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")

# Read by infra/app.py before the stack exists: a context key that is not a stack setting.
APP_CONTEXT = {
    "stackName": (
        "ActionScheduler",
        "the CloudFormation stack's name, and the prefix of the secret names",
    ),
}

# What each context key means; its default comes from DeploymentConfig.
CONTEXT_MEANINGS: dict[str, str] = {
    "webhookSources": "sources: scheme, options, optional existing `secret` "
    "([Webhook sources](../guides/webhooks.md))",
    "webhookMaxBodyBytes": "larger bodies get `413`; also the most it may be (what the Lambda "
    "proxy integration carries, see [the webhook endpoint](errors.md#the-webhook-endpoint))",
    "webhookIdempotencyTtlSeconds": "how long a delivery id is remembered",
    "webhookSecretCacheSeconds": "how long a function caches signing secrets",
    "apiFlavour": "`rest` (an API Gateway REST API) or `http` (an HTTP API: $1.00 per "
    "million requests against $3.50, without WAF, gateway responses, X-Ray or the `/v1` "
    "in its URLs); see [The API flavour](../deploy/api-flavour.md)",
    "apiThrottleRateLimit": "stage throttling, in requests per second",
    "apiThrottleBurstLimit": "stage throttling: the burst, in requests",
    "logRetentionDays": "retention of the functions' and the API's log groups (a value "
    "CloudWatch accepts)",
    "metricsNamespace": "the CloudWatch namespace of the custom metrics",
    "workerMemoryMb": "the worker's memory",
    "workerConcurrency": "the maximum concurrency of each queue's event source mapping "
    "(2..1000); a key given sets that queue only",
    "circuitFailureThreshold": "transient failures within the window that open a circuit",
    "circuitWindowSeconds": "the window in which failures are counted",
    "circuitCooldownSeconds": "how long a circuit stays open before one trial may run",
    "logSampleRate": "the share of invocations that log debug lines "
    "(`POWERTOOLS_LOGGER_SAMPLE_RATE`; see [Metrics and logs](../operations/metrics-and-logs.md))",
    "tracing": "X-Ray active tracing of the functions, the API stage and the saga; `false` "
    "saves the traces (Lambda samples 1 request a second and 5% of the rest, not "
    "configurable: about $0.50 per million webhooks) and the X-Ray SDK's import at cold start",
    "hookPackages": "folders of your own hook packages, relative to `cdk.json`'s folder "
    "(`-c hookPackages=path` names one, a JSON list several): each is bundled, with its "
    "`requirements.txt`, into the functions; see "
    "[Your own hooks](../guides/your-project.md#your-own-hooks)",
    "exampleHooks": "deploy the project's example hooks (`functions/hooks`); `false` keeps "
    "only `process_webhook`, the webhook receiver's own",
    "stage": "`dev` or `prod`: prod retains the tables, the queues and the alarm topic's key "
    "when the stack is deleted, turns on the tables' deletion protection and the WAF; dev "
    "deletes them",
    "alarmEmail": "an e-mail address subscribed to the alarm topic",
    "alarmQueueAgeSeconds": "the oldest message each job queue may hold, in seconds (one "
    "number sets all); shared by the `QueueAge-<queue>` alarms and the health check",
    "alarmWorkerErrorRatePercent": "the `WorkerErrorRate` alarm's threshold",
    "alarmApi5xxRatePercent": "the `Api5xxRate` alarm's threshold",
    "alarmScheduleTargetErrors": "the `ScheduleTargetErrors` alarm's threshold",
    "alarmSagaFailures": "the `SagaFailed-OrderSaga` alarm's threshold",
    "alarmCircuitOpenSeconds": "the `CircuitOpen` alarm: how long a circuit may stay open "
    "(whole minutes, at least `circuitCooldownSeconds`)",
    "sagaLogExecutionData": "log each saga state's input and output (orders, payments) to "
    "the state machine's log group, for debugging; off, the log keeps every event without "
    "its data",
    "apiWebhookRateLimit": "throttling of `POST /webhooks/{source}` itself, within the "
    "stage's limits (requests per second)",
    "apiWebhookBurstLimit": "the burst of `POST /webhooks/{source}`'s throttle",
    "wafRateLimit": "an AWS WAF web ACL on the API stage answers `429 throttled` to a client "
    "IP sending more requests than this (10..2000000000) in 5 minutes; `0` leaves the WAF "
    "out. 3000 with `stage=prod` unless given. A blocked delivery is not redelivered by "
    "GitHub on its own: exempt your senders' ranges (`wafExemptRanges`). See "
    "[Security](../deploy/security.md)",
    "wafExemptRanges": "CIDR ranges, IPv4 and IPv6, that the WAF's rate rule does not count: "
    "your senders' published ranges. Used only when the WAF is on",
    "apiGatewayCloudWatchRole": "set the account's API Gateway CloudWatch role to one of the "
    "stack's own (kept when the stack is deleted); `false` when the account already has one",
    "healthMaxQueueDepth": "the health check: a job queue deeper than this is unhealthy",
    "healthMaxDeadLetters": "the health check: more dead letters than this in a dead-letter "
    "queue is unhealthy",
    "healthStuckSeconds": "the health check: an action in progress longer than this is stuck "
    "(must exceed the worker's 60 s timeout plus the 30 s claim margin)",
    "healthPastDueSeconds": "the health check: a pending action this far past its time is past due",
    "healthCacheSeconds": "the health check: how long a warm function reuses its report (0..60)",
}

# What each environment variable means; which package reads it, its type and default come
# from its EnvSettings model.
VARIABLE_MEANINGS: dict[str, str] = {
    "JOB_QUEUES": "JSON: queue name (`high`, `default`, `low`, `fifo`) → `{url, arn, "
    "dead_letter_url, dead_letter_arn}`; the stack gives its functions a compact form (the "
    "URL and ARN prefixes once, then each queue's name: "
    "[AWS limits](limits.md))",
    "ACTIONS_TABLE_NAME": "the actions table",
    "CIRCUITS_TABLE_NAME": "the circuit breakers' table",
    "WORKER_TIMEOUT_SECONDS": "the worker's timeout; a claim lasts this plus "
    "`CLAIM_MARGIN_SECONDS`",
    "CLAIM_MARGIN_SECONDS": "added to the worker's timeout: how long a run's claim holds",
    "SCHEDULE_GROUP": "the stack's EventBridge Scheduler group",
    "SCHEDULER_ROLE_ARN": "the role the stack's schedules send with",
    "SCHEDULER_DEAD_LETTER_ARN": "where EventBridge Scheduler puts what it could not deliver",
    "CIRCUIT_FAILURE_THRESHOLD": "from `circuitFailureThreshold`",
    "CIRCUIT_WINDOW_SECONDS": "from `circuitWindowSeconds`",
    "CIRCUIT_COOLDOWN_SECONDS": "from `circuitCooldownSeconds`",
    "CIRCUIT_TRIAL_SECONDS": "how long a half-open trial may hold before another worker may try",
    "IDEMPOTENCY_TABLE_NAME": "the Powertools idempotency table (the receiver's deliveries, "
    "the actions API's `Idempotency-Key`s)",
    "ACTIONS_API_IDEMPOTENCY_TTL_SECONDS": "how long the actions API remembers an "
    "`Idempotency-Key`",
    "HEALTH_MAX_QUEUE_DEPTH": "from `healthMaxQueueDepth`",
    "HEALTH_MAX_QUEUE_AGE_SECONDS": "from `alarmQueueAgeSeconds`: a number, or JSON by queue",
    "HEALTH_MAX_DEAD_LETTERS": "from `healthMaxDeadLetters`",
    "HEALTH_STUCK_SECONDS": "from `healthStuckSeconds`",
    "HEALTH_PAST_DUE_SECONDS": "from `healthPastDueSeconds`",
    "HEALTH_CACHE_SECONDS": "from `healthCacheSeconds`",
    "HEALTH_DEAD_LETTER_QUEUES": "JSON: name → URL of the dead-letter queues beyond the job "
    "queues' (EventBridge Scheduler's, the saga outcomes queue's)",
    "ORDER_SAGA_ARN": "the worker's: the example order saga that `start_order_saga` starts",
    "ACTION_HOOK_MODULES": "without a manifest only (a checkout): comma-separated modules of "
    "your own hooks, imported after `functions/hooks`",
    "EXTERNAL_API_FAIL": "the example hook `sync_external_api` fails (for demos of the "
    "circuit breaker)",
    "PAYLOAD_BUCKET_NAME": "the payload bucket (args above the inline threshold)",
    "PAYLOAD_INLINE_BYTES": "the largest serialized args kept inline (0: every args to the bucket)",
    "SAGA_TABLE_NAME": "the saga tasks': the order saga's state table",
    "WEBHOOK_SOURCES": "JSON: source → `{scheme, secret, options}`, from `webhookSources`; "
    "the stack writes it into the functions' asset (`functions/webhook_sources.json`), not "
    "the environment: set, this variable wins over the file (tests, a checkout)",
    "WEBHOOK_MAX_BODY_BYTES": "from `webhookMaxBodyBytes`",
    "WEBHOOK_SECRET_CACHE_SECONDS": "from `webhookSecretCacheSeconds`",
    "WEBHOOK_IDEMPOTENCY_TTL_SECONDS": "from `webhookIdempotencyTtlSeconds`",
}


def _settings_packages() -> list[str]:
    """Every package of functions/ with a config.py: where an EnvSettings model lives
    (functions/settings.py), so a new package's variables are listed without an edit here."""
    return sorted(path.parent.name for path in (ROOT / "functions").glob("*/config.py"))


class MissingMeaning(Exception):
    """A setting the code has and the docs do not explain, or the reverse."""


def _code(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return f"`{text}`" if text != "" else "(none)"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"


def _check(kind: str, found: set[str], explained: set[str]) -> None:
    if missing := sorted(found - explained):
        raise MissingMeaning(f"{kind} without a meaning in docs/generate.py: {missing}")
    if stale := sorted(explained - found):
        raise MissingMeaning(f"meanings of {kind} the code no longer has: {stale}")


def context_table() -> str:
    """The CDK context keys, with their defaults from DeploymentConfig."""
    from infra.config import DeploymentConfig

    defaults = DeploymentConfig().model_dump(by_alias=True)
    keys = DeploymentConfig.context_keys().values()
    _check("context keys", set(keys), set(CONTEXT_MEANINGS))
    rows = [_row("key", "default", "meaning"), "| --- | --- | --- |"]
    for key, (default, meaning) in APP_CONTEXT.items():
        rows.append(_row(f"`{key}`", f"`{default}`", meaning))
    for key in keys:
        default = defaults[key]
        shown = "(none)" if default is None else f"`{json.dumps(default)}`"
        if key == "webhookSources":
            shown = "the five sources of [Webhook sources](../guides/webhooks.md)"
        rows.append(_row(f"`{key}`", shown, CONTEXT_MEANINGS[key]))
    return "\n".join(rows) + "\n"


def _variables() -> Iterator[tuple[str, str, str, Any]]:
    """(package, variable, type, default) of every EnvSettings field, nested ones included."""
    from functions.settings import EnvSettings, field_types, variable_of

    def fields(package: str, model: type[EnvSettings]) -> Iterator[tuple[str, str, str, Any]]:
        for field, kind in field_types(model):
            if isinstance(kind, type) and issubclass(kind, EnvSettings):
                yield from fields(package, kind)
                continue
            variable = variable_of(field)
            if variable is None:  # pragma: no cover - every leaf field names its variable
                raise MissingMeaning(f"{model.__name__}.{field.name} names no variable")
            default = (
                field.default_factory()
                if field.default is dataclasses.MISSING
                and field.default_factory is not dataclasses.MISSING
                else field.default
            )
            shown = getattr(kind, "__name__", None) or str(kind).replace("typing.", "")
            yield package, variable, shown, default

    seen: set[type[EnvSettings]] = set()
    for package in _settings_packages():
        module = importlib.import_module(f"functions.{package}.config")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, EnvSettings)
                and value is not EnvSettings
                and value.__module__ == module.__name__
                and value not in seen
            ):
                seen.add(value)
                if _nested(value, module):
                    continue
                yield from fields(package, value)


def _nested(model: type, module: Any) -> bool:
    """A model that another model of its module holds as a field is listed through it."""
    from functions.settings import EnvSettings, field_types

    return any(
        isinstance(other, type)
        and issubclass(other, EnvSettings)
        and other is not model
        and any(kind is model for _, kind in field_types(other))
        for other in vars(module).values()
    )


def environment_table() -> str:
    """The functions' environment variables, by the package that reads them."""
    rows = [
        _row("variable", "read by", "type", "default", "meaning"),
        "| --- | --- | --- | --- | --- |",
    ]
    found: dict[str, list[tuple[str, str, Any]]] = {}
    for package, variable, kind, default in _variables():
        found.setdefault(variable, []).append((package, kind, default))
    _check("environment variables", set(found), set(VARIABLE_MEANINGS))
    for variable in sorted(found):
        readers = found[variable]
        packages = ", ".join(f"`functions/{package}`" for package, _, _ in readers)
        _, kind, default = readers[0]
        shown = "(none)" if default in ("", {}, None) else _code(default)
        rows.append(
            _row(f"`{variable}`", packages, f"`{kind}`", shown, VARIABLE_MEANINGS[variable])
        )
    return "\n".join(rows) + "\n"


def metrics_table() -> str:
    """The metric vocabulary's table (functions/metrics.py)."""
    from functions.metrics import markdown_table

    return markdown_table()


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_schema_name(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    return f"`{schema.get('type', 'any')}`"


def http_api() -> str:
    """Every route of the committed OpenAPI document: parameters, body and answers."""
    document = json.loads((ROOT / "events" / "openapi.json").read_text(encoding="utf-8"))
    out: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            out += [f"## {method.upper()} {path}", "", f"**{operation.get('summary', '')}**", ""]
            if description := operation.get("description"):
                out += [description.strip(), ""]
            if parameters := operation.get("parameters"):
                out += [_row("parameter", "in", "required", "type", "description")]
                out += ["| --- | --- | --- | --- | --- |"]
                for parameter in parameters:
                    out.append(
                        _row(
                            f"`{parameter['name']}`",
                            parameter.get("in", ""),
                            "yes" if parameter.get("required") else "no",
                            _schema_name(parameter.get("schema", {})),
                            (parameter.get("description") or "").strip(),
                        )
                    )
                out.append("")
            if body := operation.get("requestBody"):
                for kind, content in body.get("content", {}).items():
                    out += [f"Body (`{kind}`): {_schema_name(content.get('schema', {}))}", ""]
            out += [_row("status", "answer"), "| --- | --- |"]
            for status, answer in operation.get("responses", {}).items():
                out.append(_row(f"`{status}`", (answer.get("description") or "").strip()))
            out.append("")
    out += ["## Schemas", ""]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        out += [f"### {name}", ""]
        if description := schema.get("description"):
            out += [description.strip(), ""]
        if properties := schema.get("properties"):
            required = set(schema.get("required", []))
            out += [_row("field", "type", "required", "description"), "| --- | --- | --- | --- |"]
            for field, spec in properties.items():
                out.append(
                    _row(
                        f"`{field}`",
                        _schema_name(spec),
                        "yes" if field in required else "no",
                        (spec.get("description") or spec.get("title") or "").strip(),
                    )
                )
            out.append("")
    return "\n".join(out) + "\n"


def api_errors() -> str:
    """The actions API's error answers: every ``ApiError`` of functions/api/errors.py."""
    from functions.api import errors

    found = [errors.ApiError]
    for kind in found:
        found += [sub for sub in kind.__subclasses__() if sub not in found]
    rows = [_row("status", "`error`", "when"), "| --- | --- | --- |"]
    named = {(k.status_code, k.error): k for k in found[1:]}  # a subclass says it better
    named.setdefault((errors.ApiError.status_code, errors.ApiError.error), errors.ApiError)
    for _, kind in sorted(named.items()):
        doc = " ".join((kind.__doc__ or "").split()).replace("``", "`")
        rows.append(_row(f"`{kind.status_code}`", f"`{kind.error}`", doc))
    return "\n".join(rows) + "\n"


FIGURES = Path(__file__).parent / "figures"


def bench_figures() -> str:
    """The last ``make bench``: its table, the cost lines and the assumptions, with the
    date, commit and machine it was measured on (``docs/figures/bench.json``)."""
    path = FIGURES / "bench.json"
    if not path.is_file():
        return "No `make bench` figures are recorded yet."
    bench = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        f"Measured {bench['measured_at']} on commit `{bench['commit']}`, {bench['machine']}"
        " (`make bench` writes `docs/figures/bench.json`).",
        "",
        bench["table"],
        "",
        "```text",
        "Cost per million webhooks, end to end (us-east-1 list prices):",
        bench["cost"],
        "Assumptions:",
        *(f"  - {line}" for line in bench["assumptions"]),
        "```",
    ]
    return "\n".join(lines)


def soak_figures() -> str:
    """The last ``make soak``: its reconciliation table, with the date, commit and
    machine (``docs/figures/soak.json``)."""
    path = FIGURES / "soak.json"
    if not path.is_file():
        return "No `make soak` figures are recorded yet."
    soak = json.loads(path.read_text(encoding="utf-8"))
    verdict = "reconciled" if soak["ok"] else "NOT reconciled"
    return "\n".join(
        [
            f"Measured {soak['measured_at']} on commit `{soak['commit']}`, {soak['machine']}:"
            f" {soak['deliveries']:,} deliveries, seed {soak['seed']}, {verdict}"
            " (`make soak` writes `docs/figures/soak.json`).",
            "",
            "```text",
            soak["table"],
            "```",
        ]
    )


class BadFigures(Exception):
    """A figures file a page renders is missing or not in the form its writer writes."""


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def _counts(row: Any, where: str) -> dict[str, Any]:
    keys = ("passed", "failed", "skipped", "seconds")
    if not isinstance(row, dict) or not all(
        isinstance(row.get(key), int | float) and not isinstance(row.get(key), bool) for key in keys
    ):
        raise BadFigures(f"docs/figures/tests.json: {where} needs the numbers {list(keys)}")
    return row


def _suites_in_repository() -> list[str]:
    return sorted(
        f"tests/{folder.name}"
        for folder in (ROOT / "tests").iterdir()
        if folder.is_dir() and any(folder.rglob("test_*.py"))
    )


def tests_figures() -> str:
    """The last ``make figures-tests``: each suite's passed, failed and skipped tests and
    its time, with the date, commit and machine (``docs/figures/tests.json``, written by
    the plugin of ``tests/suite_figures.py``). Missing or malformed, the build fails."""
    path = FIGURES / "tests.json"
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BadFigures(
            "docs/figures/tests.json is missing: `make figures-tests` writes it"
        ) from error
    except json.JSONDecodeError as error:
        raise BadFigures(f"docs/figures/tests.json is not JSON: {error}") from error
    if not isinstance(figures, dict):
        raise BadFigures("docs/figures/tests.json: an object expected")
    missing = [
        k for k in ("measured_at", "commit", "machine", "suites", "total") if k not in figures
    ]
    if missing or not isinstance(figures["suites"], dict) or not figures["suites"]:
        raise BadFigures(f"docs/figures/tests.json: missing {missing or ['suites']}")
    total = _counts(figures["total"], "total")
    count = total["passed"] + total["failed"] + total["skipped"]
    head = (
        f"Measured {figures['measured_at']} on commit `{figures['commit']}`, "
        f"{figures['machine']}: {count:,} tests, {total['failed']:,} failed, "
        f"{_duration(total['seconds'])} of pytest"
    )
    if isinstance(make := figures.get("make_test_seconds"), int | float):
        where = " from a clean clone, set-up included" if figures.get("clean_clone") else ""
        head += f", {_duration(make)} of `make test` in all{where}"
    lines = [head + " (`make figures-tests` writes `docs/figures/tests.json`).", ""]
    lines += [
        _row("suite", "passed", "failed", "skipped", "time"),
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for suite, row in figures["suites"].items():
        counts = _counts(row, f"suite {suite}")
        lines.append(
            _row(
                f"`{suite}`",
                f"{counts['passed']:,}",
                f"{counts['failed']:,}",
                f"{counts['skipped']:,}",
                _duration(counts["seconds"]),
            )
        )
    lines.append(
        _row(
            "all",
            f"{total['passed']:,}",
            f"{total['failed']:,}",
            f"{total['skipped']:,}",
            _duration(total["seconds"]),
        )
    )
    if absent := [s for s in _suites_in_repository() if s not in figures["suites"]]:
        named = ", ".join(f"`{suite}`" for suite in absent)
        lines += ["", f"Not in this run: {named}."]
    if ci := figures.get("ci"):
        try:
            lines += [
                "",
                f"The last clean-clone CI run (`.ci/run`, set-up from the lock file included), "
                f"{ci['measured_at']} on commit `{ci['commit']}`, {ci['machine']}: "
                f"{ci['tests']:,} tests, {_duration(ci['pytest_seconds'])} of pytest, "
                f"{_duration(ci['seconds'])} in all ({ci['source']}).",
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise BadFigures(f"docs/figures/tests.json: ci needs {error}") from error
    return "\n".join(lines) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "api-errors": api_errors,
    "context": context_table,
    "environment": environment_table,
    "metrics": metrics_table,
    "http-api": http_api,
    "bench": bench_figures,
    "soak": soak_figures,
    "tests": tests_figures,
}


def render(markdown: str) -> str:
    """The page with each marker replaced by its generated text; an unknown marker fails."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise MissingMeaning(f"no generator named {name!r} (docs/generate.py)")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs hook: render the generated parts of each page; a gap fails the build."""
    from mkdocs.exceptions import PluginError

    try:
        return render(markdown)
    except (MissingMeaning, BadFigures) as error:
        raise PluginError(str(error)) from error
