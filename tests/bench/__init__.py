"""A repeatable side-by-side benchmark of the API against PostGraphile 5: ``python -m tests.bench``.

See docs/performance.md. Not a test suite: no module here is named for pytest to collect.
"""
