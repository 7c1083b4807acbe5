"""The local API Gateway front: real HTTP on 127.0.0.1 in, REST proxy events out."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import urllib.error
import urllib.request

import pytest

from infra.local.http_front import GatewayResponse, HttpFront, Route
from infra.local.process_runtime import FunctionSpec, ProcessRuntime

ROUTES = [
    Route("POST", "/webhooks/{source}", "Webhook"),
    Route("POST", "/webhooks/special", "Special"),
    Route("ANY", "/files/{key+}", "Files"),
    Route("GET", "/health", "Health"),
]


class Recorder:
    """A fake function: records each event and answers with the event as JSON."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.response: object = None
        self.raises: Exception | None = None

    def __call__(self, function: str, event: dict):
        self.calls.append((function, event))
        if self.raises is not None:
            raise self.raises
        if self.response is not None:
            return self.response
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "body": json.dumps({"function": function, "event": event}),
            "isBase64Encoded": False,
        }

    @property
    def event(self) -> dict:
        return self.calls[-1][1]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def logs() -> list[str]:
    return []


@pytest.fixture
def front(recorder, logs):
    server = HttpFront(ROUTES, recorder, log=logs.append)
    server.start()
    yield server
    server.stop()


def request(
    front: HttpFront,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    url = f"http://127.0.0.1:{front.port}{path}"
    assert url.startswith("http://127.0.0.1:")
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


def test_url_is_the_stage_base_on_loopback(front):
    assert front.url == f"http://127.0.0.1:{front.port}/v1/"
    assert front.port > 0


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_path_parameters_with_and_without_the_stage(front, recorder, prefix):
    status, _, body = request(front, f"{prefix}/webhooks/github", method="POST", body=b"{}")

    assert status == 200
    function, event = recorder.calls[-1]
    assert function == "Webhook"
    assert event["resource"] == "/webhooks/{source}"
    assert event["path"] == "/webhooks/github"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"source": "github"}
    assert event["requestContext"]["stage"] == "v1"
    assert event["requestContext"]["path"] == "/v1/webhooks/github"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert json.loads(body)["event"]["pathParameters"] == {"source": "github"}


def test_literal_segments_win_over_parameters(front, recorder):
    request(front, "/v1/webhooks/special", method="POST", body=b"x")
    assert recorder.calls[-1][0] == "Special"
    assert recorder.event["pathParameters"] is None
    request(front, "/v1/webhooks/specia", method="POST", body=b"x")
    assert recorder.calls[-1][0] == "Webhook"


def test_greedy_parameters_take_the_rest_of_the_path(front, recorder):
    status, _, _ = request(front, "/v1/files/a/b%20c/d.txt", method="DELETE")
    assert status == 200
    assert recorder.calls[-1][0] == "Files"
    assert recorder.event["pathParameters"] == {"key": "a/b c/d.txt"}
    assert recorder.event["httpMethod"] == "DELETE"
    assert recorder.event["body"] is None
    assert recorder.event["isBase64Encoded"] is False


def test_arbitrary_bytes_round_trip_base64(front, recorder):
    payload = bytes(range(256)) + b"\xff\xfe\x00 not utf-8 \xc3\x28"
    recorder.response = None

    def echo_bytes(function, event):
        recorder.calls.append((function, event))
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": event["body"],
            "isBase64Encoded": event["isBase64Encoded"],
        }

    front._invoke = echo_bytes
    status, headers, body = request(
        front,
        "/v1/webhooks/bin",
        method="POST",
        body=payload,
        headers={"Content-Type": "application/octet-stream"},
    )

    assert status == 200
    assert recorder.event["isBase64Encoded"] is True
    assert base64.b64decode(recorder.event["body"]) == payload
    assert body == payload
    assert headers["Content-Type"] == "application/octet-stream"


