"""The local cloud refuses a function AWS would not create: its environment over 4 KB."""

from __future__ import annotations

import socket

import pytest

from infra.local.aws_limits import EnvironmentTooLarge
from infra.local.cloud import LocalCloud, check_ports


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _template(variables: dict[str, str]) -> dict:
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "too-much",
                    "Handler": "functions.handlers.health.lambda_handler",
                    "Environment": {"Variables": variables},
                },
            }
        }
    }


def test_a_function_whose_environment_is_over_4_kb_does_not_start():
    ports = {"LOCAL_AWS_PORT": _free_port(), "LOCAL_API_PORT": _free_port()}
    lines: list[str] = []
    cloud = LocalCloud(
        api_port=ports["LOCAL_API_PORT"],
        aws_port=ports["LOCAL_AWS_PORT"],
        log=lines.append,
        template=_template({"SOURCES": "x" * 4100}),
    )
    with pytest.raises(EnvironmentTooLarge, match=r"function too-much: .* over Lambda's limit"):
        cloud.start()
    check_ports(ports)  # everything it had started was stopped
    assert not any("functions run in processes" in line for line in lines)
