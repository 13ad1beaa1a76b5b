"""Least privilege in template.yaml, checked statically: one explicit role per function (so SAM adds no managed
policy), each queue, stream, log group and key only where it belongs, the main table scoped by item kind, reserved
concurrency, and an access log without paths. tests/iam_policy.py checks the same policies dynamically: the
integration suite fails on any call a function's role would refuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.cfn import load_template, resources
from local.provision import describe
from tests.iam_policy import IamRequest, allows, iam_requests, permitted, role_statements

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = resources(TEMPLATE, "AWS::Serverless::Function")
STACK = describe(TEMPLATE)
SUBSCRIBERS = sorted(set(FUNCTIONS) - {"BookingApiFunction", "PublisherFunction"})

# What each function does with the main table, by action and item kind (partition key prefix), from its code:
EXPECTED_TABLE_GRANTS: dict[str, dict[str, set[str]]] = {
    # UserRepository.touch_last_active: UpdateItem on the host's profile (USER#<id>, HC#PROFILE)
    "HostsFunction": {"UpdateItem": {"USER#*"}},
    # WebhookRepository.matching: Query on WEBHOOKSCOPE#, BatchGetItem of WEBHOOK#; deliveries (WEBHOOK#<id>,
    # DELIVERY#) put, read and updated; moments and cancellations re-read the booking (BOOKING#)
    "WebhooksFunction": {"GetItem": {"WEBHOOK#*", "BOOKING#*"}, "BatchGetItem": {"WEBHOOK#*"},
                         "Query": {"WEBHOOKSCOPE#*"}, "PutItem": {"WEBHOOK#*"}, "UpdateItem": {"WEBHOOK#*"}},
    # NotificationService: get_booking (GetItem BOOKING#) and seats (Query BOOKING#)
    "NotificationsFunction": {"GetItem": {"BOOKING#*"}, "Query": {"BOOKING#*"}},
    # PrivateLinkRepository.get / count_use: the link (EVENTTYPE#<id>, LINK#) and the once-per-booking marker
    "PrivateLinksFunction": {"GetItem": {"EVENTTYPE#*"}, "UpdateItem": {"EVENTTYPE#*"}, "PutItem": {"LINKUSE#*"}},
    # record_assignment: the response, the booking, then a status-change transaction (booking put, host booking
    # HB# and booker index updates)
    "RoutingFormsFunction": {"GetItem": {"ROUTINGRESPONSE#*", "BOOKING#*"}, "PutItem": {"BOOKING#*"},
                             "UpdateItem": {"USER#*", "BOOKER#*"}},
    # CalendarSync: the booking, the organizer's configuration (Query USER# HC#) and connection, their Zoom
    # connection (GetItem USER# CONF#), refreshed credentials of either (UpdateItem USER#), and the same
    # status-change transaction (for the event and for the meeting link)
    "CalendarSyncFunction": {"GetItem": {"BOOKING#*", "USER#*"}, "Query": {"USER#*"}, "PutItem": {"BOOKING#*"},
                             "UpdateItem": {"USER#*", "BOOKER#*"}},
    # WorkflowRepository.active_on: Query on WORKFLOWSCOPE#, BatchGetItem of WORKFLOW#; a step coming due re-reads
    # its workflow (GetItem WORKFLOW#) and the booking with its seats (GetItem, Query BOOKING#)
    "WorkflowsFunction": {"GetItem": {"BOOKING#*", "WORKFLOW#*"}, "Query": {"BOOKING#*", "WORKFLOWSCOPE#*"},
                          "BatchGetItem": {"WORKFLOW#*"}},
    "PublisherFunction": {},
}
IDEMPOTENCY_PREFIX = {  # Powertools key_prefix: "<feature>.<eventName>" for subscribers (subscribers.py)
    "BookingApiFunction": "booking_api#*",
    "HostsFunction": "hosts.*",
    "WebhooksFunction": "webhooks.*",
    "NotificationsFunction": "notifications.*",
    "PrivateLinksFunction": "private_links.*",
    "RoutingFormsFunction": "routing_forms.*",
    "CalendarSyncFunction": "calendar_sync.*",
    "WorkflowsFunction": "workflows.*",
}
SAM_MANAGED = ("AWSLambdaSQSQueueExecutionRole", "AWSLambdaDynamoDBExecutionRole", "AWSLambdaBasicExecutionRole",
               "AWSXrayWriteOnlyAccess", "AWSLambdaRole", "arn:aws:iam::aws:policy")


def _id(value: Any) -> str | None:
    """The logical id an intrinsic points at ({"Fn::GetAtt": [id, attr]}, {"Ref": id}), else None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_of(function: str) -> dict[str, Any]:
    return RESOURCES[_id(FUNCTIONS[function]["Properties"]["Role"])]


