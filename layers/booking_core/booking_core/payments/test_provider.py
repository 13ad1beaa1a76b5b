"""A provider without network: payments stay pending until something reports them paid
(the local stack's POST /_local/payments/{paymentUid}/succeed)."""

from __future__ import annotations

from booking_core.payments.base import ProviderPayment


class TestPaymentProvider:
    __test__ = False  # not a pytest test class
    name = "test"

    def create(self, payment_uid: str, amount: int, currency: str, description: str) -> ProviderPayment:
        return ProviderPayment(external_id=f"test_{payment_uid}", client_secret=f"test_secret_{payment_uid}")
