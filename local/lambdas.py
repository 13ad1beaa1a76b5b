"""Lambda runtime emulation: each function runs in 'containers', fresh copies of its handler module.

A Lambda container handles one invocation at a time and keeps module state between invocations. The pool hands
each invocation an idle container, creating one when all are busy, so concurrent requests never share a resolver's
current event, just as in AWS.

Unlike AWS, every container lives in this one process and shares the modules its handler imports. Powertools'
event handler keeps the request on its base class (`ApiGatewayResolver.resolve` assigns `BaseRouter.current_event`
and `BaseRouter.lambda_context`), harmless with one invocation per process, but here two containers resolving at
once read each other's request (a GET /v2/slots validated against a POST's empty query string). `load_handler`
therefore gives each resolver instance its own (`_resolver_keeps_its_own_request`);
tests/integration/test_lambda_emulation.py fails without it.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.provision import ACCOUNT, REGION, FunctionSpec

_counter = itertools.count(1)
_import_lock = threading.Lock()
# The code directory of the function whose invocation is running (tests attribute AWS calls to it: tests/iam_policy.py).
invoking: ContextVar[Path | None] = ContextVar("invoking", default=None)


@dataclass
class LambdaContext:
    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def add_to_path(*directories: Path) -> None:
    for directory in directories:
        text = str(directory)
        if text not in sys.path:
            sys.path.insert(0, text)


def _resolver_keeps_its_own_request() -> None:
    """Each Powertools resolver instance keeps the event and Lambda context of the invocation it is resolving, on
    itself: what it and its routes read (`app.current_event`, `app.lambda_context`) is then its own request, whatever
    another container's resolver assigns to the shared base class meanwhile (see the module docstring)."""
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseProxyEvent

    original = ApiGatewayResolver.resolve
    if getattr(original, "keeps_its_own_request", False):
        return

    def resolve(self: Any, event: Any, context: Any) -> Any:
        raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
        self.current_event = self._to_proxy_event(raw)
        self.lambda_context = context
        return original(self, event, context)

    resolve.keeps_its_own_request = True  # type: ignore[attr-defined]
    ApiGatewayResolver.resolve = resolve  # type: ignore[method-assign]


def load_handler(code_dir: Path, module_file: Path, handler_name: str, label: str) -> Callable[[Any, Any], Any]:
    """Import a fresh copy of a function's handler module (its own globals) and return the handler."""
    add_to_path(code_dir)
    name = f"lambda_{label}_{next(_counter)}"
    with _import_lock:
        _resolver_keeps_its_own_request()
        spec = importlib.util.spec_from_file_location(name, module_file)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    handler = getattr(module, handler_name)

    @functools.wraps(handler)  # keeps __module__: tests reach the handler's module through it
    def invoke(event: Any, context: Any) -> Any:
        token = invoking.set(code_dir)
        try:
            return handler(event, context)
        finally:
            invoking.reset(token)

    return invoke


class FunctionPool:
    """Idle containers of one function; invoke() borrows one (or starts one) for the call."""

    def __init__(self, spec: FunctionSpec, max_containers: int = 128) -> None:
        self.spec = spec
        self._idle: list[Callable[[Any, Any], Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_containers)

    def _new_container(self) -> Callable[[Any, Any], Any]:
        return load_handler(self.spec.code_dir, self.spec.module_file, self.spec.handler_name, self.spec.logical_id)

    def warm(self) -> None:
        container = self._new_container()
        with self._lock:
            self._idle.append(container)

    def invoke(self, event: Any) -> Any:
        with self._slots:
            with self._lock:
                container = self._idle.pop() if self._idle else None
            if container is None:
                container = self._new_container()
            try:
                context = LambdaContext(function_name=physical_function_name(self.spec), timeout_seconds=self.spec.timeout)
                return container(event, context)
            finally:
                with self._lock:
                    self._idle.append(container)


def physical_function_name(spec: FunctionSpec) -> str:
    return f"local-{spec.logical_id}"
