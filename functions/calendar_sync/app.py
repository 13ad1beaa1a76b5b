"""calendar_sync: bookings into the organizer's destination calendar (CalDAV or Google), kept in step."""

from pathlib import Path

from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.services.calendars import CalendarSync
from booking_core.subscribers import Subscriber

subscriber = Subscriber("calendar_sync", Path(__file__).parent,
                        dependencies=lambda: {"calendars": CalendarSync(DynamoBookingStore())})
lambda_handler = subscriber.lambda_handler
