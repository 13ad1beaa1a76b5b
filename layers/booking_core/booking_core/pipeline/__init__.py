"""The booking creation pipeline (docs/architecture.md "The pipeline").

validate (pure) -> enrich (1 read round) -> check_enriched (pure) -> load_availability (1 concurrent read round)
-> validate_availability (pure) -> create (1 transaction)

Each phase takes the previous phase's typed context and returns the next one, or raises a DomainError that maps to one
row of the contract's error table.
"""
