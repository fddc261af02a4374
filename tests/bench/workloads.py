"""The three workloads: the same data asked of both servers, query texts side by side.

Both queries of a workload take the same variables, and the peer's aliases give its answer
the API's field names, so a small normalisation compares them (see ``agreement.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The fields of one person, identical on both sides but for PostGraphile's relation names.
OURS_PERSON_FIELDS = """
    personnummer firstNames givenName lastName
    registeredAddress { careOf line1 line2 postalCode postalTown }
    specialPostalAddress { careOf line1 line2 postalCode postalTown }
    foreignAddress { line1 line2 line3 country }
    relations { kind code personnummer person { personnummer firstNames lastName } }
"""
# PostGraphile lists a person's addresses (one per kind F, S, U) where the API has a field
# per kind; ADDRESS_FIELDS maps them onto the API's fields when answers are compared.
PEER_PERSON_FIELDS = """
    personnummer firstNames givenName lastName
    addresses: addressesByPersonIdList {
        kind careOf line1 line2 line3 postalCode postalTown country
    }
    relations: relationsByPersonIdList {
        kind code personnummer person: personByPersonnummer { personnummer firstNames lastName }
    }
"""
ADDRESS_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "F": ("registeredAddress", ("careOf", "line1", "line2", "postalCode", "postalTown")),
    "S": ("specialPostalAddress", ("careOf", "line1", "line2", "postalCode", "postalTown")),
    "U": ("foreignAddress", ("line1", "line2", "line3", "country")),
}

OURS_PERSON = f"""query Person($p: String!) {{
  person(personnummer: $p) {{ ... on Person {{ {OURS_PERSON_FIELDS} }} }}
}}"""
PEER_PERSON = f"""query Person($p: String!) {{
  person: personByPersonnummer(personnummer: $p) {{ {PEER_PERSON_FIELDS} }}
}}"""

OURS_PAGE = f"""query Page($from: String!, $to: String!) {{
  personsInRange(from: $from, to: $to, first: 100) {{
    edges {{ node {{ {OURS_PERSON_FIELDS} }} }}
    pageInfo {{ hasNextPage }}
  }}
}}"""
PEER_PAGE = f"""query Page($from: String!, $to: String!) {{
  personsInRange(low: $from, high: $to, first: 100) {{
    edges {{ node {{ {PEER_PERSON_FIELDS} }} }}
    pageInfo {{ hasNextPage }}
  }}
}}"""

OURS_SEARCH = f"""query Search($l: String!, $f: String) {{
  searchPersons(lastName: $l, firstName: $f, first: 25) {{
    edges {{ node {{ {OURS_PERSON_FIELDS} }} }}
    pageInfo {{ hasNextPage }}
  }}
}}"""
PEER_SEARCH = f"""query Search($l: String!, $f: String) {{
  searchPersons(lastName: $l, firstName: $f, first: 25) {{
    edges {{ node {{ {PEER_PERSON_FIELDS} }} }}
    pageInfo {{ hasNextPage }}
  }}
}}"""


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    ours: str
    peer: str
    # The root field both answers carry (the peer's by alias or by name).
    root: str

    def query(self, dialect: str) -> str:
        return self.ours if dialect == "ours" else self.peer

    def body(self, dialect: str, variables: dict[str, Any]) -> dict[str, Any]:
        return {"query": self.query(dialect), "variables": variables}


WORKLOADS: dict[str, Workload] = {
    workload.name: workload
    for workload in (
        Workload(
            "person",
            "one person by number: addresses, relations, related persons' names",
            OURS_PERSON,
            PEER_PERSON,
            "person",
        ),
        Workload(
            "page",
            "an interval page of 100 persons with the same fields",
            OURS_PAGE,
            PEER_PAGE,
            "personsInRange",
        ),
        Workload(
            "search",
            "a ranked name search, first 25 with the same fields",
            OURS_SEARCH,
            PEER_SEARCH,
            "searchPersons",
        ),
    )
}
