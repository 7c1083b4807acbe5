"""Hook packages at synth: the manifest in the functions' asset, a team's own package
bundled with its requirements, and a broken package failing the synth by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import context as cdk_context
from infra.config import DeploymentConfig
from infra.hook_packages import (
    HookPackage,
    HookPackageError,
    host_dependencies,
    lambda_dependencies,
    manifest_json,
    resolve,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hook_package"


def _asset_manifest(outdir: Path) -> tuple[Path, dict]:
    [found] = outdir.glob("asset.*/functions/hook_manifest.json")
    return found.parents[1], json.loads(found.read_text())


def test_the_asset_holds_the_manifest_of_the_project_hooks(synthesized):
    _, path = synthesized
    _, manifest = _asset_manifest(path.parent)

    assert manifest["v"] == 1
    assert "functions.hooks.webhooks" in manifest["modules"]
    webhook = manifest["hooks"]["process_webhook"]
    assert webhook["module"] == "functions.hooks.webhooks"
    assert manifest["hooks"]["sync_external_api"]["circuit"] == "external_api"
    assert manifest["hooks"]["sync_external_api"]["max_attempts"] == 8


@pytest.fixture(scope="module")
def with_package(tmp_path_factory) -> Path:
    """The stack synthesized with the example package and without the example hooks."""
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out.hooks")
    context = cdk_context.load(
        ROOT, {"hookPackages": "examples/hook_package", "exampleHooks": "false"}
    )
    app, _ = build_app(outdir=str(outdir), context=context)
    app.synth()
    return outdir


def test_a_hook_package_is_bundled_with_its_requirements_and_in_the_manifest(with_package):
    asset, manifest = _asset_manifest(with_package)

    assert manifest["hooks"]["shop_send_receipt"]["module"] == "shop_hooks.receipts"
    assert manifest["hooks"]["shop_send_receipt"]["priority"] == "high"
    assert manifest["hooks"]["shop_reorder_stock"]["unique_by"] == "group"
    # exampleHooks=false: only the receiver's own hook stays of the project's.
    assert "sync_external_api" not in manifest["hooks"]
    assert "process_webhook" in manifest["hooks"]
    assert (asset / "shop_hooks" / "receipts.py").is_file()
    assert (asset / "humanize" / "__init__.py").is_file()


def test_a_module_that_fails_to_import_fails_the_synth_by_name(tmp_path):
    package = tmp_path / "team"
    (package / "team_hooks").mkdir(parents=True)
    (package / "team_hooks" / "__init__.py").write_text("")
    (package / "team_hooks" / "billing.py").write_text("import no_such_dependency\n")

    with pytest.raises(HookPackageError) as raised:
        manifest_json([HookPackage(package)], example_hooks=True)

    assert "'team_hooks.billing'" in str(raised.value)
    assert "No module named 'no_such_dependency'" in str(raised.value)


def test_a_folder_without_a_package_is_refused(tmp_path):
    with pytest.raises(HookPackageError, match="holds no Python package"):
        resolve([str(tmp_path)])
    with pytest.raises(HookPackageError, match="is not a folder"):
        resolve(["no/such/folder"], tmp_path)


def test_hook_packages_from_the_command_line_are_relative_to_cdk_json(tmp_path):
    context = cdk_context.load(tmp_path, {"hookPackages": "hooks/ours"}, home=tmp_path)
    config = DeploymentConfig.model_validate(context)

    assert config.hook_packages == [str(tmp_path / "hooks/ours")]
    assert DeploymentConfig.model_validate({"exampleHooks": "false"}).example_hooks is False
    assert HookPackage(EXAMPLE).modules() == [
        "shop_hooks",
        "shop_hooks.receipts",
        "shop_hooks.stock",
    ]


def _package_requiring(root: Path, requirement: str) -> HookPackage:
    (root / "team_hooks").mkdir(parents=True)
    (root / "team_hooks" / "__init__.py").write_text("")
    (root / "requirements.txt").write_text(requirement + "\n")
    return HookPackage(root)


def test_a_hook_package_gets_the_versions_the_functions_were_tested_with(tmp_path):
    from importlib import metadata

    package = _package_requiring(tmp_path / "team", "typing_extensions>=4")

    installed = host_dependencies(package)

    assert installed is not None
    [dist] = metadata.distributions(path=[str(installed)])
    # The newest typing_extensions would do; the lock's is the one the runtime runs.
    assert dist.version == metadata.version("typing_extensions")


def test_a_requirement_that_conflicts_with_the_lock_fails_the_synth_by_name(tmp_path):
    package = _package_requiring(tmp_path / "team", "pydantic==1.10.13")

    with pytest.raises(HookPackageError) as raised:
        lambda_dependencies(package, "manylinux2014_aarch64", "3.11")

    message = str(raised.value)
    assert "conflict with the versions the functions run (requirements.lock" in message
    assert "pydantic==1.10.13" in message
