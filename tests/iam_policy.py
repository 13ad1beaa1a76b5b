"""The template's IAM policies, evaluated on the AWS calls the real handlers make against moto.

moto does not enforce IAM, so the integration suite installs a `PolicyGuard`: a botocore hook on every client that,
when a call is made on behalf of a function (inside an invocation: `local.lambdas.invoking`, carried into the
`gather` pool's threads), turns the request into the IAM requests AWS would evaluate (action, resource ARN, condition
keys: `dynamodb:LeadingKeys`, `kms:EncryptionContext:purpose`, `iam:PassedToService`) and checks them against the
inline policy of that function's role in template.yaml. A call no statement allows is recorded as a violation.

It is a model of IAM, deliberately small: Allow and Deny statements (an explicit Deny wins), Action and Resource
wildcards, and the condition operators the template uses; an operator or an operation it does not know is a
violation too, so the model cannot silently pass what it does not understand. The calls Lambda itself makes with the
role (polling queues and the stream, writing logs and traces) happen outside invocations here; the static checks in
tests/unit/test_iam.py cover those.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from local.cfn import resources
from local.provision import ACCOUNT, REGION

HASH_KEYS = ("pk", "id", "eventId")  # the hash key names of the template's tables


@dataclass(frozen=True)
class IamRequest:
    action: str
    resource: str
    context: dict[str, list[str]]


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    return fnmatchcase(value, pattern)


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, list[str]]) -> bool:
    present = key in context
    values = context.get(key, [])
    wanted = [str(item) for item in _listify(expected)]
    if operator == "Null":
        return (not present) == (str(expected).lower() == "true")
    if operator == "ForAllValues:StringLike":
        return all(any(_matches(w, v) for w in wanted) for v in values)
    if operator in ("StringEquals", "StringLike", "StringEqualsIfExists"):
        if not present:
            return operator.endswith("IfExists")
        compare = _matches if operator == "StringLike" else (lambda w, v: w == v)
        return all(any(compare(w, v) for w in wanted) for v in values)
    raise NotImplementedError(f"condition operator {operator} is not modelled")


def _applies(statement: dict[str, Any], request: IamRequest) -> bool:
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise NotImplementedError(f"effect {statement.get('Effect')!r} is not modelled")
    if "NotAction" in statement or "NotResource" in statement:
        raise NotImplementedError("NotAction / NotResource are not modelled")
    if not any(_matches(a.lower(), request.action.lower()) for a in _listify(statement["Action"])):
        return False
    if not any(_matches(r, request.resource) for r in _listify(statement["Resource"])):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, request.context):
                return False
    return True


def allows(statement: dict[str, Any], request: IamRequest) -> bool:
    return statement.get("Effect") == "Allow" and _applies(statement, request)


def denies(statement: dict[str, Any], request: IamRequest) -> bool:
    return statement.get("Effect") == "Deny" and _applies(statement, request)


def permitted(statements: list[dict[str, Any]], request: IamRequest) -> bool:
    """IAM's decision for one request: no Deny applies and some Allow does."""
    return not any(denies(s, request) for s in statements) and any(allows(s, request) for s in statements)


# -- requests -> IAM requests ------------------------------------------------------------------------------------------
def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _hash_value(key: dict[str, Any]) -> str:
    for name in HASH_KEYS:
        if name in key:
            return next(iter(key[name].values()))
    raise ValueError(f"no known hash key in {sorted(key)}")


def _query_hash_value(params: dict[str, Any]) -> str:
    names = {placeholder: name for placeholder, name in params.get("ExpressionAttributeNames", {}).items()}
    expression = params["KeyConditionExpression"]
    for placeholder, name in names.items():
        if name in HASH_KEYS:
            match = re.search(rf"{re.escape(placeholder)}\s*=\s*(:\w+)", expression)
            if match:
                return next(iter(params["ExpressionAttributeValues"][match.group(1)].values()))
    raise ValueError(f"no hash key condition in {expression!r}")


