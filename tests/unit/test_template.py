"""template.yaml: lint-clean, and the event wiring matches the feature folders both ways."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from local.cfn import load_template, resources

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


def _ref_name(value) -> str:
    """The logical id an intrinsic ({"Fn::GetAtt": [id, attr]} or {"Ref": id}) points at."""
    if "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return value["Ref"]


def feature_functions() -> dict[str, str]:
    """{queue logical id: feature folder} for every function fed by an SQS queue."""
    out = {}
    for spec in resources(TEMPLATE, "AWS::Serverless::Function").values():
        for event in spec["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                out[_ref_name(event["Properties"]["Queue"])] = Path(spec["Properties"]["CodeUri"]).name
    return out


def handler_folders() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for handler in (ROOT / "functions").glob("*/events/*/handler.py"):
        found.setdefault(handler.parents[2].name, set()).add(handler.parent.name)
    return found


def routed_events() -> dict[str, set[str]]:
    """{feature: detail-types its rule(s) route to its queue}."""
    queues = feature_functions()
    routed: dict[str, set[str]] = {}
    for spec in resources(TEMPLATE, "AWS::Events::Rule").values():
        pattern = spec["Properties"]["EventPattern"]
        for target in spec["Properties"]["Targets"]:
            feature = queues.get(_ref_name(target["Arn"]))
            assert feature is not None, f"rule target {target} is not a feature queue with a function"
            routed.setdefault(feature, set()).update(pattern["detail-type"])
            assert set(pattern["source"]) <= {"booking-service", "booking-service.scheduler"}
    return routed


def test_cfn_lint_reports_no_errors():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"  # the console script (`python -m cfnlint` cannot run)
    result = subprocess.run([str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, check=False)
    errors = [line for line in result.stdout.splitlines() if line.startswith("E")]
    assert errors == [], result.stdout
    # cfn-lint exits 0 (clean), 4 (warnings) or 8 (informational); anything else means it did not run (or found
    # errors): a linter that cannot start must not pass as "no errors".
    assert result.returncode in (0, 4, 8), (result.returncode, result.stderr[-2000:])


def test_every_event_folder_is_routed_and_every_rule_has_handlers():
    assert routed_events() == handler_folders()


def test_every_feature_queue_has_a_dlq_with_an_alarm():
    alarmed = {
        dim["Value"]["Fn::GetAtt"][0]
        for spec in resources(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        for dim in spec["Properties"].get("Dimensions", [])
        if isinstance(dim["Value"], dict) and "Fn::GetAtt" in dim["Value"]
    }
    for queue in feature_functions():
        redrive = RESOURCES[queue]["Properties"]["RedrivePolicy"]
        dlq = _ref_name(redrive["deadLetterTargetArn"])
        assert RESOURCES[dlq]["Type"] == "AWS::SQS::Queue"
        assert dlq in alarmed, f"no alarm on {dlq}"


def test_every_function_has_an_error_alarm_and_bounded_logs():
    alarmed = {
        dim["Value"]["Ref"]
        for spec in resources(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        for dim in spec["Properties"].get("Dimensions", [])
        if isinstance(dim["Value"], dict) and "Ref" in dim["Value"]
    }
    for name, spec in resources(TEMPLATE, "AWS::Serverless::Function").items():
        assert name in alarmed, f"no Errors alarm for {name}"
        log_group = spec["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert "RetentionInDays" in RESOURCES[log_group]["Properties"]


def test_queue_visibility_covers_function_timeout():
    timeout = TEMPLATE["Globals"]["Function"]["Timeout"]
    for queue in feature_functions():
        assert RESOURCES[queue]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_outbox_stream_feeds_the_publisher():
    outbox = RESOURCES["OutboxTable"]["Properties"]
    assert outbox["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    events = RESOURCES["PublisherFunction"]["Properties"]["Events"]
    stream = next(e for e in events.values() if e["Type"] == "DynamoDB")["Properties"]
    assert stream["Stream"] == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}
    assert "ReportBatchItemFailures" in stream["FunctionResponseTypes"]
