"""CustomerAgent benchmarks: bundle sizes, widget session API and widget websocket.

Run with `make bench` or `python -m bench --help`. Everything talks to 127.0.0.1 only,
every count and wait is bounded, and every process started here is stopped at the end.
"""
