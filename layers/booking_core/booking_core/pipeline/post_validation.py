"""Post-enrichment validation: bookable hosts, booking window, the requested slot's availability, host choice."""

from __future__ import annotations

from booking_core.domain.availability import SlotRules, compute_slots
from booking_core.domain.round_robin import build_candidates, rank
from booking_core.errors import DomainError
from booking_core.pipeline.availability import (
    available_slots,
    bookable_hosts,
    first_working_hours,
    host_availability,
    slot_rules,
)
from booking_core.pipeline.context import AvailabilityLoaded, ValidatedBooking


def validate_availability(loaded: AvailabilityLoaded) -> ValidatedBooking:
    enriched = loaded.enriched
    request = enriched.request
    event_type = enriched.event_type
    start = request.start_min
    bookable = bookable_hosts(event_type, loaded.hosts)
    rules = slot_rules(
        event_type,
        enriched.length,
        request.now_min,
        bookable.tz_name,
        first_working_hours(event_type, loaded.hosts, bookable),
    )
    if not rules.in_bounds(start):
        raise DomainError("booking_time_out_of_bounds_error", "the requested start is outside the booking window")

    slots = available_slots(event_type, loaded.hosts, bookable, rules, start, start + 1)
    if start not in slots:
        raise _unavailable(loaded, bookable.fixed, bookable.pool, rules)

    ranking: list[int] = []
    if bookable.pool:
        free = slots[start]
        event_hosts = {host.user_id: host for host in event_type.hosts}
        candidates = build_candidates(
            free,
            weights={h: event_hosts[h].weight for h in free},
            priorities={h: event_hosts[h].priority for h in free},
            counts=loaded.round_robin_counts,
            last_active={h: loaded.hosts[h].config.user.last_active_at for h in free},
        )
        ranking = rank(candidates)

    host_emails = {loaded.hosts[h].config.user.email.lower() for h in bookable.fixed + bookable.pool}
    attendee_email = request.input.attendee.email.lower()
    guests: list[str] = []
    for guest in request.input.guests:
        lowered = guest.lower()
        if lowered in host_emails or lowered == attendee_email or lowered in {g.lower() for g in guests}:
            continue
        guests.append(guest)

    organizer = loaded.hosts[(bookable.fixed or ranking)[0]].config.user
    return ValidatedBooking(
        loaded=loaded,
        rules=rules,
        fixed_host_ids=bookable.fixed,
        round_robin_ranking=ranking,
        guests=guests,
        title=f"{event_type.title} between {organizer.name} and {request.input.attendee.name}",
        location=request.input.location,
    )


def _unavailable(loaded: AvailabilityLoaded, fixed: list[int], pool: list[int], rules: SlotRules) -> DomainError:
    event_type = loaded.enriched.event_type
    start = loaded.enriched.request.start_min
    if not loaded.enriched.is_team_event:
        return DomainError("no_available_users_found_error", "no host is available at the requested time")
    if fixed and pool:
        fixed_hosts = [host_availability(loaded.hosts[h], event_type, start, start + 1) for h in fixed]
        if start not in compute_slots(fixed_hosts, [], rules, start, start + 1):
            return DomainError("fixed_hosts_unavailable_for_booking", "a fixed host is not available at that time")
    if pool:
        return DomainError("round_robin_host_unavailable_for_booking", "no round-robin host is available at that time")
    return DomainError("fixed_hosts_unavailable_for_booking", "not every host is available at that time")
