"""The Action Scheduler API in one screen.

Docs: Guides, Scheduling. tests/integration/test_docs_examples.py runs it on moto.
"""

from __future__ import annotations

from typing import Any


def tour() -> dict[str, Any]:
    # --8<-- [start:tour]
    from datetime import UTC, datetime, timedelta

    from functions.actions import (
        enqueue_async_action,
        get_scheduled_actions,
        has_scheduled_action,
        next_scheduled_action,
        schedule_cron_action,
        schedule_recurring_action,
        schedule_single_action,
        unschedule_action,
    )

    now = datetime.now(UTC)
    enqueue_async_action("send_email", {"to": "a@example.com"})  # now
    schedule_single_action(now + timedelta(hours=2), "send_email", {"to": "b@example.com"})
    schedule_recurring_action(now, 3600, "sync_external_api", group="crm")  # hourly
    schedule_cron_action(now, "30 8 * * 1-5", "daily_report", timezone="Europe/Paris")

    has_scheduled_action("send_email")  # True: one is pending
    next_scheduled_action("send_email", {"to": "b@example.com"})  # its datetime (UTC)
    unschedule_action("sync_external_api", group="crm")  # cancels the hourly schedule
    page = get_scheduled_actions(status="past-due", per_page=50)  # page.items, page.cursor
    # --8<-- [end:tour]
    return {
        "has": has_scheduled_action("send_email"),
        "next": next_scheduled_action("send_email", {"to": "b@example.com"}),
        "later": now + timedelta(hours=2),
        "recurring": has_scheduled_action("sync_external_api", group="crm"),
        "page": page,
    }
