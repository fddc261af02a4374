"""Prometheus metrics, served as plain text at ``GET /metrics``.

Every call to Skatteverket costs a fee and time, so each one is counted by outcome,
timed, and lookups answered without a call (cache, open circuit) are counted too. The
access log's rows and failed writes (each a withheld answer) are counted as well, and
so are requests refused because the database could not be reached, and the fast
engine's compiled readers that raised (the answer was right, but slower).
Counts are per process: with several workers, scrape each (or run one worker per
container); the imports' (``api/import_metrics.py``) are read from the ledger, the same
in every worker.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from api.import_metrics import import_registry
from schema.engine.plan import Fallback

SKATTEVERKET_CALLS = Counter(
    "vastfolket_skatteverket_calls",
    "HTTP lookups sent to Skatteverket, by outcome: found, not_found, protected, timeout, "
    "connection_error, bad_status, invalid, cancelled.",
    ["outcome"],
)
SKATTEVERKET_CALL_SECONDS = Histogram(
    "vastfolket_skatteverket_call_seconds",
    "Duration of HTTP lookups sent to Skatteverket, retry included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)
SKATTEVERKET_SKIPPED = Counter(
    "vastfolket_skatteverket_skipped",
    "Fallback lookups answered without a call: cache_hit, or circuit_open (refused).",
    ["reason"],
)


ACCESS_LOG_ROWS = Counter(
    "vastfolket_access_log_rows", "Access log rows written (persons shown, attempts, searches)."
)
ACCESS_LOG_FAILURES = Counter(
    "vastfolket_access_log_failures",
    "Requests whose access log could not be written; their answers were withheld.",
)
DATABASE_UNAVAILABLE_REFUSALS = Counter(
    "vastfolket_database_unavailable",
    "Requests refused (HTTP 503) because the database could not be reached.",
)


COMPILED_READER_FAILURES = Counter(
    "vastfolket_compiled_reader_failures",
    "Compiled readers of the fast engine that raised, by object type and reason: fallback "
    "(a value only the general path answers, e.g. relations not loaded ahead) or error "
    "(a defect, logged at DEBUG by vastfolket.engine); the general path answered instead.",
    ["type", "reason"],
)


class EngineMetrics:
    """The engine's observer: it counts, the engine stays free of Prometheus."""

    def reader_failed(self, type_name: str, error: Exception) -> None:
        reason = "fallback" if isinstance(error, Fallback) else "error"
        COMPILED_READER_FAILURES.labels(type_name, reason).inc()


class SkatteverketMetrics:
    """The client's observer: it counts, the client stays free of Prometheus."""

    def called(self, outcome: str, seconds: float) -> None:
        SKATTEVERKET_CALLS.labels(outcome).inc()
        SKATTEVERKET_CALL_SECONDS.observe(seconds)

    def skipped(self, reason: str) -> None:
        SKATTEVERKET_SKIPPED.labels(reason).inc()


async def metrics(request: Request) -> Response:
    imports = await import_registry(request.app.state.database)
    return Response(generate_latest() + generate_latest(imports), media_type=CONTENT_TYPE_LATEST)
