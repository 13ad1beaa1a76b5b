"""Shared code of every function of the booking service (deployed as the booking_core layer).

Imports go downward only: functions import booking_core, never the reverse.
"""
