"""The console page in headless Chromium against the local cloud.

One local cloud and one browser per module: Debian's chromium driven by its chromedriver
through Selenium (docs/decisions/0062-the-console-page-is-tested-with-selenium.md). The
page signs in through the local stand-in for Cognito's managed login, as a person does,
and calls the console API the stack deploys. Every wait is on a condition of the page or
of the table (``data-ready`` names the screen the page finished drawing), never a sleep.
Screenshots of each screen go to ``.cache/console/``; axe-core (pinned in package.json,
injected from node_modules by the test only) checks each screen.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from infra.local.cloud import LocalCloud
from tests.conftest import reset_process_state
from tests.local.console_browser import TIMEOUT, BrowserMissing, Page, chrome
from tests.local.test_cloud import _free_port

OPERATOR = ("browser-operator", "Operator-pass-1!", "operators")
VIEWER = ("browser-viewer", "Viewer-pass-1!", "viewers")
# What an attacker would put in args and errors; rendered, either would set window.__xss.
SCRIPT = "<script>window.__xss = 'script'</script>"
IMAGE = '"><img src=x onerror="window.__xss = \'img\'">'
MEGABYTE = "m" * 1_000_000
SCREENS = [
    ("actions", "#/actions?status=pending"),
    ("action", None),  # an action's page, filled in by the test
    ("dead-letters", "#/dead-letters?queue=default"),
    ("schedules", "#/schedules"),
    ("webhooks", "#/webhooks"),
    ("sagas", "#/sagas"),
    ("health", "#/health"),
    ("charts", "#/charts"),
]

# --- the local cloud, its users and its actions ------------------------------------------


@pytest.fixture(scope="module")
def cloud(synthesized) -> Iterator[LocalCloud]:
    template, _ = synthesized
    saved = os.environ.get("ACTION_HOOK_MODULES")
    os.environ["ACTION_HOOK_MODULES"] = "tests.local.local_hooks"
    local = LocalCloud(
        api_port=_free_port(), aws_port=_free_port(), log=lambda line: None, template=template
    )
    local.start()
    try:
        if local.front.pages is None:
            pytest.fail("the local cloud serves no console: the stack has no user pool")
        yield local
    finally:
        local.stop()
        if saved is None:
            os.environ.pop("ACTION_HOOK_MODULES", None)
        else:
            os.environ["ACTION_HOOK_MODULES"] = saved


@pytest.fixture(scope="module")
def users(cloud) -> dict[str, tuple[str, str]]:
    """A signed-in operator and viewer of this test's own, in the stack's user pool."""
    pool = cloud.front.pages.user_pool_id
    cognito = boto3.client("cognito-idp")
    groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool)["Groups"]}
    for username, password, group in (OPERATOR, VIEWER):
        assert group in groups, f"the stack's user pool has no {group} group"
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=username, Password=password, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    return {"operator": OPERATOR[:2], "viewer": VIEWER[:2]}


@contextlib.contextmanager
def _as_the_stack(cloud) -> Iterator[Any]:
    """``functions.actions`` in this process, finding the stack by name as the CLI does."""
    saved = os.environ.get("ACTION_SCHEDULER_STACK")
    os.environ["ACTION_SCHEDULER_STACK"] = cloud.stack_name
    reset_process_state()
    try:
        from functions import actions

        yield actions
    finally:
        if saved is None:
            os.environ.pop("ACTION_SCHEDULER_STACK", None)
        else:
            os.environ["ACTION_SCHEDULER_STACK"] = saved
        reset_process_state()


class Data:
    """The actions each test works on, made once through the Python API."""

    listed: list[str]
    run: str
    cancel: str
    bulk: list[str]
    refused: str
    inline_xss: str
    large_xss: str
    failed: str


@pytest.fixture(scope="module")
def data(cloud) -> Data:
    made = Data()
    later = datetime.now(UTC) + timedelta(days=1)
    with _as_the_stack(cloud) as actions:

        def single(hook: str, args: Any, group: str, minutes: int = 0) -> str:
            return actions.schedule_single_action(
                later + timedelta(minutes=minutes), hook, args, group=group
            )

        made.listed = [single("local_tick", {"n": n}, "console-list", n) for n in range(60)]
        made.run = single("local_tick", {"n": "run"}, "console-run")
        made.cancel = single("local_tick", {"n": "cancel"}, "console-cancel")
        made.bulk = [single("local_tick", {"n": f"bulk{n}"}, "console-bulk") for n in range(2)]
        made.refused = single("local_tick", {"n": "refused"}, "console-refused")
        made.inline_xss = single("local_tick", {"script": SCRIPT, "image": IMAGE}, "console-xss")
        made.large_xss = single(
            "local_tick", {"script": SCRIPT, "image": IMAGE, "big": MEGABYTE}, "console-xss", 1
        )
        made.failed = actions.enqueue_async_action(
            "local_fail", {"error": SCRIPT + IMAGE + MEGABYTE}, group="console-failed"
        )
    _wait_for(lambda: _status(cloud, made.failed) == "failed", "the failing action to fail")
    return made


def _item(cloud, action_id: str) -> dict[str, Any]:
    table = cloud.deployment.outputs["ActionsTableName"]
    found = boto3.client("dynamodb").get_item(
        TableName=table, Key={"action_id": {"S": action_id}}, ConsistentRead=True
    )
    return found.get("Item", {})


def _status(cloud, action_id: str) -> str:
    return _item(cloud, action_id).get("status", {}).get("S", "")


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Polls a condition of the cloud (WebDriverWait's loop, without a browser)."""
    try:
        return WebDriverWait(None, TIMEOUT, poll_frequency=0.2).until(lambda _: condition())
    except TimeoutException:
        pytest.fail(f"waited {TIMEOUT} s for {what}")


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    try:
        driver = chrome()
    except BrowserMissing as missing:
        pytest.fail(str(missing))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, cloud) -> Page:
    return Page(browser, cloud.console_url)


