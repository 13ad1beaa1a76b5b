"""Domain models: what users, schedules, event types and bookings are, independent of storage and HTTP."""