def test_text_bodies_when_the_media_type_is_not_binary(recorder, logs):
    with HttpFront(ROUTES, recorder, binary_media_types=("image/*",), log=logs.append) as front:
        request(
            front,
            "/v1/webhooks/a",
            method="POST",
            body='{"ü": 1}'.encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert recorder.event["isBase64Encoded"] is False
        assert recorder.event["body"] == '{"ü": 1}'

        request(
            front,
            "/v1/webhooks/a",
            method="POST",
            body=b"\x89PNG",
            headers={"Content-Type": "image/png"},
        )
        assert recorder.event["isBase64Encoded"] is True
        assert base64.b64decode(recorder.event["body"]) == b"\x89PNG"


def test_headers_as_received_including_repeats(front, recorder):
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
    try:
        connection.putrequest("POST", "/v1/webhooks/github")
        connection.putheader("X-GitHub-Event", "push")
        connection.putheader("X-Multi", "one")
        connection.putheader("X-Multi", "two")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "2")
        connection.endheaders(b"{}")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()

    assert response.status == 200
    event = recorder.event
    assert event["headers"]["X-GitHub-Event"] == "push"
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert event["multiValueHeaders"]["X-GitHub-Event"] == ["push"]
    assert event["headers"]["Host"] == f"127.0.0.1:{front.port}"


def test_query_string_parameters_single_and_multi(front, recorder):
    request(front, "/v1/health?a=1&a=2&b=&c=x%20y")
    assert recorder.event["queryStringParameters"] == {"a": "2", "b": "", "c": "x y"}
    assert recorder.event["multiValueQueryStringParameters"] == {
        "a": ["1", "2"],
        "b": [""],
        "c": ["x y"],
    }
    request(front, "/v1/health")
    assert recorder.event["queryStringParameters"] is None
    assert recorder.event["multiValueQueryStringParameters"] is None


def test_the_proxy_response_is_written_back(front, recorder):
    recorder.response = {
        "statusCode": 201,
        "headers": {"X-One": "1", "Set-Cookie": "ignored=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x00\x01created").decode(),
        "isBase64Encoded": True,
    }
    connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
    try:
        connection.request("GET", "/v1/health")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 201
    assert body == b"\x00\x01created"
    assert response.getheader("X-One") == "1"
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("x-amzn-RequestId") == recorder.event["requestContext"]["requestId"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nowhere"), ("GET", "/v1/webhooks/github"), ("POST", "/v2/health"), ("GET", "/")],
)
def test_unknown_routes_are_missing_authentication_token(front, recorder, method, path):
    status, headers, body = request(front, path, method=method)
    assert status == 403
    assert json.loads(body) == {"message": "Missing Authentication Token"}
    assert headers["Content-Type"] == "application/json"
    assert recorder.calls == []


