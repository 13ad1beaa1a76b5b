"""Health, the OpenAPI document and Swagger UI (both built on demand: cold starts do not pay for them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

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
        "working hours; a start off that grid is not bookable. Validation errors are answered with 400 "
        "request_body_invalid_error (not the 422 the generated responses mention)."
    ),
}


def openapi_json(routes: Routes) -> str:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return routes.app.get_openapi_json_schema(
        **OPENAPI_INFO, security_schemes={"adminKey": HTTPBearer(description="the admin API key")}
    )


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