@pytest.fixture
def operator(page, users) -> Page:
    page.sign_in(*users["operator"])
    return page


@pytest.fixture
def viewer(page, users) -> Page:
    page.sign_in(*users["viewer"])
    return page


def _api(cloud, method: str, path: str, token: str | None) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{cloud.front.port}/console/api{path}"
    headers = {"Authorization": token} if token else {}
    body = b"{}" if method == "POST" else None
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# --- the tests ---------------------------------------------------------------------------


def test_the_page_goes_out_with_a_strict_policy_and_no_token_in_the_url(cloud, operator):
    with urllib.request.urlopen(cloud.console_url, timeout=10) as response:  # noqa: S310
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "script-src 'self'" in policy
    # Signed in: the one-time code is gone from the URL, and no token ever was in it.
    url = operator.driver.current_url
    assert "code=" not in url and "token" not in url
    assert operator.token().count(".") == 2
    assert operator.driver.find_element(By.ID, "user").text.startswith(OPERATOR[0])
    errors = [e for e in operator.driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "Content Security Policy" in e["message"]], errors


def test_filter_and_page_the_list_with_the_state_in_the_url(operator, data):
    operator.go("#/actions?status=pending&group=console-list", "actions")
    assert operator.row_ids() == data.listed[:50]  # soonest first
    assert "console-list" in operator.driver.current_url  # a link shares the filtered list
    # The next page, by its cursor, has the other ten.
    operator.driver.find_element(By.ID, "next-page").click()
    operator.wait(lambda d: "cursor=" in d.current_url and operator.ready() == "actions", "page 2")
    operator.wait(lambda d: operator.row_ids() == data.listed[50:], "the second page's ten")
    assert not operator.driver.find_elements(By.ID, "next-page")
    # Latest first, through the form, with exact args.
    operator.go("#/actions?status=pending&group=console-list", "actions")
    form = operator.driver.find_element(By.ID, "filters")
    form.find_element(By.ID, "filter-args").send_keys('{"n": 7}')
    form.find_element(By.ID, "apply-filters").click()
    operator.wait(lambda d: "args=" in d.current_url and operator.ready() == "actions", "args")
    operator.wait(
        lambda d: operator.row_ids() == [data.listed[7]], "the one action with those args"
    )
    operator.go("#/actions?status=pending&group=console-list&order=desc", "actions")
    first = operator.driver.find_element(By.CSS_SELECTOR, "tbody tr[data-id]")
    assert first.get_attribute("data-id") == data.listed[-1]
    # The tabs show counts and the tally's age.
    tab = operator.driver.find_element(By.ID, "tab-pending").text
    assert tab.startswith("pending (") and tab != "pending (—)"
    assert "Counted" in operator.driver.find_element(By.ID, "tally-age").text
    # A search within the filtered list says how far it went.
    operator.go("#/actions?status=pending&group=console-list&search=nothing-has-this", "actions")
    notice = operator.driver.find_element(By.ID, "search-notice").text
    assert "Searched the whole filtered list" in notice or "stopped short" in notice


def test_a_time_is_local_with_utc_on_hover(operator, data):
    operator.go("#/actions?status=pending&group=console-run", "actions")
    cell = operator.row(data.run).find_element(By.TAG_NAME, "time")
    assert cell.get_attribute("title").endswith("(UTC)")
    assert cell.get_attribute("datetime")


