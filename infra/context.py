"""The CDK context, gathered as the CDK CLI gathers it for ``npx cdk synth``.

From the project directory (the CLI's working directory): ``-c``/``--context`` values on
the command line first, then the ``context`` of ``cdk.json``, then ``cdk.context.json``,
then the ``context`` of ``~/.cdk.json``. The first that has a key gives its value, and
JSON objects are merged key by key, as the CLI merges them (a source added in
``cdk.context.json`` joins those of ``cdk.json``). Values from the command line are
strings, as the CLI passes them (``infra/config.py`` reads numbers and JSON out of
them). So ``make run`` and ``actionsctl`` see the deployment that ``npx cdk synth`` with
the same arguments would make.
Why: docs/decisions/0040-the-local-cloud-synthesizes-with-the-cdk-clis-context.md
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROJECT_CONFIG = "cdk.json"
PROJECT_CONTEXT = "cdk.context.json"
USER_DEFAULTS = "~/.cdk.json"


class ContextError(ValueError):
    """A context argument or file the CDK CLI would refuse too."""


HOOK_PACKAGES = "hookPackages"


def parse_arguments(arguments: Sequence[str]) -> dict[str, str]:
    """``-c KEY=VALUE`` and ``--context KEY=VALUE`` (or ``--context=KEY=VALUE``) pairs."""
    context: dict[str, str] = {}
    items = iter(arguments)
    for argument in items:
        if argument in ("-c", "--context"):
            assignment = next(items, None)
            if assignment is None:
                raise ContextError(f"{argument} needs KEY=VALUE")
        elif argument.startswith("--context="):
            assignment = argument.removeprefix("--context=")
        else:
            raise ContextError(f"{argument!r}: only -c KEY=VALUE (or --context) is taken here")
        key, equals, value = assignment.partition("=")
        if not equals or not key:
            raise ContextError(f"context argument is not KEY=VALUE: {assignment!r}")
        if key.startswith("aws:"):
            raise ContextError(f"context keys starting with 'aws:' are the CDK's own: {key!r}")
        context[key] = value
    return context


def load(
    directory: Path | None = None,
    overrides: dict[str, str] | None = None,
    *,
    home: Path | None = None,
) -> dict[str, Any]:
    """The context ``npx cdk synth`` run in ``directory`` (the current one) would give the app."""
    directory = Path.cwd() if directory is None else directory
    user = (home or Path.home()) / USER_DEFAULTS.removeprefix("~/")
    layers = [
        overrides or {},
        _read(directory / PROJECT_CONFIG).get("context", {}),
        _read(directory / PROJECT_CONTEXT),
        _read(user).get("context", {}),
    ]
    context: dict[str, Any] = {}
    for layer in reversed(layers):  # the first layer that has a key wins
        _merge(context, layer)
    return _absolute_hook_packages(context, directory)


def _absolute_hook_packages(context: dict[str, Any], directory: Path) -> dict[str, Any]:
    """``hookPackages`` are relative to the folder ``cdk synth`` runs in: made absolute
    here, so a synth run elsewhere (the local cloud's child) finds the same folders."""
    given = context.get(HOOK_PACKAGES)
    if given is None:
        return context
    if isinstance(given, str):
        given = json.loads(given) if given.lstrip().startswith("[") else [given]
    if isinstance(given, list):
        context[HOOK_PACKAGES] = [str(directory / str(path)) for path in given]
    return context


def _merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    """The CLI's deep merge: objects key by key, anything else (arrays too) replaced."""
    for key, value in layer.items():
        if key in ("__proto__", "constructor", "prototype"):
            continue  # the CLI skips them too
        if isinstance(value, dict):
            if not isinstance(into.get(key), dict):
                into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ContextError(f"cannot read {path}: {exc}") from None
    if not isinstance(document, dict):
        raise ContextError(f"{path} is not a JSON object")
    return document
