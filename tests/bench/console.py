"""The console page: its weight, and the time to a rendered list of 50 actions.

- Page weight: what a first visit downloads (``web/``'s HTML, JS and CSS), each file
  gzip-compressed (level 9, as CloudFront's compression), beside the same files
  uncompressed.
- Time to a rendered list: headless Chromium (tests/local/console_browser.py) against
  the local cloud, signed in, loads ``/console/#/actions`` afresh and the page reports
  when the list of 50 is in the document (``data-readyAt``: milliseconds since the
  navigation started). The baseline is the list request alone, ``GET
  /console/api/actions?per_page=50`` with the same token from this process, measured
  in the same run: what the page adds is its own modules, the tally request and the
  drawing. Medians of ``BENCH_CONSOLE_LOADS`` loads each.
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bench.aws import BASE_ENV
from tests.bench.report import Figure
from tests.bench.sections import ROOT, section_main

LOADS = int(os.environ.get("BENCH_CONSOLE_LOADS", "5"))
ROWS = 50
WEB = ROOT / "web"


def page_weight() -> dict[str, int]:
    files = sorted(p for p in WEB.rglob("*") if p.suffix in (".html", ".js", ".css"))
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "gzip_bytes": sum(len(gzip.compress(p.read_bytes(), 9)) for p in files),
    }


def _list_request(url: str, token: str) -> float:
    request = urllib.request.Request(url, headers={"Authorization": token})  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        rows = len(json.loads(response.read())["actions"])
    elapsed = time.perf_counter() - started
    assert rows == ROWS, rows
    return elapsed * 1000


def measure(workdir: Path) -> dict[str, Any]:
    import boto3
    from selenium.webdriver.common.by import By

    from infra.local.cloud import LocalCloud
    from tests.local.console_browser import Page, chrome
    from tests.local.test_cloud import _free_port
    from tests.local.test_console_page import _as_the_stack

    result: dict[str, Any] = {"weight": page_weight()}
    template = json.loads((workdir / "template.json").read_text())
    cloud = LocalCloud(
        api_port=_free_port(), aws_port=_free_port(), log=lambda line: None, template=template
    )
    cloud.start()
    driver = None
    try:
        pool = cloud.front.pages.user_pool_id
        cognito = boto3.client("cognito-idp")
        cognito.admin_create_user(UserPoolId=pool, Username="bench", MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username="bench", Password="Bench-pass-1!", Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="bench", GroupName="viewers")
        later = datetime.now(UTC) + timedelta(days=1)
        with _as_the_stack(cloud) as actions:
            for n in range(ROWS + 10):
                actions.schedule_single_action(later, "local_tick", {"n": n}, group="bench")
        driver = chrome()
        page = Page(driver, cloud.console_url)
        page.sign_in("bench", "Bench-pass-1!", "#/actions?status=pending&group=bench")
        token = page.token()
        query = f"status=pending&group=bench&per_page={ROWS}"
        api = f"http://127.0.0.1:{cloud.front.port}/console/api/actions?{query}"
        page_ms, api_ms = [], []
        for _ in range(LOADS):
            api_ms.append(_list_request(api, token))
            driver.get("about:blank")
            driver.get(f"{cloud.console_url}#/actions?status=pending&group=bench")
            page.wait(lambda d: page.ready() == "actions", "the list")
            assert len(driver.find_elements(By.CSS_SELECTOR, "tbody tr[data-id]")) == ROWS
            body = driver.find_element(By.TAG_NAME, "body")
            page_ms.append(float(body.get_attribute("data-ready-at") or "nan"))
        result.update(page_ms=page_ms, api_ms=api_ms)
    finally:
        if driver is not None:
            driver.quit()
        cloud.stop()
    return result


def figures(data: dict[str, Any]) -> list[Figure]:
    """The console's rows of the bench table."""
    weight = data["weight"]
    return [
        Figure(
            "Console page weight (HTML+JS+CSS, gzip)", weight["gzip_bytes"] / 1024, "KiB",
            weight["bytes"] / 1024, f"the same {weight['files']} files uncompressed", 50,
            reason="the page's own modules grew", note="everything a first visit downloads",
        ),
        Figure(
            f"Console: time to a rendered list of {ROWS} (headless Chromium)",
            statistics.median(data["page_ms"]), "ms", statistics.median(data["api_ms"]),
            f"GET /console/api/actions?per_page={ROWS} alone", 4, "ratio",
            reason="the page's modules, the tally request or the drawing got slow",
            note="from navigation start, local cloud, signed in",
        ),
    ]  # fmt: skip


if __name__ == "__main__":
    # As the other sections: no AWS, and the functions' log lines dropped. Not at import:
    # the bench's main process imports figures() from here.
    os.environ.update(BASE_ENV)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    section_main("console", measure)
