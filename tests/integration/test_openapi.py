"""The OpenAPI document: served, kept in the repo, and honest about which routes need the admin key."""

from __future__ import annotations

import json
import re

import pytest

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


@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_the_admin_key_is_required_exactly_where_the_document_says(api, stage):
    """Every documented operation, called without credentials on `$default` and on a named stage (rawPath
    /prod/v2/...): 401 exactly for the operations the document secures with the admin key or a booker token."""
    staged = api.on_stage(stage)
    checked = 0
    for path, operations in generated_spec()["paths"].items():
        concrete = re.sub(r"\{\w+\}", "1", path)
        for method, operation in operations.items():
            security = operation.get("security") or []
            reply = staged.call(method.upper(), concrete, {} if method in ("post", "patch") else None)
            assert (reply.status == 401) == bool(security), (stage, method, path, reply.status, reply.body)
            if {"adminKey": []} in security:
                assert reply.code == "unauthorized_error" and reply.headers.get("WWW-Authenticate") == "Bearer"
            checked += 1
    assert checked > 30  # the whole document, not an empty one
