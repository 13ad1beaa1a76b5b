"""Conferencing connections of a host (management): the Zoom account their Zoom meetings are made with. One per
type: connecting again replaces it. Credentials are checked with the provider, sealed
(`crypto.CONFERENCING_CREDENTIALS`) and never returned."""

from __future__ import annotations

import http.client
from datetime import datetime
from typing import Any

from booking_core.calendars.base import CalendarAuthError, CalendarError, Credentials
from booking_core.conferencing import meeting_app
from booking_core.crypto import CONFERENCING_CREDENTIALS, seal
from booking_core.domain.calendars import ConferencingConnection, ZoomConnect
from booking_core.errors import invalid, not_found
from booking_core.observability import logger
from booking_core.repositories.counters import next_id
from booking_core.repositories.entities import ConferencingConnectionRepository, UserRepository


class ConferencingConnections:
    def __init__(self) -> None:
        self.repository = ConferencingConnectionRepository()
        self.users = UserRepository()

    def _user(self, user_id: int) -> None:
        if self.users.get(user_id) is None:
            raise not_found("not_found_error", f"user {user_id}")

    def connect(self, user_id: int, data: ZoomConnect, now: datetime) -> dict[str, Any]:
        self._user(user_id)
        creds = Credentials(data.credentials.model_dump(by_alias=True))
        try:
            meeting_app(data.type).verify(creds)
        except CalendarAuthError as exc:
            raise invalid("credentials", f"{data.type} refused these credentials") from exc
        except CalendarError as exc:
            raise invalid("credentials", f"{data.type} could not be reached with these credentials: {exc}") from exc
        except (ValueError, UnicodeError, http.client.HTTPException) as exc:  # nothing HTTP can carry
            raise invalid("credentials", "not a usable credential") from exc
        connection = ConferencingConnection(id=next_id("conferencing_connection"), user_id=user_id, type=data.type,
                                            created_at=now)
        self.repository.put(connection, seal(creds.values, CONFERENCING_CREDENTIALS))
        logger.info("conferencing connected", extra={"user_id": user_id, "provider": data.type})
        return connection.public()

    def list(self, user_id: int) -> list[dict[str, Any]]:
        self._user(user_id)
        return [connection.public() for connection in self.repository.list(user_id)]

    def disconnect(self, user_id: int, connection_id: int) -> None:
        found = next((c for c in self.repository.list(user_id) if c.id == connection_id), None)
        if found is None or not self.repository.delete(found):
            raise not_found("not_found_error", f"conferencing connection {connection_id} of user {user_id}")
