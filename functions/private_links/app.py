"""private_links: counts each booking's use of a private link, exactly once."""

from pathlib import Path

from booking_core.repositories.access import PrivateLinkRepository
from booking_core.subscribers import Subscriber

subscriber = Subscriber("private_links", Path(__file__).parent, dependencies=lambda: {"links": PrivateLinkRepository()})
lambda_handler = subscriber.lambda_handler
