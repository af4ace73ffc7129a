from channels.auth import AuthMiddlewareStack
from django.urls import path

from conversations.consumers import WidgetConsumer
from conversations.inbox import InboxConsumer
from conversations.socket_faults import survives_service_faults

websocket_urlpatterns = [
    path("ws/widget/", WidgetConsumer.as_asgi()),
    # Staff only, authenticated by the admin's session cookie (checks in the consumer); the
    # session is read from PostgreSQL before the consumer runs, so a fault there closes 1013.
    path("ws/inbox/", survives_service_faults(AuthMiddlewareStack(InboxConsumer.as_asgi()))),
]
