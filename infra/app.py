"""The CDK app: one stack, checked by cdk-nag's AwsSolutions and Serverless packs at every synth.

Run as a module (``python -m infra.app``, as cdk.json does): run as a script, its
folder would come first on sys.path and ``infra/constructs`` would shadow the
``constructs`` package.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra.limits import LimitChecks
from infra.stack import ActionSchedulerStack

STACK_NAME = "ActionScheduler"


def build_app(
    outdir: str | None = None, context: dict | None = None
) -> tuple[App, ActionSchedulerStack]:
    app = App(outdir=outdir, context=context)
    stack = ActionSchedulerStack(
        app,
        app.node.try_get_context("stackName") or STACK_NAME,
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
        description="Action scheduler: verified webhooks and background jobs on SQS and Lambda",
    )
    # Both packs fail synthesis on any finding not fixed or acknowledged (infra/constructs/nag.py).
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    # AWS's hard limits that a template shows (environment size, resources, policies):
    # refused here rather than by `cdk deploy` (infra/limits.py).
    Validations.of(app).add_plugins(LimitChecks())
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
