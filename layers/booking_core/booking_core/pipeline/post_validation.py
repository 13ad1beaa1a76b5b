"""Post-enrichment validation: bookable hosts, booking window, every occurrence's availability, limits, the
booker's active bookings, and the round-robin ranking."""

from __future__ import annotations

from collections import defaultdict

from booking_core.domain import limits
from booking_core.domain.availability import SlotRules, compute_slots
from booking_core.domain.out_of_office import away_during
from booking_core.domain.recurrence import occurrences
from booking_core.domain.round_robin import build_candidates, rank
from booking_core.errors import DomainError
from booking_core.pipeline.availability import (
    BookableHosts,
    available_slots,
    bookable_hosts,
    first_working_hours,
    host_availability,
    limit_usage,
    slot_rules,
)
from booking_core.pipeline.context import AvailabilityLoaded, ValidatedBooking
from booking_core.repositories import keys
from booking_core.timeutil import from_minutes, iso_z_minutes, to_minutes, zone


def validate_availability(loaded: AvailabilityLoaded) -> ValidatedBooking:
    enriched = loaded.enriched
    request = enriched.request
    event_type = enriched.event_type
    bookable = bookable_hosts(event_type, loaded.hosts)
    tz = zone(bookable.tz_name)
    rules = slot_rules(event_type, enriched.length, request.now_min, bookable.tz_name,
                       first_working_hours(event_type, loaded.hosts, bookable))
    starts = [request.start_min]
    if enriched.is_recurring and event_type.recurrence:
        recurrence = event_type.recurrence
        starts = [to_minutes(moment) for moment in occurrences(
            from_minutes(request.start_min), recurrence.frequency, recurrence.interval, enriched.occurrence_count, tz)]
    for start in starts:
        if not rules.in_bounds(start):
            raise DomainError("booking_time_out_of_bounds_error",
                              f"{iso_z_minutes(start)} is outside the booking window")

    pool = _narrowed_pool(loaded, bookable)
    ranking: list[int] = []
    if not enriched.joins_seat:
        ranking = _check_slots(loaded, bookable, rules, starts, pool)

    limit_keys = [keys.limit_keys_at(event_type, start, tz) for start in starts]
    if not enriched.joins_seat:
        _check_limits(loaded, limit_keys)
    if not enriched.is_holding:
        _check_booker_limit(loaded)

    organizer = loaded.hosts[(bookable.fixed or ranking or bookable.pool)[0]].config.user
    return ValidatedBooking(
        loaded=loaded,
        rules=rules,
        tz_name=bookable.tz_name,
        starts=starts,
        fixed_host_ids=bookable.fixed,
        round_robin_ranking=ranking,
        title=f"{event_type.title} between {organizer.name} and {request.input.attendee.name}",
        location=request.input.location,
        limit_keys=limit_keys,
    )


def _narrowed_pool(loaded: AvailabilityLoaded, bookable: BookableHosts) -> list[int]:
    """routing.teamMemberIds narrows the round-robin candidates to those hosts."""
    routing = loaded.enriched.request.input.routing
    if routing is None or not routing.team_member_ids:
        return bookable.pool
    allowed = set(routing.team_member_ids)
    return [host for host in bookable.pool if host in allowed]


def _check_slots(
    loaded: AvailabilityLoaded, bookable: BookableHosts, rules: SlotRules, starts: list[int], pool: list[int]
) -> list[int]:
    """Every occurrence must be a listed slot; returns the round-robin hosts free at all of them, best first."""
    enriched = loaded.enriched
    event_type = enriched.event_type
    rescheduling = enriched.request.rescheduling
    ignore = [rescheduling.original.uid] if rescheduling and rescheduling.frees_original else []
    ignore += enriched.own_holds
    if bookable.pool and not pool:
        raise DomainError("round_robin_host_unavailable_for_booking", "none of the requested hosts can be booked")
    free_pool: set[int] | None = None
    for start in starts:
        slots = available_slots(event_type, loaded.hosts, bookable, rules, start, start + 1, ignore, pool)
        if start not in slots:
            raise _unavailable(loaded, bookable.fixed, pool, rules, start, ignore)
        if pool:
            free_pool = set(slots[start]) if free_pool is None else free_pool & set(slots[start])
    if not pool:
        return []
    if not free_pool:
        raise DomainError("round_robin_host_unavailable_for_booking", "no round-robin host is free at every occurrence")
    event_hosts = {host.user_id: host for host in event_type.hosts}
    free = [host for host in pool if host in free_pool]
    ranking = rank(build_candidates(
        free,
        weights={h: event_hosts[h].weight for h in free},
        priorities={h: event_hosts[h].priority for h in free},
        counts=loaded.round_robin_counts,
        last_active={h: loaded.hosts[h].config.user.last_active_at for h in free},
    ))
    if rescheduling:  # keep the same host when they are still free
        previous = [h.id for h in rescheduling.original.hosts if h.id in ranking]
        ranking = previous + [h for h in ranking if h not in previous]
    if enriched.reservation:  # the host the booker's reservation holds comes first
        held = [h for h in enriched.reservation.host_ids if h in ranking]
        ranking = held + [h for h in ranking if h not in held]
    return ranking


