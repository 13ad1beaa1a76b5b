"""The local stack holds up under use (python -m local over HTTP): simultaneous clients, methods the API lacks,
events that keep flowing after races and refusals, the clock moved past a meeting, and a named stage."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest

from tests.e2e.conftest import Http, StackProcess
from tests.support import WebhookReceiver, wednesday_in_week

pytestmark = pytest.mark.e2e
EVENT_DEADLINE = 30.0  # seconds for a committed change's event to show in /_local/events (generous for a loaded CI)


RECEIVER = WebhookReceiver()


@pytest.fixture(scope="module")
def receiver():
    with RECEIVER.running() as url:
        yield url


def raw_call(base: str, method: str, path: str, body: bytes | None = None) -> tuple[int, str, bytes]:
    """Any method, any path: (status, content type, body)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def own_host_and_type(stack: Http, name: str, **fields: Any) -> dict:
    """A host working every day round the clock (UTC) and a 30-minute event type of theirs."""
    host = stack.call("POST", "/v2/users", {"name": name, "email": f"{name.lower().replace(' ', '-')}@example.com",
                                            "timeZone": "UTC"}, admin=True).data
    schedule = stack.call("POST", "/v2/schedules", {
        "userId": host["id"], "name": "Always", "timeZone": "UTC",
        "availability": [{"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
                          "startTime": "00:00", "endTime": "23:59"}]}, admin=True)
    assert schedule.status == 201, schedule.body
    event_type = stack.call("POST", "/v2/event-types", {"title": name, "slug": name.lower().replace(" ", "-"),
                                                        "lengthInMinutes": 30, "ownerId": host["id"], **fields},
                            admin=True)
    assert event_type.status == 201, event_type.body
    return event_type.data


def booking_body(event_type_id: int, start: str, email: str) -> dict:
    return {"start": start, "eventTypeId": event_type_id,
            "attendee": {"name": "Load", "email": email, "timeZone": "UTC"}}


def events_of(stack: Http, detail_type: str) -> list[str]:
    """Booking uids of the bus events of one detail type, in publish order (one per event)."""
    return [event["detail"]["booking"]["uid"] for event in stack.call("GET", "/_local/events").data
            if event["detailType"] == detail_type]


def test_fifty_simultaneous_clients_all_get_an_answer_and_later_events_still_flow(stack: Http):
    event_type = own_host_and_type(stack, "Crowd Host")
    slot = f"{wednesday_in_week(5)}T10:00:00Z"
    day = wednesday_in_week(5)
    barrier = threading.Barrier(50)
    answers: list[tuple[int, bytes] | str] = []

    def client(index: int) -> None:
        barrier.wait()
        try:
            if index % 2:  # half race for one slot, half list slots
                body = json.dumps(booking_body(event_type["id"], slot, f"crowd{index}@example.org")).encode()
                status, _, reply = raw_call(stack.base, "POST", "/v2/bookings", body)
            else:
                status, _, reply = raw_call(stack.base, "GET", f"/v2/slots?eventTypeId={event_type['id']}"
                                                               f"&start={day}&end={day}&timeZone=UTC")
            answers.append((status, reply))
        except OSError as error:  # a reset or a refused connection
            answers.append(repr(error))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    statuses = Counter(answer[0] if isinstance(answer, tuple) else answer for answer in answers)
    assert statuses == {200: 25, 201: 1, 409: 24}, [a for a in answers if not isinstance(a, tuple) or a[0] not in (200, 201, 409)]

    # the race refused 24 (some of them cancelled transactions); what is booked afterwards still reaches the bus
    later = stack.call("POST", "/v2/bookings", booking_body(event_type["id"], f"{wednesday_in_week(5)}T11:00:00Z",
                                                            "crowd-later@example.org"))
    assert later.status == 201
    stack.eventually(lambda: later.data["uid"] in events_of(stack, "bookingCreated"), timeout=EVENT_DEADLINE)


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "HEAD", "PUT", "PATCH", "DELETE", "PROPFIND", "FOO"])
def test_a_method_the_api_lacks_gets_a_json_404_or_405(stack: Http, method: str):
    paths = ["/v2/slots", "/no/such/path", "/_local/events"]  # routes without these methods, and no route at all
    if method not in ("PUT", "PATCH", "DELETE"):
        paths += ["/v2/bookings", "/v2/event-types/1"]
    for path in paths:
        status, content_type, body = raw_call(stack.base, method, path)
        assert status in (404, 405), (method, path, status)
        assert content_type.startswith("application/json")
        if method != "HEAD":
            assert json.loads(body)


