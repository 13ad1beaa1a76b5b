"""Print booking_api's OpenAPI document (`make openapi` writes it to functions/booking_api/openapi.json)."""

from __future__ import annotations

import json
import sys

import tests.conftest  # noqa: F401 - the test environment (no AWS call is made)
from local.lambdas import add_to_path, load_handler
from tests.conftest import ROOT


def generated_spec() -> dict:
    code_dir = ROOT / "functions" / "booking_api"
    add_to_path(ROOT / "layers" / "booking_core")
    handler = load_handler(code_dir, code_dir / "app.py", "lambda_handler", "openapi")
    module = sys.modules[handler.__module__]
    from routes.system import openapi_json

    return json.loads(openapi_json(module.routes))


if __name__ == "__main__":
    print(json.dumps(generated_spec(), indent=2, sort_keys=True))
