"""The console's page and Cognito's managed login, served by the local cloud's HTTP front.

Deployed, the page (``web/``) is a static site and signs in with Cognito's managed login:
authorization code with PKCE against ``/oauth2/authorize`` and ``/oauth2/token`` on the
user pool's domain. moto serves no managed login pages, so this module stands in for the
two endpoints, and the page runs the same code path in both places:

- ``GET /oauth2/authorize`` checks the request as Cognito does (``response_type=code``,
  a known ``client_id``, a ``redirect_uri`` the client allows or this front's own
  console, an S256 ``code_challenge``) and shows a sign-in form;
- ``POST /oauth2/authorize`` signs the user in with moto's ``InitiateAuth``
  (``USER_PASSWORD_AUTH``) and redirects to ``redirect_uri`` with a one-time ``code``
  and the caller's ``state``;
- ``POST /oauth2/token`` exchanges the code and its PKCE verifier (once, within five
  minutes, for the same client and redirect URI) for moto's tokens;
- ``GET /logout`` forgets nothing (the page holds the tokens) and redirects to
  ``logout_uri`` when it is this front's console.

It serves ``web/`` under ``/console/`` (and ``/console/config.json``, the page's settings)
with a strict Content-Security-Policy: everything from this origin only, no inline script
or style, no framing. Requests it does not claim (``/console/api/...``, every API route)
return None and go on to the API routes.
Why: docs/decisions/0063-the-console-signs-in-with-a-local-managed-login-stand-in.md
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

if TYPE_CHECKING:
    from infra.local.http_front import IncomingRequest

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
CONSOLE_PATH = "/console/"
# What the page and the stand-in's form may load and where they may send things: this
# origin only (deployed, connect-src adds the user pool's domain for the token call).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
CODE_LIFETIME = 300.0  # seconds, as Cognito's authorization codes
Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: dict[str, Any]
    issued: float


@dataclass
class ConsoleFront:
    """Answers the page's and the managed login's requests; None for anything else.

    ``cognito`` is a cognito-idp client (moto's); ``user_pool_id`` and ``client_id`` the
    console's pool and its app client; ``settings`` are merged into ``config.json``.
    """

    cognito: Any
    user_pool_id: str
    client_id: str
    region: str = "us-east-1"
    stage: str = "v1"  # the page answers at /console/ and, as deployed, /{stage}/console/
    settings: dict[str, Any] = field(default_factory=dict)
    web_root: Path = WEB_ROOT
    clock: Callable[[], float] = time.monotonic
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_stack(
        cls, outputs: dict[str, str], *, region: str, stage: str = "v1"
    ) -> ConsoleFront | None:
        """The front for the deployed stack's console user pool (moto's), or None without
        one. The pool and its client come from the stack's outputs (``ConsoleUserPoolId``,
        ``ConsoleClientId``), else they are the first ones moto holds."""
        import boto3

        cognito = boto3.client("cognito-idp", region_name=region)
        pool = outputs.get("ConsoleUserPoolId")
        client = outputs.get("ConsoleClientId")
        if pool is None:
            pools = cognito.list_user_pools(MaxResults=10)["UserPools"]
            if not pools:
                return None
            pool = pools[0]["Id"]
        if client is None:
            clients = cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=10)
            if not clients["UserPoolClients"]:
                return None
            client = clients["UserPoolClients"][0]["ClientId"]
        return cls(cognito=cognito, user_pool_id=pool, client_id=client, region=region, stage=stage)

    def __call__(self, request: IncomingRequest) -> Answer | None:
        """The answer to ``request``, or None when it is not the page's or the login's."""
        method, body = request.method.upper(), request.body
        parts = urlsplit(request.target)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        host = next((v for n, v in request.headers if n.lower() == "host"), "127.0.0.1")
        if path == "/oauth2/authorize":
            if method == "GET":
                return self._authorize_form(query, host)
            if method == "POST":
                return self._sign_in(_form(body), host)
            return _text(405, "method not allowed")
        if path == "/oauth2/token":
            if method != "POST":
                return _text(405, "method not allowed")
            return self._token(_form(body), host)
        if path == "/logout":
            return self._logout(query, host)
        staged = f"/{self.stage}{CONSOLE_PATH}"
        prefix = f"/{self.stage}" if (path + "/").startswith(staged) else ""
        page = path.removeprefix(prefix)
        if page == CONSOLE_PATH.rstrip("/"):
            return 301, [("Location", prefix + CONSOLE_PATH)], b""
        if page.startswith(CONSOLE_PATH) and not page.startswith(CONSOLE_PATH + "api/"):
            if method not in ("GET", "HEAD"):
                return _text(405, "method not allowed")
            return self._static(page.removeprefix(CONSOLE_PATH), host, prefix)
        return None

    # -- the page -------------------------------------------------------------------------

    def config(self, host: str, prefix: str = "") -> dict[str, Any]:
        """The page's settings (docs/reference/console-api.md): the login is this front;
        ``prefix`` is the stage the page was loaded under ("" or "/v1")."""
        origin = f"http://{host}"
        return {
            "region": self.region,
            "user_pool_id": self.user_pool_id,
            "client_id": self.client_id,
            "login_base_url": origin,
            "redirect_uri": f"{origin}{prefix}{CONSOLE_PATH}",
            "logout_uri": f"{origin}{prefix}{CONSOLE_PATH}",
            "scopes": ["openid", "email", "profile"],
            "api_base": f"{prefix}/console/api",
            "local": True,
            **self.settings,
        }

    def _static(self, name: str, host: str, prefix: str = "") -> Answer:
        if name == "config.json":
            body = json.dumps(self.config(host, prefix)).encode()
            return 200, _headers("application/json", cache="no-store"), body
        name = name or "index.html"
        root = self.web_root.resolve()
        candidate = (root / name).resolve()
        # Only files inside web/ with a known type; no listing, no dot files.
        if (
            not candidate.is_relative_to(root)
            or not candidate.is_file()
            or candidate.suffix not in _TYPES
            or any(part.startswith(".") for part in candidate.relative_to(root).parts)
        ):
            return _text(404, "not found")
        return 200, _headers(_TYPES[candidate.suffix], cache="no-cache"), candidate.read_bytes()

    # -- the managed login's stand-in -------------------------------------------------------

    def _check_request(self, params: dict[str, str], host: str) -> str | None:
        """Why an authorize request is refused, or None (Cognito's checks)."""
        if params.get("response_type") != "code":
            return "response_type must be code"
        if params.get("client_id") != self.client_id:
            return "unknown client_id"
        if not self._redirect_allowed(params.get("redirect_uri", ""), host):
            return "redirect_uri is not one of the client's callback URLs"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "a code_challenge with code_challenge_method S256 is required (PKCE)"
        return None

    def _redirect_allowed(self, uri: str, host: str) -> bool:
        parts = urlsplit(uri)
        own = (CONSOLE_PATH, f"/{self.stage}{CONSOLE_PATH}")
        if parts.scheme == "http" and parts.netloc == host and parts.path in own:
            return True
        client = self.cognito.describe_user_pool_client(
            UserPoolId=self.user_pool_id, ClientId=self.client_id
        )["UserPoolClient"]
        return uri in (client.get("CallbackURLs") or [])

    def _authorize_form(self, params: dict[str, str], host: str, error: str = "") -> Answer:
        refused = self._check_request(params, host)
        if refused:
            return _page(400, "Sign-in refused", f"<p role='alert'>{html.escape(refused)}</p>")
        kept = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                "code_challenge_method", "scope")  # fmt: skip
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
            for name in kept
        )
        alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        form = f"""<p>Local stand-in for Cognito's managed login (moto has none).</p>{alert}
<form method="post" action="/oauth2/authorize" class="signin">{hidden}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="signin">Sign in</button></form>"""
        return _page(401 if error else 200, "Sign in", form)

    def _sign_in(self, form: dict[str, str], host: str) -> Answer:
        refused = self._check_request(form, host)
        if refused:
            return _page(400, "Sign-in refused", f"<p role='alert'>{html.escape(refused)}</p>")
        try:
            answer = self.cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={
                    "USERNAME": form.get("username", ""),
                    "PASSWORD": form.get("password", ""),
                },
            )
        except Exception as exc:  # moto's NotAuthorized, UserNotFound, ... (botocore errors)
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code not in ("NotAuthorizedException", "UserNotFoundException"):
                raise
            return self._authorize_form(form, host, "Incorrect username or password.")
        result = answer.get("AuthenticationResult")
        if not result:
            challenge = answer.get("ChallengeName", "a challenge")
            return self._authorize_form(
                form, host, f"This user must answer {challenge}, which the local stand-in does not."
            )
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=form["redirect_uri"],
                challenge=form["code_challenge"],
                tokens={
                    "id_token": result["IdToken"],
                    "access_token": result["AccessToken"],
                    "refresh_token": result.get("RefreshToken"),
                    "expires_in": result.get("ExpiresIn", 3600),
                    "token_type": "Bearer",
                },
                issued=self.clock(),
            )
        query = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
        location = f"{form['redirect_uri']}?{urlencode(query)}"
        return 302, [("Location", location), *SECURITY_HEADERS], b""

    def _token(self, form: dict[str, str], host: str) -> Answer:
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        with self._lock:
            self._forget_expired()
            grant = self._grants.pop(form.get("code", ""), None)  # one use, right or wrong
        if grant is None:
            return _oauth_error("invalid_grant")
        if form.get("client_id") != grant.client_id:
            return _oauth_error("invalid_client")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if form.get("redirect_uri") != grant.redirect_uri or not secrets.compare_digest(
            challenge.rstrip(b"=").decode(), grant.challenge
        ):
            return _oauth_error("invalid_grant")
        body = json.dumps({k: v for k, v in grant.tokens.items() if v is not None}).encode()
        return 200, _headers("application/json", cache="no-store"), body

    def _logout(self, params: dict[str, str], host: str) -> Answer:
        target = params.get("logout_uri", "")
        if params.get("client_id") == self.client_id and self._redirect_allowed(target, host):
            return 302, [("Location", target), *SECURITY_HEADERS], b""
        return _page(400, "Sign-out refused", "<p role='alert'>unknown client or logout_uri</p>")

    def _forget_expired(self) -> None:
        now = self.clock()
        for code in [c for c, g in self._grants.items() if now - g.issued > CODE_LIFETIME]:
            del self._grants[code]


def _form(body: bytes | None) -> dict[str, str]:
    return dict(parse_qsl((body or b"").decode("utf-8", "replace"), keep_blank_values=True))


def _headers(content_type: str, *, cache: str) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Cache-Control", cache), *SECURITY_HEADERS]


def _text(status: int, message: str) -> Answer:
    return status, _headers("text/plain; charset=utf-8", cache="no-store"), message.encode()


def _oauth_error(error: str) -> Answer:
    body = json.dumps({"error": error}).encode()
    return 400, _headers("application/json", cache="no-store"), body


def _page(status: int, title: str, content: str) -> Answer:
    """A page of the stand-in: the console's own stylesheet, no script."""
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Action Scheduler console</title>
<link rel="stylesheet" href="{CONSOLE_PATH}app.css"></head>
<body class="signin-page"><main><h1>{html.escape(title)}</h1>{content}</main></body></html>"""
    return status, _headers("text/html; charset=utf-8", cache="no-store"), body.encode()
