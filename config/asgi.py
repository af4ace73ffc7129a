"""ASGI entry point: HTTP through Django in one thread hop, websockets through Channels."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything imports models (the handler and routing below do).
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.http_handler import OneHopASGIHandler  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": OneHopASGIHandler(),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
