"""The payload bucket in the template: encryption, TLS only, lifecycle, exact grants."""

from __future__ import annotations

import json

from functions.actions.store import RETENTION_SECONDS
from functions.payloads.store import LIFETIME_DAYS, RETAINED_DAYS, RUN_MARGIN_DAYS
from functions.webhooks.config import MAX_BODY_BYTES


def _bucket(resources: dict) -> tuple[str, dict]:
    [(name, bucket)] = [
        (name, r) for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket"
    ]
    return name, bucket["Properties"]


def _functions(resources: dict, handler: str) -> dict:
    [function] = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == handler
    ]
    return function


def _s3_statements(resources: dict, role_prefix: str) -> list[dict]:
    return [
        statement
        for name, r in resources.items()
        if r["Type"] == "AWS::IAM::Policy" and name.startswith(role_prefix)
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("s3:") for a in _actions(statement))
    ]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def test_the_bucket_is_kms_encrypted_with_a_bucket_key_private_and_unversioned(resources):
    _, bucket = _bucket(resources)
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}
    assert rule["BucketKeyEnabled"] is True
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "VersioningConfiguration" not in bucket


def test_the_bucket_policy_denies_every_request_without_tls(resources):
    name, _ = _bucket(resources)
    [policy] = [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": name}
    ]
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Principal"] == {"AWS": "*"}
    assert len(statement["Resource"]) == 2  # the bucket and its objects


def test_objects_expire_by_lifetime_class_covering_the_longest_retention(resources):
    _, bucket = _bucket(resources)
    rules = {
        rule["Prefix"]: rule["ExpirationInDays"]
        for rule in bucket["LifecycleConfiguration"]["Rules"]
        if rule["Status"] == "Enabled"
    }
    assert rules == {f"d{days}/": days for days in LIFETIME_DAYS}
    assert max(RETENTION_SECONDS.values()) == RETAINED_DAYS * 86400
    assert LIFETIME_DAYS[0] >= RETAINED_DAYS + RUN_MARGIN_DAYS


def test_the_receiver_may_only_put_and_the_worker_only_put_and_get_objects(resources):
    name, _ = _bucket(resources)
    objects = {"Fn::Join": ["", [{"Fn::GetAtt": [name, "Arn"]}, "/*"]]}
    receiver = _s3_statements(resources, "WebhooksReceiverRole")
    worker = _s3_statements(resources, "WorkerFunctionRole")
    assert [(_actions(s), s["Resource"]) for s in receiver] == [(["s3:PutObject"], objects)]
    assert sorted(a for s in worker for a in _actions(s)) == ["s3:GetObject", "s3:PutObject"]
    assert all(s["Resource"] == objects and s["Effect"] == "Allow" for s in worker)
    # The actions API takes args from applications: it may put large ones, as the receiver.
    api = _s3_statements(resources, "ActionsApiFunctionRole")
    assert [(_actions(s), s["Resource"]) for s in api] == [(["s3:PutObject"], objects)]
    # The console's API reads large args when a person opens them, and writes none.
    console = _s3_statements(resources, "ConsoleApiRole")
    assert [(_actions(s), s["Resource"]) for s in console] == [(["s3:GetObject"], objects)]
    # The order saga's tasks read a large order's claim check (functions/sagas/claim.py).
    saga = _s3_statements(resources, "OrderSagaTasksRole")
    assert [(_actions(s), s["Resource"]) for s in saga] == [(["s3:GetObject"], objects)]
    others = [
        statement
        for policy, r in resources.items()
        if r["Type"] == "AWS::IAM::Policy"
        and not policy.startswith(
            (
                "WebhooksReceiverRole",
                "WorkerFunctionRole",
                "ActionsApiFunctionRole",
                "ConsoleApiRole",
                "OrderSagaTasksRole",
            )
        )
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if name in json.dumps(statement)
    ]
    assert others == []


def test_the_functions_that_enqueue_or_run_are_told_the_bucket(resources):
    name, _ = _bucket(resources)
    for handler in (
        "functions.handlers.webhook.lambda_handler",
        "functions.handlers.worker.lambda_handler",
    ):
        env = _functions(resources, handler)["Properties"]["Environment"]["Variables"]
        assert env["PAYLOAD_BUCKET_NAME"] == {"Ref": name}


def test_the_stack_outputs_the_bucket_for_the_cli(synthesized):
    template, _ = synthesized
    name, _ = _bucket(template["Resources"])
    assert template["Outputs"]["PayloadBucketName"]["Value"] == {"Ref": name}


def test_the_receiver_takes_what_the_lambda_proxy_can_carry(resources):
    env = _functions(resources, "functions.handlers.webhook.lambda_handler")["Properties"]
    assert env["Environment"]["Variables"]["WEBHOOK_MAX_BODY_BYTES"] == str(MAX_BODY_BYTES)
    # base64 of the largest body and 64 KiB for the rest of the event fit Lambda's 6 MiB.
    assert (MAX_BODY_BYTES + 2) // 3 * 4 + 65_536 <= 6_291_456
