"""An optional AWS WAF web ACL in front of the webhook API's stage (context ``wafRateLimit``).

Off by default. When on, it holds one rate-based rule: a client IP sending more than
``wafRateLimit`` requests in five minutes is blocked until it slows down.
Why: docs/decisions/0021-waf-optional-rate-rule-only.md
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct


class WebAcl(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: apigw.Stage, rate_limit: int
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = Stack.of(self).stack_name

        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=name,
                sampled_requests_enabled=True,
            )

        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            description=f"{prefix}: per-IP rate limit on the webhook API",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"{prefix}-webhooks"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=rate_limit,
                            evaluation_window_sec=300,
                        )
                    ),
                    visibility_config=visibility(f"{prefix}-rate-limit-per-ip"),
                )
            ],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self,
            "Association",
            resource_arn=stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
