"""Who the booker is: an optional signed-in identity (a JWT with an `email` claim).

- Behind API Gateway's JWT authorizer (the /v2/me routes) the verified claims arrive in the request context.
- A bearer token on a public booker route is verified here: HS256 with BOOKER_JWT_SECRET (the local stack and
  deployments that sign their own booker tokens), or the issuer's JWKS (BOOKER_JWT_ISSUER, BOOKER_JWT_AUDIENCE),
  the same checks API Gateway's authorizer makes. A token that fails verification is a 401.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from booking_core.config import settings
from booking_core.errors import DomainError


def _unauthorized(reason: str) -> DomainError:
    return DomainError("unauthorized_error", f"booker token refused: {reason}")


def claims_from_authorizer(event: dict[str, Any]) -> dict[str, Any] | None:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt_context = authorizer.get("jwt") or {}
    return jwt_context.get("claims") or None


def bearer_token(headers: dict[str, str] | None) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == "authorization":
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


@lru_cache(maxsize=1)
def _jwks_client(url: str) -> Any:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=3)


def verify_token(token: str) -> dict[str, Any]:
    """The claims of a booker token that passes the checks API Gateway's JWT authorizer makes: signature, `exp`
    (required), `nbf`, and the issuer and audience whenever the deployment configures them (HS256 included)."""
    import jwt

    config = settings()
    issuer, audience = config.booker_jwt_issuer, config.booker_jwt_audience
    options = {"require": ["exp"], "verify_aud": audience is not None, "verify_iss": issuer is not None}
    try:
        if config.booker_jwt_secret:  # tokens the deployment signs itself
            return jwt.decode(token, config.booker_jwt_secret, algorithms=["HS256"], issuer=issuer,
                              audience=audience, options=options)
        if issuer:
            jwks_url = config.booker_jwt_jwks_url or issuer.rstrip("/") + "/.well-known/jwks.json"
            key = _jwks_client(jwks_url).get_signing_key_from_jwt(token).key
            return jwt.decode(token, key, algorithms=["RS256", "ES256"], issuer=issuer, audience=audience,
                              options=options)
    except jwt.PyJWTError as exc:
        raise _unauthorized(type(exc).__name__) from exc
    raise _unauthorized("booker sign-in is not configured for this deployment")


def signed_in_email(event: dict[str, Any], headers: dict[str, str] | None, admin_token: str | None) -> str | None:
    """The booker's verified email, or None for an anonymous request. The admin key is not a booker token."""
    claims = claims_from_authorizer(event)
    if claims is None:
        token = bearer_token(headers)
        if token is None or (admin_token is not None and token == admin_token):
            return None
        claims = verify_token(token)
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _unauthorized("no email claim")
    return email
