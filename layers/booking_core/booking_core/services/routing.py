"""Assignment reasons for routed round-robin bookings (shown as `assignmentReason`)."""

from __future__ import annotations

from booking_core.domain.bookings import AssignmentReason
from booking_core.observability import logger, mask_uid
from booking_core.ports import BookingStore, BookingWrite, StaleBooking, StatusChange
from booking_core.repositories.access import RoutingResponseRepository
from booking_core.repositories.keys import booker_key_of
from booking_core.services.retry import until_written


def reason_text(form_id: str, response_id: int, team_member_ids: list[int] | None, host_name: str, host_id: int) -> str:
    chosen = f"{host_name} (id {host_id})"
    if team_member_ids:
        return (f"Routing form '{form_id}' response {response_id} routed to team members {team_member_ids}; "
                f"round robin chose {chosen}")
    return f"Routing form '{form_id}' response {response_id}; round robin chose {chosen} from every host"


def record_assignment(store: BookingStore, responses: RoutingResponseRepository, booking_uid: str,
                      response_id: int) -> bool:
    """Write the reason on the booking (once: an existing reason is kept). False when not applicable."""
    response = responses.get(response_id)

    def write() -> bool:
        record = store.get_booking(booking_uid)
        if record is None or response is None or record.assignment_reason is not None:
            return False
        round_robin_host = record.round_robin_key[2] if record.round_robin_key else None
        host = next((h for h in record.hosts if h.id == round_robin_host), None)
        if host is None:
            return False  # not a round-robin booking
        updated = record.model_copy(deep=True)
        updated.assignment_reason = AssignmentReason(
            routing_form_response_id=response_id,
            reason=reason_text(response.form_id, response_id, record.team_member_ids, host.name, host.id),
        )
        store.write(BookingWrite(changes=[StatusChange.of(record, updated, booker_key_of(record))]))
        return True

    recorded = until_written(write, "the booking", StaleBooking)
    if recorded:
        logger.info("assignment reason recorded", extra={"booking_uid": mask_uid(booking_uid)})
    return recorded
