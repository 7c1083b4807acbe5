"""The deployed console page function: the page's files, config.json, the security
headers on every answer, nothing outside its folder."""

from __future__ import annotations

import base64
import json

import pytest

from functions.handlers.console_page import lambda_handler

CONFIG = {
    "region": "eu-west-1",
    "user_pool_id": "eu-west-1_Abc",
    "client_id": "client",
    "login_base_url": "https://pool-123.auth.eu-west-1.amazoncognito.com",
    "api_base": "/v1/console/api",
    "local": False,
}


@pytest.fixture
def web(tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "app.js").write_text("export {};")
    (tmp_path / ".secret").write_text("no")
    (tmp_path.parent / "outside.txt").write_text("outside")
    monkeypatch.setenv("CONSOLE_WEB_DIR", str(tmp_path))
    monkeypatch.setenv("CONSOLE_CONFIG", json.dumps(CONFIG))
    return tmp_path


def _get(path: str, file: str | None = None) -> tuple[int, dict, bytes]:
    event = {"path": path, "pathParameters": {"file": file} if file else None}
    answer = lambda_handler(event, None)  # type: ignore[arg-type]
    assert answer["isBase64Encoded"] is True
    return answer["statusCode"], answer["headers"], base64.b64decode(answer["body"])


def test_the_page_and_its_files_are_served_with_their_types(web):
    status, headers, body = _get("/console/")
    assert status == 200 and body.startswith(b"<!doctype html>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    status, headers, _ = _get("/console/app.js", "app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")


def test_the_page_without_its_slash_redirects_within_the_stage(web):
    status, headers, _ = _get("/console")
    assert status == 301 and headers["Location"] == "console/"


def test_config_json_is_the_stacks_configuration(web):
    status, headers, body = _get("/console/config.json", "config.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == CONFIG


@pytest.mark.parametrize("file", ["../outside.txt", "..%2Foutside.txt", ".secret", "nope.js"])
def test_nothing_outside_the_folder_and_no_hidden_file(web, file):
    status, headers, body = _get(f"/console/{file}", file)
    assert status == 404 and json.loads(body)["error"] == "not_found"
    assert "Content-Security-Policy" in headers


def test_every_answer_has_a_strict_policy_naming_only_the_login_domain(web):
    _, headers, _ = _get("/console/")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' https://pool-123.auth.eu-west-1.amazoncognito.com" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
