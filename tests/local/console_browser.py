"""The console page in headless Chromium: the browser and the page's moves.

Shared by the browser tests (tests/local/test_console_page.py) and the bench
(tests/bench/console.py). Debian's chromium through its chromedriver, with Selenium
(docs/decisions/0062-the-console-page-is-tested-with-selenium.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".cache" / "console"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT = 30  # seconds a condition may take before the test fails; not a wait
MISSING = (
    "the console's browser tests need Debian's chromium and chromedriver: "
    "`make browser` installs them (apt-get update && apt-get install -y chromium chromium-driver)"
)


class BrowserMissing(RuntimeError):
    """chromium or chromedriver is not installed."""


def chrome() -> WebDriver:
    """Headless chromium, driven by the chromedriver of the same Debian build."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        raise BrowserMissing(MISSING)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # as root in CI
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_script_timeout(TIMEOUT)
    return driver


class Failed(AssertionError):
    """A condition of the page did not come true in time."""


class Page:
    """The console in the browser: sign in, go to a screen, wait for it, act on it."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        self.url = url  # the console's, .../console/

    def wait(self, condition: Callable[[WebDriver], Any], what: str) -> Any:
        try:
            # A condition may read an element of the document just replaced by a
            # navigation: it is asked again.
            return WebDriverWait(
                self.driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)
            ).until(condition)
        except TimeoutException:
            status = self.driver.execute_script(
                "return (document.getElementById('status') || {}).textContent"
            )
            raise Failed(f"waited {TIMEOUT} s for {what}; the page says: {status!r}") from None

    def ready(self) -> str:
        """The screen the page last finished drawing ("" while it loads)."""
        script = "return (document.body && document.body.dataset.ready) || ''"
        return str(self.driver.execute_script(script))

    def renders(self) -> int:
        script = "return (document.body && document.body.dataset.renders) || 0"
        return int(self.driver.execute_script(script))

    def sign_in(self, username: str, password: str, hash_: str = "#/actions") -> None:
        self.signed_out(hash_)
        self.driver.find_element(By.ID, "sign-in").click()
        self.wait(lambda d: d.find_elements(By.ID, "username"), "the managed login's form")
        self.driver.find_element(By.ID, "username").send_keys(username)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.driver.find_element(By.ID, "signin").click()
        self.wait(lambda d: self.ready() not in ("", "signin"), "the first screen after sign-in")

    def signed_out(self, hash_: str = "") -> None:
        """The page afresh, with no tokens: its sign-in screen."""
        self.driver.get(self.url + hash_)
        self.driver.execute_script(
            "sessionStorage.clear(); document.body.dataset.stale = '1'; location.reload()"
        )
        self.wait(
            lambda d: (
                d.execute_script("return !!document.body && !document.body.dataset.stale")
                and self.ready() == "signin"
            ),
            "the sign-in screen",
        )

    def go(self, hash_: str, view: str) -> None:
        """Goes to ``hash_`` and waits until the page has drawn ``view`` from it."""
        before = self.renders()
        if self.driver.execute_script("return location.hash") == hash_:
            self.driver.find_element(By.ID, "refresh").click()
        else:
            self.driver.execute_script("location.hash = arguments[0]", hash_)
        self.wait(lambda d: self.renders() > before and self.ready() == view, f"the {view} screen")

    def refresh(self, view: str) -> None:
        before = self.renders()
        self.driver.find_element(By.ID, "refresh").click()
        self.wait(lambda d: self.renders() > before and self.ready() == view, f"{view} again")

    def dialog_open(self) -> bool:
        return self.driver.find_element(By.ID, "confirm").get_attribute("open") is not None

    def confirm(self, expected: str) -> str:
        dialog = self.wait(
            lambda d: (
                d.find_element(By.ID, "confirm").get_attribute("open") is not None
                and d.find_element(By.ID, "confirm")
            ),
            "the confirmation",
        )
        text = dialog.find_element(By.ID, "confirm-text").text
        assert expected in text
        dialog.find_element(By.ID, "confirm-ok").click()
        return text

    def status_says(self, text: str) -> str:
        return self.wait(
            lambda d: (
                text in d.find_element(By.ID, "status").text
                and d.find_element(By.ID, "status").text
            ),
            f"the status line to say {text!r}",
        )

    def row_ids(self) -> list[str]:
        """The action ids of the list's rows, in order."""
        rows = self.driver.find_elements(By.CSS_SELECTOR, "tbody tr[data-id]")
        return [row.get_attribute("data-id") or "" for row in rows]

    def row(self, action_id: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'tr[data-id="{action_id}"]')

    def token(self) -> str:
        return self.driver.execute_script(
            "return JSON.parse(sessionStorage.getItem('console.tokens')).id_token"
        )

    def shoot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the screen as it is."""
        if not self.driver.execute_script("return typeof window.axe === 'object'"):
            self.driver.execute_script(AXE.read_text())
        violations = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then((r) => done(r.violations), (e) => done([{id: String(e)}]));"
        )
        return [
            {"id": v["id"], "impact": v.get("impact"), "help": v.get("help"), "nodes": _targets(v)}
            for v in violations
            if v.get("impact") in ("serious", "critical", None)
        ]


def _targets(violation: dict[str, Any]) -> list[Any]:
    return [node["target"] for node in violation.get("nodes", [])][:3]
