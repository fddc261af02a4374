"""What the selection tests share: callers with the selection role, a small register of
persons to select among, and GraphQL for ordering and reading orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import httpx

from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.domain.access import Tier
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


async def town(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Persons in Göteborg (1480) and Borås (1490), some who must never be selected."""
    göteborg = {"line2": "Åsgatan 1", "postal_code": "41263", "postal_town": "GÖTEBORG"}
    borås = {"line2": "Ågatan 2", "postal_code": "50330", "postal_town": "BORÅS"}
    selected = [
        await factories.person(pool, first_names="Åsa", last_name="Öberg", address=göteborg),
        await factories.person(
            pool, born=dt.date(1990, 2, 1), male=True, last_name="Ärlig", address=göteborg
        ),
    ]
    protected = await factories.person(pool, protection="SKYDDAD_FOLKBOKFORING", address=göteborg)
    coordination = factories.number(dt.date(1980, 5, 17), coordination=True)
    await factories.person(pool, personnummer=coordination, address=göteborg)
    deceased = await factories.person(
        pool, deregistration=("AV", dt.date(2020, 1, 1)), address=göteborg
    )
    elsewhere = await factories.person(pool, last_name="Borg", address=borås)
    await pool.execute(
        "UPDATE address SET municipality_code = '90' WHERE person_id = "
        "(SELECT id FROM person WHERE personnummer = $1)",
        elsewhere,
    )
    return {
        "selected": sorted(selected),
        "never": [protected, coordination],
        "deceased": [deceased],
        "elsewhere": [elsewhere],
    }
