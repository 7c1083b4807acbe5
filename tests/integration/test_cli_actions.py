"""actionsctl on moto: schedule actions, list and count them, cancel them, run them now."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import boto3
import pytest

from functions.actions import hooks, store, timers
from functions.actions.exceptions import PermanentError, TransientError
from infra.cli.main import main


class Recorder:
    """A hook that records its args, and fails with ``error`` while it is set."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.calls: list[object] = []

    def __call__(self, args, action) -> None:
        self.calls.append(args)
        if self.error is not None:
            raise self.error


@pytest.fixture
def mail(register):
    return register("test_cli_mail", Recorder())


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    """The command's exit code, stdout and stderr (only its own: the worker's logs go)."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _scheduled(capsys, *argv: str) -> str:
    """Run a schedule command; its whole output is the new action's id."""
    code, out, err = _run(capsys, "schedule", *argv)
    assert (code, err) == (0, "")
    [action_id] = out.splitlines()
    assert store.get(action_id) is not None
    return action_id


def _row(out: str, action_id: str) -> str:
    [row] = [line for line in out.splitlines() if line.startswith(action_id + " ")]
    return row


def _listed(capsys, *argv: str) -> list[dict]:
    code, out, err = _run(capsys, "actions", "list", "--json", *argv)
    assert (code, err) == (0, "")
    return [json.loads(line) for line in out.splitlines()]


def _ids(capsys, *argv: str) -> list[str]:
    return [item["action_id"] for item in _listed(capsys, *argv)]


def _future(**delta: float) -> datetime:
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


# --- schedule ----------------------------------------------------------------------------


def test_schedule_now_prints_only_the_id_and_the_action_is_listed(jobs, mail, capsys):
    action_id = _scheduled(
        capsys, "now", "test_cli_mail", "--args", '{"to": "a@example.com"}', "--group", "eu"
    )

    item = store.get(action_id)
    assert (item.hook, item.args, item.group, item.kind) == (
        "test_cli_mail",
        {"to": "a@example.com"},
        "eu",
        "async",
    )
    code, out, _ = _run(capsys, "actions", "list")
    assert code == 0
    row = _row(out, action_id)
    assert row.split()[1:4] == ["test_cli_mail", "eu", "pending"]
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row)
    assert "1 pending action\n" in out

    jobs.work()
    assert mail.calls == [{"to": "a@example.com"}]


def test_the_functions_logs_do_not_bury_the_output(jobs, mail, capsys, monkeypatch):
    import logging
    import sys

    from functions.observability import logger

    functions_logger = logging.getLogger(logger.name)
    # The handler writes to the stdout of when it was made; make that this test's.
    for handler in functions_logger.handlers:
        monkeypatch.setattr(handler, "stream", sys.stdout)
    level = functions_logger.level
    logger.info("visible")
    assert "visible" in capsys.readouterr().out

    action_id = _scheduled(capsys, "at", _future(hours=2).isoformat(), "test_cli_mail")
    code, out, err = _run(capsys, "action", "cancel", action_id)

    assert (code, out, err) == (0, f"canceled {action_id}\n", "")
    assert functions_logger.level == level
    logger.info("visible again")
    assert "visible again" in capsys.readouterr().out


def test_schedule_now_takes_the_priority(jobs, mail, capsys):
    action_id = _scheduled(capsys, "now", "test_cli_mail", "--priority", "low")

    assert store.get(action_id).priority == "low"
    assert jobs.depth("low") == 1
    assert jobs.depth("default") == 0


def test_schedule_at_an_iso_time_with_an_offset(jobs, mail, capsys):
    when = _future(hours=3)
    local = when.astimezone(timezone(timedelta(hours=2))).isoformat()

    action_id = _scheduled(capsys, "at", local, "test_cli_mail", "--args", "[1, 2]")

    item = store.get(action_id)
    assert item.scheduled_for.timestamp() == when.timestamp()
    assert item.args == [1, 2]
    schedule = timers.get(item.schedule_name)
    assert schedule["ScheduleExpression"] == f"at({when:%Y-%m-%dT%H:%M:%S})"
    assert schedule["GroupName"] == jobs.resources.schedule_group
    code, out, _ = _run(capsys, "actions", "list", "--hook", "test_cli_mail")
    assert code == 0
    row = _row(out, action_id)
    assert f"{when:%Y-%m-%dT%H:%M:%S}Z" in row
    assert " single " in row


