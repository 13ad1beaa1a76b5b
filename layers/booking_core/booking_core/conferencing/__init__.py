"""Conferencing: a meeting URL per booking. Adapters implement `create_meeting`; Jitsi needs no network call."""

from __future__ import annotations

import secrets
from typing import Protocol


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


PROVIDERS: dict[str, ConferencingProvider] = {"jitsi": JitsiProvider()}
