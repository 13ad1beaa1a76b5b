"""HTTP plumbing shared by the routes: the response envelope, error mapping, admin routes and their guard."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from booking_core.config import settings
from booking_core.errors import DomainError
from booking_core.observability import logger

JSON = "application/json"
ADMIN_SECURITY = [{"adminKey": []}]


def ok(data: Any, status: int = 200):
    return Response(status_code=status, content_type=JSON, body=json.dumps({"status": "success", "data": data}))


def error_response(error: DomainError):
    return Response(status_code=error.status, content_type=JSON, body=json.dumps(error.body()))


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg") or error.get("type") or "invalid value")
    return message.removeprefix("Value error, ")


def validation_error(errors: list[dict[str, Any]]) -> DomainError:
    items = [{"field": _field(tuple(error.get("loc", ()))), "message": _message(error)} for error in errors]
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in items[:3])
    return DomainError("request_body_invalid_error", summary or "invalid request", {"errors": items})


class Lazy:
    """A dependency built on its first use (and then kept for the container's life)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._value: Any = None

    def __call__(self) -> Any:
        if self._value is None:
            self._value = self._factory()
        return self._value


class Routes:
    """Registers routes on one resolver and remembers which ones need the admin key."""

    def __init__(self, app: APIGatewayHttpResolver) -> None:
        self.app = app
        self._admin: list[tuple[str, re.Pattern[str]]] = []
        install_error_handlers(app)

    def admin(self, method: str, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        pattern = re.compile("^" + re.sub(r"<\w+>", "[^/]+", path) + "$")
        self._admin.append((method.upper(), pattern))
        return self.app.route(path, method=method.upper(), security=ADMIN_SECURITY, **kwargs)

    def public(self, method: str, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.app.route(path, method=method.upper(), **kwargs)

    def is_admin(self, method: str, path: str) -> bool:
        return any(method.upper() == m and pattern.match(path) for m, pattern in self._admin)

    def guard(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """401 for an admin route without the admin key; checked before body validation, so it comes first."""
        http = (event.get("requestContext") or {}).get("http") or {}
        if not self.is_admin(http.get("method", ""), event.get("rawPath") or http.get("path", "")):
            return None
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if admin_key_matches(headers.get("authorization", "")):
            return None
        error = DomainError("unauthorized_error", "missing or invalid admin API key")
        return {
            "statusCode": 401,
            "headers": {"Content-Type": JSON, "WWW-Authenticate": "Bearer"},
            "body": json.dumps(error.body()),
            "isBase64Encoded": False,
        }


@lru_cache(maxsize=1)
def configured_admin_key() -> str | None:
    config = settings()
    if config.admin_api_key:
        return config.admin_api_key
    if config.admin_api_key_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret  # only admin calls pay for this import

        return str(get_secret(config.admin_api_key_secret_arn, max_age=300))
    return None


def admin_key_matches(authorization: str) -> bool:
    scheme, _, token = authorization.partition(" ")
    expected = configured_admin_key()
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected or "")


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(DomainError)
    def _domain(error: DomainError):
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError):
        return error_response(validation_error(list(error.errors())))

    @app.not_found
    def _not_found(_: Exception):
        return error_response(DomainError("not_found_error", "no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception):
        logger.exception("unhandled error")
        return error_response(DomainError("internal_server_error", "something went wrong on our side"))
