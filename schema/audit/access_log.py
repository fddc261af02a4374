"""The access log as auditors read it: who saw which person, when, and why."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import orjson
import strawberry
from strawberry.scalars import JSON

from resolvers.audit.log_search import LogEntry
from schema.cursors import LOG, encode_cursor
from schema.directives import Tier
from schema.engine.disclosure import discloses_nothing
from schema.register.codes import Source
from schema.register.connection import PageInfo


@strawberry.enum(description="Vad som loggades — what an access log entry records.")
class AccessKind(Enum):
    SEEN = strawberry.enum_value("SEEN", description="A person record was in an answer.")
    PROTECTED = strawberry.enum_value(
        "PROTECTED",
        description="A lookup hit a protected person: an attempt, no data was released.",
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="A lookup made at Skatteverket found no one."
    )
    AUDIT_SEARCH = strawberry.enum_value(
        "AUDIT_SEARCH", description="An auditor searched the access log (criteria given)."
    )


@discloses_nothing("the log itself, for auditors: each search of it is logged instead")
@strawberry.type(description="Loggpost — one access to the register.")
class AccessLogEntry:
    logged_at: dt.datetime = strawberry.field(description="When the answer was given.")
    kind: AccessKind = strawberry.field(description="What the entry records.")
    subject: str = strawberry.field(description="Who asked (the token's subject).")
    organisation: str | None = strawberry.field(description="The caller's organisation.")
    client_system: str | None = strawberry.field(
        description="The client system the token was issued to."
    )
    tier: Tier = strawberry.field(description="The caller's tier at the time.")
    operation_name: str | None = strawberry.field(
        description="The GraphQL operation name the caller sent, if any."
    )
    root_fields: list[str] = strawberry.field(
        description="The query's root fields, e.g. person or personsInRange."
    )
    personnummer: str | None = strawberry.field(
        description="The person seen or looked for (12 digits); for a search of the log, "
        "the personnummer searched for, if any. Searching the log for a number finds the "
        "entries where it is this or `askedPersonnummer`."
    )
    asked_personnummer: str | None = strawberry.field(
        description="The number the lookup asked for, when Skatteverket had replaced it by "
        "`personnummer` (the person seen, under their current number); null when the "
        "number asked, if any, is `personnummer`."
    )
    source: Source | None = strawberry.field(
        description="Where the answer came from: LOCAL (the register) or SKATTEVERKET "
        "(every lookup made there); null for a search of the log."
    )
    request_id: str = strawberry.field(description="The request id (X-Request-ID).")
    case_reference: str | None = strawberry.field(
        description="Ärendereferens the caller sent in the X-Case-Reference header."
    )
    criteria: JSON | None = strawberry.field(description="A search of the log: its criteria.")
    selection_order: strawberry.ID | None = strawberry.field(
        description="The selection order whose file released the person: its export "
        "(rootFields selectionExport) or a download of it (selectionFile); read it with "
        "selectionAudit(ids:)."
    )

    @classmethod
    def of(cls, entry: LogEntry) -> AccessLogEntry:
        return cls(
            logged_at=entry.logged_at,
            kind=AccessKind(entry.kind),
            subject=entry.subject,
            organisation=entry.organisation,
            client_system=entry.client,
            tier=Tier(entry.tier),
            operation_name=entry.operation_name,
            root_fields=entry.root_fields.split(","),
            personnummer=entry.personnummer,
            asked_personnummer=entry.asked_personnummer,
            source=Source(entry.source) if entry.source else None,
            request_id=entry.request_id,
            case_reference=entry.case_reference,
            criteria=orjson.loads(entry.criteria) if entry.criteria else None,
            selection_order=None
            if entry.selection_order is None
            else strawberry.ID(str(entry.selection_order)),
        )


@strawberry.type(description="One access log entry, with its cursor.")
class AccessLogEdge:
    cursor: str = strawberry.field(description="Opaque position of this edge.")
    node: AccessLogEntry = strawberry.field(description="The entry.")


@strawberry.type(description="En sida loggposter — one page of the access log, newest first.")
class AccessLogConnection:
    edges: list[AccessLogEdge] = strawberry.field(description="The entries, newest first.")
    page_info: PageInfo = strawberry.field(description="Paging information.")

    @classmethod
    def of(cls, entries: list[LogEntry], has_next_page: bool) -> AccessLogConnection:
        edges = [
            AccessLogEdge(
                cursor=encode_cursor(LOG, f"{entry.request}.{entry.id}"),
                node=AccessLogEntry.of(entry),
            )
            for entry in entries
        ]
        end = edges[-1].cursor if edges else None
        return cls(edges=edges, page_info=PageInfo(has_next_page=has_next_page, end_cursor=end))
