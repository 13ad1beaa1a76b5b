"""Event contracts (docs/events.md "Events on the bus"): what goes on the bus and how subscribers read it."""
