"""The local Lambda emulation (local/lambdas.py): containers of one function share this process, not their
requests."""

from __future__ import annotations

import inspect
import json

from local.apigw import http_api_event
from tests.integration.conftest import context_for, function_handler
from tests.support import weekday_ahead


def resolver_of(handler) -> object:
    """The Powertools resolver of the container whose handler this is (under the handler's decorators)."""
    return inspect.unwrap(handler).__globals__["app"]


def test_a_container_s_resolver_keeps_its_own_request_while_another_resolves(aws):
    """Powertools assigns the request to its shared base class; without the emulation's fix the first container's
    resolver would now see the second container's POST (moto/AWS are not involved: only what the resolver reads)."""
    first, second = function_handler(aws, "BookingApiFunction"), function_handler(aws, "BookingApiFunction")
    context = context_for("BookingApiFunction")
    day = weekday_ahead(20)
    slots = http_api_event("GET", f"/v2/slots?eventTypeId=987654&start={day}&end={day}")
    first(slots, context())
    booking = http_api_event("POST", "/v2/bookings", {"content-type": "application/json"},
                             json.dumps({"eventTypeId": 987654}))
    second(booking, context())

    assert resolver_of(first).current_event.raw_event is slots
    assert resolver_of(first).current_event.query_string_parameters["eventTypeId"] == "987654"
    assert resolver_of(second).current_event.raw_event is booking
