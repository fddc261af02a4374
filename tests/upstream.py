"""The Skatteverket simulator as the tests use it: a real server on a thread, one per
test module, and its admin API (knobs, call counts, its numbers)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from resolvers.dev.skatteverket.simulator import RunningSimulator, Simulator


class Upstream:
    """The simulator's admin API: knobs, call counts and its numbers."""

    def __init__(self, running: RunningSimulator) -> None:
        self.url = running.url
        self.http = httpx.Client(base_url=running.url, timeout=5)
        self.examples = running.simulator.register.examples
        self.persons = running.simulator.register.persons

    def post(self, path: str) -> None:
        self.http.post(path).raise_for_status()

    def knobs(self, **values: float) -> None:
        self.http.put("/admin/knobs", json=values).raise_for_status()

    def calls(self, personnummer: str | None = None) -> int:
        counted = self.http.get("/admin/calls").json()
        if personnummer is None:
            return int(counted["total"])
        return int(counted["byPersonnummer"].get(personnummer, 0))

    def number(self, kind: str, index: int = 0) -> str:
        return self.examples[kind][index]


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with RunningSimulator(Simulator()) as running:
        yield running


@pytest.fixture
def upstream(simulator: RunningSimulator) -> Iterator[Upstream]:
    control = Upstream(simulator)
    control.post("/admin/reset")
    yield control
    control.post("/admin/reset")
    control.http.close()
