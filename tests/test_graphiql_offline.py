"""GraphiQL works with no internet (a real browser, every outside request refused), and a
development server opens each of the docs' examples in a tab that runs with one click."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from api.app import create_app
from api.auth import ensure_dev_keys, mint_dev_token
from api.examples import doc_examples
from api.settings import Settings
from resolvers.domain.access import Tier
from resolvers.domain.personnummer import Personnummer
from tests import factories
from tests.running import SCRIPT, Server, free_port, fresh_env, newcomer_env, scratch_dir

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; installed with apt-get when missing and this runs as root."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            "apt-get update && apt-get install -y chromium",
            shell=True, env=env, capture_output=True, timeout=1200, check=False,
        )  # fmt: skip
        found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "GraphiQL's browser test needs Debian's chromium: install it as root with "
            "`apt-get update && apt-get install -y chromium`"
        )
    return found


@pytest.fixture(scope="module")
def graphiql_address() -> Iterator[str]:
    """`vastfolket serve` on the embedded default; the GraphiQL address its banner prints."""
    with scratch_dir("graphiql") as home:
        env = newcomer_env(home / ".vastfolket", persons=300)
        port = free_port()
        server = Server([str(SCRIPT), "serve", "--port", str(port)], env, port)
        try:
            banner = server.read_until("GraphiQL")
            server.wait_ready()
            found = re.search(r"GraphiQL \(token filled in\): (\S+)", banner)
            assert found is not None, banner
            yield found.group(1)
        finally:
            server.stop()


def only_loopback(outside: list[str]) -> object:
    def handle(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    return handle


def open_page(page: Page, address: str, outside: list[str], errors: list[str]) -> None:
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/*", only_loopback(outside))  # type: ignore[arg-type]
    page.goto(address)


def test_graphiql_runs_its_default_query_without_the_internet(
    chromium: str, graphiql_address: str
) -> None:
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            open_page(page, graphiql_address, outside, errors)
            run = page.locator(".graphiql-execute-button")
            expect(run).to_be_visible(timeout=30_000)
            run.click()
            result = page.locator(".result-window")
            expect(result).to_contain_text('"__typename": "Person"', timeout=30_000)
            expect(result).to_contain_text('"lastName"')
            editor = page.locator(".graphiql-query-editor").inner_text()
        finally:
            browser.close()
    assert outside == [], "the page asked for something outside this machine"
    assert errors == []
    # What the page says fits what it does: the token is already there.
    assert "filled in" in editor


@contextmanager
def other_site(body: str) -> Iterator[str]:
    """A site of someone else's, serving ``body``: another origin, on this machine."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.2", 0), Page) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.2:{server.server_address[1]}/"
        finally:
            server.shutdown()


def test_another_site_cannot_frame_graphiql(chromium: str, graphiql_address: str) -> None:
    """Clickjacking: a page elsewhere frames GraphiQL (here with the development token in
    its address) under buttons of its own; the browser shows none of it."""
    asked: list[str] = []
    framing = f'<button>Win!</button><iframe src="{graphiql_address}"></iframe>'
    with other_site(framing) as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: asked.append(request.url))
            page.goto(address, wait_until="load")  # the frame's load, too
        finally:
            browser.close()
    assert any(url.startswith(graphiql_address.split("?")[0]) for url in asked)  # framed
    assert not [url for url in asked if "/static/vendor/" in url], "the framed page ran"


def test_an_address_with_a_stray_percent_still_opens_with_its_token(
    chromium: str, graphiql_address: str
) -> None:
    """A link pasted with a broken escape in some other parameter (a chat client's, a
    tracker's): the page still opens, with the headers the address holds."""
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            open_page(page, f"{graphiql_address}&ref=100%&x=%E0%A4%A", outside, errors)
            run = page.locator(".graphiql-execute-button")
            expect(run).to_be_visible(timeout=30_000)
            run.click()
            expect(page.locator(".result-window")).to_contain_text(
                '"__typename": "Person"', timeout=30_000
            )
        finally:
            browser.close()
    assert outside == [] and errors == []


@pytest.fixture(scope="module")
def production_address(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """`vastfolket serve` as production runs it, tokens verified with keys of its own (the
    development key's public half here), and any document allowed so that its GraphiQL
    runs; GraphiQL's address and a token it accepts."""
    root = tmp_path_factory.mktemp("production-graphiql")
    keys = Settings(data_dir=root / "keys")
    ensure_dev_keys(keys)
    env = fresh_env(root / "data", DATABASE_URL=database_url, VASTFOLKET_DOCUMENTS="any",
                    VASTFOLKET_JWT_PUBLIC_KEYS=str(keys.dev_public_keys_path))  # fmt: skip
    server = Server.serve(env)
    try:
        yield f"{server.base}/graphql", mint_dev_token(keys, subject="official", tier=Tier.BASIC)
    finally:
        server.stop()


def test_a_production_page_leaves_no_token_in_the_browser(
    chromium: str, production_address: tuple[str, str]
) -> None:
    """An official at a shared desk writes a token in Headers and runs the query; whoever
    opens the page next finds it neither in the editor nor in the browser's storage."""
    address, token = production_address
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(address)
            run = page.locator(".graphiql-execute-button")
            expect(run).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="Headers").click()
            page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
            page.keyboard.type(json.dumps({"Authorization": f"Bearer {token}"}))
            page.wait_for_timeout(300)
            run.click()
            expect(page.locator(".result-window")).to_contain_text('"__typename"', timeout=30_000)
            stored = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
            page.reload()
            expect(run).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="Headers").click()
            shown = page.locator(".graphiql-editor-tool").inner_text()
        finally:
            browser.close()
    assert "FirstLookup" in stored  # it keeps its tabs and history there, the query run
    assert token not in stored and token not in shown