def test_schedule_at_epoch_seconds_and_at_z(jobs, mail, capsys):
    when = _future(hours=5)

    by_epoch = _scheduled(capsys, "at", str(int(when.timestamp())), "test_cli_mail")
    by_z = _scheduled(
        capsys, "at", when.strftime("%Y-%m-%dT%H:%M:%SZ"), "test_cli_mail", "--group", "z"
    )

    assert store.get(by_epoch).scheduled_for.timestamp() == when.timestamp()
    assert store.get(by_z).scheduled_for.timestamp() == when.timestamp()
    assert set(_ids(capsys, "--hook", "test_cli_mail")) == {by_epoch, by_z}


def test_schedule_every_from_a_start(jobs, mail, capsys):
    start = _future(days=1)

    action_id = _scheduled(
        capsys, "every", "3600", "test_cli_mail", "--start", start.isoformat(), "--group", "g"
    )

    item = store.get(action_id)
    assert item.recurrence.to_plain() == {
        "kind": "rate",
        "interval_seconds": 3600,
        "start": start.timestamp(),
    }
    schedule = timers.get(item.schedule_name)
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    code, out, _ = _run(capsys, "actions", "list", "--group", "g", "--status", "pending")
    assert code == 0
    row = _row(out, action_id)
    assert f"{start:%Y-%m-%dT%H:%M:%S}Z" in row
    assert "every 3600s" in row


def test_schedule_cron_in_a_time_zone(jobs, mail, capsys):
    action_id = _scheduled(
        capsys, "cron", "30 3 * * 1", "test_cli_mail", "--timezone", "Europe/Paris"
    )

    item = store.get(action_id)
    assert item.recurrence.to_plain() == {
        "kind": "cron",
        "cron": "30 3 * * 1",
        "timezone": "Europe/Paris",
    }
    schedule = timers.get(item.schedule_name)
    assert schedule["ScheduleExpression"] == "cron(30 3 ? * 2 *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    first = item.scheduled_for
    paris = first.astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.weekday(), paris.hour, paris.minute) == (0, 3, 30)
    code, out, _ = _run(capsys, "actions", "list")
    assert code == 0
    row = _row(out, action_id)
    assert f"{first:%Y-%m-%dT%H:%M:%S}Z" in row
    assert "cron 30 3 * * 1 Europe/Paris" in row


def test_schedule_cron_from_a_later_start(jobs, mail, capsys):
    start = _future(days=40)

    action_id = _scheduled(capsys, "cron", "0 12 * * *", "test_cli_mail", "--start", str(start))

    first = store.get(action_id).scheduled_for
    assert start <= first <= start + timedelta(days=1)
    assert (first.hour, first.minute) == (12, 0)


def test_a_unique_duplicate_is_a_one_line_error_naming_the_first(jobs, register, capsys):
    register("test_cli_mail", Recorder(), unique_by="group")
    first = _scheduled(capsys, "now", "test_cli_mail", "--args", '{"n": 1}', "--unique")

    code, out, err = _run(
        capsys, "schedule", "now", "test_cli_mail", "--args", '{"n":2}', "--unique"
    )

    assert code == 1
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("actionsctl: error: ")
    assert first in line
    assert _ids(capsys) == [first]


