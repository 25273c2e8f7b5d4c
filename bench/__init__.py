"""lucky5's benchmarks: scripts run by hand (``python bench/NAME.py``), not tests.

``bench.browser`` is also imported by ``tests/browser``: it starts the page and drives Chromium.
"""
