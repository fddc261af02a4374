"""The WebSocket server protocol: uvicorn's, so that a client reading nothing cannot keep
its connection.

uvicorn's websockets protocol waits, before each message it sends — its close too —
until the client has read enough of what was sent before (the transport's buffer under
its high-water mark). A subscriber that stops reading would keep its connection, and
the close meant to end it, waiting for ever, and a few hundred such would use up the
worker's connections. Here:

- a close is queued at once behind what the client has not read: it reads its close
  code (4499: ``api.websocket_handler``) when it reads on;
- a connection whose client reads nothing for ``VASTFOLKET_WS_SEND_TIMEOUT_SECONDS`` and
  then the closing handshake's time (``close_timeout``) is dropped, as HTTP's slow
  readers are (``api.server``);
- the kernel's send buffer is fixed at ``SEND_BUFFER_BYTES``: left to itself Linux grows
  it to 4 MiB per connection, memory a subscriber that does not read would hold, and
  as much as its send waited behind before the bound above even began;
- a client that pings while it reads nothing is dropped once the pongs it left unread
  pass ``MAX_UNREAD_PONG_BYTES``: the protocol answers each ping itself, and each pong
  would wait in memory, as fast as the client can send (hundreds of MB before the bound
  above ends it, with no token needed);
- the messages sent in one turn of the event loop go out in one write: uvicorn writes
  each message to the socket at once, a system call per event per subscriber that was
  the largest part of a subscription's cost; they are framed at once, in order, and
  written when the loop turns (any other write — a pong, a close — takes them first).
  A sender lets the loop turn every ``MESSAGES_PER_TURN`` messages, so that a batch
  sent to one subscriber does not keep everything else waiting: the other
  subscribers, and the replies to the access log's writes, whose timeout runs meanwhile.

``vastfolket serve`` uses it; with plain uvicorn pass
``--ws api.websocket_protocol:WebSocketProtocol``.
"""

from __future__ import annotations

import asyncio
import socket
from functools import cache
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

from api.settings import Settings

# Room for a few hundred events in flight: at 10 ms round trip, 25 MB/s to a reader.
SEND_BUFFER_BYTES = 256 * 1024
# Pongs written while the client reads nothing, past which it is dropped: a client's
# keepalive pings once in a while, far below it.
MAX_UNREAD_PONG_BYTES = 64 * 1024
# Messages one connection frames before its sender lets the event loop turn (about a
# millisecond of work): a few writes for a batch of 500 events.
MESSAGES_PER_TURN = 50


@cache
def _send_timeout() -> float:
    """Read once per worker, from the environment the app's settings come from."""
    return Settings().ws_send_timeout_seconds


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stalled: asyncio.TimerHandle | None = None  # while the client reads nothing
        self._unread_pongs = 0  # bytes of pongs written meanwhile
        self._flushing = False  # a write of the messages framed is due this turn
        self._framed = 0  # messages framed since the last write

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stalled is None:
            bound = _send_timeout() + self.close_timeout
            self._stalled = self.loop.call_later(bound, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._unstall()

    def connection_lost(self, exc: Exception | None) -> None:
        self._unstall()
        super().connection_lost(exc)

    def _unstall(self) -> None:
        self._unread_pongs = 0
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def handle_ping(self) -> None:
        if self.transport.is_closing():  # dropped already: nothing more to write
            return
        pongs = b"".join(self.conn.data_to_send())
        if not self.writable.is_set():
            self._unread_pongs += len(pongs)
            if self._unread_pongs > MAX_UNREAD_PONG_BYTES:
                self.transport.abort()
                return
        self.transport.write(pongs)

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "websocket.close" and self._may_close_at_once():
            self._close_at_once(message.get("code", 1000), message.get("reason") or "")
            return
        if message["type"] == "websocket.send" and self._may_send_later():
            if self._framed >= MESSAGES_PER_TURN:
                await asyncio.sleep(0)  # the loop turns: these go out, others run
            await self.writable.wait()  # as uvicorn's own send: the client must read
            if self._may_send_later():
                self._frame(message)
                return
        await super().send(message)

    def _may_send_later(self) -> bool:
        accepted = self.handshake_complete and self.initial_response is None
        return accepted and not (self.close_sent or self.disconnected)

    def _frame(self, message: Any) -> None:
        """Frame the message now; write it, with the others framed, as the loop turns."""
        try:
            if message.get("bytes") is not None:
                self.conn.send_binary(message["bytes"])
            elif message.get("text") is not None:
                self.conn.send_text(message["text"].encode())
        except InvalidState:
            raise ClientDisconnected from None
        self._framed += 1
        if not self._flushing:
            self._flushing = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flushing, self._framed = False, 0
        if not self.transport.is_closing():
            output = self.conn.data_to_send()
            if output:
                self.transport.write(b"".join(output))

    def _may_close_at_once(self) -> bool:
        """Past the handshake, not closed, and the client not reading."""
        accepted = self.handshake_complete and self.initial_response is None
        open_ = not (self.close_sent or self.disconnected or self.transport.is_closing())
        return accepted and open_ and not self.writable.is_set()

    def _close_at_once(self, code: int, reason: str) -> None:
        # As uvicorn's own close, without waiting for the buffer to drain first.
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        try:
            self.conn.send_close(code, reason)
        except InvalidState:
            raise ClientDisconnected from None
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)
