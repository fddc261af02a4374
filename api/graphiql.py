"""The query GraphiQL opens with: an example lookup on a number from the register.

The page is served without a token, so a number read from the register is shown only on
a development server (tokens signed with the development key, a demo register); any
other server shows Skatteverket's well-known test number instead.
"""

from __future__ import annotations

import re

import asyncpg

from resolvers.demo import examples
from resolvers.personnummer import Personnummer

# Skatteverket's well-known test number, used when the register has no example.
FALLBACK_PERSONNUMMER = "191212121212"

_QUERY = """# Västfolket API — GraphiQL
#
# Every request needs a token. Open "Headers" (below) and write:
#   {"Authorization": "Bearer <token>"}
# Print a development token with:
#   vastfolket token --tier RELATIONS --sub your.name --org 1480
# Fields above your tier come back null with a FORBIDDEN error; the rest answers.
# More numbers to try: vastfolket demo-data --examples

query Person($personnummer: String! = "%s") {
  person(personnummer: $personnummer) {
    __typename
    ... on Person {
      personnummer11
      givenName
      firstNames
      lastName
      status
      mailingAddress { lines }
      registeredAddress { line2 postalCodeFormatted postalTown municipalityCode }
      movedInDate
      civilStatus { code meaning since }
      relations { kind personnummer person { firstNames lastName } }
    }
    ... on ProtectedPerson { notice }
    ... on PersonNotFound { message }
  }
}
"""

_cached: str | None = None


async def default_query(pool: asyncpg.Pool, *, from_register: bool) -> str:
    global _cached
    if not from_register:
        return _QUERY % Personnummer(FALLBACK_PERSONNUMMER).short()
    if _cached is None:
        async with pool.acquire() as connection:
            found = await examples(connection)
        numbers = found.get("child_with_two_guardians") or found.get("ordinary_adult") or []
        number = numbers[0] if numbers else FALLBACK_PERSONNUMMER
        _cached = _QUERY % Personnummer(number).short()
    return _cached


def with_default_query(html: str, query: str) -> str:
    """GraphiQL's page with ``query`` as the query it opens with."""
    literal = query.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return re.sub(
        r"const EXAMPLE_QUERY = `.*?`;",
        lambda _: f"const EXAMPLE_QUERY = `{literal}`;",
        html,
        count=1,
        flags=re.S,
    )
