"""Counted nouns for messages people read: "1 message", "2 messages", "50+ actions"."""

from __future__ import annotations


def counted(count: int | str, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, plural unless the count is exactly one.

    ``count`` may be a string such as ``"50+"`` (a bounded count), which is plural;
    ``plural`` spells an irregular plural, else an ``s`` is added.
    """
    one = count in {1, "1"}
    return f"{count} {noun if one else plural or noun + 's'}"
