"""``tracing: false``: no X-Ray anywhere (functions, the API stage, the saga), the SDK
never imported, and both cdk-nag packs still clean. Synthesized once for the module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import context as cdk_context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def untraced(tmp_path_factory) -> dict:
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out.untraced")
    home = tmp_path_factory.mktemp("home")
    context = cdk_context.load(ROOT, {"tracing": "false"}, home=home)
    app, stack = build_app(outdir=str(outdir), context=context)
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return json.loads((outdir / f"{stack.stack_name}.template.json").read_text())


def _of_type(template: dict, kind: str) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_no_function_stage_or_state_machine_is_traced(untraced):
    functions = _of_type(untraced, "AWS::Lambda::Function")
    assert functions
    for function in functions:
        assert "TracingConfig" not in function or function["TracingConfig"]["Mode"] != "Active"
        variables = function["Environment"]["Variables"]
        assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"
    for stage in _of_type(untraced, "AWS::ApiGateway::Stage"):
        assert not stage.get("TracingEnabled")
    for machine in _of_type(untraced, "AWS::StepFunctions::StateMachine"):
        assert not machine.get("TracingConfiguration", {}).get("Enabled")


def test_no_role_may_write_traces(untraced):
    policies = json.dumps(_of_type(untraced, "AWS::IAM::Policy"))
    assert "xray:" not in policies


def test_traced_is_the_default(synthesized):
    template, _ = synthesized
    functions = _of_type(template, "AWS::Lambda::Function")
    assert all(f["TracingConfig"]["Mode"] == "Active" for f in functions)
    assert all("POWERTOOLS_TRACE_DISABLED" not in f["Environment"]["Variables"] for f in functions)
