"""HTTP plumbing shared by the routes: the resolver, the response envelope, error mapping and route registration.

Who may call a route is a property of the route that matched (its `security`), decided by `Resolver` after
Powertools has matched the path with the stage stripped, so `/prod/v2/users` on a named stage and `/v2/users` on
`$default` are the same route with the same rule. Nothing here looks at the raw path.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from booking_core.auth import signed_in_email
from booking_core.config import MAX_REQUEST_BODY_BYTES, settings
from booking_core.errors import DomainError
from booking_core.observability import logger

JSON = "application/json"
ADMIN_SECURITY = [{"adminKey": []}]
BOOKER_SECURITY = [{"bookerJwt": []}]
# Every route can answer these: a request that fails validation (400) and our own failure (500, never with internals).
COMMON_STATUSES = frozenset({400, 500})


def ok(data: Any, status: int = 200):
    return Response(status_code=status, content_type=JSON, body=json.dumps({"status": "success", "data": data}))


def error_response(error: DomainError, headers: dict[str, str] | None = None):
    return Response(status_code=error.status, content_type=JSON, body=json.dumps(error.body()),
                    headers={**error.headers, **(headers or {})})


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg") or error.get("type") or "invalid value")
    return message.removeprefix("Value error, ")


def validation_error(errors: list[dict[str, Any]]) -> DomainError:
    items = [{"field": _field(tuple(error.get("loc", ()))), "message": _message(error)} for error in errors[:50]]
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


# -- who may call -------------------------------------------------------------------------------------------------
def configured_admin_key() -> str | None:
    """The admin key: ADMIN_API_KEY (local stack, tests), else the Secrets Manager secret, cached for 5 minutes so a
    rotation is picked up within minutes (Powertools' parameter cache; no process-lifetime cache)."""
    config = settings()
    if config.admin_api_key:
        return config.admin_api_key
    if config.admin_api_key_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret  # only admin calls pay for this import

        return str(get_secret(config.admin_api_key_secret_arn, max_age=300))
    return None


def admin_key_matches(authorization: str) -> bool:
    """Constant-time comparison of the bearer token with the admin key, as bytes (any unicode is just unequal)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    expected = configured_admin_key()
    if not expected:
        return False
    return hmac.compare_digest(token.strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def signed_in_booker(event: Any) -> str | None:
    """The verified booker's email: from API Gateway's JWT authorizer, else a bearer token verified here (401 when it
    fails verification); None for an anonymous request."""
    return signed_in_email(event.raw_event, event.headers, configured_admin_key())


def _unauthorized() -> Response:
    error = DomainError("unauthorized_error", "missing or invalid admin API key")
    return error_response(error, {"WWW-Authenticate": "Bearer"})


def request_bytes(event: Any) -> bytes:
    """The body exactly as the client sent it."""
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise DomainError("request_body_invalid_error", "the request body is not valid base64",
                              {"errors": [{"field": "body", "message": "not valid base64"}]}) from None
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)


def _not_json(message: str) -> DomainError:
    return DomainError("request_body_invalid_error", message, {"errors": [{"field": "body", "message": message}]})


def check_body(event: Any) -> None:
    """At most MAX_REQUEST_BODY_BYTES, UTF-8, and JSON (Content-Type application/json, a +json type, or none):
    checked before anything parses it."""
    raw = request_bytes(event)
    if len(raw) > MAX_REQUEST_BODY_BYTES:
        raise DomainError("payload_too_large", f"the request body is over {MAX_REQUEST_BODY_BYTES // 1024} KB")
    if not raw:
        return
    mime = ((event.get("headers") or {}).get("content-type") or "").split(";", 1)[0].strip().lower()
    if mime and mime != "application/json" and not mime.endswith("+json"):
        raise _not_json("send JSON (Content-Type: application/json)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_json("the request body must be UTF-8 JSON") from None


class Resolver(APIGatewayHttpResolver):
    """The API's resolver: before a matched route runs (and before its input is validated), an admin route checks the
    admin key, then every route checks the body's size and encoding."""

    def _call_route(self, route: Any, route_arguments: dict[str, str]) -> Any:
        try:
            headers = self.current_event.headers or {}
            if route.security == ADMIN_SECURITY and not admin_key_matches(headers.get("authorization", "")):
                return self._response_builder_class(response=_unauthorized(), serializer=self._serializer,
                                                    route=route)
            if route.security == BOOKER_SECURITY and signed_in_booker(self.current_event) is None:
                raise DomainError("unauthorized_error", "sign in: a booker token is required on this route")
            check_body(self.current_event)
        except DomainError as error:
            return self._response_builder_class(response=error_response(error), serializer=self._serializer,
                                                route=route)
        return super()._call_route(route, route_arguments)


# -- registration -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RouteDoc:
    """What the OpenAPI document says a route answers besides its success status."""

    success: int
    errors: frozenset[int]


class Routes:
    """Registers routes on one resolver and records, per route, every status it can answer (for the document)."""

    def __init__(self, app: APIGatewayHttpResolver) -> None:
        self.app = app
        self.docs: dict[tuple[str, str], RouteDoc] = {}
        install_error_handlers(app)

    def _register(self, method: str, path: str, security: list[dict[str, list[str]]] | None, success: int,
                  errors: Iterable[int], kwargs: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        statuses = set(COMMON_STATUSES) | set(errors)
        if security == ADMIN_SECURITY:
            statuses.add(401)
        if method.upper() in {"POST", "PUT", "PATCH"}:
            statuses.add(413)
        if "<" in path:
            statuses.add(404)
        self.docs[(method.upper(), path)] = RouteDoc(success, frozenset(statuses))
        return self.app.route(path, method=method.upper(), security=security, status_code=success, **kwargs)

    def admin(self, method: str, path: str, *, success: int = 200, errors: Iterable[int] = (),
              **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A management route: the admin key is required (401 otherwise), whatever the stage."""
        return self._register(method, path, ADMIN_SECURITY, success, errors, kwargs)

    def public(self, method: str, path: str, *, success: int = 200, errors: Iterable[int] = (),
               security: list[dict[str, list[str]]] | None = None,
               **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._register(method, path, security, success, errors, kwargs)


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
