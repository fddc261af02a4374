"""What the selection tests share: callers with the selection role, a small register of
persons to select among, and GraphQL for ordering and reading orders."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.domain.access import Tier
from resolvers.domain.personnummer import make
from tests import factories

ORDER = """
mutation Order($criteria: SelectionCriteria!, $fields: [SelectionField!]!,
               $format: SelectionFormat! = CSV, $purpose: String! = "Utskick om vaccination") {
  orderSelection(criteria: $criteria, purpose: $purpose, fields: $fields, format: $format,
                 caseReference: "ÄR-2026/11") {
    id status estimatedRows price downloadUrl
  }
}
"""

ORDER_STATUS = """
query Status($id: ID!) {
  selectionOrder(id: $id) {
    id status progress rowCount price fileSize checksum downloadUrl expiresAt error
  }
}
"""

CLEAN = "TRUNCATE selection_order, selection_progress, pgqueuer, pgqueuer_log RESTART IDENTITY"


class Caller:
    """A caller of the app (in process or over a socket) with a token of their own."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        *,
        roles: tuple[str, ...] = ("selection",),
        organisation: str | None = "1480",
        tier: Tier = Tier.EXTENDED,
        subject: str = "handlaggare",
    ) -> None:
        self.client = client
        token = mint_dev_token(
            settings, subject=subject, tier=tier, organisation=organisation, roles=list(roles)
        )
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def order(self, criteria: dict[str, Any], fields: list[str], **more: Any) -> str:
        answer = await self.post(ORDER, {"criteria": criteria, "fields": fields, **more})
        assert "errors" not in answer, answer
        return str(answer["data"]["orderSelection"]["id"])

    async def status(self, order_id: str) -> dict[str, Any]:
        answer = await self.post(ORDER_STATUS, {"id": order_id})
        assert "errors" not in answer, answer
        return dict(answer["data"]["selectionOrder"])

    async def download(self, order_id: str, **headers: str) -> httpx.Response:
        return await self.client.get(
            f"/selections/{order_id}/file", headers={**self.headers, **headers}
        )


# Birth dates no other test uses, numbered from a counter of their own: the access log
# outlives each test, and a number shared with another module's persons would show
# these exports in that module's audit searches.
BORN, BORN_MALE = dt.date(1952, 6, 15), dt.date(1991, 2, 1)
_serials = itertools.count(1)


def own_number(born: dt.date = BORN, *, male: bool = False, coordination: bool = False) -> str:
    serial = next(_serials) % 499
    return make(born, serial * 2 + (1 if male else 2), coordination=coordination).digits


async def town(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Persons in Göteborg (1480) and Borås (1490), some who must never be selected."""
    göteborg = {"line2": "Åsgatan 1", "postal_code": "41263", "postal_town": "GÖTEBORG"}
    borås = {
        "line2": "Ågatan 2", "postal_code": "50330", "postal_town": "BORÅS",
        "municipality_code": "90",
    }  # fmt: skip

    async def person(address: dict[str, str], **given: Any) -> str:
        number = given.pop("personnummer", None) or own_number()
        born = dt.date(int(number[:4]), int(number[4:6]), int(number[6:8]) % 60 or 1)
        return await factories.person(
            pool, personnummer=number, born=born, address=address, **given
        )

    selected = [
        await person(göteborg, first_names="Åsa", last_name="Öberg"),
        await person(göteborg, personnummer=own_number(BORN_MALE, male=True), last_name="Ärlig"),
    ]
    protected = await person(göteborg, protection="SKYDDAD_FOLKBOKFORING")
    coordination = await person(göteborg, personnummer=own_number(coordination=True))
    deceased = await person(göteborg, deregistration=("AV", dt.date(2020, 1, 1)))
    elsewhere = await person(borås, last_name="Borg")
    return {
        "selected": sorted(selected),
        "never": [protected, coordination],
        "deceased": [deceased],
        "elsewhere": [elsewhere],
    }


@pytest.fixture
async def register(clean_db: asyncpg.Pool, settings: Settings) -> dict[str, list[str]]:
    """The town's persons; order ids, and so their files, start again."""
    await clean_db.execute(CLEAN)
    shutil.rmtree(settings.selection_files, ignore_errors=True)
    return await town(clean_db)


@pytest.fixture
def caller(client: httpx.AsyncClient, settings: Settings) -> Caller:
    return Caller(client, settings)
