"""The payload bucket: args and webhook bodies above the inline threshold (claim check)."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from functions.payloads.store import LIFETIME_DAYS
from infra.constructs.nag import acknowledge


class Payloads(Construct):
    """One private bucket; the functions that enqueue may put objects, those that run
    hooks may get them, and nobody may list or delete.

    - Encrypted with SSE-KMS under the account's AWS managed key for S3 (``aws/s3``), with
      an S3 Bucket Key: the same kind of AWS managed encryption as the actions table and
      the job queues that carry smaller args, with no key to pay for or grant, and one
      KMS request per bucket key rather than per object.
    - TLS only (a bucket policy denies any request without it), public access blocked,
      ACLs disabled (the bucket owner owns every object).
    - Not versioned: an object is written once under a key naming its digest and never
      changed; versions would only keep expired objects longer.
    - Objects expire by lifecycle: under ``d<N>/``, N days after they are written
      (``functions.payloads.store.LIFETIME_DAYS``: each object gets the smallest that
      covers its action's wait, the 93 days a failed action is kept and two days of
      retries; 100 days for an action due within 5 days).
    - Kept when the stack is deleted: CloudFormation cannot delete a bucket with objects
      in it; what is left expires by its lifecycle.
    Why: docs/decisions/0035-large-args-travel-by-claim-check.md
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS_MANAGED,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"expire-d{days}",
                    prefix=f"d{days}/",
                    expiration=Duration.days(days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
                for days in LIFETIME_DAYS
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Server access logs would need a second bucket and record every PutObject and "
            "GetObject of the stack's own functions, which their logs and X-Ray traces "
            "already name by action id; CloudTrail data events can be turned on for the "
            "bucket where an audit needs them.",
        )

    def environment(self) -> dict[str, str]:
        """What functions/payloads/config.py reads."""
        return {"PAYLOAD_BUCKET_NAME": self.bucket.bucket_name}

    def grant_put(self, grantee: iam.IGrantable) -> None:
        """PutObject, and nothing else: the functions that enqueue actions."""
        self._grant(grantee, "s3:PutObject")

    def grant_get(self, grantee: iam.IGrantable) -> None:
        """GetObject (and so HeadObject), nothing else: the functions that run hooks."""
        self._grant(grantee, "s3:GetObject")

    def _grant(self, grantee: iam.IGrantable, action: str) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee, actions=[action], resource_arns=[self.bucket.arn_for_objects("*")]
        )
        # cdk-nag names the resource as synthesized: the bucket's ARN by its logical id.
        bucket = Stack.of(self).get_logical_id(cast(CfnElement, self.bucket.node.default_child))
        acknowledge(
            cast(IConstruct, grantee.grant_principal),  # a function's principal: its role
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
            "Object keys are made per action at run time (d<days>/<action id>/<digest>.json); "
            "the grant is one action on the objects of the stack's payload bucket only.",
        )
