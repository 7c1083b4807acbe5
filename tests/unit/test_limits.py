"""The limits table and its synth-time checks, on small templates (no synth, no AWS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import limits
from infra.limits import LIMITS, check_template, environment_size, function_environments
from infra.local import aws_limits


def test_every_limit_names_the_aws_page_that_states_it():
    assert set(LIMITS) >= {
        "lambda_environment", "lambda_asset", "lambda_payload", "sqs_message",
        "dynamodb_item", "scheduler_input", "states_payload", "cloudformation_template",
        "cloudformation_resources", "iam_role_inline_policies", "api_gateway_payload",
    }  # fmt: skip
    for limit in LIMITS.values():
        assert limit.source.startswith("https://docs.aws.amazon.com/")
        assert limit.value > 0 and limit.checked


def _function(variables: dict) -> dict:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Environment": {"Variables": variables}},
    }


def _queue_template(queues: int, extra: dict | None = None) -> dict:
    resources = {f"Queue{i}": {"Type": "AWS::SQS::Queue", "Properties": {}} for i in range(queues)}
    urls = {"Fn::Join": ["", [part for i in range(queues) for part in (",", {"Ref": f"Queue{i}"})]]}
    resources["Fn"] = _function({"QUEUES": urls, **(extra or {})})
    return {"Resources": resources}


def test_an_environment_is_measured_with_the_names_cloudformation_will_give():
    template = _queue_template(1)
    [size] = function_environments(template, "ActionScheduler").values()
    url = f"https://sqs.{limits.REGION}.amazonaws.com/{limits.ACCOUNT}/ActionScheduler-Queue0-"
    assert size == environment_size({"QUEUES": "," + url + "ABCDEFGHIJ123"})
    assert environment_size({"A": "é"}) == len('{"A":"é"}'.encode())


def test_an_environment_over_4_kb_resolved_fails_naming_the_limit_size_and_fix():
    # 50 queue URLs: short as tokens, about 4.6 KB resolved (92 bytes each).
    template = _queue_template(50)
    found = check_template(template, "ActionScheduler", template_bytes=1000)

    [violation] = found
    assert violation.limit == "lambda_environment" and violation.logical_id == "Fn"
    assert violation.size > 4096
    assert "4,096" in violation.message and f"{violation.size:,}" in violation.message
    assert "out of the environment" in violation.message
    assert not check_template(_queue_template(40), "ActionScheduler", template_bytes=1000)


def test_too_many_resources_and_too_large_a_template_fail():
    template = {"Resources": {f"T{i}": {"Type": "AWS::SNS::Topic"} for i in range(501)}}
    found = check_template(template, "ActionScheduler", template_bytes=1024 * 1024 + 1)
    assert {v.limit for v in found} == {"cloudformation_resources", "cloudformation_template"}
    assert not check_template(
        {"Resources": dict(list(template["Resources"].items())[:500])},
        "ActionScheduler",
        template_bytes=1024 * 1024,
    )


def test_a_role_whose_inline_policies_exceed_10240_characters_fails():
    statement = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "Secret"},
    }

    def template(statements: int) -> dict:
        return {
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
                "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
                "Policy": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {
                        "PolicyName": "P",
                        "Roles": [{"Ref": "Role"}],
                        "PolicyDocument": {"Statement": [statement] * statements},
                    },
                },
            }
        }

    # Each statement resolves to about 150 characters (the secret's ARN).
    [violation] = check_template(template(80), "ActionScheduler", template_bytes=1)
    assert violation.limit == "iam_role_inline_policies" and violation.logical_id == "Role"
    assert not check_template(template(40), "ActionScheduler", template_bytes=1)


def test_an_asset_over_250_mb_unzipped_fails(tmp_path: Path, monkeypatch):
    folder = tmp_path / "asset.abc"
    folder.mkdir()
    (folder / "big.bin").write_bytes(b"x" * 1000)
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "abc.zip"}}}
        }
    }
    assert not check_template(template, "S", template_bytes=1, assets=tmp_path)
    monkeypatch.setitem(LIMITS, "lambda_asset", LIMITS["lambda_asset"].__class__(
        "Lambda deployment package, unzipped", 999, "bytes", "https://docs.aws.amazon.com/x", "s"
    ))  # fmt: skip
    [violation] = check_template(template, "S", template_bytes=1, assets=tmp_path)
    assert violation.limit == "lambda_asset" and violation.size == 1000


def test_the_synth_plugin_reports_each_violation(tmp_path: Path):
    path = tmp_path / "ActionScheduler.template.json"
    path.write_text(json.dumps(_queue_template(50)))

    class Context:
        template_paths = (str(path),)

    report = limits.LimitChecks().validate(Context())  # type: ignore[arg-type]
    assert report.success is False
    [violation] = report.violations
    assert violation.rule_name == "lambda_environment"
    assert "over AWS's limit of 4,096" in violation.description


# The local cloud's rules, as functions (their effect on moto: tests/integration/test_aws_limits.py)


def test_sqs_counts_the_body_and_every_attribute_in_utf8():
    attributes = {"hook": {"DataType": "String", "StringValue": "é"}}
    assert aws_limits.sqs_message_size("ab", attributes) == 2 + 4 + 6 + 2
    assert aws_limits.sqs_message_problem("a" * 100, attributes, 100) is not None
    assert aws_limits.sqs_message_problem("a" * 88, attributes, 100) is None
    assert aws_limits.sqs_message_problem("\x00", None, 100) == "Invalid characters found."


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),
        ({"N": "123"}, 3),
        ({"N": "1.5000"}, 2),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + 3 + 3),
        ({"M": {"k": {"S": "ab"}}}, 3 + 1 + 2 + 1),
        ({"SS": ["a", "bc"]}, 3),
    ],
)
def test_dynamodb_counts_values_as_dynamodb_does(value, size):
    assert aws_limits.dynamodb_item_size({"a": value}) == 1 + size


def test_an_environment_over_4_kb_does_not_start():
    assert aws_limits.check_environment("fn", {"A": "x" * 4000}) < 4096
    with pytest.raises(aws_limits.EnvironmentTooLarge, match=r"function fn: .*4,096"):
        aws_limits.check_environment("fn", {"A": "x" * 4090})
