"""The idle cost in the docs (docs/deploy/index.md) is counted from the template: when the
stack gains an alarm, a secret or a queue mapping, this fails until the page says so."""

from __future__ import annotations

import re
from collections import Counter

from tests.docs_site import DOCS

COUNTED = {
    "alarms": "AWS::CloudWatch::Alarm",
    "secrets": "AWS::SecretsManager::Secret",
    "key": "AWS::KMS::Key",
    "dashboard": "AWS::CloudWatch::Dashboard",
    "event source mappings": "AWS::Lambda::EventSourceMapping",
}


def test_the_idle_cost_counts_what_the_template_holds(synthesized) -> None:
    template, _ = synthesized
    types = Counter(resource["Type"] for resource in template["Resources"].values())
    page = (DOCS / "deploy" / "index.md").read_text(encoding="utf-8")
    counted = " ".join(page.split("counted from the synthesized template:", 1)[1].split()[:12])
    stated = {name: int(number) for number, name in re.findall(r"(\d+) ([a-z ]+?)[,)]", counted)}
    assert stated == {name: types[kind] for name, kind in COUNTED.items()}
    metrics = sum(
        sum(1 for metric in resource["Properties"].get("Metrics", []) if "MetricStat" in metric)
        or 1
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    )
    assert f"watching {metrics} metrics" in page
