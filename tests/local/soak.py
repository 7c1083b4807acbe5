"""The soak run: thousands of signed webhooks through the local cloud, then a reconciliation.

    python -m tests.local.soak [--deliveries N] [--seed S]     # or: make soak

What it does:

1. **Plans** ``N`` deliveries (``--deliveries``, env ``SOAK_DELIVERIES``, default
   ``DEFAULT_DELIVERIES``) by seeded chance (``--seed``): each is an ``hmac`` webhook
   whose payload names its fate (``tests/local/soak_hooks.py`` acts it out):
   ``ok``; ``transient`` (its first 1-5 runs fail; five failures use up
   ``process_webhook``'s five attempts); ``permanent``; or ``crash`` (the worker
   dies on the first run, before or after the hook's effect). Each delivery is sent
   one to three times; some copies at once, the others later, out of order.
2. **Starts** the local cloud (moto, the synthesized stack, in-process functions,
   pollers, HTTP front) with ``ACTION_HOOK_MODULES=tests.local.soak_hooks`` and an
   effects table of its own. One change to the template, made in memory: the
   worker's timeout is 20 s, its claim margin 5 s and the job queues' visibility
   timeout 40 s (on AWS: 60 s, 30 s and 360 s), so a crashed run's message comes back
   and is claimed again within 40 s rather than six minutes. The ratios that matter
   are kept: the visibility timeout outlives the claim, which outlives the timeout;
   and the worker's timeout leaves room for more than one record of a batch
   (``process_webhook``'s budget, 10 s, plus the 5 s margin: functions/actions/budget.py).
3. **Sends** every copy over HTTP from a thread pool, as senders do: ``202`` for the
   first copy, ``200`` for a repeat, ``409`` (in progress) and ``5xx`` retried.
4. **Waits** until every accepted delivery's action is finished and the job queues
   are empty, or until the deadline.
5. **Reconciles** the answers, the actions table, the dead-letter queues and the
   effects table against the plan (:func:`reconcile`, a pure function): every
   accepted delivery has exactly one action; each action is complete, or failed and
   in the dead-letter queue with its error, as its fate says; every run happened
   as often as the fate says; no effect happened twice, and none for a failure;
   nothing is left on a queue or lost. It prints the counts and exits 1 on any
   mismatch.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import copy
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from boto3.dynamodb.types import Binary, TypeDeserializer

from functions.webhooks.config import parse_sources
from infra.config import DEFAULT_SOURCES
from infra.local.demo_secrets import DEMO_SECRETS
from tests.local.soak_hooks import EFFECTS_TABLE_VARIABLE, EVENT_TYPE

DEFAULT_DELIVERIES = 1000
DEFAULT_SEED = 8
SOURCE = "hmac"
HOOK = "process_webhook"
MAX_ATTEMPTS = 5  # process_webhook's; five transient failures exhaust it
SENDERS = 8  # concurrent HTTP senders
# The soak's crash recovery: timeout < timeout + claim margin < visibility timeout.
WORKER_TIMEOUT_SECONDS = 20
CLAIM_MARGIN_SECONDS = 5
VISIBILITY_TIMEOUT_SECONDS = 40
# Fates by chance. Crashes stay rare: a crash returns its whole batch to the queue (and
# uses the crashed run's attempt), and each one waits out the visibility timeout.
FATES = (("ok", 0.57), ("transient", 0.28), ("permanent", 0.12), ("crash", 0.03))
TRANSIENT_FAILURES = (1, 1, 2, 2, 3, 4, 5)  # 5: every attempt fails


# -- the plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery and what must become of it."""

    n: int
    delivery_id: str
    fate: str
    failures: int = 0  # transient: the runs that fail
    crash: str = ""  # crash: "before" or "after" the effect
    copies: int = 1
    concurrent: bool = False  # the copies are sent at the same moment

    @property
    def payload(self) -> dict[str, Any]:
        return {"n": self.n, "fate": self.fate, "failures": self.failures, "crash": self.crash}

    @property
    def fails(self) -> bool:
        return self.fate == "permanent" or (
            self.fate == "transient" and self.failures >= MAX_ATTEMPTS
        )

    @property
    def expected_status(self) -> str:
        return "failed" if self.fails else "complete"

    @property
    def expected_reason(self) -> str | None:
        """The dead letter's ``reason`` attribute, or None for no dead letter."""
        if self.fate == "permanent":
            return "permanent"
        return "exhausted" if self.fails else None

    @property
    def expected_runs(self) -> int:
        if self.fate == "transient":
            return min(self.failures + 1, MAX_ATTEMPTS)
        return 2 if self.fate == "crash" else 1

    @property
    def expected_effects(self) -> int:
        return 0 if self.fails else 1

    @property
    def expected_repeats(self) -> int:
        """Runs that found the effect already applied: a crash after the effect, once."""
        return 1 if self.fate == "crash" and self.crash == "after" else 0