def operation_names() -> list[str]:
    """The name each docs example's tab is titled with."""
    names = [
        re.search(r"^(?:query|mutation|subscription) (\w+)", e.query, re.M) for e in doc_examples()
    ]
    assert all(names), "a docs example has no operation name: its tab would be <untitled>"
    return [name.group(1) for name in names if name]


def first_cursor(address: str) -> str:
    """The first event's cursor, read with the token the address fills in."""
    headers = json.loads(parse_qs(urlsplit(address).query)["headers"][0])
    page = httpx.post(
        address.split("?")[0],
        json={"query": "{ changes(first: 1) { edges { node { cursor } } } }"},
        headers=headers,
    ).json()
    return str(page["data"]["changes"]["edges"][0]["node"]["cursor"])


def select_tab(page: Page, names: list[str], name: str) -> None:
    """Open the example's tab, as a person does: GraphiQL takes the operation to run from
    the editor 100 ms after it changes (a debounce), and no one clicks ▶ sooner."""
    page.locator(f"#graphiql-session-tab-{1 + names.index(name)}").click()
    expect(page.locator(".graphiql-query-editor")).to_contain_text(f" {name}")
    page.wait_for_timeout(300)


def test_the_docs_examples_open_in_tabs_that_run_with_one_click(
    chromium: str, graphiql_address: str
) -> None:
    outside: list[str] = []
    errors: list[str] = []
    names = operation_names()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            open_page(page, graphiql_address, outside, errors)
            tabs = page.locator(".graphiql-tab")
            expect(tabs).to_have_count(1 + len(names), timeout=30_000)
            assert tabs.all_inner_texts() == ["FirstLookup", *names]
            result = page.locator(".result-window")
            # An example needing a role, run with the token the address filled in.
            select_tab(page, names, "Preview")
            page.locator(".graphiql-execute-button").click()
            expect(result).to_contain_text('"count":', timeout=30_000)
            # One whose variables hold a number from the register.
            select_tab(page, names, "Person")
            page.get_by_role("button", name="Variables").click()
            expect(page.locator(".graphiql-editor-tool")).to_contain_text('"personnummer": "')
            page.locator(".graphiql-execute-button").click()
            expect(result).to_contain_text('"__typename": "Person"', timeout=30_000)
            expect(result).not_to_contain_text('"errors"')
            query = page.locator(".graphiql-query-editor").inner_text()
            # The subscription, over WebSocket with the same headers, from the first event.
            select_tab(page, names, "Follow")
            page.get_by_role("button", name="Variables").click()
            page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
            page.keyboard.press("Control+A")
            page.keyboard.type(json.dumps({"after": first_cursor(graphiql_address)}))
            page.wait_for_timeout(300)
            page.locator(".graphiql-execute-button").click()
            expect(result).to_contain_text('"kind": "', timeout=30_000)
        finally:
            browser.close()
    assert outside == [] and errors == []
    assert "(from docs/queries.md)" in query


def page_script(html: str) -> dict:
    """What the page's script is given: its example tabs and where its headers come from."""
    found = re.search(r"^const PAGE = (.*);$", html, re.M)
    assert found is not None, html
    return dict(json.loads(found.group(1)))


async def first_page(settings: Settings, pool: asyncpg.Pool) -> str:
    """GraphiQL's page as a new server first serves it (it is made once per server)."""
    transport = httpx.ASGITransport(app=create_app(settings, pool=pool))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/graphql")
    assert page.status_code == 200
    return page.text


async def test_a_development_page_holds_the_docs_examples_as_the_docs_print_them(
    settings: Settings, clean_db: asyncpg.Pool
) -> None:
    adult = await factories.person(clean_db, born=dt.date(1975, 3, 3))
    given = page_script(await first_page(settings, clean_db))
    assert given["headersFromAddress"] is True
    tabs = given["tabs"]
    assert len(tabs) == len(doc_examples()) >= 9
    for example, tab in zip(doc_examples(), tabs, strict=True):
        assert tab["query"].endswith(example.query), example.where
        assert f"(from {example.where.partition(':')[0]})" in tab["query"].splitlines()[0]
    access_log = next(tab for tab in tabs if "accessLog(" in tab["query"])
    assert "--role audit" in access_log["query"]  # as the schema's @requiresRole says
    assert json.loads(access_log["variables"]) == {"personnummer": adult}  # the register's


async def test_a_production_page_holds_no_example_and_takes_no_headers_from_its_address(
    settings: Settings, clean_db: asyncpg.Pool
) -> None:
    # Verified tokens (production), with any document allowed: its GraphiQL still opens.
    production = settings.model_copy(
        update={"jwt_public_keys": settings.public_keys_path, "documents": "any"}
    )
    page = await first_page(production, clean_db)
    assert page_script(page) == {"tabs": [], "headersFromAddress": False}
    assert Personnummer("191212121212").short() in page


ASSET_TAG = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"[^>]*>', re.S)


async def test_page_loads_its_assets_from_the_api_with_their_integrity(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    tags = [tag for tag in ASSET_TAG.finditer(page.text) if not tag.group(1).startswith("data:")]
    assert len(tags) == 7, page.text  # React, ReactDOM, js-cookie, GraphiQL and its explorer
    for tag in tags:
        address = tag.group(1)
        assert address.startswith("/static/vendor/"), address
        integrity = re.search(r'integrity="sha384-([^"]+)"', tag.group(0))
        assert integrity is not None, tag.group(0)
        asset = await client.get(address)
        assert asset.status_code == 200, address
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert digest == integrity.group(1), f"{address} is not the file its tag names"
        assert "immutable" in asset.headers["cache-control"]
        assert "max-age=31536000" in asset.headers["cache-control"]
