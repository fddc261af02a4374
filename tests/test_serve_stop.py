"""`vastfolket serve` stops the embedded PostgreSQL however it is told to stop: SIGTERM
to it or to its process group (as `timeout` and supervisors send it), Ctrl+C, and after
PostgreSQL was restarted under it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.running import Server, fresh_env, pg_ctl, postmaster_pid, running


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh install on the embedded default, without the drain a load balancer needs."""
    data = tmp_path_factory.mktemp("stop") / ".vastfolket"
    return fresh_env(data, VASTFOLKET_DEMO_PERSONS="50", VASTFOLKET_SHUTDOWN_DRAIN_SECONDS="0")


def _restart_postgres(pgdata: Path, served: Server) -> None:
    """Restart PostgreSQL as an operator would, and wait until the API answers again."""
    pg_ctl(pgdata, "-w", "-m", "fast", "restart")
    deadline = time.monotonic() + 20
    while not served.ready():
        assert time.monotonic() < deadline, "the API did not reconnect"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("sig", "group", "restarted", "workers"),
    [
        (signal.SIGTERM, False, False, 1),
        (signal.SIGTERM, True, True, 2),
        (signal.SIGINT, False, True, 1),
    ],
    ids=["SIGTERM to serve", "SIGTERM to its group after a restart, two workers",
         "SIGINT after a restart"],
)  # fmt: skip
def test_serve_stops_the_embedded_postgres_it_runs_on(
    install: dict[str, str], sig: int, group: bool, restarted: bool, workers: int
) -> None:
    pgdata = Path(install["VASTFOLKET_DATA_DIR"]) / "pgdata"
    served = Server.serve(install, workers=workers)
    try:
        if restarted:
            before = postmaster_pid(pgdata)
            _restart_postgres(pgdata, served)
            assert postmaster_pid(pgdata) != before
        postmaster = postmaster_pid(pgdata)
        assert postmaster is not None and running(postmaster)
        status = served.stop(sig, group=group)
        outlived, pid_file = running(postmaster), (pgdata / "postmaster.pid").exists()
    finally:
        served.stop(signal.SIGKILL)
        left = postmaster_pid(pgdata)
        if left is not None and running(left):  # leave no server behind, even on failure
            pg_ctl(pgdata, "-w", "-m", "fast", "stop")
    assert not outlived, "the embedded PostgreSQL outlived serve"
    assert not pid_file
    assert status == 0, served.output  # a stop asked for is a clean exit