# --- schedule: refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["at", "2031-01-31T09:00:00", "test_cli_mail"], "no UTC offset"),
        (["at", "2031-01-31", "test_cli_mail"], "no UTC offset"),
        (["at", "next tuesday", "test_cli_mail"], "is not a time"),
        (["every", "60", "test_cli_mail", "--start", "2031-01-31 09:00"], "no UTC offset"),
        (["now", "test_cli_mail", "--args", "{to: a}"], "argument --args: not JSON"),
        (["at", "1900000000", "test_cli_mail", "--args", "[1,"], "argument --args: not JSON"),
        (["every", "hourly", "test_cli_mail"], "not a whole number of seconds"),
        (["now", "test_cli_mail", "--priority", "urgent"], "invalid choice"),
    ],
)
def test_bad_arguments_are_usage_errors_and_schedule_nothing(jobs, mail, capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        main(["schedule", *argv])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: actionsctl schedule" in err
    assert message in err
    assert _ids(capsys, "--hook", "test_cli_mail") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["now", "test_cli_nobody"], "no hook is registered as 'test_cli_nobody'"),
        (["at", "2031-01-31T09:00:00Z", "test_cli_nobody"], "no hook is registered"),
        (["cron", "0 3 * *", "test_cli_mail"], "cron needs five fields"),
        (["cron", "61 3 * * *", "test_cli_mail"], "bad cron expression"),
        (["cron", "0 3 1 * 1", "test_cli_mail"], "not both"),
        (["cron", "0 3 * * *", "test_cli_mail", "--timezone", "Mars/Base"], "unknown time zone"),
        (["every", "90", "test_cli_mail"], "whole minutes"),
        (["every", "30", "test_cli_mail"], "at least 60 seconds"),
        (["now", "test_cli_mail", "--group", "g" * 300], "group"),
    ],
)
def test_invalid_actions_are_one_line_errors_and_schedule_nothing(
    jobs, mail, capsys, argv, message
):
    code, out, err = _run(capsys, "schedule", *argv)

    assert code == 1
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("actionsctl: error: ")
    assert message in line
    assert _ids(capsys, "--hook", "test_cli_mail") == []
    assert _ids(capsys, "--hook", "test_cli_nobody") == []


def test_scheduling_without_the_scheduler_configuration_is_refused(jobs, mail, capsys, monkeypatch):
    monkeypatch.delenv("SCHEDULER_ROLE_ARN")

    code, out, err = _run(capsys, "schedule", "every", "3600", "test_cli_mail")

    assert (code, out) == (1, "")
    assert "the environment has no SCHEDULER_ROLE_ARN" in err
    assert _ids(capsys, "--hook", "test_cli_mail") == []
    # Enqueueing for now needs no schedule.
    _scheduled(capsys, "now", "test_cli_mail")


# --- list --------------------------------------------------------------------------------


def test_list_by_default_shows_pending_only_and_running_means_in_progress(
    jobs, mail, register, capsys
):
    seen: dict[str, object] = {}

    def peek(args, action) -> None:
        # While this runs, it is the in-progress action.
        seen["running"] = _ids(capsys, "--status", "running")
        seen["in-progress"] = _ids(capsys, "--status", "in-progress")
        code, out, _ = _run(capsys, "actions", "list", "--status", "running")
        assert code == 0
        seen["row"] = _row(out, action.action_id)

    register("test_cli_peek", peek)
    done = _scheduled(capsys, "now", "test_cli_mail")
    jobs.work()
    waiting = _scheduled(capsys, "at", _future(hours=1).isoformat(), "test_cli_mail")
    peeking = _scheduled(capsys, "now", "test_cli_peek")

    assert _ids(capsys) == [peeking, waiting]  # the default: pending, soonest first
    assert _ids(capsys, "--status", "pending") == [peeking, waiting]
    assert _ids(capsys, "--status", "complete") == [done]
    assert set(_ids(capsys, "--hook", "test_cli_mail")) == {done, waiting}

    jobs.work()

    assert seen["running"] == [peeking]
    assert seen["in-progress"] == [peeking]
    assert " in-progress " in seen["row"]
    assert _ids(capsys, "--status", "running") == []
    assert set(_ids(capsys, "--status", "complete")) == {done, peeking}


def test_list_shows_attempts_and_the_last_error_shortened(jobs, register, capsys):
    register(
        "test_cli_broken",
        Recorder(PermanentError("the mailbox is full " + "and then some " * 10)),
        max_attempts=3,
    )
    action_id = _scheduled(capsys, "now", "test_cli_broken")
    jobs.work()

    code, out, _ = _run(capsys, "actions", "list", "--status", "failed")

    assert code == 0

    row = _row(out, action_id)
    assert " failed " in row
    assert " 1/3 " in row
    assert "PermanentError: the mailbox is full and then" in row
    assert row.endswith("…")
    assert "and then some " * 10 not in row
    [item] = _listed(capsys, "--status", "failed")
    assert item["last_error"].startswith("PermanentError: the mailbox is full")


