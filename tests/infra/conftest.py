from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def template(synthesized):
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized[0])


@pytest.fixture(scope="session")
def resources(synthesized) -> dict:
    return synthesized[0]["Resources"]
