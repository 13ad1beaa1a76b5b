"""Event contracts (CONTRACT.md section 4): what goes on the bus and how subscribers read it."""
