"""The console page's files and its ``config.json``, as the deployed page function serves
them (the local cloud's console front serves the same files from ``web/``).

Files come from ``CONSOLE_WEB_DIR`` (the page function's layer, ``/opt``), only those
inside it; ``config.json`` is ``CONSOLE_CONFIG``, written by the stack. Every answer
carries a strict Content-Security-Policy: the page's own files only, and the Cognito
login domain for the token exchange.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
CONFIG = "config.json"
INDEX = "index.html"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def to_proxy(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii"),
            "isBase64Encoded": True,
        }


def web_dir() -> Path:
    """The page's files: the layer deployed, else the project's ``web/`` (local runs)."""
    named = os.environ.get("CONSOLE_WEB_DIR")
    if named and (Path(named) / INDEX).is_file():
        return Path(named)
    return Path(__file__).resolve().parents[3] / "web"


def config() -> dict[str, Any]:
    raw = os.environ.get("CONSOLE_CONFIG") or "{}"
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def security_headers() -> dict[str, str]:
    login = str(config().get("login_base_url") or "")
    origin = ""
    if login:
        parts = urlsplit(login)
        origin = f" {parts.scheme}://{parts.netloc}"
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'{origin}; form-action 'self'{origin}; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "Cache-Control": "no-cache",
    }


def serve(path: str, file: str | None) -> Answer:
    """The answer to ``GET path``: ``file`` is the ``{file+}`` parameter (None for the
    page's own URL)."""
    headers = security_headers()
    if not file:
        if not path.endswith("/"):  # /console -> console/ (relative: the stage stays)
            return Answer(301, b"", {**headers, "Location": "console/"})
        file = INDEX
    if file == CONFIG:
        body = json.dumps(config()).encode()
        return Answer(200, body, {**headers, "Content-Type": "application/json"})
    root = web_dir().resolve()
    target = (root / file).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.name.startswith("."):
        body = json.dumps({"error": "not_found", "message": "no such file"}).encode()
        return Answer(404, body, {**headers, "Content-Type": "application/json"})
    kind = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
    return Answer(
        200, target.read_bytes(), {**headers, "Content-Type": kind or "application/octet-stream"}
    )