def test_requests_the_front_door_cannot_read_get_json_not_html(stack: Http):
    for request in (b"NOT HTTP\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n",
                    b"POST /v2/bookings HTTP/1.1\r\nContent-Length: nope\r\n\r\n"):
        import socket

        parts = urlsplit(stack.base)
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
            sock.sendall(request)
            answer = sock.makefile("rb").read()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
        assert json.loads(body) == {"message": "Bad Request"}


def test_mixed_traffic_every_committed_change_makes_one_event_and_every_subscriber_acts_once(stack: Http, receiver):
    """About a minute of races, refusals and cancels (twice, the second a no-op), then: one bus event per committed
    change, each within seconds; one webhook delivery per event and trigger; one email of each kind per booking."""
    event_type = own_host_and_type(stack, "Mixed Host")
    hook = stack.call("POST", "/v2/webhooks", {"subscriberUrl": f"{receiver}/mixed", "eventTypeId": event_type["id"],
                                               "triggers": ["BOOKING_CREATED", "BOOKING_CANCELLED"]}, admin=True)
    assert hook.status == 201, hook.body
    first_day = wednesday_in_week(6) - timedelta(days=2)
    slots = iter(f"{first_day + timedelta(days=n // 40)}T{(n % 40) // 2 + 2:02d}:{30 * (n % 2):02d}:00Z"
                 for n in range(400))
    committed: dict[tuple[str, str], float] = {}  # (detail type, uid) -> when the API answered
    emails: dict[str, str] = {}  # uid -> its attendee's address
    seen: dict[tuple[str, str], float] = {}
    refusals: Counter[str] = Counter()
    stop = threading.Event()

    def watch() -> None:  # when each event first shows in /_local/events
        while not stop.is_set():
            now = time.monotonic()
            for detail_type in ("bookingCreated", "bookingCancelled"):
                for uid in events_of(stack, detail_type):
                    seen.setdefault((detail_type, uid), now)
            stop.wait(0.5)

    def race(start: str, round_number: int) -> list[Any]:
        barrier, replies = threading.Barrier(3), []

        def racer(index: int) -> None:
            barrier.wait()
            replies.append(stack.call("POST", "/v2/bookings", booking_body(
                event_type["id"], start, f"mixed-{round_number}-{index}@example.org")))

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return replies

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    began, round_number = time.monotonic(), 0
    try:
        while time.monotonic() - began < 60:
            round_number += 1
            replies = race(next(slots), round_number)
            winners = [r for r in replies if r.status == 201]
            assert len(winners) == 1 and all(r.status == 409 for r in replies if r.status != 201), \
                [(r.status, r.body) for r in replies]
            refusals.update(r.code for r in replies if r.status != 201)
            uid = winners[0].data["uid"]
            committed[("bookingCreated", uid)] = time.monotonic()
            emails[uid] = winners[0].data["attendees"][0]["email"]
            if round_number % 3 == 0:
                cancel = stack.call("POST", f"/v2/bookings/{uid}/cancel", {"cancellationReason": "load"})
                assert cancel.status == 200 and cancel.data["status"] == "cancelled"
                committed[("bookingCancelled", uid)] = time.monotonic()
                again = stack.call("POST", f"/v2/bookings/{uid}/cancel", {})  # already cancelled: no change
                assert again.status == 200
            invalid = stack.call("POST", "/v2/bookings", {"eventTypeId": event_type["id"]})
            past = stack.call("POST", "/v2/bookings", booking_body(event_type["id"], "2020-01-01T10:00:00Z",
                                                                   "late@example.org"))
            refusals.update([invalid.code, past.code])
        stack.eventually(lambda: set(committed) <= set(seen), timeout=EVENT_DEADLINE + 60)
    finally:
        stop.set()
        watcher.join(timeout=10)

    lags = [seen[change] - at for change, at in committed.items()]
    print(f"\n{round_number} rounds: {len(committed)} committed changes, refusals {dict(refusals)}; "
          f"event lag max {max(lags):.1f} s, median {sorted(lags)[len(lags) // 2]:.1f} s")
    assert refusals["request_body_invalid_error"] == refusals["booking_in_past"] == round_number
    assert max(lags) < EVENT_DEADLINE

    created = [uid for kind, uid in committed if kind == "bookingCreated"]
    cancelled = [uid for kind, uid in committed if kind == "bookingCancelled"]
    ours = set(created)
    assert sorted(u for u in events_of(stack, "bookingCreated") if u in ours) == sorted(created)  # each exactly once
    assert sorted(u for u in events_of(stack, "bookingCancelled") if u in ours) == sorted(cancelled)

    expected_deliveries = Counter({("BOOKING_CREATED", uid): 1 for uid in created}) + \
        Counter({("BOOKING_CANCELLED", uid): 1 for uid in cancelled})

    def deliveries() -> Counter:
        return Counter((d["triggerEvent"], d["payload"]["uid"]) for d in RECEIVER.bodies()
                       if d["payload"]["uid"] in ours)

    attendees = set(emails.values())

    def attendee_emails() -> Counter:
        return Counter((e["subject"].split(":")[0], address) for e in stack.call("GET", "/_local/emails").data
                       for address in e["to"] if address in attendees)

    expected_emails = Counter({("Confirmed", emails[uid]): 1 for uid in created}) + \
        Counter({("Cancelled", emails[uid]): 1 for uid in cancelled})

    stack.eventually(lambda: deliveries() == expected_deliveries, timeout=180)
    stack.eventually(lambda: attendee_emails() == expected_emails, timeout=180)
    time.sleep(3)  # nothing arrives twice later either
    assert deliveries() == expected_deliveries and attendee_emails() == expected_emails