def test_list_filters_by_group_args_and_time_and_orders_and_limits(jobs, mail, capsys):
    base = _future(days=2)
    ids = [
        _scheduled(
            capsys,
            "at",
            (base + timedelta(hours=n)).isoformat(),
            "test_cli_mail",
            "--group",
            "eu" if n % 2 else "us",
            "--args",
            json.dumps({"n": n}),
        )
        for n in range(5)
    ]

    assert _ids(capsys) == ids
    assert _ids(capsys, "--order", "desc") == ids[::-1]
    assert _ids(capsys, "--limit", "2") == ids[:2]
    assert _ids(capsys, "--group", "eu") == [ids[1], ids[3]]
    assert _ids(capsys, "--hook", "test_cli_mail", "--group", "us") == [ids[0], ids[2], ids[4]]
    assert _ids(capsys, "--args", '{"n": 3}') == [ids[3]]
    assert _ids(capsys, "--args", '{"n": 3}', "--group", "us") == []
    window = ["--from", (base + timedelta(hours=1)).isoformat()]
    window += ["--to", str((base + timedelta(hours=3)).timestamp())]
    assert _ids(capsys, *window) == ids[1:4]
    assert _ids(capsys, "--hook", "test_cli_mail", *window, "--order", "desc") == ids[3:0:-1]

    code, out, _ = _run(capsys, "actions", "list", "--limit", "2")

    assert code == 0
    assert "2 pending actions (the limit; there may be more)" in out
    code, out, _ = _run(capsys, "actions", "list", "--group", "eu")
    assert code == 0
    assert "2 pending actions matching group 'eu'" in out
    assert "there may be more" not in out


def test_list_pages_past_one_page(jobs, mail, capsys, monkeypatch):
    from infra.cli import actions

    monkeypatch.setattr(actions, "PAGE", 2)
    ids = [_scheduled(capsys, "now", "test_cli_mail", "--args", str(n)) for n in range(5)]

    assert sorted(_ids(capsys)) == sorted(ids)
    assert len(_ids(capsys, "--limit", "3")) == 3


def test_list_past_due(jobs, mail, capsys):
    due = _scheduled(capsys, "now", "test_cli_mail", "--priority", "low")  # not worked here
    _scheduled(capsys, "at", _future(hours=1).isoformat(), "test_cli_mail")

    assert _ids(capsys, "--status", "past-due") == [due]


def test_list_says_when_there_is_nothing(jobs, capsys):
    code, out, err = _run(capsys, "actions", "list", "--status", "failed", "--hook", "test_x")

    assert (code, err) == (0, "")
    assert out.strip() == "no failed actions matching hook 'test_x'"


@pytest.mark.parametrize(
    "argv",
    [
        ["--status", "stuck"],
        ["--from", "2031-01-01T00:00:00"],
        ["--args", "{"],
        ["--limit", "0"],
        ["--order", "sideways"],
    ],
)
def test_list_refuses_bad_arguments(jobs, capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(["actions", "list", *argv])

    assert exited.value.code == 2
    assert "usage: actionsctl actions list" in capsys.readouterr().err


# --- counts ------------------------------------------------------------------------------


def test_counts_reflect_the_statuses_after_the_worker_ran(jobs, mail, register, capsys):
    broken = register("test_cli_broken", Recorder(PermanentError("no")), max_attempts=1)
    inside: dict[str, dict] = {}

    def peek(args, action) -> None:
        code, out, _ = _run(capsys, "actions", "counts", "--exact", "--json")
        assert code == 0
        inside.update(json.loads(out))

    register("test_cli_peek", peek)
    _scheduled(capsys, "now", "test_cli_mail")
    _scheduled(capsys, "now", "test_cli_mail", "--args", "2")
    _scheduled(capsys, "now", "test_cli_broken")
    _scheduled(capsys, "now", "test_cli_peek")
    _scheduled(capsys, "now", "test_cli_mail", "--priority", "low")  # the worker skips low
    later = _scheduled(capsys, "at", _future(hours=2).isoformat(), "test_cli_mail")
    canceled = _scheduled(capsys, "at", _future(hours=3).isoformat(), "test_cli_mail")
    assert _run(capsys, "action", "cancel", canceled)[0] == 0

    jobs.work()

    assert broken.calls == [None]
    code, out, err = _run(capsys, "actions", "counts", "--exact", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "pending": 2,
        "past-due": 1,
        "in-progress": 0,
        "complete": 3,
        "failed": 1,
        "canceled": 1,
    }
    assert inside["in-progress"] == 1  # the peek, while it ran

    code, out, _ = _run(capsys, "actions", "counts", "--hook", "test_cli_mail", "--json")

    assert code == 0
    assert json.loads(out) == {
        "pending": 2,
        "past-due": 1,
        "in-progress": 0,
        "complete": 2,
        "failed": 0,
        "canceled": 1,
    }

    code, out, _ = _run(capsys, "actions", "counts", "--exact")

    assert code == 0
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:7]}
    assert lines == {
        "pending": "2",
        "past-due": "1",
        "in-progress": "0",
        "complete": "3",
        "failed": "1",
        "canceled": "1",
    }
    assert later in _ids(capsys)


