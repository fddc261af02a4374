"""An operation run as a background job runs it: no HTTP, and its audit in its transaction.

A job (an export, an import's follow-up) makes its change and runs operations on one
connection in one transaction; the access log rows are written on that connection, so
the change and the record of what it showed commit together, or neither does.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from api.operation import Pipeline, Transport
from api.settings import Settings
from resolvers.db import Database
from resolvers.domain.access import Tier, Viewer
from schema.build import build_schema
from schema.engine import Engine
from tests import factories

EXPORT = "query Export($p: String!) { person(personnummer: $p) { ... on Person { lastName } } }"
JOB = Viewer("nightly-export", Tier.BASIC, organisation="Västfolket", client="export-job")
MARK = "UPDATE person SET key_code = $2 WHERE personnummer = $1"
KEY_CODE = "SELECT key_code FROM person WHERE personnummer = $1"


@pytest.fixture
def pipeline(settings: Settings, engine: str) -> Pipeline:
    engine_ = Engine(build_schema(), settings.limits(), stock=engine == "stock")
    return Pipeline(engine_, access_log_timeout=settings.access_log_timeout_seconds)


async def audited(pool: asyncpg.Pool, request_id: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT kind, personnummer FROM access_log WHERE request_id = $1", request_id
    )
    return [(row["kind"], row["personnummer"]) for row in rows]


@pytest.mark.parametrize("commit", [False, True], ids=["rolled back", "committed"])
async def test_a_jobs_change_and_its_audit_commit_or_roll_back_together(
    pipeline: Pipeline, clean_db: asyncpg.Pool, commit: bool
) -> None:
    number = await factories.person(clean_db, last_name="Ek")
    request_id = f"job-{uuid.uuid4().hex}"
    prepared = pipeline.engine.prepare(EXPORT)
    before = await clean_db.fetchval(KEY_CODE, number)
    async with clean_db.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(MARK, number, "EXP1")  # the job's own change
        transport = Transport(Database(clean_db), request_id, "ÄR-2026/7", connection=connection)
        outcome = await pipeline.run(prepared, {"p": number}, "Export", JOB, transport)
        assert outcome.refusal is None and outcome.result is not None
        assert outcome.result.data == {"person": {"lastName": "Ek"}}
        assert outcome.disclosed is not None and list(outcome.disclosed.seen_locally) == [number]
        assert await audited(clean_db, request_id) == []  # not visible before the commit
        await (transaction.commit() if commit else transaction.rollback())
    assert await audited(clean_db, request_id) == ([("SEEN", number)] if commit else [])
    assert await clean_db.fetchval(KEY_CODE, number) == ("EXP1" if commit else before)


async def test_an_audit_outside_a_transaction_is_refused_and_nothing_shown(
    pipeline: Pipeline, clean_db: asyncpg.Pool
) -> None:
    # Written outside one, the rows would commit whatever the job did next.
    number = await factories.person(clean_db, last_name="Ek")
    request_id = f"job-{uuid.uuid4().hex}"
    async with clean_db.acquire() as connection:
        transport = Transport(Database(clean_db), request_id, connection=connection)
        prepared = pipeline.engine.prepare(EXPORT)
        outcome = await pipeline.run(prepared, {"p": number}, None, JOB, transport)
    assert outcome.result is None and outcome.disclosed is None
    assert outcome.refusal is not None and outcome.refusal.code == "AUDIT_UNAVAILABLE"
    assert await audited(clean_db, request_id) == []