def _template_gateway_responses(template: dict) -> list[GatewayResponse]:
    return [
        GatewayResponse.from_properties(resource["Properties"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse"
    ]


@pytest.fixture
def shaped(recorder, logs, synthesized):
    """A front with the stack's own gateway responses, read from its template."""
    template, _ = synthesized
    responses = _template_gateway_responses(template)
    with HttpFront(
        ROUTES, recorder, max_body_bytes=16, gateway_responses=responses, log=logs.append
    ) as server:
        yield server


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nowhere"), ("GET", "/v1/webhooks/github"), ("POST", "/v2/health"), ("GET", "/")],
)
def test_with_the_stacks_gateway_responses_a_missing_route_is_403_missing_authentication_token(
    shaped, recorder, method, path
):
    status, headers, body = request(shaped, path, method=method)
    assert status == 403
    assert json.loads(body)["error"] == "missing_authentication_token"
    assert headers["Content-Type"] == "application/json"
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert recorder.calls == []


def test_with_the_stacks_gateway_responses_a_body_over_the_limit_is_413_json(shaped, recorder):
    status, headers, body = request(shaped, "/v1/webhooks/a", method="POST", body=b"x" * 17)
    assert status == 413
    answer = json.loads(body)
    assert answer["error"] == "payload_too_large"
    assert set(answer) == {"error", "message"}
    assert headers["Content-Type"] == "application/json"
    assert recorder.calls == []


def test_with_the_stacks_gateway_responses_a_function_error_is_502_internal_error(shaped, recorder):
    recorder.response = {"body": "no status code"}
    status, headers, body = request(shaped, "/v1/health")
    assert status == 502  # DEFAULT_5XX sets no status: API Gateway's own stays
    assert json.loads(body) == {"error": "internal_error", "message": "Internal server error"}
    assert headers["x-amzn-RequestId"] == recorder.event["requestContext"]["requestId"]


def test_gateway_responses_fall_back_to_the_defaults_and_set_their_headers(recorder, logs):
    responses = [
        GatewayResponse.from_properties(
            {
                "ResponseType": "DEFAULT_4XX",
                "StatusCode": "418",
                "ResponseTemplates": {
                    "application/json": '{"type": "$context.error.responseType", '
                    '"text": "${context.error.message}", "id": "$context.requestId"}'
                },
                "ResponseParameters": {"gatewayresponse.header.Retry-After": "'7'"},
            }
        ),
        GatewayResponse.from_properties({"ResponseType": "REQUEST_TOO_LARGE"}),
    ]
    with HttpFront(
        ROUTES, recorder, max_body_bytes=4, gateway_responses=responses, log=logs.append
    ) as front:
        status, headers, body = request(front, "/v1/nowhere")
        assert status == 418
        assert json.loads(body) == {
            "type": "MISSING_AUTHENTICATION_TOKEN",
            "text": "Missing Authentication Token",
            "id": "",
        }
        assert headers["Retry-After"] == "7"
        # Its own response, with no template: API Gateway's body, the default's status.
        status, _, body = request(front, "/v1/webhooks/a", method="POST", body=b"x" * 5)
        assert (status, json.loads(body)) == (418, {"message": "Request Too Long"})


@pytest.mark.parametrize(
    ("properties", "refused"),
    [
        (
            {"ResponseTemplates": {"application/json": '{"m": "$context.authorizer.x"}'}},
            "$context.authorizer.x",
        ),
        (
            {"ResponseTemplates": {"application/json": "#set($x = 1) {}"}},
            "VTL",
        ),
        (
            {"ResponseParameters": {"gatewayresponse.header.X": "method.request.header.Y"}},
            "static headers",
        ),
    ],
)
def test_what_the_front_cannot_render_is_refused_when_read(properties, refused):
    with pytest.raises(ValueError, match=re.escape(refused)):
        GatewayResponse.from_properties({"ResponseType": "DEFAULT_4XX", **properties})


def test_bodies_over_the_limit_are_413(recorder, logs):
    with HttpFront(ROUTES, recorder, max_body_bytes=16, log=logs.append) as front:
        status, _, _ = request(front, "/v1/webhooks/a", method="POST", body=b"x" * 17)
        assert status == 413
        assert recorder.calls == []
        status, _, _ = request(front, "/v1/webhooks/a", method="POST", body=b"x" * 16)
        assert status == 200
        assert base64.b64decode(recorder.event["body"]) == b"x" * 16


def test_chunked_bodies_are_read_and_limited(recorder, logs):
    with HttpFront(ROUTES, recorder, max_body_bytes=16, log=logs.append) as front:
        for chunks, expected in (([b"abc", b"defg"], 200), ([b"x" * 10, b"y" * 10], 413)):
            connection = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
            try:
                connection.request("POST", "/v1/webhooks/a", body=iter(chunks), encode_chunked=True)
                response = connection.getresponse()
                response.read()
            finally:
                connection.close()
            assert response.status == expected
    assert len(recorder.calls) == 1
    assert base64.b64decode(recorder.event["body"]) == b"abcdefg"


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("boom"),
        {"errorType": "ValueError", "errorMessage": "bad", "stackTrace": []},
        {"body": "no status code"},
        {"statusCode": "teapot"},
        "not a dict",
        {"statusCode": 200, "body": "!!!", "isBase64Encoded": True},
    ],
    ids=["raises", "function-error", "no-status", "bad-status", "not-a-dict", "bad-base64"],
)
def test_function_errors_are_502(front, recorder, logs, failure):
    if isinstance(failure, Exception):
        recorder.raises = failure
    else:
        recorder.response = failure
    status, headers, body = request(front, "/v1/health")
    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}
    assert headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert logs[-1].startswith("GET /v1/health 502 ")


def test_one_log_line_per_request(front, logs):
    request(front, "/v1/health?x=1")
    request(front, "/v1/nowhere")
    assert len(logs) == 2
    assert logs[0].startswith("GET /v1/health?x=1 200 ")
    assert logs[0].endswith("ms")
    assert logs[1].startswith("GET /v1/nowhere 403 ")


def test_stop_frees_the_port(recorder, logs):
    front = HttpFront(ROUTES, recorder, log=logs.append)
    front.start()
    port = front.port
    assert request(front, "/v1/health")[0] == 200

    front.stop()
    front.stop()  # idempotent

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    # The port can be listened on again (with SO_REUSEADDR, as servers do: the
    # connection just served may sit in TIME_WAIT), by a socket and by a new front.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as rebind:
        rebind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rebind.bind(("127.0.0.1", port))
        rebind.listen()
    with HttpFront(ROUTES, recorder, port=port, log=logs.append) as again:
        assert again.port == port
        assert request(again, "/v1/health")[0] == 200
    with pytest.raises(RuntimeError):
        _ = front.url


