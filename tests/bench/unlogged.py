"""``python -m tests.bench.unlogged <uvicorn arguments>``: the API with the access log's
writes skipped, for the benchmark's ``--peer unlogged`` only.

Everything else is the product as it runs: the requests still note the persons they
show; only the one INSERT per request is left out, so the difference between the two
servers is what logging costs.
"""

from __future__ import annotations

from typing import Any

from uvicorn.main import main

from resolvers.audit import access_log


async def _not_written(*_: Any, **__: Any) -> None:
    return None


if __name__ == "__main__":
    access_log.write = _not_written
    main()
