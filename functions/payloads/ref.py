"""The claim check: what an envelope and an action carry instead of args kept in S3.

A frozen dataclass checked by hand, not a pydantic model: the worker reads one from
every message that carries one, and pydantic's import was the largest part of a cold
start above the floor (docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# <lifetime prefix>/<action id>/<sha256 of the object's bytes>.json
KEY = re.compile(r"^d[0-9]{1,5}/[^/]{1,128}/[0-9a-f]{64}\.json$")
HASH = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = ("key", "size", "args_hash")


class InvalidPayloadRef(ValueError):
    """Not a reference of the payload bucket's form; the message names the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PayloadRef:
    """Where an action's args are: the object's key in the payload bucket, its size in
    bytes, and the hash of the args it holds (``store.args_hash``, which queries match on).

    The bucket is the stack's (``PAYLOAD_BUCKET_NAME``), not part of the reference.
    """

    key: str
    size: int
    args_hash: str

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not KEY.fullmatch(self.key) or not _utf8(self.key):
            raise InvalidPayloadRef(f"key: a payload key matches {KEY.pattern}")
        if type(self.size) is not int or self.size < 0:
            raise InvalidPayloadRef("size: the size is an integer of at least 0")
        if not isinstance(self.args_hash, str) or not HASH.fullmatch(self.args_hash):
            raise InvalidPayloadRef(f"args_hash: the hash matches {HASH.pattern}")

    @property
    def sha256(self) -> str:
        """The digest of the object's bytes, as its key names it."""
        return self.key.rsplit("/", 1)[1].removesuffix(".json")

    def to_dict(self) -> dict[str, Any]:
        """As JSON, an item or a saga's input carry it: ``{"key", "size", "args_hash"}``."""
        return {"key": self.key, "size": self.size, "args_hash": self.args_hash}

    @classmethod
    def from_dict(cls, document: Any) -> PayloadRef:
        """The reference ``to_dict`` wrote; ``InvalidPayloadRef`` for anything else (not an
        object, a field missing or unknown, a value of the wrong type or form)."""
        if not isinstance(document, dict):
            raise InvalidPayloadRef("a payload reference is an object")
        for name in document:
            if name not in _FIELDS:
                raise InvalidPayloadRef(f"{name}: not a field of a payload reference")
        for name in _FIELDS:
            if name not in document:
                raise InvalidPayloadRef(f"{name}: missing")
        return cls(key=document["key"], size=document["size"], args_hash=document["args_hash"])


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