def statements(function: str) -> list[dict[str, Any]]:
    """The role's statements, intrinsics unresolved (so resources read as logical ids)."""
    return [s for p in role_of(function)["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def on(function: str, prefix: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """(action, resource, statement) for every action of `function` in the `prefix` service."""
    return [(action, resource, s) for s in statements(function) for action in _list(s["Action"])
            if action.startswith(prefix) for resource in _list(s["Resource"])]


def sources(function: str, kind: str) -> set[str]:
    return {_id(e["Properties"]["Queue" if kind == "SQS" else "Stream"])
            for e in FUNCTIONS[function]["Properties"].get("Events", {}).values() if e["Type"] == kind}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_its_own_explicit_role_and_no_managed_policy(function):
    props = FUNCTIONS[function]["Properties"]
    assert "Policies" not in props  # with Role set SAM attaches nothing, the event-source managed policies included
    role = role_of(function)
    assert role["Type"] == "AWS::IAM::Role" and "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    users = [f for f in FUNCTIONS if FUNCTIONS[f]["Properties"]["Role"] == props["Role"]]
    assert users == [function]


def test_no_managed_policy_is_named_anywhere():
    text = (ROOT / "template.yaml").read_text()
    assert [name for name in SAM_MANAGED if name in text] == []
    assert "Policies" not in TEMPLATE.get("Globals", {}).get("Function", {})


# Actions IAM cannot scope to a resource, allowed on "*" (tracing everywhere; SMS straight to phone numbers and the
# opt-out check for the workflows feature, whose role denies Publish on every topic).
STAR_RESOURCES = {
    "xray": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
    "sms": {"sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"},
}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_wildcards_except_tracing_and_text_messages(function):
    for s in statements(function):
        assert not any(a == "*" or a.endswith(":*") for a in _list(s["Action"])), s
        if "*" in _list(s["Resource"]):
            actions = set(_list(s["Action"]))
            assert actions == STAR_RESOURCES["xray"] or (function == "WorkflowsFunction"
                                                         and actions == STAR_RESOURCES["sms"]), s


def test_only_workflows_may_publish_and_never_to_a_topic():
    publishers = {f for f in FUNCTIONS for a, _, s in on(f, "sns:") if s["Effect"] == "Allow"}
    assert publishers == {"WorkflowsFunction"}
    [deny] = [s for s in statements("WorkflowsFunction") if s["Effect"] == "Deny"]
    assert deny["Action"] == ["sns:Publish"] and deny["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}
    assert _allowed("WorkflowsFunction", "sns", "Publish", {"PhoneNumber": "+447700900123", "Message": "hi"})
    topic = f"arn:aws:sns:us-east-1:{STACK.resolver.account}:anything"
    assert not _allowed("WorkflowsFunction", "sns", "Publish", {"TopicArn": topic, "Message": "hi"})
    assert not _allowed("NotificationsFunction", "sns", "Publish", {"PhoneNumber": "+447700900123", "Message": "x"})


def test_only_deny_statements_are_the_topic_guard():
    denies = [(f, s) for f in FUNCTIONS for s in statements(f) if s["Effect"] != "Allow"]
    assert [f for f, _ in denies] == ["WorkflowsFunction"]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_logs_only_to_the_functions_own_log_group(function):
    own = _id(FUNCTIONS[function]["Properties"]["LoggingConfig"]["LogGroup"])
    granted = on(function, "logs:")
    assert {action for action, _, _ in granted} == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert {_id(resource) for _, resource, _ in granted} == {own}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_queues_only_the_functions_own(function):
    consumed = sources(function, "SQS")
    for action, resource, _ in on(function, "sqs:"):
        queue = _id(resource)
        if action == "sqs:SendMessage":  # the publisher's stream DLQ; jobs on a feature's own queue
            assert (function, queue) in {("PublisherFunction", "PublisherDLQ"),
                                         ("WebhooksFunction", "WebhookDeliveryQueue"),
                                         ("NotificationsFunction", "NotificationsQueue")}
        else:
            assert action in {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
            assert queue in consumed, f"{function} may {action} on {queue}, not its event source"
    for queue in consumed:  # and every queue it consumes is readable (Lambda polls with this role)
        assert {a for a, r, _ in on(function, "sqs:") if _id(r) == queue} >= {
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_streams_only_the_functions_own(function):
    stream_actions = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                      "dynamodb:ListStreams"}
    granted = [(a, r) for a, r, _ in on(function, "dynamodb:") if a in stream_actions]
    own = sources(function, "DynamoDB")
    if not own:
        assert granted == []
        return
    assert own == {"OutboxTable"}
    assert {a for a, _ in granted} == stream_actions
    for action, resource in granted:
        if action == "dynamodb:ListStreams":
            assert resource == {"Fn::Sub": "${OutboxTable.Arn}/stream/*"}
        else:
            assert resource == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}


def _leading_keys(statement: dict[str, Any]) -> set[str] | None:
    condition = statement.get("Condition", {})
    if not condition:
        return None
    assert condition["Null"] == {"dynamodb:LeadingKeys": "false"}  # ForAllValues alone passes a request without keys
    return set(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])


@pytest.mark.parametrize("function", SUBSCRIBERS + ["PublisherFunction"])
def test_subscribers_reach_only_the_item_kinds_their_code_uses(function):
    grants: dict[str, set[str]] = {}
    for action, resource, s in on(function, "dynamodb:"):
        if _id(resource) != "BookingsTable":
            continue
        prefixes = _leading_keys(s)
        assert prefixes, f"{function}: a statement on the main table without dynamodb:LeadingKeys"
        grants.setdefault(action.removeprefix("dynamodb:"), set()).update(prefixes)
    assert grants == EXPECTED_TABLE_GRANTS[function]


def test_booking_api_reads_and_writes_items_but_never_scans():
    actions = {a for a, r, _ in on("BookingApiFunction", "dynamodb:") if _id(r) == "BookingsTable"}
    assert actions == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                       "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    outbox = {(a, _id(r)) for a, r, _ in on("BookingApiFunction", "dynamodb:") if _id(r) == "OutboxTable"}
    assert outbox == {("dynamodb:PutItem", "OutboxTable")}


def test_only_the_api_queries_the_tables_indexes_and_only_queries_them():
    """Listing and series reads Query the main table's secondary indexes, which are resources of their own."""
    index_grants = [(f, a, s["Resource"]) for f in FUNCTIONS for a, r, s in on(f, "dynamodb:")
                    if isinstance(r, dict) and "/index/" in str(r.get("Fn::Sub", ""))]
    assert index_grants == [("BookingApiFunction", "dynamodb:Query", {"Fn::Sub": "${BookingsTable.Arn}/index/*"})]
    query = {"TableName": TABLE, "IndexName": "ByHost", "KeyConditionExpression": "#0 = :0",
             "ExpressionAttributeNames": {"#0": "hostKey"}, "ExpressionAttributeValues": {":0": {"S": "HOST#1"}}}
    assert _allowed("BookingApiFunction", "dynamodb", "Query", query)
    assert not _allowed("NotificationsFunction", "dynamodb", "Query", query)  # its BOOKING# grant is the table's
    assert not _allowed("CalendarSyncFunction", "dynamodb", "Query", query)


def test_only_the_api_and_calendar_sync_write_events():
    """calendar_sync writes bookingMeetingCreated with the link; every other subscriber only reads events."""
    writers = {f for f in FUNCTIONS for a, r, _ in on(f, "dynamodb:") if _id(r) == "OutboxTable"
               and a == "dynamodb:PutItem"}
    assert writers == {"BookingApiFunction", "CalendarSyncFunction"}
    assert {a for a, r, _ in on("CalendarSyncFunction", "dynamodb:") if _id(r) == "OutboxTable"} == {
        "dynamodb:PutItem"}


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - {"PublisherFunction"}))
def test_idempotency_records_only_in_the_functions_own_key_space(function):
    granted = [s for s in statements(function) if _id(s["Resource"]) == "IdempotencyTable"]
    assert len(granted) == 1
    assert _leading_keys(granted[0]) == {IDEMPOTENCY_PREFIX[function]}
    assert set(granted[0]["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                         "dynamodb:DeleteItem"}


def _kms(function: str) -> dict[str, dict[str, Any]]:
    return {action: s.get("Condition") for action, _, s in on(function, "kms:")}


def test_secrets_open_only_for_their_purpose():
    assert _kms("WebhooksFunction") == {
        "kms:Decrypt": {"StringEquals": {"kms:EncryptionContext:purpose": ["webhook-secret"]}}}
    # IfExists: calendar credentials sealed before purposes existed carry no context
    assert _kms("BookingApiFunction")["kms:Decrypt"] == {
        "StringEqualsIfExists": {"kms:EncryptionContext:purpose": ["calendar-credentials"]}}
    assert _kms("CalendarSyncFunction")["kms:Decrypt"] == {
        "StringEqualsIfExists": {"kms:EncryptionContext:purpose": ["calendar-credentials",
                                                                   "conferencing-credentials"]}}
    assert _kms("BookingApiFunction")["kms:GenerateDataKey"] == {
        "StringEquals": {"kms:EncryptionContext:purpose": ["calendar-credentials", "conferencing-credentials",
                                                           "webhook-secret"]}}
    assert _kms("CalendarSyncFunction")["kms:GenerateDataKey"] == {
        "StringEquals": {"kms:EncryptionContext:purpose": ["calendar-credentials", "conferencing-credentials"]}}
    others = set(FUNCTIONS) - {"BookingApiFunction", "CalendarSyncFunction", "WebhooksFunction"}
    assert {f: _kms(f) for f in others if _kms(f)} == {}


def test_the_scheduler_role_is_passed_only_to_the_scheduler():
    for function in ("WebhooksFunction", "NotificationsFunction", "WorkflowsFunction"):
        [(_, resource, statement)] = on(function, "iam:")
        assert _id(resource) == "SchedulerRole"
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


# -- the policy model the integration suite enforces, on the resolved template -------------------------------------
def _allowed(function: str, service: str, operation: str, params: dict[str, Any]) -> bool:
    found = role_statements(STACK, function)
    return all(permitted(found, request) for request in iam_requests(service, operation, params))


TABLE = STACK.resolver.refs["BookingsTable"]


def test_leading_keys_decide_item_access():
    get = {"TableName": TABLE, "Key": {"pk": {"S": "BOOKING#x"}, "sk": {"S": "BOOKING"}}}
    assert _allowed("NotificationsFunction", "dynamodb", "GetItem", get)
    credentials = {"TableName": TABLE, "Key": {"pk": {"S": "USER#1"}, "sk": {"S": "HC#CALENDAR#1"}}}
    assert not _allowed("NotificationsFunction", "dynamodb", "GetItem", credentials)
    assert not _allowed("WebhooksFunction", "dynamodb", "GetItem", credentials)
    batch = {"RequestItems": {TABLE: {"Keys": [{"pk": {"S": "WEBHOOK#1"}, "sk": {"S": "WEBHOOK"}},
                                               {"pk": {"S": "USER#1"}, "sk": {"S": "HC#CALENDAR#1"}}]}}}
    assert not _allowed("WebhooksFunction", "dynamodb", "BatchGetItem", batch)  # every key must match


def test_a_request_without_leading_keys_is_refused_even_by_for_all_values():
    """ForAllValues is true for an empty set: the Null condition is what refuses a Scan."""
    assert not _allowed("CalendarSyncFunction", "dynamodb", "Scan", {"TableName": TABLE})
    statement = next(s for s in role_statements(STACK, "CalendarSyncFunction")
                     if s.get("Sid") == "ReadOrganizerConfiguration")
    without_null = {**statement, "Action": ["dynamodb:Scan"], "Condition": {
        "ForAllValues:StringLike": statement["Condition"]["ForAllValues:StringLike"]}}
    assert allows(without_null, IamRequest("dynamodb:Scan", statement["Resource"], {}))


def test_kms_purpose_conditions():
    key = STACK.resolver.attrs[("CredentialsKey", "Arn")]

    def decrypt(function: str, context: dict[str, str] | None) -> bool:
        params = {"CiphertextBlob": b"x", "KeyId": key, **({"EncryptionContext": context} if context else {})}
        return _allowed(function, "kms", "Decrypt", params)

    assert decrypt("WebhooksFunction", {"purpose": "webhook-secret"})
    assert not decrypt("WebhooksFunction", {"purpose": "calendar-credentials"})
    assert not decrypt("WebhooksFunction", None)
    assert decrypt("CalendarSyncFunction", {"purpose": "calendar-credentials"})
    assert decrypt("CalendarSyncFunction", {"purpose": "conferencing-credentials"})  # Zoom
    assert decrypt("CalendarSyncFunction", None)  # a v1 credential
    assert not decrypt("CalendarSyncFunction", {"purpose": "webhook-secret"})
    assert not decrypt("BookingApiFunction", {"purpose": "webhook-secret"})
    assert not decrypt("BookingApiFunction", {"purpose": "conferencing-credentials"})  # sealed there, never opened
    assert not decrypt("NotificationsFunction", {"purpose": "conferencing-credentials"})


# -- concurrency, TTL, access logs --------------------------------------------------------------------------------
PARAMETERS = TEMPLATE["Parameters"]


@pytest.mark.parametrize(("function", "parameter", "default"), [
    ("BookingApiFunction", "BookingApiReservedConcurrency", 100),
    ("WebhooksFunction", "WebhooksReservedConcurrency", 20),
])
def test_reserved_concurrency(function, parameter, default):
    assert FUNCTIONS[function]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": parameter}
    assert PARAMETERS[parameter]["Type"] == "Number" and PARAMETERS[parameter]["Default"] == default


def test_webhooks_polling_never_exceeds_its_reservation():
    """Lambda throttles SQS pollers above a function's reserved concurrency, and throttled messages count receives
    towards the DLQ: the queues' maximum concurrency fits the smallest reservation the template accepts."""
    events = FUNCTIONS["WebhooksFunction"]["Properties"]["Events"].values()
    polling = sum(e["Properties"]["ScalingConfig"]["MaximumConcurrency"] for e in events if e["Type"] == "SQS")
    assert polling <= PARAMETERS["WebhooksReservedConcurrency"]["MinValue"]


def test_functions_without_a_reservation_have_none():
    reserved = {f for f, spec in FUNCTIONS.items() if "ReservedConcurrentExecutions" in spec["Properties"]}
    assert reserved == {"BookingApiFunction", "WebhooksFunction"}


def test_the_main_table_expires_items_by_the_attribute_the_code_writes():
    from booking_core.repositories.tables import TTL_ATTRIBUTE

    spec = RESOURCES["BookingsTable"]["Properties"]["TimeToLiveSpecification"]
    assert spec == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_the_access_log_names_the_route_not_the_path():
    """Paths carry booking and payment uids (enough to cancel a booking); the route key does not."""
    log_format = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    fields = json.loads(log_format)
    assert fields["routeKey"] == "$context.routeKey"
    assert not [v for v in fields.values() if any(p in v for p in ("$context.path", "$context.resourcePath",
                                                                    "$context.domainName"))]
