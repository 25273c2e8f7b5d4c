"""lucky5's benches: scripts run from the repository root as modules (``python -m bench.page``), not tests.

``bench.harness`` (the Streamlit server, its websocket client, the wire counter, the minimal page, the
fingerprint parser, memory and CPU sampling) and ``bench.browser`` (Chromium through Playwright) are also
imported by the tests.
"""
