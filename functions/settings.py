"""Settings from the environment the stack sets: one typed model per package, read once.

Each package keeps its settings in its ``config.py`` as a frozen dataclass deriving from
``EnvSettings``, whose fields name their environment variables with ``setting(...)``, and
reads them through a reader made by ``cached``: the first call validates the environment,
later calls in the same process return the same object (a warm Lambda reads its variables
once). ``reset`` forgets every reader's value, for tests and for the CLI after it changes
the environment.

An empty variable counts as unset (the field's default). Nothing here runs at import
time, so importing a package needs no environment, region or credentials. A process
outside the stack names it in ``ACTION_SCHEDULER_STACK`` and reads the stack's
variables from its outputs instead (functions/stack.py).

Plain dataclasses, not pydantic: every function reads settings on its first request,
and pydantic's import alone was a third of a cold start's cost above the floor
(docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md). A setting is a
string, an integer, a float or a boolean read from its variable's text, or any other
value its field's ``parse`` makes of the text (JSON documents).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import typing
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

Settings = TypeVar("Settings", bound="EnvSettings")

_CLEARS: list[Callable[[], None]] = []
# The words a boolean setting is read from (any case); webhook sources take them too.
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "t", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "f", "n"})


class SettingsError(ValueError):
    """A variable's value is not what its setting takes; the message names the variable."""


def setting(  # noqa: PLR0913 - the field's own keywords, each optional
    variable: str,
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
    ge: float | None = None,
    le: float | None = None,
    parse: Callable[[str], Any] | None = None,
) -> Any:
    """A field read from ``variable``: its default, its bounds (checked at every
    construction) and, for a value that is not a str, int, float or bool, the ``parse``
    that makes it of the variable's text (raising ``ValueError`` on bad text)."""
    metadata = {"variable": variable, "ge": ge, "le": le, "parse": parse}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


def variable_of(field: dataclasses.Field[Any]) -> str | None:
    """The environment variable a field is read from (None: a nested group)."""
    name = field.metadata.get("variable")
    return str(name) if name else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnvSettings:
    """A frozen dataclass whose fields name environment variables (``setting``).

    Fields whose type is itself an ``EnvSettings`` read the same environment, so a
    package can group its settings (the circuit breaker's inside the actions' settings).
    Tests build a model by field name: ``CircuitSettings(threshold=1, ...)``; the bounds
    hold there too.
    """

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            low, high = field.metadata.get("ge"), field.metadata.get("le")
            if low is None and high is None:
                continue
            value = getattr(self, field.name)
            where = variable_of(field) or field.name
            if low is not None and value < low:
                raise SettingsError(f"{where} must be at least {low:g}, not {value!r}")
            if high is not None and value > high:
                raise SettingsError(f"{where} must be at most {high:g}, not {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = _environment() if environ is None else environ
        values: dict[str, Any] = {}
        for field, kind in field_types(cls):
            if isinstance(kind, type) and issubclass(kind, EnvSettings):
                values[field.name] = kind.from_env(environ)
                continue
            variable = variable_of(field)
            text = environ.get(variable) if variable else None
            if text:
                values[field.name] = _convert(field, kind, text)
        return cls(**values)


_FIELD_TYPES: dict[type, tuple[tuple[dataclasses.Field[Any], Any], ...]] = {}


def field_types(model: type[EnvSettings]) -> tuple[tuple[dataclasses.Field[Any], Any], ...]:
    """Each field of ``model`` with its type resolved (the annotations are strings)."""
    found = _FIELD_TYPES.get(model)
    if found is None:
        hints = typing.get_type_hints(model)
        found = tuple((field, hints[field.name]) for field in dataclasses.fields(model))
        _FIELD_TYPES[model] = found
    return found


def _convert(field: dataclasses.Field[Any], kind: Any, text: str) -> Any:
    variable = variable_of(field)
    parse = field.metadata.get("parse")
    try:
        if parse is not None:
            return parse(text)
        if kind is str:
            return text
        if kind is bool:
            return _boolean(text)
        if kind is int:
            return int(text.strip())
        if kind is float:
            number = float(text.strip())
            if math.isnan(number):
                raise ValueError("not a number")
            return number
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(f"{variable}: {text[:80]!r} is not valid: {exc}") from None
    raise TypeError(f"{variable}: a {kind!r} setting needs a parse function")  # pragma: no cover


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError("a boolean is true or false (also 1/0, yes/no, on/off)")


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
