"""A local stand-in for API Gateway (REST API, Lambda proxy integration).

Serves HTTP on 127.0.0.1 (werkzeug's server), turns each request into the proxy event
API Gateway would build (``lambda_runtime.rest_proxy_event``), hands it to
``invoke(function_name, event)`` and writes the proxy response back. As on API Gateway:
paths with or without the stage prefix; an unknown route is ``403 Missing
Authentication Token``; a body over ``max_body_bytes`` is ``413``; a function error or
a response that is not a proxy response is ``502``; bodies matching a binary media type
arrive base64-encoded. These answers of the front's own go through the API's gateway
responses (``GatewayResponse``, from the template's ``AWS::ApiGateway::GatewayResponse``
resources) as API Gateway's do: the type's own response, else ``DEFAULT_4XX`` or
``DEFAULT_5XX``, else API Gateway's built-in ``{"message": ...}``. A route whose method
requires AWS_IAM gets its request's SigV4 signature checked first (``sigv4``: 403
unless signed by a known key) and its caller in ``requestContext.identity``; one with a
Cognito user pools authorizer gets its ID token checked (``cognito``: 401 unless one of
the pools' and not expired) and its claims in ``requestContext.authorizer.claims``.
With ``flavour="http"`` it stands in for an HTTP API instead (``apiFlavour=http``): the
``$default`` stage (no stage in the path), payload format 1.0 events (header names in
lower case, a body base64-encoded unless its type is text), JWT routes checked as the
Cognito ones, and the HTTP API's own answers: ``404 {"message": "Not Found"}`` for no
route, ``403 {"message": "Forbidden"}`` for an unsigned request to an IAM route, ``401
{"message": "Unauthorized"}`` for a missing or invalid token, ``500 {"message":
"Internal Server Error"}`` for a function error; it has no gateway responses. Not
emulated: the 29 s integration timeout, IAM policies, other authorizers (a route that
has one is refused), API keys, throttling, CORS, and API Gateway's full route
precedence.
Why: docs/decisions/0031-the-gateways-own-answers-in-the-receivers-shape.md,
0052-the-local-cloud-checks-sigv4-signatures.md,
0069-the-api-flavour-is-a-setting.md
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from infra.local import cognito, sigv4
from infra.local.lambda_runtime import rest_proxy_event

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ANY_METHOD = "ANY"
# What a page handler answers: status, headers, body.
PageAnswer = tuple[int, list[tuple[str, str]], bytes]
# The methods' AuthorizationType the front can check: none, SigV4 signatures, and
# Cognito user pools' ID tokens.
IAM = "AWS_IAM"
COGNITO = "COGNITO_USER_POOLS"
JWT = "JWT"  # an HTTP API's JWT authorizer (the console's, with apiFlavour=http)
AUTHORIZATIONS = ("NONE", IAM, COGNITO, JWT)
# An HTTP API's stage whose URL has no stage segment.
DEFAULT_STAGE = "$default"
# What an HTTP API passes as text (isBase64Encoded false); any other body is base64.
# AWS does not list the types: these are the text types it is seen to pass as text.
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
# Headers the front computes itself; a function's values for them are ignored.
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class Route:
    """One API Gateway method: ``method`` (or ``ANY``) on ``resource``, calling ``function``."""

    method: str
    resource: str  # "/webhooks/{source}", "/{proxy+}"
    function: str
    stage: str = "v1"
    authorization: str = "NONE"  # or AWS_IAM: the request must be signed (SigV4)
    # COGNITO_USER_POOLS and JWT: the issuers (one per pool) whose tokens the route takes.
    issuers: tuple[str, ...] = ()
    # JWT: the audiences (app client ids) a token must be for.
    audiences: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        if self.authorization in (COGNITO, JWT) and not self.issuers:
            raise ValueError(f"{self.method} {self.resource}: a Cognito route names its pools")
        if self.authorization not in AUTHORIZATIONS:
            # Served without its check, the route would be open: refuse to serve it.
            raise ValueError(
                f"{self.method} {self.resource}: the local front checks {AUTHORIZATIONS} "
                f"authorization, not {self.authorization}"
            )
        if not self.resource.startswith("/"):
            raise ValueError(f"resource must start with '/': {self.resource!r}")
        if "+}" in self.resource.rstrip("/")[:-2]:
            raise ValueError(f"a greedy {{param+}} must be the last segment: {self.resource}")

    @property
    def rule(self) -> str:
        """The resource as a werkzeug rule: ``/a/{b}/{c+}`` is ``/a/<b>/<path:c>``."""
        return re.sub(r"\{(\w+)(\+?)\}", lambda m: f"<{'path:' * bool(m[2])}{m[1]}>", self.resource)


def _is_function_error(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and "statusCode" not in payload
        and ("errorType" in payload or "errorMessage" in payload)
    )


def _http_api_binary(content_type: str | None) -> bool:
    """Whether an HTTP API base64-encodes a body of ``content_type``: unless it is text."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    textual = media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))
    return not textual


