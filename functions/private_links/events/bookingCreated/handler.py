"""bookingCreated with a private link -> that link's usage goes up by one, exactly once per booking. Time-limited
links are not counted."""

from booking_core.events.contracts import BookingEvent
from booking_core.observability import logger, mask_uid
from booking_core.repositories.access import PrivateLinkRepository


def handle(event: BookingEvent, links: PrivateLinkRepository) -> None:
    link_id = event.detail.context.private_link
    if not link_id:
        return
    booking = event.detail.booking
    link = links.get(booking.event_type_id, link_id)
    if link is None or not link.counts_usage:
        return
    counted = links.count_use(booking.event_type_id, link_id, booking.uid)
    logger.info("private link used", extra={"link_counted": counted, "booking_uid": mask_uid(booking.uid)})
