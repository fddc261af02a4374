"""Applying one delivery file to the register: ``apply_file``.

One transaction per file: the register's changes, the change events and the ledger row
commit together or not at all; so do the pruning of events past the retention and the
notification that wakes the change feed's listeners (sent only when the file wrote
events, delivered only at the commit). One import at a time: the transaction holds an
advisory lock. A refused file leaves register and events as they were; its ledger row
(``failed``, with the reason) is written afterwards in a transaction of its own. Lookups
keep reading the register meanwhile and see it before or after the file, never between.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import asyncpg

from resolvers.changes import notify, retention
from resolvers.imports import bulk, fill, full, ledger, rounds, staging
from resolvers.imports.plan import Target
from resolvers.imports.records import CHANGES, FULL, Delivery, Record
from resolvers.imports.source import (
    ALREADY_APPLIED,
    APPLIED,
    DRY_RUN,
    ImportBusy,
    ImportRefused,
    Options,
    Outcome,
    Source,
)

# Serialises imports, whichever process runs them ("VFim").
IMPORT_LOCK_KEY = 0x5646696D
TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1)"
WAIT_FOR_LOCK = "SELECT pg_advisory_xact_lock($1)"
# The first record the register cannot take, and why (one pass over the staged file).
REFUSED_RECORD = """
SELECT post_id, CASE
    WHEN new_personnummer = personnummer THEN 'a Hänvisning to its own number'
    WHEN personnummer = ANY (relation_numbers) THEN 'a relation to its own person'
    ELSE 'a total record without Namn'
END
FROM import_record
WHERE (total AND protection IS NULL AND new_personnummer IS NULL AND first_names IS NULL)
   OR new_personnummer = personnummer
   OR personnummer = ANY (relation_numbers)
ORDER BY post_id
LIMIT 1
"""
# Persons up to this id were in the register before the file (ids only grow).
KNOWN_PERSONS = "SELECT coalesce(max(id), 0) FROM person"
_DUPLICATE_KEY = re.compile(r"\(post_id\)=\((\d+)\)")


class _Undone(Exception):
    """Roll the file's transaction back, and answer ``outcome``."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


class _Counting:
    """The caller's progress, and how many records were read (for a refusal's row)."""

    def __init__(self, options: Options) -> None:
        self.progress, self.records = options.progress, 0

    def __call__(self, records: int) -> None:
        self.progress.read(records)

    def counted(self, records: Iterator[Record]) -> Iterator[Record]:
        for record in records:
            self.records += 1
            yield record


async def apply_file(
    connection: asyncpg.Connection, source: Source, name: str, options: Options | None = None
) -> Outcome:
    """Apply ``source`` (a file called ``name``) in one transaction.

    Raises:
        ImportRefused: the file is malformed or breaks a rule; nothing was applied and a
            ``failed`` ledger row was written (not on a dry run).
        ImportBusy: another import is running and ``options.wait`` is false.
    """
    options = options or Options()
    counting, clock = _Counting(options), time.monotonic()
    try:
        async with connection.transaction():
            await _lock(connection, options.wait)
            with _refusals(name):
                outcome = await _apply(connection, source, name, options, counting)
            if outcome.status != APPLIED:
                raise _Undone(outcome)
            pruned = await retention.prune(connection, options.retention)
            await notify.notify_if_written(connection)
            outcome = replace(outcome, pruned=pruned.events)
    except _Undone as undone:
        outcome = undone.outcome
    except ImportRefused as refused:
        if not options.dry_run:
            failure = (_sha256(source), _kind(source, options), counting.records, refused.reason)
            await ledger.record_failure(connection, source.delivery, name, failure)
        raise
    return replace(outcome, seconds=time.monotonic() - clock)


async def _lock(connection: asyncpg.Connection, wait: bool) -> None:
    if wait:
        await connection.execute(WAIT_FOR_LOCK, IMPORT_LOCK_KEY)
    elif not await connection.fetchval(TRY_LOCK, IMPORT_LOCK_KEY):
        raise ImportBusy()


