"""``make run`` as a user runs it: ``python -m infra.local.cloud -c ...`` in a project
directory of the test's, whose copy of cdk.json adds a source; then ``actionsctl`` in
other processes, as from a second terminal.

One cloud for the module (its own synthesis, with that context), on free ports.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BILLING = {"scheme": "hmac", "header": "X-Billing-Signature", "encoding": "base64"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Run:
    process: subprocess.Popen
    banner: str
    environment: dict[str, str]  # what the banner says to export, for a second terminal
    ports: dict[str, str]

    def actionsctl(self, *argv: str, **options) -> subprocess.CompletedProcess:
        options.setdefault("env", self.environment)
        return subprocess.run(  # noqa: S603 - this interpreter, the project's CLI
            [sys.executable, "-m", "infra.cli.main", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            **options,
        )


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment without what a test or a stack put there."""
    names = ("JOB_QUEUES", "ACTIONS_TABLE_NAME", "ACTION_SCHEDULER_STACK", "AWS_ENDPOINT_URL")
    kept = {key: value for key, value in os.environ.items() if key not in names}
    return {**kept, "PYTHONPATH": str(ROOT), **extra}


def _read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """What the process printed, up to the line holding ``marker`` (or its exit).

    A thread reads the output line by line for as long as the process runs: lines are
    never left in a buffer that ``select`` cannot see, and a chatty cloud never fills
    its pipe and blocks.
    """
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:  # it exited
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} in:\n{''.join(seen)}")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[Run]:
    project = tmp_path_factory.mktemp("project")
    config = json.loads((ROOT / "cdk.json").read_text())
    config["context"]["webhookSources"]["billing"] = BILLING
    (project / "cdk.json").write_text(json.dumps(config))
    ports = {"LOCAL_API_PORT": str(_free_port()), "LOCAL_AWS_PORT": str(_free_port())}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.cloud", "-c", "stackName=LocalJobs"],
        cwd=project,
        env=_environment(**ports, LOCAL_RELOAD="0", LOCAL_CONCURRENCY="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = _read_until(process, "Ctrl-C stops it.", timeout=300)
        environment = _environment(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{ports['LOCAL_AWS_PORT']}",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            ACTION_SCHEDULER_STACK="LocalJobs",
        )
        yield Run(process, banner, environment, ports)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_the_banner_names_the_configured_sources_and_how_long_state_lives(run):
    assert "(sources: billing, github, hmac, shopify, standard, stripe)" in run.banner
    assert "State:     in memory: queues, tables, schedules and secrets are gone when it stops" in (
        run.banner
    )
    assert "ACTION_SCHEDULER_STACK=LocalJobs" in run.banner


def test_a_source_added_to_cdk_json_takes_a_signed_webhook(run):
    sent = run.actionsctl("webhook", "send", "billing")

    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("HTTP 202")
    action_id = json.loads(sent.stdout.splitlines()[1])["action_id"]
    # The worker runs it: process_webhook, grouped by its source.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = run.actionsctl("action", "get", action_id, "--json")
        item = json.loads(got.stdout) if got.returncode == 0 else {}
        if item.get("status") == "complete":
            break
        time.sleep(0.2)
    assert (item["status"], item["hook"], item["group"]) == (
        "complete",
        "process_webhook",
        "billing",
    )

    # A tampered one is refused; an unknown source is named with the configured ones.
    tampered = run.actionsctl("webhook", "send", "billing", "--sample", "tampered")
    assert tampered.stdout.startswith("HTTP 401")
    unknown = run.actionsctl("webhook", "send", "gitlab")
    assert unknown.returncode == 2
    assert "the configured sources: billing, github, hmac, shopify, standard, stripe" in (
        unknown.stderr
    )


def test_the_command_line_context_names_the_stack_and_a_wrong_name_is_a_hint(run):
    assert "The local cloud is up: stack LocalJobs." in run.banner
    assert run.actionsctl("actions", "counts").returncode == 0

    unnamed = run.actionsctl(
        "actions", "counts", env={**run.environment, "ACTION_SCHEDULER_STACK": ""}
    )

    assert unnamed.returncode == 1
    assert unnamed.stderr.startswith(
        "actionsctl: error: cannot read stack 'ActionScheduler': Stack with id ActionScheduler "
        f"does not exist in us-east-1 at {run.environment['AWS_ENDPOINT_URL']}: pass --stack "
        "NAME, or set ACTION_SCHEDULER_STACK"
    )


def test_a_second_make_run_on_the_same_ports_fails_at_once_and_says_why(run, tmp_path):
    second = subprocess.run(
        [sys.executable, "-m", "infra.local.cloud"],
        cwd=tmp_path,
        env=_environment(**run.ports),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert second.returncode == 1
    assert second.stderr == (
        f"make run: port {run.ports['LOCAL_AWS_PORT']} on 127.0.0.1 (LOCAL_AWS_PORT) is in use: "
        "is a local cloud already running? Stop it with Ctrl-C, or start this one on other "
        "ports: LOCAL_API_PORT=8001 LOCAL_AWS_PORT=4567 make run\n"
    )
    assert "synthesizing" not in second.stdout  # nothing was started
    # The first cloud is untouched.
    assert run.actionsctl("webhook", "send", "github").stdout.startswith("HTTP 202")


def test_a_closed_pipe_ends_a_command_quietly(run):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as `| head` ends
    try:
        closed = subprocess.run(
            [sys.executable, "-m", "infra.cli.main", "hooks", "list"],
            env=run.environment,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)

    assert (closed.returncode, closed.stderr) == (141, "")
