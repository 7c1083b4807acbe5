"""API Gateway entry point for the console's page (``/console/``, ``/console/{file+}``).

No logic lives here: ``functions.api.console.page`` serves the file or ``config.json``.
The function has no AWS permissions.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.console import page
from functions.coldstart import resume_collection


def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    try:
        parameters = event.get("pathParameters") or {}
        return page.serve(str(event.get("path") or ""), parameters.get("file")).to_proxy()
    finally:
        resume_collection()
