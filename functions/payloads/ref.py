"""The claim check: what an envelope and an action carry instead of args kept in S3."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

# <lifetime prefix>/<action id>/<sha256 of the object's bytes>.json
KEY = re.compile(r"^d[0-9]{1,5}/[^/]{1,128}/[0-9a-f]{64}\.json$")


class PayloadRef(BaseModel):
    """Where an action's args are: the object's key in the payload bucket, its size in
    bytes, and the hash of the args it holds (``store.args_hash``, which queries match on).

    The bucket is the stack's (``PAYLOAD_BUCKET_NAME``), not part of the reference.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    key: str = Field(pattern=KEY.pattern)
    size: int = Field(ge=0)
    args_hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def sha256(self) -> str:
        """The digest of the object's bytes, as its key names it."""
        return self.key.rsplit("/", 1)[1].removesuffix(".json")