def test_open_an_action_and_run_it_now(operator, cloud, data):
    operator.go("#/actions?status=pending&group=console-run", "actions")
    operator.row(data.run).find_element(By.CSS_SELECTOR, "a.hook").click()
    operator.wait(lambda d: operator.ready() == "action", "the action's page")
    assert data.run in operator.driver.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert operator.driver.find_elements(By.CSS_SELECTOR, "#log li")  # the timeline
    operator.driver.find_element(By.ID, "run-now").click()
    operator.confirm("now?")
    operator.status_says("Sent local_tick")
    _wait_for(lambda: _status(cloud, data.run) == "complete", "the action run now to complete")
    operator.refresh("action")
    log = operator.driver.find_element(By.ID, "log").text
    assert "run now by browser-operator" in log


def test_cancel_one_and_bulk_cancel(operator, cloud, data):
    operator.go("#/actions?status=pending&group=console-cancel", "actions")
    operator.row(data.cancel).find_element(By.CSS_SELECTOR, "button.cancel").click()
    operator.confirm("Cancel local_tick")
    operator.status_says("Canceled local_tick")
    assert _status(cloud, data.cancel) == "canceled"
    assert "canceled by browser-operator" in json.dumps(_item(cloud, data.cancel))
    operator.go("#/actions?status=pending&group=console-bulk", "actions")
    for action_id in data.bulk:
        operator.row(action_id).find_element(By.CSS_SELECTOR, "input.row-select").click()
    operator.driver.find_element(By.ID, "bulk-cancel").click()
    operator.confirm("Cancel 2 selected actions?")
    operator.status_says("Canceled 2 of 2")
    assert [_status(cloud, a) for a in data.bulk] == ["canceled", "canceled"]


def test_a_dismissed_confirmation_changes_nothing(operator, cloud, data):
    operator.go("#/actions?status=pending&group=console-refused", "actions")
    operator.row(data.refused).find_element(By.CSS_SELECTOR, "button.cancel").click()
    operator.wait(lambda d: operator.dialog_open(), "the confirmation")
    operator.driver.find_element(By.ID, "confirm-cancel").click()
    operator.wait(lambda d: not operator.dialog_open(), "the confirmation to close")
    assert _status(cloud, data.refused) == "pending"


def test_redrive_a_dead_letter(operator, cloud, data):
    operator.go("#/dead-letters?queue=default", "dead-letters")
    row = operator.wait(
        lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-action="{data.failed}"]'),
        "the failed action's dead letter",
    )
    assert "local_fail" in row.text
    row.find_element(By.CSS_SELECTOR, "button.redrive-one").click()
    operator.confirm("Move this dead letter")
    operator.status_says("1 moved")
    _wait_for(
        lambda: "redriven by browser-operator" in json.dumps(_item(cloud, data.failed)),
        "the redrive in the action's log",
    )
    # It runs again and fails again (its hook always does): the later tests find it failed.
    _wait_for(lambda: _status(cloud, data.failed) == "failed", "the redriven action to fail again")


def test_a_viewer_sees_no_mutation_and_the_api_refuses_one(viewer, cloud, data):
    viewer.go("#/actions?status=pending&group=console-refused", "actions")
    row = viewer.row(data.refused)
    cancel = row.find_element(By.CSS_SELECTOR, "button.cancel")
    assert not cancel.is_enabled() and "Operators only" in cancel.get_attribute("title")
    assert not viewer.driver.find_elements(By.ID, "bulk-cancel")
    assert not row.find_elements(By.CSS_SELECTOR, "input.row-select")
    # Enabled by hand, the button's request is refused by the API, and the page says so.
    viewer.driver.execute_script("arguments[0].disabled = false", cancel)
    cancel.click()
    viewer.confirm("Cancel local_tick")
    viewer.status_says("Refused")
    assert _status(cloud, data.refused) == "pending"
    # And straight to the API with the viewer's own token.
    token = viewer.token()
    assert _api(cloud, "GET", "/actions?status=pending", token)[0] == 200
    for path in (f"/actions/{data.refused}/cancel", f"/actions/{data.refused}/run"):
        status, body = _api(cloud, "POST", path, token)
        assert (status, body.get("error")) == (403, "forbidden")
    assert _api(cloud, "POST", f"/actions/{data.refused}/cancel", None)[0] == 401
    assert _status(cloud, data.refused) == "pending"


