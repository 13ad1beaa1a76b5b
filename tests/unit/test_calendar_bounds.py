"""Bounds on calendar and conferencing connections: what a request may name, and what a connection keeps of what a
provider (possibly a hostile CalDAV server) lists."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from booking_core.calendars.base import CalendarInfo
from booking_core.domain.calendars import (
    MAX_CALENDAR_ID,
    MAX_CALENDAR_NAME,
    MAX_CALENDARS,
    ConnectionPatch,
    OAuthCredentialsInput,
)
from booking_core.services.calendars import _kept


def test_a_patch_selects_at_most_the_calendars_a_connection_keeps():
    assert len(ConnectionPatch(selected_calendars=[f"c{n}" for n in range(MAX_CALENDARS)]).selected_calendars) == 100
    with pytest.raises(ValidationError):
        ConnectionPatch(selected_calendars=[f"cal-{n}" for n in range(MAX_CALENDARS + 1)])
    with pytest.raises(ValidationError):
        ConnectionPatch(selected_calendars=["x" * (MAX_CALENDAR_ID + 1)])
    with pytest.raises(ValidationError):
        ConnectionPatch(selected_calendars=["cal"], destination_calendar="x" * (MAX_CALENDAR_ID + 1))
    with pytest.raises(ValidationError):
        ConnectionPatch(selected_calendars=[""])


def credentials(expires_at: object) -> dict:
    return {"accessToken": "a", "refreshToken": "r", "expiresAt": expires_at, "clientId": "c", "clientSecret": "s"}


@pytest.mark.parametrize("expires_at", [1_900_000_000, 1_900_000_000_000, "2030-01-01T00:00:00Z"])
def test_token_expiry_in_seconds_milliseconds_or_an_instant(expires_at):
    assert OAuthCredentialsInput.model_validate(credentials(expires_at)).expires_at == expires_at


@pytest.mark.parametrize("expires_at", ["soon", "2030-01-01T00:00:00", "", -1, 10**30, "9" * 100])
def test_token_expiry_that_is_no_time_is_refused_at_the_edge(expires_at):
    """Otherwise it would fail deep in the token refresh, after the provider was already asked."""
    with pytest.raises(ValidationError):
        OAuthCredentialsInput.model_validate(credentials(expires_at))


def test_a_connection_keeps_a_bounded_list_with_the_primary():
    listed = [CalendarInfo(external_id=f"https://dav.example.com/cal/{n}/", name="n" * 10_000, primary=n == 120)
              for n in range(150)]
    listed.insert(3, CalendarInfo(external_id="https://dav.example.com/" + "x" * MAX_CALENDAR_ID, name="long",
                                     primary=False))
    kept = _kept(listed)
    assert len(kept) == MAX_CALENDARS
    assert [c.external_id for c in kept if c.primary] == ["https://dav.example.com/cal/120/"]
    assert all(len(c.external_id) <= MAX_CALENDAR_ID and len(c.name) == MAX_CALENDAR_NAME for c in kept)
    assert [c.external_id for c in kept][1:4] == [f"https://dav.example.com/cal/{n}/" for n in range(3)]


def test_a_short_list_is_kept_as_listed():
    listed = [CalendarInfo(external_id=f"id-{n}", name=f"Calendar {n}", primary=n == 1) for n in range(3)]
    assert [(c.external_id, c.name, c.primary) for c in _kept(listed)] == [
        ("id-0", "Calendar 0", False), ("id-1", "Calendar 1", True), ("id-2", "Calendar 2", False)]