def plan(
    deliveries: int, seed: int, *, transient_failures: tuple[int, ...] = TRANSIENT_FAILURES
) -> list[Delivery]:
    """The deliveries of a run: the same seed, the same fates, copies and order."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    names, weights = zip(*FATES, strict=True)
    planned = []
    for n in range(deliveries):
        fate = rng.choices(names, weights)[0]
        copies = rng.choice((1, 2, 3))
        planned.append(
            Delivery(
                n=n,
                delivery_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                fate=fate,
                failures=rng.choice(transient_failures) if fate == "transient" else 0,
                crash=rng.choice(("before", "after")) if fate == "crash" else "",
                copies=copies,
                concurrent=copies > 1 and rng.random() < 0.5,
            )
        )
    return planned


def send_order(deliveries: Iterable[Delivery], seed: int) -> list[tuple[Delivery, int]]:
    """Every copy to send, in order: concurrent copies side by side, others 5-100 later."""
    rng = random.Random(seed + 1)  # noqa: S311 - a reproducible order
    keyed = []
    for delivery in deliveries:
        for copy_number in range(delivery.copies):
            if copy_number == 0 or delivery.concurrent:
                key = delivery.n + copy_number / 10
            else:
                key = delivery.n + rng.uniform(5, 100)
            keyed.append((key, delivery, copy_number))
    keyed.sort(key=lambda entry: entry[0])
    return [(delivery, copy_number) for _, delivery, copy_number in keyed]


# -- what the run observed ------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The final answer to one copy, after the sender's retries of 409 and 5xx."""

    n: int
    status: int
    action_id: str
    tries: int = 1
    retried: tuple[int, ...] = ()  # the statuses that were retried (0: no connection)


@dataclass(frozen=True)
class DeadLetter:
    action_id: str
    reason: str
    error: str
    queue: str


@dataclass
class Observed:
    """Everything the reconciliation reads, gathered once the run is quiet."""

    answers: list[Answer] = field(default_factory=list)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # action id -> item
    dead_letters: list[DeadLetter] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)  # action id -> record
    left_on_queues: dict[str, int] = field(default_factory=dict)  # job queue -> messages
    crashed_invocations: int = 0
    timed_out_invocations: int = 0


@dataclass
class Reconciliation:
    counts: dict[str, tuple[int | None, int]]  # name -> (expected or None, observed)
    by_fate: dict[str, dict[str, int]]
    mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _action_delivery(item: dict[str, Any]) -> tuple[str, int | None]:
    """The delivery id and soak number an action was created for."""
    from functions.actions.store.record import args_of

    try:  # the store's reading: args as JSON text, or compressed (bytes of a Binary)
        args = args_of({key: bytes(value) if isinstance(value, Binary) else value
                        for key, value in item.items()})  # fmt: skip
    except (ValueError, zlib.error):
        return "", None
    if not isinstance(args, dict):
        return "", None
    payload = args.get("payload")
    n = payload.get("n") if isinstance(payload, dict) else None
    return str(args.get("delivery_id", "")), n if isinstance(n, int) else None


