"""Health, the OpenAPI document and Swagger UI (both built on demand: cold starts do not pay for them)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from routes.http import JSON, RouteDoc, Routes, ok

OPENAPI_INFO: dict[str, Any] = {
    "title": "Booking service API",
    "version": "1.0.0",
    "description": (
        "A cal.com-compatible booking backend (API v2 names: bookings 2024-08-13, event types 2024-06-14). "
        "Responses are {status: success, data} or {status: error, error: {code, message, details}}. "
        "Management routes need `Authorization: Bearer <admin API key>`. Booker bodies ignore unknown fields "
        "(cal.com clients send extra ones); management bodies reject them. Slots are listed exactly when booking "
        "them would succeed: the grid steps by slotInterval (default: the length) from the start of each day's "
        "working hours; a start off that grid is not bookable. Validation errors are answered with 400 "
        "request_body_invalid_error. Every route lists each status it can answer, errors with the ErrorResponse "
        "envelope. Deployed, every path is under the stage (/prod/v2/...); authorization is the same on any stage."
    ),
}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "error"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable snake_case code from the error table"},
                "message": {"type": "string"},
                "details": {"type": "object", "description": "e.g. errors: [{field, message}] for 400"},
            },
        },
    },
}
STATUS_TEXT = {200: "OK", 201: "Created", 400: "Invalid request (request_body_invalid_error and the 400 rows)",
               401: "Missing or invalid admin key or booker token (unauthorized_error)",
               403: "Not allowed (blocklist, sign-in, private link, notice, forbidden_error)",
               404: "Not found", 409: "Conflict (availability, seats, limits, concurrent change)",
               413: "Body over 256 KB (payload_too_large)", 422: "Unprocessable (event_type_no_hosts, "
               "idempotency_key_reused)", 429: "Abuse limit (too_many_requests); see Retry-After",
               500: "Internal error (internal_server_error), never with internals"}


def document_statuses(spec: dict[str, Any], docs: dict[tuple[str, str], RouteDoc]) -> dict[str, Any]:
    """Every status each route can answer, errors with the error envelope (Powertools documents 422 with its own
    validation body; this API answers 400 with the envelope instead)."""
    spec.setdefault("components", {}).setdefault("schemas", {})["ErrorResponse"] = ERROR_SCHEMA
    for (method, path), doc in docs.items():
        operation = spec["paths"].get(re.sub(r"<(\w+)>", r"{\1}", path), {}).get(method.lower())
        if operation is None:
            continue  # not in the document (health, the document itself)
        success = operation["responses"].get(str(doc.success)) or {"description": STATUS_TEXT[doc.success]}
        responses: dict[str, Any] = {str(doc.success): success}
        for status in sorted(doc.errors):
            if status < 400:
                responses[str(status)] = {**success, "description": "OK (an existing resource)"}
                continue
            entry: dict[str, Any] = {"description": STATUS_TEXT[status],
                                     "content": {JSON: {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            if status == 429:
                entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
            responses[str(status)] = entry
        operation["responses"] = responses
    return spec


def openapi_json(routes: Routes) -> str:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    raw = routes.app.get_openapi_json_schema(
        **OPENAPI_INFO,
        security_schemes={
            "adminKey": HTTPBearer(description="the admin API key"),
            "bookerJwt": HTTPBearer(bearerFormat="JWT", description="a signed-in booker's token (email claim)"),
        },
    )
    return json.dumps(document_statuses(json.loads(raw), routes.docs))


def swagger_page(spec: str) -> str:
    from aws_lambda_powertools.event_handler import openapi
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(openapi.__file__).parent / "swagger_ui"
    return generate_swagger_html(
        spec.replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        None,
        None,
    )


def register(routes: Routes) -> None:
    @routes.public("GET", "/health", include_in_schema=False)
    def health():
        return ok({"healthy": True})

    @routes.public("GET", "/v2/openapi.json", include_in_schema=False)
    def openapi():
        return Response(status_code=200, content_type=JSON, body=openapi_json(routes))

    @routes.public("GET", "/v2/docs", include_in_schema=False)
    def docs():
        return Response(status_code=200, content_type="text/html", body=swagger_page(openapi_json(routes)))
