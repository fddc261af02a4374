"""Peak resident memory of the benchmark's own process, sampled while it works."""

from __future__ import annotations

import threading

import psutil


class Memory:
    """Peak resident memory of this process, sampled every 50 ms while running."""

    def __init__(self) -> None:
        self.peak = self.start = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, process.memory_info().rss)

    def __enter__(self) -> Memory:
        self.peak = self.start = psutil.Process().memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
