"""Structured logs with the request's correlation id, metrics per booking and phase, and no PII in info logs."""

from __future__ import annotations

import json
import sys

from local.apigw import http_api_event
from tests.support import weekday_ahead


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def test_booking_logs_and_metrics(api, capsys, monkeypatch):
    from booking_core.observability import logger

    # the JSON handler writes to the stream it was created with; point it at this test's captured stdout
    monkeypatch.setattr(logger.registered_handler, "stream", sys.stdout)
    host = api.host("Observed Host")
    event_type = api.event_type(ownerId=host["id"], slug="observed")
    capsys.readouterr()
    email, phone = "private.person@example.org", "+442071838750"
    body = {"start": f"{weekday_ahead(42).isoformat()}T10:00:00Z", "eventTypeId": event_type["id"],
            "attendee": {"name": "P", "email": email, "timeZone": "UTC", "phoneNumber": "+44 20 7183 8750"}}
    event = http_api_event("POST", "/v2/bookings", {"content-type": "application/json"}, json.dumps(body))
    result = api.handler(event, api.context_factory())
    assert result["statusCode"] == 201
    refused = http_api_event("POST", "/v2/bookings", {"content-type": "application/json"},
                             json.dumps({**body, "attendee": {**body["attendee"], "email": "other@example.org"}}))
    assert api.handler(refused, api.context_factory())["statusCode"] == 409

    out = capsys.readouterr().out
    records = json_lines(out)
    logs = [r for r in records if "level" in r]
    metrics = [r for r in records if "_aws" in r]

    created = next(r for r in logs if r["message"] == "booking created")
    assert created["correlation_id"] == event["requestContext"]["requestId"]
    assert created["attendee"] == "p***@example.org"
    assert created["service"] == "booking-service" and created["level"] == "INFO"
    uid = json.loads(result["body"])["data"]["uid"]
    for record in logs:
        if record["level"] in {"INFO", "WARNING", "ERROR"}:
            text = json.dumps(record)
            assert email not in text and phone not in text
            assert uid not in text  # a booking uid is enough to cancel: logs keep a prefix only
    assert created["booking_uid"] == f"{uid[:6]}…"

    names = [m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for m in metrics]
    assert "BookingsCreated" in names and "BookingFailed" in names
    phases = {m["phase"] for m in metrics if "phase" in m}
    assert {"validation", "enrichment", "availability_loading", "post_enrichment_validation", "creation"} <= phases
    failed = next(m for m in metrics if m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == "BookingFailed")
    assert failed["code"] == "no_available_users_found_error"
