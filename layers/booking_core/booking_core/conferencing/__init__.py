"""Meeting apps: where a booking's online meeting comes from (an event type's
`locations: [{type: "integration", integration}]`).

- `jitsi`: a room URL made at booking time, with no network call (Jitsi rooms exist on first join).
- `google-meet`, `office365-video` (Teams), `zoom`: made through the provider's API for the organizer, after the
  booking commits, in the app-sync step (the calendar_sync feature). Until the link is there the booking's
  `location` is the app's placeholder, cal.com's value (`integrations:zoom`), and `meetingUrl` is null.

An API-backed app is one module implementing `base.MeetingApp`, named here in `APPS`; nothing on the booking path
imports it (`meeting_app` loads it on first use in the app-sync step).
"""

from __future__ import annotations

import importlib
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from booking_core.conferencing.base import MeetingApp


class ConferencingProvider(Protocol):
    name: str

    def create_meeting(self, slug: str) -> str:
        """Return the join URL of a new meeting."""
        ...


class JitsiProvider:
    """Jitsi rooms exist on first join: an unguessable room name (128 random bits) is the whole meeting."""

    name = "jitsi"

    def __init__(self, base_url: str = "https://meet.jit.si") -> None:
        self.base_url = base_url.rstrip("/")

    def create_meeting(self, slug: str) -> str:
        return f"{self.base_url}/{slug}-{secrets.token_urlsafe(16)}"


# Apps whose meeting is a URL made at booking time.
PROVIDERS: dict[str, ConferencingProvider] = {"jitsi": JitsiProvider()}


class AppSpec(NamedTuple):  # a NamedTuple, not a dataclass: this module is on the booking path's cold start
    integration: str  # the event type's name for it
    label: str  # how people read it (emails, before the link exists)
    reference_type: str  # the booking's references[].type
    placeholder: str  # the booking's location until the link exists (cal.com's value)
    connection: str  # whose credentials: the organizer's connection of this type (calendar or conferencing)
    factory: str  # "module:attribute" of the MeetingApp, imported on first use


APPS: dict[str, AppSpec] = {spec.integration: spec for spec in (
    AppSpec("google-meet", "Google Meet", "google_meet", "integrations:google:meet", "google",
            "booking_core.conferencing.hosted:google_meet"),
    AppSpec("office365-video", "Microsoft Teams", "office365_video", "integrations:office365_video", "office365",
            "booking_core.conferencing.hosted:teams"),
    AppSpec("zoom", "Zoom", "zoom", "integrations:zoom", "zoom", "booking_core.conferencing.zoom:ZoomMeetings"),
)}
CONFERENCING_CONNECTIONS = frozenset({"zoom"})  # connection types that are not calendars (POST .../conferencing)


def app_of_placeholder(location: str | None) -> AppSpec | None:
    """The app whose link a booking is still waiting for, judged by its location."""
    if not location or not location.startswith("integrations:"):
        return None
    return next((spec for spec in APPS.values() if spec.placeholder == location), None)


def describe_location(location: str | None) -> str | None:
    """What people read for a booking's location: an app's name while its link is being made."""
    spec = app_of_placeholder(location)
    return f"{spec.label} (the link follows)" if spec else location


@lru_cache(maxsize=8)
def meeting_app(integration: str) -> MeetingApp:
    module_name, _, attribute = APPS[integration].factory.partition(":")
    made = getattr(importlib.import_module(module_name), attribute)
    return made() if isinstance(made, type) else made


__all__ = ["APPS", "CONFERENCING_CONNECTIONS", "PROVIDERS", "AppSpec", "ConferencingProvider", "JitsiProvider",
           "app_of_placeholder", "describe_location", "meeting_app"]