def test_args_and_errors_are_text_however_hostile_or_large(operator, data):
    def harmless() -> None:
        driver = operator.driver
        assert driver.execute_script("return window.__xss") is None
        assert not driver.find_elements(By.CSS_SELECTOR, "main img, main script")

    operator.go("#/actions?status=pending&group=console-xss", "actions")
    assert SCRIPT[:40] in operator.row(data.inline_xss).text
    harmless()
    operator.go(f"#/action/{data.inline_xss}", "action")
    text = operator.driver.find_element(By.CSS_SELECTOR, "pre.json").text
    assert SCRIPT in text and "onerror" in text
    harmless()
    # A megabyte of args comes from the payload bucket on demand, and is text too.
    operator.go(f"#/action/{data.large_xss}", "action")
    operator.driver.find_element(By.ID, "load-args").click()
    pre = operator.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#args-holder pre.json"), "args")
    size = operator.driver.execute_script("return arguments[0].textContent.length", pre)
    assert size > len(MEGABYTE)
    harmless()
    # The failed action's error (a megabyte, cut by the runtime) and log lines.
    operator.go(f"#/action/{data.failed}", "action")
    error = operator.driver.find_element(By.ID, "last-error").text
    assert SCRIPT + IMAGE[:10] in error
    assert SCRIPT in operator.driver.find_element(By.ID, "log").text
    harmless()
    operator.shoot("action-hostile")


def test_the_charts_draw_the_metrics(operator, data):
    # The failed action (and the tests before) put points in the actions chart: the local
    # cloud feeds CloudWatch from the functions' metrics, as Lambda does.
    operator.go("#/charts?hours=1", "charts")
    figures = operator.driver.find_elements(By.CSS_SELECTOR, "figure.chart-figure")
    titles = [f.find_element(By.TAG_NAME, "figcaption").text for f in figures]
    assert titles[:4] == [
        "Actions completed and failed per minute",
        "Queue depth",
        "Oldest message age (seconds)",
        "Webhook answers by status",
    ]
    actions_chart = figures[0]
    dots = actions_chart.find_elements(By.CSS_SELECTOR, "svg.chart circle.dot")
    assert dots, "no point in the actions chart"
    # Each point is drawn once, and listed once in the chart's table of numbers.
    rows = actions_chart.find_elements(By.CSS_SELECTOR, "details.numbers tbody tr")
    assert len(rows) == len(dots)
    description = actions_chart.find_element(By.TAG_NAME, "desc").get_attribute("textContent")
    assert "Actions failed:" in description and "no data" not in description.split(";")[1]


def test_health_shows_the_report(operator):
    operator.go("#/health", "health")
    assert operator.driver.find_element(By.ID, "health-state").text in ("Healthy", "Not healthy")


@pytest.mark.parametrize(("view", "hash_"), SCREENS, ids=[s[0] for s in SCREENS])
def test_each_screen_passes_axe_and_is_saved(operator, data, view, hash_):
    operator.go(hash_ or f"#/action/{data.failed}", view)
    operator.shoot(view)
    assert operator.axe() == []


def test_the_sign_in_screen_passes_axe(page, users):
    page.signed_out()
    page.shoot("signin")
    assert page.axe() == []


def test_the_keyboard_reaches_the_screens(operator):
    operator.go("#/actions?status=pending", "actions")
    link = operator.driver.find_element(By.CSS_SELECTOR, '#nav a[data-view="dead-letters"]')
    link.send_keys("\n")  # Enter on a focused link
    operator.wait(lambda d: operator.ready() == "dead-letters", "dead letters by keyboard")
    focused = operator.driver.switch_to.active_element
    assert focused.tag_name == "h1"  # focus moves to the new screen's heading


def test_sign_out_forgets_the_token(operator):
    operator.go("#/health", "health")
    operator.driver.find_element(By.ID, "sign-out").click()
    operator.wait(lambda d: operator.ready() == "signin", "the sign-in screen after sign-out")
    stored = operator.driver.execute_script("return sessionStorage.getItem('console.tokens')")
    assert stored is None
    assert "token" not in operator.driver.current_url


def test_escape_dismisses_a_confirmation(operator, cloud, data):
    operator.go("#/actions?status=pending&group=console-refused", "actions")
    operator.row(data.refused).find_element(By.CSS_SELECTOR, "button.cancel").send_keys("\n")
    operator.wait(lambda d: operator.dialog_open(), "the confirmation")
    focused = operator.driver.switch_to.active_element
    assert focused.get_attribute("id") == "confirm-cancel"  # the safe choice first
    focused.send_keys(Keys.ESCAPE)
    operator.wait(lambda d: not operator.dialog_open(), "the confirmation to close")
    assert _status(cloud, data.refused) == "pending"


def test_the_failed_tab_lists_the_failed_action_with_nothing_to_cancel(operator, data):
    operator.go("#/actions?status=failed&group=console-failed", "actions")
    row = operator.row(data.failed)
    assert row.get_attribute("data-status") == "failed"
    assert "local_fail" in row.text and "failed" in row.find_element(By.CSS_SELECTOR, ".badge").text
    assert not operator.driver.find_elements(By.ID, "bulk-cancel")
    assert not row.find_elements(By.CSS_SELECTOR, "input.row-select, button.cancel, button.run-now")
