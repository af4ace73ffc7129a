"""`config.asgi`'s application, serving the widget build through the static finders.

For the browser tests that run the platform as a process of its own (widgets.tests.
web_process): tests run with DEBUG off and no collectstatic, so WhiteNoise must find the
just-built core where `widgets.tests.live.fresh_application` finds it in a thread.
Everything else is the application `make run` serves.
"""

from __future__ import annotations

import os

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Set before config.asgi builds the middleware: WhiteNoise reads it once, when it starts.
settings.WHITENOISE_USE_FINDERS = True

from config.asgi import application  # noqa: E402

__all__ = ["application"]
