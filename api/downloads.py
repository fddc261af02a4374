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
"""

from __future__ import annotations

import base64
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from api import audit
from api.graphql_http import error_response, unauthenticated
from resolvers.selections import export, fields, orders
from schema.errors import (
    AUDIT_UNAVAILABLE,
    FORBIDDEN,
    NOT_FOUND,
    SELECTION_EXPIRED,
    SELECTION_NOT_READY,
    SELECTION_WITHDRAWN,
)
from schema.selections.queries import SELECTION_ROLE

MEDIA_TYPES = {"CSV": "text/csv; charset=utf-8", "NDJSON": "application/x-ndjson"}
SUFFIXES = {"CSV": "csv", "NDJSON": "ndjson"}


class Downloads:
    """The route's endpoint, reading files from ``files``."""

    def __init__(self, files: Path, *, access_log_timeout: float = 2.0) -> None:
        self.files = files
        self.access_log_timeout = access_log_timeout

    async def _logged(self, request: Request, order_id: int) -> bool:
        """Whoever downloads is logged as seeing the file's persons, before it is sent
        (each request: a resumed range is a release too)."""
        request_id = request.scope["state"]["request_id"]
        write = export.log_download(
            request.app.state.database.write, order_id, request.user.viewer, request_id,
            timeout=self.access_log_timeout,
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
        path = self.files / row.file_name if row.file_name else None
        if row.status == "EXPIRED" or (row.status == "DONE" and not (path and path.is_file())):
            message = f"The file of order {row.id} has expired (kept until {row.expires_at})."
            return error_response(message, SELECTION_EXPIRED, 410)
        if row.status != "DONE" or path is None or row.checksum is None:
            message = f"Order {row.id} is {row.status}: its file is not ready."
            return error_response(message, SELECTION_NOT_READY, 409)
        above = fields.beyond(tuple(row.fields), viewer.tier)
        if above:  # the token's tier may have dropped since the order was placed
            message = f"The file holds {', '.join(above)}, above the token's tier."
            return error_response(message, FORBIDDEN, 403)
        if await export.withdrawn(request.app.state.database.write, row.id):
            message = (
                f"The file of order {row.id} holds a person protected since it was written: "
                "it is no longer served; order the selection again."
            )
            return error_response(message, SELECTION_WITHDRAWN, 410)
        if not await self._logged(request, row.id):
            message = (
                "The access log cannot be written, so the file is not sent; try again "
                f"shortly (request id {request.scope['state']['request_id']})."
            )
            return error_response(message, AUDIT_UNAVAILABLE, 503)
        digest = base64.b64encode(bytes.fromhex(row.checksum)).decode()
        headers = {"Repr-Digest": f"sha-256=:{digest}:", "ETag": f'"{row.checksum}"'}
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[row.format],
            filename=f"urval-{row.id}.{SUFFIXES[row.format]}",
            headers=headers,
        )
