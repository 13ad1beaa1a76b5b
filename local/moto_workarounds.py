"""Workarounds for moto 5.2.5 behaviours that break a long-lived local stack (and slow the test suites down).

Installed by SerialMotoServer, which runs moto in this process, so every client of it (the local stack, the
integration suite's `aws` fixture, the benchmarks) gets them. Each one answers a behaviour of moto 5.2.5 named below;
`tests/integration/test_moto_workarounds.py` fails when one is removed. Check them again when moto is upgraded.

1. Cancelled TransactWriteItems (`DynamoDBBackend.transact_write_items` in `moto/dynamodb/models/__init__.py`):
   before every transaction moto deep-copies each table the transaction names, applies the operations one by one
   and, when one is refused, puts the copies in place of the live tables. That costs time in proportion to
   everything stored (every booking got slower as data grew), and it replaces the table's stream shard object: a
   DynamoDB Streams shard iterator taken before the rollback keeps reading the orphaned shard, so after the first
   refused booking no later outbox record ever reached the publisher.
   Here: every condition is evaluated first against the live items (the items of one transaction are distinct, so
   checking all before applying any is what applying in order would have seen); when any is refused nothing is
   written and the same TransactionCanceledException is raised, with one reason per operation in request order
   (ConditionCheck operations included). Only then are the operations applied, keeping a copy of each item before
   it changes; if an apply step still fails (a validation moto only does while applying), exactly those items are put
   back and the stream records the attempt appended are dropped. Table objects are never swapped. moto's checks stay:
   more than 100 operations, several operations in one entry, two operations on one item -> the same exceptions.
   One difference: when a condition is refused, a validation error another operation would have hit while being
   applied is not reported (moto reported it instead of the cancellation); real DynamoDB validates before it
   evaluates conditions, and this service never sends such requests.

2. Query (`Table.query` in `moto/dynamodb/models/table.py`): for a query on the table's own key moto sorts every item
   of the table (`all_items()`, comparing DynamoType objects in Python), keeps those of the asked partition, sorts
   them again and tests each against the sort-key condition, so each Query costs time in proportion to the whole
   table. Here the same code runs over the items of the asked partition that meet the sort-key condition (found
   with plain comparisons of the key values: the same test moto applies, which it then applies again), so a
   Query costs about what it returns, as in DynamoDB. Queries on an index are left alone (this service has none).

3. EventBridge targets (`EventTemplateParser.parse` in `moto/events/utils.py`): PutEvents builds every matched
   target's message by compiling eight JSONPath expressions with a parser generator, per rule and per event (about
   10 ms each, so some 80 ms of the one-request-at-a-time server per booking event on this template). Here each
   expression is compiled once; the messages are the same (the envelope still lacks `account`, as in moto).

4. SQS ReceiveMessage (`SQSBackend.is_message_valid_based_on_retention_period` in `moto/sqs/models.py`): for each
   message returned moto computes every attribute of the queue twice, counting its messages each time, to read the
   retention period; receiving from a queue with a backlog cost time in proportion to the backlog, which made a
   busy stack fall further behind. Here the retention period is read directly; the answer is the same.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
from typing import Any

from moto.core.utils import unix_time
from moto.dynamodb.comparisons import get_comparison_func, get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.events.utils import EventTemplateParser
from moto.sqs.models import Message, SQSBackend

_ORIGINAL_QUERY = Table.query
_QUERY_SIGNATURE = inspect.signature(_ORIGINAL_QUERY)
_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}

Reason = tuple[str, str, Any] | tuple[None, None, None]


# -- 1. transactions ------------------------------------------------------------------------------------------------
def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Reason]:
    """One reason per operation, evaluated against the live items; writes nothing. Raises what moto raises for a
    malformed transaction."""
    seen: set[tuple[str, str]] = set()
    reasons: list[Reason] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        current_attributes = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            key = _key_of(backend, op_type, op)
            identity = (str(table_name), str(dict(sorted(key.items()))))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            current = backend.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                expression = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not expression.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        current_attributes = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=current_attributes)
            reasons.append((None, None, None))
        except MockValidationException:
            raise
        except ConditionalCheckFailed as error:
            reasons.append(("ConditionalCheckFailed", str(error.message), current_attributes))
        except Exception as error:  # noqa: BLE001 - moto reports any other failure as that operation's reason
            reasons.append((type(error).__name__, str(error), current_attributes))
    return reasons


class _Undo:
    """The items a transaction changed, as they were before, and where each touched table's stream ended."""

    def __init__(self) -> None:
        self._items: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = []
        self._stream_ends: dict[int, tuple[Any, int]] = {}

    def remember(self, table: Table, key: dict[str, Any]) -> None:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        self._items.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        shard = table.stream_shard
        if shard is not None and id(shard) not in self._stream_ends:
            self._stream_ends[id(shard)] = (shard, len(shard.items))

    def restore(self) -> None:
        for table, hash_value, range_value, before in reversed(self._items):
            if range_value is not None:
                if before is None:
                    table.items[hash_value].pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = before
            elif before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before
        for shard, end in self._stream_ends.values():
            del shard.items[end:]  # the records of writes that did not happen


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    table_name = op["TableName"]
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    condition = op.get("ConditionExpression")
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], condition_expression=condition,
                         expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, condition_expression=condition,
                            expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], condition_expression=condition,
                            expression_attribute_names=names, expression_attribute_values=values)


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """DynamoDBBackend.transact_write_items without copying or swapping tables (see the module docstring)."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    reasons = _check(self, transact_items)
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    undo = _Undo()
    failures: list[Reason] = []
    try:
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            try:
                key = _key_of(self, op_type, op)
                undo.remember(self.get_table(op["TableName"]), key)
                _apply(self, op_type, op, key)
                failures.append((None, None, None))
            except MockValidationException:
                raise
            except ConditionalCheckFailed as error:
                failures.append(("ConditionalCheckFailed", str(error.message), None))
            except Exception as error:  # noqa: BLE001 - as moto: the operation's reason, the others still tried
                failures.append((type(error).__name__, str(error), None))
    except BaseException:
        undo.restore()
        raise
    if any(code is not None for code, _, _ in failures):
        undo.restore()
        raise TransactionCanceledException(failures)


# -- 2. queries ------------------------------------------------------------------------------------------------------
def _plain(value: DynamoType) -> Any:
    return value.value if value.type == "S" else value.cast_value  # what DynamoType.compare compares


class _Partition:
    """A table seen through one partition and sort-key condition: moto's query code runs unchanged over the items
    that can match."""

    def __init__(self, table: Table, hash_key: DynamoType, comparison: str | None, operands: list[DynamoType]) -> None:
        self._table, self._hash_key = table, hash_key
        self._comparison, self._operands = comparison, operands

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        partition = self._table.items.get(self._hash_key)  # .get: no empty partition left behind
        if partition is None:
            return []
        if not self._table.range_key_attr:
            return [partition] if isinstance(partition, Item) else []
        candidates = partition.items()
        if self._comparison:
            test = get_comparison_func(self._comparison)
            operands = [_plain(operand) for operand in self._operands]
            candidates = [(key, item) for key, item in candidates if test(_plain(key), *operands)]
        return [item for _, item in sorted(candidates, key=lambda pair: _plain(pair[0])) if isinstance(item, Item)]


def query(self: Table, *args: Any, **kwargs: Any) -> Any:
    """Table.query reading only what can match in the asked partition when it queries the table's own key (see the
    module docstring)."""
    arguments = _QUERY_SIGNATURE.bind(self, *args, **kwargs).arguments
    hash_key = arguments.get("hash_key")
    if arguments.get("index_name") or hash_key is None or len(arguments.get("range_key_conditions") or []) > 1:
        return _ORIGINAL_QUERY(self, *args, **kwargs)
    view = _Partition(self, hash_key, arguments.get("range_comparison"), arguments.get("range_objs") or [])
    return _ORIGINAL_QUERY(view, *args, **kwargs)  # type: ignore[arg-type]


# -- 3. EventBridge target messages -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _json_path(expression: str) -> Any:
    from jsonpath_ng.ext import parse

    return parse(expression)


def parse_event_template(input_template: str, input_paths_map: dict[str, Any], event: Any) -> dict[str, Any]:
    """EventTemplateParser.parse of moto 5.2.5, line for line, with each JSONPath expression compiled once."""
    template = input_template or EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    paths = input_paths_map or EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP
    for name in paths:
        matches = _json_path(paths[name]).find(event)
        result = EventTemplateParser._stringify(matches[0].value) if matches else None
        if result:
            template = template.replace(f"<{name}>", result)
    defaults = {"aws.events.event.json": event, "aws.events.event.ingestion-time": event["ingestion-time"]}
    for name, value in defaults.items():
        template = template.replace(f"<{name}>", EventTemplateParser._stringify(value))
    return json.loads(template)


# -- 4. SQS retention check -----------------------------------------------------------------------------------------
def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """The same test as moto's, reading the queue's retention period instead of computing all its attributes."""
    retention_period = self.get_queue(queue_name).message_retention_period
    return retention_period + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]


# -- installation ----------------------------------------------------------------------------------------------------
_REPLACEMENTS: list[tuple[Any, str, Any]] = [
    (DynamoDBBackend, "transact_write_items", transact_write_items),
    (Table, "query", query),
    (EventTemplateParser, "parse", staticmethod(parse_event_template)),
    (SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period),
]


def install() -> None:
    """Replace the moto methods named in the module docstring (idempotent)."""
    for owner, name, replacement in _REPLACEMENTS:
        setattr(owner, name, replacement)


def installed() -> bool:
    return all(owner.__dict__[name] is replacement for owner, name, replacement in _REPLACEMENTS)