def _index_hash_value(params: dict[str, Any]) -> str:
    """The value of the first equality in the key condition: an index's partition key."""
    match = re.search(r"(?<![<>])=\s*(:\w+)", params["KeyConditionExpression"])
    if match is None:
        raise ValueError(f"no partition key condition in {params['KeyConditionExpression']!r}")
    return next(iter(params["ExpressionAttributeValues"][match.group(1)].values()))


def _item_request(action: str, table: str, key: dict[str, Any]) -> IamRequest:
    return IamRequest(f"dynamodb:{action}", _table_arn(table), {"dynamodb:LeadingKeys": [_hash_value(key)]})


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _dynamodb(operation: str, params: dict[str, Any]) -> list[IamRequest]:
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        return [_item_request(operation, params["TableName"], params["Key"])]
    if operation == "PutItem":
        return [_item_request(operation, params["TableName"], params["Item"])]
    if operation == "Query" and "IndexName" in params:  # an index is its own resource; its partition key leads
        return [IamRequest("dynamodb:Query", f"{_table_arn(params['TableName'])}/index/{params['IndexName']}",
                           {"dynamodb:LeadingKeys": [_index_hash_value(params)]})]
    if operation == "Query":
        return [IamRequest("dynamodb:Query", _table_arn(params["TableName"]),
                           {"dynamodb:LeadingKeys": [_query_hash_value(params)]})]
    if operation == "BatchGetItem":
        return [IamRequest("dynamodb:BatchGetItem", _table_arn(table),
                           {"dynamodb:LeadingKeys": sorted({_hash_value(key) for key in spec["Keys"]})})
                for table, spec in params["RequestItems"].items()]
    if operation == "TransactWriteItems":
        out = []
        for entry in params["TransactItems"]:
            (kind, body), = entry.items()
            out.append(_item_request(_TRANSACT[kind], body["TableName"], body.get("Key") or body["Item"]))
        return out
    if operation == "TransactGetItems":
        return [_item_request("GetItem", e["Get"]["TableName"], e["Get"]["Key"]) for e in params["TransactItems"]]
    # Scan, PartiQL, BatchWriteItem, DescribeTable...: checked against the table with no LeadingKeys at all
    table = params.get("TableName", "*")
    return [IamRequest(f"dynamodb:{operation}", _table_arn(table), {})]


def _sqs(operation: str, params: dict[str, Any]) -> list[IamRequest]:
    name = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
    action = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}.get(operation, operation)
    return [IamRequest(f"sqs:{action}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", {})]


def _events(operation: str, params: dict[str, Any]) -> list[IamRequest]:
    if operation != "PutEvents":
        raise NotImplementedError(operation)
    out = []
    for entry in params["Entries"]:
        bus = entry.get("EventBusName", "default")
        arn = bus if bus.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
        out.append(IamRequest("events:PutEvents", arn, {}))
    return out


