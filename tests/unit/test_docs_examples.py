"""The docs' Python examples that need no AWS, run as the pages show them."""

from __future__ import annotations

import pytest

from functions.actions import PermanentError, TransientError, hooks
from functions.actions.hooks import ActionContext
from tests.docs_site import load_example


@pytest.fixture
def billing():
    module = load_example("guides/hooks/billing.py")
    yield module
    hooks.unregister("charge_subscription")


def _context(hook: str) -> ActionContext:
    return ActionContext(
        action_id="a-1", hook=hook, group="", attempt=1, max_attempts=5, correlation_id="a-1"
    )


def test_the_billing_hook_tells_permanent_from_transient(billing) -> None:
    spec = hooks.get("charge_subscription")
    assert (spec.priority, spec.max_attempts, spec.unique_by) == ("high", 5, "args")
    with pytest.raises(PermanentError):
        billing.charge_subscription({}, _context("charge_subscription"))
    with pytest.raises(TransientError) as busy:
        billing.charge_subscription({"customer": "c", "busy": True}, _context("x"))
    assert busy.value.delay == 30
    assert billing.charge_subscription({"customer": "c"}, _context("x")) is None


def test_the_github_issues_handler_checks_the_payload() -> None:
    from functions.hooks import webhooks

    module = load_example("guides/webhooks/github_issues.py")
    try:
        handler = webhooks._HANDLERS[("github", "issues")]
        assert handler is module.github_issue
        assert handler({"action": "opened", "issue": {"number": 7}}, _context("p")) == {
            "issue": 7,
            "change": "opened",
        }
        assert handler({"ref": "refs/heads/main"}, _context("p")) is None
    finally:
        webhooks._HANDLERS.pop(("github", "issues"), None)
