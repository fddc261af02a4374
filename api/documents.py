"""Which document a request runs: its text, or an id naming one; in trusted mode, only
the manifest's (``VASTFOLKET_DOCUMENTS``, ``VASTFOLKET_DOCUMENT_MANIFEST``).

Every transport reads a request's parameters here (``request_parts``: HTTP's body or
query string, a WebSocket's ``subscribe`` payload) and has the pipeline prepare its
document here (``Documents.prepare``), so one rule decides for all of them:

- a document is named by the GraphQL-over-HTTP spec's ``documentId``
  (``"sha256:<64 lowercase hex>"``) or by Apollo's
  ``extensions.persistedQuery {version: 1, sha256Hash}``; any other form of id is
  ``BAD_DOCUMENT_ID``, a text sent beside an id must be the one it names
  (``DOCUMENT_ID_MISMATCH``);
- ``trusted``: only the manifest's documents run, by id or by their exact text; other
  text is ``DOCUMENT_NOT_TRUSTED``, an unknown id ``PERSISTED_DOCUMENT_NOT_FOUND``
  (Apollo's form: ``PERSISTED_QUERY_NOT_FOUND``, as Apollo's clients expect it);
- ``any``: text runs as it is; ids name the manifest's documents, and those a client
  sent in Apollo's form with their text before, if it parsed and validated (this worker
  keeps up to ``REGISTERED``, the least recently used giving way, so Apollo's clients
  need one request, not two).

The manifest's documents are prepared once, at start-up, and kept by id and by text,
so a document named by its id is found with one dictionary lookup and never prepared
again, whatever other texts pass through the engine's cache.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from cachetools import LRUCache

from api.manifest import SHA256_HEX, Entry, digest, is_one
from schema.engine import Engine, Prepared
from schema.errors import (
    BAD_DOCUMENT_ID,
    BAD_REQUEST,
    DOCUMENT_ID_MISMATCH,
    DOCUMENT_NOT_TRUSTED,
    PERSISTED_DOCUMENT_NOT_FOUND,
    PERSISTED_QUERY_NOT_FOUND,
)

logger = logging.getLogger("vastfolket.api")

DOCUMENT_ID = re.compile(f"sha256:({SHA256_HEX.pattern})")
REGISTERED = 1024  # documents Apollo's clients sent with their hash, kept per worker
HELP = "see docs/queries.md#trusted-documents"
# Apollo's clients look for this message (older ones for nothing else), and resend the text.
APOLLO_NOT_FOUND = "PersistedQueryNotFound"


class BadRequest(Exception):
    """The request cannot run as sent: its message, code and HTTP status."""

    def __init__(
        self, message: str, status: int = 400, code: str = BAD_REQUEST, **headers: str
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers


class Named(NamedTuple):
    """A document named by its id."""

    digest: str  # the lowercase hex SHA-256 of its text
    apollo: bool  # named by Apollo's extensions.persistedQuery: refused as Apollo does


class Parts(NamedTuple):
    """A GraphQL request's parameters, checked: its document's text or id (or both)."""

    query: str | None
    named: Named | None
    variables: dict[str, Any] | None
    operation_name: str | None


def request_parts(params: Mapping[str, object]) -> Parts:
    """A request's parameters, whatever brought them, checked (``BadRequest``)."""
    query = params.get("query")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise BadRequest("'query' must be the text of a GraphQL document")
    named = named_document(params.get("documentId"), params.get("extensions"))
    if query is None and named is None:
        raise BadRequest(
            "no GraphQL document in the request: send its text as 'query', "
            f"or its id as 'documentId' ({HELP})"
        )
    variables, operation_name = params.get("variables"), params.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("'operationName' must be a string")
    return Parts(query, named, variables, operation_name)


def named_document(document_id: object, extensions: object) -> Named | None:
    """The id a request names its document by, read strictly, or None."""
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("'extensions' must be a JSON object")
    named = None if document_id is None else Named(_spec_id(document_id), apollo=False)
    persisted = None if extensions is None else extensions.get("persistedQuery")
    if persisted is None:
        return named
    apollo = Named(_apollo_hash(persisted), apollo=True)
    if named is not None and named.digest != apollo.digest:
        raise BadRequest(
            "'documentId' and extensions.persistedQuery name different documents",
            code=DOCUMENT_ID_MISMATCH,
        )
    return named or apollo


