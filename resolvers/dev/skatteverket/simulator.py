"""A Skatteverket simulator: a real HTTP server speaking the lookup contract.

Tests, the demo and integrators exercise the real client over real HTTP against it,
and turn its knobs to make it slow, failing or silent. Besides
``GET /personer/{personnummer}`` it has a small admin API: ``GET/PUT /admin/knobs``,
``GET /admin/calls`` (lookups it received, by number), ``POST /admin/reset`` and
``GET /admin/examples`` (numbers to try, by kind). See docs/skatteverket.md.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from resolvers.dev.skatteverket.sim_data import COORDINATION, SimulatedRegister, build
from resolvers.domain.personnummer import Personnummer, is_canonical

PERSON_PATH = "/personer/{personnummer}"


@dataclass(frozen=True, slots=True)
class Knobs:
    """How badly the simulator behaves. Rates are exact, not random: an error rate
    of 0.25 fails every fourth lookup, so a test knows what it will get."""

    latency_ms: float = 0.0  # added before every answer
    error_rate: float = 0.0  # share of lookups answered 503
    timeout_rate: float = 0.0  # share of lookups left unanswered for hang_seconds
    hang_seconds: float = 30.0

    def checked(self) -> Knobs:
        for name in ("error_rate", "timeout_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie between 0 and 1")
        if self.latency_ms < 0 or self.hang_seconds < 0:
            raise ValueError("latency_ms and hang_seconds may not be negative")
        return self


def _every(rate: float, count: int) -> bool:
    """True for an exact ``rate`` share of the counts 1, 2, 3, …"""
    return math.floor(count * rate) > math.floor((count - 1) * rate)


class Simulator:
    def __init__(self, register: SimulatedRegister | None = None, knobs: Knobs = Knobs()) -> None:
        self.register = register or build()
        self.initial_knobs = knobs.checked()
        self.knobs = knobs
        self.calls: Counter[str] = Counter()
        self.total = 0

    def try_number(self) -> str:
        """A samordningsnummer it knows, as an official would type it."""
        return Personnummer(self.register.examples[COORDINATION][0]).short()

    def reset(self) -> None:
        self.knobs = self.initial_knobs
        self.calls.clear()
        self.total = 0

    async def person(self, request: Request) -> Response:
        number = request.path_params["personnummer"]
        self.total += 1
        self.calls[number] += 1
        knobs, count = self.knobs, self.total
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        if _every(knobs.timeout_rate, count):
            await asyncio.sleep(knobs.hang_seconds)
            return JSONResponse({"fel": "tidsgräns"}, status_code=504)
        if _every(knobs.error_rate, count):
            return JSONResponse({"fel": "tjänsten är inte tillgänglig"}, status_code=503)
        if not is_canonical(number):  # 12 digits 0-9, as the contract says
            return JSONResponse({"fel": "personnummer anges med 12 siffror"}, status_code=400)
        person = self.register.persons.get(number)
        if person is None:
            return JSONResponse({"personnummer": number, "fel": "finns inte"}, status_code=404)
        body = person.model_dump_json(by_alias=True, exclude_none=True)
        return Response(body, media_type="application/json")

    async def get_knobs(self, request: Request) -> Response:
        return JSONResponse(asdict(self.knobs))

    async def put_knobs(self, request: Request) -> Response:
        try:
            given = await request.json()
            names = {item.name for item in fields(Knobs)}
            unknown = set(given) - names
            if unknown:
                raise ValueError(f"unknown knobs {sorted(unknown)}; known: {sorted(names)}")
            self.knobs = replace(self.knobs, **{k: float(v) for k, v in given.items()}).checked()
        except (ValueError, TypeError, AttributeError) as error:
            return JSONResponse({"fel": str(error)}, status_code=400)
        return JSONResponse(asdict(self.knobs))

    async def get_calls(self, request: Request) -> Response:
        return JSONResponse({"total": self.total, "byPersonnummer": dict(self.calls)})

    async def post_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse(asdict(self.knobs))

    async def get_examples(self, request: Request) -> Response:
        return JSONResponse(self.register.examples)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(PERSON_PATH, self.person),
                Route("/admin/knobs", self.get_knobs, methods=["GET"]),
                Route("/admin/knobs", self.put_knobs, methods=["PUT"]),
                Route("/admin/calls", self.get_calls),
                Route("/admin/reset", self.post_reset, methods=["POST"]),
                Route("/admin/examples", self.get_examples),
            ]
        )


@dataclass(frozen=True, slots=True)
class Tls:
    """Serve HTTPS; with ``client_ca``, require client certificates it signed (mTLS)."""

    cert: str
    key: str | None = None  # None: the key is in the certificate file
    client_ca: str | None = None

    def uvicorn_options(self) -> dict[str, Any]:
        return {
            "ssl_certfile": self.cert,
            "ssl_keyfile": self.key,
            "ssl_ca_certs": self.client_ca,
            "ssl_cert_reqs": ssl.CERT_REQUIRED if self.client_ca else ssl.CERT_NONE,
        }


THREAD_NAME = "skatteverket-simulator"


class _OnlyWarnings(logging.Filter):
    """uvicorn's lifecycle records from the simulator's thread are dropped: beside the API
    they read as the API's own ("Shutting down" twice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.threadName != THREAD_NAME


class RunningSimulator:
    """The simulator served by uvicorn on a thread of its own, beside other work."""

    def __init__(
        self,
        simulator: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: Tls | None = None,
    ) -> None:
        self.simulator = simulator
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host, self.port = self.socket.getsockname()[:2]
        self.scheme = "https" if tls else "http"
        config = uvicorn.Config(
            simulator.app(), log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=1, **(tls.uvicorn_options() if tls else {}),
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True,
            name=THREAD_NAME,
        )  # fmt: skip
        self._quiet = _OnlyWarnings()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> RunningSimulator:
        logging.getLogger("uvicorn.error").addFilter(self._quiet)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Skatteverket simulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.socket.close()
        logging.getLogger("uvicorn.error").removeFilter(self._quiet)

    def __enter__(self) -> RunningSimulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def first_free_port(host: str, preferred: int) -> int:
    """``preferred`` if nothing listens there, else one the system picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, preferred))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])
