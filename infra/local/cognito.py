"""The local cloud's Cognito: the console's token check, and its demo users.

API Gateway checks a request to a method with a Cognito user pools authorizer before
its function runs: the ``Authorization`` header must hold an ID token of one of the
authorizer's user pools, signed with the pool's key (RS256), not expired; otherwise it
answers ``401 Unauthorized`` (``The incoming token has expired`` for an expired one)
through the API's ``UNAUTHORIZED`` gateway response. The function then gets the token's
claims in ``requestContext.authorizer.claims``, lists flattened to text as REST APIs
flatten them. This module does the same against moto's Cognito, whose tokens are signed
with the key moto ships (its public half: ``moto/cognitoidp/resources/jwks-public.json``).

An HTTP API's JWT authorizer (``apiFlavour=http``) is checked the same way against its
issuer and audiences (``verify(audiences=...)``), answering ``401 {"message":
"Unauthorized"}`` for any failure. It does not check OAuth scopes (the console's routes
name none), nor revocation.
Why: docs/decisions/0060-the-local-cloud-checks-cognito-tokens.md
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

UNAUTHORIZED = "UNAUTHORIZED"
_MESSAGE = "Unauthorized"
_EXPIRED = "The incoming token has expired"


class Refusal(Exception):
    """Why a request is not authenticated: API Gateway's response type and message; 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.response_type = UNAUTHORIZED
        self.message = message
        self.error_type = "UnauthorizedException"


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


@functools.cache
def moto_keys() -> KeySet:
    """The public keys moto signs its tokens with (its JWKS)."""
    from moto.utilities.utils import load_resource

    return KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))


def verify(
    headers: Sequence[tuple[str, str]],
    *,
    issuers: Sequence[str],
    audiences: Sequence[str] = (),
    keys: KeySet | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, str]:
    """The claims of the request's ID token, as API Gateway passes them, or ``Refusal``.

    With ``audiences``, as an HTTP API's JWT authorizer checks a token: ``Bearer `` may
    precede it, any token of the issuer whose ``aud`` (an ID token) or ``client_id`` (an
    access token) is one of them is taken, and lists are passed as ``[a b]``; a failure
    of any kind is ``Unauthorized``.
    """
    jwt_authorizer = bool(audiences)
    token = next((value for name, value in headers if name.lower() == "authorization"), "")
    token = token.strip()
    if jwt_authorizer and token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Refusal(_MESSAGE)
    try:
        decoded = jwt.decode(token, keys or moto_keys(), algorithms=["RS256"])
    except (JoseError, ValueError, TypeError):
        raise Refusal(_MESSAGE) from None
    claims = decoded.claims
    if claims.get("iss") not in issuers:
        raise Refusal(_MESSAGE)
    if jwt_authorizer:
        if not {claims.get("aud"), claims.get("client_id")} & set(audiences):
            raise Refusal(_MESSAGE)
    elif claims.get("token_use") != "id":
        raise Refusal(_MESSAGE)
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= clock():
        raise Refusal(_MESSAGE if jwt_authorizer else _EXPIRED)
    return {name: _flattened(value, jwt_authorizer) for name, value in claims.items()}


def _flattened(value: Any, jwt_authorizer: bool = False) -> str:
    """A claim as API Gateway passes it: text; a list as its items joined by commas
    (``operators,viewers``, a REST API's authorizer) or in brackets, space-separated
    (``[operators viewers]``, an HTTP API's JWT authorizer)."""
    if isinstance(value, list):
        items = [str(item) for item in value]
        return f"[{' '.join(items)}]" if jwt_authorizer else ",".join(items)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


# --- demo users ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    group: str


# Known local passwords, printed in the banner: the local cloud is for one machine.
DEMO_USERS = (
    DemoUser("operator", "Operator-local-1!", "operators"),
    DemoUser("viewer", "Viewer-local-1!", "viewers"),
)


def create_demo_users(
    user_pool_id: str, region: str, users: Sequence[DemoUser] = DEMO_USERS
) -> list[DemoUser]:
    """Each demo user in the pool, confirmed with its known password, in its group."""
    import boto3

    client = boto3.client("cognito-idp", region_name=region)
    for user in users:
        client.admin_create_user(
            UserPoolId=user_pool_id,
            Username=user.username,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": f"{user.username}@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        client.admin_set_user_password(
            UserPoolId=user_pool_id, Username=user.username, Password=user.password, Permanent=True
        )
        client.admin_add_user_to_group(
            UserPoolId=user_pool_id, Username=user.username, GroupName=user.group
        )
    return list(users)


def sign_in(user_pool_id: str, client_id: str, user: DemoUser, region: str) -> Mapping[str, Any]:
    """The tokens a user gets by password (``USER_PASSWORD_AUTH``): for tests and scripts
    that call the console API without the page."""
    import boto3

    client = boto3.client("cognito-idp", region_name=region)
    response = client.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.username, "PASSWORD": user.password},
    )
    result: Mapping[str, Any] = response["AuthenticationResult"]
    return result
