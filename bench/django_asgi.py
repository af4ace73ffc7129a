"""Django's stock ASGI handler for HTTP (what config.asgi served before the one-hop
handler): the baseline of `python -m bench --only topology`. Benches only."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {"http": django_http, "websocket": URLRouter(websocket_urlpatterns)}
)
