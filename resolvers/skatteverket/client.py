"""The client for Skatteverket's person lookup: mutual TLS, a deadline, one retry on
connection errors, a circuit breaker and a short cache.

A fallback lookup must never hold an official longer than the configured timeout,
nor let a failing Skatteverket slow down the rest of the API: every call runs under
one deadline (the retry included), and while the circuit is open calls are refused
at once. Callers see ``SkatteverketUnavailable`` for every way the call can fail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from pydantic import ValidationError

from resolvers.domain.personnummer import is_canonical
from resolvers.skatteverket.breaker import CircuitBreaker, CircuitState
from resolvers.skatteverket.cache import TimedCache
from resolvers.skatteverket.contract import Person

logger = logging.getLogger("vastfolket.skatteverket")

# Outcomes of a call, as counted: the first three are answers, the rest failures.
FOUND, NOT_FOUND, PROTECTED = "found", "not_found", "protected"
TIMEOUT, CONNECTION, BAD_STATUS, INVALID = "timeout", "connection_error", "bad_status", "invalid"
CANCELLED = "cancelled"
# Lookups answered without a call.
CACHE_HIT, CIRCUIT_OPEN = "cache_hit", "circuit_open"


class SkatteverketUnavailable(Exception):
    """No answer from Skatteverket: slow, down, refusing, or answering nonsense."""

    def __init__(
        self, message: str, outcome: str, retry_after: float | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.retry_after = retry_after
        self.detail = detail  # for the log only


class Observer(Protocol):
    """Where calls are counted (the metrics live with the app, not here)."""

    def called(self, outcome: str, seconds: float) -> None: ...

    def skipped(self, reason: str) -> None: ...


class _Unobserved:
    def called(self, outcome: str, seconds: float) -> None:
        pass

    def skipped(self, reason: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ClientOptions:
    base_url: str
    timeout: float = 2.0
    client_cert: Path | None = None
    client_key: Path | None = None
    ca_bundle: Path | None = None
    failure_threshold: int = 5
    cooldown: float = 30.0
    cache_seconds: float = 300.0
    cache_size: int = 10_000


@dataclass(frozen=True, slots=True)
class Answer:
    """Skatteverket's answer: the person, only the fact of protection, or nothing."""

    personnummer: str
    person: Person | None
    fetched_at: dt.datetime

    @property
    def protected(self) -> bool:
        return self.person is not None and self.person.protected

    @property
    def outcome(self) -> str:
        if self.person is None:
            return NOT_FOUND
        return PROTECTED if self.person.protected else FOUND


def tls_context(options: ClientOptions) -> ssl.SSLContext | bool:
    """The CA bundle to trust and the client certificate to present (mutual TLS)."""
    if not options.base_url.startswith("https:"):
        return True
    context = ssl.create_default_context(
        cafile=str(options.ca_bundle) if options.ca_bundle else None
    )
    if options.client_cert is not None:
        key = str(options.client_key) if options.client_key else None
        context.load_cert_chain(str(options.client_cert), key)
    return context


class SkatteverketClient:
    """One per process: made at start-up, closed at shutdown, shared by all requests."""

    def __init__(self, options: ClientOptions, observer: Observer | None = None) -> None:
        self.options = options
        self.observer = observer or _Unobserved()
        self.breaker = CircuitBreaker(options.failure_threshold, options.cooldown)
        self.cache: TimedCache[Answer] = TimedCache(options.cache_seconds, options.cache_size)
        self.http = httpx.AsyncClient(
            base_url=options.base_url.rstrip("/"),
            timeout=httpx.Timeout(options.timeout),
            verify=tls_context(options),
            headers={"Accept": "application/json", "User-Agent": "vastfolket-api"},
        )

    async def close(self) -> None:
        await self.http.aclose()

    @property
    def circuit(self) -> CircuitState:
        return self.breaker.state

    async def lookup(self, personnummer: str, *, request_id: str = "-") -> Answer:
        """Look up one canonical 12-digit number.

        Raises:
            SkatteverketUnavailable: no usable answer within the timeout, or the
                circuit is open.
            ValueError: not 12 digits 0-9 (nothing else is ever sent, nor cached).
        """
        if not is_canonical(personnummer):
            raise ValueError("Skatteverket is asked only for 12 digits 0-9")
        cached = self.cache.get(personnummer)
        if cached is not None:
            self.observer.skipped(CACHE_HIT)
            return cached
        if not self.breaker.allow():
            self.observer.skipped(CIRCUIT_OPEN)
            wait = self.breaker.retry_after
            raise SkatteverketUnavailable(
                f"calls are paused after repeated failures; next try in {wait:.0f} s",
                CIRCUIT_OPEN,
                retry_after=wait,
            )
        started = time.monotonic()
        outcome = CANCELLED
        try:
            answer = await self._call(personnummer, request_id)
            outcome = answer.outcome
        except SkatteverketUnavailable as error:
            outcome = error.outcome
            # One line per failed call (the circuit bounds how many): an outage, no trace.
            logger.warning("Skatteverket lookup failed (%s): %s%s", outcome, error, error.detail)
            raise
        finally:
            if outcome in (FOUND, NOT_FOUND, PROTECTED):
                self.breaker.succeeded()
            elif outcome == CANCELLED:
                self.breaker.abandoned()
            else:
                self.breaker.failed()
            self.observer.called(outcome, time.monotonic() - started)
        self.cache.put(personnummer, answer)
        return answer

    async def _call(self, personnummer: str, request_id: str) -> Answer:
        timeout = self.options.timeout
        try:
            async with asyncio.timeout(timeout):
                response = await self._get(personnummer, request_id)
        except (TimeoutError, httpx.TimeoutException):
            raise SkatteverketUnavailable(f"no answer within {timeout:g} s", TIMEOUT) from None
        except httpx.HTTPError as error:
            detail = f" ({error!r})"  # hosts and addresses: for the log, not for the caller
            raise SkatteverketUnavailable("cannot connect", CONNECTION, detail=detail) from None
        return _answer(personnummer, response)

    async def _get(self, personnummer: str, request_id: str) -> httpx.Response:
        """GET the person; once more if the connection failed before an answer began."""
        path, headers = f"/personer/{personnummer}", {"X-Request-ID": request_id}
        try:
            return await self.http.get(path, headers=headers)
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            return await self.http.get(path, headers=headers)


def _answer(personnummer: str, response: httpx.Response) -> Answer:
    fetched_at = dt.datetime.now(dt.UTC)
    if response.status_code == 404:
        return Answer(personnummer, None, fetched_at)
    if response.status_code != 200:
        raise SkatteverketUnavailable(f"answered HTTP {response.status_code}", BAD_STATUS)
    try:
        person = Person.model_validate_json(response.content)
    except ValidationError as error:
        raise SkatteverketUnavailable(
            f"answered something unreadable ({error.error_count()} problems)", INVALID
        ) from None
    if person.personnummer != personnummer or not person.complete:
        raise SkatteverketUnavailable("answered for another number or without names", INVALID)
    if person.protected:  # keep nothing but the fact, whatever else was sent
        person = Person.model_validate({"personnummer": personnummer, "skyddad": True})
    return Answer(personnummer, person, fetched_at)