def _scheduler(operation: str, params: dict[str, Any]) -> list[IamRequest]:
    group = params.get("GroupName", "default")
    out = [IamRequest(f"scheduler:{operation}",
                      f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{params['Name']}", {})]
    role = params.get("Target", {}).get("RoleArn")
    if role:
        out.append(IamRequest("iam:PassRole", role, {"iam:PassedToService": ["scheduler.amazonaws.com"]}))
    return out


def _sesv2(operation: str, params: dict[str, Any]) -> list[IamRequest]:
    if operation != "SendEmail":
        raise NotImplementedError(operation)
    sender = params["FromEmailAddress"]
    return [IamRequest("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}", {})]


def _sns(operation: str, params: dict[str, Any]) -> list[IamRequest]:
    """A Publish straight to a phone number has no resource ARN (IAM policies name it "*"); one to a topic or an
    endpoint names that ARN. CheckIfPhoneNumberIsOptedOut has no resource either."""
    if operation == "Publish":
        target = params.get("TopicArn") or params.get("TargetArn")
        return [IamRequest("sns:Publish", target or "*", {})]
    if operation == "CheckIfPhoneNumberIsOptedOut":
        return [IamRequest("sns:CheckIfPhoneNumberIsOptedOut", "*", {})]
    raise NotImplementedError(operation)


def _kms(operation: str, params: dict[str, Any], keys: dict[str, str]) -> list[IamRequest]:
    key = params.get("KeyId") or next(iter(keys.values()), "*")
    arn = keys.get(key, key)
    context = {f"kms:EncryptionContext:{k}": [v] for k, v in params.get("EncryptionContext", {}).items()}
    return [IamRequest(f"kms:{operation}", arn, context)]


def iam_requests(service: str, operation: str, params: dict[str, Any],
                 kms_keys: dict[str, str] | None = None) -> list[IamRequest]:
    """The IAM requests AWS would evaluate for one API call."""
    if service == "dynamodb":
        return _dynamodb(operation, params)
    if service == "sqs":
        return _sqs(operation, params)
    if service == "events":
        return _events(operation, params)
    if service == "scheduler":
        return _scheduler(operation, params)
    if service == "sesv2":
        return _sesv2(operation, params)
    if service == "kms":
        return _kms(operation, params, kms_keys or {})
    if service == "sns":
        return _sns(operation, params)
    raise NotImplementedError(f"{service}:{operation}")


# -- the template's policies -------------------------------------------------------------------------------------------
def role_statements(stack: Any, function: str) -> list[dict[str, Any]]:
    """The resolved statements of `function`'s role (its inline policies)."""
    role_ref = stack.template["Resources"][function]["Properties"]["Role"]
    role = stack.template["Resources"][role_ref["Fn::GetAtt"][0]]
    statements: list[dict[str, Any]] = []
    for policy in role["Properties"].get("Policies", []):
        statements.extend(stack.resolver.resolve(policy["PolicyDocument"]["Statement"]))
    return statements


@dataclass
class Violation:
    function: str
    call: str
    request: IamRequest

    def __str__(self) -> str:
        request = self.request
        return f"{self.function}: {self.call} needs {request.action} on {request.resource} {request.context}"


class _ContextExecutor(ThreadPoolExecutor):
    """Runs each submitted call in a copy of the submitter's context (so `invoking` follows it into the pool)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class PolicyGuard:
    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.functions = {spec.code_dir.resolve(): logical for logical, spec in stack.functions.items()}
        self.statements = {logical: role_statements(stack, logical) for logical in stack.functions}
        self.kms_keys = {stack.resolver.refs[k]: stack.resolver.attrs[(k, "Arn")]
                         for k in resources(stack.template, "AWS::KMS::Key")}
        self.violations: list[Violation] = []
        self.checked: Counter[str] = Counter()  # calls checked, by function
        self._lock = threading.Lock()

    def install(self) -> PolicyGuard:
        import botocore.session

        from booking_core import concurrency

        original = botocore.session.Session.create_client
        guard = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", guard._check)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        concurrency._executor = _ContextExecutor(max_workers=16, thread_name_prefix="io")
        return self

    def _check(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        from local.lambdas import invoking

        code_dir = invoking.get()
        if code_dir is None:
            return None  # the test itself, a poller, the emulator: not a function's call
        function = self.functions[Path(code_dir).resolve()]
        service, operation = model.service_model.service_name, model.name
        call = f"{service}:{operation}"
        try:
            requests = iam_requests(service, operation, params, self.kms_keys)
        except NotImplementedError as exc:
            requests = [IamRequest(f"unmodelled:{exc}", "*", {})]
        with self._lock:
            self.checked[function] += 1
            for request in requests:
                if not permitted(self.statements[function], request):
                    self.violations.append(Violation(function, call, request))
        return None

    def mark(self) -> int:
        with self._lock:
            return len(self.violations)

    def since(self, mark: int) -> list[Violation]:
        with self._lock:
            return self.violations[mark:]

    @contextmanager
    def expecting_violations(self) -> Iterator[list[Violation]]:
        """Collect (and take out of the record) the violations of the block: for tests of the guard itself."""
        found: list[Violation] = []
        mark = self.mark()
        try:
            yield found
        finally:
            with self._lock:
                found.extend(self.violations[mark:])
                del self.violations[mark:]
