"""Follow Västfolket's change feed by polling: a small, complete integration.

    python feed_poller.py --url https://vastfolket.example/graphql --cursor-file feed.cursor

The token is read from VASTFOLKET_TOKEN (a token with the `feed` role). Each event is
printed as a JSON line; a real system updates its own copy instead (`handle`). The
cursor is saved after each page has been handled, so a restart resumes exactly where
the last handled page ended: no event is missed, and none handled twice but the last
page's should the system stop while handling it (handle events idempotently).

Needs only httpx (pip install httpx).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx

PAGE = """
query Changes($after: String, $first: Int!) {
  changes(after: $after, first: $first) {
    edges { node { cursor kind parts personnummer previousPersonnummer recordedAt
                   person { personnummer firstNames lastName
                            registeredAddress { line2 postalCode postalTown } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
HEAD = "{ changesHead }"


class Reload(Exception):
    """The cursor is older than the feed keeps: load the population again."""


def handle(event: dict) -> None:
    """Apply one event to your own copy; here, print it."""
    if event["kind"] == "PROTECTED":
        # Purge everything held about this number, at once.
        print(json.dumps({"purge": event["personnummer"]}), flush=True)
    else:
        print(json.dumps(event, ensure_ascii=False), flush=True)


class Api:
    def __init__(self, url: str, token: str, verify: str | bool) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {token}"}
        self.client = httpx.Client(headers=headers, verify=verify, timeout=30)


def ask(api: Api, query: str, variables: dict) -> dict:
    response = api.client.post(api.url, json={"query": query, "variables": variables})
    if response.status_code in (429, 503):  # busy or briefly down: wait as told
        time.sleep(float(response.headers.get("Retry-After", "5")))
        return ask(api, query, variables)
    response.raise_for_status()
    body = response.json()
    for error in body.get("errors", []):
        if error.get("extensions", {}).get("code") == "CURSOR_EXPIRED":
            raise Reload(error["message"])
        raise RuntimeError(f"{error['extensions'].get('code')}: {error['message']}")
    return dict(body["data"])


def follow(api: Api, cursor_file: Path, *, once: bool, interval: float) -> None:
    cursor = cursor_file.read_text().strip() if cursor_file.exists() else None
    if cursor is None:  # a new system: load your population first, then follow from here
        cursor = ask(api, HEAD, {})["changesHead"]
        save(cursor_file, cursor)
    while True:
        page = ask(api, PAGE, {"after": cursor, "first": 1000})["changes"]
        for edge in page["edges"]:
            handle(edge["node"])
        cursor = page["pageInfo"]["endCursor"]
        save(cursor_file, cursor)
        if not page["pageInfo"]["hasNextPage"]:
            if once:
                return
            time.sleep(interval)


def save(cursor_file: Path, cursor: str) -> None:
    """Write the cursor so that a crash leaves the old one or the new, never half."""
    partial = cursor_file.with_suffix(".partial")
    partial.write_text(cursor)
    partial.replace(cursor_file)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--cursor-file", type=Path, default=Path("feed.cursor"))
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between polls")
    parser.add_argument("--once", action="store_true", help="stop when caught up")
    parser.add_argument("--ca-file", help="the server's CA certificate, if not a public one")
    options = parser.parse_args()
    api = Api(options.url, os.environ["VASTFOLKET_TOKEN"], options.ca_file or True)
    try:
        follow(api, options.cursor_file, once=options.once, interval=options.interval)
    except Reload as reload:
        print(f"reload needed: {reload}", file=sys.stderr)
        return 3
    finally:
        api.client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
