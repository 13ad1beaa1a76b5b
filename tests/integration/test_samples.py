"""Every sample in events/ is current and runs through its function's handler."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ADMIN_KEY
from tests.integration.conftest import context_for, function_handler
from tests.samples import API_SAMPLES, EVENTS, SAMPLE_ADMIN_KEY, generate, render, subscriber_events


def test_committed_samples_match_their_definitions():
    expected = {path: render(content) for path, content in generate().items()}
    committed = {path: path.read_text() for path in EVENTS.rglob("*.json")}
    assert set(committed) == set(expected), "run `python -m tests.samples` to refresh events/"
    for path, text in expected.items():
        assert committed[path] == text, f"{path} is stale: run `python -m tests.samples`"


def test_every_route_has_a_sample(aws):
    from local.lambdas import load_handler

    spec = aws.functions["BookingApiFunction"]
    handler = load_handler(spec.code_dir, spec.module_file, spec.handler_name, "samples-routes")
    import sys

    app = sys.modules[handler.__module__].app
    routes = {(r.method, r.path) for r in app._static_routes + app._dynamic_routes}
    sampled = set()
    for _, method, path, _, _, _ in API_SAMPLES:
        plain = path.split("?")[0]
        for route_method, route_path in routes:
            pattern = "^" + re.sub(r"<\w+>", "[^/]+", route_path) + "$"
            if route_method == method and re.match(pattern, plain):
                sampled.add((route_method, route_path))
    assert routes - sampled == set()


def test_every_function_has_samples(aws):
    folders = {path.name for path in EVENTS.iterdir() if path.is_dir()}
    functions = {spec.code_dir.name for spec in aws.functions.values()}
    assert functions <= folders
    for feature, names in subscriber_events().items():
        assert {f"{name}.json" for name in names} <= {p.name for p in (EVENTS / feature).iterdir()}


def rebind(text: str, ids: dict[str, int]) -> str:
    """Samples name user, schedule and event type 1 (right for a fresh stack); point them at the ones just made."""
    for resource, key in (("users", "user"), ("schedules", "schedule"), ("event-types", "event_type")):
        if key in ids:
            text = re.sub(rf"/v2/{resource}/1(?=[/?\"])", f"/v2/{resource}/{ids[key]}", text)
    if "user" in ids:
        text = re.sub(r'(\\"(?:userId|ownerId)\\": )1\b', rf"\g<1>{ids['user']}", text)
    if "event_type" in ids:
        text = re.sub(r'(\\"eventTypeId\\": )1\b', rf"\g<1>{ids['event_type']}", text)
        text = re.sub(r'(\\"eventTypeIds\\": \[)1\]', rf"\g<1>{ids['event_type']}]", text)
        text = re.sub(r"eventTypeId=1(?=&)", f"eventTypeId={ids['event_type']}", text)
        text = re.sub(r'("eventTypeId": )"1"', rf'\g<1>"{ids["event_type"]}"', text)
    return text


def test_api_samples_run_through_booking_api(aws):
    handler = function_handler(aws, "BookingApiFunction")
    context = context_for("BookingApiFunction")
    ids: dict[str, int] = {}
    for name, *_rest, accepted in API_SAMPLES:
        event = json.loads(rebind((EVENTS / "booking_api" / f"{name}.json").read_text(), ids))
        auth = event["headers"].get("authorization")
        if auth:
            event["headers"]["authorization"] = auth.replace(SAMPLE_ADMIN_KEY, ADMIN_KEY)
        result = handler(event, context())
        assert result["statusCode"] in accepted, (name, result["statusCode"], result.get("body", "")[:300])
        created = {"create-user": "user", "create-schedule": "schedule", "create-event-type": "event_type"}
        if name in created:
            ids[created[name]] = json.loads(result["body"])["data"]["id"]


def test_publisher_sample_runs(aws):
    handler = function_handler(aws, "PublisherFunction")
    event = json.loads((EVENTS / "publisher" / "outbox-stream-batch.json").read_text())
    assert handler(event, context_for("PublisherFunction")()) == {"batchItemFailures": []}


@pytest.mark.parametrize("feature, event_name",
                         [(f, e) for f, names in subscriber_events().items() for e in names])
def test_subscriber_samples_run(aws, feature, event_name):
    logical = next(l for l, spec in aws.functions.items() if spec.code_dir.name == feature)
    handler = function_handler(aws, logical)
    event = json.loads((EVENTS / feature / f"{event_name}.json").read_text())
    assert handler(event, context_for(logical)()) == {"batchItemFailures": []}
