"""Create the template's AWS resources in the emulator and describe its functions, from template.yaml alone.

Emulated: DynamoDB tables (streams, TTL), SQS queues (redrive), EventBridge buses, rules and their SQS targets, and
every AWS::Serverless::Function with its environment and its SQS / DynamoDB stream event sources. Resources the
emulator does not need (log groups, alarms, policies, the HTTP API, secrets) resolve to placeholders.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import ROOT, Resolver, load_template, resources

STACK_NAME = "local"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# Variables the local stack sets itself instead of taking them from the template.
LOCAL_OVERRIDES = {"ADMIN_API_KEY_SECRET_ARN", "STRIPE_API_KEY_SECRET_ARN", "STRIPE_WEBHOOK_SECRET_SECRET_ARN",
                   "CREDENTIALS_KMS_KEY_ID", "PAYMENT_PROVIDER", "RATE_LIMIT_PER_IP_PER_MINUTE",
                   "RATE_LIMIT_PER_EMAIL_PER_HOUR"}
# What the local stack (and the tests) change on purpose: webhooks reach loopback receivers and retry in seconds;
# calendar credentials are sealed with a fixed development key instead of KMS (never use it anywhere else).
LOCAL_ENVIRONMENT = {
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOK_BACKOFF_SECONDS": "1",
    "CREDENTIALS_LOCAL_KEY": "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1hLXNlY3I=",
    # booker tokens are HS256 with BOOKER_JWT_SECRET and need no issuer or audience locally (exp is still required)
    "BOOKER_JWT_ISSUER": "",
    "BOOKER_JWT_AUDIENCE": "",
}


# Provider endpoints (calendars, meeting apps) a developer or the e2e suite may point at local fakes: a value in the
# process environment wins over the template's.
ENDPOINT_VARIABLES = ("GOOGLE_CALENDAR_BASE_URL", "GOOGLE_OAUTH_URL", "MICROSOFT_GRAPH_BASE_URL",
                      "MICROSOFT_OAUTH_URL", "ZOOM_API_BASE_URL", "ZOOM_OAUTH_URL")


def physical_name(logical_id: str) -> str:
    return f"{STACK_NAME}-{logical_id}"


@dataclass
class EventSource:
    kind: str  # "SQS" or "DynamoDB"
    arn: str
    batch_size: int
    filters: list[dict[str, Any]] = field(default_factory=list)
    report_batch_item_failures: bool = False


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    sources: list[EventSource]
    timeout: int
    http_api: bool = False

    @property
    def module_file(self) -> Path:
        return self.code_dir / (self.handler.rsplit(".", 1)[0] + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass
class Stack:
    template: dict[str, Any]
    resolver: Resolver
    functions: dict[str, FunctionSpec]
    layer_dirs: list[Path]
    queue_urls: dict[str, str]  # arn -> url
    stream_arns: dict[str, str]  # table logical id -> stream arn

    def environment(self) -> dict[str, str]:
        """The union of every function's environment (one process runs them all, so a name may not disagree),
        with the local stack's deliberate overrides."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            for key, value in spec.environment.items():
                if key in merged and merged[key] != value:
                    raise ValueError(f"functions disagree on {key}: {merged[key]!r} vs {value!r}")
                merged[key] = value
        endpoints = {key: os.environ[key] for key in ENDPOINT_VARIABLES if os.environ.get(key)}
        return {**merged, **LOCAL_ENVIRONMENT, **endpoints}


