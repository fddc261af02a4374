"""Trusted documents for the tests: manifests as the typed client's generator writes them
(Apollo's persisted-query manifest), and the two ways a request names a document by id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse

from api.manifest import FORMAT, digest
from tests.subscribing import FOLLOW

VIEWER = "query Viewer { viewer { subject tier } }"
LOOKUP = """query Lookup($p: String!) {
  person(personnummer: $p) { ... on Person { lastName } }
}"""
HEAD = "query Head { changesHead }"
CANCEL = "mutation Cancel($id: ID!) { cancelSelectionOrder(id: $id) { id } }"
# The documents a client was built with; FOLLOW is a subscription.
TRUSTED = (VIEWER, LOOKUP, HEAD, FOLLOW, CANCEL)
AD_HOC = "query Mine { viewer { subject } }"  # in no manifest


def entry(body: str) -> dict[str, str]:
    """The manifest's entry for ``body``: its id, and its operation's name and type."""
    (operation,) = [d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode)]
    assert operation.name is not None
    name, kind = operation.name.value, operation.operation.value
    return {"id": digest(body), "name": name, "type": kind, "body": body}


def manifest(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "version": 1, "operations": list(entries)}


def write_manifest(path: Path, *bodies: str) -> Path:
    path.write_text(json.dumps(manifest(*(entry(body) for body in bodies)), indent=2))
    return path


def document_id(body: str) -> str:
    """The GraphQL-over-HTTP spec's id of a document."""
    return f"sha256:{digest(body)}"


def by_id(body: str, **variables: Any) -> dict[str, Any]:
    """A request naming ``body`` by its id, as the spec's persisted documents do."""
    return {"documentId": document_id(body), "variables": variables}


def apollo(body: str, **variables: Any) -> dict[str, Any]:
    """A request naming ``body`` by Apollo's persisted query extension."""
    persisted = {"version": 1, "sha256Hash": digest(body)}
    return {"extensions": {"persistedQuery": persisted}, "variables": variables}


def code_of(answer: dict[str, Any]) -> str:
    """The code of an answer's only error."""
    (error,) = answer["errors"]
    return str(error["extensions"]["code"])
