"""The checkov findings the project accepts: the Makefile's skip list and the README's table agree, and where a skip
would also hide a real regression, the property that makes the finding acceptable is checked here instead."""

from __future__ import annotations

import re
from pathlib import Path

from local.cfn import load_template, resources

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text()
README = (ROOT / "README.md").read_text()
TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = resources(TEMPLATE, "AWS::Serverless::Function")


def makefile_skips() -> list[str]:
    [line] = re.findall(r"^CHECKOV_SKIP := (.+)$", MAKEFILE, re.MULTILINE)
    return line.split(",")


def makefile_commented() -> list[str]:
    return re.findall(r"^#   (CKV_\w+) ", MAKEFILE, re.MULTILINE)


def readme_accepted() -> list[str]:
    section = README.split("## Security", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| (CKV_\w+) \|", section, re.MULTILINE)


def test_the_readme_explains_exactly_the_skipped_checks():
    assert makefile_skips() == makefile_commented() == readme_accepted()
    assert makefile_skips()  # and the list is not empty by accident of a format change


def test_the_readme_names_the_pinned_checkov():
    [pinned] = re.findall(r"^checkov==(\S+)$", (ROOT / "requirements-checkov.txt").read_text(), re.MULTILINE)
    assert f"checkov {pinned}" in README


def test_ckv_aws_27_every_queue_is_encrypted_by_sqs():
    queues = resources(TEMPLATE, "AWS::SQS::Queue")
    assert queues and all(spec["Properties"].get("SqsManagedSseEnabled") is True for spec in queues.values())


def test_ckv_aws_115_functions_without_a_reservation_are_capped_by_their_event_source():
    for name, spec in FUNCTIONS.items():
        if "ReservedConcurrentExecutions" in spec["Properties"]:
            continue
        events = list(spec["Properties"].get("Events", {}).values())
        assert events, name
        for event in events:
            if event["Type"] == "SQS":
                assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= 10, name
            else:  # the publisher: one poller per stream shard
                assert event["Type"] == "DynamoDB", name


def test_ckv_aws_116_no_function_is_invoked_asynchronously():
    for name, spec in FUNCTIONS.items():
        assert {e["Type"] for e in spec["Properties"].get("Events", {}).values()} <= {"HttpApi", "SQS", "DynamoDB"}
        assert "EventInvokeConfig" not in spec["Properties"], name
    assert not resources(TEMPLATE, "AWS::Lambda::EventInvokeConfig")
    assert not resources(TEMPLATE, "AWS::Lambda::Permission")  # nothing else may invoke them


def _reference(value: object) -> bool:
    """A !Ref / !GetAtt, or an !If whose branches are references or empty (a secret that is not configured)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    if "Fn::If" in value:
        _, *branches = value["Fn::If"]
        return all(branch == "" or _reference(branch) for branch in branches)
    return set(value) <= {"Ref", "Fn::GetAtt"}


def test_ckv_aws_173_environment_variables_hold_no_secrets():
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for spec in FUNCTIONS.values():
        variables.update(spec["Properties"].get("Environment", {}).get("Variables", {}))
    secret_looking = {k: v for k, v in variables.items() if re.search(r"SECRET|PASSWORD|TOKEN|KEY", k)}
    assert secret_looking  # the ARNs and key ids below
    for name, value in secret_looking.items():
        assert _reference(value), f"{name} is a literal value"
    assert not _reference({"Fn::If": ["UsesStripe", "sk_live_literal", ""]})  # a literal inside an !If counts


def test_every_table_has_point_in_time_recovery():
    for spec in resources(TEMPLATE, "AWS::DynamoDB::Table").values():
        assert spec["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def _inline_skips() -> dict[str, list[str]]:
    return {name: [entry["id"] for entry in spec.get("Metadata", {}).get("checkov", {}).get("skip", [])]
            for name, spec in TEMPLATE["Resources"].items() if spec.get("Metadata", {}).get("checkov")}


def test_the_one_inline_skip_is_ckv_aws_111_on_the_workflows_role_whose_deny_keeps_sms_off_topics():
    assert _inline_skips() == {"WorkflowsRole": ["CKV_AWS_111"]}
    assert "CKV_AWS_111" in README.split("## Security", 1)[1] and "WorkflowsRole" in README
    statements = [s for policy in TEMPLATE["Resources"]["WorkflowsRole"]["Properties"]["Policies"]
                  for s in policy["PolicyDocument"]["Statement"]]
    unconstrained = [s for s in statements if s["Resource"] == "*" and s["Effect"] == "Allow"
                     and not any(a.startswith("xray:") for a in s["Action"])]
    assert [sorted(s["Action"]) for s in unconstrained] == [["sns:CheckIfPhoneNumberIsOptedOut", "sns:Publish"]]
    assert {"Effect": "Deny", "Action": ["sns:Publish"], "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"},
            "Sid": "NoTopics"} in statements
