"""workflows: the steps teams configure around bookings (emails and text messages on a new booking, a cancellation
or a reschedule, and before or after the meeting through one-time EventBridge Scheduler schedules)."""

from pathlib import Path

from booking_core.config import require
from booking_core.services.workflows import runner
from booking_core.subscribers import Subscriber

require("EVENT_BUS_ARN", "SCHEDULER_ROLE_ARN")  # at cold start, or fail there
subscriber = Subscriber("workflows", Path(__file__).parent, dependencies=lambda: {"workflows": runner()})
lambda_handler = subscriber.lambda_handler
