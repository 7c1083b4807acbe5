"""``make run``: synthesize and check the stack, then replay the sample webhooks on moto.

1. Synthesizes the CDK app (cdk-nag AwsSolutions runs as part of it) and lints the
   template with cfn-lint.
2. Provisions the stack's tables, queues and secrets on an embedded moto and sends
   every sample in ``events/webhooks/`` through the real webhook handler, then each
   accepted one again, to show it is queued once; then runs the worker over the
   queue until every accepted delivery's action is complete.
3. Prints what happened and exits non-zero if anything differs from the samples'
   expected outcome.

Until the local cloud (an HTTP front, the worker, schedules) lands, this is how to
see the system run without an AWS account.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for name, value in {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}.items():
    os.environ[name] = value


def synthesize(outdir: Path) -> Path:
    from infra.app import build_app

    app, stack = build_app(outdir=str(outdir))
    app.synth()
    return outdir / f"{stack.stack_name}.template.json"


def lint(template: Path) -> None:
    command = [str(Path(sys.executable).with_name("cfn-lint")), str(template)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        print(result.stdout + result.stderr)
        raise SystemExit("cfn-lint found problems in the template")


def _invoke(event: dict) -> dict:
    """Run the webhook handler as Lambda would, keeping its EMF metric lines off the screen."""
    from functions.handlers.webhook import lambda_handler
    from infra.local.lambda_runtime import LocalContext

    with contextlib.redirect_stdout(io.StringIO()):
        return lambda_handler(event, LocalContext(function_name="webhook"))


def replay() -> int:
    from moto import mock_aws

    from infra.local import sample_events
    from infra.local.resources import provision

    failures = 0
    with mock_aws():
        resources = provision()
        os.environ.update(resources.environment)
        samples = sample_events.build(now=int(time.time()))
        print(f"\n{'sample (events/webhooks/)':<28} {'status':>6}  answer")
        accepted = []
        for sample in samples:
            response = _invoke(sample.event)
            body = json.loads(response["body"])
            ok = response["statusCode"] == sample.expected_status and (
                sample.expected_error is None or body.get("error") == sample.expected_error
            )
            failures += not ok
            mark = "" if ok else f"   <-- expected {sample.expected_status}"
            print(f"{sample.name:<28} {response['statusCode']:>6}  {json.dumps(body)}{mark}")
            if response["statusCode"] == 202:
                accepted.append(sample)

        print("\nSending each accepted sample again (a sender's retry):")
        for sample in accepted:
            response = _invoke(sample.event)
            ok = response["statusCode"] == 200
            failures += not ok
            print(f"{sample.name:<28} {response['statusCode']:>6}  {response['body']}")

        failures += _work(resources, len(accepted))
    return failures


def _work(resources, expected: int) -> int:
    """Run the worker over the default queue as its event source mapping would."""
    import boto3

    from functions.actions import store
    from functions.handlers.worker import lambda_handler
    from infra.local.sqs_poller import poll_once

    table = boto3.client("dynamodb").scan(TableName=resources.actions_table)["Items"]
    action_ids = sorted(item["action_id"]["S"] for item in table)
    print(f"\nThe default job queue holds {len(action_ids)} actions; running the worker:")
    with contextlib.redirect_stdout(io.StringIO()):
        while poll_once(resources.queues["default"], lambda_handler).received:
            pass
    failures = 0
    for action_id in action_ids:
        action = store.get(action_id)
        if action is None:
            failures += 1
            continue
        args = action.args if isinstance(action.args, dict) else {}
        events = " > ".join(entry.event for entry in action.log)
        print(
            f"  {action_id}  {action.hook}  {action.status:<9} "
            f"{args.get('source', ''):<9} {args.get('event_type', ''):<25} [{events}]"
        )
        failures += action.status != "complete"
    if len(action_ids) != expected:
        failures += 1
        print(f"  <-- expected {expected}: one per accepted delivery")
    return failures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cdk.out.") as outdir:
        started = time.monotonic()
        template = synthesize(Path(outdir))
        resources = json.loads(template.read_text())["Resources"]
        print(
            f"Synthesized {template.name}: {len(resources)} resources, cdk-nag AwsSolutions "
            f"passed ({time.monotonic() - started:.1f} s)"
        )
        lint(template)
        print("cfn-lint passed")
    failures = replay()
    if failures:
        raise SystemExit(f"\n{failures} sample(s) did not behave as expected")
    print("\nEvery sample behaved as expected.")


if __name__ == "__main__":
    main()
