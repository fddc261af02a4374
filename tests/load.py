"""A bounded load of real HTTP clients on loopback, and what each request got."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str
    sent: float
    done: float
    status: int | None  # None: no HTTP answer at all
    code: str | None  # the first error's extensions.code
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.code is None


def _code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    errors = response.json().get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


Request = Callable[[httpx.Client], httpx.Response]


class Load:
    """A bounded loop of real HTTP clients on loopback: each sends the requests in turn,
    one at a time, until stopped (or ``limit`` requests)."""

    def __init__(self, base: str, requests: dict[str, Request], clients: int = 6) -> None:
        self.base, self.requests = base, requests
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def _client(self, limit: int = 20_000) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            for turn in range(limit):
                if self._stop.is_set():
                    return
                kind = list(self.requests)[turn % len(self.requests)]
                sent = time.monotonic()
                try:
                    response = self.requests[kind](client)
                    status, code, headers = response.status_code, _code(response), response.headers
                except httpx.HTTPError:
                    status, code, headers = None, None, httpx.Headers()
                    time.sleep(0.01)
                self.answers.append(Answer(kind, sent, time.monotonic(), status, code, headers))

    def wait_until_all_ok(self, since: float, timeout: float = 20) -> float:
        """When every kind of request has been answered in full again, after ``since``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = {a.kind for a in self.answers if a.sent >= since and a.ok}
            if ok == set(self.requests):
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"not all answered after {timeout} s: {self.summary(since)}")

    def summary(self, since: float = 0.0) -> dict[tuple[str, int | None, str | None], int]:
        counts: dict[tuple[str, int | None, str | None], int] = {}
        for a in self.answers:
            if a.sent >= since:
                counts[a.kind, a.status, a.code] = counts.get((a.kind, a.status, a.code), 0) + 1
        return counts

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
