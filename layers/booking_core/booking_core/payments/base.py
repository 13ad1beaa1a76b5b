"""What the booking flow needs from a payment provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    external_id: str
    client_secret: str | None


class PaymentError(Exception):
    """The provider refused or could not be reached; the booking is not made."""


class PaymentProvider(Protocol):
    name: str

    def create(self, payment_uid: str, amount: int, currency: str, description: str) -> ProviderPayment:
        """Create a payment the booker completes with the provider (idempotent on payment_uid)."""
        ...
