"""The OpenAPI document: served, kept in the repo, and honest about which routes need the admin key."""

from __future__ import annotations

import json

from tests.conftest import ROOT
from tests.openapi_dump import generated_spec

COMMITTED = ROOT / "functions" / "booking_api" / "openapi.json"


def test_committed_spec_is_current():
    assert json.loads(COMMITTED.read_text()) == generated_spec(), "run `make openapi`"


def test_spec_is_served_and_docs_render(api):
    served = api.call("GET", "/v2/openapi.json")
    assert served.status == 200 and served.body == json.loads(COMMITTED.read_text())
    docs = api.handler(__import__("local.apigw", fromlist=["x"]).http_api_event("GET", "/v2/docs"),
                       api.context_factory())
    assert docs["statusCode"] == 200 and "swagger" in docs["body"].lower()


def test_admin_security_matches_the_guard(api):
    import sys

    app_module = sys.modules[api.handler.__module__]
    spec = generated_spec()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            secured = operation.get("security") == [{"adminKey": []}]
            concrete = path.replace("{", "").replace("}", "")
            assert secured == app_module.routes.is_admin(method, concrete), (method, path)
