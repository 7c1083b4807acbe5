"""The HTTP flavour (``apiFlavour=http``) through the local cloud: real HTTP, from the
template that synthesizes an HTTP API.

The cloud serves the template's ``AWS::ApiGatewayV2`` routes on the ``$default`` stage
(no ``/v1`` in the URLs), builds payload format 1.0 events as an HTTP API does (header
names in lower case, text bodies as text), checks IAM routes' SigV4 signatures and the
console API's JWT, and answers with the HTTP API's own errors. The functions are the
REST flavour's, unchanged. Why: docs/decisions/0069-the-api-flavour-is-a-setting.md
"""

from __future__ import annotations

import json

import pytest

from functions.webhooks.schemes import GitHub, Stripe
from infra.local.cloud import REGION
from infra.local.cognito import sign_in
from infra.local.demo_secrets import DEMO_SECRETS
from tests.local.test_actions_api import _call as signed_call
from tests.local.test_actions_api import _email, _wait_complete
from tests.local.test_cloud import _send as send
from tests.local.test_cloud import quiet_cloud


@pytest.fixture(scope="module")
def cloud(http_synthesized):
    yield from quiet_cloud(http_synthesized[0])


def _send(url: str, **request: object) -> tuple[int, dict]:
    """Status and JSON body of a request to the cloud (test_cloud's, without headers)."""
    status, _, body = send(url, **request)  # type: ignore[arg-type]
    return status, body


def _root(cloud) -> str:
    return cloud.front.url.rstrip("/")


def test_the_http_api_is_deployed_on_its_default_stage_without_v1(cloud):
    assert cloud.deployment.flavour == "http"
    assert cloud.deployment.stage == "$default"
    assert cloud.webhook_url == f"http://127.0.0.1:{cloud.front.port}/webhooks/"
    assert cloud.deployment.gateway_responses == {}
    routes = {(r.method, r.resource, r.authorization) for r in cloud.deployment.routes}
    assert ("POST", "/webhooks/{source}", "NONE") in routes
    assert ("POST", "/actions", "AWS_IAM") in routes
    assert ("GET", "/console/api/{proxy+}", "JWT") in routes


def test_the_health_check_is_served(cloud):
    status, body = _send(f"{_root(cloud)}/health")

    assert status == 200
    assert body["status"] == "healthy"


def test_a_signed_webhook_with_a_text_body_is_accepted_and_its_action_runs(cloud):
    # application/json: the HTTP API passes the body as text (isBase64Encoded false), and
    # the receiver checks the signature over its UTF-8 bytes, byte for byte.
    body = json.dumps(
        {"zen": "Keep it logically awesome. ✓", "hook": {"id": 1}}, ensure_ascii=False
    ).encode()
    headers = GitHub().sign(body, DEMO_SECRETS["github"], delivery_id="http-1", event_type="ping")
    headers["Content-Type"] = "application/json"

    status, answer = _send(f"{cloud.webhook_url}github", method="POST", body=body, headers=headers)

    assert status == 202, answer
    item = _wait_complete(cloud, answer["action_id"])
    assert item["hook"] == "process_webhook"


def test_a_signed_webhook_with_a_binary_type_arrives_base64_encoded_and_verifies(cloud):
    body = b'{"id": "evt_http_2", "type": "charge.succeeded", "data": {}}'
    headers = Stripe().sign(body, DEMO_SECRETS["stripe"], delivery_id="evt_http_2")
    headers["Content-Type"] = "application/octet-stream"

    status, answer = _send(f"{cloud.webhook_url}stripe", method="POST", body=body, headers=headers)

    assert status == 202, answer


def test_a_tampered_webhook_is_refused_by_the_function(cloud):
    body = b'{"id": "evt_http_3", "type": "charge.succeeded"}'
    headers = Stripe().sign(body, DEMO_SECRETS["stripe"], delivery_id="evt_http_3")

    status, answer = _send(
        f"{cloud.webhook_url}stripe", method="POST", body=body + b" ", headers=headers
    )

    assert (status, answer["error"]) == (401, "invalid_signature")


def test_a_signed_actions_api_call_makes_an_action_the_worker_runs(cloud):
    status, _, action = signed_call(cloud.actions_api_url, "POST", _email("h@example.com"))

    assert status == 201, action
    _wait_complete(cloud, action["action_id"])
    status, _, read = signed_call(f"{cloud.actions_api_url}/{action['action_id']}")
    assert (status, read["status"]) == (200, "complete")


def test_an_idempotency_key_sent_in_any_case_makes_one_action(cloud):
    # The HTTP API passes header names in lower case; the function reads them in any.
    body = _email("k@example.com")
    first = signed_call(cloud.actions_api_url, "POST", body, headers={"Idempotency-Key": "h-1"})
    again = signed_call(cloud.actions_api_url, "POST", body, headers={"idempotency-key": "h-1"})

    assert (first[0], again[0]) == (201, 201)
    assert first[2]["action_id"] == again[2]["action_id"]


def test_an_unsigned_actions_api_call_gets_the_http_apis_own_403(cloud):
    email = _email("x@example.com")
    status, _, body = signed_call(cloud.actions_api_url, "POST", email, signed=False)

    assert (status, body) == (403, {"message": "Forbidden"})


def test_a_missing_route_gets_the_http_apis_own_404(cloud):
    assert _send(f"{_root(cloud)}/nowhere") == (404, {"message": "Not Found"})
    # No stage segment: /v1/... is a path like any other.
    assert _send(f"{_root(cloud)}/v1/health") == (404, {"message": "Not Found"})


def _token(cloud, username: str, kind: str = "IdToken") -> str:
    [user] = [u for u in cloud.console_users if u.username == username]
    [pool] = cloud.deployment.user_pools.values()
    [client] = cloud.deployment.user_pool_clients.values()
    return str(sign_in(pool, client, user, REGION)[kind])


def test_the_console_api_takes_an_id_token_with_or_without_bearer(cloud):
    token = _token(cloud, "operator")
    url = f"{cloud.console_url}api/me"

    for authorization in (token, f"Bearer {token}"):
        status, me = _send(url, headers={"Authorization": authorization})
        assert status == 200, me
        # The JWT authorizer passes cognito:groups as "[operators]": the function reads it.
        assert (me["username"], me["groups"], me["operator"]) == ("operator", ["operators"], True)


def test_the_console_api_takes_the_clients_access_token_too_as_a_jwt_authorizer_does(cloud):
    token = _token(cloud, "viewer", "AccessToken")

    status, me = _send(f"{cloud.console_url}api/me", headers={"Authorization": f"Bearer {token}"})

    assert status == 200, me
    assert (me["username"], me["operator"]) == ("viewer", False)


@pytest.mark.parametrize("authorization", [None, "not-a-token"])
def test_the_console_api_without_a_valid_token_gets_the_http_apis_own_401(cloud, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    status, body = _send(f"{cloud.console_url}api/me", headers=headers)

    assert (status, body) == (401, {"message": "Unauthorized"})


def test_the_console_page_is_served_without_a_stage(cloud):
    status, config = _send(f"{cloud.console_url}config.json")

    assert status == 200
    assert config["api_base"] == "/console/api"
