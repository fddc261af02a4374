"""GraphiQL's page: its browser code served by the API, and the query it opens with.

The page loads React and GraphiQL from the API itself (``static/vendor``, unmodified
copies of the npm builds Strawberry's page names), so it works without the internet.

It opens on an example lookup. The page is served without a token, so a number read
from the register is shown only on a development server (tokens signed with the
development key, a demo register); any other server shows Skatteverket's well-known test
number instead.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from api.startup import cli_command
from resolvers.development import DEMO_DATA, DevelopmentOnly, development_only
from resolvers.domain.personnummer import Personnummer

logger = logging.getLogger("vastfolket.api")

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
VENDOR_PATH = "/static/vendor"
# Strawberry's page names each asset by its npm package, version and path on this CDN.
_CDN_ASSET = re.compile(r"https://unpkg\.com/([\w@./-]+)")

# Skatteverket's well-known test number, used when the register has no example.
FALLBACK_PERSONNUMMER = "191212121212"

_TITLE = "# Västfolket API — GraphiQL\n"

# On a development server; {cli} is the command as it runs where the server was started.
_DEVELOPMENT_HELP = """#
# Press ▶ (or Ctrl-Enter) to run this query. Every request
# needs a token in Headers (below):
#   {"Authorization": "Bearer <token>"}
# The address `vastfolket serve` printed has a development
# token filled in there. More tokens:
#   {cli} token --tier RELATIONS --sub your.name --org 1480
# Fields above your tier come back null with a FORBIDDEN
# error; the rest answers. More numbers to try:
#   {cli} demo-data --examples
"""

_PRODUCTION_HELP = """#
# Every request needs a token from the identity provider
# this server trusts: open Headers (below) and write
#   {"Authorization": "Bearer <token>"}
# then press ▶ (or Ctrl-Enter) to run this query. Fields
# above your tier come back null with a FORBIDDEN error.
"""

_LOOKUP = """
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

# The opening texts, with %s for the number.
_QUERY = _TITLE + _DEVELOPMENT_HELP.replace("{cli}", cli_command()) + _LOOKUP
_PRODUCTION_QUERY = _TITLE + _PRODUCTION_HELP + _LOOKUP

_cached: str | None = None


async def default_query(pool: asyncpg.Pool, *, from_register: bool) -> str:
    global _cached
    if not from_register:
        return _PRODUCTION_QUERY % Personnummer(FALLBACK_PERSONNUMMER).short()
    if _cached is None:
        _cached = _QUERY % Personnummer(await _example(pool)).short()
    return _cached


async def _example(pool: asyncpg.Pool) -> str:
    """A number from the register, picked as the demo picks its examples; the fallback
    on an install without the demo's code (a wheel with the development key)."""
    try:
        with development_only(DEMO_DATA):
            from resolvers.dev.demo import examples
    except DevelopmentOnly:
        return FALLBACK_PERSONNUMMER
    async with pool.acquire() as connection:
        found = await examples(connection)
    numbers = found.get("child_with_two_guardians") or found.get("ordinary_adult") or []
    return numbers[0] if numbers else FALLBACK_PERSONNUMMER


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


def offline_page(html: str) -> str:
    """Strawberry's page loading its assets from the API (their integrity hashes kept).

    An asset not vendored (a Strawberry upgrade naming newer builds) keeps its CDN address,
    with a warning: the page then needs the internet until ``static/vendor`` is updated.
    """

    def local(match: re.Match[str]) -> str:
        asset = match.group(1)
        if (VENDOR_DIR / asset).is_file():
            return f"{VENDOR_PATH}/{asset}"
        logger.warning("GraphiQL's %s is not in %s: the page fetches it online", asset, VENDOR_DIR)
        return match.group(0)

    return _CDN_ASSET.sub(local, html)


class VendorFiles(StaticFiles):
    """The vendored assets. A path names its version, so a browser may keep it a year."""

    def __init__(self) -> None:
        super().__init__(directory=VENDOR_DIR)

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
