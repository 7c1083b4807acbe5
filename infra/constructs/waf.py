"""An AWS WAF web ACL in front of the webhook API's stage (context ``wafRateLimit``).

On by default for ``stage=prod`` (``config.PROD_WAF_RATE_LIMIT``), off elsewhere unless
``wafRateLimit`` is set. It holds one rate-based rule: a client IP sending more than
``rate_limit`` requests in five minutes is answered ``429`` with the receiver's
``{"error": "throttled", "message"}`` body until it slows down. Addresses in
``exempt_ranges`` (``wafExemptRanges``: senders' published ranges) are not counted.
Why: docs/decisions/0021-waf-optional-rate-rule-only.md,
0032-waf-on-for-prod-senders-ranges-exempt.md
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import exempt_networks

# The body a blocked client gets, in the shape of the receiver's errors.
THROTTLED_BODY = {
    "error": "throttled",
    "message": "too many requests from this address: retry in a few minutes",
}


class WebAcl(Construct):
    """The web ACL, its association with ``stage``, and an IP set per IP version exempted."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigw.Stage,
        rate_limit: int,
        exempt_ranges: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = Stack.of(self).stack_name

        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=name,
                sampled_requests_enabled=True,
            )

        self.ip_sets: dict[int, wafv2.CfnIPSet] = {
            version: wafv2.CfnIPSet(
                self,
                f"ExemptIpv{version}",
                scope="REGIONAL",
                ip_address_version=f"IPV{version}",
                addresses=addresses,
                description=f"{prefix}: senders' IPv{version} ranges the rate rule ignores",
            )
            for version, addresses in exempt_networks(list(exempt_ranges)).items()
            if addresses
        }
        exempted = [
            wafv2.CfnWebACL.StatementProperty(
                ip_set_reference_statement=wafv2.CfnWebACL.IPSetReferenceStatementProperty(
                    arn=ip_set.attr_arn
                )
            )
            for ip_set in self.ip_sets.values()
        ]
        scope_down = None
        if exempted:
            match = (
                exempted[0]
                if len(exempted) == 1
                else wafv2.CfnWebACL.StatementProperty(
                    or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=exempted)
                )
            )
            # Count (and block) only requests from outside the exempt ranges.
            scope_down = wafv2.CfnWebACL.StatementProperty(
                not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=match)
            )

        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            description=f"{prefix}: per-IP rate limit on the webhook API",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"{prefix}-webhooks"),
            custom_response_bodies={
                "throttled": wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=json.dumps(THROTTLED_BODY)
                )
            },
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(
                        block=wafv2.CfnWebACL.BlockActionProperty(
                            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                                response_code=429, custom_response_body_key="throttled"
                            )
                        )
                    ),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=rate_limit,
                            evaluation_window_sec=300,
                            scope_down_statement=scope_down,
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
