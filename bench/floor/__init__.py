"""The floor `make bench-scale` measures the product against (bench only, never served).

The same settings, middleware, server and channel layer as the product, with no product
logic: a trivial DRF POST at the session's path and a Channels consumer at the widget
socket's path that only acknowledges. Selected with
`DJANGO_SETTINGS_MODULE=bench.floor.settings` and the ASGI app `bench.floor.asgi:application`.
"""
