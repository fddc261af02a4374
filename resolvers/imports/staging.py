"""Records streamed into a staging table, one wide row each, while the file is read.

One COPY stream carries the whole file: the reader parses the next records while the
server stores the ones already sent, so parsing (Python) and storing (PostgreSQL) run on
two cores at once. Addresses sit in the row by kind (F, S, U: nine columns each) and
relations as four parallel arrays, so a record is one row and one stream suffices. The
table is temporary (no WAL) and dropped when the file's transaction ends; the rounds
(``resolvers.imports.rounds``) read it set-based. The fast path into an empty register
fills it chunk by chunk instead (``resolvers.imports.pipeline``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from operator import attrgetter

import asyncpg

from resolvers.imports.records import FULL, Record

TABLE = "import_record"
ADDRESS_FIELDS = (
    "care_of", "line1", "line2", "line3", "postal_code", "postal_town",
    "county_code", "municipality_code", "country",
)  # fmt: skip
ADDRESS_KINDS = ("F", "S", "U")

COLUMNS = (
    "post_id", "changed_at", "total", "personnummer", "protection", "new_personnummer",
    "deregistration_code", "deregistration_date",
    "first_names", "given_name_code", "middle_name", "last_name",
    "has_registration", "registered_on", "county_code", "municipality_code",
    "property_designation",
    "address_kinds",
    *(f"{kind.lower()}_{name}" for kind in ADDRESS_KINDS for name in ADDRESS_FIELDS),
    "civil_status", "civil_status_date",
    "relation_kinds", "relation_numbers", "relation_from", "relation_to",
)  # fmt: skip

_ADDRESS_COLUMNS = ",\n    ".join(
    f"{kind.lower()}_{name} text" for kind in ADDRESS_KINDS for name in ADDRESS_FIELDS
)

# Each record's PostId once: a second record with the same PostId is a unique violation
# during the COPY itself (the whole file refused), checked by the database, whatever the
# file's size. A number carried by a record is written as its person's key: rounds apply
# a person's records in PostId order.
CREATE_STAGING = f"""
CREATE TEMP TABLE {TABLE} (
    post_id bigint NOT NULL,
    changed_at timestamp,
    total boolean NOT NULL,
    personnummer text NOT NULL,
    protection text,
    new_personnummer text,
    deregistration_code text,
    deregistration_date date,
    first_names text,
    given_name_code text,
    middle_name text,
    last_name text,
    has_registration boolean NOT NULL,
    registered_on date,
    county_code text,
    municipality_code text,
    property_designation text,
    address_kinds text[],
    {_ADDRESS_COLUMNS},
    civil_status text,
    civil_status_date date,
    relation_kinds text[],
    relation_numbers text[],
    relation_from date[],
    relation_to date[]
) ON COMMIT DROP
"""
STAGING_POST_IDS = f"CREATE UNIQUE INDEX {TABLE}_post_id ON {TABLE} (post_id)"
ANALYZE_STAGING = f"ANALYZE {TABLE}"

_NO_ADDRESS = (None,) * len(ADDRESS_FIELDS)
_NO_RELATIONS, _EMPTY_RELATIONS = (None,) * 4, ((),) * 4
_address_fields = attrgetter(*ADDRESS_FIELDS)
_relation_fields = attrgetter("kind", "personnummer", "valid_from", "valid_to")


def staged_row(record: Record, full: bool) -> tuple[object, ...]:
    """The record as a row in ``COLUMNS`` order; a full extract's records are all total.
    Written for speed: it runs per record."""
    names, registration, addresses = record.names, record.registration, record.addresses
    deregistration, civil, relations = (
        record.deregistration, record.civil_status, record.relations
    )  # fmt: skip
    by_kind: dict[str, tuple[object, ...]] = {}
    kinds = None
    if addresses is not None:
        by_kind = {address.kind: _address_fields(address) for address in addresses}
        kinds = list(by_kind)
    columns: tuple[object, ...] = _NO_RELATIONS
    if relations is not None:
        columns = tuple(zip(*map(_relation_fields, relations), strict=True)) or _EMPTY_RELATIONS
    return (
        record.post_id, record.changed_at, full or record.total, record.personnummer,
        record.protection,
        record.new_personnummer,
        *((deregistration.code, deregistration.date) if deregistration else (None, None)),
        *((names.first_names, names.given_name_code, names.middle_name, names.last_name)
          if names else (None, None, None, None)),
        registration is not None,
        *((registration.registered_on, registration.county_code,
           registration.municipality_code, registration.property_designation)
          if registration else (None, None, None, None)),
        kinds,
        *by_kind.get("F", _NO_ADDRESS), *by_kind.get("S", _NO_ADDRESS),
        *by_kind.get("U", _NO_ADDRESS),
        *((civil.code, civil.since) if civil else (None, None)),
        *columns,
    )  # fmt: skip


class SourceFailed(Exception):
    """The source raised while its records were read; ``error`` is what it raised."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def read(records: Iterator[Record]) -> Iterator[Record]:
    """The records, with whatever the source raises as ``SourceFailed``."""
    try:
        yield from records
    except Exception as error:  # the reader's refusal, possibly at the very end
        raise SourceFailed(error) from error


async def _rows(
    records: Iterator[Record], full: bool, progress: Callable[[int], None], every: int
) -> AsyncIterator[tuple[object, ...]]:
    done = 0
    for record in read(records):
        yield staged_row(record, full)
        done += 1
        if done % every == 0:
            progress(done)
    progress(done)


async def create(connection: asyncpg.Connection) -> None:
    await connection.execute(CREATE_STAGING)
    await connection.execute(STAGING_POST_IDS)


async def stream(
    connection: asyncpg.Connection,
    records: Iterator[Record],
    kind: str,
    progress: Callable[[int], None],
    *,
    every: int = 10_000,
) -> None:
    """Stream ``records`` into the staging table in one COPY.

    A full extract's records are all total, whatever each says.

    Raises:
        SourceFailed: the records' iterator raised (the COPY is aborted).
        asyncpg.UniqueViolationError: two records share a PostId.
    """
    rows = _rows(records, kind == FULL, progress, every)
    await connection.copy_records_to_table(TABLE, records=rows, columns=COLUMNS)
    await connection.execute(ANALYZE_STAGING)
