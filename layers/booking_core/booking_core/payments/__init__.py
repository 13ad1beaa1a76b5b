"""Payment providers: Stripe in AWS, a test provider in the local stack and tests.

The provider is named explicitly (PAYMENT_PROVIDER, a template parameter without a default). Without one, payments
fail closed: a priced booking is refused instead of silently using a provider nothing can complete.
"""

from __future__ import annotations

from functools import lru_cache

from booking_core.config import settings
from booking_core.payments.base import PaymentError, PaymentProvider


@lru_cache(maxsize=1)
def provider() -> PaymentProvider:
    name = settings().payment_provider
    if name == "stripe":
        from booking_core.payments.stripe import StripeProvider

        return StripeProvider.from_environment()
    if name == "test":
        from booking_core.payments.test_provider import TestPaymentProvider

        return TestPaymentProvider()
    raise PaymentError(f"no payment provider is configured (PAYMENT_PROVIDER={name!r})")
