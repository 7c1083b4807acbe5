"""The sagas' settings, from the environment the stack sets: ``SAGA_TABLE_NAME``, the
table holding each order saga's state (functions/sagas/order_state.py)."""

from __future__ import annotations

from dataclasses import dataclass

from functions.settings import EnvSettings, cached, setting


@dataclass(frozen=True, kw_only=True)
class SagaSettings(EnvSettings):
    table_name: str = setting("SAGA_TABLE_NAME", "")


settings = cached(SagaSettings)