def test_counts_page_through_every_page(jobs, mail, capsys, monkeypatch):
    from functions.actions.store import reads  # loaded on first use (record 0075)

    monkeypatch.setattr(reads, "COUNT_PAGE", 2)
    for n in range(5):
        _scheduled(capsys, "now", "test_cli_mail", "--args", str(n))

    code, out, _ = _run(capsys, "actions", "counts", "--exact", "--json")

    assert code == 0

    assert json.loads(out)["pending"] == 5


def _table_calls(monkeypatch) -> list[str]:
    """The names of the actions table client's methods called from now on."""
    from functions.actions import store as actions_store

    client = actions_store.table.dynamodb()
    calls: list[str] = []

    class Spy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(client, name)

    monkeypatch.setattr(actions_store.table, "dynamodb", Spy)
    return calls


def test_counts_never_scan_the_table(jobs, mail, capsys, monkeypatch):
    _scheduled(capsys, "now", "test_cli_mail")
    calls = _table_calls(monkeypatch)

    assert _run(capsys, "actions", "counts", "--exact")[0] == 0
    assert _run(capsys, "actions", "list", "--status", "complete")[0] == 0

    assert calls
    assert set(calls) == {"query"}


def test_counts_show_the_kept_tally_with_its_age_at_one_read_a_view(
    jobs, mail, capsys, monkeypatch
):
    for n in range(3):
        _scheduled(capsys, "now", "test_cli_mail", "--args", str(n))
    calls = _table_calls(monkeypatch)

    code, out, _ = _run(capsys, "actions", "counts", "--json")  # none kept: counted now
    assert code == 0
    first = json.loads(out)
    assert first["counts"]["pending"] == {"count": 3, "more": False}
    assert first["age_seconds"] == 0
    assert "query" in calls and "put_item" in calls
    _scheduled(capsys, "now", "test_cli_mail", "--args", "3")
    calls.clear()

    code, out, _ = _run(capsys, "actions", "counts")  # within its age: the kept tally

    assert code == 0
    assert calls == ["get_item"]  # one read, however many actions the table holds
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:7]}
    assert lines["pending"] == "3"  # the tally's, not yet the fourth
    assert "counted" in out and "--exact" in out


# --- cancel and run ----------------------------------------------------------------------


def test_cancel_a_later_action_deletes_its_schedule(jobs, mail, capsys):
    action_id = _scheduled(capsys, "at", _future(hours=2).isoformat(), "test_cli_mail")
    schedule_name = store.get(action_id).schedule_name
    assert timers.get(schedule_name) is not None

    code, out, err = _run(capsys, "action", "cancel", action_id)

    assert (code, out.strip(), err) == (0, f"canceled {action_id}", "")
    item = store.get(action_id)
    assert item.status == "canceled"
    assert item.log[-1].event == "canceled"
    assert timers.get(schedule_name) is None
    assert _ids(capsys, "--status", "canceled") == [action_id]
    assert _ids(capsys) == []

    code, out, err = _run(capsys, "action", "cancel", action_id)
    assert (code, out) == (1, "")
    assert err.strip() == (
        f"actionsctl: error: action {action_id!r} is canceled, not pending; "
        "only pending actions can be canceled"
    )


def test_cancel_a_recurring_action_stops_its_runs(jobs, mail, capsys):
    action_id = _scheduled(capsys, "every", "300", "test_cli_mail")
    schedule_name = store.get(action_id).schedule_name

    assert _run(capsys, "action", "cancel", action_id)[0] == 0

    assert timers.get(schedule_name) is None
    assert store.get(action_id).status == "canceled"


