"""The product's settings with the floor's URLconf: same middleware, cache, layer."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls"
ASGI_APPLICATION = "bench.floor.asgi.application"
