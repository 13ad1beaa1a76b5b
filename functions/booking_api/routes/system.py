"""Health, the OpenAPI document and Swagger UI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from routes.http import JSON, Routes, ok

OPENAPI_INFO: dict[str, Any] = {
    "title": "Booking service API",
    "version": "1.0.0",
    "description": (
        "A cal.com-compatible booking backend (API v2 names: bookings 2024-08-13, event types 2024-06-14). "
        "Responses are {status: success, data} or {status: error, error: {code, message, details}}. "
        "Management routes need `Authorization: Bearer <admin API key>`. Booker bodies ignore unknown fields "
        "(cal.com clients send extra ones); management bodies reject them. Slots are listed exactly when booking "
        "them would succeed: the grid steps by slotInterval (default: the length) from the start of each day's "
        "working hours; a start off that grid is not bookable."
    ),
    "security_schemes": {"adminKey": HTTPBearer(description="the admin API key")},
}


def openapi_json(routes: Routes) -> str:
    return routes.app.get_openapi_json_schema(**OPENAPI_INFO)


def register(routes: Routes) -> None:
    @routes.public("GET", "/health", include_in_schema=False)
    def health():
        return ok({"healthy": True})

    @routes.public("GET", "/v2/openapi.json", include_in_schema=False)
    def openapi():
        return Response(status_code=200, content_type=JSON, body=openapi_json(routes))

    routes.app.enable_swagger(path="/v2/docs", **OPENAPI_INFO)
