"""Guards for speed: SQL statements per request, and memory that stays flat under load."""

from __future__ import annotations

import datetime as dt
import gc
import sys

import asyncpg
import pytest

from tests import factories
from tests.bench.workloads import OURS_PAGE, OURS_PERSON, OURS_SEARCH
from tests.conftest import Api, StatementLog

# The benchmark's own workloads (tests/bench): the budgets guard what it measures.
PERSON, PAGE, SEARCH = OURS_PERSON, OURS_PAGE, OURS_SEARCH
EVERYONE = {"from": "19000101-0000", "to": "20991231-9999"}
# What one request builds: rows, its context, its loaders, its execution.
REQUEST_STATE = {
    "PersonRow", "RelationRow", "Context", "Loaders", "AccessRecord",
    "PlainFieldsExecutionContext",
}  # fmt: skip


async def families(pool: asyncpg.Pool, count: int) -> list[str]:
    """Married couples with a child each; returns the children's numbers."""
    children = []
    for index in range(count):
        born = dt.date(1970, 1, 1) + dt.timedelta(days=index)
        mother = await factories.person(pool, born=born, last_name="Berg")
        father = await factories.person(pool, born=born, male=True, last_name="Berg")
        await factories.relate(pool, mother, "M", father)
        child = await factories.person(pool, born=born.replace(year=2015), last_name="Berg")
        for parent in (mother, father):
            await factories.relate(pool, parent, "B", child)
            await factories.relate(pool, parent, "VF", child)
        children.append(child)
    return children


async def statements(api: Api, log: StatementLog, query: str, variables: dict | None = None) -> int:
    log.clear()
    body = await api.query(query, variables)
    assert "errors" not in body, body
    return len(log)


async def test_statement_budget_per_workload(
    api: Api, clean_db: asyncpg.Pool, statement_log: StatementLog
) -> None:
    children = await families(clean_db, 6)  # 18 persons: within the test limit of 20 matches
    # the person with addresses, relations and the related persons with addresses; then
    # one access log write, however many persons the answer shows
    assert await statements(api, statement_log, PERSON, {"p": children[0]}) == 1 + 1
    assert await statements(api, statement_log, PAGE, EVERYONE) == 2 + 1
    assert await statements(api, statement_log, SEARCH, {"l": "Berg", "f": None}) == 2 + 1
    assert "INSERT INTO access_person" in statement_log.statements[-1]


async def test_memory_stays_flat_over_thousands_of_requests(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    children = await families(clean_db, 20)

    async def burst(count: int) -> None:
        for index in range(count):
            body = await api.query(PERSON, {"p": children[index % len(children)]})
            assert body["data"]["person"]["relations"]

    await burst(300)  # caches (parsed documents, verified tokens, plans) fill up first
    gc.collect()
    before = sys.getallocatedblocks()
    await burst(2000)
    gc.collect()
    grown = sys.getallocatedblocks() - before
    # A leak of even one object per request would leave 2000 blocks behind.
    assert grown < 1000, f"{grown} more memory blocks after 2000 requests"


# The fast engine's context lets go of graphql-core's reference cycle when the answer is
# built; the stock engine is graphql-core's executor as it is, which keeps the cycle.
@pytest.mark.engines("fast")
async def test_a_request_leaves_nothing_for_the_garbage_collector(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    # What a request made must be freed when it is done, not wait in a reference cycle
    # for the collector: its pauses, proportional to what waits, were a page's p99.
    children = await families(clean_db, 5)
    for child in children:  # caches fill up first
        await api.query(PAGE, EVERYONE)
        await api.query(PERSON, {"p": child})
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, to look at
    try:
        for child in children:
            body = await api.query(PAGE, EVERYONE)
            assert body["data"]["personsInRange"]["edges"]
            body = await api.query(PERSON, {"p": child})
            assert body["data"]["person"]["relations"]
        gc.collect()
        left = sorted({type(thing).__qualname__ for thing in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    ours = [name for name in left if name in REQUEST_STATE]
    assert ours == [], f"left in reference cycles: {ours} (all: {left[:20]})"
