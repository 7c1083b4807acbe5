"""The sample events in events/: reproducible, and each behaves as its name says."""

from __future__ import annotations

import json
import time

import pytest

from functions.handlers.webhook import lambda_handler
from infra.local import sample_events
from infra.local.lambda_runtime import LocalContext

SAMPLES = {sample.name: sample for sample in sample_events.build()}


def test_the_files_are_what_the_generator_makes():
    on_disk = {path.stem: path.read_text() for path in sample_events.EVENTS_DIR.glob("*.json")}
    assert on_disk == {name: sample_events.render(s) for name, s in SAMPLES.items()}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_file_replayed_as_is(stack, name):
    event = json.loads((sample_events.EVENTS_DIR / f"{name}.json").read_text())
    sample = SAMPLES[name]
    timestamped = name.split(".")[0] in {"stripe", "standard"}

    response = lambda_handler(event, LocalContext())

    if timestamped and sample.expected_status != 404:
        # Signed at a fixed past time: a replay of the file is refused as stale first.
        assert response["statusCode"] == 401
        assert json.loads(response["body"])["error"] == "timestamp_out_of_tolerance"
    else:
        assert response["statusCode"] == sample.expected_status
        if sample.expected_error:
            assert json.loads(response["body"])["error"] == sample.expected_error


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_signed_now_behaves_as_named(stack, name):
    sample = {s.name: s for s in sample_events.build(now=int(time.time()))}[name]

    response = lambda_handler(sample.event, LocalContext())

    assert response["statusCode"] == sample.expected_status
    if sample.expected_error:
        assert json.loads(response["body"])["error"] == sample.expected_error