def test_moving_the_clock_past_a_meeting_fires_its_moments_by_themselves(stack: Http, receiver):
    event_type = own_host_and_type(stack, "Clock Host", reminders=[{"minutesBefore": 60}])
    hook = stack.call("POST", "/v2/webhooks", {"subscriberUrl": f"{receiver}/clock", "eventTypeId": event_type["id"],
                                               "triggers": ["BOOKING_CREATED", "MEETING_STARTED", "MEETING_ENDED"]},
                      admin=True)
    assert hook.status == 201, hook.body
    soon = datetime.now(timezone.utc) + timedelta(hours=2)
    days = f"start={soon.date()}&end={soon.date() + timedelta(days=1)}"
    listed = stack.call("GET", f"/v2/slots?eventTypeId={event_type['id']}&{days}&timeZone=UTC").data
    start = next(slot["start"] for day in listed.values() for slot in day
                 if datetime.fromisoformat(slot["start"]) >= soon)
    booking = stack.call("POST", "/v2/bookings", booking_body(event_type["id"], start, "clock@example.org"))
    assert booking.status == 201, booking.body
    uid = booking.data["uid"]
    stack.eventually(lambda: uid in events_of(stack, "bookingCreated"), timeout=EVENT_DEADLINE)
    # the subscribers schedule the reminder and the meeting's moments as they handle bookingCreated, right after
    # the confirmation email and the BOOKING_CREATED delivery: let them finish before the clock moves
    stack.eventually(lambda: [e for e in stack.call("GET", "/_local/emails").data
                              if e["to"] == ["clock@example.org"] and e["subject"].startswith("Confirmed")])
    stack.eventually(lambda: [d for d in RECEIVER.bodies() if d["payload"].get("uid") == uid])
    time.sleep(2)

    after = datetime.fromisoformat(start) + timedelta(minutes=45)
    try:
        moved = stack.call("POST", "/_local/clock", {"now": after.isoformat()})
        assert moved.status == 200 and moved.data["realTime"] is False
        assert moved.data["now"].startswith(after.strftime("%Y-%m-%dT%H:%M"))
        # nobody calls /_local/scheduler/run: the stack's scheduler sees the moments are due and fires them
        stack.eventually(lambda: sorted(d["triggerEvent"] for d in RECEIVER.bodies() if d["payload"].get("uid") == uid)
                         == ["BOOKING_CREATED", "MEETING_ENDED", "MEETING_STARTED"], timeout=EVENT_DEADLINE)
        stack.eventually(lambda: [e for e in stack.call("GET", "/_local/emails").data
                                  if e["to"] == ["clock@example.org"] and e["subject"].startswith("Reminder")],
                         timeout=EVENT_DEADLINE)
        left = stack.call("POST", "/_local/scheduler/run", {"until": after.isoformat()}).data["fired"]
        assert not [f for f in left if uid in f["name"]]  # all three had fired already
        # the API follows the clock too: the meeting's start is in the past now
        late = stack.call("POST", "/v2/bookings", booking_body(event_type["id"], start, "late@example.org"))
        assert late.status == 400 and late.code == "booking_in_past"
        back = stack.call("POST", "/_local/clock", {"now": datetime.now(timezone.utc).isoformat()})
        assert back.status == 400 and back.code == "request_body_invalid_error"
        assert back.body["error"]["details"]["errors"][0]["field"] == "now"
    finally:
        real = stack.call("DELETE", "/_local/clock")
    assert real.status == 200 and real.data["realTime"] is True
    shown = datetime.fromisoformat(real.data["now"].replace("Z", "+00:00"))
    assert abs(shown - datetime.now(timezone.utc)) < timedelta(seconds=30)
    assert stack.call("GET", "/_local/clock").data["realTime"] is True


