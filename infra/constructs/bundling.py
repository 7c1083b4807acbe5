"""The Lambda asset: ``functions/`` plus its runtime dependencies, built without Docker.

One asset for every function: pyproject's dependencies at the locked versions, minus
what the Lambda runtime provides (boto3), downloaded as manylinux wheels for Lambda's
architecture and Python, and cached per requirement set in ``.cache/``.
The asset also holds the hook manifest (``functions/hook_manifest.json``) and any hook
packages named in ``hookPackages``, with their own requirements installed for Lambda
(infra/hook_packages.py).
Why: docs/decisions/0020-lambda-asset-built-without-docker.md,
0053-hook-manifest-and-isolated-hook-imports.md
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from functions.actions import manifest
from functions.webhooks.config import SOURCES_FILE_NAME
from infra.hook_packages import HookPackage, lambda_dependencies, manifest_json

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
CACHE_DIR = ROOT / ".cache" / "lambda-deps"

# The Python the test suite runs on (the Makefile's PYTHON): what runs in Lambda is what
# was tested. Why: docs/decisions/0041-lambda-runs-the-python-the-tests-run-on.md
PYTHON_VERSION = "3.11"
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
_PLATFORM = "manylinux2014_aarch64"
_PYTHON_VERSION = PYTHON_VERSION
# The Lambda Python runtime ships boto3; bundling our own copy would shadow it.
_PROVIDED_BY_RUNTIME = "boto3"
# Dependency markers are evaluated for Lambda, not for the machine that synthesizes.
_TARGET = {
    "python_version": _PYTHON_VERSION,
    "python_full_version": f"{_PYTHON_VERSION}.0",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def _runtime_group() -> list[Requirement]:
    """The project's dependencies: what its functions need at run time."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(spec) for spec in pyproject["project"]["dependencies"]]


def _closure(roots: list[Requirement]) -> dict[str, str]:
    """Name → installed version of ``roots`` and everything they require."""
    found: dict[str, str] = {}
    pending = [(req, frozenset(req.extras)) for req in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        req, extras = pending.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist = metadata.distribution(name)
        found[name] = dist.version
        for spec in dist.requires or []:
            dependency = Requirement(spec)
            markers_ok = dependency.marker is None or any(
                dependency.marker.evaluate({**_TARGET, "extra": extra})
                for extra in (extras or {""})
            )
            if markers_ok:
                pending.append((dependency, frozenset(dependency.extras)))
    return found


def runtime_requirements() -> list[str]:
    """Pinned ``name==version`` lines of what the asset must bundle."""
    bundled = _closure(_runtime_group())
    provided = _closure([Requirement(_PROVIDED_BY_RUNTIME)])
    return sorted(f"{name}=={version}" for name, version in bundled.items() if name not in provided)


def _source_files() -> list[Path]:
    return sorted(
        path
        for path in FUNCTIONS_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def asset_hash(
    requirements: list[str],
    packages: list[HookPackage] | None = None,
    hook_manifest: str = "",
    webhook_sources: str = "",
) -> str:
    digest = hashlib.sha256()
    digest.update(f"{_PLATFORM} {_PYTHON_VERSION}\n".encode())
    digest.update("\n".join(requirements).encode())
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for package in packages or []:
        for path in package.source_files():
            digest.update(str(path.relative_to(package.path)).encode())
            digest.update(path.read_bytes())
    digest.update(hook_manifest.encode())
    digest.update(webhook_sources.encode())
    return digest.hexdigest()


def install_dependencies(requirements: list[str]) -> Path:
    """Download the dependencies once per requirement set; return the cached directory."""
    recipe = f"no-compile {_PLATFORM} {_PYTHON_VERSION}\n{requirements}"
    key = hashlib.sha256(recipe.encode()).hexdigest()
    target = CACHE_DIR / key[:16]
    if (target / ".complete").exists():
        return target
    staging = target.with_suffix(".partial")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        # --no-compile: pip would compile for this machine's Python, not Lambda's.
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
        "--platform", _PLATFORM, "--implementation", "cp",
        "--python-version", _PYTHON_VERSION, "--only-binary=:all:",
        "--target", str(staging), *requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"pip could not build the Lambda dependencies:\n{result.stderr}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (target / ".complete").touch()
    return target


@jsii.implements(ILocalBundling)
class _LocalBundling:
    def __init__(
        self,
        requirements: list[str],
        packages: list[HookPackage],
        hook_manifest: str,
        webhook_sources: str = "",
    ) -> None:
        self._requirements = requirements
        self._packages = packages
        self._manifest = hook_manifest
        self._webhook_sources = webhook_sources

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        output = Path(output_dir)
        shutil.copytree(install_dependencies(self._requirements), output, dirs_exist_ok=True)
        (output / ".complete").unlink(missing_ok=True)
        shutil.copytree(
            FUNCTIONS_DIR,
            output / "functions",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        for package in self._packages:
            installed = lambda_dependencies(package, _PLATFORM, _PYTHON_VERSION)
            if installed is not None:
                shutil.copytree(installed, output, dirs_exist_ok=True)
                (output / ".complete").unlink(missing_ok=True)
            for source in package.packages():
                shutil.copytree(
                    source,
                    output / source.name,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
        (output / "functions" / manifest.FILE_NAME).write_text(self._manifest, encoding="utf-8")
        if self._webhook_sources:
            (output / "functions" / SOURCES_FILE_NAME).write_text(
                self._webhook_sources, encoding="utf-8"
            )
        return True


def lambda_code(
    packages: list[HookPackage] | None = None,
    *,
    example_hooks: bool = True,
    webhook_sources: str = "",
) -> lambda_.Code:
    """The asset every function uses; built locally, never in Docker.

    ``webhook_sources`` (the receiver's ``WEBHOOK_SOURCES`` document) is written into it
    as ``functions/webhook_sources.json``: it grows with each source, and Lambda's
    environment stops at 4 KB (docs/decisions/0066-settings-that-grow-leave-the-environment.md).

    The hook manifest is written here, at synth: a hook module that fails to import
    fails the synth (``HookPackageError``)."""
    requirements = runtime_requirements()
    packages = packages or []
    hook_manifest = manifest_json(packages, example_hooks=example_hooks)
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(requirements, packages, hook_manifest, webhook_sources),
        bundling=BundlingOptions(
            # Required by the API; never pulled, because local bundling always succeeds.
            image=DockerImage.from_registry(f"public.ecr.aws/sam/build-python{PYTHON_VERSION}"),
            # jsii calls try_bundle with the options as one struct, not as the keyword
            # arguments of ILocalBundling's generated Python signature.
            local=cast(
                ILocalBundling,
                _LocalBundling(requirements, packages, hook_manifest, webhook_sources),
            ),
        ),
    )
