"""The manifest of trusted documents: Apollo's persisted-query manifest, read and checked.

The file is written at build time by whoever owns the clients (the typed client's
generator writes ``clients/python/persisted-documents.json``)::

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 hex of body>", "name": "Lookup",
                     "type": "query", "body": "query Lookup ..."}]}

Each entry's id must be the lowercase hex SHA-256 of its body's exact UTF-8 (what the
GraphQL-over-HTTP spec's ``sha256:`` document ids and Apollo's ``sha256Hash`` name), and
its body must hold the operation its name and type say, and no other: a request's
``operationName`` picks among a body's operations, and would run one no entry names (a
mutation in a query's body). A file that breaks any of that is refused as a whole
(``ManifestError``, one line naming the entry): serving part of a build's documents
would fail its clients later and less clearly.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import NamedTuple

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse

FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = ("query", "mutation", "subscription")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest cannot be used; the message says where and why."""


class Entry(NamedTuple):
    id: str  # lowercase hex SHA-256 of the body's UTF-8
    name: str
    type: str
    body: str


def digest(text: str) -> str:
    """A document's id: the lowercase hex SHA-256 of its exact UTF-8."""
    return hashlib.sha256(text.encode()).hexdigest()


def is_one(version: object) -> bool:
    """A version 1, as JSON writes it (not ``true``, which Python takes for 1)."""
    return type(version) is int and version == 1


def load(path: Path) -> list[Entry]:
    """The manifest's entries, each checked; ``ManifestError`` says what is wrong."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ManifestError(f"cannot read the file ({error.strerror})") from None
    except orjson.JSONDecodeError as error:
        raise ManifestError(f"not JSON ({error})") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not is_one(data.get("version"))
    ):
        raise ManifestError(f'not a manifest: expected {{"format": "{FORMAT}", "version": 1, …}}')
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError("'operations' must be a list")
    return [entry(index, operation) for index, operation in enumerate(operations)]


def entry(index: int, operation: object) -> Entry:
    """One operation of the manifest, checked (``index`` names it in a refusal)."""
    where = f"operations[{index}]"
    if not isinstance(operation, dict):
        raise ManifestError(f"{where} must be an object")
    fields = {key: operation.get(key) for key in Entry._fields}
    for key, value in fields.items():
        if not isinstance(value, str) or not value:
            raise ManifestError(f"{where}: '{key}' must be a non-empty string")
    found = Entry(**fields)  # type: ignore[arg-type]
    where = f"{where} ({found.name})"
    if not SHA256_HEX.fullmatch(found.id):
        raise ManifestError(f"{where}: 'id' must be 64 lowercase hex digits (a SHA-256)")
    if digest(found.body) != found.id:
        raise ManifestError(f"{where}: 'id' is not the SHA-256 of its body ({digest(found.body)})")
    if found.type not in OPERATION_TYPES:
        raise ManifestError(f"{where}: 'type' must be one of {', '.join(OPERATION_TYPES)}")
    problem = _disagreement(found)
    if problem is not None:
        raise ManifestError(f"{where}: {problem}")
    return found


def _disagreement(found: Entry) -> str | None:
    """How the body disagrees with the entry's name and type, or None."""
    try:
        document = parse(found.body)
    except GraphQLError as error:
        return f"the body is not GraphQL ({error.message})"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1:  # operationName would pick one the entry does not name
        named = (d.name.value if d.name else f"a {d.operation.value}" for d in operations)
        return (
            f"the body holds {len(operations)} operations ({', '.join(named)}): an entry "
            "is one operation and the fragments it uses"
        )
    kinds = {d.name.value: d.operation.value for d in operations if d.name is not None}
    if found.name not in kinds:
        return f"the body holds no operation named {found.name}"
    if kinds[found.name] != found.type:
        return f"{found.name} is a {kinds[found.name]}, not a {found.type}"
    return None
