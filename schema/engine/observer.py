"""What the engine tells of itself, for the API to count (``api.metrics``).

The engine knows nothing of Prometheus, as the Skatteverket client does not: the API
hands it an observer when it builds the engine.
"""

from __future__ import annotations

import logging
from typing import Protocol

from schema.engine.plan import Fallback

logger = logging.getLogger("vastfolket.engine")


class Observer(Protocol):
    def reader_failed(self, type_name: str, error: Exception) -> None:
        """A compiled reader of a ``type_name`` selection raised, and the general path
        answered instead: ``Fallback`` when a value needs that path (a null in a
        non-null field, relations not loaded ahead), anything else a defect."""


class Unobserved:
    """No one listening (the engine's default)."""

    def reader_failed(self, type_name: str, error: Exception) -> None:
        pass


UNOBSERVED = Unobserved()


def reader_failed(observer: Observer, type_name: str, error: Exception) -> None:
    """Tell the observer; log a defect (not a declined value) at DEBUG, with its trace:
    the answer is still right, the general path gave it, but only slower."""
    if not isinstance(error, Fallback):
        logger.debug("a compiled reader of %s failed", type_name, exc_info=error)
    observer.reader_failed(type_name, error)
