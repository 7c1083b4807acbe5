"""The local stand-in for Cognito's managed login, and the console page it serves (moto).

The page signs in with the authorization code and PKCE: these tests walk the flow as a
browser does (GET the form, POST the credentials, follow the redirect, POST the code and
the verifier) and check what Cognito checks: the client, the redirect URI, the PKCE
verifier, a code used once; and that the page goes out with its Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest

from infra.local.console_front import CODE_LIFETIME, CONTENT_SECURITY_POLICY, ConsoleFront
from infra.local.http_front import IncomingRequest

HOST = "127.0.0.1:8123"
REDIRECT = f"http://{HOST}/console/"
VERIFIER = "v" * 20 + "-the-verifier-of-this-test-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def front(aws):
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool = cognito.create_user_pool(PoolName="console")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="page", CallbackURLs=["https://console.example.com/console/"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="olivia", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="olivia", Password="Right-pass-1!", Permanent=True
    )
    cognito.create_group(UserPoolId=pool, GroupName="operators")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="olivia", GroupName="operators")
    # Another pool first: the front takes the one the stack's outputs name.
    cognito.create_user_pool(PoolName="another")
    outputs = {"ConsoleUserPoolId": pool, "ConsoleClientId": client}
    found = ConsoleFront.for_stack(outputs, region="us-east-1")
    assert found is not None and (found.user_pool_id, found.client_id) == (pool, client)
    found.clock = Clock()
    return found


def _request(front, method: str, target: str, form: dict[str, str] | None = None):
    body = urlencode(form).encode() if form is not None else None
    headers = [("Host", HOST)]
    if form is not None:
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    answer = front(IncomingRequest(method, target, headers, body, "127.0.0.1"))
    assert answer is not None, f"{method} {target} was not the front's"
    status, header_list, content = answer
    return status, dict(header_list), content


def _authorize_params(front, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": front.client_id,
        "redirect_uri": REDIRECT,
        "state": "state-123",
        "code_challenge": CHALLENGE.decode(),
        "code_challenge_method": "S256",
        "scope": "openid email profile",
    }
    params.update(overrides)
    return params


def _code(front, **overrides: str) -> str:
    form = {**_authorize_params(front, **overrides), "username": "olivia"}
    status, headers, _ = _request(
        front, "POST", "/oauth2/authorize", {**form, "password": "Right-pass-1!"}
    )
    assert status == 302
    location = urlsplit(headers["Location"])
    query = parse_qs(location.query)
    assert query["state"] == [overrides.get("state", "state-123")]
    return query["code"][0]


def _exchange(front, code: str, **overrides: str):
    form = {
        "grant_type": "authorization_code",
        "client_id": front.client_id,
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **overrides,
    }
    status, headers, body = _request(front, "POST", "/oauth2/token", form)
    return status, headers, json.loads(body)


def test_without_a_user_pool_there_is_no_console(aws):
    assert ConsoleFront.for_stack({}, region="us-east-1") is None


def test_the_form_carries_the_request_and_escapes_it(front):
    params = _authorize_params(front, state='"><script>alert(1)</script>')
    status, headers, body = _request(front, "GET", f"/oauth2/authorize?{urlencode(params)}")
    assert status == 200
    page = body.decode()
    assert 'name="username"' in page and 'type="password"' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_code_and_verifier_give_tokens_with_the_users_groups(front):
    code = _code(front)
    status, headers, tokens = _exchange(front, code)
    assert status == 200, tokens
    assert headers["Cache-Control"] == "no-store"
    assert tokens["token_type"] == "Bearer" and tokens["access_token"]
    claims = tokens["id_token"].split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload["cognito:groups"] == ["operators"]
    assert payload["aud"] == front.client_id


def test_a_code_is_used_once(front):
    code = _code(front)
    assert _exchange(front, code)[0] == 200
    status, _, body = _exchange(front, code)
    assert (status, body) == (400, {"error": "invalid_grant"})


def test_a_wrong_verifier_gets_nothing_and_spends_the_code(front):
    code = _code(front)
    assert _exchange(front, code, code_verifier="x" * 43)[2] == {"error": "invalid_grant"}
    assert _exchange(front, code)[2] == {"error": "invalid_grant"}


def test_the_code_is_for_its_redirect_uri_and_client(front):
    code = _code(front)
    assert _exchange(front, code, redirect_uri="http://127.0.0.1:9/console/")[0] == 400
    code = _code(front)
    assert _exchange(front, code, client_id="another")[2] == {"error": "invalid_client"}


def test_a_code_expires(front):
    code = _code(front)
    front.clock.now += CODE_LIFETIME + 1
    assert _exchange(front, code)[2] == {"error": "invalid_grant"}


def test_a_wrong_password_shows_the_form_again_with_no_code(front):
    form = {**_authorize_params(front), "username": "olivia", "password": "wrong"}
    status, headers, body = _request(front, "POST", "/oauth2/authorize", form)
    assert status == 401 and "Location" not in headers
    assert "Incorrect username or password." in body.decode()
    form["username"] = "nobody"
    assert _request(front, "POST", "/oauth2/authorize", form)[0] == 401


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"redirect_uri": "https://evil.example/console/"}, "redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:9999/console/"}, "redirect_uri"),
        ({"client_id": "someone-else"}, "client_id"),
        ({"response_type": "token"}, "response_type"),
        ({"code_challenge_method": "plain"}, "PKCE"),
        ({"code_challenge": ""}, "PKCE"),
    ],
)
def test_what_cognito_refuses_is_refused(front, override, reason):
    params = _authorize_params(front, **override)
    status, _, body = _request(front, "GET", f"/oauth2/authorize?{urlencode(params)}")
    assert status == 400 and reason in body.decode()
    form = {**params, "username": "olivia", "password": "Right-pass-1!"}
    status, headers, _ = _request(front, "POST", "/oauth2/authorize", form)
    assert status == 400 and "Location" not in headers


def test_the_clients_own_callback_urls_are_allowed(front):
    code = _code(front, redirect_uri="https://console.example.com/console/")
    assert code


def test_the_page_and_its_settings_with_the_policy(front):
    status, headers, body = _request(front, "GET", "/console/")
    assert status == 200 and b'<script type="module" src="app.js">' in body
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = _request(front, "GET", "/console/config.json")
    config = json.loads(body)
    assert config["client_id"] == front.client_id
    assert config["login_base_url"] == f"http://{HOST}" and config["redirect_uri"] == REDIRECT
    assert config["api_base"] == "/console/api" and config["local"] is True
    status, headers, _ = _request(front, "GET", "/console/views/actions.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")


def test_the_page_under_the_stage_as_deployed(front):
    status, _, body = _request(front, "GET", "/v1/console/")
    assert status == 200 and b'src="app.js"' in body
    assert _request(front, "GET", "/v1/console")[1]["Location"] == "/v1/console/"
    config = json.loads(_request(front, "GET", "/v1/console/config.json")[2])
    assert config["redirect_uri"] == f"http://{HOST}/v1/console/"
    assert config["api_base"] == "/v1/console/api"
    assert _code(front, redirect_uri=f"http://{HOST}/v1/console/")
    assert front(IncomingRequest("GET", "/v1/console/api/me", [], None, "127.0.0.1")) is None


@pytest.mark.parametrize(
    "target",
    ["/console/../pyproject.toml", "/console/%2e%2e/pyproject.toml", "/console/nothing.js"],
)
def test_nothing_outside_web_is_served(front, target):
    assert _request(front, "GET", target)[0] == 404


def test_the_api_and_other_routes_are_not_the_fronts(front):
    for target in ("/console/api/actions", "/v1/actions", "/webhooks/github"):
        assert front(IncomingRequest("GET", target, [("Host", HOST)], None, "127.0.0.1")) is None


def test_the_page_has_no_inline_script_or_style():
    from infra.local.console_front import WEB_ROOT

    for path in WEB_ROOT.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert "<style" not in text and " style=" not in text, path
    for path in WEB_ROOT.rglob("*.js"):
        text = path.read_text()
        assert "innerHTML" not in text.replace("nothing in the console assigns innerHTML", "")
        assert "insertAdjacentHTML" not in text and "document.write" not in text, path
        assert "eval(" not in text and "new Function" not in text, path
