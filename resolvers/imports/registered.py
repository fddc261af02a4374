"""The registered address's criteria on the person's row, as every write keeps them.

A selection reads a person's folkbokföringsadress (the address of kind F) from four
columns of their own row (migration 0017), so that counting reads one table: whether
they have one, its municipality (county and municipality code, as ``parts.MUNICIPALITY``),
its postal code, and its postal town folded (``search_fold``). They must say what the
stored address says, always. The importer is the register's one writer, and every
statement of it that writes a person's row writes them too, from the same values it
writes the address from — no second write of the row, no trigger (either would double a
full extract's cost):

- the fast path's insert, from the staged record (``WRITTEN``: a protected person's
  record writes no address);
- a round's persons, from the record when it carries addresses, else as stored
  (``LEFT_BY_RECORD``, in ``import_next``);
- a protection, which purges the address (``PURGED``).

Every other change of an address deletes its person (leaving, a number already in the
register, a complete full extract's leavers): the row goes with it. ``of_address`` is the
rule itself, over any row with an address's columns.
"""

from __future__ import annotations

COLUMNS = (
    "has_registered_address", "registered_municipality", "registered_postal_code",
    "registered_town_folded",
)  # fmt: skip


def of_address(fields: str, present: str) -> tuple[str, ...]:
    """The four values, in ``COLUMNS`` order, of a folkbokföringsadress whose columns are
    ``{fields}county_code`` and the others, where ``present`` says there is one."""
    return (
        f"coalesce({present}, false)",
        f"CASE WHEN {present} THEN {fields}county_code || {fields}municipality_code END",
        f"CASE WHEN {present} THEN {fields}postal_code END",
        f"CASE WHEN {present} THEN search_fold({fields}postal_town) END",
    )


# What a staged record (r) says: the F address it carries, in its f_ columns.
_CARRIED = "'F' = ANY (r.address_kinds)"
STAGED = of_address("r.f_", _CARRIED)
# What the fast path writes of a staged record: a protected person's, nothing.
WRITTEN = of_address("r.f_", f"r.protection IS NULL AND {_CARRIED}")


def left_by_record(carried: str) -> str:
    """The columns (select list) as a round's record leaves them: from the record when
    ``carried`` (it carries addresses), else as stored in ``p`` — none for a new person."""
    first, *rest = (
        f"CASE WHEN {carried} THEN {value} ELSE p.{column} END"
        for value, column in zip(STAGED, COLUMNS, strict=True)
    )
    values = [f"coalesce({first}, false)", *rest]
    return ",\n        ".join(
        f"{value} AS {column}" for value, column in zip(values, COLUMNS, strict=True)
    )


# A person without a folkbokföringsadress (a protection purges it).
_NONE = ("false", "NULL", "NULL", "NULL")
PURGED = ", ".join(f"{column} = {value}" for column, value in zip(COLUMNS, _NONE, strict=True))
