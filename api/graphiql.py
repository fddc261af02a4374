"""GraphiQL's page: its browser code served by the API, and the tabs it opens with.

The page loads React and GraphiQL from the API itself (``static/vendor``, unmodified
copies of the npm builds Strawberry's page names), so it works without the internet; its
own script (``static/graphiql.js``) takes the place of the one on Strawberry's page.

It opens on an example lookup, with how to get a token. The page is served without a
token, so a number read from the register is shown only on a development server (tokens
signed with the development key, a demo register); any other server shows Skatteverket's
well-known test number instead. A development server also opens each of the docs'
example operations in a tab of its own (``api/graphiql_tabs.py``) and lets the address
fill in the headers, as the one ``vastfolket serve`` prints does with its token.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from api.graphiql_tabs import example_tabs
from api.startup import cli_command
from resolvers.development import DEMO_DATA, DevelopmentOnly, development_only
from resolvers.domain.personnummer import Personnummer

logger = logging.getLogger("vastfolket.api")

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
SCRIPT = VENDOR_DIR.with_name("graphiql.js")
VENDOR_PATH = "/static/vendor"
# Strawberry's page names each asset by its npm package, version and path on this CDN.
_CDN_ASSET = re.compile(r"https://unpkg\.com/([\w@./-]+)")
# Strawberry's own script on its page, which ours replaces.
_INLINE_SCRIPT = re.compile(r"<script>\s*const EXAMPLE_QUERY = `.*?</script>", re.S)
_PAGE = 'const PAGE = {"tabs": [], "headersFromAddress": false};'

# The page holds the headers a person typed, a token among them: no other site may frame
# it under buttons of its own (clickjacking), and its address (on a development server,
# the token) is not sent on to anyone as a Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

# Skatteverket's well-known test number, used when the register has no example.
FALLBACK_PERSONNUMMER = "191212121212"

_TITLE = "# Västfolket API — GraphiQL\n"

# On a development server; {cli} is the command as it runs where the server was started.
_DEVELOPMENT_HELP = """#
# Press ▶ (or Ctrl-Enter) to run this query. Every request
# needs a token in Headers (below):
#   {"Authorization": "Bearer <token>"}
# The address `vastfolket serve` printed has a development
# token filled in there, in every tab. More tokens:
#   {cli} token --tier RELATIONS --sub your.name --org 1480
# Fields above your tier come back null with a FORBIDDEN
# error; the rest answers. More numbers to try:
#   {cli} demo-data --examples
"""
# Where the docs are installed (a checkout), they open in the other tabs.
_EXAMPLES_HELP = """# The other tabs hold the docs' examples (docs/*.md); the
# token `vastfolket serve` printed has every role they need.
"""

_PRODUCTION_HELP = """#
# Every request needs a token from the identity provider
# this server trusts: open Headers (below) and write
#   {"Authorization": "Bearer <token>"}
# then press ▶ (or Ctrl-Enter) to run this query. Fields
# above your tier come back null with a FORBIDDEN error.
"""

_LOOKUP = """
query FirstLookup($personnummer: String! = "%s") {
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
_QUERY = _TITLE + _DEVELOPMENT_HELP.replace("{cli}", cli_command()) + _EXAMPLES_HELP + _LOOKUP
_PRODUCTION_QUERY = _TITLE + _PRODUCTION_HELP + _LOOKUP


class GraphiQLPage:
    """The page a server serves, made once (its numbers are read from the register)."""

    def __init__(self, html: str, *, development: bool) -> None:
        """``html``: Strawberry's page; ``development``: a development server."""
        self.template = explorer_page(offline_page(html))
        self.development = development
        self._page: str | None = None

    async def render(self, pool: asyncpg.Pool) -> str:
        if self._page is None:
            self._page = await self._made(pool)
        return self._page

    async def _made(self, pool: asyncpg.Pool) -> str:
        if not self.development:
            query = _PRODUCTION_QUERY % Personnummer(FALLBACK_PERSONNUMMER).short()
            return with_default_query(self.template, query)
        numbers = await _numbers(pool)
        found = numbers.get("child_with_two_guardians") or numbers.get("ordinary_adult")
        query = _QUERY % Personnummer(found[0] if found else FALLBACK_PERSONNUMMER).short()
        tabs = example_tabs(lambda kind: (numbers.get(kind) or [FALLBACK_PERSONNUMMER])[0])
        if not tabs:
            query = query.replace(_EXAMPLES_HELP, "")
        page = {"tabs": tabs, "headersFromAddress": True}
        return with_default_query(with_page(self.template, page), query)


async def _numbers(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Numbers from the register by kind, picked as the demo picks its examples; none on
    an install without the demo's code (a wheel with the development key)."""
    try:
        with development_only(DEMO_DATA):
            from resolvers.dev.demo import examples
    except DevelopmentOnly:
        return {}
    async with pool.acquire() as connection:
        return dict(await examples(connection))


def explorer_page(html: str) -> str:
    """Strawberry's page with our script in place of its own."""
    script = SCRIPT.read_text(encoding="utf-8")
    page, replaced = _INLINE_SCRIPT.subn(lambda _: f"<script>\n{script}</script>", html, count=1)
    if not replaced:  # a Strawberry upgrade changed its page
        raise RuntimeError(f"GraphiQL's page has no script for {SCRIPT} to replace")
    return page


def with_page(html: str, page: dict[str, object]) -> str:
    """The page with ``page`` as the script's ``PAGE`` (JSON, safe inside a script)."""
    literal = json.dumps(page, ensure_ascii=False).replace("<", "\\u003c")
    return html.replace(_PAGE, f"const PAGE = {literal};", 1)


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
