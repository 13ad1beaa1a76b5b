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


def wsgi_app(handler: Any, context_factory: Any, stage: str = "$default") -> Any:
    """A WSGI application in front of a Lambda handler, sending what API Gateway would send (for WSGI test clients
    such as schemathesis): the same event as the local stack's front door, and the function's response."""
    from urllib.parse import quote

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        path = quote(environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace"), safe="/")
        target = path + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        try:
            body: str | bytes | None = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            body = raw  # API Gateway base64-encodes what is not text
        if stage != "$default":
            target = target.removeprefix(f"/{stage}")
        event = http_api_event(environ["REQUEST_METHOD"], target, headers, body,
                               environ.get("REMOTE_ADDR", "127.0.0.1"), stage=stage)
        status, response_headers, data = response_parts(handler(event, context_factory()))
        reason = {200: "OK", 201: "Created"}.get(status, "Status")
        start_response(f"{status} {reason}", [(k, v) for k, v in response_headers.items()]
                       + [("Content-Length", str(len(data)))])
        return [data]

    return app
