"""The floor as a WSGI application (the product's, on the floor's settings)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")

from config.wsgi import application

__all__ = ["application"]