class _Reconciler:
    """The reconciliation's indexes of what was observed, and one check per concern."""

    def __init__(self, deliveries: list[Delivery], observed: Observed) -> None:
        self.deliveries = deliveries
        self.observed = observed
        self.mismatches: list[str] = []
        self.by_fate: dict[str, collections.Counter[str]] = {
            name: collections.Counter() for name, _ in FATES
        }
        self.answers: dict[int, list[Answer]] = collections.defaultdict(list)
        for answer in observed.answers:
            self.answers[answer.n].append(answer)
        self.actions_of: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for item in observed.actions.values():
            self.actions_of[_action_delivery(item)[0]].append(item)
        self.letters_of: dict[str, list[DeadLetter]] = collections.defaultdict(list)
        for letter in observed.dead_letters:
            self.letters_of[letter.action_id].append(letter)
        self.effects_of: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        for record in observed.effects.values():
            self.effects_of[int(record.get("n", -1))].append(record)
        self.planned_actions: set[str] = set()

    def delivery(self, d: Delivery) -> None:
        fate = self.by_fate[d.fate]
        fate["deliveries"] += 1
        fate[f"expected {d.expected_status}"] += 1
        label = f"delivery {d.n} ({d.fate})"
        answered = self._answers(d, label)
        actions = self.actions_of.get(d.delivery_id, [])
        if len(actions) != 1:
            self.mismatches.append(f"{label}: {len(actions)} actions, not one")
        for item in actions:
            self._action(d, label, item, answered)
        self._effects(d, label)

    def _answers(self, d: Delivery, label: str) -> set[str]:
        """Exactly one 202, the other copies 200, all naming one action; its id."""
        got = self.answers.get(d.n, [])
        statuses = collections.Counter(a.status for a in got)
        if len(got) != d.copies:
            self.mismatches.append(f"{label}: {d.copies} copies sent, {len(got)} answered")
        if statuses[202] != 1:
            self.mismatches.append(f"{label}: accepted (202) {statuses[202]} times, not once")
        if set(statuses) - {200, 202}:
            self.mismatches.append(f"{label}: answered {dict(statuses)}")
        answered = {a.action_id for a in got if a.status in (200, 202)}
        if len(answered) > 1:
            self.mismatches.append(f"{label}: answered with {len(answered)} action ids")
        return answered

    def _action(self, d: Delivery, label: str, item: dict[str, Any], answered: set[str]) -> None:
        """The action ended as its fate says, with its dead letter if it failed."""
        action_id = item["action_id"]
        self.planned_actions.add(action_id)
        fate = self.by_fate[d.fate]
        if answered and action_id not in answered:
            self.mismatches.append(f"{label}: action {action_id} is not the one answered")
        status = item.get("status")
        fate[str(status)] += 1
        if status != d.expected_status:
            self.mismatches.append(
                f"{label}: action {action_id} is {status}, expected {d.expected_status}"
                f" ({item.get('last_error', '')})"
            )
        letters = self.letters_of.get(action_id, [])
        fate["dead letters"] += len(letters)
        if d.expected_reason is None:
            if letters:
                self.mismatches.append(f"{label}: {len(letters)} dead letters, expected none")
            return
        if len(letters) != 1:
            self.mismatches.append(f"{label}: {len(letters)} dead letters, not one")
        for letter in letters:
            if letter.reason != d.expected_reason or not letter.error:
                self.mismatches.append(
                    f"{label}: dead letter reason {letter.reason!r} error {letter.error!r}, "
                    f"expected {d.expected_reason!r} with its error"
                )

    def _effects(self, d: Delivery, label: str) -> None:
        """Runs as often as the fate says; the effect once if it completes, never if not."""
        records = self.effects_of.get(d.n, [])
        observed = {
            key: sum(int(r.get(key, 0)) for r in records) for key in ("runs", "effects", "repeats")
        }
        self.by_fate[d.fate]["runs"] += observed["runs"]
        self.by_fate[d.fate]["effects"] += observed["effects"]
        expected = {
            "runs": d.expected_runs,
            "effects": d.expected_effects,
            "repeats": d.expected_repeats,
        }
        for key, value in expected.items():
            if observed[key] != value:
                self.mismatches.append(f"{label}: {observed[key]} {key}, expected {value}")

    def leftovers(self) -> None:
        """Nothing that belongs to no delivery, nothing still queued, every crash seen."""
        planned_ids = {d.delivery_id for d in self.deliveries}
        for delivery_id, items in self.actions_of.items():
            if delivery_id not in planned_ids:
                ids = ", ".join(item["action_id"] for item in items)
                self.mismatches.append(f"actions of no planned delivery ({delivery_id!r}): {ids}")
        for letter in self.observed.dead_letters:
            if letter.action_id not in self.planned_actions:
                self.mismatches.append(
                    f"dead letter of no planned action: {letter.action_id!r} "
                    f"({letter.reason}: {letter.error}) on {letter.queue}"
                )
        for n in sorted(set(self.effects_of) - {d.n for d in self.deliveries}):
            self.mismatches.append(f"effects recorded for no planned delivery: n={n}")
        for queue, left in sorted(self.observed.left_on_queues.items()):
            if left:
                self.mismatches.append(f"{left} messages still on the {queue} job queue")
        crashes = sum(1 for d in self.deliveries if d.fate == "crash")
        if self.observed.crashed_invocations != crashes:
            self.mismatches.append(
                f"{self.observed.crashed_invocations} worker invocations crashed, "
                f"expected {crashes}"
            )

    def counts(self) -> dict[str, tuple[int | None, int]]:
        deliveries, observed = self.deliveries, self.observed
        statuses = collections.Counter(a.status for a in observed.answers)
        retried = collections.Counter(s for a in observed.answers for s in a.retried)
        status = collections.Counter(i.get("status") for i in observed.actions.values())

        def total(key: str) -> int:
            return sum(int(r.get(key, 0)) for r in observed.effects.values())

        return {
            "deliveries": (len(deliveries), len({a.n for a in observed.answers})),
            "copies sent": (sum(d.copies for d in deliveries), len(observed.answers)),
            "HTTP requests": (None, sum(a.tries for a in observed.answers)),
            "accepted (202)": (len(deliveries), statuses[202]),
            "duplicates answered (200)": (sum(d.copies - 1 for d in deliveries), statuses[200]),
            "in progress (409), retried": (None, retried[409]),
            "server errors, retried": (None, sum(v for s, v in retried.items() if s != 409)),
            "actions": (len(deliveries), len(observed.actions)),
            "complete": (
                sum(d.expected_status == "complete" for d in deliveries),
                status["complete"],
            ),
            "failed": (sum(d.expected_status == "failed" for d in deliveries), status["failed"]),
            "pending or in progress": (0, status["pending"] + status["in-progress"]),
            "dead letters": (
                sum(d.expected_reason is not None for d in deliveries),
                len(observed.dead_letters),
            ),
            "hook runs": (sum(d.expected_runs for d in deliveries), total("runs")),
            "effects": (sum(d.expected_effects for d in deliveries), total("effects")),
            "repeated effects suppressed": (
                sum(d.expected_repeats for d in deliveries),
                total("repeats"),
            ),
            "worker crashes": (
                sum(1 for d in deliveries if d.fate == "crash"),
                observed.crashed_invocations,
            ),
            "worker timeouts": (None, observed.timed_out_invocations),
            "left on job queues": (0, sum(observed.left_on_queues.values())),
            "mismatches": (0, len(self.mismatches)),
        }


