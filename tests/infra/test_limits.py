"""AWS's limits at synth: the default stack and a large configuration (50 webhook sources,
100 hooks) stay within every limit the synth checks (infra/limits.py), and the settings
that grow with use are not in any function's environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import limits

SOURCES = 50
HOOKS = 100


def _hook_package(root: Path) -> Path:
    """A team's package of ``HOOKS`` hooks, ten modules of ten."""
    package = root / "many_hooks"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for module in range(HOOKS // 10):
        lines = ["from functions.actions.hooks import hook", ""]
        for index in range(10):
            name = f"team_hook_{module:02d}_{index:02d}"
            lines += [f"@hook({name!r}, priority='low')", f"def {name}(args, action):"]
            lines += ["    return 'ok'", ""]
        (package / f"hooks_{module:02d}.py").write_text("\n".join(lines))
    return root


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[dict, Path]:
    """The one synthesis of this module: 50 sources of every scheme, 100 hooks."""
    from infra.app import build_app

    schemes = ["github", "stripe", "shopify", "standard"]
    sources = {
        f"partner-source-{i:02d}": {"scheme": schemes[i % len(schemes)]} for i in range(SOURCES)
    }
    packages = _hook_package(tmp_path_factory.mktemp("hooks"))
    outdir = tmp_path_factory.mktemp("cdk.out.large")
    app, stack = build_app(
        outdir=str(outdir),
        context={"webhookSources": json.dumps(sources), "hookPackages": str(packages)},
    )
    app.synth()  # the limits plugin fails the synth on any violation
    path = outdir / f"{stack.stack_name}.template.json"
    return json.loads(path.read_text()), path


def _check(template: dict, path: Path) -> list[limits.Violation]:
    return limits.check_template(
        template, "ActionScheduler", template_bytes=path.stat().st_size, assets=path.parent
    )


def test_the_default_stack_is_within_every_limit_checked_at_synth(synthesized):
    template, path = synthesized
    assert _check(template, path) == []
    sizes = limits.function_environments(template, "ActionScheduler")
    # Room to grow: every function leaves at least 1 KB of Lambda's 4 KB to a deployer's
    # own variables (the largest, the console API's, holds fixed-size settings only: the
    # fifty-source synth below finds every size unchanged).
    assert max(sizes.values()) <= limits.LIMITS["lambda_environment"].value - 1024, sizes


def test_fifty_sources_and_a_hundred_hooks_stay_within_every_limit(large, synthesized):
    template, path = large
    assert _check(template, path) == []
    # The sources and hooks are in the asset, not in any function's environment: every
    # function's environment is the size of the default stack's.
    default = limits.function_environments(synthesized[0], "ActionScheduler")
    assert limits.function_environments(template, "ActionScheduler") == default
    # The receiver reads the stack's secrets by their name prefix: one statement however
    # many sources, so its role's inline policies do not grow towards IAM's 10,240.
    policies = limits.role_inline_policy_sizes(template, "ActionScheduler")
    assert policies == limits.role_inline_policy_sizes(synthesized[0], "ActionScheduler")
    [asset] = path.parent.glob("asset.*/functions/webhook_sources.json")
    assert len(json.loads(asset.read_text())) == SOURCES
    manifest = json.loads((asset.parent / "hook_manifest.json").read_text())
    assert sum(name.startswith("team_hook_") for name in manifest["hooks"]) == HOOKS
    assert len(template["Resources"]) <= limits.LIMITS["cloudformation_resources"].value


def test_no_function_carries_the_webhook_sources_in_its_environment(synthesized):
    template, _ = synthesized
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            assert "WEBHOOK_SOURCES" not in variables
            assert "CONSOLE_WEBHOOK_SOURCES" not in variables
