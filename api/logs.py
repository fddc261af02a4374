"""Logs: one line per record, as JSON in production, each with the request's id.

``VASTFOLKET_LOG_FORMAT=json`` writes JSON lines (``time``, ``level``, ``logger``,
``message``, ``request_id``, ``exc_info`` and any ``extra`` fields) for a log collector;
the default ``text`` is for a person reading a terminal. uvicorn's own loggers are sent
through the same handler, so a worker writes one format only.

An outage (the database unreachable) is expected: it is logged without tracebacks and
without a line per failed request (``Outage``); tracebacks are for the unexpected.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from resolvers.db import database_unavailable

# The id of the request being served, for records logged without one.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def new_request_id() -> str:
    """An id that needs to be unique, not secret: 128 random bits, without a system call."""
    return f"{random.getrandbits(128):032x}"


HANDLER_NAME = API_LOGGER = "vastfolket"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}{request_id}"
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# uvicorn adds its message again with terminal colour codes, for its own coloured output.
TERMINAL_ONLY_FIELDS = ("color_message",)

LogFormat = Literal["text", "json"]


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (unless it carries one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class OutageTracebacks(logging.Filter):
    """A library's record of an outage (asyncpg's pool reconnecting) keeps its message and
    the error's one-line description, not the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and database_unavailable(error):
            record.msg, record.args = f"{record.getMessage()} ({describe(error)})", ()
            record.exc_info = record.exc_text = None
        return True


class Outage:
    """Requests failing for one expected reason, logged without flooding the log.

    The first failure after a quiet spell is logged in one line with its request id; the
    ones that follow within ``window`` seconds are logged only at DEBUG (one line each)
    and summed up when the window closes: "N requests failed: database unavailable in
    the last 10 s". A 10 s outage under load is two lines, not a traceback per request.
    """

    def __init__(self, logger: str, what: str, *, level: int, window: float = 10.0) -> None:
        self.logger = logging.getLogger(logger)
        self.what, self.level, self.window = what, level, window
        self._count = 0
        self._opened = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def failed(self, request_id: str, error: BaseException) -> None:
        if self._count and time.monotonic() - self._opened >= self.window:
            self.flush()
        level = self.level if self._count == 0 else logging.DEBUG
        line = "%s (request %s): %s"
        self.logger.log(level, line, self.what, request_id, describe(error),
                        extra={"request_id": request_id})  # fmt: skip
        if self._count == 0:
            self._opened = time.monotonic()
            self._close_later()
        self._count += 1

    def _close_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the next failure or the shutdown closes the window
            return
        self._timer = loop.call_later(self.window, self.flush)

    def flush(self) -> None:
        """Close the window: sum it up if more failed than the one already logged."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        count, self._count = self._count, 0
        if count > 1:
            seconds = max(1.0, time.monotonic() - self._opened)
            line = "%d requests failed: %s in the last %.0f s"
            self.logger.log(self.level, line, count, self.what, seconds,
                            extra={"request_id": "-"})  # fmt: skip


DATABASE_OUTAGE = Outage("vastfolket.errors", "database unavailable", level=logging.WARNING)
ACCESS_LOG_OUTAGE = Outage("vastfolket.access_log", "access log not written", level=logging.ERROR)


def flush_outages() -> None:
    """Sum up the open windows now (at shutdown: their timers would not fire)."""
    DATABASE_OUTAGE.flush()
    ACCESS_LOG_OUTAGE.flush()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            JSON_FIELDS,
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, *TERMINAL_ONLY_FIELDS],
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: LogFormat, level: str) -> None:
    """Install the API's handler on the root logger (replacing an earlier one of ours).

    Records of every logger pass through it (uvicorn's too), at each logger's level.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(OutageTracebacks())
    root.addHandler(handler)
    # The API's own loggers at the chosen level; libraries keep the root's (warnings).
    logging.getLogger(API_LOGGER).setLevel(level.upper())
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        if server_logger.handlers:  # one uvicorn has not switched off (access log)
            server_logger.handlers.clear()
            server_logger.propagate = True