async def _apply(
    connection: asyncpg.Connection,
    source: Source,
    name: str,
    options: Options,
    counting: _Counting,
) -> Outcome:
    delivery, kind = source.delivery, _kind(source, options)
    earlier = await _applied_before(connection, source, name, options)
    if earlier is not None:
        return Outcome(name, ALREADY_APPLIED, kind, file_id=earlier.id)
    started = await ledger.begin(connection, delivery, name, kind)
    extract = await ledger.delivery_start(connection, delivery, started) if kind == FULL else None

    async def check(read: int) -> None:
        """Once every record is read: the same file applied before? any refusal?"""
        same = await ledger.applied_with(connection, source.sha256.lower())
        if same is not None:
            raise _Undone(Outcome(name, ALREADY_APPLIED, kind, read, file_id=same.id))
        await _check(connection, name, delivery, read)
        options.progress.applying()

    order_id = None if delivery is None else delivery.order_id
    known = await connection.fetchval(KNOWN_PERSONS)
    target = Target(options.region, extract.id if extract else None, started.id, order_id, known)
    completes = extract is not None and await ledger.delivery_complete(connection, delivery)
    records = counting.counted(source.records())
    counts = await _write(connection, records, counting, check, target, completes)
    if extract is not None:
        await _complete(connection, completes, extract, started, counts)
    await ledger.finish(connection, started.id, source.sha256.lower(), counting.records, counts)
    status = DRY_RUN if options.dry_run else APPLIED
    file_id = None if options.dry_run else started.id
    return Outcome(name, status, kind, counting.records, counts, file_id)


async def _write(
    connection: asyncpg.Connection,
    records: Iterator[Record],
    counting: _Counting,
    check: Callable[[int], Awaitable[None]],
    target: Target,
    completes: bool,
) -> rounds.Counts:
    """Stage and apply the records: straight into an empty register for a full extract,
    else in rounds."""
    extract = target.full_extract
    await connection.execute(bulk.MEMORY)
    await staging.create(connection)
    if extract is not None and await connection.fetchval(full.ONLY_THIS_DELIVERY, extract):
        empty = await connection.fetchval(full.REGISTER_IS_EMPTY)
        return await fill.fill_new(
            connection, records, counting, check, target, empty=empty, completes=completes
        )
    await bulk.put_back(connection)  # a first delivery left incomplete: in service now
    await staging.stream(connection, records, FULL if extract else CHANGES, counting)
    await check(counting.records)
    return await rounds.apply_rounds(connection, target)


async def _complete(
    connection: asyncpg.Connection,
    completes: bool,
    extract: ledger.Started,
    started: ledger.Started,
    counts: rounds.Counts,
) -> None:
    """When this file completes its full delivery, who it did not carry leaves."""
    if completes:
        left, _told = await connection.fetchrow(
            full.LEAVE_UNCARRIED, extract.id, extract.started_at, started.id
        )
        counts["left"] += left
    await connection.execute(full.ANALYZE_REGISTER)


async def _applied_before(
    connection: asyncpg.Connection, source: Source, name: str, options: Options
) -> ledger.Applied | None:
    """The applied file this one is, if any; refuses a different file in its place."""
    if options.sha256_hint is not None:
        same = await ledger.applied_with(connection, options.sha256_hint.lower())
        if same is not None:
            return same
    delivery = source.delivery
    taken = None if delivery is None else await ledger.applied_at_place(connection, delivery)
    if taken is None or delivery is None:
        return None
    applied, sha256 = taken
    for _record in staging.read(source.records()):  # its sha256 tells whether it is the same
        pass
    if source.sha256.lower() == sha256:
        return applied
    raise ImportRefused(
        name,
        f"file {delivery.file_no} of delivery {delivery.order_id} (job {delivery.job_id}) "
        f"was applied from another file, {applied.file_name} (import_file {applied.id})",
    )


async def _check(
    connection: asyncpg.Connection, name: str, delivery: Delivery | None, read: int
) -> None:
    if delivery is not None and read != delivery.records_in_file:
        reason = f"AntalPoster says {delivery.records_in_file} records, the file has {read}"
        raise ImportRefused(name, reason)
    refused = await connection.fetchrow(REFUSED_RECORD)
    if refused is not None:
        post_id, reason = refused
        raise ImportRefused(name, f"record with PostId {post_id}: {reason}")


@contextmanager
def _refusals(name: str) -> Iterator[None]:
    """What refuses a file, as the one exception callers handle."""
    try:
        yield
    except staging.SourceFailed as failed:
        raise ImportRefused(name, str(failed.error)) from failed.error
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != f"{staging.TABLE}_post_id":
            raise ImportRefused(name, f"the register refused a record: {error.message}") from None
        found = _DUPLICATE_KEY.search(error.detail or "")
        post_id = found.group(1) if found else "?"
        raise ImportRefused(name, f"two records have PostId {post_id}") from None
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as error:
        raise ImportRefused(name, f"the register refused a record: {error.message}") from None


def _kind(source: Source, options: Options) -> str:
    delivery = source.delivery
    return FULL if options.full or (delivery is not None and delivery.kind == FULL) else CHANGES


def _sha256(source: Source) -> str | None:
    try:
        return source.sha256.lower()
    except Exception:  # not known: the file was not read to the end
        return None