def test_a_named_stage_serves_the_api_under_it():
    process = StackProcess(environment={"API_STAGE": "prod"}).wait_healthy()  # /health answers at the root
    try:
        staged = Http(process.base + "/prod")
        assert staged.call("GET", "/health").status == 200
        day = wednesday_in_week(0)
        slots = staged.call("GET", f"/v2/slots?eventTypeId=1&start={day}&end={day}&timeZone=Europe/London")
        assert slots.status == 200 and slots.data[day.isoformat()]
        booking = staged.call("POST", "/v2/bookings", {
            "start": slots.data[day.isoformat()][0]["start"], "eventTypeId": 1,
            "attendee": {"name": "Staged", "email": "staged@example.org", "timeZone": "Europe/London"}})
        assert booking.status == 201, booking.body
        root = Http(process.base)  # local-only endpoints stay at the root
        root.eventually(lambda: booking.data["uid"] in events_of(root, "bookingCreated"), timeout=EVENT_DEADLINE)
        assert raw_call(process.base, "GET", "/v2/slots")[0::2] == (404, b'{"message":"Not Found"}')
        assert raw_call(process.base, "POST", "/prod/v2/me/bookings", b"{}")[0::2] == \
            (401, b'{"message":"Unauthorized"}')
        assert f"{process.base}/prod/v2/bookings" in process.output  # the start-up instructions name the stage

        # admin and booker scenarios on the named stage, over HTTP: the rule is the matched route's, not the path's
        for method, path in (("POST", "/v2/users"), ("GET", "/v2/users/1"), ("GET", "/v2/webhooks"),
                             ("GET", "/v2/blocklist"), ("POST", "/v2/bookings/x/confirm")):
            refused = staged.call(method, path, {} if method == "POST" else None)
            assert refused.status == 401 and refused.code == "unauthorized_error", (method, path, refused.body)
        user = staged.call("POST", "/v2/users", {"name": "Staged Admin", "email": "staged.admin@example.com",
                                                 "timeZone": "UTC"}, admin=True)
        assert user.status == 201 and staged.call("GET", f"/v2/users/{user.data['id']}", admin=True).status == 200
        token = jwt.encode({"email": "signed@example.org", "exp": int(time.time()) + 300},
                           "local-booker-secret-change-me-0123456789", algorithm="HS256")
        signed = staged.call("POST", "/v2/me/bookings", {
            "start": slots.data[day.isoformat()][1]["start"], "eventTypeId": 1,
            "attendee": {"name": "Signed", "email": "signed@example.org", "timeZone": "UTC"}},
            headers={"Authorization": f"Bearer {token}"})
        assert signed.status == 201, signed.body
        mine = staged.call("GET", "/v2/me/bookings", headers={"Authorization": f"Bearer {token}"})
        assert mine.status == 200 and [b["uid"] for b in mine.data] == [signed.data["uid"]]
        cancelled = staged.call("POST", f"/v2/bookings/{booking.data['uid']}/cancel", {"cancellationReason": "test"})
        assert cancelled.status == 200 and cancelled.data["status"] == "cancelled"
    finally:
        assert process.interrupt() == 0
