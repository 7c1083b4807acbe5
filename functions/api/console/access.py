"""Who is calling the console API, and what they may do: from the Cognito ID token's claims.

API Gateway's Cognito user pools authorizer has checked the token (signature, issuer,
audience, expiry) before the function runs, and passes its claims in the request
context. The function trusts those claims and nothing the page says: a viewer's POST is
refused here (403 ``forbidden``) whatever the page shows. A request without claims can
only come through a route that lost its authorizer: refused (fails closed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.api.errors import ApiError, Unauthenticated

OPERATORS = "operators"
VIEWERS = "viewers"


class Forbidden(ApiError):
    """Signed in, but not in the group this call needs. Nothing was changed."""

    status_code = 403
    error = "forbidden"


@dataclass(frozen=True)
class Caller:
    """A signed-in person: their username and groups, as the ID token says."""

    username: str
    groups: tuple[str, ...]

    @property
    def operator(self) -> bool:
        return OPERATORS in self.groups

    @property
    def viewer(self) -> bool:
        return self.operator or VIEWERS in self.groups

    def require_viewer(self) -> None:
        if not self.viewer:
            raise Forbidden(
                "the console is for the viewers and operators groups; "
                f"you are in: {', '.join(self.groups) or 'no group'}"
            )

    def require_operator(self) -> None:
        if not self.operator:
            raise Forbidden(
                "only the operators group may do this; "
                f"you are in: {', '.join(self.groups) or 'no group'}"
            )

    def to_document(self) -> dict[str, Any]:
        return {"username": self.username, "groups": list(self.groups), "operator": self.operator}


def caller(request_context: Mapping[str, Any]) -> Caller:
    """The caller API Gateway's Cognito authorizer vouches for (``authorizer.claims``)."""
    authorizer = request_context.get("authorizer") or {}
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    if not isinstance(claims, Mapping) or not claims:
        raise Unauthenticated(
            "the request carries no Cognito claims: the route must use the Cognito authorizer"
        )
    username = str(claims.get("cognito:username") or claims.get("username") or "")
    if not username:
        raise Unauthenticated("the token names no user (cognito:username)")
    return Caller(username, groups(claims.get("cognito:groups")))


def groups(claim: Any) -> tuple[str, ...]:
    """``cognito:groups`` as API Gateway passes it: a list, a JSON list, or a string of
    names separated by commas or spaces (REST APIs flatten lists; ``[a b]`` or ``a,b``)."""
    if claim is None:
        return ()
    if isinstance(claim, list | tuple):
        return tuple(str(name) for name in claim)
    text = str(claim).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return tuple(str(name) for name in parsed)
        text = text.strip("[]")
    return tuple(name for name in text.replace(",", " ").split() if name)
