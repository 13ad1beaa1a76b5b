"""Powertools Logger, Metrics and Tracer shared by every function, and helpers that keep PII out of logs."""

from __future__ import annotations

import time
import warnings
from collections.abc import Generator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from booking_core.config import settings

SERVICE = "booking-service"
NAMESPACE = "BookingService"

# A request that emits no metric of its own is normal (reads, refusals before any phase ran).
warnings.filterwarnings("ignore", message="No application metrics to publish")



class _Segment(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class NoTracingProvider(BaseProvider):
    """Used while SDK tracing is off: the X-Ray SDK creates an AWS client when it is imported (about 300 ms of
    cold start), which is only worth paying when subsegments are wanted. Lambda's Active tracing still records
    every invocation without it."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Segment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any):  # type: ignore[override]
        yield _Segment()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Sequence[str]) -> None: ...
    def patch_all(self) -> None: ...


def _tracer() -> Tracer:
    if settings().powertools_trace_disabled:
        return Tracer(service=SERVICE, disabled=True, auto_patch=False, provider=NoTracingProvider())
    return Tracer(service=SERVICE)


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = _tracer()


def mask_email(email: str | None) -> str | None:
    """'jane.doe@example.com' -> 'j***@example.com': enough to correlate, not enough to identify."""
    if not email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_uid(uid: str | None) -> str | None:
    """A booking, seat or payment uid is enough to cancel or pay: logs keep its first 6 characters (enough to
    correlate with what the caller holds), never the whole."""
    if not uid:
        return uid
    return f"{uid[:6]}…"


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Emit one metric with its own dimensions (flushed immediately as EMF)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=dim)


@contextmanager
def phase_timer(phase: str) -> Iterator[None]:
    """Record a pipeline phase's duration as the PhaseDuration metric (dimension: phase)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        with single_metric(
            name="PhaseDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name="phase", value=phase)
