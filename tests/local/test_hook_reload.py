"""A team edits its hook package while the local cloud runs: the manifest the enqueuing
functions read is written again, so a new hook can be enqueued at once, and a half-edited
module that no longer imports is named while the hooks stay as they were."""

from __future__ import annotations

import json

from infra.local.cloud import LocalCloud
from tests.local.test_actions_api import _call, _wait_complete
from tests.local.test_cloud import _free_port

HOOK = """
from functions.actions import hook


@hook("{name}")
def {name}(args, action):
    return {{"done": args}}
"""


def _enqueue(cloud: LocalCloud, hook: str) -> tuple[int, dict]:
    body = json.dumps({"hook": hook, "args": {"n": 1}}).encode()
    status, _, answer = _call(cloud.actions_api_url, "POST", body)
    return status, answer


def test_an_edited_hook_package_is_in_the_manifest_after_the_reload(synthesized, tmp_path):
    package = tmp_path / "team"
    (package / "team_hooks").mkdir(parents=True)
    (package / "team_hooks" / "__init__.py").write_text("")
    module = package / "team_hooks" / "billing.py"
    module.write_text(HOOK.format(name="team_invoice"))
    template, _ = synthesized
    lines: list[str] = []
    cloud = LocalCloud(
        api_port=_free_port(),
        aws_port=_free_port(),
        log=lines.append,
        template=template,
        context={"hookPackages": str(package)},
    )
    cloud.start()
    try:
        unknown, _ = _enqueue(cloud, "team_refund")
        module.write_text(HOOK.format(name="team_invoice") + HOOK.format(name="team_refund"))
        cloud.code_changed([module])

        status, action = _enqueue(cloud, "team_refund")
        assert (unknown, status) == (404, 201), action
        assert _wait_complete(cloud, action["action_id"])["status"] == "complete"

        module.write_text("raise RuntimeError('half-edited')\n")
        cloud.code_changed([module])
        kept, _ = _enqueue(cloud, "team_refund")
    finally:
        cloud.stop()

    assert kept == 201
    [said] = [line for line in lines if "stay as they were" in line]
    assert "'team_hooks.billing'" in said
    assert "half-edited" in said
