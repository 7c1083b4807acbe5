from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def template(synthesized):
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized[0])


@pytest.fixture(scope="session")
def resources(synthesized) -> dict:
    return synthesized[0]["Resources"]


# The one extra synthesis of the monitoring and hardening tests: every non-default
# context key they check, in one template (each synth takes about ten seconds).
VARIANT_CONTEXT = {
    "stage": "prod",
    # No wafRateLimit: prod turns the WAF on by itself. GitHub's meta API "hooks" ranges,
    # IPv4 and IPv6, as -c gives them.
    "wafExemptRanges": '["192.30.252.0/22", "140.82.112.0/20", "2a0a:a440::/29"]',
    "alarmEmail": "ops@example.com",
    "alarmQueueAgeSeconds": '{"low": 7200}',
    "alarmCircuitOpenSeconds": "600",
    # The account already has API Gateway's CloudWatch role: the stack leaves it alone.
    "apiGatewayCloudWatchRole": "false",
    "sagaLogExecutionData": "true",
}


DEPLOY_ENVIRONMENT = {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"}


@pytest.fixture(scope="session")
def variant(tmp_path_factory) -> dict:
    """Resources of the stack synthesized with VARIANT_CONTEXT (prod, WAF, e-mail)."""
    import json

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out.variant")
    # With an account and region, as `cdk synth` and `cdk deploy` set them: ARNs and
    # cdk-nag's finding ids come out as literals instead of tokens.
    saved = {name: os.environ.get(name) for name in DEPLOY_ENVIRONMENT}
    os.environ.update(DEPLOY_ENVIRONMENT)
    try:
        app, stack = build_app(outdir=str(outdir), context=VARIANT_CONTEXT)
        app.synth()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return json.loads((outdir / f"{stack.stack_name}.template.json").read_text())["Resources"]


@pytest.fixture(scope="session")
def http_resources(http_synthesized) -> dict:
    """Resources of the stack synthesized with ``apiFlavour=http`` (tests/conftest.py)."""
    return http_synthesized[0]["Resources"]