def test_cancel_of_a_completed_action_is_refused(jobs, mail, capsys):
    action_id = _scheduled(capsys, "now", "test_cli_mail")
    jobs.work()
    assert store.get(action_id).status == "complete"

    code, out, err = _run(capsys, "action", "cancel", action_id)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert f"action {action_id!r} is complete, not pending" in line
    assert store.get(action_id).status == "complete"


def test_cancel_of_an_unknown_action_is_refused(jobs, capsys):
    code, out, err = _run(capsys, "action", "cancel", "nope")

    assert (code, out) == (1, "")
    assert err.strip() == "actionsctl: error: no action 'nope' in the actions table"


def test_run_now_sends_a_later_action_and_deletes_its_schedule(jobs, mail, capsys):
    action_id = _scheduled(
        capsys, "at", _future(days=3).isoformat(), "test_cli_mail", "--args", '"soon"'
    )
    schedule_name = store.get(action_id).schedule_name
    jobs.work()
    assert mail.calls == []

    code, out, err = _run(capsys, "action", "run", action_id)

    assert (code, err) == (0, "")
    assert action_id in out
    assert timers.get(schedule_name) is None
    jobs.work()
    assert mail.calls == ["soon"]
    assert store.get(action_id).status == "complete"

    code, out, err = _run(capsys, "action", "run", action_id)
    assert (code, out) == (1, "")
    assert f"action {action_id!r} is complete, not pending" in err
    assert "can be run now" in err
    assert mail.calls == ["soon"]


@pytest.mark.parametrize("kind", ["every", "cron"])
def test_run_now_refuses_a_recurring_action(jobs, mail, capsys, kind):
    when = "3600" if kind == "every" else "0 * * * *"
    action_id = _scheduled(capsys, kind, when, "test_cli_mail")
    # "every" from now: its first run, due now, is already on the queue.
    waiting = jobs.depth()
    assert waiting == (1 if kind == "every" else 0)

    code, out, err = _run(capsys, "action", "run", action_id)

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert "is recurring" in line
    assert "only one-off actions" in line
    assert jobs.depth() == waiting
    assert store.get(action_id).status == "pending"


def test_run_now_of_an_unknown_action_is_refused(jobs, capsys):
    code, out, err = _run(capsys, "action", "run", "nope")

    assert (code, out) == (1, "")
    assert "no action 'nope'" in err


# --- configuration from the stack --------------------------------------------------------


def _ops_stack(env: dict[str, str], *, scheduler: bool) -> None:
    outputs = {
        "JobQueues": env["JOB_QUEUES"],
        "ActionsTableName": env["ACTIONS_TABLE_NAME"],
        "CircuitsTableName": env["CIRCUITS_TABLE_NAME"],
    }
    if scheduler:
        outputs |= {
            "ScheduleGroupName": env["SCHEDULE_GROUP"],
            "SchedulerRoleArn": env["SCHEDULER_ROLE_ARN"],
            "SchedulerDeadLetterArn": env["SCHEDULER_DEAD_LETTER_ARN"],
        }
    boto3.client("cloudformation").create_stack(
        StackName="Ops" if scheduler else "Old",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
        ),
    )


