from __future__ import annotations

import pytest

from local.lambdas import LambdaContext, load_handler
from local.provision import describe
from tests.iam_policy import PolicyGuard
from tests.support import Api

# Installed at collection, before any test creates an AWS client: every call a function makes during the integration
# tests is checked against that function's role in template.yaml (tests/iam_policy.py).
GUARD = PolicyGuard(describe()).install()


@pytest.fixture(autouse=True)
def within_iam_policy():
    """Every integration test is also an IAM test: a call the function's role would not allow fails it."""
    mark = GUARD.mark()
    yield
    violations = GUARD.since(mark)
    assert not violations, "calls the template's IAM policies refuse:\n" + "\n".join(map(str, violations[:20]))


def function_handler(stack, logical_id: str):
    spec = stack.functions[logical_id]
    return load_handler(spec.code_dir, spec.module_file, spec.handler_name, spec.logical_id)


def context_for(logical_id: str):
    return lambda: LambdaContext(function_name=f"local-{logical_id}", timeout_seconds=10)


@pytest.fixture(scope="session")
def api(aws) -> Api:
    return Api(function_handler(aws, "BookingApiFunction"), context_for("BookingApiFunction"))


@pytest.fixture(scope="session")
def session_bus(aws):
    from tests.integration.bus import Bus

    return Bus(aws)


@pytest.fixture
def bus(session_bus):
    """The event path, starting from now (earlier tests' events are skipped)."""
    session_bus.skip_backlog()
    return session_bus


# The stage template.yaml deploys (its Stage parameter's default): tests that run "on a named stage" use it.
from local.cfn import load_template  # noqa: E402

TEMPLATE_STAGE = load_template()["Parameters"]["Stage"].get("Default", "dev")


@pytest.fixture(scope="module", params=["$default", TEMPLATE_STAGE], ids=["default-stage", "named-stage"])
def staged_api(request, api) -> Api:
    """The API on `$default` and on the template's named stage (rawPath /<stage>/v2/...): a module that uses this
    instead of `api` runs each of its scenarios on both shapes API Gateway sends."""
    return api.on_stage(request.param)
