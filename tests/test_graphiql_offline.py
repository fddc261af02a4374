"""GraphiQL works with no internet: a real browser, every outside request refused."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.running import SCRIPT, Server, free_port, newcomer_env, scratch_dir

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
