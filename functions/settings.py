"""Settings from the environment the stack sets: one typed model per package, read once.

Each package keeps its settings in its ``config.py`` as an ``EnvSettings`` model whose
fields are aliased to their environment variables, and reads them through a reader made
by ``cached``: the first call validates the environment, later calls in the same process
return the same object (a warm Lambda reads its variables once). ``reset`` forgets every
reader's value, for tests and for the CLI after it changes the environment.

An empty variable counts as unset (the field's default). Nothing here runs at import
time, so importing a package needs no environment, region or credentials. A process
outside the stack names it in ``ACTION_SCHEDULER_STACK`` and reads the stack's
variables from its outputs instead (functions/stack.py).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict

Settings = TypeVar("Settings", bound="EnvSettings")

_CLEARS: list[Callable[[], None]] = []


class EnvSettings(BaseModel):
    """A frozen model whose field aliases name environment variables.

    Fields whose type is itself an ``EnvSettings`` read the same environment, so a
    package can group its settings (the circuit breaker's inside the actions' settings).
    Tests build a model by field name: ``CircuitSettings(threshold=1, ...)``.
    """

    # Built on first validation, not at import: a function pays only for the settings
    # it reads (docs/decisions/0070-handlers-import-what-a-request-needs.md).
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid", defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = _environment() if environ is None else environ
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, EnvSettings):
                values[name] = kind.from_env(environ)
            elif environ.get(variable := field.alias or name):
                values[variable] = environ[variable]
        return cls.model_validate(values)


def environment() -> Mapping[str, str]:
    """The variables settings are read from (``os.environ``, or a named stack's outputs)."""
    return _environment()


def _environment() -> Mapping[str, str]:
    """``os.environ``, with the stack's outputs when it names a stack (functions/stack.py);
    a Lambda function's environment names none, so it never imports boto3 here."""
    if not os.environ.get("ACTION_SCHEDULER_STACK"):
        return os.environ
    from functions import stack

    return stack.environment()


def cached(model: type[Settings]) -> Callable[[], Settings]:
    """A reader of ``model`` from the environment, validated once per process."""

    @functools.cache
    def read() -> Settings:
        return model.from_env()

    _CLEARS.append(read.cache_clear)
    return read


def reset() -> None:
    """Forget what every reader read: the next call reads the environment (and the stack's
    outputs) again."""
    from functions import stack

    for clear in _CLEARS:
        clear()
    stack.variables.cache_clear()
