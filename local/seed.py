"""Demo data for the local stack, created through the API like a user would, and the curl commands to try."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from typing import Any

from local.apigw import http_api_event, response_parts
from local.lambdas import FunctionPool

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _call(pool: FunctionPool, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"authorization": f"Bearer {os.environ['ADMIN_API_KEY']}", "content-type": "application/json"}
    event = http_api_event(method, path, headers, json.dumps(body) if body is not None else None)
    status, _, data = response_parts(pool.invoke(event))
    payload = json.loads(data)
    if status >= 300:
        raise RuntimeError(f"seeding {method} {path} failed: {status} {payload}")
    return payload["data"]


def seed(pool: FunctionPool) -> dict[str, Any]:
    alice = _call(pool, "POST", "/v2/users", {"name": "Alice Host", "email": "alice@example.com", "timeZone": "Europe/London"})
    bob = _call(pool, "POST", "/v2/users", {"name": "Bob Host", "email": "bob@example.com", "timeZone": "Europe/London"})
    for user in (alice, bob):
        _call(pool, "POST", "/v2/schedules", {
            "userId": user["id"], "name": "Working hours", "timeZone": "Europe/London",
            "availability": [{"days": WEEKDAYS, "startTime": "09:00", "endTime": "17:00"}],
        })
    intro = _call(pool, "POST", "/v2/event-types", {
        "title": "Intro call", "slug": "intro-call", "lengthInMinutes": 30, "ownerId": alice["id"],
        "locations": [{"type": "integration", "integration": "jitsi"}],
    })
    demo = _call(pool, "POST", "/v2/event-types", {
        "title": "Product demo", "slug": "product-demo", "lengthInMinutes": 45, "slotInterval": 60,
        "schedulingType": "roundRobin", "hosts": [{"userId": alice["id"]}, {"userId": bob["id"]}],
    })
    return {"hosts": [alice, bob], "singleHost": intro, "roundRobin": demo}


def _next_weekday(today: date) -> date:
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def instructions(api_url: str, local_url: str, data: dict[str, Any], today: date) -> str:
    """What `make run` prints: the demo data and commands to try. `api_url` is where the API answers (`local_url`
    itself, or `local_url/<stage>` on a named stage); the local-only endpoints and GET /health stay at the root."""
    day = _next_weekday(today).isoformat()
    after = (_next_weekday(today) + timedelta(days=1)).isoformat()
    intro, demo = data["singleHost"], data["roundRobin"]
    alice, bob = data["hosts"]
    key = os.environ["ADMIN_API_KEY"]
    booking = json.dumps({
        "start": f"{day}T10:00:00Z", "eventTypeId": intro["id"],
        "attendee": {"name": "Jane Booker", "email": "jane@example.com", "timeZone": "Europe/London"},
    })
    stage = f"   (API on stage {api_url.removeprefix(local_url)})" if api_url != local_url else ""
    return f"""
Booking service local stack is up at {local_url}{stage}   (Ctrl-C stops it)

Demo data:
  hosts:       {alice['name']} (id {alice['id']}), {bob['name']} (id {bob['id']}), Mon-Fri 09:00-17:00 Europe/London
  single-host: "{intro['title']}" eventTypeId={intro['id']} (30 min, Jitsi link)
  round robin: "{demo['title']}" eventTypeId={demo['id']} (45 min over both hosts)

Try:
  curl -s '{api_url}/v2/slots?eventTypeId={intro['id']}&start={day}&end={day}&timeZone=Europe/London'
  curl -s -X POST {api_url}/v2/bookings -H 'Content-Type: application/json' \\
       -d '{booking}'
  curl -s {api_url}/v2/bookings/<uid>
  curl -s {local_url}/_local/events
  curl -s {api_url}/v2/users/{alice['id']} -H 'Authorization: Bearer {key}'
  open {api_url}/v2/docs

After the meeting (moves the whole stack's clock forward; due reminders and meeting moments fire by themselves):
  curl -s -X POST {local_url}/_local/clock -d '{{"now": "{after}T09:00:00Z"}}'
  curl -s -X DELETE {local_url}/_local/clock      # back to real time
"""
