"""Follow Västfolket's change feed as it happens: a subscription over WebSocket.

    python feed_subscriber.py --url wss://vastfolket.example/graphql --cursor-file feed.cursor

The token is read from VASTFOLKET_TOKEN (a token with the `feed` role); it goes in the
`connection_init` message, as browsers cannot set WebSocket headers. Each event is
printed as a JSON line as soon as the register applies it; a real system updates its
own copy instead (`handle`). The last event's cursor is saved after it is handled, and
the subscription resumes from it after any disconnection: a restart of the API, a
network fault, or the server closing a consumer that fell behind.

Needs only websockets (pip install websockets).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import websockets

SUBSCRIPTION = """
subscription Follow($after: String) {
  changes(after: $after) {
    cursor kind parts personnummer previousPersonnummer recordedAt
    person { personnummer firstNames lastName registeredAddress { line2 postalCode postalTown } }
  }
}
"""
RESUME_CLOSE_CODES = {1001, 1006, 1011, 1012, 1013, 4499}  # going away, lost, too slow…


class Reload(Exception):
    """The cursor is older than the feed keeps: load the population again."""


def handle(event: dict) -> None:
    """Apply one event to your own copy; here, print it."""
    if event["kind"] == "PROTECTED":
        print(json.dumps({"purge": event["personnummer"]}), flush=True)  # purge at once
    else:
        print(json.dumps(event, ensure_ascii=False), flush=True)


async def subscribe(url: str, token: str, cursor_file: Path, stop_after: int | None) -> None:
    """One connection: events until it closes (or ``stop_after`` events were handled)."""
    after = cursor_file.read_text().strip() if cursor_file.exists() else None
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        hello = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(hello))
        ack = json.loads(await socket.recv())
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"not accepted: {ack}")
        await socket.send(json.dumps({"id": "feed", "type": "subscribe", "payload": {
            "query": SUBSCRIPTION, "variables": {"after": after}}}))  # fmt: skip
        handled = 0
        async for text in socket:
            message = json.loads(text)
            if message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] in ("error", "complete"):
                errors = message.get("payload") or message.get("errors") or []
                codes = [e.get("extensions", {}).get("code") for e in errors]
                if "CURSOR_EXPIRED" in codes:
                    raise Reload(errors[0]["message"])
                raise RuntimeError(f"the subscription ended: {message}")
            payload = message["payload"]
            if payload.get("errors"):
                codes = [e.get("extensions", {}).get("code") for e in payload["errors"]]
                if "CURSOR_EXPIRED" in codes:
                    raise Reload(payload["errors"][0]["message"])
                raise RuntimeError(f"the subscription failed: {payload['errors']}")
            event = payload["data"]["changes"]
            handle(event)
            save(cursor_file, event["cursor"])
            handled += 1
            if stop_after is not None and handled >= stop_after:
                return


def save(cursor_file: Path, cursor: str) -> None:
    """Write the cursor so that a crash leaves the old one or the new, never half."""
    partial = cursor_file.with_suffix(".partial")
    partial.write_text(cursor)
    partial.replace(cursor_file)


async def follow(url: str, token: str, cursor_file: Path, stop_after: int | None) -> None:
    """Subscribe, and after a disconnection resume from the last event handled."""
    delay = 1.0
    while True:
        try:
            await subscribe(url, token, cursor_file, stop_after)
            return
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            if code not in RESUME_CLOSE_CODES:
                raise
        except OSError:  # the server is not there (yet): try again
            pass
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000/graphql")
    parser.add_argument("--cursor-file", type=Path, default=Path("feed.cursor"))
    parser.add_argument("--stop-after", type=int, help="stop after this many events")
    options = parser.parse_args()
    token = os.environ["VASTFOLKET_TOKEN"]
    try:
        asyncio.run(follow(options.url, token, options.cursor_file, options.stop_after))
    except Reload as reload:
        print(f"reload needed: {reload}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
