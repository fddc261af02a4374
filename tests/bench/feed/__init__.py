"""``python -m tests.bench.feed``: the change feed read as an integrator reads it.

Its own database on the benchmark's embedded PostgreSQL, holding the demo register and a
million change events written set-based (``events.py``); one client catching up through
the real server over HTTP (``catchup.py``); the same pages read on the way down from the
HTTP answer to a plain SQL keyset cursor, page by page side by side (``ladder.py``), so
the ratios show where the time goes; a table and ``bench-feed-results.json``
(``report.py``). See docs/performance.md, "The change feed".
"""
