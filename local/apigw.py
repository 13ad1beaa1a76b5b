"""API Gateway HTTP API (payload format 2.0) events from plain HTTP requests, and responses back."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.provision import ACCOUNT


def http_api_event(
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: str | bytes | None = None,
    source_ip: str = "127.0.0.1",
    jwt_claims: dict[str, Any] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """The event API Gateway sends for `method target` on the catch-all route (ANY /{proxy+}).

    `target` is the path (and query) the client asked for on the API's stage. On a named stage API Gateway keeps the
    stage in `rawPath` and `requestContext.http.path` (`/prod/v2/users`) and names it in `requestContext.stage`;
    only the route's `{proxy}` parameter goes without it. On `$default` there is no prefix.
    """
    parts = urlsplit(target)
    path = parts.path or "/"
    if stage != "$default":
        path = f"/{stage}{path}"
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    lowered = {key.lower(): value for key, value in (headers or {}).items()}
    # the template's routes: ANY /v2/me/{proxy+} (behind the JWT authorizer) and ANY /{proxy+}
    unstaged = parts.path or "/"
    route_key, proxy = "ANY /{proxy+}", unstaged.lstrip("/")
    if unstaged.startswith("/v2/me/"):
        route_key, proxy = "ANY /v2/me/{proxy+}", unstaged.removeprefix("/v2/me/")
    now = time.time()
    is_binary = isinstance(body, bytes)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "pathParameters": {"proxy": proxy},
        "isBase64Encoded": is_binary,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if is_binary else body
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    return event


def response_parts(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body bytes) of a Lambda proxy response."""
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(str(v) for v in values)
    return int(result.get("statusCode", 200)), headers, data
