"""Logs and metrics for CloudWatch, through Powertools: JSON logs carrying the order id as the
correlation id, and counters published as EMF (no PutMetricData call, no extra IAM).

Both are built on first use, so a route that counts nothing (a card view) imports neither.
Call sites stay one line: `observability.count("holds")`, `observability.order_context(order_id)`.
"""
from __future__ import annotations

import logging
import os

NAMESPACE = "tapcard"
SERVICE = "tapcard"
# The counters tapcard publishes; a dashboard or alarm can rely on these names.
COUNTERS = ("holds", "paid", "sold_out_taps", "expired_holds", "refunds", "disputes", "share_failures")

_logger = None
_metrics = None


def logger():
    """The Powertools JSON logger; chalicelib's own loggers write through its formatter too."""
    global _logger
    if _logger is None:
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

        _logger = Logger(service=SERVICE, level=os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
        # The app's own log (chalice's app.log has this name) writes JSON now, and only once.
        app_log = logging.getLogger(SERVICE)
        for handler in [h for h in app_log.handlers if h is not _logger.registered_handler]:
            app_log.removeHandler(handler)
        copy_config_to_registered_loggers(source_logger=_logger, include={
            name for name in logging.root.manager.loggerDict if name.startswith("chalicelib")})
    return _logger


def metrics():
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools import Metrics

        _metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
    return _metrics


def count(name: str, value: int = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    if name not in COUNTERS:
        raise ValueError(f"unknown counter {name!r}; add it to COUNTERS")
    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def order_context(order_id: str | None) -> None:
    """Every log line from here to the end of the invocation carries this order id."""
    if order_id:
        logger().set_correlation_id(order_id)


def end_invocation() -> None:
    """Publish the invocation's counters (as one EMF log line, on Lambda) and forget the order id."""
    if _metrics is not None:
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            _metrics.flush_metrics()
        else:  # the local stack and tests: no CloudWatch to read EMF lines, so keep stdout quiet
            _metrics.clear_metrics()
    if _logger is not None:
        _logger.set_correlation_id(None)