def _media_type_matches(content_type: str | None, patterns: Iterable[str]) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    for raw_pattern in patterns:
        pattern = raw_pattern.strip().lower()
        if pattern == "*/*":
            return True
        if not media:
            continue
        if pattern.endswith("/*"):
            if media.split("/", 1)[0] == pattern[:-2]:
                return True
        elif media == pattern:
            return True
    return False


class _BadResponse(Exception):
    """The function returned something API Gateway cannot turn into a response."""


@dataclass(frozen=True)
class IncomingRequest:
    """A request as it reached the front: its headers as sent, its body read."""

    method: str
    target: str  # the request target: path and query string
    headers: list[tuple[str, str]]
    body: bytes | None
    client_ip: str


@dataclass
class _Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


# $context variables a gateway response template may use here; anything else (another
# variable, a VTL directive) is refused when the response is read, not rendered wrongly.
_TEMPLATE_VARIABLE = re.compile(r"\$(?:\{([\w.]+)\}|([A-Za-z][\w.]*[\w]))")
_RENDERED = {
    "context.error.message",
    "context.error.messageString",
    "context.error.responseType",
    "context.requestId",
}
_HEADER_PARAMETER = "gatewayresponse.header."


@dataclass(frozen=True)
class GatewayResponse:
    """One of the API's gateway responses: what API Gateway answers for an error type.

    ``status_code`` None keeps the type's own status; ``templates`` maps a content
    type to a mapping template; ``headers`` are static response headers.
    """

    response_type: str
    status_code: int | None = None
    templates: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> GatewayResponse:
        """From an ``AWS::ApiGateway::GatewayResponse``'s (resolved) properties.

        Raises ValueError for what the front cannot render as API Gateway would: a
        template with a VTL directive or a variable other than ``$context.error.message``,
        ``messageString``, ``responseType`` and ``$context.requestId``, and a header
        mapped from anything but a static ``'value'``.
        """
        response_type = str(properties["ResponseType"])
        templates = {str(k): str(v) for k, v in (properties.get("ResponseTemplates") or {}).items()}
        for template in templates.values():
            if re.search(r"#(set|if|foreach|else|elseif|end|macro|parse|include)\b", template):
                raise ValueError(f"{response_type}: the local front renders no VTL directives")
            for match in _TEMPLATE_VARIABLE.finditer(template):
                name = match[1] or match[2]
                if name not in _RENDERED:
                    raise ValueError(
                        f"{response_type}: the local front renders ${name} in no template; "
                        f"it renders {', '.join('$' + v for v in sorted(_RENDERED))}"
                    )
        headers = {}
        for key, value in (properties.get("ResponseParameters") or {}).items():
            text = str(value)
            if not key.startswith(_HEADER_PARAMETER) or not (
                len(text) >= 2 and text[0] == text[-1] == "'"
            ):
                raise ValueError(
                    f"{response_type}: the local front sets only static headers "
                    f"(gatewayresponse.header.<name>: \"'value'\"), not {key}: {text}"
                )
            headers[key.removeprefix(_HEADER_PARAMETER)] = text[1:-1]
        status = properties.get("StatusCode")
        return cls(response_type, int(status) if status else None, templates, headers)

    def render(self, content_type: str, values: dict[str, str]) -> bytes:
        """The template for ``content_type`` with the variables in ``values`` filled in."""

        def fill(match: re.Match[str]) -> str:
            return values[match[1] or match[2]]

        return _TEMPLATE_VARIABLE.sub(fill, self.templates[content_type]).encode("utf-8")


