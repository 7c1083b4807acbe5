"""Hook packages outside this repository (``hookPackages``), and the hook manifest.

A hook package is a folder holding one or more Python packages (folders with an
``__init__.py``) and, optionally, its own ``requirements.txt``. Every module of those
packages is a hook module: the worker imports each on its own. The manifest
(functions/actions/manifest.py) is written at synth by importing the modules once in a
child process, with the packages' requirements installed for this machine; a module
that fails to import fails the synth with its name and error. A package's requirements
are resolved under requirements.lock as constraints: a hook package gets the versions the
functions were tested with, or fails the synth naming the conflict, never replacing a
runtime library in the asset with another version.
Why: docs/decisions/0053-hook-manifest-and-isolated-hook-imports.md
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / ".cache" / "hook-deps"
REQUIREMENTS = "requirements.txt"
# The versions the project's functions are tested with: every hook package's
# requirements are resolved within them (pip's constraints).
LOCK = ROOT / "requirements.lock"


class HookPackageError(ValueError):
    """A hook package that cannot be deployed: missing, empty, or broken at import."""


@dataclass(frozen=True)
class HookPackage:
    """One folder named in ``hookPackages``."""

    path: Path

    @property
    def requirements(self) -> Path | None:
        found = self.path / REQUIREMENTS
        return found if found.is_file() else None

    def packages(self) -> list[Path]:
        """The Python packages the folder holds, by name."""
        return sorted(
            child
            for child in self.path.iterdir()
            if child.is_dir() and (child / "__init__.py").is_file()
        )

    def modules(self) -> list[str]:
        """Every module of its packages, each package before its modules, by name."""
        found: list[str] = []
        for package in self.packages():
            for source in sorted(package.rglob("*.py")):
                parts = source.relative_to(self.path).with_suffix("").parts
                if "__pycache__" in parts:
                    continue
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found.append(".".join(parts))
        return sorted(found, key=lambda name: (name.split("."), name))

    def source_files(self) -> list[Path]:
        files = [self.requirements] if self.requirements else []
        for package in self.packages():
            files += [
                path
                for path in package.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
            ]
        return sorted(files)


def resolve(paths: list[str], base: Path | None = None) -> list[HookPackage]:
    """The packages at ``paths`` (relative ones from ``base``, the current directory: where
    ``cdk synth`` runs, beside cdk.json). Raises ``HookPackageError`` for one that is not
    a folder holding a Python package."""
    base = Path.cwd() if base is None else base
    packages = []
    for given in paths:
        path = (base / given).resolve()
        if not path.is_dir():
            raise HookPackageError(f"hookPackages: {given!r} is not a folder ({path})")
        package = HookPackage(path)
        if not package.packages():
            raise HookPackageError(
                f"hookPackages: {given!r} holds no Python package (a folder with an __init__.py)"
            )
        packages.append(package)
    return packages


def hook_modules(
    packages: list[HookPackage], *, example_hooks: bool, extra: tuple[str, ...] = ()
) -> list[str]:
    """The modules the worker imports, in order: the project's example hooks unless
    switched off, the receiver's own hook, each package's modules, then ``extra`` (the
    local cloud's ``ACTION_HOOK_MODULES``)."""
    from functions.hooks import EXAMPLE_MODULES, RECEIVER_MODULES

    modules = [*(EXAMPLE_MODULES if example_hooks else ()), *RECEIVER_MODULES]
    for package in packages:
        modules += package.modules()
    return [*modules, *(module for module in extra if module not in modules)]


def _pip(arguments: list[str], target: Path, what: str) -> Path:
    """Install once per recipe into a cached folder, within the lock's versions; return it."""
    if (target / ".complete").exists():
        return target
    staging = target.with_suffix(".partial")
    shutil.rmtree(staging, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(staging)]
    result = subprocess.run(  # noqa: S603 - this interpreter's pip, arguments of ours
        [*command, "--constraint", str(LOCK), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise HookPackageError(_install_failure(what, result.stderr))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (target / ".complete").touch()
    return target


def _install_failure(what: str, stderr: str) -> str:
    """pip's complaint, said in the project's terms when it is a conflict with the lock."""
    if "ResolutionImpossible" in stderr or "conflicting dependencies" in stderr:
        return (
            f"the requirements of {what} conflict with the versions the functions run "
            f"(requirements.lock, applied as constraints): require a version the lock "
            f"pins, or a range that admits it.\n{stderr.strip()}"
        )
    return f"pip could not install {what}:\n{stderr.strip()}"


def _key(requirements: Path, flavour: str) -> str:
    """One cached install per requirements file, platform and lock."""
    digest = hashlib.sha256(flavour.encode() + requirements.read_bytes() + LOCK.read_bytes())
    return digest.hexdigest()[:16]


def host_dependencies(package: HookPackage) -> Path | None:
    """The package's requirements installed for this machine: to import it at synth and
    to run it in the local cloud. None when it has no requirements file."""
    requirements = package.requirements
    if requirements is None:
        return None
    target = CACHE_DIR / f"host-{_key(requirements, sys.version)}"
    return _pip(["-r", str(requirements)], target, f"{requirements} for this machine")


def lambda_dependencies(package: HookPackage, platform: str, python_version: str) -> Path | None:
    """The package's requirements installed for Lambda's platform and Python (wheels only,
    with their dependencies). None when it has no requirements file."""
    requirements = package.requirements
    if requirements is None:
        return None
    target = CACHE_DIR / f"lambda-{_key(requirements, platform + python_version)}"
    arguments = [
        "--no-compile", "--platform", platform, "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:", "-r", str(requirements),
    ]  # fmt: skip
    return _pip(arguments, target, f"{requirements} for Lambda")


def search_path(packages: list[HookPackage]) -> list[str]:
    """What a process needs on its path to import the packages here: each folder and its
    requirements, installed for this machine."""
    paths: list[str] = []
    for package in packages:
        paths.append(str(package.path))
        installed = host_dependencies(package)
        if installed is not None:
            paths.append(str(installed))
    return paths


def manifest_json(
    packages: list[HookPackage], *, example_hooks: bool, extra: tuple[str, ...] = ()
) -> str:
    """The manifest of every hook the worker will run, from a child process that imports
    each module once. Raises ``HookPackageError`` naming a module that fails to import."""
    modules = hook_modules(packages, example_hooks=example_hooks, extra=extra)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *search_path(packages)])}
    env.pop("ACTION_HOOK_MODULES", None)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "manifest.json"
        result = subprocess.run(  # noqa: S603 - this interpreter, our own module
            [sys.executable, "-m", "functions.actions.manifest", str(output), *modules],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            env=env,
        )
        if result.returncode != 0:
            last = result.stderr.strip().splitlines()[-1:] or ["(no error output)"]
            raise HookPackageError(f"a hook package is broken: {last[0]}")
        return output.read_text(encoding="utf-8")
