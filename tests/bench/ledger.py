"""DynamoDB write units as DynamoDB bills them, from each write's item before and after.

A table write costs one WRU per started KB of the item (an update or a delete: the larger
of the item before and after; a refused conditional write: the item as it was). Each
global secondary index then costs what the write did to the item's entry there: nothing
if the entry's keys and projected attributes are unchanged (or the item has no entry
before or after: a sparse index), one write of the entry's size if it appears, changes in
place or disappears, and two (a delete and a put) if its keys change.

The ledger reads each item before and after the write with a client of its own (not
counted as the functions' requests), so the figure follows whatever the code writes,
instead of a formula of what it is supposed to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.bench.cost import dynamodb_item_bytes, write_units

Item = dict[str, Any]
# DynamoDB's documented overhead of an index entry (storage); billed here too, as a bound.
ENTRY_OVERHEAD = 100


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projected: frozenset[str] | None  # None: ALL

    def entry(self, item: Item | None, table_keys: tuple[str, ...]) -> Item | None:
        if item is None or not set(self.keys) <= set(item):
            return None
        if self.projected is None:
            return item
        kept = set(self.keys) | set(table_keys) | self.projected
        return {name: value for name, value in item.items() if name in kept}


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    @classmethod
    def described(cls, client: Any, name: str) -> Table:
        table = client.describe_table(TableName=name)["Table"]
        indexes = []
        for index in table.get("GlobalSecondaryIndexes", []):
            projection = index["Projection"]
            projected = (
                None
                if projection["ProjectionType"] == "ALL"
                else frozenset(projection.get("NonKeyAttributes", []))
            )
            keys = tuple(key["AttributeName"] for key in index["KeySchema"])
            indexes.append(Index(index["IndexName"], keys, projected))
        keys = tuple(key["AttributeName"] for key in table["KeySchema"])
        return cls(name, keys, tuple(indexes))

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys}


def entry_units(before: Item | None, after: Item | None, index: Index) -> int:
    """The index writes one item write causes, in WRU."""
    if before is None and after is None:
        return 0
    if before is None or after is None:
        return write_units(dynamodb_item_bytes(after or before or {}) + ENTRY_OVERHEAD)
    if before == after:
        return 0
    size = write_units(dynamodb_item_bytes(after) + ENTRY_OVERHEAD)
    moved = any(before.get(key) != after.get(key) for key in index.keys)
    return 2 * size if moved else size


def write_cost(table: Table, before: Item | None, after: Item | None) -> tuple[int, int]:
    """(table WRU, index WRU) of one write that turned ``before`` into ``after``."""
    item = write_units(max(dynamodb_item_bytes(before or {}), dynamodb_item_bytes(after or {})))
    indexes = sum(
        entry_units(index.entry(before, table.keys), index.entry(after, table.keys), index)
        for index in table.indexes
    )
    return item, indexes


@dataclass
class WriteLedger:
    """Attach to the functions' DynamoDB clients; ``total`` grows with every write."""

    reader: Any
    tables: dict[str, Table] = field(default_factory=dict)
    table_units: int = 0
    index_units: int = 0
    writes: int = 0

    @property
    def total(self) -> int:
        return self.table_units + self.index_units

    def attach(self, clients: list[Any]) -> WriteLedger:
        for client in clients:
            if client.meta.service_model.service_name != "dynamodb":
                continue
            client.meta.events.register("provide-client-params.dynamodb.*", self._before)
            client.meta.events.register("after-call.dynamodb.*", self._after)
        return self

    def _table(self, name: str) -> Table:
        if name not in self.tables:
            self.tables[name] = Table.described(self.reader, name)
        return self.tables[name]

    def _read(self, table: Table, key: Item) -> Item | None:
        found = self.reader.get_item(TableName=table.name, Key=key, ConsistentRead=True)
        return found.get("Item")

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[Table, Item]]:
        """(table, key) of each item the write touches."""
        if operation == "PutItem":
            table = self._table(params["TableName"])
            return [(table, table.key_of(params["Item"]))]
        if operation in {"UpdateItem", "DeleteItem"}:
            return [(self._table(params["TableName"]), params["Key"])]
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "ConditionCheck":
                    continue
                table = self._table(body["TableName"])
                found.append((table, table.key_of(body["Item"]) if kind == "Put" else body["Key"]))
            return found
        if operation == "BatchWriteItem":
            found = []
            for name, requests in params["RequestItems"].items():
                table = self._table(name)
                for request in requests:
                    if "PutRequest" in request:
                        found.append((table, table.key_of(request["PutRequest"]["Item"])))
                    else:
                        found.append((table, request["DeleteRequest"]["Key"]))
            return found
        return []

    def _before(
        self, params: dict[str, Any], context: dict[str, Any], model: Any, **_: Any
    ) -> None:
        targets = self._targets(model.name, params)
        context["ledger"] = [(table, key, self._read(table, key)) for table, key in targets]

    def _after(self, context: dict[str, Any], **_: Any) -> None:
        for table, key, before in context.pop("ledger", []):
            after = self._read(table, key)
            item, indexes = write_cost(table, before, after)
            self.table_units += item
            self.index_units += indexes
            self.writes += 1
