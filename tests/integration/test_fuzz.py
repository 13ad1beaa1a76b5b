"""Hostile input never gets a 5xx, and every answer is one the OpenAPI document lists: schemathesis generates
requests from the committed document for every operation and sends them through the real handler (as API Gateway
events on the template's named stage), with the admin key so management routes are exercised too."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from local.apigw import wsgi_app
from tests.conftest import ROOT
from tests.support import ADMIN_KEY

SPEC = json.loads((ROOT / "functions" / "booking_api" / "openapi.json").read_text())


class Deployed:
    """The WSGI face of booking_api on the template's named stage, bound once the test session has the handler."""

    app = None

    def __call__(self, environ, start_response):
        assert self.app is not None, "the `deployed` fixture binds the handler"
        return self.app(environ, start_response)


DEPLOYED = Deployed()
schema = schemathesis.openapi.from_dict(SPEC)
schema.app = DEPLOYED


@pytest.fixture(scope="module")
def deployed(api):
    DEPLOYED.app = wsgi_app(api.handler, api.context_factory, stage="prod")
    yield DEPLOYED
    DEPLOYED.app = None


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_no_input_gets_a_5xx_or_an_undocumented_status(case, deployed):
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                           checks=[not_a_server_error, status_code_conformance])