def _unavailable(
    loaded: AvailabilityLoaded, fixed: list[int], pool: list[int], rules: SlotRules, start: int, ignore: list[str]
) -> DomainError:
    """Why `start` is not bookable, most specific first: the single host is out of office; someone else's slot
    reservation holds it (it would be free without the reservations); the team's hosts; else the slot is busy."""
    event_type = loaded.enriched.event_type
    held_start, held_end = rules.held(start)
    if not loaded.enriched.is_team_event and fixed:
        away = away_during(loaded.hosts[fixed[0]].config.out_of_office, held_start, held_end)
        if away is not None:
            details = {"redirectToUserId": away.redirect_to_user_id} if away.redirect_to_user_id else None
            return DomainError("host_out_of_office", "the host is out of office at the requested time", details)
    holds = [b.uid for h in fixed + pool for b in loaded.hosts[h].bookings if b.is_reservation and b.uid not in ignore]
    if holds:
        bookable = BookableHosts(fixed=fixed, pool=pool, tz_name="UTC")
        if start in available_slots(event_type, loaded.hosts, bookable, rules, start, start + 1, [*ignore, *holds]):
            return DomainError("slot_reserved", "this slot is reserved by someone else for a few minutes")
    if not loaded.enriched.is_team_event:
        return DomainError("no_available_users_found_error", "no host is available at the requested time")
    if fixed and pool:
        fixed_hosts = [host_availability(loaded.hosts[h], event_type, start, start + 1, ignore) for h in fixed]
        if start not in compute_slots(fixed_hosts, [], rules, start, start + 1):
            return DomainError("fixed_hosts_unavailable_for_booking", "a fixed host is not available at that time")
    if pool:
        return DomainError("round_robin_host_unavailable_for_booking", "no round-robin host is available at that time")
    return DomainError("fixed_hosts_unavailable_for_booking", "not every host is available at that time")


def _check_limits(loaded: AvailabilityLoaded, keys_per_start: list[list[str]]) -> None:
    """Per day/week/month/year counters, with this request's occurrences added and a rescheduled booking's own
    place removed."""
    enriched = loaded.enriched
    event_type = enriched.event_type
    adding: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for start_keys in keys_per_start:
        for key in start_keys:
            adding[key][0] += 1
            adding[key][1] += enriched.length
    rescheduling = enriched.request.rescheduling
    if rescheduling and not rescheduling.released_already:
        for key in rescheduling.original.limit_keys:
            if key in adding:
                adding[key][0] -= 1
                adding[key][1] -= rescheduling.original.duration
    for key, (count, minutes) in adding.items():
        period = keys.limit_period(key)
        error = limits.exceeded(event_type, period, limit_usage(loaded.limit_counts, key), limits.Usage(count, minutes))
        if error:
            message = "the booking limit" if error == "booking_limit_reached" else "the booked-minutes limit"
            raise DomainError(error, f"{message} for this {period} is reached")


def _check_booker_limit(loaded: AvailabilityLoaded) -> None:
    enriched = loaded.enriched
    limit = enriched.event_type.booker_active_bookings_limit
    if limit is None or enriched.is_rescheduling:
        return
    now_min = enriched.request.now_min
    active = [b for b in loaded.booker_bookings if b.status == "accepted" and b.start_min > now_min]
    if len(active) < limit.maximum_active_bookings:
        return
    if limit.offer_reschedule:
        latest = max(active, key=lambda booking: booking.start_min)
        raise DomainError(
            "booker_limit_exceeded_error_reschedule",
            "you already hold the maximum number of upcoming bookings of this type; reschedule one instead",
            {"rescheduleUid": latest.uid, "startTime": iso_z_minutes(latest.start_min)},
        )
    raise DomainError(
        "booker_limit_exceeded_error",
        f"you already hold {limit.maximum_active_bookings} upcoming bookings of this type",
    )
