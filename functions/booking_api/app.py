"""booking_api: the HTTP API (routes only; the pipeline and services live in the booking_core layer)."""

from __future__ import annotations

import gc

gc.disable()  # initialisation allocates many long-lived objects: collecting while importing is wasted work

from typing import Any  # noqa: E402

from aws_lambda_powertools.logging import correlation_paths  # noqa: E402
from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: E402

from booking_core.observability import logger, metrics, tracer  # noqa: E402
from routes import bookings, management, payments, system  # noqa: E402
from routes.http import Resolver, Routes  # noqa: E402

app = Resolver(enable_validation=True)
routes = Routes(app)
system.register(routes)
management.register(routes)
management.register_access(routes)
management.register_webhooks(routes)
management.register_calendars(routes)
management.register_out_of_office(routes)
management.register_workflows(routes)
bookings.register(routes)
bookings.register_listing(routes)
payments.register(routes)
gc.freeze()  # what initialisation built lives as long as the container: keep it out of every later collection
gc.enable()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
