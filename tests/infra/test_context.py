"""The CDK context that ``make run`` synthesizes with is the one ``npx cdk synth`` gives the app.

The CDK CLI itself runs here, in a project directory of the test's, with an app that only
writes down the context it was handed: cdk.json, cdk.context.json, ~/.cdk.json and -c
values, with keys in several of them and objects to merge.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import context

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"

DUMP_APP = """
import json, os, sys
found = json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")
overflow = os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV")
if overflow:
    found.update(json.load(open(overflow)))
with open(sys.argv[1], "w") as out:
    json.dump(found, out)
"""


def _project(tmp_path: Path) -> tuple[Path, Path, Path]:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    dump = tmp_path / "context.json"
    (project / "dump.py").write_text(DUMP_APP)
    (project / "cdk.json").write_text(
        json.dumps(
            {
                "app": f"{sys.executable} dump.py {dump}",
                "context": {
                    "stackName": "FromCdkJson",
                    "stage": "prod",
                    "webhookSources": {"github": {"scheme": "github"}},
                    "wafExemptRanges": ["192.0.2.0/24"],
                    "@aws-cdk/core:checkSecretUsage": True,
                },
            }
        )
    )
    (project / "cdk.context.json").write_text(
        json.dumps(
            {
                "stage": "dev",  # cdk.json wins
                "webhookSources": {"billing": {"scheme": "hmac", "header": "X-Sig"}},
                "wafExemptRanges": ["198.51.100.0/24"],
                "logRetentionDays": 14,
            }
        )
    )
    (home / ".cdk.json").write_text(
        json.dumps({"context": {"alarmEmail": "ops@example.com", "logRetentionDays": 7}})
    )
    return project, home, dump


ARGUMENTS = ["-c", "stage=dev", "--context", "metricsNamespace=Jobs", "-c", 'x={"a": 1}']


@pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is installed by `make setup`")
def test_the_context_is_what_the_cdk_cli_hands_the_app(tmp_path):
    project, home, dump = _project(tmp_path)
    environment = {
        **os.environ,
        "HOME": str(home),
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    # The app writes no cloud assembly, so the CLI fails after running it: only the
    # context the app was handed matters here.
    subprocess.run(  # noqa: S603 - the project's pinned CDK CLI
        [str(CDK), "synth", "--no-notices", *ARGUMENTS],
        cwd=project,
        env=environment,
        capture_output=True,
        timeout=120,
        check=False,
    )
    handed = json.loads(dump.read_text())

    ours = context.load(project, context.parse_arguments(ARGUMENTS), home=home)

    # Besides ours, the CLI hands the app keys of its own: its aws:cdk:* settings, and
    # failSynthOnValidationErrors=false, because the CLI reports validation errors itself
    # (a synth without the CLI fails on them, as it should).
    own = {"@aws-cdk/core:failSynthOnValidationErrors"}
    assert ours == {
        key: value for key, value in handed.items() if not key.startswith("aws:") and key not in own
    }
    assert ours["webhookSources"] == {
        "github": {"scheme": "github"},
        "billing": {"scheme": "hmac", "header": "X-Sig"},
    }
    assert (ours["stage"], ours["logRetentionDays"], ours["x"]) == ("dev", 14, '{"a": 1}')


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-c"], "-c needs KEY=VALUE"),
        (["-c", "stage"], "not KEY=VALUE"),
        (["-c", "=dev"], "not KEY=VALUE"),
        (["-c", "aws:cdk:bundling-stacks=[]"], "the CDK's own"),
        (["--stage", "dev"], "only -c KEY=VALUE"),
    ],
)
def test_context_arguments_the_cli_would_refuse_are_refused(arguments, message):
    with pytest.raises(context.ContextError, match=message):
        context.parse_arguments(arguments)
