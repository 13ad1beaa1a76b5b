"""HTTP routes of booking_api. Each module registers its routes on the resolver it is given.

Routes are registered per resolver (not on module-level Routers) so every Lambda container, and every emulated
container in the local stack and the concurrency tests, owns its routes and its current event.
"""