def reconcile(deliveries: list[Delivery], observed: Observed) -> Reconciliation:
    """Compare what happened with what the plan says must happen; list every mismatch."""
    reconciler = _Reconciler(deliveries, observed)
    for delivery in deliveries:
        reconciler.delivery(delivery)
    reconciler.leftovers()
    return Reconciliation(
        reconciler.counts(),
        {fate: dict(numbers) for fate, numbers in reconciler.by_fate.items()},
        reconciler.mismatches,
    )


def render(result: Reconciliation, *, seconds: float, sending_seconds: float) -> str:
    """The table the run prints."""
    rows = [f"{'':<30}{'expected':>10}{'observed':>10}"]
    for name, (expected, seen) in result.counts.items():
        flag = "" if expected is None or expected == seen else "   <-- mismatch"
        rows.append(f"{name:<30}{'' if expected is None else expected:>10}{seen:>10}{flag}")
    rows.append("")
    columns = (
        "deliveries",
        "expected complete",
        "complete",
        "expected failed",
        "failed",
        "dead letters",
        "runs",
        "effects",
    )
    rows.append(
        f"{'fate':<12}" + "".join(f"{c:>19}" if len(c) > 10 else f"{c:>12}" for c in columns)
    )
    for fate, numbers in result.by_fate.items():
        rows.append(
            f"{fate:<12}"
            + "".join(
                f"{numbers.get(c, 0):>19}" if len(c) > 10 else f"{numbers.get(c, 0):>12}"
                for c in columns
            )
        )
    deliveries = result.counts["deliveries"][0] or 0
    requests = result.counts["HTTP requests"][1]
    rows += [
        "",
        f"duration {seconds:.1f} s (sending {sending_seconds:.1f} s); "
        f"{requests / max(sending_seconds, 1e-9):.1f} requests/s sent, "
        f"{deliveries / max(seconds, 1e-9):.1f} deliveries/s end to end",
    ]
    if result.mismatches:
        rows.append(f"MISMATCHES ({len(result.mismatches)}):")
        rows += [f"  {m}" for m in result.mismatches[:50]]
        if len(result.mismatches) > 50:
            rows.append(f"  ... and {len(result.mismatches) - 50} more")
    else:
        rows.append("all reconciled: no mismatch")
    return "\n".join(rows)


