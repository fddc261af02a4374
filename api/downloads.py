"""A selection's file over HTTP: ``GET /selections/{id}/file`` with the orderer's token.

Only callers with the ``selection`` role, and only their own organisation's orders
(another's is answered as if there were none). Each download writes the file's persons
to the access log as seen by the caller downloading, before a byte is sent (the
orderer's export logged them for the orderer; a colleague's download is a release of
its own); if that cannot be written, the file is not sent (``AUDIT_UNAVAILABLE``).
Starlette's ``FileResponse`` streams the file from the shared files directory, so any
API worker serves it, and answers ranges
(``Range``, ``If-Range``: a broken download resumes). The checksum goes along in
``Repr-Digest`` (RFC 9530) and as the ETag, so a client can check what it assembled.
A range the file cannot answer (malformed, or beyond its end) is refused before
anything is logged or sent: 416 ``RANGE_NOT_SATISFIABLE`` with ``Content-Range: bytes
*/size`` (RFC 9110 §15.5.17); a range of a unit other than bytes is ignored (§14.2) and
the whole file sent.
"""

from __future__ import annotations

import base64
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable, Response
from starlette.types import Receive, Scope, Send

from api import audit
from api.graphql_http import error_response, unauthenticated
from resolvers.selections import fields, orders, released
from schema.errors import (
    AUDIT_UNAVAILABLE,
    FORBIDDEN,
    NOT_FOUND,
    RANGE_NOT_SATISFIABLE,
    SELECTION_EXPIRED,
    SELECTION_NOT_READY,
    SELECTION_WITHDRAWN,
)
from schema.selections.queries import SELECTION_ROLE

LOG_SECONDS_PER_PERSON = 5e-6  # a download's log row, beside VASTFOLKET_ACCESS_LOG_TIMEOUT
MEDIA_TYPES = {"CSV": "text/csv; charset=utf-8", "NDJSON": "application/x-ndjson"}
SUFFIXES = {"CSV": "csv", "NDJSON": "ndjson"}


class SelectionFile(FileResponse):
    """The file as Starlette streams it, its ranges checked first by Starlette's own
    reading of them, so what is refused and what is served agree."""

    ignore_range = False

    def range_refusal(self, headers: Headers) -> Response | None:
        """416 for a ``Range`` to be used that this file cannot answer; else None."""
        asked, condition = headers.get("range"), headers.get("if-range")
        assert self.stat_result is not None
        size = self.stat_result.st_size
        if asked is None or (condition is not None and not self._should_use_range(condition)):
            return None  # no range, or the file changed since: the whole file goes
        if asked.split("=", 1)[0].strip().lower() != "bytes":
            self.ignore_range = True  # a unit not understood: ignored (RFC 9110 §14.2)
            return None
        try:
            self._parse_range_header(asked, size)
        except (MalformedRangeHeader, RangeNotSatisfiable):
            message = f"Range {asked[:60]!r} does not fit the file of {size} bytes."
            unsatisfied = {"Content-Range": f"bytes */{size}"}
            return error_response(message, RANGE_NOT_SATISFIABLE, 416, **unsatisfied)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ignore_range:
            kept = [(name, value) for name, value in scope["headers"] if name != b"range"]
            scope = {**scope, "headers": kept}
        await super().__call__(scope, receive, send)


class Downloads:
    """The route's endpoint, reading files from ``files``."""

    def __init__(self, files: Path, *, access_log_timeout: float = 2.0) -> None:
        self.files = files
        self.access_log_timeout = access_log_timeout

    async def _logged(self, request: Request, row: orders.OrderRow) -> bool:
        """Whoever downloads is logged as seeing the file's persons, before it is sent
        (each request: a resumed range is a release too). Its row holds every person of
        the file, so its time grows with them: about 1.5 s a million (the index of who
        saw whom takes each), given 5 µs a person beside the usual timeout."""
        request_id = request.scope["state"]["request_id"]
        timeout = self.access_log_timeout + (row.row_count or 0) * LOG_SECONDS_PER_PERSON
        write = released.log_download(
            request.app.state.database.write, row.id, request.user.viewer, request_id,
            timeout=timeout,
        )  # fmt: skip
        return await audit.written(request_id, write)

    async def serve(self, request: Request) -> Response:
        if not getattr(request.scope.get("user"), "is_authenticated", False):
            return unauthenticated("Not authenticated: send 'Authorization: Bearer <token>'.")
        viewer = request.user.viewer
        if SELECTION_ROLE not in viewer.roles or viewer.organisation is None:
            message = "Selection files need the role 'selection' and an organisation."
            return error_response(message, FORBIDDEN, 403)
        text = request.path_params["order"]
        order_id = int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
        row = None
        if order_id is not None:
            row = await orders.one(request.app.state.database.write, order_id, viewer.organisation)
        if row is None:
            return error_response(f"No selection order {text[:20]}.", NOT_FOUND, 404)
        answer = await self._file(request, row)
        if not isinstance(answer, SelectionFile):
            return answer
        refused = answer.range_refusal(request.headers)
        if refused is not None:  # nothing sent: nothing logged
            return refused
        if not await self._logged(request, row):
            message = (
                "The access log cannot be written, so the file is not sent; try again "
                f"shortly (request id {request.scope['state']['request_id']})."
            )
            return error_response(message, AUDIT_UNAVAILABLE, 503)
        return answer

    async def _file(self, request: Request, row: orders.OrderRow) -> Response:
        """The order's file, or why it is not served to this caller."""
        if row.status not in ("DONE", "EXPIRED") or not row.file_name or not row.checksum:
            message = f"Order {row.id} is {row.status}: its file is not ready."
            return error_response(message, SELECTION_NOT_READY, 409)
        expired = f"The file of order {row.id} has expired (kept until {row.expires_at})."
        if row.status == "EXPIRED":
            return error_response(expired, SELECTION_EXPIRED, 410)
        above = fields.beyond(tuple(row.fields), request.user.viewer.tier)
        if above:  # the token's tier may have dropped since the order was placed
            message = f"The file holds {', '.join(above)}, above the token's tier."
            return error_response(message, FORBIDDEN, 403)
        if await released.withdrawn(request.app.state.database.write, row.id):
            message = (
                f"The file of order {row.id} holds a person protected since it was written: "
                "it is no longer served; order the selection again."
            )
            return error_response(message, SELECTION_WITHDRAWN, 410)
        path = self.files / row.file_name
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted by the sweep
            return error_response(expired, SELECTION_EXPIRED, 410)
        digest = base64.b64encode(bytes.fromhex(row.checksum)).decode()
        return SelectionFile(
            path,
            media_type=MEDIA_TYPES[row.format],
            filename=f"urval-{row.id}.{SUFFIXES[row.format]}",
            headers={"Repr-Digest": f"sha-256=:{digest}:", "ETag": f'"{row.checksum}"'},
            stat_result=stat,
        )
