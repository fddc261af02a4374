"""``python -m tests.bench.feed.profiled <uvicorn arguments>``: the API as served, with
cProfile switched on by ``SIGUSR1`` and off by ``SIGUSR2`` (which writes the profile to
``$VASTFOLKET_PROFILE_OUT``), so that a burst is profiled and not the start-up.

One worker only: the signals go to the process that serves. Attribution, not speed:
cProfile slows each Python call several times.
"""

from __future__ import annotations

import cProfile
import os
import signal
from types import FrameType

from uvicorn.main import main

_profiler = cProfile.Profile()


def _start(_signal: int, _frame: FrameType | None) -> None:
    global _profiler
    _profiler = cProfile.Profile()  # each burst its own profile
    _profiler.enable()


def _stop(_signal: int, _frame: FrameType | None) -> None:
    _profiler.disable()
    out = os.environ["VASTFOLKET_PROFILE_OUT"]
    _profiler.dump_stats(out + ".part")
    os.replace(out + ".part", out)  # whole, or not there


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    main()
