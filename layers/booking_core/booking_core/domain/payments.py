"""Payments for priced event types: one payment per booking (or per recurring series)."""

from __future__ import annotations

from typing import Literal

from booking_core.domain.common import CamelModel, UtcDatetime

PaymentStatus = Literal["pending", "succeeded", "failed"]


class Payment(CamelModel):
    payment_uid: str
    booking_uids: list[str]
    provider: str
    external_id: str | None = None
    client_secret: str | None = None
    amount: int
    currency: str
    status: PaymentStatus = "pending"
    created_at: UtcDatetime
    updated_at: UtcDatetime

    def public(self) -> dict:
        return self.dump()

    def reported_by(self, provider: str, external_id: str, amount: int, currency: str) -> bool:
        """A provider's report settles this payment only when it names this very payment, in full."""
        return (self.provider == provider and self.external_id == external_id and amount == self.amount
                and currency.upper() == self.currency.upper())
