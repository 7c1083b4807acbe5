"""Benchmarks with baselines measured in the same run: ``make bench`` (``python -m tests.bench``).

Only ``test_*.py`` here run under pytest (the bench's own arithmetic); the benchmarks
themselves are modules that pytest never collects, because timings are figures to
print beside their baselines, never assertions of the test suite.
"""
