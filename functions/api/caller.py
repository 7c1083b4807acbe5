"""Who is calling: the principal API Gateway vouches for, by the route's authorizer.

API Gateway checks the caller before the function runs (an IAM signature for the
actions API) and passes who it is in the request context. The function does not check
again; it refuses a request without a caller, which only a route that lost its
authorizer can send (fails closed), and logs who made each change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.api.errors import Unauthenticated


def iam_caller(request_context: Mapping[str, Any]) -> str:
    """The ARN of the IAM principal that signed the request (``identity.userArn``)."""
    identity = request_context.get("identity") or {}
    principal = identity.get("userArn")
    if not principal:
        raise Unauthenticated(
            "the request carries no IAM caller: the route must require AWS_IAM authorization"
        )
    return str(principal)
