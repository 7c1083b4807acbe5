"""The soak run, small: its reconciliation passes on the local cloud, and fails when it must.

``make soak`` runs thousands of deliveries; here 60 run inside ``make test`` so the
sending, waiting and reconciling code is itself exercised end to end. Transient
failures are kept to one or two runs so the backoff (``process_webhook``'s 5 s base)
does not make the suite wait a minute; the exhausted path is in ``make soak``'s mix.
The reconciliation is a pure function, so the tests that prove it catches a lost
action, a double effect and the rest feed it a doctored record of a perfect run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.local.soak import (
    CLAIM_MARGIN_SECONDS,
    DEFAULT_SEED,
    VISIBILITY_TIMEOUT_SECONDS,
    WORKER_TIMEOUT_SECONDS,
    Answer,
    DeadLetter,
    Delivery,
    Observed,
    plan,
    reconcile,
    run,
    soak_template,
)


def test_a_small_soak_reconciles_through_the_local_cloud(synthesized, capsys):
    template, _ = synthesized
    planned = plan(60, DEFAULT_SEED, transient_failures=(1, 2))
    # The seed gives every path: both kinds of crash, permanent failures, duplicates.
    assert {d.crash for d in planned} >= {"before", "after"}
    assert {d.fate for d in planned} == {"ok", "transient", "permanent", "crash"}
    assert any(d.concurrent for d in planned)

    result = run(
        60, DEFAULT_SEED, template=template, deadline_seconds=300, transient_failures=(1, 2)
    )

    with capsys.disabled():
        print("\n" + result.table())
    assert result.quiet
    assert result.reconciliation.mismatches == []
    counts = result.reconciliation.counts
    assert counts["worker crashes"] == (2, 2)
    assert counts["repeated effects suppressed"][1] == 1
    assert counts["duplicates answered (200)"][1] > 0


def test_the_soak_template_recovers_crashes_fast_and_keeps_the_order_of_timeouts(synthesized):
    template, _ = synthesized
    original = str(template)

    changed = soak_template(template)

    assert str(template) == original  # a copy
    workers = [
        r["Properties"]
        for r in changed["Resources"].values()
        if "WORKER_TIMEOUT_SECONDS"
        in r.get("Properties", {}).get("Environment", {}).get("Variables", {})
    ]
    assert [w["Timeout"] for w in workers] == [WORKER_TIMEOUT_SECONDS]
    job_queues = [
        r["Properties"]
        for r in changed["Resources"].values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    ]
    assert {q["VisibilityTimeout"] for q in job_queues} == {VISIBILITY_TIMEOUT_SECONDS}
    # A redelivered crash finds the claim expired: no "already running" round trips.
    assert WORKER_TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS < VISIBILITY_TIMEOUT_SECONDS


def test_the_plan_is_reproducible_and_knows_each_fate_s_end():
    assert plan(200, 3) == plan(200, 3)
    assert plan(200, 3) != plan(200, 4)
    exhausted = Delivery(0, "d", "transient", failures=5)
    recovered = Delivery(1, "e", "transient", failures=4)
    crash = Delivery(2, "f", "crash", crash="after")

    assert (exhausted.expected_status, exhausted.expected_reason) == ("failed", "exhausted")
    assert (exhausted.expected_runs, exhausted.expected_effects) == (5, 0)
    assert (recovered.expected_status, recovered.expected_runs) == ("complete", 5)
    assert (crash.expected_runs, crash.expected_effects, crash.expected_repeats) == (2, 1, 1)


# -- the reconciliation catches what goes wrong ------------------------------------------

PLANNED = [
    Delivery(0, "d-0", "ok", copies=2, concurrent=True),
    Delivery(1, "d-1", "transient", failures=2, copies=3),
    Delivery(2, "d-2", "transient", failures=5),
    Delivery(3, "d-3", "permanent", copies=2),
    Delivery(4, "d-4", "crash", crash="before"),
    Delivery(5, "d-5", "crash", crash="after", copies=2),
]


def _perfect() -> Observed:
    """What a run of PLANNED that went exactly right leaves behind."""
    observed = Observed(crashed_invocations=2, left_on_queues={"default": 0, "high": 0})
    for d in PLANNED:
        action_id = f"a-{d.n}"
        observed.answers += [
            Answer(d.n, 202 if i == 0 else 200, action_id) for i in range(d.copies)
        ]
        observed.actions[action_id] = {
            "action_id": action_id,
            "hook": "process_webhook",
            "status": d.expected_status,
            "args": f'{{"delivery_id": "{d.delivery_id}", "payload": {{"n": {d.n}}}}}',
        }
        if d.expected_reason:
            observed.dead_letters.append(
                DeadLetter(action_id, d.expected_reason, "PermanentError: no", "default")
            )
        observed.effects[action_id] = {
            "action_id": action_id,
            "n": d.n,
            "runs": d.expected_runs,
            "effects": d.expected_effects,
            **({"repeats": 1} if d.expected_repeats else {}),
        }
    return observed


def _lose_an_action(o: Observed) -> None:
    del o.actions["a-0"]


def _double_effect(o: Observed) -> None:
    # The same delivery accepted twice: a second action with its own effect.
    o.actions["a-0b"] = {**o.actions["a-0"], "action_id": "a-0b"}
    o.effects["a-0b"] = {**o.effects["a-0"], "action_id": "a-0b"}


def _stuck(o: Observed) -> None:
    o.actions["a-1"]["status"] = "in-progress"


def _no_dead_letter(o: Observed) -> None:
    o.dead_letters = [letter for letter in o.dead_letters if letter.action_id != "a-3"]


def _dead_letter_without_error(o: Observed) -> None:
    o.dead_letters[0] = dataclasses.replace(o.dead_letters[0], error="")


def _redriven_by_the_safety_net(o: Observed) -> None:
    o.dead_letters.append(DeadLetter("a-0", "", "", "default"))


def _accepted_twice(o: Observed) -> None:
    o.answers[1] = dataclasses.replace(o.answers[1], status=202)


def _unanswered_copy(o: Observed) -> None:
    o.answers.pop()


def _effect_of_a_failure(o: Observed) -> None:
    o.effects["a-3"]["effects"] = 1


def _repeat_not_suppressed(o: Observed) -> None:
    o.effects["a-5"].pop("repeats")


def _run_missing(o: Observed) -> None:
    o.effects["a-4"]["runs"] = 1


def _left_on_a_queue(o: Observed) -> None:
    o.left_on_queues["default"] = 3


def _crash_not_seen(o: Observed) -> None:
    o.crashed_invocations = 1


@pytest.mark.parametrize(
    ("doctor", "expected"),
    [
        (_lose_an_action, "delivery 0 (ok): 0 actions, not one"),
        (_double_effect, "delivery 0 (ok): 2 effects, expected 1"),
        (_stuck, "delivery 1 (transient): action a-1 is in-progress, expected complete"),
        (_no_dead_letter, "delivery 3 (permanent): 0 dead letters, not one"),
        (
            _dead_letter_without_error,
            "delivery 2 (transient): dead letter reason 'exhausted' error ''",
        ),
        (_redriven_by_the_safety_net, "delivery 0 (ok): 1 dead letters, expected none"),
        (_accepted_twice, "delivery 0 (ok): accepted (202) 2 times, not once"),
        (_unanswered_copy, "delivery 5 (crash): 2 copies sent, 1 answered"),
        (_effect_of_a_failure, "delivery 3 (permanent): 1 effects, expected 0"),
        (_repeat_not_suppressed, "delivery 5 (crash): 0 repeats, expected 1"),
        (_run_missing, "delivery 4 (crash): 1 runs, expected 2"),
        (_left_on_a_queue, "3 messages still on the default job queue"),
        (_crash_not_seen, "1 worker invocations crashed, expected 2"),
    ],
)
def test_the_reconciliation_reports_each_mismatch(
    doctor: Callable[[Observed], None], expected: str
):
    assert reconcile(PLANNED, _perfect()).mismatches == []
    observed = _perfect()

    doctor(observed)
    result = reconcile(PLANNED, observed)

    assert not result.ok
    assert any(m.startswith(expected) for m in result.mismatches), result.mismatches
    assert result.counts["mismatches"] == (0, len(result.mismatches))
