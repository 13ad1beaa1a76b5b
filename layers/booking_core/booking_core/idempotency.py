"""Idempotency-Key support for mutating booker requests, on Powertools idempotency (DynamoDB persistence).

The same key with the same body returns the first response; the same key with a different body is refused with
422 idempotency_key_reused; a key whose first request is still running gets 409 idempotency_key_in_progress.
Powertools is imported on first use so requests without a key (and cold starts) do not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from booking_core.config import settings
from booking_core.errors import DomainError

_runner: Callable[..., dict[str, Any]] | None = None
_config: Any = None
KEY_TTL_SECONDS = 24 * 3600


def _build_runner() -> Callable[..., dict[str, Any]]:
    global _config
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table_name)
    config = _config = IdempotencyConfig(
        event_key_jmespath="[key, route]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=KEY_TTL_SECONDS,
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix="booking_api"
    )
    def replayable(request: dict[str, str], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return produce()

    return replayable


def run_idempotent(
    key: str, route: str, body: str, produce: Callable[[], dict[str, Any]], lambda_context: Any = None
) -> dict[str, Any]:
    """Run `produce` once for (key, route); its JSON-serialisable result is what every replay returns."""
    global _runner
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if _runner is None:
        _runner = _build_runner()
    if lambda_context is not None:  # lets an in-progress record expire with the invocation's own timeout
        _config.register_lambda_context(lambda_context)
    try:
        return _runner(request={"key": key, "route": route, "body": body}, produce=produce)
    except IdempotencyValidationError as exc:
        raise DomainError(
            "idempotency_key_reused", "this Idempotency-Key was used with a different request body"
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise DomainError(
            "idempotency_key_in_progress", "a request with this Idempotency-Key is still being processed"
        ) from exc