def _static_resolver(template: dict[str, Any]) -> Resolver:
    """Every Ref and GetAtt the template can use, computed from names alone (nothing is created)."""
    resolver = Resolver(template, stack_name=STACK_NAME, region=REGION, account=ACCOUNT)
    for logical, spec in template.get("Resources", {}).items():
        kind = spec["Type"]
        name = physical_name(logical)
        if kind == "AWS::DynamoDB::Table":
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            resolver.refs[logical] = name
            resolver.attrs[(logical, "Arn")] = arn
        elif kind == "AWS::SQS::Queue":
            resolver.refs[logical] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
            resolver.attrs[(logical, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            resolver.attrs[(logical, "QueueName")] = name
        elif kind == "AWS::Events::EventBus":
            bus = resolver.resolve(spec["Properties"]["Name"]) if "Name" in spec.get("Properties", {}) else name
            resolver.refs[logical] = bus
            resolver.attrs[(logical, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
            resolver.attrs[(logical, "Name")] = bus
        elif kind == "AWS::Scheduler::ScheduleGroup":
            group = resolver.resolve(spec["Properties"]["Name"]) if "Name" in spec.get("Properties", {}) else name
            resolver.refs[logical] = group
            resolver.attrs[(logical, "Arn")] = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{group}"
        elif kind == "AWS::Events::Rule":
            resolver.refs[logical] = name
            resolver.attrs[(logical, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
        else:
            resolver.refs[logical] = name
            resolver.attrs[(logical, "Arn")] = f"arn:aws:local:{REGION}:{ACCOUNT}:{logical}"
    return resolver


def describe(template: dict[str, Any] | None = None) -> Stack:
    """The stack as the template declares it: names, functions and their environments (no AWS calls)."""
    template = template or load_template()
    resolver = _static_resolver(template)
    globals_fn = template.get("Globals", {}).get("Function", {})
    global_env = globals_fn.get("Environment", {}).get("Variables", {})
    functions: dict[str, FunctionSpec] = {}
    stream_arns: dict[str, str] = {}
    for logical, spec in resources(template, "AWS::DynamoDB::Table").items():
        if "StreamSpecification" in spec["Properties"]:
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical_name(logical)}/stream/local"
            stream_arns[logical] = arn
            resolver.attrs[(logical, "StreamArn")] = arn
    for logical, spec in resources(template, "AWS::Serverless::Function").items():
        props = spec["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        environment = {k: str(resolver.resolve(v)) for k, v in env.items() if k not in LOCAL_OVERRIDES}
        sources = []
        for event in props.get("Events", {}).values():
            kind = event["Type"]
            if kind not in {"SQS", "DynamoDB"}:
                continue
            event_props = event["Properties"]
            arn = resolver.resolve(event_props["Queue"] if kind == "SQS" else event_props["Stream"])
            filters = [json.loads(f["Pattern"]) for f in event_props.get("FilterCriteria", {}).get("Filters", [])]
            sources.append(
                EventSource(
                    kind=kind,
                    arn=arn,
                    batch_size=int(event_props.get("BatchSize", 10)),
                    filters=filters,
                    report_batch_item_failures="ReportBatchItemFailures"
                    in event_props.get("FunctionResponseTypes", []),
                )
            )
        functions[logical] = FunctionSpec(
            logical_id=logical,
            code_dir=ROOT / props["CodeUri"],
            handler=props["Handler"],
            environment=environment,
            sources=sources,
            timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            http_api=any(event["Type"] == "HttpApi" for event in props.get("Events", {}).values()),
        )
    layer_dirs = [
        ROOT / spec["Properties"]["ContentUri"]
        for spec in resources(template, "AWS::Serverless::LayerVersion").values()
    ]
    return Stack(
        template=template,
        resolver=resolver,
        functions=functions,
        layer_dirs=layer_dirs,
        queue_urls={},
        stream_arns=stream_arns,
    )


def provision(stack: Stack, session: Any) -> Stack:
    """Create the emulated resources in the AWS endpoint `session` talks to; fills queue URLs and stream ARNs."""
    template, resolver = stack.template, stack.resolver
    dynamodb = session.client("dynamodb")
    for logical, spec in resources(template, "AWS::DynamoDB::Table").items():
        props = spec["Properties"]
        args: dict[str, Any] = {
            "TableName": resolver.refs[logical],
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": props["StreamSpecification"]["StreamViewType"],
            }
        table = dynamodb.create_table(**args)["TableDescription"]
        if "StreamSpecification" in props:
            stack.stream_arns[logical] = table["LatestStreamArn"]
            resolver.attrs[(logical, "StreamArn")] = table["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(
                TableName=resolver.refs[logical],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )

    sqs = session.client("sqs")
    queues = resources(template, "AWS::SQS::Queue")
    for logical, spec in queues.items():
        props = spec.get("Properties", {})
        attributes = {
            key: str(props[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds") if key in props
        }
        url = sqs.create_queue(QueueName=resolver.attrs[(logical, "QueueName")], Attributes=attributes)["QueueUrl"]
        resolver.refs[logical] = url
        stack.queue_urls[resolver.attrs[(logical, "Arn")]] = url
    for logical, spec in queues.items():
        redrive = spec.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            policy = resolver.resolve(redrive)
            sqs.set_queue_attributes(
                QueueUrl=resolver.refs[logical],
                Attributes={"RedrivePolicy": json.dumps({k: str(v) for k, v in policy.items()})},
            )

    scheduler = session.client("scheduler")
    for logical in resources(template, "AWS::Scheduler::ScheduleGroup"):
        scheduler.create_schedule_group(Name=resolver.refs[logical])
    sesv2 = session.client("sesv2")
    for spec in resources(template, "AWS::SES::EmailIdentity").values():
        sesv2.create_email_identity(EmailIdentity=resolver.resolve(spec["Properties"]["EmailIdentity"]))

    events = session.client("events")
    for logical in resources(template, "AWS::Events::EventBus"):
        events.create_event_bus(Name=resolver.refs[logical])
    for logical, spec in resources(template, "AWS::Events::Rule").items():
        props = resolver.resolve(spec["Properties"])
        bus = props.get("EventBusName", "default")
        events.put_rule(Name=resolver.refs[logical], EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
        events.put_targets(
            Rule=resolver.refs[logical],
            EventBusName=bus,
            Targets=[{"Id": target["Id"], "Arn": target["Arn"]} for target in props.get("Targets", [])],
        )

    for spec in stack.functions.values():  # stream ARNs are known only now
        for source in spec.sources:
            if source.kind == "DynamoDB" and source.arn.endswith("/stream/local"):
                table = source.arn.split("/")[1]
                logical = table.removeprefix(f"{STACK_NAME}-")
                source.arn = stack.stream_arns[logical]
    return stack
