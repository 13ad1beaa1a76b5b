"""calendar_sync, the app-sync step: the organizer's online meeting (Google Meet, Teams, Zoom) first, then the
booking's event in their destination calendar (CalDAV, Google, Microsoft 365), kept in step with the booking."""

from pathlib import Path

from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync
from booking_core.subscribers import Subscriber


def _dependencies() -> dict:
    store = DynamoBookingStore()
    return {"calendars": CalendarSync(store), "meetings": MeetingSync(store)}


subscriber = Subscriber("calendar_sync", Path(__file__).parent, dependencies=_dependencies)
lambda_handler = subscriber.lambda_handler