# -- running it -----------------------------------------------------------------------


def soak_template(template: dict[str, Any]) -> dict[str, Any]:
    """The template with the soak's fast crash recovery (a copy; the original is untouched).

    The worker (the function whose environment names ``WORKER_TIMEOUT_SECONDS``) gets
    a 20 s timeout and a 5 s claim margin; the job queues (the queues with a redrive
    policy) a 40 s visibility timeout.
    """
    changed = copy.deepcopy(template)
    for resource in changed["Resources"].values():
        properties = resource.get("Properties", {})
        variables = properties.get("Environment", {}).get("Variables", {})
        if resource["Type"] == "AWS::Lambda::Function" and "WORKER_TIMEOUT_SECONDS" in variables:
            properties["Timeout"] = WORKER_TIMEOUT_SECONDS
            variables["WORKER_TIMEOUT_SECONDS"] = str(WORKER_TIMEOUT_SECONDS)
            variables["CLAIM_MARGIN_SECONDS"] = str(CLAIM_MARGIN_SECONDS)
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in properties:
            properties["VisibilityTimeout"] = VISIBILITY_TIMEOUT_SECONDS
    return changed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Discard:
    """A stdout for the functions' JSON log lines: thousands a second, none needed here."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class _CloudLog:
    """The local cloud's own lines: kept briefly, crashed and timed-out worker runs counted."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.crashed = 0
        self.timed_out = 0
        self.last: collections.deque[str] = collections.deque(maxlen=200)
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.last.append(line)
            if line.startswith(f"REPORT {self.worker} ") and " Error: " in line:
                # A process environment that exited, or (in-process) SystemExit caught.
                if "Error: Runtime.ExitError:" in line or "Error: SystemExit:" in line:
                    self.crashed += 1
                elif "Sandbox.Timedout" in line:
                    self.timed_out += 1


@contextlib.contextmanager
def local_cloud(template: dict[str, Any], log: Callable[[str], None]) -> Iterator[Any]:
    """The local cloud with the soak's hooks and effects table; the environment restored after."""
    from infra.local.cloud import LocalCloud

    table = f"soak-effects-{uuid.uuid4().hex[:8]}"
    saved = {name: os.environ.get(name) for name in ("ACTION_HOOK_MODULES", EFFECTS_TABLE_VARIABLE)}
    os.environ["ACTION_HOOK_MODULES"] = "tests.local.soak_hooks"
    os.environ[EFFECTS_TABLE_VARIABLE] = table
    cloud = LocalCloud(
        api_port=_free_port(), aws_port=_free_port(), log=log, template=soak_template(template)
    )
    try:
        cloud.start()
        boto3.client("dynamodb").create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "action_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "action_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        cloud.effects_table = table
        yield cloud
    finally:
        cloud.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Sender:
    """Signs and posts copies as a webhook sender does: 409 and 5xx are retried."""

    def __init__(self, url: str, *, retries: int = 8) -> None:
        config = {**DEFAULT_SOURCES[SOURCE], "secret": SOURCE}
        self._scheme = parse_sources(json.dumps({SOURCE: config}))[SOURCE].build()
        self._url = f"{url}{SOURCE}"
        self._retries = retries

    def request(self, delivery: Delivery) -> urllib.request.Request:
        body = json.dumps(delivery.payload).encode()
        headers = self._scheme.sign(
            body, DEMO_SECRETS[SOURCE], delivery_id=delivery.delivery_id, event_type=EVENT_TYPE
        )
        headers["content-type"] = "application/json"
        return urllib.request.Request(self._url, data=body, method="POST", headers=headers)  # noqa: S310 - 127.0.0.1

    def send(self, delivery: Delivery) -> Answer:
        retried: list[int] = []
        for tries in range(1, self._retries + 2):
            status, body = self._post(delivery)
            if status in (200, 202) or (400 <= status < 500 and status != 409):
                break
            retried.append(status)
            if tries <= self._retries:
                time.sleep(0.2 * tries)
        return Answer(delivery.n, status, str(body.get("action_id", "")), tries, tuple(retried))

    def _post(self, delivery: Delivery) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.request(delivery), timeout=30) as response:  # noqa: S310 - 127.0.0.1
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"{}")
            except ValueError:
                return error.code, {}
        except (OSError, ValueError):
            return 0, {}  # no connection, or no answer: a sender tries again


