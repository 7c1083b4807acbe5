"""Cold start: a fresh interpreter imports a handler and serves its first request.

The floor is ``import boto3`` and creating one client, in the same kind of fresh
interpreter. Interpreter start-up is outside both clocks (Lambda pays it either way).
The first request's AWS calls are answered by the replay of moto's recorded answers
(aws.Replay), so no socket is opened. Each handler run follows a floor run of its own;
a handler's ratio is the median of those pairs' ratios (this machine's speed moves in
phases of seconds, which pairs cancel).
When a handler misses its target, ``-X importtime`` tells which packages cost most.

Both run in the environment Lambda gives a deployed function (``LAMBDA_ENV``): on
Lambda, with active tracing and a sampled request, so a handler pays what it pays in
AWS: the X-Ray SDK imported, botocore patched, a subsegment per AWS call sent (over
UDP to a local port where no daemon listens: the send costs the same). Off Lambda
the SDK behaves differently (its recorder builds a client for sampling rules), so
measuring there would count a cost no deployed function pays and miss one it does.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "21"))
ROOT = Path(__file__).resolve().parents[2]
# What the floor itself imports: not an offender of a handler.
_FLOOR_PACKAGES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
# A package's import time moves by a few tenths of a millisecond from run to run.
_NOISE_MS = 0.5
# What the Lambda runtime sets for a function with Tracing.ACTIVE, serving a sampled
# request (the runtime sets _X_AMZN_TRACE_ID per request; the first is all we time).
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_LAMBDA_FUNCTION_NAME": "cold",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "_X_AMZN_TRACE_ID": (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
}


def child(spec_path: str, out_path: str) -> None:
    """Runs in the fresh interpreter: time the import and the first request."""
    import importlib
    import time

    spec = json.loads(Path(spec_path).read_text())
    # The harness (the runtime's context, the replay) is loaded before either clock starts:
    # on Lambda the runtime's own code is in place before a function's init.
    from infra.local.lambda_runtime import LocalContext  # stdlib only
    from tests.bench.aws import Replay

    answer: Any = None
    started = time.perf_counter()
    if spec["module"] == "floor":
        import boto3

        boto3.client("sqs")
    else:
        module = importlib.import_module(spec["module"])
        with Replay(spec["answers"]).installed():
            context = LocalContext(function_name="cold", timeout_seconds=spec["timeout_seconds"])
            answer = module.lambda_handler(spec["event"], context)
    elapsed = time.perf_counter() - started
    # The path timed is the one recorded: a first request that failed (an answer the
    # replay lacks, a check that gave up) would time an error path instead.
    if isinstance(answer, dict):
        assert answer.get("statusCode", 200) < 400, f"the first request failed: {answer}"
        assert not answer.get("batchItemFailures"), f"the first batch failed: {answer}"
    if spec["module"] != "floor":
        from functions.observability import Untraced, tracer

        # The figure is of the deployed configuration, traced; never of an untraced one.
        assert not isinstance(tracer, Untraced), "the cold start ran untraced"
        # Nor of a first request that loads pydantic (record 0073): a regression to see.
        assert "pydantic" not in sys.modules, "the first request imported pydantic"
    Path(out_path).write_text(json.dumps({"seconds": elapsed}))


def _run(spec_path: Path, environment: dict[str, str], importtime: bool = False) -> Any:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = out.name
    command = [sys.executable, *(["-X", "importtime"] if importtime else [])]
    command += ["-m", "tests.bench.coldstart", str(spec_path), out_path]
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cold start of {spec_path.name} failed:\n{result.stderr[-3000:]}")
    seconds = json.loads(Path(out_path).read_text())["seconds"]
    Path(out_path).unlink()
    return result.stderr if importtime else seconds


def import_costs(stderr: str) -> dict[str, float]:
    """Self time (ms) of every imported module, summed by top-level package."""
    totals: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(.+)$", line)
        if match:
            totals[match.group(2).strip().split(".")[0]] += int(match.group(1)) / 1000
    return dict(totals)


def offenders(
    handler_costs: dict[str, float], floor_costs: dict[str, float] | None = None, top: int = 4
) -> list[tuple[str, float]]:
    """The packages a handler imports beyond the floor, costliest first: what the floor's
    own run spent on a package (boto3 brings html, multiprocessing...) is taken off, and
    what is left under ``_NOISE_MS`` is not an offender."""
    floor = floor_costs or {}
    extra = {
        name: round(ms - floor.get(name, 0.0), 1)
        for name, ms in handler_costs.items()
        if name not in _FLOOR_PACKAGES and not name.startswith("_")
    }
    extra = {name: ms for name, ms in extra.items() if ms >= _NOISE_MS}
    return sorted(extra.items(), key=lambda item: -item[1])[:top]


def deployed_manifest(workdir: Path) -> Path | None:
    """The hook manifest in the functions' asset the assets section synthesized: a
    deployed function reads its hooks' names and policies from it, where a checkout
    (no manifest) imports every hook module on the first name it looks up."""
    from functions.actions.manifest import FILE_NAME

    found = sorted((workdir / "cdk.out").glob(f"asset.*/functions/{FILE_NAME}"))
    return found[0] if found else None


def _common_environment(workdir: Path) -> dict[str, str]:
    """The variables the synthesized template gives every function, as literal values
    (``PYDANTIC_DISABLE_PLUGINS``, the Powertools settings): a deployed cold start has them."""
    template = json.loads((workdir / "template.json").read_text())
    environments = [
        resource["Properties"].get("Environment", {}).get("Variables", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    if not environments:
        return {}
    common = {k: v for k, v in environments[0].items() if isinstance(v, str)}
    for variables in environments[1:]:
        common = {k: v for k, v in common.items() if variables.get(k) == v}
    common.pop("POWERTOOLS_TRACE_DISABLED", None)  # traced, as deployed (below)
    return common


def _timeouts(workdir: Path) -> dict[str, float]:
    """Each handler module's deployed timeout (seconds): a first request has that long, as
    on Lambda (the worker starts a record only while its hook's timeout still fits)."""
    template = json.loads((workdir / "template.json").read_text())
    return {
        resource["Properties"]["Handler"].rpartition(".")[0]: float(
            resource["Properties"]["Timeout"]
        )
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def measure(workdir: Path) -> dict[str, Any]:
    counts = json.loads((workdir / "counts.json").read_text())
    from functions.actions.manifest import PATH_VARIABLE
    from tests.bench.aws import BASE_ENV

    environment = {**os.environ, **BASE_ENV, **counts["environment"], "PYTHONPATH": str(ROOT)}
    manifest = deployed_manifest(workdir)
    if manifest is not None:
        environment[PATH_VARIABLE] = str(manifest)
    environment.update(_common_environment(workdir))
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    # Tracing as deployed: on, which the other sections turn off (BASE_ENV).
    environment.pop("POWERTOOLS_TRACE_DISABLED", None)
    environment.update(LAMBDA_ENV)
    answers = counts["answers"]
    from tests.bench.aws import signed_github

    specs: dict[str, dict[str, Any]] = {
        "floor": {"module": "floor"},
        "webhook": {
            "module": "functions.handlers.webhook",
            "event": signed_github("cold-1", 1),
            "answers": answers["webhook"],
        },
        # One action's message, as a cold worker mostly gets one (a full batch is nine
        # warm records more: the overhead section times those, per record).
        "worker": {
            "module": "functions.handlers.worker",
            "event": {**counts["worker_event"], "Records": counts["worker_event"]["Records"][:1]},
            "answers": answers["worker"],
        },
        "saga": {
            "module": "functions.handlers.saga",
            "event": counts["saga_event"],
            "answers": answers["saga"],
        },
    }
    health = counts.get("health")
    if health and "answers" in health:
        specs["health"] = {
            "module": "functions.handlers.health",
            "event": health["event"],
            "answers": health["answers"],
        }
    timeouts = _timeouts(workdir)
    for spec in specs.values():
        if spec["module"] != "floor":
            spec["timeout_seconds"] = timeouts[spec["module"]]
    paths = {}
    for name, spec in specs.items():
        paths[name] = workdir / f"cold-{name}.json"
        paths[name].write_text(json.dumps(spec))
    # Once each, unmeasured: the bytecode caches are written, as in a deployed asset.
    for path in paths.values():
        _run(path, environment)
    # This machine's speed moves in phases of seconds (the same interpreter start takes
    # 180 or 270 ms): each handler run is paired with a floor run just before it, and its
    # figure is the median of the pairs' ratios times the floor's median.
    seconds: dict[str, list[float]] = defaultdict(list)
    ratios: dict[str, list[float]] = defaultdict(list)
    for _ in range(RUNS):
        for name, path in paths.items():
            if name == "floor":
                continue
            floor = _run(paths["floor"], environment)
            handler = _run(path, environment)
            seconds["floor"].append(floor)
            seconds[name].append(handler)
            ratios[name].append(handler / floor)
    floor_ms = statistics.median(seconds["floor"]) * 1000
    medians = {"floor": floor_ms}
    medians.update({name: floor_ms * statistics.median(r) for name, r in ratios.items()})
    raw = {name: statistics.median(values) * 1000 for name, values in seconds.items()}
    floor_costs = import_costs(_run(paths["floor"], environment, importtime=True))
    imports = {}
    for name in specs:
        if name != "floor":
            costs = import_costs(_run(paths[name], environment, importtime=True))
            imports[name] = {
                "total_ms": round(sum(costs.values()), 1),
                "floor_total_ms": round(sum(floor_costs.values()), 1),
                "top": [(pkg, round(ms, 1)) for pkg, ms in offenders(costs, floor_costs)],
            }
    return {
        "ms": medians,
        "raw_ms": raw,  # each one's own median, unpaired
        "runs": RUNS,
        "imports": imports,
        "environment": "lambda, traced" + (", the asset's hook manifest" if manifest else ""),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1].endswith(".json"):
        child(sys.argv[1], sys.argv[2])
    else:
        from tests.bench.sections import section_main

        section_main("coldstart", measure)
