"""The sagas' settings, from the environment the stack sets: ``SAGA_TABLE_NAME``, the
table holding each order saga's state (functions/sagas/order_state.py)."""

from __future__ import annotations

from pydantic import Field

from functions.settings import EnvSettings, cached


class SagaSettings(EnvSettings):
    table_name: str = Field(default="", alias="SAGA_TABLE_NAME")


settings = cached(SagaSettings)
