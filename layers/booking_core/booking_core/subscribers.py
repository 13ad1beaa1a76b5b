"""The feature subscriber runtime: SQS batch -> typed event -> functions/<feature>/events/<eventName>/handler.py.

A feature's app.py names the feature and the dependencies its handlers take. Every record is parsed (a booking
event, or a scheduled moment from EventBridge Scheduler, or a feature's own job message), dispatched by
detail-type, made idempotent on the event's eventId (Powertools idempotency, one key space per feature and event),
and a failure is reported as a partial batch failure so only that message is retried and, after its retries,
lands in the feature's DLQ.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from booking_core.config import settings
from booking_core.events.contracts import (
    DETAIL_TYPES,
    OUT_OF_OFFICE_CREATED,
    SCHEDULED_TYPES,
    BookingEvent,
    ScheduledEvent,
)
from booking_core.events.out_of_office import OutOfOfficeEvent
from booking_core.observability import logger, metrics, tracer

EventHandler = Callable[..., Any]
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600


def discover_handlers(function_dir: Path, folder: str = "events") -> dict[str, EventHandler]:
    """{name: handle} for every functions/<feature>/<folder>/<name>/handler.py."""
    handlers: dict[str, EventHandler] = {}
    for path in sorted((function_dir / folder).glob("*/handler.py")):
        name = path.parent.name
        module_name = f"{function_dir.name}_{folder}_{name}_handler"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handlers[name] = module.handle
    return handlers


def parse(body: str) -> BookingEvent | ScheduledEvent | OutOfOfficeEvent | dict[str, Any]:
    """A queue message: an EventBridge event (booking change, scheduled moment, out-of-office entry) or a feature job
    (`{"job": ...}`)."""
    document = json.loads(body)
    detail_type = document.get("detail-type")
    if detail_type in DETAIL_TYPES:
        return BookingEvent.model_validate(document)
    if detail_type in SCHEDULED_TYPES:
        return ScheduledEvent.model_validate(document)
    if detail_type == OUT_OF_OFFICE_CREATED:
        return OutOfOfficeEvent.model_validate(document)
    if "job" in document:
        return document
    raise ValueError(f"unknown message ({detail_type or 'no detail-type'})")


class Subscriber:
    def __init__(
        self,
        feature: str,
        function_dir: Path,
        dependencies: Callable[[], dict[str, Any]],
        jobs: dict[str, EventHandler] | None = None,
    ) -> None:
        self.feature = feature
        self.handlers = discover_handlers(function_dir)
        self.jobs = jobs or {}
        self._dependencies_factory = dependencies
        self._dependencies: dict[str, Any] | None = None
        self._idempotent: dict[str, Callable[..., Any]] = {}
        self._configs: list[Any] = []
        self._context: Any = None
        self.lambda_handler = logger.inject_lambda_context(clear_state=True)(
            tracer.capture_lambda_handler(capture_response=False)(metrics.log_metrics(self._handle))
        )

    def _handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        global _current_context
        self._context = _current_context = context
        for config in [*self._configs, *_once_configs]:
            config.register_lambda_context(context)
        processor = BatchProcessor(event_type=EventType.SQS)
        return process_partial_response(event=event, record_handler=self._record, processor=processor, context=context)

    def _record(self, record: SQSRecord) -> None:
        message = parse(record.body)
        if isinstance(message, dict):
            job = self.jobs.get(message["job"])
            if job is None:
                raise ValueError(f"{self.feature} has no job {message['job']!r}")
            job(message, **self.deps_for(job))
            return
        handler = self.handlers.get(message.detail_type)
        if handler is None:
            logger.warning("no handler for event", extra={"feature": self.feature, "detail_type": message.detail_type})
            return
        logger.append_keys(event_id=message.event_id, detail_type=message.detail_type)
        self._once(message.detail_type, handler)(data={"eventId": message.event_id}, event=message)

    def deps(self) -> dict[str, Any]:
        if self._dependencies is None:
            self._dependencies = self._dependencies_factory()
        return self._dependencies

    def deps_for(self, handler: EventHandler) -> dict[str, Any]:
        """Only what the handler asks for by name: a handler takes the event and the clients it needs."""
        wanted = list(inspect.signature(handler).parameters)[1:]
        available = self.deps()
        missing = [name for name in wanted if name not in available]
        if missing:
            raise TypeError(f"{self.feature} handler {handler.__module__} wants unknown {missing}")
        return {name: available[name] for name in wanted}

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
            def run_once(data: dict[str, str], event: Any) -> None:
                handler(event, **self.deps_for(handler))

            self._idempotent[detail_type] = run_once
        return self._idempotent[detail_type]


_once_runners: dict[str, Callable[..., Any]] = {}
_once_configs: list[Any] = []
_current_context: Any = None


def run_once(key_space: str, key: str, action: Callable[[], Any]) -> None:
    """`action()` at most once per key in `key_space`, across retries, redeliveries and the paths that race for it
    (Powertools idempotency in the idempotency table; a concurrent second call fails and its message is retried)."""
    runner = _once_runners.get(key_space)
    if runner is None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table_name)
        config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=IDEMPOTENCY_TTL_SECONDS)
        _once_configs.append(config)  # every invocation registers its Lambda context on it
        if _current_context is not None:
            config.register_lambda_context(_current_context)

        @idempotent_function(data_keyword_argument="data", persistence_store=persistence, config=config,
                             key_prefix=key_space)
        def runner(data: dict[str, str], action: Callable[[], Any]) -> None:
            action()

        _once_runners[key_space] = runner
    runner(data={"key": key}, action=action)
