"""The imports' metrics, read from the ledger on the primary at each scrape.

Every worker shows them, whichever process imported: the ledger (``import_file``) is the
one record of what was applied. Reading it is one small aggregate, bounded in time; a
scrape answers whatever the database does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from resolvers.db import Database
from resolvers.imports import ledger

logger = logging.getLogger(__name__)

# A scrape waits this long for the ledger at most; past it the import metrics are left out.
LEDGER_TIMEOUT_SECONDS = 0.5


class ImportLedger(Collector):
    """The ledger's totals as metrics; only ``vastfolket_import_ledger_up`` 0 when it could
    not be read."""

    def __init__(self, totals: ledger.Totals | None) -> None:
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "vastfolket_import_ledger_up",
            "1 when the import ledger could be read for this scrape, else 0.",
            value=0 if self.totals is None else 1,
        )
        if self.totals is None:
            return
        files = CounterMetricFamily(
            "vastfolket_import_files", "Delivery files imported, by status: applied, failed.",
            labels=["status"],
        )  # fmt: skip
        files.add_metric(["applied"], self.totals.applied)
        files.add_metric(["failed"], self.totals.failed)
        yield files
        yield CounterMetricFamily(
            "vastfolket_import_records", "Records of the applied delivery files.",
            value=self.totals.records,
        )  # fmt: skip
        if self.totals.last_applied is not None:
            yield GaugeMetricFamily(
                "vastfolket_import_last_success_timestamp_seconds",
                "When the last delivery file applied finished (Unix time).",
                value=self.totals.last_applied,
            )


async def ledger_totals(database: Database | None) -> ledger.Totals | None:
    if database is None:
        return None
    try:
        return await asyncio.wait_for(ledger.totals(database.write), LEDGER_TIMEOUT_SECONDS)
    except Exception as error:  # a scrape must answer, whatever the database does
        logger.debug("import ledger not read for metrics: %s", error)
        return None


async def import_registry(database: Database | None) -> CollectorRegistry:
    """A registry of this scrape's import metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ImportLedger(await ledger_totals(database)))
    return registry
