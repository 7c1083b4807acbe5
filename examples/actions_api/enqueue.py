"""Enqueue an action through the actions API from Python, signed with botocore (SigV4).

ACTIONS_API_URL is the stack's output ActionsApiUrl. Credentials and region are the
usual AWS ones (environment, profile, role); the role needs the managed policy of the
stack's output ActionsApiPolicyArn. Prints the action's id, then its status.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

API = os.environ["ACTIONS_API_URL"]
session = botocore.session.get_session()


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    """Send a request signed for execute-api; answer its JSON, or exit with the error."""
    data = None if body is None else json.dumps(body).encode()
    request = AWSRequest(method=method, url=url, data=data, headers=headers or {})
    region = session.get_config_variable("region")
    SigV4Auth(session.get_credentials(), "execute-api", region).add_auth(request)
    headers = dict(request.headers)  # with Authorization and X-Amz-Date
    signed = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(signed, timeout=30) as response:  # noqa: S310 - https
            return json.load(response)
    except urllib.error.HTTPError as error:  # {"error": ..., "message": ...}
        sys.exit(f"{method} {url}: {error.code} {error.read().decode()}")


# A retry with the same Idempotency-Key answers the first result: no second action.
action = call(
    "POST",
    API,
    {"hook": "send_email", "args": {"to": "a@example.com", "subject": "Hi"}},
    {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
)
print(action["action_id"])
print(call("GET", f"{API}/{action['action_id']}")["status"])