def send_all(
    url: str, deliveries: list[Delivery], seed: int, progress: Callable[[str], None]
) -> list[Answer]:
    """Post every copy from ``SENDERS`` threads, in the planned order."""
    sender = Sender(url)
    order = send_order(deliveries, seed)
    answers: list[Answer] = []
    with concurrent.futures.ThreadPoolExecutor(SENDERS, thread_name_prefix="sender") as pool:
        futures = [pool.submit(sender.send, delivery) for delivery, _ in order]
        for done, future in enumerate(futures, 1):
            answers.append(future.result())
            if done % 500 == 0:
                progress(f"sent {done}/{len(futures)} copies")
    return answers


def _job_queues(cloud: Any) -> dict[str, dict[str, str]]:
    return json.loads(cloud.deployment.outputs["JobQueues"])


def _left_on_queues(cloud: Any) -> dict[str, int]:
    sqs = boto3.client("sqs")
    left = {}
    for name, queue in _job_queues(cloud).items():
        attributes = sqs.get_queue_attributes(QueueUrl=queue["url"], AttributeNames=["All"])[
            "Attributes"
        ]
        left[name] = sum(
            int(attributes.get(key, 0))
            for key in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            )
        )
    return left


def _count_by_status(cloud: Any, status: str) -> int:
    """Actions in ``status``: a COUNT query of the ``by_status`` index, no scan."""
    dynamodb = boto3.client("dynamodb")
    total, start = 0, None
    while True:
        params: dict[str, Any] = {
            "TableName": cloud.deployment.outputs["ActionsTableName"],
            "IndexName": "by_status",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": status}},
            "Select": "COUNT",
        }
        if start:
            params["ExclusiveStartKey"] = start
        response = dynamodb.query(**params)
        total += response["Count"]
        start = response.get("LastEvaluatedKey")
        if not start:
            return total


def wait_until_quiet(
    cloud: Any, accepted: int, deadline: float, progress: Callable[[str], None]
) -> bool:
    """Until every accepted action is finished and the job queues are empty, twice in a row."""
    quiet, last_report = 0, 0.0
    while time.monotonic() < deadline:
        finished = _count_by_status(cloud, "complete") + _count_by_status(cloud, "failed")
        left = sum(_left_on_queues(cloud).values())
        quiet = quiet + 1 if finished >= accepted and left == 0 else 0
        if quiet >= 2:
            return True
        if time.monotonic() - last_report > 10:
            progress(f"waiting: {finished}/{accepted} actions finished, {left} messages queued")
            last_report = time.monotonic()
        time.sleep(1)
    return False


def _scan(table: str) -> Iterator[dict[str, Any]]:
    deserializer = TypeDeserializer()
    for page in boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            yield {key: deserializer.deserialize(value) for key, value in item.items()}


