"""Tracing: the X-Ray Tracer on Lambda, where the stack turns active tracing on; nothing elsewhere.

Off Lambda the X-Ray SDK is never imported (its recorder would build a botocore client
at import for traces nobody receives). On Lambda a fresh interpreter is needed to see
it: the tracer is chosen once, when ``functions.observability`` is imported, and it
patches botocore for the whole process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from functions.observability import Untraced, tracer, tracing_enabled

ROOT = Path(__file__).resolve().parents[2]
LAMBDA = {"LAMBDA_TASK_ROOT": "/var/task"}

# A handler on "Lambda" whose one AWS call is answered by a botocore Stubber, with an
# emitter that keeps what the X-Ray recorder would send to the daemon.
_PROBE = textwrap.dedent(
    """
    import json
    import sys

    from botocore.stub import Stubber

    import os

    from functions.clients import lazy_client
    from functions.observability import Untraced, trace_user_http_calls, tracer

    if isinstance(tracer, Untraced):
        print(json.dumps({"traced": False, "xray_imported": "aws_xray_sdk" in sys.modules}))
        raise SystemExit

    from aws_xray_sdk.core import patcher, xray_recorder

    patched_at_import = sorted(patcher._PATCHED_MODULES)
    if os.environ.get("PROBE_USER_CODE"):
        trace_user_http_calls()
    sent = []

    class Keep:
        def send_entity(self, entity):
            sent.append(json.loads(entity.serialize()))

        def set_daemon_address(self, address):
            pass

    xray_recorder.configure(emitter=Keep())
    sqs = lazy_client("sqs")()
    stub = Stubber(sqs)
    stub.add_response("send_message", {"MessageId": "m-1"})

    @tracer.capture_lambda_handler
    def handler(event, context):
        with stub:
            sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/q", MessageBody="{}")
        return {}

    handler({}, None)
    print(json.dumps({
        "traced": True,
        "patched_at_import": patched_at_import,
        "patched": sorted(patcher._PATCHED_MODULES),
        "sent": [[entity["name"], entity.get("annotations", {})] for entity in sent],
    }))
    """
)


def _probe(environment: dict[str, str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the suite's; a probe sets its own
    env.update(environment)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        (LAMBDA, True),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({**LAMBDA, "AWS_SAM_LOCAL": "true"}, False),
        ({**LAMBDA, "AWS_CHALICE_CLI_MODE": "true"}, False),
        ({}, False),
    ],
)
def test_traces_on_lambda_unless_turned_off_or_emulated(environ, enabled):
    assert tracing_enabled(environ) is enabled


def test_untraced_decorators_return_the_function_itself():
    untraced = Untraced()

    def handler(event: dict, context: object) -> dict:
        return event

    assert untraced.capture_lambda_handler(handler) is handler
    assert untraced.capture_lambda_handler(capture_response=False)(handler) is handler
    assert untraced.capture_method(handler) is handler
    untraced.put_annotation("key", "value")
    untraced.put_metadata("key", {"any": "value"})


def test_tests_run_untraced():
    assert isinstance(tracer, Untraced)


def test_on_lambda_each_aws_call_and_the_handler_are_traced():
    trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    found = _probe(
        {**LAMBDA, "_X_AMZN_TRACE_ID": trace_id, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}
    )

    assert found["traced"] is True
    assert found["patched"] == ["botocore"]  # no user code here: httplib is not patched
    names = [name for name, _ in found["sent"]]
    assert names == ["sqs", "## handler"]
    assert found["sent"][1][1]["ColdStart"] is True


def test_functions_that_run_user_code_trace_its_http_calls_too():
    trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    found = _probe(
        {
            **LAMBDA,
            "_X_AMZN_TRACE_ID": trace_id,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "PROBE_USER_CODE": "1",
        }
    )

    assert found["patched_at_import"] == ["botocore"]
    assert found["patched"] == ["botocore", "httplib"]


def test_off_lambda_the_xray_sdk_is_never_imported():
    found = _probe({})

    assert found == {"traced": False, "xray_imported": False}
