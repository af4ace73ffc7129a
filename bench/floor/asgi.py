"""The floor's ASGI application: the product's own HTTP handler, the ack-only consumer.

HTTP is whatever `config.asgi` serves it with (its handler, built on the floor's settings,
so on the floor's URLconf), so the floor follows any change to how the product is served.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from bench.floor.consumers import AckOnlyConsumer
from config.asgi import application as product

application = ProtocolTypeRouter(
    {
        "http": product.application_mapping["http"],
        "websocket": URLRouter([path("ws/widget/", AckOnlyConsumer.as_asgi())]),
    }
)
