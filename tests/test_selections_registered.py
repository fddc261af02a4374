"""A selection reads the registered address from the person's row (migration 0017): after
whatever the importer does to a person — the fast path's doubled records, a move, a
partial record, a protection, a lifted one, a number change, leaving the region — the
preview and the file select exactly the persons the join of person and address did."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil

import asyncpg
import pytest

from api.settings import Settings
from resolvers.imports.records import SEKRETESS, SKYDDAD, Record
from resolvers.register.rows import AddressRow
from resolvers.selections import orders
from resolvers.selections.criteria import (
    PLANNED_FOR_ITS_CRITERIA,
    SELECTED,
    SELECTED_WITH_ADDRESS,
    STATUSES,
    Criteria,
    checked,
)
from tests.factories import number
from tests.importing import (
    apply,
    assert_registered_addresses_kept,
    changes,
    deregistered,
    full_extract,
    names,
    partial,
    record,
    registered,
)
from tests.selections import CLEAN, Caller, caller
from tests.test_selections import run_worker

__all__ = ["caller"]  # a fixture

# The statement as it read the address before migration 0017, joined: the reference.
JOINED = """
FROM visible_person AS p
JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE ($1::date IS NULL OR p.birth_date >= $1::date)
  AND ($2::date IS NULL OR p.birth_date <= $2::date)
  AND ($3::text IS NULL OR
       CASE WHEN substr(p.personnummer, 11, 1)::int % 2 = 1 THEN 'M' ELSE 'F' END = $3::text)
  AND ($4::text[] IS NULL OR a.county_code || a.municipality_code = ANY($4::text[]))
  AND ($5::text IS NULL OR a.postal_code >= $5::text)
  AND ($6::text IS NULL OR a.postal_code <= $6::text)
  AND ($7::text IS NULL OR search_fold(a.postal_town) = search_fold($7::text))
  AND ($8::text[] IS NULL OR p.key_code = ANY($8::text[]))
  AND ($9::text[] IS NULL OR p.civil_status = ANY($9::text[]))
  AND p.status = ANY($10::text[])
"""
CRITERIA = [
    Criteria(),
    Criteria(municipalities=("1480",)),
    Criteria(municipalities=("1481",)),
    Criteria(municipalities=("1480", "1490")),
    Criteria(postal_code_from="41000", postal_code_to="41999"),
    Criteria(postal_code_from="43000"),
    Criteria(postal_town="Göteborg"),
    Criteria(postal_town="GOTEBORG"),
    Criteria(postal_town="borås"),
    Criteria(postal_town="Boras"),
    Criteria(statuses=STATUSES),
    Criteria(municipalities=("1480",), statuses=("REGISTERED", "DECEASED")),
]
BORN, BORN_AGAIN = dt.date(1947, 8, 9), dt.date(1947, 8, 10)  # no other test's
PRESENT = """
SELECT personnummer FROM person WHERE personnummer = ANY ($1::text[]) ORDER BY personnummer
"""


def address(
    town: str, code: str, municipality: str | None, county: str | None = "14"
) -> AddressRow:
    return AddressRow(
        "F", line2="Kyrkogatan 2", postal_code=code, postal_town=town, county_code=county,
        municipality_code=municipality,
    )  # fmt: skip


GÖTEBORG = address("GÖTEBORG", "41263", "80")
MÖLNDAL = address("MÖLNDAL", "43130", "81")
BORÅS = address("BORÅS", "50330", "90")
UNCODED = address("GÖTEBORG", "41101", None, None)  # Adresser without Folkbokforing


async def selected(pool: asyncpg.Pool, statement: str, criteria: Criteria) -> list[str]:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(PLANNED_FOR_ITS_CRITERIA)
        rows = await connection.fetch(
            f"SELECT p.personnummer {statement} ORDER BY 1", *criteria.parameters()
        )
    return [row[0] for row in rows]


async def assert_as_joined(pool: asyncpg.Pool) -> None:
    """For every criterion: the preview's count, the persons the file lists and those the
    export logs are the join's."""
    await assert_registered_addresses_kept(pool)
    for criteria in map(checked, CRITERIA):
        joined = await selected(pool, JOINED, criteria)
        assert await selected(pool, SELECTED, criteria) == joined, criteria
        assert await selected(pool, SELECTED_WITH_ADDRESS, criteria) == joined, criteria
        assert await orders.count(pool, criteria) == len(joined), criteria


async def everyone(pool: asyncpg.Pool, municipality: str | None = None) -> list[str]:
    municipalities = (municipality,) if municipality else ()
    return await selected(pool, SELECTED, Criteria(municipalities=municipalities))


