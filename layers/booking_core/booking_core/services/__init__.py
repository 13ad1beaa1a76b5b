"""Use cases behind the HTTP routes: management, slots, bookings. Routes stay thin and call these."""
