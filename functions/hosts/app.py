"""hosts: feature subscriber that keeps each host's lastActiveAt (handlers in events/<eventName>/handler.py)."""

from pathlib import Path

from booking_core.repositories.entities import UserRepository
from booking_core.subscribers import Subscriber

subscriber = Subscriber("hosts", Path(__file__).parent, dependencies=lambda: {"users": UserRepository()})
lambda_handler = subscriber.lambda_handler
