"""Payment providers: Stripe in AWS, a test provider in the local stack and tests (PAYMENT_PROVIDER)."""

from __future__ import annotations

import os
from functools import lru_cache

from booking_core.payments.base import PaymentProvider


@lru_cache(maxsize=1)
def provider() -> PaymentProvider:
    name = os.environ.get("PAYMENT_PROVIDER", "test")
    if name == "stripe":
        from booking_core.payments.stripe import StripeProvider

        return StripeProvider.from_environment()
    from booking_core.payments.test_provider import TestPaymentProvider

    return TestPaymentProvider()