async def lived(register: asyncpg.Pool, database_url: str) -> dict[str, str]:
    """A register that saw each thing the importer does; its persons by role."""
    who = {name: number(BORN) for name in (
        "mover", "kept", "uncoded", "homeless", "protected", "doubled", "to_protect",
        "to_lift", "renumbered", "leaver", "deceased", "borås",
    )}  # fmt: skip
    who["renumbered_to"] = number(BORN_AGAIN)
    at = {name: (number_, index) for index, (name, number_) in enumerate(who.items(), 1)}

    def total(name: str, **parts: object) -> Record:
        return record(at[name][0], at[name][1], **parts)

    await apply(database_url, full_extract(
        total("mover"), total("kept", registration=registered("81"), addresses=(MÖLNDAL,)),
        total("uncoded", registration=None, addresses=(UNCODED,)),
        total("homeless", addresses=()), total("protected", protection=SKYDDAD),
        total("doubled"), record(who["doubled"], 100, registration=registered("81"),
                                 addresses=(MÖLNDAL,)),
        total("to_protect"), total("to_lift", protection=SEKRETESS),
        total("renumbered", registration=registered("81"), addresses=(MÖLNDAL,)),
        total("leaver"), total("deceased", deregistration=deregistered()),
        total("borås", registration=registered("90"), addresses=(BORÅS,)),
    ))  # fmt: skip
    await assert_as_joined(register)
    assert await everyone(register, "1481") == sorted(
        who[name] for name in ("kept", "doubled", "renumbered")
    )
    assert who["uncoded"] in await everyone(register)  # as the join had them
    assert who["homeless"] not in await everyone(register)

    await apply(database_url, changes(
        partial(who["mover"], 200, registration=registered("81"), addresses=(MÖLNDAL,)),
        partial(who["kept"], 201, names=names("Berit")),  # the addresses stay as stored
        partial(who["borås"], 202, addresses=(UNCODED,)),  # an address without codes
        partial(who["homeless"], 203, addresses=(GÖTEBORG,)),
        record(who["to_protect"], 204, protection=SEKRETESS),
        record(who["to_lift"], 205),
        partial(who["renumbered"], 206, new_personnummer=who["renumbered_to"]),
        record(who["leaver"], 207, registration=registered(county="13")),
    ))  # fmt: skip
    return who


async def test_after_every_kind_of_import_the_row_selects_whom_the_address_did(
    register: asyncpg.Pool, database_url: str
) -> None:
    who = await lived(register, database_url)
    await assert_as_joined(register)
    assert await everyone(register, "1481") == sorted(
        who[name] for name in ("mover", "kept", "doubled", "renumbered_to")
    )
    assert await everyone(register, "1480") == sorted(who[n] for n in ("homeless", "to_lift"))
    assert await everyone(register) == sorted(
        who[name] for name in ("mover", "kept", "uncoded", "homeless", "doubled", "to_lift",
                               "renumbered_to", "borås")
    )  # fmt: skip
    # A protection under the number Skatteverket replaced reaches the person under the new.
    await apply(database_url, changes(record(who["renumbered"], 300, protection=SKYDDAD)))
    await assert_as_joined(register)
    assert who["renumbered_to"] not in await everyone(register)
    assert await register.fetchval(
        "SELECT has_registered_address FROM person WHERE personnummer = $1", who["renumbered_to"]
    ) is False  # fmt: skip


@pytest.fixture
async def lived_in(register: asyncpg.Pool, database_url: str, settings: Settings) -> dict[str, str]:
    await register.execute(CLEAN)
    shutil.rmtree(settings.selection_files, ignore_errors=True)
    return await lived(register, database_url)


async def test_the_preview_and_the_file_leave_out_the_protected_and_the_moved(
    lived_in: dict[str, str], caller: Caller, register: asyncpg.Pool, settings: Settings
) -> None:
    who = lived_in
    preview = "query ($c: SelectionCriteria!) { selectionPreview(criteria: $c) { count } }"
    göteborg = {"municipalities": ["1480"]}
    answer = await caller.post(preview, {"c": göteborg})
    assert answer["data"]["selectionPreview"]["count"] == 2  # the homeless now, the lifted
    order_id = await caller.order({"municipalities": ["1481"]}, ["PERSONNUMMER", "MUNICIPALITY"])
    await run_worker(register, settings, order_id)
    body = (await caller.download(order_id)).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))[1:]
    assert rows == sorted(
        [who[name], "1481"] for name in ("mover", "kept", "doubled", "renumbered_to")
    )
    gone = {who[name] for name in ("to_protect", "protected", "leaver", "renumbered")}
    assert not {row[0] for row in rows} & gone
    # The protected are in the register still (the mark alone): the selection leaves them out.
    protected = sorted((who["to_protect"], who["protected"]))
    assert [row[0] for row in await register.fetch(PRESENT, protected)] == protected
