"""The cache of Skatteverket's answers: bounded, timed, and holding only real answers.

The cache itself on a clock the test moves; what the client puts in it against the
simulator over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from resolvers.dev.skatteverket import sim_data
from resolvers.skatteverket.cache import TimedCache
from resolvers.skatteverket.client import ClientOptions, SkatteverketClient, SkatteverketUnavailable
from tests import factories
from tests.upstream import Upstream


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_reused_until_its_time_is_up() -> None:
    clock = Clock()
    cache: TimedCache[str] = TimedCache(ttl=300, max_size=10, clock=clock)
    cache.put("a", "first")
    clock.now += 299.9
    assert cache.get("a") == "first"
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0
    cache.put("a", "second")  # a new answer: its own time from now
    clock.now += 299
    assert cache.get("a") == "second"


def test_a_full_cache_drops_the_least_recently_used_answer() -> None:
    cache: TimedCache[int] = TimedCache(ttl=300, max_size=2, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the more recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


@pytest.mark.parametrize(("ttl", "max_size"), [(0, 10), (300, 0), (0, 0)])
def test_a_zero_time_or_size_keeps_nothing(ttl: float, max_size: int) -> None:
    cache: TimedCache[int] = TimedCache(ttl=ttl, max_size=max_size, clock=Clock())
    cache.put("a", 1)
    assert cache.get("a") is None
    assert len(cache) == 0


@pytest.fixture
async def client(upstream: Upstream) -> AsyncIterator[SkatteverketClient]:
    client = SkatteverketClient(ClientOptions(upstream.url, timeout=0.5, failure_threshold=99))
    yield client
    await client.close()


async def test_found_protected_and_not_found_are_kept(
    client: SkatteverketClient, upstream: Upstream
) -> None:
    numbers = [
        upstream.number(sim_data.OUTSIDE_REGION, 4),
        upstream.number(sim_data.PROTECTED),
        factories.number(),  # not at Skatteverket
    ]
    for number in numbers:
        first = await client.lookup(number)
        assert await client.lookup(number) is first
        assert upstream.calls(number) == 1
    assert len(client.cache) == len(numbers)


async def test_a_failed_call_is_not_kept(client: SkatteverketClient, upstream: Upstream) -> None:
    number = upstream.number(sim_data.OUTSIDE_REGION, 5)
    upstream.knobs(error_rate=1)
    with pytest.raises(SkatteverketUnavailable):
        await client.lookup(number)
    assert len(client.cache) == 0
    upstream.knobs(error_rate=0)
    assert (await client.lookup(number)).person is not None
    assert upstream.calls(number) == 2
