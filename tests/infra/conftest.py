from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> tuple[dict, Path]:
    """The stack's template, synthesized once per session (cdk-nag runs during synth)."""
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir))
    app.synth()
    path = outdir / f"{stack.stack_name}.template.json"
    return json.loads(path.read_text()), path


@pytest.fixture(scope="session")
def template(synthesized):
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized[0])


@pytest.fixture(scope="session")
def resources(synthesized) -> dict:
    return synthesized[0]["Resources"]