def test_the_scheduler_configuration_comes_from_the_stack_outputs(jobs, mail, capsys, monkeypatch):
    env = jobs.resources.environment
    _ops_stack(env, scheduler=True)
    _ops_stack(env, scheduler=False)
    for name in ("JOB_QUEUES", "SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("SCHEDULER_DEAD_LETTER_ARN", "arn:aws:sqs:us-east-1:1:elsewhere")

    action_id = _scheduled(
        capsys, "at", _future(hours=2).isoformat(), "test_cli_mail", "--stack", "Ops"
    )

    schedule = timers.get(store.get(action_id).schedule_name)
    assert schedule["GroupName"] == env["SCHEDULE_GROUP"]
    assert schedule["Target"]["RoleArn"] == env["SCHEDULER_ROLE_ARN"]
    assert schedule["Target"]["DeadLetterConfig"]["Arn"] == env["SCHEDULER_DEAD_LETTER_ARN"]

    # A stack without the scheduler's outputs can list, but not schedule or cancel.
    monkeypatch.setenv("JOB_QUEUES", "")
    code, out, err = _run(
        capsys, "--stack", "Old", "schedule", "cron", "0 3 * * *", "test_cli_mail"
    )
    assert (code, out) == (1, "")
    assert err.strip() == (
        "actionsctl: error: stack 'Old' has no output ScheduleGroupName, SchedulerRoleArn, "
        "SchedulerDeadLetterArn, which EventBridge schedules need (deploy the stack again)"
    )
    assert _ids(capsys, "--stack", "Old") == [action_id]
    code, out, err = _run(capsys, "action", "cancel", action_id, "--stack", "Old")
    assert code == 1
    assert "has no output ScheduleGroupName" in err
    assert store.get(action_id).status == "pending"
    # An async action has no schedule: canceling it needs no scheduler.
    now_id = _scheduled(capsys, "now", "test_cli_mail", "--stack", "Old")
    assert _run(capsys, "action", "cancel", now_id, "--stack", "Old")[0] == 0

    assert _run(capsys, "action", "cancel", action_id, "--stack", "Ops")[0] == 0
    assert timers.get(store.get(action_id).schedule_name) is None


class Flaky:
    """A hook that fails its first call, then succeeds."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, args, action) -> None:
        self.calls += 1
        if self.calls == 1:
            raise TransientError("the provider is busy")


def test_a_completed_action_does_not_show_its_old_error_as_current(jobs, register, capsys):
    register("test_cli_flaky", Flaky(), base_delay=0, max_delay=0)
    action_id = _scheduled(capsys, "now", "test_cli_flaky")
    jobs.work()
    assert store.get(action_id).status == "complete"

    code, out, _ = _run(capsys, "action", "get", action_id)

    assert code == 0
    assert "last error: -\n" in out
    assert (
        "earlier:    TransientError: the provider is busy (an attempt before it succeeded)" in out
    )
    row = _row(_run(capsys, "actions", "list", "--status", "complete")[1], action_id)
    assert row.split()[-1] == "-"  # the LAST ERROR column
    assert "busy" not in row


# --- hooks ----------------------------------------------------------------------------


def test_hooks_list_shows_each_hooks_queue_priority_attempts_and_circuit(jobs, register, capsys):
    register("test_cli_ordered", Recorder(), ordered=True, max_attempts=7)
    register("test_cli_guarded", Recorder(), circuit="test_cli_dependency", priority="low")

    code, out, err = _run(capsys, "hooks", "list")

    assert (code, err) == (0, "")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.strip()}
    assert out.splitlines()[0].split() == [
        "HOOK", "QUEUE", "PRIORITY", "ATTEMPTS", "BACKOFF", "CIRCUIT",
    ]  # fmt: skip
    assert rows["test_cli_ordered"][1:5] == ["fifo", "default", "7", "5-900"]
    # A circuit that never failed has no item: it is closed.
    assert rows["test_cli_guarded"][1:4] == ["low", "low", "5"]
    assert rows["test_cli_guarded"][-2:] == ["test_cli_dependency", "(closed)"]
    # The project's hooks are listed too, without importing functions.hooks by hand.
    assert rows["sync_external_api"][-2:] == ["external_api", "(closed)"]
    assert rows["send_email"][-1] == "-"
    assert out.splitlines()[-1] == f"{len(hooks.registered())} hooks"


def test_hooks_list_reads_each_circuits_state(jobs, register, capsys):
    from functions.actions import circuit

    register("test_cli_guarded", Recorder(), circuit="test_cli_dependency")
    for _ in range(5):  # the threshold
        circuit.record_failure("test_cli_dependency", circuit.allow("test_cli_dependency"))

    code, out, _ = _run(capsys, "hooks", "list", "--json")

    assert code == 0
    [listed] = [json.loads(line) for line in out.splitlines() if '"test_cli_guarded"' in line]
    assert listed == {
        "hook": "test_cli_guarded",
        "queue": "default",
        "priority": "default",
        "max_attempts": 5,
        "base_delay": 5.0,
        "max_delay": 900.0,
        "circuit": "test_cli_dependency",
        "circuit_state": "open",
        "timeout": 10.0,
        "ordered": False,
        "unique_by": None,
        "max_failed_runs": 5,
        "listed_while_queued": True,
    }
