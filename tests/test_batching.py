"""DataLoaders keep the number of SQL statements per request fixed, whatever the page size."""

from __future__ import annotations

import datetime as dt

import asyncpg

from tests import factories
from tests.conftest import Api, StatementLog

PAGE = """
query ($first: Int!) {
  personsInRange(from: "196001010000", to: "196912310000", first: $first) {
    edges { node {
      personnummer firstNames lastName
      registeredAddress { line2 postalTown }
      mailingAddress { lines }
      relations {
        kind personnummer
        person { firstNames lastName registeredAddress { postalTown } }
      }
      spouse { person { lastName } }
    } }
  }
}
"""


async def couples(pool: asyncpg.Pool, count: int) -> None:
    for index in range(count):
        born = dt.date(1960, 1, 1) + dt.timedelta(days=index)
        wife = await factories.person(pool, born=born, civil_status="G")
        # Husbands are born outside the listed interval: their data is loaded separately.
        husband_born = born - dt.timedelta(days=3653)
        husband = await factories.person(pool, born=husband_born, male=True, civil_status="G")
        await factories.relate(pool, wife, "M", husband)


async def statements_for_page(api: Api, log: StatementLog, size: int) -> int:
    log.clear()
    body = await api.query(PAGE, {"first": size})
    edges = body["data"]["personsInRange"]["edges"]
    assert len(edges) == size
    assert all(edge["node"]["spouse"]["person"]["lastName"] for edge in edges)
    return len(log)


async def test_statements_per_page_do_not_grow_with_page_size(
    api: Api, clean_db: asyncpg.Pool, statement_log: StatementLog
) -> None:
    await couples(clean_db, 200)
    small = await statements_for_page(api, statement_log, 10)
    large = await statements_for_page(api, statement_log, 200)
    # the page with addresses; the relations with the related persons and their addresses;
    # the access log rows of all persons shown, in one statement
    assert small == large == 3, statement_log.statements