def test_routes_reject_a_greedy_parameter_before_the_end():
    with pytest.raises(ValueError, match="greedy"):
        Route("GET", "/{proxy+}/x", "F")


def test_end_to_end_with_the_runtime_and_the_real_webhook_handler(logs):
    runtime = ProcessRuntime(log=logs.append)
    runtime.register(
        FunctionSpec(
            "Webhook",
            "functions.handlers.webhook.lambda_handler",
            {"POWERTOOLS_SERVICE_NAME": "local-webhooks"},
            10,
            512,
        )
    )
    try:
        with HttpFront(
            [Route("ANY", "/{proxy+}", "Webhook")], runtime.invoke_payload, log=logs.append
        ) as front:
            status, _, body = request(front, "/v1/no/such/route")
    finally:
        runtime.stop()
    assert status == 404
    assert json.loads(body)["error"] == "not_found"


# --- AWS_IAM routes: the request's SigV4 signature is checked before the function runs ---

KEY, SECRET = "local-key", "local-secret"
IAM_ROUTES = [*ROUTES, Route("POST", "/actions/{action_id}", "Actions", authorization="AWS_IAM")]


@pytest.fixture
def iam_front(recorder, logs, synthesized):
    """A front with an IAM route, the stack's gateway responses and one known key."""
    template, _ = synthesized
    with HttpFront(
        IAM_ROUTES,
        recorder,
        gateway_responses=_template_gateway_responses(template),
        credentials={KEY: SECRET},
        region="eu-west-1",
        log=logs.append,
    ) as server:
        yield server


