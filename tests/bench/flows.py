"""Bookings through the real booking_api handler (API Gateway HTTP API v2 events) against the serial moto server.

Every measured request is warm (the container, its clients and connection pools, deferred validators and the gather
pool have served an untimed booking of the same kind first) and books hosts and an event type created just for it,
so the slot is free and the loaded busy time is the same for every sample.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import date, timedelta
from typing import Any

from tests.bench.recorder import Recorder
from tests.bench.stack import Invocation, MeteredHandler
from tests.support import Api, Reply, weekday_ahead

LATENCY_SECONDS = 0.03  # injected per AWS call while counting round trips
CPU_SAMPLES = 20


@dataclass
class FlowResult:
    name: str
    timed: Invocation  # with the injected latency: calls and round trips
    cpu_samples: list[Invocation] = field(default_factory=list)  # without it

    @property
    def cpu_ms(self) -> float:
        return statistics.median(sample.cpu * 1000 for sample in self.cpu_samples)

    @property
    def cpu_in_calls_ms(self) -> float:
        return statistics.median(sample.cpu_in_calls * 1000 for sample in self.cpu_samples)

    @property
    def cpu_excluding_io_ms(self) -> float:
        return statistics.median(sample.cpu_excluding_io * 1000 for sample in self.cpu_samples)

    @property
    def cpu_excluding_botocore_ms(self) -> float:
        return statistics.median(sample.cpu_excluding_botocore * 1000 for sample in self.cpu_samples)

    @property
    def wall_ms(self) -> float:
        return statistics.median(sample.wall * 1000 for sample in self.cpu_samples)


class Flows:
    def __init__(self, api: Api, handler: MeteredHandler, recorder: Recorder) -> None:
        self.api, self.handler, self.recorder = api, handler, recorder
        self.day = weekday_ahead(days=21, weekday=2).isoformat()  # a Wednesday: working hours, no notice effects
        self._ids = itertools.count(1)

    # -- fixtures (admin API, untimed) ------------------------------------------------------------------------------
    def _host(self) -> int:
        return int(self.api.host(f"Bench Host {next(self._ids)}")["id"])

    def single_type(self, **fields: Any) -> int:
        host = self._host()
        return int(self.api.event_type(slug=f"bench-{next(self._ids)}", ownerId=host, **fields)["id"])

    def round_robin_type(self, hosts: int = 3) -> int:
        ids = [self._host() for _ in range(hosts)]
        return int(self.api.event_type(slug=f"bench-rr-{next(self._ids)}", schedulingType="roundRobin",
                                       hosts=[{"userId": host} for host in ids])["id"])

    def book(self, event_type_id: int, hour: int = 10, headers: dict[str, str] | None = None,
             body_extra: dict[str, Any] | None = None) -> Reply:
        body = {"start": f"{self.day}T{hour:02d}:00:00Z", "eventTypeId": event_type_id,
                "attendee": {"name": "Booker", "email": f"booker{next(self._ids)}@example.org",
                             "timeZone": "Europe/London"}, **(body_extra or {})}
        reply = self.api.call("POST", "/v2/bookings", body, headers=headers)
        if reply.status not in (200, 201):
            raise RuntimeError(f"booking failed: {reply.status} {reply.body}")
        return reply

    # -- measuring ------------------------------------------------------------------------------------------------
    def measure(self, request: Callable[[], Reply], latency: float) -> Invocation:
        """The handler call `request` makes (exactly one), with `latency` injected per AWS call."""
        self.recorder.latency = latency
        try:
            reply = request()
        finally:
            self.recorder.latency = 0.0
        if reply.status >= 300:
            raise RuntimeError(f"request failed: {reply.status} {reply.body}")
        assert self.handler.last is not None
        return self.handler.last

    def run(self) -> dict[str, FlowResult]:
        kinds: dict[str, Callable[[], int]] = {
            "single-host booking": self.single_type,
            "round-robin booking, 3 hosts": self.round_robin_type,
        }
        for make_type in kinds.values():  # warm-up, untimed
            self.book(make_type())

        results: dict[str, FlowResult] = {}
        for name, make_type in kinds.items():
            type_id = make_type()
            results[name] = FlowResult(name, self.measure(lambda: self.book(type_id), LATENCY_SECONDS))
        for _ in range(CPU_SAMPLES):  # interleaved, so drift affects both alike
            for name, make_type in kinds.items():
                type_id = make_type()
                results[name].cpu_samples.append(self.measure(lambda: self.book(type_id), 0.0))
        return results

    def other_paths(self) -> dict[str, Invocation]:
        """Further request paths, for their calls and round trips (no targets; each warmed by the runs above or by
        an untimed request of its own kind)."""
        out: dict[str, Invocation] = {}
        rr = self.round_robin_type()
        self.book(rr)
        end = (date.fromisoformat(self.day) + timedelta(days=6)).isoformat()
        out["GET /v2/slots, 7 days, round robin"] = self.measure(
            lambda: self.api.call("GET", f"/v2/slots?eventTypeId={rr}&start={self.day}&end={end}"
                                         "&timeZone=Europe/London"), LATENCY_SECONDS)

        known = self.single_type()
        self.book(known, 9)  # the container has booked this type: it reads the host ahead (pipeline/reads.py)
        out["single-host booking, type known"] = self.measure(lambda: self.book(known, 10), LATENCY_SECONDS)

        single = self.single_type()
        self.book(single, 9, headers={"idempotency-key": f"bench-{next(self._ids)}"})  # warm-up
        out["single-host booking, Idempotency-Key"] = self.measure(
            lambda: self.book(single, 10, headers={"idempotency-key": f"bench-{next(self._ids)}"}), LATENCY_SECONDS)
        uid = self.book(single, 11).data["uid"]
        out["reschedule, single host"] = self.measure(
            lambda: self.api.call("POST", f"/v2/bookings/{uid}/reschedule", {"start": f"{self.day}T14:00:00Z"}),
            LATENCY_SECONDS)

        reserved = self.single_type()

        def reserve(hour: int) -> Reply:
            return self.api.call("POST", "/v2/slots/reservations",
                                 {"eventTypeId": reserved, "slotStart": f"{self.day}T{hour:02d}:00:00Z"})

        self.book(reserved, 9, body_extra={"reservationUid": reserve(9).data["reservationUid"]})  # warm-up
        held: list[Reply] = []
        out["slot reservation"] = self.measure(lambda: held.append(reserve(10)) or held[0], LATENCY_SECONDS)
        uid = held[0].data["reservationUid"]
        out["single-host booking with its reservation"] = self.measure(
            lambda: self.book(reserved, 10, body_extra={"reservationUid": uid}), LATENCY_SECONDS)

        seated = self.single_type(seats={"seatsPerTimeSlot": 50})
        self.book(seated, 9)  # warm-up
        out["seated booking, first attendee"] = self.measure(lambda: self.book(seated, 10), LATENCY_SECONDS)
        out["seated booking, joining attendee"] = self.measure(lambda: self.book(seated, 10), LATENCY_SECONDS)
        seat = self.book(seated, 11).data
        out["reschedule, one seat"] = self.measure(
            lambda: self.api.call("POST", f"/v2/bookings/{seat['uid']}/reschedule",
                                  {"start": f"{self.day}T15:00:00Z", "seatUid": seat["seatUid"]}), LATENCY_SECONDS)
        return out

    def calendar_round(self) -> tuple[Invocation, int, int]:
        """A round-robin booking over 3 hosts whose Google calendars answer freeBusy after 100 ms each: the
        calendars' calls and how many sequential rounds they took (concurrent = 1)."""
        import os

        from booking_core.calendars.providers import provider_for
        from booking_core.config import settings
        from tests.google_fake import FakeGoogle
        from tests.bench.recorder import sequential_round_trips

        google = FakeGoogle().start()
        os.environ["GOOGLE_CALENDAR_BASE_URL"], os.environ["GOOGLE_OAUTH_URL"] = google.base_url, google.token_url
        settings.cache_clear()  # settings are read once: the fake's endpoints from now on
        provider_for.cache_clear()
        try:
            hosts = [self._host() for _ in range(3)]
            for host in hosts:
                reply = self.api.call("POST", f"/v2/users/{host}/calendars", {"type": "google", "credentials": {
                    "accessToken": "good-token", "refreshToken": "refresh-1", "expiresAt": 4102444800,
                    "clientId": "client-1", "clientSecret": "x"}}, admin=True)
                if reply.status != 201:
                    raise RuntimeError(f"calendar connection failed: {reply.body}")
            type_id = int(self.api.event_type(slug=f"bench-cal-{next(self._ids)}", schedulingType="roundRobin",
                                              hosts=[{"userId": host} for host in hosts])["id"])
            self.book(type_id, 9)  # warm-up
            google.state.latency = 0.1
            google.state.requests.clear()
            invocation = self.measure(lambda: self.book(type_id, 10), LATENCY_SECONDS)
            free_busy = [SimpleNamespace(start=r["start"], end=r["end"]) for r in google.state.requests
                         if r["path"].endswith("/freeBusy")]
            return invocation, len(free_busy), sequential_round_trips(free_busy)  # type: ignore[arg-type]
        finally:
            google.stop()
            settings.cache_clear()
            provider_for.cache_clear()
