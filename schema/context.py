"""Per-request state, built in one place for the HTTP view and the tests alike."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from resolvers.audit.access_log import AccessRecord
from resolvers.changes.wakeups import Wakeups
from resolvers.db import Database
from resolvers.domain.access import Tier, Viewer
from resolvers.register.persons import PersonByPersonnummerLoader
from resolvers.register.relations import RelationsByPersonIdLoader
from resolvers.register.rows import RelationRow
from resolvers.selections.orders import Policy
from resolvers.skatteverket.client import SkatteverketClient

NO_SETTINGS = Policy()  # the settings' defaults, for a context built without settings


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask for; the defaults are the settings' defaults.

    ``max_tokens`` (by the parser), ``max_selections``, ``max_depth``, ``max_aliases``
    and ``max_cost`` are checked before validation (``schema.engine.complexity``); the others
    by the resolvers.
    """

    max_page_size: int = 500
    search_max_matches: int = 200
    max_depth: int = 10
    max_aliases: int = 50
    max_tokens: int = 2000
    max_cost: int = 50_000
    max_selections: int = 300


class Loaders:
    """A request's DataLoaders, each made when first used: most requests need one or none."""

    __slots__ = ("_person", "_pool", "_relations", "_tier")

    def __init__(self, pool: asyncpg.Pool, tier: Tier) -> None:
        self._pool, self._tier = pool, tier
        self._person: PersonByPersonnummerLoader | None = None
        self._relations: RelationsByPersonIdLoader | None = None

    def clear(self) -> None:
        """Forget what was loaded: the next batch of a subscription reads anew."""
        self._person = self._relations = None

    @property
    def person_by_personnummer(self) -> PersonByPersonnummerLoader:
        if self._person is None:
            self._person = PersonByPersonnummerLoader(self._pool, self._tier)
        return self._person

    @property
    def relations_by_person_id(self) -> RelationsByPersonIdLoader:
        if self._relations is None:
            self._relations = RelationsByPersonIdLoader(self._pool, self._tier)
        return self._relations


@dataclass(frozen=True, slots=True)
class Context:
    viewer: Viewer
    # Lookups read from ``database.read``; the access log goes to ``database.write``.
    database: Database
    loaders: Loaders
    limits: Limits
    request_id: str
    # The fallback for numbers the register does not hold; None when not connected.
    skatteverket: SkatteverketClient | None = None
    # Relations loaded ahead for whole pages, by person id (see load_relations_ahead).
    relations_ahead: dict[int, list[RelationRow]] = field(default_factory=dict)
    # What this request showed, for the access log (noted by the execution context).
    access: AccessRecord = field(default_factory=AccessRecord)
    # What wakes a subscription's source when events may have committed; None where
    # nothing is followed (a job, a test of queries).
    wakeups: Wakeups | None = None
    # A mutation's open transaction: its change is made, and its audit written, on it.
    connection: asyncpg.Connection | None = None
    # What selection orders are priced and capped by.
    selections: Policy = NO_SETTINGS

    def next_batch(self) -> AccessRecord:
        """What the batch just executed showed, handed over; the context is fresh for
        the next batch of a subscription (the same objects: executors hold them)."""
        self.loaders.clear()
        self.relations_ahead.clear()
        return self.access.take()


def build_context(
    database: Database,
    viewer: Viewer,
    *,
    request_id: str = "-",
    limits: Limits | None = None,
    skatteverket: SkatteverketClient | None = None,
    wakeups: Wakeups | None = None,
    connection: asyncpg.Connection | None = None,
    selections: Policy | None = None,
) -> Context:
    """Fresh loaders for one request (they cache, and bind the running event loop)."""
    loaders = Loaders(database.read, viewer.tier)
    return Context(
        viewer, database, loaders, limits or Limits(), request_id, skatteverket,
        wakeups=wakeups, connection=connection, selections=selections or NO_SETTINGS,
    )  # fmt: skip