def _signed(
    front: HttpFront,
    path: str,
    body: bytes = b'{"hook": "a"}',
    *,
    key: str = KEY,
    secret: str = SECRET,
    region: str = "eu-west-1",
    service: str = "execute-api",
    sent_body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """POST ``path`` signed by botocore's SigV4 signer with what is given; the request
    sends ``sent_body`` if given (a body changed after signing)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://127.0.0.1:{front.port}{path}"
    signed = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(key, secret, "a-session-token"), service, region).add_auth(signed)
    return request(
        front,
        path,
        method="POST",
        body=body if sent_body is None else sent_body,
        headers=dict(signed.headers.items()),
    )


def test_a_signed_request_reaches_the_function_with_its_caller(iam_front, recorder):
    status, _, _ = _signed(iam_front, "/v1/actions/a%40b")

    assert status == 200
    identity = recorder.event["requestContext"]["identity"]
    assert identity["userArn"] == f"arn:aws:iam::123456789012:user/{KEY}"
    assert identity["accessKey"] == KEY
    assert recorder.event["pathParameters"] == {"action_id": "a@b"}


def test_a_route_without_iam_takes_requests_unsigned_and_without_a_caller(iam_front, recorder):
    status, _, _ = request(iam_front, "/v1/webhooks/github", method="POST", body=b"{}")

    assert status == 200
    assert "userArn" not in recorder.event["requestContext"]["identity"]


@pytest.mark.parametrize(
    ("case", "changes", "error", "error_type"),
    [
        ("unsigned", None, "missing_authentication_token", "MissingAuthenticationTokenException"),
        ("wrong secret", {"secret": "guess"}, "invalid_signature", "InvalidSignatureException"),
        ("unknown key", {"key": "someone"}, "invalid_signature", "UnrecognizedClientException"),
        ("other region", {"region": "us-east-1"}, "invalid_signature", "InvalidSignatureException"),
        ("other service", {"service": "lambda"}, "invalid_signature", "InvalidSignatureException"),
        (
            "body changed",
            {"sent_body": b'{"hook": "b"}'},
            "invalid_signature",
            "InvalidSignatureException",
        ),
    ],
)
def test_an_unsigned_or_wrongly_signed_request_is_403_and_never_reaches_the_function(
    iam_front, recorder, case, changes, error, error_type
):
    if changes is None:
        status, headers, body = request(iam_front, "/v1/actions/x", method="POST", body=b"{}")
    else:
        status, headers, body = _signed(iam_front, "/v1/actions/x", **changes)

    assert status == 403, case
    answer = json.loads(body)
    assert answer["error"] == error, answer
    assert set(answer) == {"error", "message"}
    assert headers["x-amzn-ErrorType"] == error_type
    assert recorder.calls == []


def test_a_signature_for_another_path_or_an_old_one_is_403(iam_front, recorder):
    import time_machine
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://127.0.0.1:{iam_front.port}/v1/actions/x"
    signed = AWSRequest(method="POST", url=url, data=b"{}")
    with time_machine.travel("2026-01-01T00:00:00Z", tick=False):
        SigV4Auth(Credentials(KEY, SECRET), "execute-api", "eu-west-1").add_auth(signed)
    old = request(
        iam_front, "/v1/actions/x", method="POST", body=b"{}", headers=dict(signed.headers)
    )
    fresh = AWSRequest(method="POST", url=url, data=b"{}")
    SigV4Auth(Credentials(KEY, SECRET), "execute-api", "eu-west-1").add_auth(fresh)
    elsewhere = request(
        iam_front, "/v1/actions/y", method="POST", body=b"{}", headers=dict(fresh.headers)
    )

    assert [(status, json.loads(body)["error"]) for status, _, body in (old, elsewhere)] == [
        (403, "invalid_signature"),
        (403, "invalid_signature"),
    ]
    assert "Signature expired" in json.loads(old[2])["message"]
    assert recorder.calls == []


def test_a_route_with_an_authorizer_the_front_cannot_check_is_refused():
    with pytest.raises(ValueError, match="CUSTOM"):
        Route("GET", "/console", "Console", authorization="CUSTOM")
    # A Cognito route is checked against its pools' issuers: without them, refused.
    with pytest.raises(ValueError, match="names its pools"):
        Route("GET", "/console", "Console", authorization="COGNITO_USER_POOLS")


# --- the HTTP flavour (apiFlavour=http): an HTTP API's $default stage and answers --------

HTTP_ROUTES = [
    Route("POST", "/webhooks/{source}", "Webhook", stage="$default"),
    Route("GET", "/actions", "Actions", stage="$default", authorization="AWS_IAM"),
]


@pytest.fixture
def http_front(recorder, logs):
    server = HttpFront(
        HTTP_ROUTES, recorder, log=logs.append, flavour="http", credentials={"AKID": "secret"}
    )
    server.start()
    yield server
    server.stop()


def test_the_http_flavour_serves_the_default_stage_at_the_root(http_front, recorder):
    assert http_front.url == f"http://127.0.0.1:{http_front.port}/"
    status, _, _ = request(
        http_front, "/webhooks/github", method="POST", body=b"{}", headers={"X-Hub-Thing": "1"}
    )

    assert status == 200
    event = recorder.event
    assert event["version"] == "1.0"
    assert (event["resource"], event["path"]) == ("/webhooks/{source}", "/webhooks/github")
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["path"] == "/webhooks/github"
    # Payload format 1.0 of an HTTP API: header names in lower case.
    assert event["headers"]["x-hub-thing"] == "1"
    assert event["multiValueHeaders"]["x-hub-thing"] == ["1"]


@pytest.mark.parametrize(
    ("content_type", "base64_encoded"),
    [
        ("application/json", False),
        ("application/json; charset=utf-8", False),
        ("text/plain", False),
        ("application/vnd.api+json", False),
        ("application/x-www-form-urlencoded", True),
        ("application/octet-stream", True),
        (None, True),
    ],
)
def test_the_http_flavour_passes_text_as_text_and_the_rest_base64(
    http_front, recorder, content_type, base64_encoded
):
    body = '{"zen": "ünïcode ✓"}'.encode()
    headers = {"Content-Type": content_type} if content_type else {}

    request(http_front, "/webhooks/github", method="POST", body=body, headers=headers)

    event = recorder.event
    assert event["isBase64Encoded"] is base64_encoded
    sent = base64.b64decode(event["body"]) if base64_encoded else event["body"].encode()
    assert sent == body  # byte for byte, either way


def test_the_http_flavour_answers_with_the_http_apis_own_errors(http_front, recorder):
    assert request(http_front, "/nowhere")[::2] == (404, b'{"message": "Not Found"}')
    assert request(http_front, "/v1/webhooks/github", method="POST")[0] == 404
    status, _, body = request(http_front, "/actions")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    assert [function for function, _ in recorder.calls] == []

    recorder.raises = RuntimeError("boom")
    status, _, body = request(http_front, "/webhooks/github", method="POST", body=b"{}")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
