"""The actions API through the local cloud: real HTTP, SigV4-signed with botocore (and curl).

The local cloud's HTTP front checks each request's signature for the routes the
template marks AWS_IAM, as API Gateway does, then runs the actions API's function in
a process of its own; the cloud's worker runs what it makes. The two examples of
examples/actions_api/ run as a user would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from infra.local.cloud import REGION
from tests.local.test_cloud import quiet_cloud

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "actions_api"


@pytest.fixture(scope="module")
def cloud(synthesized):
    yield from quiet_cloud(synthesized[0])


def _call(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    secret: str | None = None,
    signed: bool = True,
) -> tuple[int, dict[str, str], dict]:
    """Send a request signed with the local credentials (or ``secret``), or unsigned."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    if signed:
        credentials = Credentials(
            os.environ["AWS_ACCESS_KEY_ID"], secret or os.environ["AWS_SECRET_ACCESS_KEY"]
        )
        SigV4Auth(credentials, "execute-api", REGION).add_auth(request)
    headers = dict(request.headers)
    sent = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def _action(cloud, action_id: str) -> dict:
    table = cloud.deployment.outputs["ActionsTableName"]
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"action_id": {"S": action_id}}, ConsistentRead=True
    )
    return {key: next(iter(value.values())) for key, value in item.get("Item", {}).items()}


def _wait_complete(cloud, action_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = _action(cloud, action_id)
        if item.get("status") == "complete":
            return item
        time.sleep(0.2)
    raise AssertionError(f"{action_id} did not complete: {_action(cloud, action_id)}")


def _table_size(cloud) -> int:
    table = cloud.deployment.outputs["ActionsTableName"]
    return boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


def _email(to: str) -> bytes:
    return json.dumps({"hook": "send_email", "args": {"to": to, "subject": "Hi"}}).encode()


def test_a_signed_request_makes_an_action_the_clouds_worker_runs(cloud):
    status, headers, action = _call(cloud.actions_api_url, "POST", _email("a@example.com"))

    assert status == 201, action
    assert headers["Location"] == f"actions/{action['action_id']}"
    _wait_complete(cloud, action["action_id"])
    status, _, read = _call(f"{cloud.actions_api_url}/{action['action_id']}")
    assert (status, read["status"]) == (200, "complete")


def test_an_idempotency_key_makes_one_action_for_any_number_of_retries(cloud):
    key = {"Idempotency-Key": "local-retry-1"}
    before = _table_size(cloud)

    answers = [
        _call(cloud.actions_api_url, "POST", _email("b@example.com"), headers=key) for _ in range(3)
    ]

    assert [status for status, _, _ in answers] == [201, 201, 201]
    assert len({body["action_id"] for _, _, body in answers}) == 1
    assert [h.get("Idempotent-Replayed") for _, h, _ in answers] == [None, "true", "true"]
    assert _table_size(cloud) == before + 1
    conflict = _call(cloud.actions_api_url, "POST", _email("c@example.com"), headers=key)
    assert (conflict[0], conflict[2]["error"]) == (422, "idempotency_key_conflict")


def test_list_cancel_and_run_now_over_http(cloud):
    later = json.dumps(
        {"hook": "send_email", "args": {"to": "d@example.com"}, "timestamp": time.time() + 7200}
    ).encode()
    _, _, first = _call(cloud.actions_api_url, "POST", later)
    _, _, second = _call(cloud.actions_api_url, "POST", later.replace(b"d@", b"e@"))

    status, _, page = _call(f"{cloud.actions_api_url}?hook=send_email&status=pending&per_page=1")
    assert status == 200, page
    assert len(page["actions"]) == 1 and page["cursor"]
    canceled = _call(f"{cloud.actions_api_url}/{first['action_id']}", "DELETE")
    assert (canceled[0], canceled[2]["status"]) == (200, "canceled")
    ran = _call(f"{cloud.actions_api_url}/{second['action_id']}/run", "POST")
    assert ran[0] == 202, ran
    _wait_complete(cloud, second["action_id"])
    unknown = _call(f"{cloud.actions_api_url}/no-such-action")
    assert (unknown[0], unknown[2]["error"]) == (404, "unknown_action")


@pytest.mark.parametrize(
    ("how", "error"),
    [
        ({"signed": False}, "missing_authentication_token"),
        ({"secret": "not-the-secret"}, "invalid_signature"),
    ],
    ids=["unsigned", "wrong secret"],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "", _email("x@example.com")),
        ("GET", "", None),
        ("DELETE", "/some-id", None),
        ("POST", "/some-id/run", None),
    ],
)
def test_an_unsigned_or_wrongly_signed_request_is_403_and_writes_nothing(
    cloud, how, error, method, path, body
):
    before = _table_size(cloud)

    status, headers, answer = _call(f"{cloud.actions_api_url}{path}", method, body, **how)

    assert (status, answer["error"]) == (403, error), answer
    assert set(answer) == {"error", "message"}
    assert headers["Content-Type"] == "application/json"
    assert _table_size(cloud) == before


def _example_environment(cloud) -> dict[str, str]:
    """What a user's shell has: the local cloud's exports (as `make run` prints them) and
    the stack's output ActionsApiUrl; nothing of the tests'."""
    outputs = boto3.client("cloudformation").describe_stacks(StackName=cloud.stack_name)
    url = {o["OutputKey"]: o["OutputValue"] for o in outputs["Stacks"][0]["Outputs"]}
    keep = ("PATH", "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "AWS_DEFAULT_REGION": REGION,
        "ACTIONS_API_URL": url["ActionsApiUrl"],
    }


def test_the_python_example_runs_as_written(cloud):
    ran = subprocess.run(  # noqa: S603 - this interpreter, the example's file
        [sys.executable, str(EXAMPLES / "enqueue.py")],
        env=_example_environment(cloud),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    action_id, status = ran.stdout.split()
    assert status in {"pending", "in-progress", "complete"}
    assert _wait_complete(cloud, action_id)["hook"] == "send_email"


def test_the_curl_example_runs_as_written_and_its_retry_makes_no_second_action(cloud):
    def run() -> dict:
        ran = subprocess.run(  # noqa: S603 - bash running the example's file
            ["/bin/bash", str(EXAMPLES / "enqueue.sh")],
            env=_example_environment(cloud),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        return json.loads(ran.stdout)

    first, again = run(), run()

    assert first["hook"] == "send_email"
    assert again["action_id"] == first["action_id"]
    assert _wait_complete(cloud, first["action_id"])["status"] == "complete"