def _spec_id(document_id: object) -> str:
    found = DOCUMENT_ID.fullmatch(document_id) if isinstance(document_id, str) else None
    if found is None:
        raise BadRequest(
            "'documentId' must be 'sha256:' and the 64 lowercase hex digits of the "
            f"SHA-256 of the document's UTF-8 text ({HELP})",
            code=BAD_DOCUMENT_ID,
        )
    return found.group(1)


def _apollo_hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or not is_one(persisted.get("version")):
        raise BadRequest(
            'extensions.persistedQuery must be {"version": 1, "sha256Hash": …}',
            code=BAD_DOCUMENT_ID,
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise BadRequest(
            "extensions.persistedQuery.sha256Hash must be the 64 lowercase hex digits "
            f"of the SHA-256 of the document's UTF-8 text ({HELP})",
            code=BAD_DOCUMENT_ID,
        )
    return sha256


class Documents:
    """The documents an app runs: ``trusted`` (only the manifest's) or any."""

    def __init__(
        self, engine: Engine, manifest: Sequence[Entry] = (), *, trusted: bool = False
    ) -> None:
        self.engine, self.trusted = engine, trusted
        self._by_id: dict[str, Prepared] = {}
        self._by_text: dict[str, Prepared] = {}
        for entry in manifest:
            prepared = engine.prepare(entry.body)
            if prepared.document is None:  # a client built for another schema, or limits
                logger.warning("the trusted document %s (%s) does not run here: %s",
                               entry.name, entry.id, prepared.errors[0].message)  # fmt: skip
            self._by_id[entry.id] = self._by_text[entry.body] = prepared
        self._registered: LRUCache[str, str] = LRUCache(maxsize=REGISTERED)

    def prepare(self, parts: Parts) -> Prepared:
        """The request's document prepared, or ``BadRequest`` saying why it may not run."""
        if parts.named is not None:
            return self._named(parts.named, parts.query)
        assert parts.query is not None  # request_parts holds one or the other
        known = self._by_text.get(parts.query)
        if known is not None:
            return known
        if self.trusted:
            raise _not_trusted()
        return self.engine.prepare(parts.query)

    def _named(self, named: Named, query: str | None) -> Prepared:
        known = self._by_id.get(named.digest)
        if query is not None and digest(query) != named.digest:
            raise BadRequest(
                f"the document's text is not the one its id names: its SHA-256 is "
                f"{digest(query)} ({HELP})",
                code=DOCUMENT_ID_MISMATCH,
            )
        if known is not None:
            return known
        if self.trusted:
            raise _not_trusted() if query is not None else _not_found(named)
        if query is None:
            query = self._registered.get(named.digest)
            if query is None:
                raise _not_found(named)
            return self.engine.prepare(query)
        prepared = self.engine.prepare(query)
        # Apollo's clients send the text with its hash once; kept only if it can run, as
        # Apollo Server keeps it, so that failing texts take no place of those that run.
        if named.apollo and prepared.document is not None:
            self._registered[named.digest] = query
        return prepared


def _not_trusted() -> BadRequest:
    return BadRequest(
        "This server runs only trusted documents, those of its manifest: send the "
        f"document's id as 'documentId', or the text the manifest holds ({HELP}).",
        status=403,
        code=DOCUMENT_NOT_TRUSTED,
    )


def _not_found(named: Named) -> BadRequest:
    if named.apollo:  # as Apollo Server answers: older clients turn them off on a 400
        headers = {"Cache-Control": "private, no-cache, must-revalidate"}
        return BadRequest(APOLLO_NOT_FOUND, 200, PERSISTED_QUERY_NOT_FOUND, **headers)
    return BadRequest(
        f"This server knows no document with the id sha256:{named.digest}: the client "
        f"was built with documents its manifest does not hold ({HELP}).",
        status=404,
        code=PERSISTED_DOCUMENT_NOT_FOUND,
    )