class HttpFront:
    """A threaded HTTP server on the loopback interface in front of local functions."""

    def __init__(  # noqa: PLR0913 - keyword-only options: its address, API Gateway's settings
        self,
        routes: list[Route],
        invoke: Callable[[str, dict[str, Any]], Any],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        binary_media_types: Iterable[str] = ("*/*",),
        max_body_bytes: int = 10 * 1024 * 1024,
        gateway_responses: Iterable[GatewayResponse] = (),
        credentials: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        flavour: str = "rest",
        log: Callable[[str], None] = print,
    ) -> None:
        """``credentials`` (access key id -> secret) and ``region`` are what a request to
        an AWS_IAM route must be signed with (infra/local/sigv4.py). ``flavour`` "http"
        answers as an HTTP API does (see the module's docstring)."""
        self.http_api = flavour == "http"
        self.routes = list(routes)
        # Each route with and without its stage; werkzeug puts literal segments before
        # {param} before {param+}, as API Gateway does.
        self._map = Map(
            [
                Rule(prefix + route.rule, endpoint=(i, bool(prefix)), methods=methods)
                for i, route in enumerate(self.routes)
                for prefix in ("", *([f"/{route.stage}"] * (route.stage != DEFAULT_STAGE)))
                for methods in [None if route.method == ANY_METHOD else [route.method]]
            ],
            strict_slashes=False,
            merge_slashes=False,
        )
        self._invoke = invoke
        self._host = host
        self._port = port
        self.binary_media_types = tuple(binary_media_types)
        self.max_body_bytes = max_body_bytes
        self.gateway_responses = {r.response_type: r for r in gateway_responses}
        self.credentials = dict(credentials or {})
        self.region = region
        self._log = log
        # The console's page and sign-in (infra/local/console_front.py), answered before
        # the routes: it returns None for any request that is not its own.
        self.pages: Callable[[IncomingRequest], PageAnswer | None] | None = None
        self._server: ThreadedWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            return
        # What make_server(threaded=True) builds; its request threads are daemons.
        server = ThreadedWSGIServer(self._host, self._port, self._wsgi, _RequestHandler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"http-front-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> HttpFront:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("HttpFront is not started")
        return self._server.server_port

    @property
    def stage(self) -> str:
        return self.routes[0].stage if self.routes else "v1"

    @property
    def url(self) -> str:
        """The stage's base URL, e.g. ``http://127.0.0.1:8080/v1/`` (``/`` for an HTTP
        API's ``$default`` stage)."""
        stage = "" if self.stage == DEFAULT_STAGE else f"{self.stage}/"
        return f"http://{self._host}:{self.port}/{stage}"

    # -- request handling (called from the server's threads) -----------------------------

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        target = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        request = Request(environ)
        # werkzeug's server de-chunks a chunked body; a limit it enforces on one would
        # truncate it, so read one byte past the limit and see.
        limit = self.max_body_bytes
        too_long = (request.content_length or 0) > limit
        body = None if too_long else request.stream.read(limit + 1) or None
        if too_long or (body is not None and len(body) > limit):
            # Read what is left first: a client still sending would otherwise see the
            # connection reset instead of this answer.
            _drain(request.stream)
            reply = self.gateway_reply(
                "REQUEST_TOO_LARGE",
                413,
                "Request Entity Too Large" if self.http_api else "Request Too Long",
            )
        else:
            try:
                incoming = IncomingRequest(
                    method=request.method,
                    target=target,
                    headers=environ["local.headers"],
                    body=body,
                    client_ip=request.remote_addr or "127.0.0.1",  # always set on a TCP server
                )
                reply = self.handle(incoming)
            except Exception as exc:  # a bug here must not kill the connection silently
                self._log(f"http front error: {type(exc).__name__}: {exc}")
                reply = self.gateway_reply("DEFAULT_5XX", 500, self._internal_error)
        # Logged before the response goes out, so a client that has its response can rely
        # on the line being there.
        elapsed = (time.perf_counter() - started) * 1000
        self._log(f"{request.method} {target} {reply.status} {elapsed:.1f}ms")
        response = Response(reply.body, reply.status, reply.headers)
        return response(environ, start_response)

    def resolve(self, method: str, path: str) -> tuple[Route, str, dict[str, str]] | None:
        """The route, the stage-less path and the path parameters for a request path."""
        try:
            (index, staged), params = self._map.bind("local").match(unquote(path), method.upper())
        except HTTPException:  # no such path, or not with this method
            return None
        route = self.routes[index]
        path = path.removeprefix(f"/{route.stage}") if staged else path
        # The rules' converters (default and path) give strings.
        return route, "/" + path.strip("/"), {name: str(value) for name, value in params.items()}

    def handle(self, request: IncomingRequest) -> _Reply:
        """What API Gateway would answer ``request`` with, the route's function invoked."""
        if self.pages is not None and (page := self.pages(request)) is not None:
            return _Reply(*page)
        parts = urlsplit(request.target)
        resolved = self.resolve(request.method, parts.path)
        if resolved is None and self.http_api:
            return _json_reply(404, {"message": "Not Found"})
        if resolved is None:
            return self.gateway_reply(
                "MISSING_AUTHENTICATION_TOKEN",
                403,
                "Missing Authentication Token",
                error_type="MissingAuthenticationTokenException",
            )
        route, path, params = resolved
        checked = self._authenticate(route, request)
        if isinstance(checked, _Reply):
            return checked
        identity, claims = checked
        event = self._event(route, request, path, params)
        event["requestContext"]["identity"].update(identity)
        if claims is not None:
            event["requestContext"]["authorizer"] = {"claims": claims}
            if self.http_api:
                event["requestContext"]["authorizer"]["scopes"] = None
        request_id = event["requestContext"]["requestId"]
        try:
            payload = self._invoke(route.function, event)
            if _is_function_error(payload):
                raise _BadResponse(f"function error: {payload.get('errorType')}")
            reply = _proxy_reply(payload)
        except Exception as exc:
            status = 500 if self.http_api else 502
            self._log(f"{status} {route.function}: {type(exc).__name__}: {exc}")
            # A malformed proxy response has no type of its own: DEFAULT_5XX shapes it.
            reply = self.gateway_reply(
                "DEFAULT_5XX",
                status,
                self._internal_error,
                error_type="InternalServerErrorException",
                request_id=request_id,
            )
        reply.headers.append(("x-amzn-RequestId", request_id))
        return reply

    def _authenticate(
        self, route: Route, request: IncomingRequest
    ) -> tuple[dict[str, Any], dict[str, str] | None] | _Reply:
        """The caller's identity (an IAM route) and claims (a token's route), or the
        refusal API Gateway answers with."""
        identity: dict[str, Any] = {}
        if route.authorization == IAM:
            try:
                identity = sigv4.verify(
                    method=request.method,
                    target=request.target,
                    headers=request.headers,
                    body=request.body,
                    credentials=self.credentials,
                    region=self.region,
                )
            except sigv4.Refusal as refusal:
                if self.http_api:  # HTTP APIs say no more than this to an unsigned request
                    missing = refusal.response_type == "MISSING_AUTHENTICATION_TOKEN"
                    message = "Forbidden" if missing else refusal.message
                    return _json_reply(403, {"message": message})
                return self.gateway_reply(
                    refusal.response_type, 403, refusal.message, error_type=refusal.error_type
                )
        claims: dict[str, str] | None = None
        if route.authorization in (COGNITO, JWT):
            try:
                claims = cognito.verify(
                    request.headers, issuers=route.issuers, audiences=route.audiences
                )
            except cognito.Refusal as refusal:
                if self.http_api:
                    return _json_reply(401, {"message": "Unauthorized"})
                return self.gateway_reply(
                    refusal.response_type, 401, refusal.message, error_type=refusal.error_type
                )
        return identity, claims

    @property
    def _internal_error(self) -> str:
        return "Internal Server Error" if self.http_api else "Internal server error"

    def gateway_reply(
        self,
        response_type: str,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        request_id: str | None = None,
    ) -> _Reply:
        """API Gateway's own answer of ``response_type`` (default ``status`` and
        ``message``), through the API's gateway response for the type, else its
        DEFAULT_4XX or DEFAULT_5XX, else as API Gateway answers with none configured."""
        fallback = self.gateway_responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        configured = self.gateway_responses.get(response_type) or fallback
        if configured is None:
            return _json_reply(status, {"message": message}, error_type=error_type)
        # A status set on the default response applies to every type without its own.
        status = configured.status_code or (fallback and fallback.status_code) or status
        headers = [(name, value) for name, value in configured.headers.items()]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        if not configured.templates:
            body = json.dumps({"message": message}).encode("utf-8")
            return _Reply(status, [("Content-Type", "application/json"), *headers], body)
        content_type = "application/json"
        if content_type not in configured.templates:
            content_type = next(iter(configured.templates))
        body = configured.render(
            content_type,
            {
                "context.error.message": message,
                "context.error.messageString": json.dumps(message),
                "context.error.responseType": response_type,
                "context.requestId": request_id or "",
            },
        )
        return _Reply(status, [("Content-Type", content_type), *headers], body)

    def _event(
        self, route: Route, request: IncomingRequest, path: str, params: dict[str, str]
    ) -> dict[str, Any]:
        """The proxy event of ``request`` on ``route``; ``path`` is stage-less."""
        headers, body = request.headers, request.body
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            single[name] = value  # API Gateway keeps the last value of a repeated header
            multi.setdefault(name, []).append(value)
        if self.http_api:  # payload format 1.0 of an HTTP API: header names in lower case
            single = {name.lower(): value for name, value in single.items()}
            multi = {name.lower(): values for name, values in multi.items()}
        content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
        binary = (
            _http_api_binary(content_type)
            if self.http_api
            else _media_type_matches(content_type, self.binary_media_types)
        )
        if body is not None and not binary:
            body = body.decode("utf-8", "replace").encode("utf-8")
        event = rest_proxy_event(
            request.method.upper(),
            path,
            resource=route.resource,
            path_parameters=params or None,
            headers=single,
            body=body,
            base64_encoded=binary,
            stage=route.stage,
        )
        event["multiValueHeaders"] = multi
        if not single:
            event["headers"] = event["multiValueHeaders"] = None
        pairs = parse_qsl(urlsplit(request.target).query, keep_blank_values=True)
        if pairs:
            qs_multi: dict[str, list[str]] = {}
            for name, value in pairs:
                qs_multi.setdefault(name, []).append(value)
            event["queryStringParameters"] = {n: v[-1] for n, v in qs_multi.items()}
            event["multiValueQueryStringParameters"] = qs_multi
        event["requestContext"]["identity"]["sourceIp"] = request.client_ip
        if self.http_api:
            event["version"] = "1.0"
            if route.stage == DEFAULT_STAGE:
                event["requestContext"]["path"] = path
        return event


def _drain(stream: Any, chunk: int = 1 << 20, limit: int = 64 << 20) -> None:
    """Read and drop up to ``limit`` more bytes of a request body."""
    read = 0
    while read < limit and (data := stream.read(chunk)):
        read += len(data)


def _json_reply(status: int, body: dict[str, Any], *, error_type: str | None = None) -> _Reply:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return _Reply(status, headers, json.dumps(body).encode("utf-8"))


def _proxy_reply(payload: Any) -> _Reply:
    """A Lambda proxy response → status, headers, body (API Gateway's merge rules)."""
    if not isinstance(payload, dict):
        raise _BadResponse(f"not a proxy response: {type(payload).__name__}")
    raw_status = payload.get("statusCode")
    if raw_status is None:
        raise _BadResponse("bad statusCode None")
    try:
        status = int(raw_status)
    except (TypeError, ValueError):
        raise _BadResponse(f"bad statusCode {raw_status!r}") from None
    if not 100 <= status <= 599:
        raise _BadResponse(f"bad statusCode {status}")

    return _Reply(status, _response_headers(payload), _response_body(payload))


def _response_headers(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """``headers`` merged into ``multiValueHeaders``; the latter wins for a shared name."""
    headers: list[tuple[str, str]] = []
    multi = payload.get("multiValueHeaders") or {}
    single = payload.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise _BadResponse("headers must be objects")
    multi_names = {name.lower() for name in multi}
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((name, str(value)))
    for name, value in single.items():
        if name.lower() not in multi_names:
            headers.append((name, str(value)))
    headers = [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP]
    if not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return headers


def _response_body(payload: dict[str, Any]) -> bytes:
    raw = payload.get("body")
    if raw is None:
        body = b""
    elif not isinstance(raw, str):
        raise _BadResponse(f"body must be a string, got {type(raw).__name__}")
    elif payload.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _BadResponse(f"body is not base64: {exc}") from None
    else:
        body = raw.encode("utf-8")
    return body


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, keeping the headers as sent (WSGI joins repeats and re-cases
    names; API Gateway does neither) and leaving the logging to the front."""

    server_version = "LocalApiGateway"

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["local.headers"] = list(self.headers.items())
        return environ

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Silenced: the front logs one line per request itself."""
