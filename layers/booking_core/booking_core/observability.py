"""Powertools Logger, Metrics and Tracer shared by every function, and helpers that keep PII out of logs."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "booking-service"
NAMESPACE = "BookingService"

# A request that emits no metric of its own is normal (reads, refusals before any phase ran).
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def mask_email(email: str | None) -> str | None:
    """'jane.doe@example.com' -> 'j***@example.com': enough to correlate, not enough to identify."""
    if not email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str | None) -> str | None:
    """'+442071838750' -> '+44*******50'."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:]


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
