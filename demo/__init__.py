"""The demo: seed data, the demo customer site, the demo store and simulated traffic.

Installed only when DEMO_APP is true (`make run`, `make demo-traffic` and the tests);
no product app imports it.
"""
