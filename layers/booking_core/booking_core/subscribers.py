"""The feature subscriber runtime: SQS batch -> typed BookingEvent -> functions/<feature>/events/<eventName>/handler.py.

A feature's app.py is three lines: it names the feature and the dependencies its handlers take. Every record is
parsed, dispatched by detail-type, made idempotent on the event's eventId (Powertools idempotency, one key space per
feature and event), and a failure is reported as a partial batch failure so only that message is retried and, after
its retries, lands in the feature's DLQ.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from booking_core.config import settings
from booking_core.events.contracts import BookingEvent
from booking_core.observability import logger, metrics, tracer

EventHandler = Callable[..., Any]
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600


def discover_handlers(function_dir: Path) -> dict[str, EventHandler]:
    """{eventName: handle} for every functions/<feature>/events/<eventName>/handler.py."""
    handlers: dict[str, EventHandler] = {}
    for path in sorted((function_dir / "events").glob("*/handler.py")):
        event_name = path.parent.name
        module_name = f"{function_dir.name}_events_{event_name}_handler"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handlers[event_name] = module.handle
    return handlers


class Subscriber:
    def __init__(self, feature: str, function_dir: Path, dependencies: Callable[[], dict[str, Any]]) -> None:
        self.feature = feature
        self.handlers = discover_handlers(function_dir)
        self._dependencies_factory = dependencies
        self._dependencies: dict[str, Any] | None = None
        self._idempotent: dict[str, Callable[..., Any]] = {}
        self._configs: list[Any] = []
        self._context: Any = None
        self.lambda_handler = logger.inject_lambda_context(clear_state=True)(
            tracer.capture_lambda_handler(capture_response=False)(metrics.log_metrics(self._handle))
        )

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._context = context
        for config in self._configs:
            config.register_lambda_context(context)
        processor = BatchProcessor(event_type=EventType.SQS)
        return process_partial_response(event=event, record_handler=self._record, processor=processor, context=context)

    def _record(self, record: SQSRecord) -> None:
        event = BookingEvent.model_validate_json(record.body)
        handler = self.handlers.get(event.detail_type)
        if handler is None:
            logger.warning("no handler for event", extra={"feature": self.feature, "detail_type": event.detail_type})
            return
        logger.append_keys(event_id=event.event_id, detail_type=event.detail_type)
        self._once(event.detail_type, handler)(data={"eventId": event.event_id}, event=event)

    def deps(self) -> dict[str, Any]:
        if self._dependencies is None:
            self._dependencies = self._dependencies_factory()
        return self._dependencies

    def _once(self, detail_type: str, handler: EventHandler) -> Callable[..., Any]:
        """The handler wrapped in Powertools idempotency keyed on eventId (prefix: feature and event name)."""
        if detail_type not in self._idempotent:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table_name)
            config = IdempotencyConfig(event_key_jmespath="eventId", expires_after_seconds=IDEMPOTENCY_TTL_SECONDS)
            if self._context is not None:
                config.register_lambda_context(self._context)
            self._configs.append(config)

            @idempotent_function(
                data_keyword_argument="data",
                persistence_store=persistence,
                config=config,
                key_prefix=f"{self.feature}.{detail_type}",
            )
            def run_once(data: dict[str, str], event: BookingEvent) -> None:
                handler(event, **self.deps())

            self._idempotent[detail_type] = run_once
        return self._idempotent[detail_type]
