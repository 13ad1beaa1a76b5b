"""`make bench`: what a booking costs, measured and printed (never asserted; this is not a pytest suite).

    python -m tests.bench

Modules: recorder (botocore hooks: AWS calls, round trips, CPU inside botocore), stack (moto in a subprocess, the
template's resources, the real booking_api handler), flows (bookings through the handler), slots (the slot
computation on in-memory data), imports (cold-start import time), __main__ (runs everything, prints the report).

Importing this package fixes the process environment first, exactly as the test suites do (tests/conftest.py):
PynamoDB binds table names and the endpoint when booking_core's models are defined, so nothing may import
booking_core before this runs.
"""

from tests import conftest as test_env  # noqa: F401  (sets os.environ: table names, endpoint on a reserved port)

import os  # noqa: E402

# Bookings are measured with the deployed abuse limits switched on (values high enough never to refuse), so the
# per-IP counter's UpdateItem and the per-email counter in the transaction are in every figure.
os.environ["RATE_LIMIT_PER_IP_PER_MINUTE"] = "1000000"
os.environ["RATE_LIMIT_PER_EMAIL_PER_HOUR"] = "1000000"