def read_dead_letters(cloud: Any) -> list[DeadLetter]:
    """Every message on the job queues' dead-letter queues (hidden while read, so once each)."""
    sqs = boto3.client("sqs")
    letters = []
    for name, queue in _job_queues(cloud).items():
        empty = 0
        while empty < 3:
            messages = sqs.receive_message(
                QueueUrl=queue["dead_letter_url"],
                MaxNumberOfMessages=10,
                VisibilityTimeout=900,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            empty = 0 if messages else empty + 1
            for message in messages:
                attributes = {
                    key: value.get("StringValue", "")
                    for key, value in (message.get("MessageAttributes") or {}).items()
                }
                letters.append(
                    DeadLetter(
                        action_id=attributes.get("action_id", ""),
                        reason=attributes.get("reason", ""),
                        error=attributes.get("error", ""),
                        queue=name,
                    )
                )
    return letters


def observe(cloud: Any, answers: list[Answer], log: _CloudLog) -> Observed:
    actions = {
        item["action_id"]: item
        for item in _scan(cloud.deployment.outputs["ActionsTableName"])
        if item.get("hook") == HOOK
    }
    effects = {item["action_id"]: item for item in _scan(cloud.effects_table)}
    return Observed(
        answers=answers,
        actions=actions,
        dead_letters=read_dead_letters(cloud),
        effects=effects,
        left_on_queues=_left_on_queues(cloud),
        crashed_invocations=log.crashed,
        timed_out_invocations=log.timed_out,
    )


@dataclass
class SoakResult:
    reconciliation: Reconciliation
    seconds: float
    sending_seconds: float
    quiet: bool

    @property
    def ok(self) -> bool:
        return self.quiet and self.reconciliation.ok

    def table(self) -> str:
        text = render(
            self.reconciliation, seconds=self.seconds, sending_seconds=self.sending_seconds
        )
        return text if self.quiet else text + "\nthe run did not go quiet before the deadline"


def run(
    deliveries: int,
    seed: int,
    *,
    template: dict[str, Any] | None = None,
    deadline_seconds: float = 300.0,
    transient_failures: tuple[int, ...] = TRANSIENT_FAILURES,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> SoakResult:
    """Plan, start the local cloud, send, wait, reconcile. ``template``: synthesized if None."""
    if template is None:
        from infra.local.cloud import synthesize

        progress("synthesizing the stack...")
        template, _ = synthesize()
    planned = plan(deliveries, seed, transient_failures=transient_failures)
    worker = next(
        name
        for name, resource in template["Resources"].items()
        if "WORKER_TIMEOUT_SECONDS"
        in resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
    )
    log = _CloudLog(worker="")
    # The functions log JSON to stdout, thousands of lines; the soak's output is the table.
    with contextlib.redirect_stdout(_Discard()), local_cloud(template, log) as cloud:
        log.worker = cloud.deployment.functions[worker].name
        progress(
            f"local cloud up; sending {sum(d.copies for d in planned)} copies of "
            f"{deliveries} deliveries (seed {seed})"
        )
        started = time.monotonic()
        answers = send_all(cloud.webhook_url, planned, seed, progress)
        sending = time.monotonic() - started
        accepted = sum(1 for a in answers if a.status == 202)
        quiet = wait_until_quiet(cloud, accepted, time.monotonic() + deadline_seconds, progress)
        seconds = time.monotonic() - started
        observed = observe(cloud, answers, log)
    return SoakResult(reconcile(planned, observed), seconds, sending, quiet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.local.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--deliveries",
        type=int,
        default=int(os.environ.get("SOAK_DELIVERIES", DEFAULT_DELIVERIES)),
        help=f"how many deliveries (env SOAK_DELIVERIES; default {DEFAULT_DELIVERIES})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the fates' seed")
    parser.add_argument(
        "--deadline",
        type=float,
        default=300.0,
        help="seconds to wait for quiet after the last copy is answered (default 300)",
    )
    args = parser.parse_args(argv)
    result = run(args.deliveries, args.seed, deadline_seconds=args.deadline)
    print(result.table(), flush=True)
    from tests.bench.sections import ROOT, write_figures

    written = write_figures(
        "soak",
        {
            "deliveries": args.deliveries,
            "seed": args.seed,
            "ok": result.ok,
            "table": result.table(),
        },
    )
    print(f"written: {written.relative_to(ROOT)} (the docs' Figures page renders it)")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
