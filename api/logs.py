"""Logs: one line per record, as JSON in production, each with the request's id.

``VASTFOLKET_LOG_FORMAT=json`` writes JSON lines (``time``, ``level``, ``logger``,
``message``, ``request_id``, ``exc_info`` and any ``extra`` fields) for a log collector;
the default ``text`` is for a person reading a terminal. uvicorn's own loggers are sent
through the same handler, so a worker writes one format only.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# The id of the request being served, for records logged without one.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

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
    root.addHandler(handler)
    # The API's own loggers at the chosen level; libraries keep the root's (warnings).
    logging.getLogger(API_LOGGER).setLevel(level.upper())
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        if server_logger.handlers:  # one uvicorn has not switched off (access log)
            server_logger.handlers.clear()
            server_logger.propagate = True
