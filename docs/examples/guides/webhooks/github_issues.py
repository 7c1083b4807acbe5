"""Handle one kind of webhook event: ``@on(source, event_type)``.

Docs: Guides, Handling webhooks. tests/integration/test_docs_examples.py sends a signed
GitHub ``issues`` delivery through the receiver and the worker to it.
"""

# --8<-- [start:handler]
# a module of your own hook package (hookPackages), imported by the worker
from __future__ import annotations

from typing import Any

from functions.actions import ActionContext
from functions.hooks.webhooks import on
from functions.observability import logger


@on("github", "issues")
def github_issue(payload: dict[str, Any], action: ActionContext) -> dict[str, Any] | None:
    # X-GitHub-Event is a header GitHub does not sign: check the payload is an issue
    # event's before acting on it. The payload itself is signed.
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
        logger.warning("not an issues payload; ignored")
        return None
    # What the handler returns is the action's result: its log keeps it.
    return {"issue": issue["number"], "change": payload.get("action")}


# --8<-- [end:handler]
