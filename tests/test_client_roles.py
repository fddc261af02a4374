"""The fields behind roles, through the typed client against the live API: the access
log (role `audit`), selections from preview to a file a real `vastfolket worker` writes
(role `selection`), and their billing (role `finance`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from vastfolket_client import AccessLogEntry, Client, SelectionCriteria, SelectionOrder, enums
from vastfolket_client.errors import Forbidden, TooManyOrders

from api.worker import STARTED
from resolvers.domain.access import Tier
from tests.running import Server, fresh_env
from tests.subscribing import Served, fresh_numbers, serving
from tests.typed_client import TRUSTED, born, connect, imported, person

SELECTION = ("selection",)
FIELDS = [enums.SelectionField.PERSONNUMMER, enums.SelectionField.LAST_NAME]
Status = enums.SelectionOrderStatus


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serving(
        server_uri,
        engine,
        tmp_path_factory,
        "vastfolket_client_roles",
        VASTFOLKET_SELECTION_MAX_ACTIVE_ORDERS="2",
        **TRUSTED,
    ) as running:
        yield running


@contextmanager
def worker(served: Served) -> Iterator[Server]:
    """A `vastfolket worker` on the served database, writing where the server reads."""
    env = fresh_env(Path(served.data_dir), DATABASE_URL=served.owner_url)
    running = Server([sys.executable, "-m", "api", "worker"], env, 0)
    try:
        running.read_until(STARTED, timeout=60)
        yield running
    finally:
        running.stop(signal.SIGTERM, timeout=30)


async def finished(client: Client, order_id: str, timeout: float = 60) -> SelectionOrder:
    deadline = time.monotonic() + timeout
    while True:
        order = await client.selection_order(id=order_id)
        assert order is not None
        if order.status not in (Status.QUEUED, Status.RUNNING) or time.monotonic() > deadline:
            return order
        await asyncio.sleep(0.2)


async def criteria_of_two(served: Served) -> SelectionCriteria:
    """Criteria that select the two persons imported for them, and no one else."""
    first, last = fresh_numbers(2)
    await imported(served, person(first), person(last, last="Ärlig"))
    return SelectionCriteria(
        municipalities=["1480"], birth_date_from=born(first), birth_date_to=born(last)
    )


async def test_the_viewer_is_who_the_token_says(served: Served) -> None:
    async with connect(served, "viewer", tier=Tier.EXTENDED, roles=("audit",)) as client:
        viewer = await client.viewer()
    assert (viewer.subject, viewer.tier, viewer.roles) == ("viewer", enums.Tier.EXTENDED, ["audit"])
    assert viewer.organisation == "1480"


async def test_an_auditor_reads_who_saw_a_person_and_in_which_case(served: Served) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number))
    async with connect(served, "handlaggare-7", tier=Tier.BASIC) as official:
        await official.person(personnummer=number, headers={"X-Case-Reference": "ÄR-2026/7"})
        with pytest.raises(Forbidden):
            await official.access_log(personnummer=number)
    async with connect(served, "revisor", roles=("audit",)) as auditor:
        page = await auditor.access_log(personnummer=number, first=10)
    assert page is not None
    [entry] = [edge.node for edge in page.edges if edge.node.subject == "handlaggare-7"]
    assert isinstance(entry, AccessLogEntry) and entry.kind is enums.AccessKind.SEEN
    assert (entry.operation_name, entry.root_fields) == ("GetPerson", ["person"])
    assert (entry.case_reference, entry.tier) == ("ÄR-2026/7", enums.Tier.BASIC)
    assert entry.logged_at.tzinfo is not None


async def test_orders_beyond_the_limit_raise_too_many_orders_and_cancelled_ones_free_it(
    served: Served,
) -> None:
    criteria = await criteria_of_two(served)
    async with connect(served, tier=Tier.EXTENDED, roles=SELECTION) as client:
        placed = [
            await client.order_selection(criteria=criteria, purpose="Utskick", fields=FIELDS)
            for _ in range(2)
        ]
        with pytest.raises(TooManyOrders) as raised:
            await client.order_selection(criteria=criteria, purpose="Utskick", fields=FIELDS)
        cancelled = [await client.cancel_selection_order(id=order.id) for order in placed if order]
    assert raised.value.code == "TOO_MANY_ORDERS" and raised.value.path == ["orderSelection"]
    assert [order.status for order in cancelled if order] == [Status.CANCELLED] * 2


async def test_an_order_is_typed_from_preview_to_its_file_and_its_bill(served: Served) -> None:
    criteria = await criteria_of_two(served)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    async with connect(served, tier=Tier.EXTENDED, roles=SELECTION) as client:
        preview = await client.selection_preview(criteria=criteria)
        order = await client.order_selection(
            criteria=criteria,
            purpose="Utskick om vaccination",
            fields=FIELDS,
            case_reference="ÄR-2026/11",
        )
        assert order is not None and order.status is Status.QUEUED
        with worker(served):
            done = await finished(client, order.id)
        listed = await client.selection_orders(first=100)
    assert preview is not None and preview.count == 2 and isinstance(preview.price.total, Decimal)
    assert (order.estimated_rows, order.case_reference, order.fields) == (2, "ÄR-2026/11", FIELDS)
    assert done.status is Status.DONE and done.row_count == 2 and done.download_url
    assert done.price == preview.price.total and done.checksum
    assert listed is not None and order.id in [each.id for each in listed]
    async with connect(served, "ekonomi", roles=("finance",)) as finance:
        billed = await finance.selection_billing(from_=since)
    assert billed is not None and [(b.id, b.price) for b in billed] == [(order.id, done.price)]
    async with connect(served, "revisor", roles=("audit",)) as auditor:
        audited = await auditor.selection_audit(ids=[order.id])
    assert audited is not None and [(a.id, a.row_count) for a in audited] == [(order.id, 2)]


async def test_without_the_selection_role_a_preview_raises_forbidden(served: Served) -> None:
    async with connect(served, tier=Tier.EXTENDED) as client:
        with pytest.raises(Forbidden) as raised:
            await client.selection_preview(criteria=SelectionCriteria(municipalities=["1480"]))
    assert raised.value.path == ["selectionPreview"]
