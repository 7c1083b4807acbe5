"""The limits checked at the door: what the system accepts, it can run.

One set, used by everything that takes work in (``enqueue_async_action`` and the
schedule functions, the queries, the webhook receiver) and by the worker's envelope
parser, so that nothing accepted is refused later. Each check raises
``InvalidAction`` with a message for the caller; the receiver answers it as
``400 malformed_payload``. docs/guides/scheduling.md, "Limits checked at the door", lists them.
Why: docs/decisions/0033-one-set-of-limits-at-the-door.md
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from functions.actions.exceptions import InvalidAction

# Hook names: the by_hook index's partition key, and an SQS message attribute.
HOOK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
# Containers nested in args (``[]`` is 1, ``[[1]]`` 2). The worker's JSON parser
# (Python's json) stops near the interpreter's recursion limit (1000 frames, less the
# stack it runs on), the envelope adds one level: 64 leaves room to spare.
MAX_ARGS_DEPTH = 64
# A webhook body travels as args' ``payload``, one level down.
MAX_WEBHOOK_BODY_DEPTH = MAX_ARGS_DEPTH - 1
# EventBridge Scheduler documents years 1970-2199 (its cron year field); its at()
# schedules document no other range, so every time we accept lies in that one.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
# The action id is the table's partition key (DynamoDB: 2048 bytes) and an SQS message
# attribute; 128 characters of at most 4 bytes stay well inside both.
MAX_ACTION_ID_LENGTH = 128
# The group is a filter value and part of the by_match key's hash, not a key itself.
MAX_GROUP_LENGTH = 255
# An ordered hook's group is its SQS FIFO MessageGroupId: 1-128 ASCII letters, digits
# and punctuation (SQS's rule), checked when the action is made, not when EventBridge
# Scheduler sends it.
FIFO_GROUP = re.compile(r"^[\x21-\x7e]{1,128}$")


def json_problem(value: Any, max_depth: int = MAX_ARGS_DEPTH) -> str | None:
    """Why ``value`` is not a JSON value the worker receives unchanged, or None.

    JSON values only: dicts with string keys, lists (tuples arrive as lists), strings
    without lone surrogates (not UTF-8, so neither SQS nor DynamoDB can carry them),
    integers, finite floats, booleans and None, nested at most ``max_depth`` deep.
    Iterative, so a hostile nesting cannot exhaust the interpreter's stack.

    Every webhook body and args pass here (twice for a webhook): ``_plainly_json`` answers
    the usual case, plain JSON, fast; anything else is walked again to name its first
    problem, the one this function has always named.
    """
    if _plainly_json(value, max_depth):
        return None
    return _first_problem(value, max_depth)


def _plainly_json(value: Any, max_depth: int) -> bool:
    """True if ``value`` is a dict or list of exactly JSON's types (no subclass) with no
    problem; False if it may have one. Strings are checked all at once, joined: UTF-8
    refuses a surrogate whatever is beside it."""
    if type(value) is not dict and type(value) is not list:
        return False
    isfinite = math.isfinite
    texts: list[str] = []
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return False
        if type(item) is dict:
            texts.extend(item)  # its keys: the join below refuses any that is not text
            children: Any = item.values()
        else:
            children = item
        for child in children:
            kind = type(child)
            if kind is str:
                texts.append(child)
            elif kind is dict or kind is list or kind is tuple:
                stack.append((child, depth + 1))
            elif kind is float:
                if not isfinite(child):
                    return False
            elif not (kind is int or kind is bool or child is None):
                return False
    try:
        joined = "".join(texts)
    except TypeError:
        return False
    return joined.isascii() or _utf8(joined)


def _first_problem(value: Any, max_depth: int) -> str | None:
    """The first problem ``json_problem`` names, walking every value."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            problem = _scalar_problem(item)
            if problem:
                return problem
            continue
        if depth + 1 > max_depth:
            return f"JSON nests deeper than {max_depth} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"object keys must be strings, not {type(key).__name__}"
                if not _utf8(key):
                    return _SURROGATE
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)
    return None


_SURROGATE = "strings must be valid Unicode (a lone surrogate is not)"


def _scalar_problem(item: Any) -> str | None:
    if isinstance(item, str):
        return None if _utf8(item) else _SURROGATE
    if isinstance(item, float):
        return None if math.isfinite(item) else "JSON numbers must be finite (no NaN or Infinity)"
    if item is None or isinstance(item, int):  # bool is an int
        return None
    return f"{type(item).__name__} is not a JSON type"


def check_args(args: Any) -> None:
    """Refuse args the worker could not run exactly as given (``json_problem``)."""
    problem = json_problem(args)
    if problem:
        raise InvalidAction(f"args: {problem}")


def check_time(moment: datetime, what: str = "the time") -> datetime:
    """Refuse a time EventBridge Scheduler cannot express (before 1970, after 2199)."""
    if not EARLIEST <= moment <= LATEST:
        raise InvalidAction(
            f"{what} {moment.isoformat()} is outside {EARLIEST.year}-{LATEST.year} "
            "(the years EventBridge Scheduler can schedule)"
        )
    return moment


def check_hook_name(hook: Any) -> str:
    """A hook name as the by_hook index keys it; refused if no hook could have it."""
    if not isinstance(hook, str) or not HOOK_NAME.fullmatch(hook):
        raise InvalidAction(f"hook names match {HOOK_NAME.pattern}")
    return hook


def check_group(group: Any) -> str:
    """A group as actions carry it: text of at most ``MAX_GROUP_LENGTH`` characters."""
    if not isinstance(group, str):
        raise InvalidAction("group must be a string")
    if len(group) > MAX_GROUP_LENGTH or not _utf8(group):
        raise InvalidAction(f"group must be valid Unicode of at most {MAX_GROUP_LENGTH} characters")
    return group


def check_action_id(action_id: Any) -> str:
    """An action id as the table keys it: 1-128 printable characters."""
    if (
        not isinstance(action_id, str)
        or not 1 <= len(action_id) <= MAX_ACTION_ID_LENGTH
        or not action_id.isprintable()
    ):
        raise InvalidAction(f"an action id is 1-{MAX_ACTION_ID_LENGTH} printable characters")
    return action_id


def check_fifo_group(group: str) -> str:
    """An ordered hook's message group: what SQS FIFO accepts as a MessageGroupId."""
    if not FIFO_GROUP.fullmatch(group):
        raise InvalidAction(
            "an ordered hook's group is its FIFO message group: 1-128 ASCII letters, "
            "digits and punctuation"
        )
    return group


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
