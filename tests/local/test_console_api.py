"""The console API through the local cloud: real HTTP, ID tokens from moto's Cognito.

The local cloud creates the console's demo users at start; each test signs in as one of
them (``USER_PASSWORD_AUTH``, as the local sign-in does) and calls the API with the ID
token, as the page does. The HTTP front checks the token as API Gateway's Cognito
authorizer would (infra/local/cognito.py) and the function checks the group. Nothing of
ours is mocked. Contract: docs/reference/console-api.md.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from infra.local.cloud import REGION
from infra.local.cognito import DEMO_USERS, sign_in
from tests.local.test_cloud import quiet_cloud


@pytest.fixture(scope="module")
def cloud(synthesized):
    yield from quiet_cloud(synthesized[0])


def _token(cloud, username: str) -> str:
    [user] = [u for u in cloud.console_users if u.username == username]
    [pool] = cloud.deployment.user_pools.values()
    [client] = cloud.deployment.user_pool_clients.values()
    return str(sign_in(pool, client, user, REGION)["IdToken"])


def _call(
    cloud, method: str, path: str, body: object = None, *, token: str | None = None
) -> tuple[int, dict]:
    url = f"{cloud.console_url}api{path}"
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": token} if token else {}
    sent = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _schedule(cloud) -> str:
    """A pending action made through the actions API's code path (the CLI's)."""
    from tests.local.test_actions_api import _call as signed

    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body = json.dumps(
        {"hook": "send_email", "args": {"to": "c@example.com"}, "timestamp": later}
    ).encode()
    status, _, action = signed(cloud.actions_api_url, "POST", body)
    assert status == 201, action
    return str(action["action_id"])


def test_the_demo_users_are_in_their_groups_and_printed_in_the_banner(cloud):
    from infra.local.cloud import banner

    assert {(u.username, u.group) for u in cloud.console_users} == {
        (u.username, u.group) for u in DEMO_USERS
    }
    text = banner(cloud)
    assert cloud.console_url in text
    for user in DEMO_USERS:
        assert user.username in text and user.password in text


def test_without_a_token_the_gateway_answers_401_in_the_receivers_shape(cloud):
    status, body = _call(cloud, "GET", "/me")
    assert status == 401
    assert body == {"error": "unauthorized", "message": "Unauthorized"}


def test_a_forged_or_foreign_token_is_401(cloud):
    token = _token(cloud, "operator")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert _call(cloud, "GET", "/me", token=forged)[0] == 401
    assert _call(cloud, "GET", "/me", token="not-a-token")[0] == 401
    # An ID token of another pool (signed with the same moto key) is not the console's.
    idp = boto3.client("cognito-idp", region_name=REGION)
    other = idp.create_user_pool(PoolName="other")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=other, ClientName="c")["UserPoolClient"]
    idp.admin_create_user(UserPoolId=other, Username="mallory", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=other, Username="mallory", Password="Mallory-pass-1!", Permanent=True
    )
    foreign = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mallory", "PASSWORD": "Mallory-pass-1!"},
    )["AuthenticationResult"]["IdToken"]
    assert _call(cloud, "GET", "/me", token=foreign)[0] == 401


def test_an_expired_token_is_401_with_api_gateways_message(cloud):
    from infra.local import cognito

    token = _token(cloud, "viewer")
    [pool] = cloud.deployment.user_pools.values()
    with pytest.raises(cognito.Refusal) as refused:
        cognito.verify(
            [("Authorization", token)],
            issuers=[cognito.issuer(REGION, pool)],
            clock=lambda: time.time() + 7200,
        )
    assert refused.value.message == "The incoming token has expired"


def test_a_viewer_reads_but_is_refused_a_change_by_the_api_itself(cloud):
    action_id = _schedule(cloud)
    viewer = _token(cloud, "viewer")
    status, me = _call(cloud, "GET", "/me", token=viewer)
    assert (status, me) == (200, {"username": "viewer", "groups": ["viewers"], "operator": False})
    status, page = _call(cloud, "GET", "/actions?status=pending&hook=send_email", token=viewer)
    assert status == 200 and action_id in [row["action_id"] for row in page["actions"]]
    status, body = _call(cloud, "POST", f"/actions/{action_id}/cancel", token=viewer)
    assert status == 403 and body["error"] == "forbidden"
    status, detail = _call(cloud, "GET", f"/actions/{action_id}", token=viewer)
    assert detail["action"]["status"] == "pending"


def test_an_operator_cancels_and_the_log_names_them(cloud):
    action_id = _schedule(cloud)
    operator = _token(cloud, "operator")
    status, body = _call(cloud, "POST", f"/actions/{action_id}/cancel", token=operator)
    assert status == 200, body
    assert body["action"]["status"] == "canceled"
    assert body["action"]["log"][-1]["message"] == "canceled by operator (console)"


def test_counts_and_health_answer_through_the_front(cloud):
    viewer = _token(cloud, "viewer")
    status, counts = _call(cloud, "GET", "/counts", token=viewer)
    assert status == 200 and set(counts["counts"]) >= {"pending", "past-due", "failed"}
    status, health = _call(cloud, "GET", "/health", token=viewer)
    assert status == 200 and "queues" in health


def test_the_functions_metrics_reach_cloudwatch_for_the_charts(cloud):
    """A webhook's EMF output is put into moto's CloudWatch by the local cloud."""
    from infra.cli.webhook import sample_request

    headers, body = sample_request("github", None)
    url = f"{cloud.webhook_url}github"
    sent = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    with urllib.request.urlopen(sent, timeout=30) as response:  # noqa: S310 - loopback
        assert response.status == 202
    viewer = _token(cloud, "viewer")
    deadline = time.monotonic() + 20
    while True:
        status, webhooks = _call(cloud, "GET", "/webhooks", token=viewer)
        if webhooks["windows"]["hour"]["accepted"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200
    assert webhooks["windows"]["hour"]["accepted"] >= 1
    assert {s["source"] for s in webhooks["sources"]} >= {"github"}


def test_queue_depths_are_published_as_sqs_would_for_the_charts(cloud):
    from functions.actions.config import expand_compact
    from infra.local.emf import publish_queue_depths

    worker = next(f for f in cloud.deployment.functions.values() if "worker" in f.handler)
    default = expand_compact(json.loads(worker.environment["JOB_QUEUES"]))["default"]["url"]
    sqs, cloudwatch = boto3.client("sqs"), boto3.client("cloudwatch")
    assert publish_queue_depths([default], sqs, cloudwatch) == 1
    status, charts = _call(cloud, "GET", "/charts?hours=1", token=_token(cloud, "viewer"))
    assert status == 200
    series = {s["id"]: s for s in charts["series"]}
    assert series["depth_default"]["points"], "the depth reached the chart"
    assert series["oldest_default"]["points"] == []  # not published locally


def test_an_encoded_run_id_reaches_the_function_decoded(cloud):
    from urllib.parse import quote

    run_id = "0f8fad5b-d9cb-469f-a165-70867728950e@2026-11-30T09:00:00Z"
    status, body = _call(
        cloud, "GET", f"/actions/{quote(run_id, safe='')}", token=_token(cloud, "viewer")
    )
    assert status == 404 and body["error"] == "unknown_action"
    assert run_id in body["message"]
